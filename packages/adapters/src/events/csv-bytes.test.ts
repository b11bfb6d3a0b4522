import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CsvSourceOptions, csvEventSource } from './csv.js'
import { parseNumberBytes } from './csv-bytes.js'
import { ByteIdTable } from './intern.js'
import type { IndexedEventSink, ReadReport, SourceEvent } from './source.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgerec-csv-bytes-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

async function viaRead(path: string, options: CsvSourceOptions) {
  const stream = csvEventSource({ path }, options).read()
  const events: SourceEvent[] = []
  for await (const batch of stream) events.push(...batch)
  return { events, report: stream.report }
}

/** readInto with a plain sink (ids as strings). */
async function viaPlainSink(path: string, options: CsvSourceOptions) {
  const events: SourceEvent[] = []
  const report = await csvEventSource({ path }, options).readInto!({
    event: (userId, itemId, type, value, timestamp) =>
      events.push({ userId, itemId, type, value, timestamp }),
  })
  return { events, report }
}

/** readInto with an indexed sink, as the trainer's accumulator takes it; ids turned back into strings. */
async function viaIndexedSink(path: string, options: CsvSourceOptions) {
  const users: string[] = []
  const items: string[] = []
  const userIndex = new Map<string, number>()
  const itemIndex = new Map<string, number>()
  const events: SourceEvent[] = []
  const intern = (map: Map<string, number>, list: string[], id: string): number => {
    let index = map.get(id)
    if (index === undefined) {
      index = list.push(id) - 1
      map.set(id, index)
    }
    return index
  }
  const sink: IndexedEventSink = {
    event: (userId, itemId, type, value, timestamp) =>
      events.push({ userId, itemId, type, value, timestamp }),
    userIndex: (id) => intern(userIndex, users, id),
    itemIndex: (id) => intern(itemIndex, items, id),
    indexedEvent: (user, item, type, value, timestamp) =>
      events.push({ userId: users[user]!, itemId: items[item]!, type, value, timestamp }),
  }
  const report: ReadReport = await csvEventSource({ path }, options).readInto!(sink)
  return { events, report }
}

/** Writes `content`, reads it with read() and with readInto (plain and indexed sinks, several read sizes): all must agree. */
async function expectSameAsRead(name: string, content: string | Uint8Array, options: CsvSourceOptions = {}) {
  const path = join(dir, name)
  await writeFile(path, content)
  const expected = await viaRead(path, options)
  for (const readChunkBytes of [5, 7, 13, 64, undefined]) {
    const withChunk = { ...options, readChunkBytes }
    const plain = await viaPlainSink(path, withChunk)
    expect(plain.events, `plain sink, ${readChunkBytes} bytes per read`).toEqual(expected.events)
    expect(plain.report, `plain sink, ${readChunkBytes} bytes per read`).toEqual(expected.report)
    const indexed = await viaIndexedSink(path, withChunk)
    expect(indexed.events, `indexed sink, ${readChunkBytes} bytes per read`).toEqual(expected.events)
    expect(indexed.report, `indexed sink, ${readChunkBytes} bytes per read`).toEqual(expected.report)
  }
  return expected
}

describe('csvEventSource.readInto (byte path)', () => {
  it('should read quoted fields, escaped quotes and quoted line breaks like read()', async () => {
    const { events, report } = await expectSameAsRead(
      'quoted.csv',
      'user,item,value\r\n' +
        'u1,"i, 1",2\r\n' +
        'u2,"say ""hi""",3\r\n' +
        '"u3","two\r\nlines",4\r\n' +
        'u1,i9,5\r\n' +
        'u4,"unterminated,6\r\n' +
        'u5,i5,7\r\n',
    )
    expect(events.map((e) => [e.userId, e.itemId, e.value])).toEqual([
      ['u1', 'i, 1', 2],
      ['u2', 'say "hi"', 3],
      ['u3', 'two\r\nlines', 4],
      ['u1', 'i9', 5],
    ])
    // The unterminated quote runs to the end of the input: one bad record.
    expect(report.samples).toMatchObject([{ line: 7, reason: 'unterminated quoted field' }])
  })

  it('should read CRLF, blank lines, a byte-order mark and a last line without a line break like read()', async () => {
    const { events, report } = await expectSameAsRead(
      'crlf.csv',
      '\uFEFFuserId,itemId,rating,timestamp\r\n\r\n1,10,4,1700000000\r\n\n2,20,5,1700000001\r\n3,30,1,1700000002',
    )
    expect(events.map((e) => [e.userId, e.itemId, e.value, e.timestamp])).toEqual([
      ['1', '10', 4, 1_700_000_000_000],
      ['2', '20', 5, 1_700_000_001_000],
      ['3', '30', 1, 1_700_000_002_000],
    ])
    expect(report.rows).toBe(3)
    await expectSameAsRead('no-newline-cr.csv', 'user,item\nu1,i1\nu2,i2\r')
    await expectSameAsRead('header-only.csv', 'user,item')
    // A mark inside the data is data.
    const inner = await expectSameAsRead('inner-bom.csv', '\uFEFF\uFEFFuser,item\n\uFEFFu1,i1\nu2,\uFEFFi2\n')
    expect(inner.events.map((e) => [e.userId, e.itemId])).toEqual([
      ['\uFEFFu1', 'i1'],
      ['u2', '\uFEFFi2'],
    ])
  })

  it('should keep UTF-8 ids whole across read boundaries and intern them once', async () => {
    const ids = ['ユーザー', 'пользователь', '用户🙂', 'café', 'e\u0301', 'ö'.repeat(30)]
    const rows = ['user,item,type']
    for (let n = 0; n < 60; n++)
      rows.push(`${ids[n % ids.length]},${ids[(n * 7) % ids.length]}-${n % 4},View`)
    const { events } = await expectSameAsRead('utf8.csv', `${rows.join('\n')}\n`)
    expect(events).toHaveLength(60)
    expect(new Set(events.map((e) => e.userId))).toEqual(new Set(ids))
    expect(events[0]!.type).toBe('view')
  })

  it('should read numbers such as 1e3, -0, .5 and +5 as Number() does, and reject what it rejects', async () => {
    const values = [
      '1e3',
      '-0',
      '.5',
      '+5',
      '5.',
      '-.5',
      '1.5E-2',
      ' 7 ',
      '0x10',
      '007',
      '1e',
      'Infinity',
      'abc',
      '1_0',
      '.',
    ]
    const content = `user,item,value\n${values.map((v, n) => `u${n},i${n},${v}`).join('\n')}\n`
    const { events, report } = await expectSameAsRead('numbers.csv', content)
    expect(events.map((e) => e.value)).toEqual([1000, -0, 0.5, 5, 5, -0.5, 0.015, 7, 16, 7])
    expect(Object.is(events[1]!.value, -0)).toBe(true)
    expect(report.badRows).toBe(5)
  })

  it('should read timestamps (seconds, milliseconds, ISO-8601, a time format, bad ones) like read()', async () => {
    const times = [
      '1700000000',
      '1700000000123',
      '1700000000.5',
      '-0',
      '2024-01-02',
      '2024-01-02T03:04:05Z',
      '5.',
      '-.5',
      '+5',
      '',
      'soon',
      '21-07-2015',
    ]
    const content = `user,item,timestamp\n${times.map((t, n) => `u${n},i${n},${t}`).join('\n')}\n`
    const { report } = await expectSameAsRead('times.csv', content)
    expect(report.reasons['timestamp is empty']?.count).toBe(1)
    await expectSameAsRead('times-ms.csv', content, { timeUnit: 'ms' })
    await expectSameAsRead('times-s.csv', content, { timeUnit: 's' })
    const formatted = await expectSameAsRead('times-format.csv', content, { timeFormat: '%d-%m-%Y' })
    expect(formatted.events.at(-1)!.timestamp).toBe(Date.UTC(2015, 6, 21))
  })

  it('should report bad rows (empty ids, too long ids, bad types, wrong field counts) with their lines like read()', async () => {
    const long = 'x'.repeat(300)
    const content =
      'user,anonymousId,item,type,value\n' +
      'u1,,i1,view,1\n' +
      ',a1,i2,click,1\n' +
      ',,i3,view,1\n' +
      'u2,,,view,1\n' +
      `${long},,i4,view,1\n` +
      `u3,,${long},view,1\n` +
      'u4,,i5,Add To Cart,1\n' +
      'u5,,i6,,1\n' +
      'u6,,i7,view\n' +
      'u7,,i8,view,1,extra\n' +
      `${long},,i4,view,x\n` +
      'u1,,i1,VIEW,2\n'
    const { events, report } = await expectSameAsRead('bad.csv', content)
    expect(events.map((e) => [e.userId, e.itemId, e.type])).toEqual([
      ['u1', 'i1', 'view'],
      ['a1', 'i2', 'click'],
      ['u5', 'i6', undefined],
      ['u1', 'i1', 'view'],
    ])
    expect(report.samples.map((s) => s.line)).toEqual([4, 5, 6, 7, 8, 10, 11, 12])
  })

  it('should read lines longer than a read, and a multi-line quoted record longer than one', async () => {
    const longItem = 'i'.repeat(200)
    const quoted = `"${'line\n'.repeat(50)}"`
    await expectSameAsRead(
      'long.csv',
      `user,item,note\nu1,${longItem},${'n'.repeat(5000)}\nu2,i2,${quoted}\nu3,i3,x\n`,
    )
  })

  it('should read other delimiters (tab, semicolon, ::), headerless files and a value column set to none like read()', async () => {
    await expectSameAsRead('tab.tsv', 'user\titem\tvalue\nu1\ti1\t3\nu2\t"i\t2"\t4\n')
    await expectSameAsRead('semi.csv', 'user;item;value\nu1;i1;3\nu2;i2;4\n')
    const dat = await expectSameAsRead(
      'ml.dat',
      '1::10::5::978300760\n1::20:::3::978300761\n2::30::4::978300762\n',
      {
        header: false,
      },
    )
    expect(dat.events.map((e) => e.itemId)).toEqual(['10', '30'])
    await expectSameAsRead('udata.tsv', '196\t242\t3\t881250949\n186\t302\t3\t891717742\n', {
      delimiter: 'tab',
    })
    await expectSameAsRead('novalue.csv', 'user,item,rating\nu1,i1,x\nu2,i2,3\n', {
      columns: { value: false },
    })
    await expectSameAsRead('fallback.csv', 'user§item\nu1§i1\n', { defaultDelimiter: '§' })
    await expectSameAsRead('pipe.csv', 'user|item\n"u|1"|i1\nu2|i2\n', { delimiter: '|' })
  })

  it('should agree with read() on random files of quotes, delimiters, line breaks and multibyte text', async () => {
    const pieces = [
      'u1',
      'i2',
      '7',
      '1.5',
      ',',
      ',',
      ',',
      '"',
      '""',
      '\n',
      '\r\n',
      '\r',
      'é',
      '🙂',
      ' ',
      'View',
      '-0',
      '1e2',
      '',
    ]
    let seed = 11
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return seed % n
    }
    for (let file = 0; file < 25; file++) {
      let content = file % 2 ? 'user,item,value,type\n' : 'user,item,value\r\n'
      for (let row = 0; row < 30; row++) {
        const fields = [`u${random(5)}`, `i${random(7)}`, String(random(4))]
        if (file % 2) fields.push(random(3) ? 'view' : 'Click')
        // Some rows get random pieces spliced in (quotes, breaks, extra delimiters).
        let line = fields.join(',')
        if (random(3) === 0) {
          const at = random(line.length + 1)
          let noise = ''
          for (let k = random(4); k >= 0; k--) noise += pieces[random(pieces.length)]
          line = line.slice(0, at) + noise + line.slice(at)
        }
        content += `${line}${random(4) ? '\n' : '\r\n'}`
      }
      if (random(2)) content = content.slice(0, -1)
      await expectSameAsRead(`fuzz-${file}.csv`, content)
    }
  })

  it('should read a gzip-compressed file the same way', async () => {
    const path = join(dir, 'events.csv.gz')
    const rows = ['user,item,value']
    for (let n = 0; n < 500; n++) rows.push(`u${n % 17},"i ${n % 23}",${n % 5}`)
    await writeFile(path, gzipSync(rows.join('\n')))
    const expected = await viaRead(path, {})
    const plain = await viaPlainSink(path, { readChunkBytes: 100 })
    expect(plain).toEqual(expected)
    expect(plain.events).toHaveLength(500)
  })
})

describe('parseNumberBytes', () => {
  it('should give Number(text) bit for bit, or NaN for what it leaves to Number', () => {
    const texts = [
      '0',
      '-0',
      '1',
      '12345',
      '3.25',
      '.5',
      '5.',
      '+7',
      '-7.125',
      '1e3',
      '1E-3',
      '2.5e+10',
      '123456789012345',
      '0.1',
      '0.3',
      '1.7976931348623157',
      '9007199254740993',
      '1e400',
      '',
      '-',
      '.',
      'e5',
      '1e',
      '1x',
      ' 1',
    ]
    for (const text of texts) {
      const v = parseNumberBytes(bytes(text), 0, text.length, false)
      if (!Number.isNaN(v)) expect(Object.is(v, Number(text)), text).toBe(true)
    }
    // Random decimals: every one read here is exactly Number's.
    let seed = 7
    const random = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return seed / 2 ** 32
    }
    let read = 0
    for (let n = 0; n < 20_000; n++) {
      const digits = String(Math.floor(random() * 10 ** (1 + Math.floor(random() * 15))))
      const point = Math.floor(random() * (digits.length + 1))
      const text = `${random() < 0.3 ? '-' : ''}${digits.slice(0, point)}.${digits.slice(point)}${random() < 0.3 ? `e${Math.floor(random() * 30) - 15}` : ''}`
      const v = parseNumberBytes(bytes(text), 0, text.length, false)
      if (Number.isNaN(v)) continue
      read++
      expect(Object.is(v, Number(text)), text).toBe(true)
    }
    expect(read).toBeGreaterThan(15_000)
  })

  it('should read only -?digits(.digits) in plain mode (what parseTimestamp reads as a plain number)', () => {
    expect(parseNumberBytes(bytes('1700000000'), 0, 10, true)).toBe(1_700_000_000)
    expect(parseNumberBytes(bytes('-12.5'), 0, 5, true)).toBe(-12.5)
    for (const text of ['+5', '.5', '-.5', '1e3', '', '-']) {
      expect(parseNumberBytes(bytes(text), 0, text.length, true), text).toBeNaN()
    }
  })
})

describe('ByteIdTable', () => {
  it('should map byte strings (short, long, multibyte) to their values like a Map, through growth', () => {
    const table = new ByteIdTable()
    const reference = new Map<string, number>()
    const keys: string[] = []
    for (let n = 0; n < 5000; n++) {
      keys.push(String(n), `k${n}`.padEnd(n % 40, '.'), `ü${n}`, `user-${n}-with-a-long-name`)
    }
    keys.push('', '\u0000', '\u0000\u0000', 'a\u0000', 'abcd', 'abcde', 'abcdefgh', 'abcdefghi')
    for (const key of keys) {
      const b = bytes(key)
      const known = reference.get(key)
      expect(table.get(b, 0, b.length), key).toBe(known ?? -1)
      if (known === undefined) {
        reference.set(key, reference.size)
        table.set(b, 0, b.length, reference.size - 1)
      }
    }
    expect(table.size).toBe(reference.size)
    // Keys inside a larger buffer, at any offset.
    const buffer = bytes(`xx${keys.join(',')}`)
    let start = 2
    for (const key of keys) {
      const end = start + bytes(key).length
      // Twice: the second lookup is answered by the remembered last key.
      expect(table.get(buffer, start, end)).toBe(reference.get(key))
      expect(table.get(buffer, start, end)).toBe(reference.get(key))
      start = end + 1
    }
    expect(table.get(bytes('absent'), 0, 6)).toBe(-1)
    // Plain whole numbers stored in the slots before the direct array reached them stay findable.
    const numbers = new ByteIdTable()
    const order = ['70000', '0', '00', '007', '7', '-7', '1e3', '999999999', '1000000000']
    for (let n = 1; n < 12_000; n++) order.push(String(n * 3))
    order.push('75001', '69999')
    order.forEach((key, index) => {
      const b = bytes(key)
      if (numbers.get(b, 0, b.length) < 0) numbers.set(b, 0, b.length, index)
    })
    order.forEach((key, index) => {
      const b = bytes(key)
      expect(numbers.get(b, 0, b.length), key).toBe(order.indexOf(key) === index ? index : order.indexOf(key))
    })
    expect(numbers.size).toBe(new Set(order).size)
    // A long key of the same length as the remembered one, differing in its last byte.
    const probe = bytes('user-4999-with-a-long-name')
    expect(table.get(probe, 0, probe.length)).toBe(reference.get('user-4999-with-a-long-name'))
    probe[probe.length - 1] = 0x21
    expect(table.get(probe, 0, probe.length)).toBe(-1)
  })
})
