import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parquetWriteBuffer } from 'hyparquet-writer'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Storage } from '../storage/storage.js'
import { parquetEventSource } from './parquet.js'
import type { EventSource, SourceEvent } from './source.js'

let dir: string
let path: string
const n = 2500
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgerec-parquet-'))
  path = join(dir, 'events.parquet')
  const users: string[] = []
  const items: (string | null)[] = []
  const values: number[] = []
  const times: bigint[] = []
  for (let i = 0; i < n; i++) {
    users.push(`u${i % 97}`)
    items.push(i === 1000 ? null : `sku-${i % 41}`)
    values.push((i % 4) + 1)
    times.push(BigInt(Date.UTC(2026, 0, 1) + i * 1000))
  }
  const buffer = parquetWriteBuffer({
    columnData: [
      { name: 'customer', data: users, type: 'STRING' },
      { name: 'sku', data: items, type: 'STRING', nullable: true },
      { name: 'qty', data: values, type: 'DOUBLE' },
      { name: 'ts', data: times, type: 'INT64' },
    ],
    rowGroupSize: 1000,
  })
  await writeFile(path, new Uint8Array(buffer))
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

const columns = { user: 'customer', item: 'sku', value: 'qty', timestamp: 'ts' }

describe('parquetEventSource', () => {
  it('should read every row in slices, with INT64 milliseconds and a null id as a bad row', async () => {
    const { events, report } = await readAll(parquetEventSource({ path }, { columns, sliceRows: 700 }))
    expect(report).toMatchObject({ rows: n, events: n - 1, badRows: 1 })
    expect(report.samples[0]).toMatchObject({ line: 1001, reason: 'item id is empty' })
    expect(events[0]).toEqual({
      userId: 'u0',
      itemId: 'sku-0',
      type: undefined,
      value: 1,
      timestamp: Date.UTC(2026, 0, 1),
    })
    const last = events.at(-1)!
    expect(last).toEqual({
      userId: `u${(n - 1) % 97}`,
      itemId: `sku-${(n - 1) % 41}`,
      type: undefined,
      value: ((n - 1) % 4) + 1,
      timestamp: Date.UTC(2026, 0, 1) + (n - 1) * 1000,
    })
  })

  it('should read from a storage through ranged reads', async () => {
    const { readFile } = await import('node:fs/promises')
    const bytes = new Uint8Array(await readFile(path))
    let rangedReads = 0
    const storage: Storage = {
      provider: 'memory',
      put: async () => {
        throw new Error('read-only')
      },
      get: async () => bytes,
      getRange: async (_key, range) => {
        rangedReads++
        return bytes.slice(range.start, range.end ?? bytes.length)
      },
      getStream: async () => undefined,
      head: async (key) => (key === 'e.parquet' ? { key, size: bytes.length } : undefined),
      list: async () => ({ objects: [] }),
      delete: async () => {},
    }
    const { events } = await readAll(parquetEventSource({ storage, key: 'e.parquet' }, { columns }))
    expect(events).toHaveLength(n - 1)
    expect(rangedReads).toBeGreaterThan(1)
    await expect(
      readAll(parquetEventSource({ storage, key: 'nope.parquet' }, { columns })),
    ).rejects.toMatchObject({
      code: 'INPUT_NOT_FOUND',
    })
  })

  it('should refuse a file that is not Parquet', async () => {
    const bad = join(dir, 'bad.parquet')
    await writeFile(bad, 'user,item\n')
    await expect(readAll(parquetEventSource({ path: bad }, { columns }))).rejects.toMatchObject({
      code: 'INPUT_INVALID',
    })
  })
})
