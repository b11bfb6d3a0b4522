/**
 * GcsStorage (`@google-cloud/storage`) against the lean GCS JSON-API test server
 * (test/servers/gcs-json-api.ts: no GCS emulator installs here; see docs/cloud.md).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStorage } from '../../src/config/create-storage.js'
import { StorageError } from '../../src/errors.js'
import { GcsStorage } from '../../src/gcp/storage.js'
import { type GcsServerHandle, startGcsServer } from '../servers/gcs-json-api.js'
import { describeStorageConformance } from './conformance.js'
import { failingStream, seededBytes, utf8 } from './data.js'

const MiB = 1024 * 1024
let server: GcsServerHandle
let n = 0

beforeAll(async () => {
  server = await startGcsServer(['models'])
})
afterAll(async () => {
  await server?.stop()
})

const gcs = (extra: Partial<ConstructorParameters<typeof GcsStorage>[0]> = {}) =>
  new GcsStorage({
    bucket: 'models',
    projectId: 'test-project',
    apiEndpoint: server.endpoint,
    prefix: `t${n++}`,
    resumableThreshold: 4 * MiB,
    ...extra,
  })

describeStorageConformance('GcsStorage on the GCS JSON-API test server', () => gcs(), {
  conditionalPut: 'enforced',
  largeObjectBytes: 16 * MiB,
})

describe('GcsStorage specifics', () => {
  it('should honour STORAGE_EMULATOR_HOST when no apiEndpoint is configured', async () => {
    process.env.STORAGE_EMULATOR_HOST = server.endpoint
    try {
      const storage = new GcsStorage({ bucket: 'models', projectId: 'test-project', prefix: 'emulator-host' })
      await storage.put('k', utf8('via env'))
      expect(new TextDecoder().decode(await storage.get('k'))).toBe('via env')
      expect(server.objects('models').has('emulator-host/k')).toBe(true)
    } finally {
      delete process.env.STORAGE_EMULATOR_HOST
    }
  })

  it('should use the object generation as etag and condition writes on it', async () => {
    const storage = gcs()
    const created = await storage.put('g', utf8('1'))
    expect(created.etag).toBe(String(server.objects('models').get(`t${n - 1}/g`)?.generation))
    const error = await storage
      .put('g', utf8('2'), { ifMatch: { etag: 'not-a-generation' } })
      .catch((e: unknown) => e)
    expect((error as StorageError).code).toBe('PRECONDITION_FAILED')
  })

  it('should leave no object when a resumable upload fails mid-way', async () => {
    const storage = gcs()
    const error = await storage
      .put('half.bin', failingStream(seededBytes(3 * MiB, 2), 256 * 1024, new Error('disk read failed')))
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StorageError)
    expect((error as StorageError).code).toBe('UPLOAD_FAILED')
    expect(await storage.head('half.bin')).toBeUndefined()
  })

  it('should retry throttled and failing calls with backoff, then succeed', async () => {
    const delays: number[] = []
    const storage = gcs({
      retry: { baseDelayMs: 1, maxDelayMs: 4, onRetry: (_e, _n, ms) => delays.push(ms) },
    })
    server.failNext(2, 429)
    await storage.put('retry/a', utf8('after two 429s'))
    server.failNext(1, 503)
    expect(new TextDecoder().decode(await storage.get('retry/a'))).toBe('after two 429s')
    expect(delays).toHaveLength(3)
  })

  it('should retry a put whose connection was reset, as UNAVAILABLE, and store the object once', async () => {
    const retried: unknown[] = []
    const storage = gcs({ retry: { baseDelayMs: 1, maxDelayMs: 2, onRetry: (e) => retried.push(e) } })
    server.resetNext(1)
    await storage.put('retry/reset', utf8('after a reset'))
    expect(retried).toHaveLength(1)
    expect(retried[0]).toBeInstanceOf(StorageError)
    expect((retried[0] as StorageError).code).toBe('UNAVAILABLE')
    expect(new TextDecoder().decode(await storage.get('retry/reset'))).toBe('after a reset')
  })

  it('should give up with UNAVAILABLE, not a raw socket error, once the retries are spent on resets', async () => {
    const storage = gcs({ retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 2 } })
    server.resetNext(2)
    const error = await storage.put('retry/resets', utf8('never')).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StorageError)
    expect((error as StorageError).code).toBe('UNAVAILABLE')
    expect(server.objects('models').has('retry/resets')).toBe(false)
  })

  it('should give up with THROTTLED once the retries are spent', async () => {
    const storage = gcs({ retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 2 } })
    server.failNext(3, 429)
    const error = await storage.get('retry/b').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StorageError)
    expect((error as StorageError).code).toBe('THROTTLED')
    expect((error as StorageError).status).toBe(429)
  })

  it('should be built by createStorage from an edgerec.config storage entry', async () => {
    const storage = await createStorage({
      provider: 'gcs',
      bucket: 'models',
      projectId: 'test-project',
      apiEndpoint: server.endpoint,
      prefix: 'from-config',
    })
    expect(storage).toBeInstanceOf(GcsStorage)
    await storage.put('k', utf8('configured'))
    expect(server.objects('models').has('from-config/k')).toBe(true)
  })

  it('should map a missing bucket to NOT_FOUND', async () => {
    const storage = gcs({ bucket: 'no-such-bucket', retry: { retries: 0 } })
    const error = await storage.put('k', utf8('x')).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StorageError)
    expect((error as StorageError).code).toBe('NOT_FOUND')
  })
})
