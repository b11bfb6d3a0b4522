/**
 * The edge worker's R2 event archive as a training source (issue 16, "Events beyond one D1"): hour
 * folders read in order from local disk and from S3 on s3rver (R2's S3 API), the worker's identity
 * merge applied across files (a link that arrives after the anonymous events it covers), duplicates
 * from a redelivered queue batch dropped within the hour, `since`, and bad lines reported.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { S3Client } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { S3Storage } from '../../src/aws/storage.js'
import { createEventSource } from '../../src/events/create.js'
import type { SourceEvent } from '../../src/events/source.js'
import { LocalStorage } from '../../src/local/storage.js'
import type { Storage } from '../../src/storage/storage.js'
import { S3RVER_CREDENTIALS, type S3rverHandle, startS3rver } from '../servers/s3rver.js'

const T0 = Date.UTC(2026, 11, 3, 9)
const line = (fields: Record<string, unknown>): string =>
  JSON.stringify({ type: 'view', timestamp: T0, receivedAt: T0 + 5, ...fields })
const enc = (lines: string[]): Uint8Array => new TextEncoder().encode(`${lines.join('\n')}\n`)

/** Two hours; the link anon-1 → alice arrives in the second hour, after anon-1's first events. */
const FILES: Record<string, Uint8Array> = {
  'events/archive/2026-12-02/23/a.ndjson': enc([line({ id: 'e0', userId: 'old', itemId: 'i0' })]),
  'events/archive/2026-12-03/09/b1.ndjson': enc([
    line({ id: 'e1', anonymousId: 'anon-1', itemId: 'i1' }),
    line({ id: 'e2', userId: 'bob', itemId: 'i2', value: 3 }),
  ]),
  // A redelivered queue batch wrote e2 again in the same hour, under another object.
  'events/archive/2026-12-03/09/b2.ndjson': enc([
    line({ id: 'e2', userId: 'bob', itemId: 'i2', value: 3 }),
    'not json',
    line({ id: 'e3', anonymousId: 'anon-2', itemId: 'i3' }),
  ]),
  'events/archive/2026-12-03/10/c.ndjson': enc([
    line({ id: 'e4', userId: 'alice', anonymousId: 'anon-1', itemId: 'i4', type: 'purchase' }),
  ]),
  'events/other/ignored.ndjson': enc([line({ id: 'x', userId: 'x', itemId: 'x' })]),
}

let dir: string
let s3rver: S3rverHandle
const storages: Record<string, () => Storage> = {}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgerec-archive-'))
  s3rver = await startS3rver(['edgerec-models'])
  storages.local = () => new LocalStorage({ root: dir })
  storages['r2 (S3 API on s3rver)'] = () =>
    new S3Storage({
      bucket: 'edgerec-models',
      client: new S3Client({
        ...S3Storage.clientConfig({
          bucket: 'edgerec-models',
          endpoint: s3rver.endpoint,
          forcePathStyle: true,
          region: 'us-east-1',
        }),
        credentials: S3RVER_CREDENTIALS,
      }),
    })
  for (const make of Object.values(storages)) {
    const storage = make()
    for (const [key, body] of Object.entries(FILES)) await storage.put(key, body)
  }
}, 60_000)

afterAll(async () => {
  await s3rver?.stop()
  await rm(dir, { recursive: true, force: true })
})

async function readAll(storage: Storage, since?: string) {
  const source = await createEventSource({ kind: 'archive', storage, ...(since ? { since } : {}) })
  const stream = source.read({ batchSize: 2 })
  const events: SourceEvent[] = []
  for await (const batch of stream) events.push(...batch)
  return { events, report: stream.report, description: source.description }
}

describe.each(['local', 'r2 (S3 API on s3rver)'])('archive event source on %s', (name) => {
  it('should read every hour in order, merge linked anonymous ids into their user and drop redelivered duplicates', async () => {
    const { events, report, description } = await readAll(storages[name]!())
    expect(description).toContain('events/archive/')
    expect(events.map((e) => [e.userId, e.itemId, e.type, e.value])).toEqual([
      ['old', 'i0', 'view', undefined],
      ['alice', 'i1', 'view', undefined],
      ['bob', 'i2', 'view', 3],
      ['anon-2', 'i3', 'view', undefined],
      ['alice', 'i4', 'purchase', undefined],
    ])
    expect(report).toMatchObject({ rows: 6, events: 5, badRows: 1 })
    expect(report.samples[0]!.reason).toContain('b2.ndjson: not JSON')
  })

  it('should start at `since`', async () => {
    const { events } = await readAll(storages[name]!(), '2026-12-03')
    expect(events.map((e) => e.itemId)).toEqual(['i1', 'i2', 'i3', 'i4'])
  })
})

describe('archive event source errors', () => {
  it('should say what to do when the archive is empty', async () => {
    const empty = new LocalStorage({ root: join(dir, 'nothing') })
    const source = await createEventSource({ kind: 'archive', storage: empty })
    const read = async () => {
      for await (const _ of source.read()) {
        // drain
      }
    }
    await expect(read()).rejects.toThrow(
      /No archive objects under local:events\/archive\/.*INGEST_MODE=queue/,
    )
  })
})
