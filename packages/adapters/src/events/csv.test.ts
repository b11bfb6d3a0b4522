import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEventSource } from './create.js'
import { type CsvRecord, csvEventSource, parseCsv } from './csv.js'
import { EventSourceError } from './errors.js'
import type { SourceEvent } from './source.js'

async function* chunksOf(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size)
}

async function parseAll(text: string, size = text.length || 1): Promise<CsvRecord[]> {
  const out: CsvRecord[] = []
  for await (const records of parseCsv(chunksOf(text, size))) out.push(...records)
  return out
}

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgerec-csv-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function readAll(path: string, options = {}, readOptions = {}) {
  const stream = csvEventSource({ path }, options).read(readOptions)
  const events: SourceEvent[] = []
  for await (const batch of stream) events.push(...batch)
  return { events, report: stream.report }
}

describe('parseCsv', () => {
  const tricky =
    'a,b,c\r\n' +
    '1,"x, y",3\r\n' + // delimiter inside quotes
    '2,"say ""hi""",4\r\n' + // escaped quotes
    '3,"two\r\nlines",5\r\n' + // line break inside quotes
    '\r\n' + // blank line
    '4,,6\r\n' + // empty field
    '5,e,'

  it('should parse quotes, escaped quotes, embedded CRLF, blank lines and empty fields', async () => {
    const records = await parseAll(tricky)
    expect(records.map((r) => r.fields)).toEqual([
      ['a', 'b', 'c'],
      ['1', 'x, y', '3'],
      ['2', 'say "hi"', '4'],
      ['3', 'two\r\nlines', '5'],
      ['4', '', '6'],
      ['5', 'e', ''],
    ])
    // Line numbers are where each record starts; the quoted line break and the blank line count.
    expect(records.map((r) => r.line)).toEqual([1, 2, 3, 4, 7, 8])
  })

  it('should give the same records whatever the chunk boundaries', async () => {
    const whole = await parseAll(tricky)
    for (const size of [1, 2, 3, 5, 7, 11]) expect(await parseAll(tricky, size)).toEqual(whole)
  })

  it('should accept LF line ends and a final line without newline', async () => {
    expect((await parseAll('u,i\nA,B\nC,D')).map((r) => r.fields)).toEqual([
      ['u', 'i'],
      ['A', 'B'],
      ['C', 'D'],
    ])
  })

  it('should flag an unterminated quote and characters after a closing quote', async () => {
    const records = await parseAll('a,b\n"x"y,1\n"open,2\n')
    expect(records[1]!.problem).toBe('characters after a closing quote')
    expect(records[2]!.problem).toBe('unterminated quoted field')
    expect(records[2]!.line).toBe(3)
  })

  it('should reject a quote as delimiter', async () => {
    await expect(parseAll('a')).resolves.toHaveLength(1)
    const bad = parseCsv(chunksOf('a', 1), { delimiter: '"' })
    await expect(bad.next()).rejects.toBeInstanceOf(EventSourceError)
  })
})

describe('csvEventSource', () => {
  it('should map columns, read seconds and ISO timestamps, and keep values', async () => {
    const path = join(dir, 'ratings.csv')
    await writeFile(
      path,
      'userId,movieId,rating,timestamp\r\n1,31,2.5,1260759144\r\n1,1029,3.0,2009-12-14T02:52:24Z\r\n7,31,4,1260759144000\r\n',
    )
    const { events, report } = await readAll(path, { columns: { item: 'movieId', value: 'rating' } })
    expect(events).toEqual([
      { userId: '1', itemId: '31', type: undefined, value: 2.5, timestamp: 1260759144000 },
      {
        userId: '1',
        itemId: '1029',
        type: undefined,
        value: 3,
        timestamp: Date.UTC(2009, 11, 14, 2, 52, 24),
      },
      { userId: '7', itemId: '31', type: undefined, value: 4, timestamp: 1260759144000 },
    ])
    expect(report).toMatchObject({ rows: 3, events: 3, badRows: 0, samples: [], reasons: {}, warnings: [] })
    expect(report.notes).toEqual([
      'columns: user ← userId (found by name), item ← movieId, value ← rating, timestamp ← timestamp (found by name), type: none',
    ])
  })

  it('should count bad rows with their line numbers and keep the good ones', async () => {
    const path = join(dir, 'bad.csv')
    await writeFile(
      path,
      [
        'user,item,type,value,timestamp',
        'u1,i1,view,,2026-01-01T00:00:00Z', // 2 ok
        'u1,,view,,2026-01-01T00:00:00Z', // 3 empty item
        'u2,i2,purchase,abc,2026-01-01T00:00:00Z', // 4 bad value
        'u2,i2,purchase,1,yesterday', // 5 bad timestamp
        'u3,i3,view', // 6 too few fields
        'u3,i3,Add-To-Cart,,2026-01-02T00:00:00Z', // 7 bad type
        'u4,i4,add_to_cart,2,1767225600', // 8 ok
      ].join('\n'),
    )
    const { events, report } = await readAll(path)
    expect(events.map((e) => e.userId)).toEqual(['u1', 'u4'])
    expect(report.rows).toBe(7)
    expect(report.events).toBe(2)
    expect(report.badRows).toBe(5)
    expect(report.samples.map((s) => s.line)).toEqual([3, 4, 5, 6, 7])
    expect(report.samples[0]!.reason).toBe('item id is empty')
    expect(report.samples[3]!.reason).toBe('3 fields, the header has 5 (is the delimiter "," right?)')
    expect(report.reasons['item id is empty']).toEqual({ count: 1, example: report.samples[0] })
    expect(Object.values(report.reasons).reduce((n, r) => n + r.count, 0)).toBe(5)
    expect(report.samples[0]!.raw).toBe('u1,,view,,2026-01-01T00:00:00Z')
  })

  it('should fail past maxBadRows and maxBadFraction with a typed error, and keep only keepBadRows samples', async () => {
    const path = join(dir, 'mostly-bad.csv')
    const rows = ['user,item']
    for (let i = 0; i < 10; i++) rows.push(i % 2 === 0 ? `u${i},i${i}` : `u${i},`)
    await writeFile(path, rows.join('\n'))
    await expect(readAll(path, {}, { maxBadRows: 4 })).rejects.toMatchObject({
      code: 'TOO_MANY_BAD_ROWS',
      message: expect.stringContaining('5× item id is empty (e.g. line 3: u1,)'),
    })
    await expect(readAll(path, {}, { maxBadFraction: 0.4 })).rejects.toMatchObject({
      code: 'TOO_MANY_BAD_ROWS',
    })
    const { report } = await readAll(path, {}, { maxBadRows: 5, maxBadFraction: 0.5, keepBadRows: 2 })
    expect(report.badRows).toBe(5)
    expect(report.samples).toHaveLength(2)
  })

  it('should name the missing column and the header when the mapping is wrong', async () => {
    const path = join(dir, 'cols.csv')
    await writeFile(path, 'customer,sku\nA,B\n')
    await expect(readAll(path)).rejects.toMatchObject({
      code: 'INPUT_INVALID',
      message: expect.stringContaining('customer, sku'),
    })
    await expect(readAll(path, { columns: { user: 'customer', item: 'product' } })).rejects.toMatchObject({
      code: 'INPUT_INVALID',
      message: expect.stringContaining('"product"'),
    })
    const { events } = await readAll(path, { columns: { user: 'customer', item: 'sku' } })
    expect(events).toEqual([{ userId: 'A', itemId: 'B', type: undefined, value: undefined, timestamp: 0 }])
  })

  it('should report a missing file as INPUT_NOT_FOUND', async () => {
    await expect(readAll(join(dir, 'nope.csv'))).rejects.toMatchObject({ code: 'INPUT_NOT_FOUND' })
  })

  it('should stream a large file in bounded batches', async () => {
    const path = join(dir, 'big.csv')
    const n = 50_000
    const lines = ['user,item,value']
    for (let i = 0; i < n; i++) lines.push(`u${i % 977},"item ${i % 313}",${(i % 5) + 1}`)
    await writeFile(path, lines.join('\r\n'))
    const stream = csvEventSource({ path }).read({ batchSize: 4096 })
    let total = 0
    let largest = 0
    let valueSum = 0
    for await (const batch of stream) {
      total += batch.length
      largest = Math.max(largest, batch.length)
      for (const e of batch) valueSum += e.value!
    }
    expect(total).toBe(n)
    expect(largest).toBeLessThan(4096 + 4096)
    let expected = 0
    for (let i = 0; i < n; i++) expected += (i % 5) + 1
    expect(valueSum).toBe(expected)
  })
})

describe('csvEventSource on real-world file shapes', () => {
  it('should read a Last.fm-style .dat (tab-separated, header, play counts in "weight")', async () => {
    const path = join(dir, 'user_artists.dat')
    await writeFile(path, 'userID\tartistID\tweight\n2\t51\t13883\n2\t52\t11690\n3\t51\t7\n')
    const source = await createEventSource({ kind: 'file', path })
    const stream = source.read()
    const events: SourceEvent[] = []
    for await (const batch of stream) events.push(...batch)
    expect(events.map((e) => [e.userId, e.itemId, e.value])).toEqual([
      ['2', '51', 13883],
      ['2', '52', 11690],
      ['3', '51', 7],
    ])
    expect(stream.report.notes).toEqual([
      'delimiter: tab (detected from the first line; set --delimiter to override)',
      'columns: user ← userID (found by name), item ← artistID (found by name), value ← weight (found by name), timestamp: none, type: none',
    ])
  })

  it('should read a MovieLens u.data (tab-separated, no header) by position as user, item, rating, seconds', async () => {
    const path = join(dir, 'u.data')
    await writeFile(path, '196\t242\t3\t881250949\n186\t302\t3\t891717742\n')
    const { events, report } = await readAll(path)
    expect(events).toEqual([
      { userId: '196', itemId: '242', type: undefined, value: 3, timestamp: 881250949000 },
      { userId: '186', itemId: '302', type: undefined, value: 3, timestamp: 891717742000 },
    ])
    expect(report.notes[1]).toContain(
      'no header row (every field of line 1 is a number): 4 columns by position',
    )
    expect(report.notes[2]).toBe('columns: user ← 1, item ← 2, value ← 3, timestamp ← 4, type: none')
  })

  it('should read a gzipped MovieLens-1M ratings.dat with the "::" delimiter', async () => {
    const path = join(dir, 'ratings.dat.gz')
    await writeFile(path, gzipSync('1::1193::5::978300760\n1::661::3::978302109\n'))
    const { events, report } = await readAll(path)
    expect(events.map((e) => [e.userId, e.itemId, e.value, e.timestamp])).toEqual([
      ['1', '1193', 5, 978300760000],
      ['1', '661', 3, 978302109000],
    ])
    expect(report.notes[0]).toContain('delimiter: "::"')
  })

  it('should read Kaggle Groceries dates with a time format, and suggest the format without one', async () => {
    const path = join(dir, 'Groceries_dataset.csv')
    await writeFile(
      path,
      'Member_number,Date,itemDescription\n1808,21-07-2015,tropical fruit\n2552,05-01-2015,whole milk\n',
    )
    const plain = await readAll(path)
    expect(plain.events).toHaveLength(0)
    expect(plain.report.badRows).toBe(2)
    const [kind] = Object.keys(plain.report.reasons)
    expect(kind).toBe('timestamp "…" is neither epoch seconds/milliseconds, ISO-8601 nor the time format')
    expect(plain.report.reasons[kind!]!.count).toBe(2)
    const { events } = await readAll(path, { timeFormat: '%d-%m-%Y' })
    expect(events).toEqual([
      {
        userId: '1808',
        itemId: 'tropical fruit',
        type: undefined,
        value: undefined,
        timestamp: Date.UTC(2015, 6, 21),
      },
      {
        userId: '2552',
        itemId: 'whole milk',
        type: undefined,
        value: undefined,
        timestamp: Date.UTC(2015, 0, 5),
      },
    ])
  })

  it('should read a headerless file with string ids by position (--no-header) and explicit positions', async () => {
    const path = join(dir, 'lastfm-1k.tsv')
    await writeFile(
      path,
      'user_000001\t2009-05-04T23:08:57Z\tartist-a\ttrack 1\nuser_000002\t2009-05-04\tartist-b\ttrack 2\n',
    )
    await expect(readAll(path)).rejects.toMatchObject({
      code: 'INPUT_INVALID',
      message: expect.stringContaining('--no-header'),
    })
    const { events } = await readAll(path, {
      header: false,
      delimiter: 'tab',
      columns: { user: '1', timestamp: '2', item: '3', value: false },
    })
    expect(events).toEqual([
      {
        userId: 'user_000001',
        itemId: 'artist-a',
        type: undefined,
        value: undefined,
        timestamp: Date.UTC(2009, 4, 4, 23, 8, 57),
      },
      {
        userId: 'user_000002',
        itemId: 'artist-b',
        type: undefined,
        value: undefined,
        timestamp: Date.UTC(2009, 4, 4),
      },
    ])
  })

  it('should pick up a play-count column by name and say so', async () => {
    const path = join(dir, 'plays.csv')
    await writeFile(path, 'user_id,track_id,plays\na,t1,12\nb,t1,1\n')
    const { events, report } = await readAll(path)
    expect(events.map((e) => e.value)).toEqual([12, 1])
    expect(report.notes).toEqual([
      'columns: user ← user_id (found by name), item ← track_id (found by name), value ← plays (found by name), timestamp: none, type: none',
    ])
  })

  it('should honour an explicit delimiter over the sniffed one and count wrong field counts by reason', async () => {
    const path = join(dir, 'semi.txt')
    await writeFile(path, 'user;item\na;b\nc,d\n')
    const { events, report } = await readAll(path, { delimiter: 'semicolon' })
    expect(events.map((e) => e.itemId)).toEqual(['b'])
    expect(report.reasons).toEqual({
      'N fields, the header has N (is the delimiter "…" right?)': {
        count: 1,
        example: { line: 3, reason: '1 fields, the header has 2 (is the delimiter ";" right?)', raw: 'c,d' },
      },
    })
    expect(() => csvEventSource({ path }, { delimiter: '"' })).toThrow(EventSourceError)
  })
})

describe('csvEventSource.readInto', () => {
  it('should deliver the same events and the same report as read(), without batches', async () => {
    const path = join(dir, 'into.csv')
    const rows = ['user,item,type,value,timestamp']
    for (let n = 0; n < 3000; n++) {
      rows.push(
        n % 97 === 0
          ? `u${n % 40},,view,,${n}`
          : `u${n % 40},"i ${n % 70}",${n % 2 ? 'view' : 'Purchase'},${n % 5},${1_700_000_000 + n}`,
      )
    }
    await writeFile(path, rows.join('\r\n'))
    const source = csvEventSource({ path })
    const viaRead = await readAll(path)
    const events: SourceEvent[] = []
    const report = await source.readInto!({
      event: (userId, itemId, type, value, timestamp) =>
        events.push({ userId, itemId, type, value, timestamp }),
    })
    expect(events).toEqual(viaRead.events)
    expect(report).toEqual(viaRead.report)
    expect(report.badRows).toBe(31)
    const progress: [number, number | undefined][] = []
    await source.readInto!({ event: () => {} }, { onBytes: (read, total) => progress.push([read, total]) })
    const size = (await stat(path)).size
    expect(progress.at(-1)).toEqual([size, size])
    for (let j = 1; j < progress.length; j++) expect(progress[j]![0]).toBeGreaterThan(progress[j - 1]![0])
    await expect(source.readInto!({ event: () => {} }, { maxBadFraction: 0.001 })).rejects.toMatchObject({
      code: 'TOO_MANY_BAD_ROWS',
    })
  })
})

describe('csvEventSource with unused columns', () => {
  it('should skip unmapped columns yet report bad rows with their whole raw line', async () => {
    const path = join(dir, 'wide.csv')
    await writeFile(
      path,
      'id,userId,itemId,type,timestamp\n' +
        'b36fe327-2907-4796-8791-7becc68c493e,user-1,sku-1,view,1767508561655\n' +
        '"quoted, id",user-2,sku-2,view,1767508561656\n' +
        'c47fe327-2907-4796-8791-7becc68c493e,user-3,,view,1767508561657\n',
    )
    const { events, report } = await readAll(path)
    expect(events.map((e) => [e.userId, e.itemId, e.type, e.timestamp])).toEqual([
      ['user-1', 'sku-1', 'view', 1767508561655],
      ['user-2', 'sku-2', 'view', 1767508561656],
    ])
    expect(report.samples).toEqual([
      {
        line: 4,
        reason: 'item id is empty',
        raw: 'c47fe327-2907-4796-8791-7becc68c493e,user-3,,view,1767508561657',
      },
    ])
  })
})
