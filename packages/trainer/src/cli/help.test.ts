import { describe, expect, it } from 'vitest'
import { parseCommandLine, USAGE } from './args.js'
import { helpFor } from './help.js'
import { type CliIo, runCli } from './run.js'

function io(): CliIo & { out: () => string } {
  let out = ''
  return {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: () => {} },
    cwd: '.',
    out: () => out,
  }
}

describe('help per command', () => {
  it('should parse <command> --help and help <command> as the command help', () => {
    expect(parseCommandLine(['evaluate', '--help'])).toEqual({ command: 'help', topic: 'evaluate' })
    expect(parseCommandLine(['help', 'generate'])).toEqual({ command: 'help', topic: 'generate' })
    expect(parseCommandLine(['--help'])).toEqual({ command: 'help' })
  })

  it('should print only the options of the command', async () => {
    const train = io()
    expect(await runCli(['train', '--help'], train)).toBe(0)
    expect(train.out()).toMatch(/^Usage: edgerec-train train \[options\]\n {2}read events, evaluate, train/)
    for (const flag of ['--input', '--factors', '--split', '--tune', '--publish', '--force', '--quiet'])
      expect(train.out()).toContain(flag)
    expect(train.out()).not.toContain('--taste')

    const evaluate = io()
    expect(await runCli(['evaluate', '-h'], evaluate)).toBe(0)
    expect(evaluate.out()).toContain('--tune-strategy')
    expect(evaluate.out()).toContain('Tuning:')
    expect(evaluate.out()).not.toContain('--publish')
    expect(evaluate.out()).not.toContain('--events <n>')

    const generate = io()
    expect(await runCli(['generate', '--help'], generate)).toBe(0)
    expect(generate.out()).toContain('--taste <f>')
    expect(generate.out()).not.toContain('--factors')
    expect(generate.out()).toContain('Exit codes:')
  })

  it('should have a tune command (evaluate --tune) with its own help', async () => {
    const parsed = parseCommandLine(['tune', '--trials', '4'])
    expect(parsed).toMatchObject({ command: 'evaluate', overrides: { tuning: { enabled: true, trials: 4 } } })
    const tune = io()
    expect(await runCli(['tune', '--help'], tune)).toBe(0)
    expect(tune.out()).toMatch(/^Usage: edgerec-train tune \[options\]/)
    expect(tune.out()).toContain('--tune-strategy')
  })

  it('should fall back to the general usage for what is not a command', () => {
    expect(helpFor('publish')).toBe(USAGE)
    expect(helpFor()).toBe(USAGE)
  })
})
