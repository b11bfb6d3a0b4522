import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { JobState } from '../compute/compute.js'
import { AdapterError } from '../errors.js'
import { LocalCompute } from './compute.js'

const dir = mkdtempSync(join(tmpdir(), 'edgerec-local-compute-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Writes a tiny Node script that stands in for `edgerec-train` and returns the command running it. */
function script(name: string, body: string): string[] {
  const path = join(dir, `${name}.mjs`)
  writeFileSync(path, body)
  return [process.execPath, path]
}

const trainerStandIn = script(
  'trainer',
  `
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
const args = process.argv.slice(2)
console.log('args ' + JSON.stringify(args))
console.log('config env ' + process.env.EDGEREC_CONFIG)
const configIndex = args.indexOf('--config')
if (configIndex >= 0 && args[configIndex + 1].endsWith('.mjs')) {
  const config = await import(args[configIndex + 1])
  console.log('config ' + JSON.stringify(config.default))
}
console.error('iteration 1 loss 0.5')
const root = JSON.parse(process.env.EDGEREC_OUTPUT).root
const versionDir = join(root, 'models', 'v-local-1')
mkdirSync(versionDir, { recursive: true })
writeFileSync(join(versionDir, 'manifest.json'), JSON.stringify({ version: 'v-local-1', createdAt: new Date().toISOString() }))
console.log('wrote v-local-1')
`,
)

describe('LocalCompute', () => {
  it('should run the trainer command with the config, stream its output and report success', async () => {
    const compute = new LocalCompute({ command: trainerStandIn, cwd: dir })
    const handle = await compute.submit({
      config: { path: 'edgerec.config.ts' },
      args: ['--factors', '16'],
      output: { provider: 'local', root: join(dir, 'registry') },
    })
    expect(handle.provider).toBe('local')
    const states: JobState[] = []
    const final = await compute.wait(handle, { onStatus: (s) => states.push(s.state), pollIntervalMs: 5 })
    expect(final).toMatchObject({ state: 'succeeded', providerState: 'exit 0' })
    expect(states.at(-1)).toBe('succeeded')
    const lines: string[] = []
    for await (const line of compute.logs(handle)) lines.push(`${line.stream}: ${line.message}`)
    // stdout and stderr are separate pipes: order holds within a stream, not across them.
    expect(lines.filter((l) => l.startsWith('stdout'))).toEqual([
      'stdout: args ["train","--config","edgerec.config.ts","--factors","16"]',
      'stdout: config env edgerec.config.ts',
      'stdout: wrote v-local-1',
    ])
    expect(lines.filter((l) => l.startsWith('stderr'))).toEqual(['stderr: iteration 1 loss 0.5'])
  })

  it('should find the version the run wrote in its output registry', async () => {
    const compute = new LocalCompute({ command: trainerStandIn, cwd: dir })
    const handle = await compute.submit({ output: { provider: 'local', root: 'registry-2' } })
    await compute.wait(handle)
    const result = await compute.result(handle)
    expect(result).toMatchObject({ version: 'v-local-1', status: { state: 'succeeded' } })
  })

  it('should hand an inline config to the trainer as an importable module', async () => {
    const compute = new LocalCompute({ command: trainerStandIn, cwd: dir })
    const handle = await compute.submit({
      config: { inline: { als: { factors: 24 }, input: 'events.csv' } },
      output: { provider: 'local', root: join(dir, 'registry') },
    })
    await compute.wait(handle)
    const lines: string[] = []
    for await (const line of compute.logs(handle)) lines.push(line.message)
    expect(lines).toContain('config {"als":{"factors":24},"input":"events.csv"}')
  })

  it('should follow logs live while the job runs', async () => {
    const command = script(
      'ticker',
      `for (let i = 0; i < 3; i++) { console.log('tick ' + i); await new Promise((r) => setTimeout(r, 30)) }`,
    )
    const compute = new LocalCompute({ command, cwd: dir })
    const handle = await compute.submit({})
    const seen: string[] = []
    for await (const line of compute.logs(handle)) seen.push(line.message)
    expect(seen).toEqual(['tick 0', 'tick 1', 'tick 2'])
    expect((await compute.status(handle)).state).toBe('succeeded')
  })

  it('should fail with JOB_FAILED carrying the exit code and the last error line', async () => {
    const command = script(
      'failing',
      `console.error('Input file events.csv not found. Pass --input.'); process.exit(3)`,
    )
    const compute = new LocalCompute({ command, cwd: dir })
    const handle = await compute.submit({})
    const error = await compute.wait(handle).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AdapterError)
    expect(error).toMatchObject({
      code: 'JOB_FAILED',
      message: expect.stringContaining('Input file events.csv not found'),
    })
    expect(await compute.status(handle)).toMatchObject({
      state: 'failed',
      exitCode: 3,
      providerState: 'exit 3',
    })
    expect((await compute.result(handle)).version).toBeUndefined()
  })

  it('should cancel a running job', async () => {
    const command = script('forever', `console.log('started'); setInterval(() => {}, 1000)`)
    const compute = new LocalCompute({ command, cwd: dir })
    const handle = await compute.submit({})
    for await (const line of compute.logs(handle)) if (line.message === 'started') break
    await compute.cancel(handle)
    const final = await compute.wait(handle, { throwOnFailure: false })
    expect(final.state).toBe('cancelled')
  })

  it('should stop a job that exceeds maxRuntimeSeconds', async () => {
    const command = script('slow', `setInterval(() => {}, 1000)`)
    const compute = new LocalCompute({ command, cwd: dir })
    const handle = await compute.submit({ maxRuntimeSeconds: 0.2 })
    const error = await compute.wait(handle).catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'JOB_FAILED',
      message: expect.stringContaining('maxRuntimeSeconds=0.2'),
    })
  })

  it('should report a command that cannot start', async () => {
    const compute = new LocalCompute({ command: [join(dir, 'no-such-binary')], cwd: dir })
    const handle = await compute.submit({})
    await expect(compute.wait(handle)).rejects.toMatchObject({
      code: 'JOB_FAILED',
      message: expect.stringContaining('Could not start'),
    })
  })

  it('should refuse handles it did not create', async () => {
    const compute = new LocalCompute({ command: trainerStandIn, cwd: dir })
    await expect(
      compute.status({ provider: 'local', id: 'local-elsewhere', submittedAt: '' }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    })
  })
})
