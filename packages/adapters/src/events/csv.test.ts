import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
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
    expect(report).toEqual({ rows: 3, events: 3, badRows: 0, samples: [] })
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
    expect(report.samples[3]!.reason).toBe('3 fields, the header has 5')
    expect(report.samples[0]!.raw).toBe('u1,,view,,2026-01-01T00:00:00Z')
  })

  it('should fail past maxBadRows and maxBadFraction with a typed error, and keep only keepBadRows samples', async () => {
    const path = join(dir, 'mostly-bad.csv')
    const rows = ['user,item']
    for (let i = 0; i < 10; i++) rows.push(i % 2 === 0 ? `u${i},i${i}` : `u${i},`)
    await writeFile(path, rows.join('\n'))
    await expect(readAll(path, {}, { maxBadRows: 4 })).rejects.toMatchObject({
      code: 'TOO_MANY_BAD_ROWS',
      message: expect.stringContaining('line 3: item id is empty'),
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
