/**
 * File event sources (NDJSON, CSV, Parquet) read from every object store on its real server:
 * local disk, S3 on s3rver, Azure Blob on Azurite, GCS on the JSON-API test server. The same
 * synthetic events are written in each format; each source must read back exactly those events.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { S3Client } from '@aws-sdk/client-s3'
import { ContainerClient } from '@azure/storage-blob'
import { parquetWriteBuffer } from 'hyparquet-writer'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { S3Storage } from '../../src/aws/storage.js'
import { AzureBlobStorage } from '../../src/azure/storage.js'
import { createEventSource } from '../../src/events/create.js'
import type { SourceEvent } from '../../src/events/source.js'
import { GcsStorage } from '../../src/gcp/storage.js'
import { LocalStorage } from '../../src/local/storage.js'
import type { Storage } from '../../src/storage/storage.js'
import { type AzuriteHandle, startAzurite } from '../servers/azurite.js'
import { type GcsServerHandle, startGcsServer } from '../servers/gcs-json-api.js'
import { S3RVER_CREDENTIALS, type S3rverHandle, startS3rver } from '../servers/s3rver.js'

const N = 3000
const T0 = Date.UTC(2026, 2, 1)
const ENV = 'EDGEREC_TEST_EVENTS_AZURITE'

/** The synthetic events every file holds. */
const expected: SourceEvent[] = Array.from({ length: N }, (_, i) => ({
  userId: `u${i % 71}`,
  itemId: `sku-${(i * 7) % 53}`,
  type: i % 9 === 0 ? 'purchase' : 'view',
  value: i % 9 === 0 ? (i % 3) + 1 : undefined,
  timestamp: T0 + i * 1000,
}))

function ndjson(): Uint8Array {
  const text = expected
    .map((e, i) =>
      JSON.stringify({
        id: `e${i}`,
        userId: e.userId,
        itemId: e.itemId,
        type: e.type,
        ...(e.value === undefined ? {} : { value: e.value }),
        timestamp: e.timestamp,
      }),
    )
    .join('\n')
  return gzipSync(text)
}

function csv(): Uint8Array {
  const rows = expected.map((e) =>
    [e.userId, e.itemId, e.type, e.value ?? '', new Date(e.timestamp).toISOString()].join(','),
  )
  return new TextEncoder().encode(['user_id,item_id,event_type,value,time', ...rows].join('\r\n'))
}

function parquet(): Uint8Array {
  const buffer = parquetWriteBuffer({
    columnData: [
      { name: 'customer', data: expected.map((e) => e.userId), type: 'STRING' },
      { name: 'sku', data: expected.map((e) => e.itemId), type: 'STRING' },
      { name: 'kind', data: expected.map((e) => e.type ?? null), type: 'STRING', nullable: true },
      { name: 'qty', data: expected.map((e) => e.value ?? null), type: 'DOUBLE', nullable: true },
      { name: 'ts', data: expected.map((e) => BigInt(e.timestamp)), type: 'INT64' },
    ],
    rowGroupSize: 1000,
  })
  return new Uint8Array(buffer)
}

let dir: string
let s3rver: S3rverHandle
let azurite: AzuriteHandle
let gcsServer: GcsServerHandle
const storages: Record<string, () => Storage> = {}
const files = { ndjson: ndjson(), csv: csv(), parquet: parquet() }

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgerec-events-storage-'))
  ;[s3rver, azurite, gcsServer] = await Promise.all([
    startS3rver(['events']),
    startAzurite(),
    startGcsServer(['events']),
  ])
  process.env[ENV] = azurite.connectionString
  await new ContainerClient(azurite.connectionString, 'events').create()
  storages.local = () => new LocalStorage({ root: dir })
  storages.s3 = () =>
    new S3Storage({
      bucket: 'events',
      client: new S3Client({
        ...S3Storage.clientConfig({
          bucket: 'events',
          endpoint: s3rver.endpoint,
          forcePathStyle: true,
          region: 'us-east-1',
        }),
        credentials: S3RVER_CREDENTIALS,
      }),
    })
  storages['azure-blob'] = () => new AzureBlobStorage({ container: 'events', connectionStringEnv: ENV })
  storages.gcs = () => new GcsStorage({ bucket: 'events', apiEndpoint: gcsServer.endpoint, projectId: 'p' })
  await Promise.all(
    Object.values(storages).map(async (make) => {
      const storage = make()
      await storage.put('in/day.ndjson.gz', files.ndjson)
      await storage.put('in/day.csv', files.csv)
      await storage.put('in/day.parquet', files.parquet)
    }),
  )
}, 60_000)

afterAll(async () => {
  delete process.env[ENV]
  await Promise.all([s3rver?.stop(), azurite?.stop(), gcsServer?.stop()])
  await rm(dir, { recursive: true, force: true })
})

async function readEvents(storage: Storage, key: string, columns?: Record<string, string>) {
  const source = await createEventSource({
    kind: 'file',
    path: key,
    storage,
    ...(columns ? { columns } : {}),
  })
  const stream = source.read()
  const events: SourceEvent[] = []
  for await (const batch of stream) events.push(...batch)
  return { events, report: stream.report }
}

describe.each(['local', 's3', 'azure-blob', 'gcs'])('file event sources on %s storage', (name) => {
  it('should read gzip NDJSON from the storage', async () => {
    const { events, report } = await readEvents(storages[name]!(), 'in/day.ndjson.gz')
    expect(report.badRows).toBe(0)
    expect(events).toEqual(expected)
  })

  it('should read CSV (CRLF, ISO times, common column names) from the storage', async () => {
    const { events, report } = await readEvents(storages[name]!(), 'in/day.csv')
    expect(report.badRows).toBe(0)
    expect(events).toEqual(expected)
    // The trainer's path (readInto: the bytes streamed from the storage) reads the same events.
    const source = await createEventSource({ kind: 'file', path: 'in/day.csv', storage: storages[name]!() })
    const into: SourceEvent[] = []
    const intoReport = await source.readInto!({
      event: (userId, itemId, type, value, timestamp) =>
        into.push({ userId, itemId, type, value, timestamp }),
    })
    expect(into).toEqual(expected)
    expect(intoReport).toEqual(report)
    const missing = await createEventSource({
      kind: 'file',
      path: 'in/nothing.csv',
      storage: storages[name]!(),
    })
    await expect(missing.readInto!({ event: () => {} })).rejects.toMatchObject({ code: 'INPUT_NOT_FOUND' })
  })

  it('should read Parquet through ranged reads from the storage', async () => {
    const { events } = await readEvents(storages[name]!(), 'in/day.parquet', {
      user: 'customer',
      item: 'sku',
      type: 'kind',
      value: 'qty',
      timestamp: 'ts',
    })
    expect(events).toEqual(expected)
  })

  it('should say which key is missing', async () => {
    await expect(readEvents(storages[name]!(), 'in/nothing.csv')).rejects.toMatchObject({
      code: 'INPUT_NOT_FOUND',
      message: expect.stringContaining('in/nothing.csv'),
    })
  })
})
