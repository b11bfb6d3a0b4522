/**
 * User bucket loads are never shared between requests: in workerd a read belongs to the request
 * that started it, and requests that awaited another request's shared bucket read failed with
 * "Cannot perform I/O on behalf of a different request" (500s under load whenever buckets were
 * evicted and re-read; the 1M benchmark with a 4 MiB user cache showed them, and none once each
 * request read for itself). Concurrent requests that miss a bucket each read it, the cache keeps
 * one copy, and one recommendation request reads its user's bucket once (the prefetch's row is
 * reused).
 */
import { userBucket, userShardKey } from '@edgerec/core'
import { beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
import { ModelStore } from '../src/model/model-store.js'
import type { ModelBindings } from '../src/model/storage.js'
import { type ModelFixture, publishVersion, trainClusteredModel } from './fixtures/model.js'
import { env, KEYS } from './helpers.js'

/** `env` with every KV read of a key starting with `prefix` counted. */
function countingKv(prefix: string): { bindings: typeof env; reads: () => number } {
  let reads = 0
  const kv = env.MODELS_KV
  const MODELS_KV = {
    get: (key: string, type: never) => {
      if (key.startsWith(prefix)) reads++
      return kv.get(key, type)
    },
  } as unknown as KVNamespace
  return { bindings: { ...env, MODELS_KV }, reads: () => reads }
}

describe('user bucket loads', () => {
  let fixture: ModelFixture
  const store = new ModelStore()

  beforeAll(async () => {
    fixture = trainClusteredModel({ version: 'bucket-wait-v1', seed: 31, userBuckets: 4 })
    await publishVersion(env, fixture)
    const app = createApp({ store })
    await app.request('/v1/popular', { headers: { authorization: `Bearer ${KEYS.publishable}` } }, env)
    await store.settled()
  })

  it('should let concurrent lookups each read a missing bucket, and keep one copy in the cache', async () => {
    const model = store.live!
    expect(model.version).toBe('bucket-wait-v1')
    const user = fixture.users[0]!
    const bucketKey = userShardKey('bucket-wait-v1', userBucket(user.id, 4))
    const { bindings, reads } = countingKv(bucketKey)
    const before = model.memory().userCache
    const [first, second] = await Promise.all([
      model.findUser(bindings as ModelBindings, user.id, Date.now()),
      model.findUser(bindings as ModelBindings, user.id, Date.now()),
    ])
    expect(reads()).toBe(2)
    expect(first).not.toBeNull()
    expect(second!.row).toBe(first!.row)
    const cachedBytes = model.memory().userCache - before
    expect(cachedBytes).toBeGreaterThan(0)
    // Cached now: no read, and the cache holds the bucket once.
    await model.findUser(bindings as ModelBindings, user.id, Date.now())
    expect(reads()).toBe(2)
    expect(model.memory().userCache - before).toBe(cachedBytes)
  })

  it('should serve the user as unknown when the bucket fails to load, and report it', async () => {
    const model = store.live!
    const user = fixture.users.find((u) => userBucket(u.id, 4) !== userBucket(fixture.users[0]!.id, 4))!
    const bindings = {
      ...env,
      MODELS_KV: { ...env.MODELS_KV, get: async () => null } as unknown as KVNamespace,
      MODELS_R2: { ...env.MODELS_R2, get: async () => null } as unknown as R2Bucket,
    }
    expect(await model.findUser(bindings, user.id, Date.now())).toBeNull()
    expect(model.lastBucketFailure?.bucket).toBe(userBucket(user.id, 4))
  })

  it("should read a recommendation request's bucket once (the prefetch's row is reused)", async () => {
    const fresh = new ModelStore()
    const app = createApp({ store: fresh })
    const headers = { authorization: `Bearer ${KEYS.publishable}` }
    await app.request('/v1/popular', { headers }, env)
    await fresh.settled()
    const user = fixture.users[1]!
    const { bindings, reads } = countingKv(userShardKey('bucket-wait-v1', userBucket(user.id, 4)))
    const answer = await app.request(`/v1/users/${user.id}/recommendations?k=5`, { headers }, bindings)
    expect(answer.status).toBe(200)
    expect(((await answer.json()) as { source: string }).source).toBe('model')
    expect(reads()).toBe(1)
  })
})
