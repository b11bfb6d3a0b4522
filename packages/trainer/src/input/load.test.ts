import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createEventSource } from '@edgerec/adapters'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadInteractions } from './load.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgerec-load-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const good = (n: number, user = 'u1', item = `i${n}`, type = 'view'): string =>
  JSON.stringify({ id: `e${n}`, userId: user, itemId: item, type, timestamp: 1_700_000_000_000 + n })

describe('loadInteractions', () => {
  it('should count bad rows, report them with their line numbers and keep every good row', async () => {
    const path = join(dir, 'mixed.ndjson')
    const lines = [
      good(1),
      '{"id":"e2","userId":"u1","itemId":', // line 2: truncated JSON
      good(3, 'u2', 'i1', 'purchase'),
      JSON.stringify({ id: 'e4', userId: 'u2', type: 'view', timestamp: 1 }), // line 4: no itemId
      good(5, 'u2', 'i3'),
    ]
    await writeFile(path, `${lines.join('\n')}\n`)
    const loaded = await loadInteractions(await createEventSource({ kind: 'ndjson', path }))
    expect(loaded.report.rows).toBe(5)
    expect(loaded.report.events).toBe(3)
    expect(loaded.report.badRows).toBe(2)
    expect(loaded.report.samples.map((s) => s.line)).toEqual([2, 4])
    for (const sample of loaded.report.samples) expect(sample.reason.length).toBeGreaterThan(0)
    expect(loaded.stats.events).toBe(3)
    expect(loaded.data.userIds).toEqual(['u1', 'u2'])
    expect(loaded.data.itemIds).toEqual(['i1', 'i3'])
    // u2 bought i1 (weight 8) and viewed i3 (1); u1 viewed i1 (1).
    expect(Array.from(loaded.data.matrix.values)).toEqual([1, 8, 1])
  })

  it('should fail with TOO_MANY_BAD_ROWS when the threshold is exceeded, naming the lines', async () => {
    const path = join(dir, 'bad.ndjson')
    await writeFile(path, [good(1), 'not json', 'also not json', good(4)].join('\n'))
    const source = await createEventSource({ kind: 'ndjson', path })
    await expect(loadInteractions(source, { maxBadRows: 1 })).rejects.toMatchObject({
      code: 'TOO_MANY_BAD_ROWS',
      message: expect.stringMatching(/line 2.*line 3/),
    })
    await expect(loadInteractions(source, { maxBadFraction: 0.25 })).rejects.toMatchObject({
      code: 'TOO_MANY_BAD_ROWS',
    })
    const loaded = await loadInteractions(source, { maxBadFraction: 0.5 })
    expect(loaded.report.badRows).toBe(2)
  })

  it('should read mapped CSV columns and weigh values', async () => {
    const path = join(dir, 'ratings.csv')
    await writeFile(
      path,
      'userId,movieId,rating,timestamp\r\n1,10,4.5,964982703\r\n1,20,oops,964982224\r\n2,10,3,964983815\r\n',
    )
    const loaded = await loadInteractions(
      await createEventSource({
        kind: 'csv',
        path,
        columns: { user: 'userId', item: 'movieId', value: 'rating', timestamp: 'timestamp' },
      }),
    )
    expect(loaded.report.badRows).toBe(1)
    expect(loaded.report.samples[0]?.line).toBe(3)
    expect(Array.from(loaded.data.matrix.values)).toEqual([4.5, 3])
    expect(Array.from(loaded.data.matrix.timestamps)).toEqual([964982703000, 964983815000])
  })

  it('should refuse input with nothing to train on', async () => {
    const path = join(dir, 'empty.ndjson')
    await writeFile(path, 'garbage\n')
    await expect(loadInteractions(await createEventSource({ kind: 'ndjson', path }))).rejects.toMatchObject({
      code: 'NO_INTERACTIONS',
    })
  })
})

describe('loadInteractions on the CSV fast path', () => {
  it('should build the same matrix, stats and report from readInto (ids interned by their bytes) as from read()', async () => {
    const path = join(dir, 'fast.csv')
    const rows = ['userId,itemId,type,value,timestamp']
    for (let n = 0; n < 70_000; n++) {
      const user = n % 9 === 0 ? `"u ${n % 301}"` : `u${(n * 7) % 1003}`
      const item = n % 13 === 0 ? `ü${n % 41}` : `${(n * 31) % 877}`
      rows.push(
        n % 997 === 5
          ? `${user},,view,1,1`
          : `${user},${item},${n % 3 ? 'view' : 'Purchase'},${(n % 4) + 0.5},${1_700_000_000 + n}`,
      )
    }
    await writeFile(path, `${rows.join('\r\n')}\r\n`)
    const source = await createEventSource({ kind: 'file', path })
    expect(source.readInto).toBeDefined()
    const progress: number[] = []
    const fast = await loadInteractions(source, {
      now: 1_800_000_000_000,
      onProgress: (n) => progress.push(n),
    })
    const textOnly = { description: source.description, read: source.read.bind(source) }
    const slow = await loadInteractions(textOnly, { now: 1_800_000_000_000 })
    expect(fast.report).toEqual(slow.report)
    expect(fast.stats).toEqual(slow.stats)
    expect(fast.data).toEqual(slow.data)
    expect(fast.report.badRows).toBeGreaterThan(0)
    expect(progress.at(-1)).toBe(fast.stats.events)
    expect(progress.length).toBeGreaterThan(1)
  })
})

describe('loadInteractions on files users bring', () => {
  it('should explain a file whose every row is rejected: top reasons, an example row and the flag that fixes it', async () => {
    const path = join(dir, 'Groceries_dataset.csv')
    const rows = ['Member_number,Date,itemDescription']
    for (let n = 0; n < 30; n++) rows.push(`${1000 + n},${10 + (n % 18)}-07-2015,item ${n % 7}`)
    rows.push('2000,bad')
    await writeFile(path, `${rows.join('\n')}\n`)
    const source = await createEventSource({ kind: 'file', path })
    const error = await loadInteractions(source).catch((e: unknown) => e as Error)
    expect(error).toMatchObject({ code: 'NO_INTERACTIONS' })
    const message = (error as Error).message
    expect(message).toContain('every one of the 31 rows')
    expect(message).toContain('30× timestamp "10-07-2015"')
    expect(message).toContain('try --time-format %d-%m-%Y')
    expect(message).toContain('e.g. line 2: 1000,10-07-2015,item 0')
    expect(message).toContain('→ give the format with --time-format')
    expect(message).toContain('1× 2 fields, the header has 3')
    expect(message).toContain('→ set the delimiter with --delimiter')
    const loaded = await loadInteractions(
      await createEventSource({ kind: 'file', path, timeFormat: '%d-%m-%Y' }),
    )
    expect(loaded.stats.events).toBe(30)
    expect(loaded.data.trainedUntil).toBe(Date.UTC(2015, 6, 27))
  })

  it('should apply value transforms to pair totals and say truthfully when values are binary', async () => {
    const path = join(dir, 'plays.tsv')
    await writeFile(path, 'user\titem\tplays\na\tx\t9\na\tx\t1\na\ty\t3\nb\ty\t200\n')
    const source = await createEventSource({ kind: 'file', path })
    const raw = await loadInteractions(source)
    expect(Array.from(raw.data.matrix.values)).toEqual([10, 3, 200])
    expect(raw.stats).toMatchObject({ transform: 'none', binary: false })
    const log = await loadInteractions(source, { transform: 'log1p' })
    expect(Array.from(log.data.matrix.values)).toEqual([10, 3, 200].map((v) => Math.fround(Math.log1p(v))))
    const clipped = await loadInteractions(source, { transform: 'clip:5' })
    expect(Array.from(clipped.data.matrix.values)).toEqual([5, 3, 5])
    const binary = await loadInteractions(source, { transform: 'binary' })
    expect(binary.stats).toMatchObject({ transform: 'binary', binary: true })
    expect(Array.from(binary.data.matrix.values)).toEqual([1, 1, 1])
    await expect(loadInteractions(source, { transform: 'sqrt' as 'none' })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    })
  })
})
