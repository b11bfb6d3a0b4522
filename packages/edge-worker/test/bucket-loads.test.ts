/**
 * User bucket loads are shared by concurrent requests, so the request that starts one hands it to
 * its `ctx.waitUntil`: workerd cancels a disconnected client's I/O, and without that a request
 * waiting on the shared load would never resume (it ends as a 500, "code had hung"). This checks
 * the hand-over itself: once per load, settled (never rejected) when the bucket is broken, and the
 * route passes the request's `waitUntil` down.
 */
import { userBucket } from '@edgerec/core'
import { beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
import { ModelStore } from '../src/model/model-store.js'
import { type ModelFixture, publishVersion, trainClusteredModel } from './fixtures/model.js'
import { env, KEYS } from './helpers.js'

describe('user bucket loads and waitUntil', () => {
  let fixture: ModelFixture
  const store = new ModelStore()

  beforeAll(async () => {
    fixture = trainClusteredModel({ version: 'bucket-wait-v1', seed: 31, userBuckets: 4 })
    await publishVersion(env, fixture)
    const app = createApp({ store })
    await app.request('/v1/popular', { headers: { authorization: `Bearer ${KEYS.publishable}` } }, env)
    await store.settled()
  })

  it('should hand a bucket load it starts to waitUntil once, and share it with a concurrent lookup', async () => {
    const model = store.live!
    expect(model.version).toBe('bucket-wait-v1')
    const user = fixture.users[0]!
    const handed: Promise<unknown>[] = []
    const waitUntil = (promise: Promise<unknown>) => void handed.push(promise)
    const [first, second] = await Promise.all([
      model.findUser(env, user.id, Date.now(), waitUntil),
      model.findUser(env, user.id, Date.now(), waitUntil),
    ])
    expect(handed).toHaveLength(1)
    await expect(handed[0]).resolves.toBeDefined()
    expect(first).toEqual(second)
    expect(first).not.toBeNull()
    // Cached now: nothing more to keep alive.
    await model.findUser(env, user.id, Date.now(), waitUntil)
    expect(handed).toHaveLength(1)
  })

  it('should hand over a load that fails as a settled promise, and serve the user as unknown', async () => {
    const model = store.live!
    const user = fixture.users.find((u) => userBucket(u.id, 4) !== userBucket(fixture.users[0]!.id, 4))!
    const bindings = {
      ...env,
      MODELS_KV: { ...env.MODELS_KV, get: async () => null } as unknown as KVNamespace,
      MODELS_R2: { ...env.MODELS_R2, get: async () => null } as unknown as R2Bucket,
    }
    const handed: Promise<unknown>[] = []
    const row = await model.findUser(bindings, user.id, Date.now(), (p) => void handed.push(p))
    expect(row).toBeNull()
    expect(handed).toHaveLength(1)
    await expect(handed[0]).resolves.toBeUndefined()
    expect(model.lastBucketFailure?.bucket).toBe(userBucket(user.id, 4))
  })

  it('should pass the request waitUntil down from the recommendations route', async () => {
    const fresh = new ModelStore()
    const app = createApp({ store: fresh })
    const headers = { authorization: `Bearer ${KEYS.publishable}` }
    const handed: Promise<unknown>[] = []
    const ctx = {
      waitUntil: (promise: Promise<unknown>) => void handed.push(promise),
      passThroughOnException: () => undefined,
      props: {},
    } as unknown as ExecutionContext
    await app.fetch(new Request('http://edgerec.test/v1/popular', { headers }), env, ctx)
    await fresh.settled()
    await Promise.allSettled(handed)
    const before = handed.length
    const user = fixture.users[1]!
    const answer = await app.fetch(
      new Request(`http://edgerec.test/v1/users/${user.id}/recommendations?k=5`, { headers }),
      env,
      ctx,
    )
    expect(answer.status).toBe(200)
    const loads = await Promise.all(handed.slice(before))
    // One of the promises handed over is the bucket load: it settles to the cached bucket.
    expect(loads.some((v) => typeof v === 'object' && v !== null && 'shard' in v && 'ids' in v)).toBe(true)
  })
})
