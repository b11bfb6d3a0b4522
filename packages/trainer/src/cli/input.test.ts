import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliIo, runCli } from './run.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgerec-cli-input-'))
  // 60 users × 10 items each, with timestamps: the shape of MovieLens u.data (tab, no header).
  const udata: string[] = []
  const plays: string[] = ['user_id\ttrack_id\tplays']
  const groceries: string[] = ['Member_number,Date,itemDescription']
  for (let u = 1; u <= 60; u++) {
    for (let j = 0; j < 10; j++) {
      const item = ((u * 7 + j * 3) % 40) + 1
      udata.push(`${u}\t${item}\t${1 + ((u + j) % 5)}\t${881250000 + u * 1000 + j * 10}`)
      plays.push(`u${u}\tt${item}\t${((u * j) % 300) + 1}`)
      groceries.push(`${1000 + u},${String(1 + j).padStart(2, '0')}-0${1 + (u % 9)}-2015,item ${item}`)
    }
  }
  await writeFile(join(dir, 'u.data'), `${udata.join('\n')}\n`)
  await writeFile(join(dir, 'user_tracks.dat.gz'), gzipSync(`${plays.join('\n')}\n`))
  await writeFile(join(dir, 'Groceries_dataset.csv'), `${groceries.join('\n')}\n`)
  await writeFile(join(dir, 'four.csv'), 'user,item\na,x\na,y\nb,x\nb,z\n')
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

function io(): CliIo & { out: () => string; err: () => string } {
  let out = ''
  let err = ''
  return {
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    cwd: dir,
    out: () => out,
    err: () => err,
  }
}

const tiny = ['--factors', '4', '--iterations', '2', '--threads', '1', '--json']

interface EvaluateJson {
  config: { split: string; binary: boolean }
  users: number
  input: { rows: number; badRows: number; users: number; binary: boolean; transform: string }
}

describe('edgerec-train evaluate on files users bring', () => {
  it('should read MovieLens u.data (tab, no header) by position, ratings as values', async () => {
    const run = io()
    expect(await runCli(['evaluate', '--input', 'u.data', ...tiny], run)).toBe(0)
    const report = JSON.parse(run.out()) as EvaluateJson
    expect(report.input).toMatchObject({ rows: 600, badRows: 0, users: 60, binary: false, transform: 'none' })
    expect(report.config.split).toBe('temporal')
    expect(run.err()).toContain('no header row (every field of line 1 is a number): 4 columns by position')
    expect(run.err()).toContain('columns: user ← 1, item ← 2, value ← 3, timestamp ← 4')
    // Without a TTY the read reports its progress as lines (the file is under 1 MiB: one line).
    expect(run.err()).toContain('load 1/1 MiB (100%)')
  })

  it('should read a gzipped tab-separated .dat of play counts, warn that the split has no timestamps, and apply --transform', async () => {
    const run = io()
    expect(
      await runCli(['evaluate', '--input', 'user_tracks.dat.gz', '--transform', 'log1p', ...tiny], run),
    ).toBe(0)
    const report = JSON.parse(run.out()) as EvaluateJson
    expect(report.input).toMatchObject({ rows: 600, users: 60, transform: 'log1p', binary: false })
    expect(report.config.split).toBe('random')
    expect(run.err()).toContain('delimiter: tab (detected from the first line')
    expect(run.err()).toContain('value ← plays (found by name)')
    expect(run.err()).toMatch(/warn.*temporal split needs timestamps/)

    const binary = io()
    expect(
      await runCli(['evaluate', '--input', 'user_tracks.dat.gz', '--transform', 'binary', ...tiny], binary),
    ).toBe(0)
    expect((JSON.parse(binary.out()) as EvaluateJson).input).toMatchObject({
      transform: 'binary',
      binary: true,
    })
    const ignored = io()
    expect(
      await runCli(['evaluate', '--input', 'user_tracks.dat.gz', '--value-col', 'none', ...tiny], ignored),
    ).toBe(0)
    expect((JSON.parse(ignored.out()) as EvaluateJson).input).toMatchObject({
      transform: 'none',
      binary: true,
    })
  })

  it('should refuse Kaggle Groceries dates with the reason, an example and the flag, then read them with --time-format', async () => {
    const run = io()
    expect(await runCli(['evaluate', '--input', 'Groceries_dataset.csv', ...tiny], run)).toBe(1)
    expect(run.err()).toMatch(/^error NO_INTERACTIONS: Nothing to train on: every one of the 600 rows/m)
    expect(run.err()).toContain('600× timestamp "01-02-2015"')
    expect(run.err()).toContain('e.g. line 2: 1001,01-02-2015,item 8')
    expect(run.err()).toContain('--time-format')
    const fixed = io()
    expect(
      await runCli(
        ['evaluate', '--input', 'Groceries_dataset.csv', '--time-format', '%d-%m-%Y', ...tiny],
        fixed,
      ),
    ).toBe(0)
    const report = JSON.parse(fixed.out()) as EvaluateJson
    expect(report.input).toMatchObject({ rows: 600, badRows: 0, binary: true })
    expect(report.config.split).toBe('temporal')
  })

  it('should fail a 4-row input with EVALUATION_TOO_SMALL instead of printing zeros', async () => {
    const run = io()
    expect(await runCli(['evaluate', '--input', 'four.csv', '--split', 'random', ...tiny], run)).toBe(1)
    expect(run.err()).toMatch(/^error EVALUATION_TOO_SMALL: The random split left no test user/m)
    expect(run.out()).toBe('')
  })

  it('should train a 4-row input with a warning and no metrics in the manifest', async () => {
    const run = io()
    const code = await runCli(
      ['train', '--input', 'four.csv', '--output', 'models', '--split', 'random', ...tiny],
      run,
    )
    expect(run.err()).toMatch(/warn.*left no test user.*No metrics are kept/)
    expect(code).toBe(0)
    const result = JSON.parse(run.out()) as { evaluation?: unknown; manifest: { evaluation?: unknown } }
    expect(result.evaluation).toBeUndefined()
    expect(result.manifest.evaluation).toBeUndefined()
  })
})
