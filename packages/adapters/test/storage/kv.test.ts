/**
 * KvStorage (Cloudflare KV REST API) against a local server speaking that API, backed by
 * miniflare's KV (test/servers/kv-rest.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KvStorage } from '../../src/cloudflare/storage.js'
import { StorageError } from '../../src/errors.js'
import { type KvRestHandle, startKvRestServer } from '../servers/kv-rest.js'
import { describeStorageConformance } from './conformance.js'
import { utf8 } from './data.js'

const MiB = 1024 * 1024
const ENV = 'EDGEREC_TEST_KV_TOKEN'
let server: KvRestHandle

beforeAll(async () => {
  server = await startKvRestServer()
  process.env[ENV] = server.token
}, 30_000)
afterAll(async () => {
  delete process.env[ENV]
  await server?.stop()
})

const kv = () =>
  new KvStorage({
    accountId: server.accountId,
    namespaceId: server.namespaceId,
    apiBase: server.apiBase,
    apiTokenEnv: ENV,
  })

// KV has no prefixes per storage: each test starts from an emptied namespace.
describeStorageConformance(
  'KvStorage on the KV REST test server (miniflare KV)',
  async () => {
    const storage = kv()
    for (;;) {
      const page = await storage.list('')
      if (page.objects.length === 0) break
      await Promise.all(page.objects.map((o) => storage.delete(o.key)))
    }
    return storage
  },
  { conditionalPut: 'unsupported', largeObjectBytes: 8 * MiB, etags: false },
)

describe('KvStorage specifics', () => {
  it('should refuse values over 25 MiB before sending anything', async () => {
    const storage = kv()
    const before = server.requests()
    const error = await storage.put('too/big', new Uint8Array(25 * MiB + 1)).catch((e: unknown) => e)
    expect((error as StorageError).code).toBe('TOO_LARGE')
    expect(server.requests()).toBe(before)
  })

  it('should retry HTTP 429 with backoff, then write', async () => {
    const retries: number[] = []
    const storage = new KvStorage({
      accountId: server.accountId,
      namespaceId: server.namespaceId,
      apiBase: server.apiBase,
      apiTokenEnv: ENV,
      retry: { baseDelayMs: 1, maxDelayMs: 4, onRetry: (_e, attempt) => retries.push(attempt) },
    })
    server.throttleNext(2)
    await storage.put('retry/pointer', utf8('{"version":"v1"}'))
    expect(retries).toEqual([1, 2])
    expect(new TextDecoder().decode(await storage.get('retry/pointer'))).toBe('{"version":"v1"}')
  })

  it('should map a wrong token to AUTH', async () => {
    process.env.EDGEREC_TEST_KV_BAD_TOKEN = 'wrong'
    try {
      const storage = new KvStorage({
        accountId: server.accountId,
        namespaceId: server.namespaceId,
        apiBase: server.apiBase,
        apiTokenEnv: 'EDGEREC_TEST_KV_BAD_TOKEN',
        retry: { retries: 0 },
      })
      const error = await storage.put('k', utf8('x')).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(StorageError)
      expect((error as StorageError).code).toBe('AUTH')
    } finally {
      delete process.env.EDGEREC_TEST_KV_BAD_TOKEN
    }
  })
})
