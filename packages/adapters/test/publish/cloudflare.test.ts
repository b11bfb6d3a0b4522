/**
 * Publishing to the Cloudflare target as production does it — shards through R2's S3 API
 * (R2Storage, here on s3rver) and manifests + the live pointer through the KV REST API (KvStorage,
 * here on the KV REST server backed by miniflare KV) — built by `createPublisher`-level config
 * (`openCloudflarePublishTarget`). Checks the write order: the live pointer is written last.
 */
import { LIVE_POINTER_KEY, manifestKey, versionPrefix } from '@edgerec/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openCloudflarePublishTarget } from '../../src/cloudflare/publish.js'
import type { PublishTarget } from '../../src/publish/publisher.js'
import {
  listPublishedVersions,
  publishVersion,
  readLivePointer,
  rollback,
} from '../../src/publish/publisher.js'
import type { Storage } from '../../src/storage/storage.js'
import { listAll } from '../../src/storage/storage.js'
import { type KvRestHandle, startKvRestServer } from '../servers/kv-rest.js'
import { S3RVER_CREDENTIALS, type S3rverHandle, startS3rver } from '../servers/s3rver.js'
import { MemoryStorage } from './memory-storage.js'
import { writeSyntheticVersion } from './synthetic-model.js'

const TOKEN_ENV = 'EDGEREC_TEST_CF_TOKEN'
const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY }
let s3rver: S3rverHandle
let kv: KvRestHandle
let target: PublishTarget
const source = new MemoryStorage()
const at = (minute: number) => new Date(Date.UTC(2026, 10, 24, 12, minute))

beforeAll(async () => {
  ;[s3rver, kv] = await Promise.all([startS3rver(['edgerec-models']), startKvRestServer()])
  process.env[TOKEN_ENV] = kv.token
  process.env.AWS_ACCESS_KEY_ID = S3RVER_CREDENTIALS.accessKeyId
  process.env.AWS_SECRET_ACCESS_KEY = S3RVER_CREDENTIALS.secretAccessKey
  target = await openCloudflarePublishTarget({
    accountId: kv.accountId,
    r2Bucket: 'edgerec-models',
    kvNamespaceId: kv.namespaceId,
    apiTokenEnv: TOKEN_ENV,
    r2Endpoint: s3rver.endpoint,
    kvApiBase: kv.apiBase,
  })
  for (const [i, version] of ['v1', 'v2', 'v3'].entries()) {
    await writeSyntheticVersion(source, {
      version,
      items: 200 + i * 50,
      users: 30,
      dims: 8,
      createdAt: at(i),
      maxShardBytes: 4096,
    })
  }
}, 60_000)

afterAll(async () => {
  delete process.env[TOKEN_ENV]
  if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID
  else process.env.AWS_ACCESS_KEY_ID = saved.id
  if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY
  else process.env.AWS_SECRET_ACCESS_KEY = saved.secret
  await Promise.all([s3rver?.stop(), kv?.stop()])
})

/** Wraps a storage so that every completed put is appended to `log`. */
function logging(inner: Storage, where: string, log: string[]): Storage {
  return {
    provider: inner.provider,
    put: async (key, body, options) => {
      const info = await inner.put(key, body, options)
      log.push(`${where}:${key}`)
      return info
    },
    get: (key) => inner.get(key),
    getRange: (key, range) => inner.getRange(key, range),
    getStream: (key) => inner.getStream(key),
    head: (key) => inner.head(key),
    list: (prefix, options) => inner.list(prefix, options),
    delete: (key) => inner.delete(key),
  }
}

describe('publishVersion to Cloudflare (R2 S3 API + KV REST API)', () => {
  it('should write shards to R2 and the manifest to KV, then flip the live pointer last', async () => {
    const log: string[] = []
    const watched = {
      ...target,
      objects: logging(target.objects, 'r2', log),
      pointers: logging(target.pointers, 'kv', log),
    }
    const report = await publishVersion({ source, version: 'v1', target: watched, now: () => at(10) })
    expect(report.pointer).toEqual({ version: 'v1', activatedAt: at(10).toISOString() })
    expect(log.at(-1)).toBe(`kv:${LIVE_POINTER_KEY}`)
    expect(log.filter((entry) => entry === `kv:${LIVE_POINTER_KEY}`)).toHaveLength(1)
    // R2 holds the shards and a copy of the manifest; KV the manifest and the pointer.
    const r2Writes = log.filter((entry) => entry.startsWith(`r2:${versionPrefix('v1')}`))
    expect(r2Writes).toContain(`r2:${manifestKey('v1')}`)
    expect(r2Writes.length).toBe(report.shards + 1)
    expect(log.indexOf(`kv:${manifestKey('v1')}`)).toBeLessThan(log.length - 1)
    // Optional shards (the catalog, issue 17) travel with the manifest.
    const published = JSON.parse(new TextDecoder().decode((await target.pointers.get(manifestKey('v1')))!))
    expect(published.shards.catalog).toMatchObject({ key: 'models/v1/catalog.shard', kind: 'catalog' })
    expect(r2Writes).toContain('r2:models/v1/catalog.shard')
    // What the worker's bindings would read: the shards in the R2 bucket, the pointer in KV.
    expect((await listAll(target.objects, versionPrefix('v1'))).length).toBe(report.shards + 1)
    expect(await readLivePointer(target)).toEqual(report.pointer)
  })

  it('should publish a newer version, roll back by flipping the pointer, and prune to the last N', async () => {
    await publishVersion({ source, version: 'v2', target, now: () => at(11) })
    const pointer = await rollback({ target, now: () => at(12) })
    expect(pointer).toEqual({ version: 'v1', activatedAt: at(12).toISOString(), previous: 'v2' })
    expect(await readLivePointer(target)).toEqual(pointer)
    // v2's shards are still there: a rollback only flips the pointer.
    expect((await listAll(target.objects, versionPrefix('v2'))).length).toBeGreaterThan(0)
    const report = await publishVersion({ source, version: 'v3', target, keep: 1, now: () => at(13) })
    expect(report.pointer).toMatchObject({ version: 'v3', previous: 'v1' })
    // keep 1 = the newest, plus the live and previous ones are always kept.
    expect((await listPublishedVersions(target)).map((v) => v.version).sort()).toEqual(['v1', 'v3'])
    expect(report.pruned).toEqual(['v2'])
    expect(await listAll(target.objects, versionPrefix('v2'))).toEqual([])
    expect(await target.pointers.get(manifestKey('v2'))).toBeUndefined()
  })
})
