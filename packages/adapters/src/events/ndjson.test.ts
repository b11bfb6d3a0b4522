import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Storage } from '../storage/storage.js'
import { ndjsonEventSource } from './ndjson.js'
import type { EventSource, SourceEvent } from './source.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgerec-ndjson-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function readAll(source: EventSource) {
  const stream = source.read()
  const events: SourceEvent[] = []
  for await (const batch of stream) events.push(...batch)
  return { events, report: stream.report }
}

const t = Date.UTC(2026, 0, 2)
const lines = [
  JSON.stringify({ id: 'e1', userId: 'u1', itemId: 'i1', type: 'view', timestamp: t }),
  JSON.stringify({
    id: 'e2',
    anonymousId: 'anon-9',
    itemId: 'i2',
    type: 'purchase',
    value: 2,
    timestamp: '2026-01-03T00:00:00Z',
  }),
  '{"id":"e3","userId":"u1"', // line 3: not JSON
  JSON.stringify({ id: 'e4', userId: 'u1', itemId: 'i1', type: 'view', timestamp: 946 }), // line 4: before 2000 (seconds?)
  '',
  JSON.stringify([1, 2]), // line 6: not an object
  JSON.stringify({
    id: 'e7',
    userId: 'u2',
    itemId: 'i3',
    type: 'like',
    timestamp: t,
    context: { page: 'home' },
  }),
]

/** A read-only Storage over a Map: enough for `getStream`. */
function mapStorage(objects: Map<string, Uint8Array>): Storage {
  const missing = async () => undefined
  return {
    provider: 'memory',
    put: async () => {
      throw new Error('read-only')
    },
    get: async (key) => objects.get(key),
    getRange: missing,
    head: missing,
    list: async () => ({ objects: [] }),
    delete: async () => {},
    getStream: async (key) => {
      const bytes = objects.get(key)
      if (!bytes) return undefined
      return new ReadableStream<Uint8Array>({
        start(controller) {
          // Two chunks cut in the middle of a line and of a multi-byte gzip frame.
          const cut = Math.floor(bytes.length / 2)
          controller.enqueue(bytes.subarray(0, cut))
          controller.enqueue(bytes.subarray(cut))
          controller.close()
        },
      })
    },
  }
}

describe('ndjsonEventSource', () => {
  it('should validate edgerec events with core and report bad lines by number', async () => {
    const path = join(dir, 'events.ndjson')
    await writeFile(path, lines.join('\n'))
    const { events, report } = await readAll(ndjsonEventSource({ path }))
    expect(events).toEqual([
      { userId: 'u1', itemId: 'i1', type: 'view', value: undefined, timestamp: t },
      { userId: 'anon-9', itemId: 'i2', type: 'purchase', value: 2, timestamp: Date.UTC(2026, 0, 3) },
      { userId: 'u2', itemId: 'i3', type: 'like', value: undefined, timestamp: t },
    ])
    expect(report.rows).toBe(6)
    expect(report.badRows).toBe(3)
    expect(report.samples.map((s) => s.line)).toEqual([3, 4, 6])
    expect(report.samples[0]!.reason).toMatch(/^not JSON/)
    expect(report.samples[1]!.reason).toContain('timestamp')
  })

  it('should read a gzip-compressed object from a storage, split across chunks', async () => {
    const storage = mapStorage(new Map([['archive/day.ndjson.gz', gzipSync(lines.join('\n'))]]))
    const { events, report } = await readAll(ndjsonEventSource({ storage, key: 'archive/day.ndjson.gz' }))
    expect(events).toHaveLength(3)
    expect(report.badRows).toBe(3)
    await expect(readAll(ndjsonEventSource({ storage, key: 'missing.ndjson' }))).rejects.toMatchObject({
      code: 'INPUT_NOT_FOUND',
    })
  })

  it('should read flat records through a column mapping', async () => {
    const path = join(dir, 'flat.jsonl')
    await writeFile(
      path,
      [
        JSON.stringify({ customer: 12, sku: 'A-1', qty: 3, at: 1767225600 }),
        JSON.stringify({ customer: 13, sku: null, qty: 1, at: 1767225600 }),
      ].join('\n'),
    )
    const source = ndjsonEventSource(
      { path },
      { columns: { user: 'customer', item: 'sku', value: 'qty', timestamp: 'at' } },
    )
    const { events, report } = await readAll(source)
    expect(events).toEqual([
      { userId: '12', itemId: 'A-1', type: undefined, value: 3, timestamp: 1767225600000 },
    ])
    expect(report.samples).toEqual([{ line: 2, reason: 'item id is empty', raw: expect.any(String) }])
  })
})
