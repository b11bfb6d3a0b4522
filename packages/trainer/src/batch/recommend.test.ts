import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliIo, runCli } from '../cli/run.js'

let cwd: string
let version: string
let catalog: { items: { id: string; category: string; price: number }[] }

function io(): CliIo & { out: () => string; err: () => string } {
  let out = ''
  let err = ''
  return {
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    cwd,
    out: () => out,
    err: () => err,
  }
}

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'edgerec-batch-'))
  const run = io()
  const code = await runCli(
    ['train', '--demo-events', '3000', '--factors', '8', '--iterations', '3', '--threads', '1', '--no-eval'],
    run,
  )
  if (code !== 0) throw new Error(run.err())
  version = run.out().trim()
  catalog = JSON.parse(await readFile(join(cwd, '.edgerec', 'demo', 'catalog.json'), 'utf8'))
}, 120_000)
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true })
})

type Line = {
  userId: string
  items: { itemId: string; score: number }[]
  source: string
  modelVersion: string
}
const lines = async (path: string): Promise<Line[]> =>
  (await readFile(join(cwd, path), 'utf8'))
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Line)

describe('edgerec-train recommend', () => {
  it('should export the demo catalog with the version (train reads .edgerec/demo/catalog.json)', async () => {
    const manifest = JSON.parse(
      await readFile(join(cwd, '.edgerec', 'models', 'models', version, 'manifest.json'), 'utf8'),
    )
    expect(manifest.shards.catalog).toMatchObject({ kind: 'catalog', rows: catalog.items.length })
  })

  it('should write k filtered recommendations per model user as NDJSON', async () => {
    const category = catalog.items[0]!.category
    const inCategory = new Set(
      catalog.items.filter((i) => i.category === category && i.price <= 100).map((i) => i.id),
    )
    const run = io()
    const code = await runCli(
      [
        'recommend',
        '--users',
        'all',
        '--k',
        '5',
        '--category',
        category,
        '--max-price',
        '100',
        '--out',
        'recs.ndjson',
        '--json',
      ],
      run,
    )
    expect(code, run.err()).toBe(0)
    const summary = JSON.parse(run.out())
    expect(summary).toMatchObject({ version, out: join(cwd, 'recs.ndjson') })
    const result = await lines('recs.ndjson')
    expect(result.length).toBe(summary.users)
    expect(summary.modelUsers).toBe(summary.users)
    expect(result.every((l) => l.source === 'model' && l.modelVersion === version)).toBe(true)
    expect(result.some((l) => l.items.length === 5)).toBe(true)
    for (const line of result) {
      for (const item of line.items) expect(inCategory.has(item.itemId)).toBe(true)
      const scores = line.items.map((i) => i.score)
      expect([...scores].sort((a, b) => b - a)).toEqual(scores)
    }
  })

  it('should read a user list and answer unknown users with the filtered popularity list', async () => {
    const all = await lines('recs.ndjson')
    await writeFile(join(cwd, 'users.txt'), `# mailing list\n${all[0]!.userId}\nnobody-at-all\n`)
    const run = io()
    const code = await runCli(
      ['recommend', '--users', 'users.txt', '--k', '3', '--filter', 'price<50', '--out', 'some.ndjson'],
      run,
    )
    expect(code, run.err()).toBe(0)
    const result = await lines('some.ndjson')
    expect(result.map((l) => [l.userId, l.source])).toEqual([
      [all[0]!.userId, 'model'],
      ['nobody-at-all', 'popular'],
    ])
    const cheap = new Set(catalog.items.filter((i) => i.price < 50).map((i) => i.id))
    for (const line of result) for (const item of line.items) expect(cheap.has(item.itemId)).toBe(true)
    expect(result[1]!.items).toHaveLength(3)
  })

  it('should write the same lines on worker threads (--threads 2) as on one thread', async () => {
    const one = io()
    expect(
      await runCli(['recommend', '--users', 'all', '--k', '4', '--out', 'one.ndjson'], one),
      one.err(),
    ).toBe(0)
    const two = io()
    expect(
      await runCli(['recommend', '--users', 'all', '--k', '4', '--threads', '2', '--out', 'two.ndjson'], two),
      two.err(),
    ).toBe(0)
    const sorted = async (path: string) =>
      (await lines(path)).sort((a, b) => a.userId.localeCompare(b.userId))
    const a = await sorted('one.ndjson')
    expect(a.length).toBeGreaterThan(10)
    expect(await sorted('two.ndjson')).toEqual(a)
  })

  it('should exit 2 for missing or bad arguments', async () => {
    for (const argv of [
      ['recommend', '--out', 'x.ndjson'],
      ['recommend', '--users', 'all'],
      ['recommend', '--users', 'all', '--out', 'x.parquet'],
      ['recommend', '--users', 'all', '--out', 'x.ndjson', '--filter', '(tag:a'],
      ['recommend', '--users', 'all', '--out', 'x.ndjson', '--k', '0'],
    ]) {
      expect(await runCli(argv, io()), argv.join(' ')).toBe(2)
    }
  })
})
