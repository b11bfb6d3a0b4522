import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet'
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
    expect(manifest.shards.catalog).toMatchObject([
      { kind: 'catalog', rows: catalog.items.length, rowOffset: 0 },
    ])
    expect(manifest.catalog).toMatchObject({ rows: catalog.items.length })
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
      ['recommend', '--users', 'all', '--out', 'x.ndjson', '--format', 'csv'],
      ['recommend', '--users', 'all', '--out', 'x.ndjson', '--max-per-category', '0'],
      ['recommend', '--users', 'all', '--out', 'x.ndjson', '--diversity', '2'],
      ['recommend', '--users', 'all', '--out', 'x.ndjson', '--filter', '(tag:a'],
      ['recommend', '--users', 'all', '--out', 'x.ndjson', '--k', '0'],
    ]) {
      expect(await runCli(argv, io()), argv.join(' ')).toBe(2)
    }
  })

  it('should exit 2 for a rules file that is not valid JSON or not valid rules', async () => {
    await writeFile(join(cwd, 'bad-rules.json'), JSON.stringify({ boosts: [{ factor: -1 }] }))
    await writeFile(join(cwd, 'broken-rules.json'), '{ boosts')
    for (const file of ['bad-rules.json', 'broken-rules.json', 'missing.json']) {
      const run = io()
      expect(await runCli(['recommend', '--users', 'all', '--out', 'x.ndjson', '--rules', file], run)).toBe(2)
      expect(run.err()).toMatch(/rules/i)
    }
  })

  describe('rules', () => {
    const categoryOf = (id: string) => catalog.items.find((i) => i.id === id)?.category

    it('should apply caps, boosts and pins to every user, model and popular alike', async () => {
      const all = await lines('recs.ndjson')
      await writeFile(join(cwd, 'mixed.txt'), `${all[0]!.userId}\n${all[1]!.userId}\nnobody-at-all\n`)
      const category = catalog.items[3]!.category
      const pinned = catalog.items.find((i) => i.category !== category)!.id
      await writeFile(
        join(cwd, 'rules.json'),
        JSON.stringify({
          boosts: [{ filter: `category:${category}`, factor: 10 }],
          pins: [{ itemId: pinned, position: 1 }],
          maxPerCategory: 2,
        }),
      )
      const run = io()
      const code = await runCli(
        ['recommend', '--users', 'mixed.txt', '--k', '6', '--rules', 'rules.json', '--out', 'ruled.ndjson'],
        run,
      )
      expect(code, run.err()).toBe(0)
      const result = await lines('ruled.ndjson')
      expect(result.map((l) => l.source)).toEqual(['model', 'model', 'popular'])
      for (const line of result) {
        const ids = line.items.map((i) => i.itemId)
        expect(ids).toHaveLength(6)
        const counts = new Map<string, number>()
        for (const id of ids) counts.set(categoryOf(id)!, (counts.get(categoryOf(id)!) ?? 0) + 1)
        expect(Math.max(...counts.values())).toBeLessThanOrEqual(2)
        // The boosted category fills its cap right after the pin (or the pin is a consumed item).
        const rest = ids[0] === pinned ? ids.slice(1) : ids
        expect(rest.slice(0, 2).map(categoryOf)).toEqual([category, category])
      }
      expect(result[2]!.items[0]!.itemId).toBe(pinned)
    })

    it('should cover more categories per list with --diversity (MMR)', async () => {
      const coverage = async (extra: string[], out: string) => {
        const run = io()
        expect(
          await runCli(['recommend', '--users', 'all', '--k', '8', ...extra, '--out', out], run),
          run.err(),
        ).toBe(0)
        const result = await lines(out)
        return (
          result.reduce((s, l) => s + new Set(l.items.map((i) => categoryOf(i.itemId))).size, 0) /
          result.length
        )
      }
      expect(await coverage(['--diversity', '0.9'], 'diverse.ndjson')).toBeGreaterThan(
        await coverage([], 'plain.ndjson'),
      )
    })
  })

  describe('Parquet', () => {
    type Row = {
      userId: string
      rank: number | null
      itemId: string | null
      score: number | null
      source: string
      modelVersion: string
    }
    /** Parquet rows regrouped into NDJSON lines (rows of one user are consecutive, by rank). */
    const regroup = (rows: Row[]): Line[] => {
      const out: Line[] = []
      for (const row of rows) {
        let line = out.at(-1)
        if (!line || line.userId !== row.userId) {
          line = { userId: row.userId, items: [], source: row.source, modelVersion: row.modelVersion }
          out.push(line)
        }
        if (row.itemId !== null) {
          expect(row.rank).toBe(line.items.length + 1)
          line.items.push({ itemId: row.itemId, score: row.score! })
        }
      }
      return out
    }
    const readParquet = async (path: string) =>
      regroup((await parquetReadObjects({ file: await asyncBufferFromFile(join(cwd, path)) })) as Row[])

    it('should write the NDJSON output as Parquet (by extension or --format), on one or two threads', async () => {
      await writeFile(
        join(cwd, 'rules-p.json'),
        JSON.stringify({ boosts: [{ filter: `category:${catalog.items[0]!.category}`, factor: 2 }] }),
      )
      const common = [
        'recommend',
        '--users',
        'all',
        '--k',
        '5',
        '--rules',
        'rules-p.json',
        '--max-per-category',
        '3',
      ]
      for (const extra of [
        ['--out', 'same.ndjson'],
        ['--out', 'same.parquet'],
        ['--out', 'same.bin', '--format', 'parquet'],
        ['--out', 'threads.parquet', '--threads', '2'],
      ]) {
        const run = io()
        expect(await runCli([...common, ...extra], run), run.err()).toBe(0)
      }
      const expected = await lines('same.ndjson')
      expect(expected.length).toBeGreaterThan(10)
      expect(await readParquet('same.parquet')).toEqual(expected)
      expect(await readParquet('same.bin')).toEqual(expected)
      const byUser = (l: Line[]) => [...l].sort((a, b) => a.userId.localeCompare(b.userId))
      expect(byUser(await readParquet('threads.parquet'))).toEqual(byUser(expected))
    })

    it('should keep a user with no matching item as one row with null item', async () => {
      const run = io()
      const code = await runCli(
        [
          'recommend',
          '--users',
          'all',
          '--k',
          '3',
          '--category',
          'no-such-category',
          '--out',
          'none.parquet',
        ],
        run,
      )
      expect(code, run.err()).toBe(0)
      const rows = (await parquetReadObjects({
        file: await asyncBufferFromFile(join(cwd, 'none.parquet')),
      })) as Row[]
      expect(rows.length).toBeGreaterThan(10)
      for (const row of rows) expect(row).toMatchObject({ rank: null, itemId: null, score: null })
    })
  })
})
