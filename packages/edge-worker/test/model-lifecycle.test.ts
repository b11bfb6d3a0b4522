import { LIVE_POINTER_KEY, type LivePointer, manifestKey, userBucket } from '@edgerec/core'
import { describe, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
import type { Env } from '../src/env.js'
import { ModelStore } from '../src/model/model-store.js'
import { flipByte, publishVersion, setLive, trainClusteredModel } from './fixtures/model.js'
import { env, json } from './helpers.js'

type Items = { itemId: string; score: number }[]
type RecBody = { items: Items; source: string; modelVersion: string | null }
type ModelBody = {
  version: string | null
  lastError: { version: string | null; code: string; message: string; attempts: number } | null
}
type ErrorBody = {
  error: { code: string; message: string; details?: { problems: { key: string; code: string }[] } }
}

/** Bindings whose KV and R2 reads are counted per key. */
function countingEnv(): { bindings: Env; reads: Map<string, number> } {
  const reads = new Map<string, number>()
  const count = (key: string) => reads.set(key, (reads.get(key) ?? 0) + 1)
  const kv = {
    get: (key: string, type: never) => {
      count(key)
      return env.MODELS_KV.get(key, type)
    },
    put: (key: string, value: never) => env.MODELS_KV.put(key, value),
  } as unknown as KVNamespace
  const r2 = {
    get: (key: string) => {
      count(key)
      return env.MODELS_R2.get(key)
    },
  } as unknown as R2Bucket
  return { bindings: { ...env, MODELS_KV: kv, MODELS_R2: r2 }, reads }
}

describe('model loading and version lifecycle', () => {
  it('should load a version once per isolate even when many requests arrive together', async () => {
    const fixture = trainClusteredModel({ version: 'flight-v1', itemsPerCluster: 60 })
    const manifest = await publishVersion(env, fixture, { maxItemShardBytes: 2048 })
    expect(manifest.shards.items.length).toBeGreaterThan(2)
    const { bindings, reads } = countingEnv()
    const store = new ModelStore()
    const app = createApp({ store })
    const responses = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        json<RecBody>(app, `/v1/users/${fixture.users[i]!.id}/recommendations?k=3`, { bindings }),
      ),
    )
    for (const r of responses) expect(r.body.modelVersion).toBe('flight-v1')
    expect(store.loadCount).toBe(1)
    expect(reads.get(manifestKey('flight-v1'))).toBe(1)
    for (const ref of manifest.shards.items) expect(reads.get(ref.key)).toBe(1)
    expect(reads.get(manifest.shards.gram.key)).toBe(1)
    // User buckets are fetched on demand, at most once by each request that needs one: a request
    // never waits on another request's read (loaded-model.ts, findUser), so concurrent requests of
    // one bucket may each read it.
    const askers = new Map<number, number>()
    for (let i = 0; i < 24; i++) {
      const bucket = userBucket(fixture.users[i]!.id, manifest.userBuckets)
      askers.set(bucket, (askers.get(bucket) ?? 0) + 1)
    }
    for (const [bucket, ref] of manifest.shards.users.entries()) {
      const count = reads.get(ref.key) ?? 0
      expect(count).toBeLessThanOrEqual(askers.get(bucket) ?? 0)
      if (askers.has(bucket)) expect(count).toBeGreaterThanOrEqual(1)
    }
  })

  it('should fetch only the bucket of the requested user', async () => {
    const fixture = trainClusteredModel({ version: 'bucket-v1', userBuckets: 8 })
    const manifest = await publishVersion(env, fixture)
    const { bindings, reads } = countingEnv()
    const app = createApp()
    const user = fixture.users[3]!
    await json(app, `/v1/users/${user.id}/recommendations`, { bindings })
    const fetched = manifest.shards.users.filter((ref) => reads.has(ref.key))
    expect(fetched).toHaveLength(1)
  })

  it('should never mix two versions in one answer while the live version changes', async () => {
    const a = trainClusteredModel({ version: 'swap-a', itemPrefix: 'a', seed: 1 })
    const b = trainClusteredModel({ version: 'swap-b', itemPrefix: 'b', seed: 2 })
    await publishVersion(env, b, { activate: false })
    await publishVersion(env, a)
    const store = new ModelStore()
    const app = createApp({ store })
    const seen = new Set<string>()
    let flipped = false
    for (let round = 0; round < 12; round++) {
      if (round === 3) {
        await setLive(env, 'swap-b')
        flipped = true
      }
      const batch = await Promise.all(
        Array.from({ length: 16 }, (_, i) => {
          const user = a.users[(round * 16 + i) % a.users.length]!
          return i % 2 === 0
            ? json<RecBody>(app, `/v1/users/${user.id}/recommendations?k=5`)
            : json<RecBody & { itemId: string }>(app, `/v1/items/${i % 4 === 1 ? 'a' : 'b'}-0007/similar?k=5`)
        }),
      )
      for (const { status, body } of batch) {
        if (status === 404) continue // the other version's item id
        expect(status).toBe(200)
        const prefix = body.modelVersion === 'swap-a' ? 'a-' : 'b-'
        seen.add(body.modelVersion!)
        for (const item of body.items) expect(item.itemId.startsWith(prefix)).toBe(true)
      }
      if (flipped && seen.has('swap-b')) break
      await store.settled()
    }
    expect(seen).toEqual(new Set(['swap-a', 'swap-b']))
    expect(store.live?.version).toBe('swap-b')
  })

  it('should keep serving the previous version when a new one has a corrupted shard, and report it', async () => {
    const good = trainClusteredModel({ version: 'corrupt-good' })
    await publishVersion(env, good)
    const store = new ModelStore({ backoffMs: 60_000 })
    const app = createApp({ store })
    expect(
      (await json<RecBody>(app, `/v1/users/${good.users[0]!.id}/recommendations`)).body.modelVersion,
    ).toBe('corrupt-good')

    const bad = trainClusteredModel({ version: 'corrupt-bad', seed: 9 })
    const manifest = await publishVersion(env, bad, {
      tamper: (key, bytes) => (key.endsWith('items-000.shard') ? flipByte(bytes) : bytes),
    })
    for (let i = 0; i < 3; i++) {
      const r = await json<RecBody>(app, `/v1/users/${good.users[1]!.id}/recommendations`)
      expect(r.status).toBe(200)
      expect(r.body.modelVersion).toBe('corrupt-good')
      await store.settled()
    }
    const { body } = await json<ModelBody>(app, '/v1/model')
    expect(body.version).toBe('corrupt-good')
    expect(body.lastError).toMatchObject({ version: 'corrupt-bad', code: 'SHARD_INVALID', attempts: 1 })
    expect(body.lastError!.message).toContain(manifest.shards.items[0]!.key)
    // The backoff (60 s here) keeps the isolate from re-downloading the broken version on every request.
    expect(store.loadCount).toBe(2)
  })

  it('should keep serving the previous version when a shard is missing, and retry after the backoff', async () => {
    let clock = Date.UTC(2026, 10, 24, 12)
    const good = trainClusteredModel({ version: 'missing-good' })
    await publishVersion(env, good)
    const store = new ModelStore({ now: () => clock, backoffMs: 10_000 })
    const app = createApp({ store, now: () => clock })
    await json(app, '/v1/health', { as: null })
    const broken = trainClusteredModel({ version: 'missing-bad', seed: 3 })
    const manifest = await publishVersion(env, broken, {
      tamper: (key, bytes) => (key.endsWith('gram.shard') ? null : bytes),
    })
    await json(app, '/v1/health', { as: null })
    await store.settled()
    let model = await json<ModelBody>(app, '/v1/model')
    expect(model.body.version).toBe('missing-good')
    expect(model.body.lastError).toMatchObject({ version: 'missing-bad', code: 'SHARD_MISSING' })

    // The publisher repairs the version; after the backoff the isolate picks it up.
    await env.MODELS_KV.put(manifest.shards.gram.key, await repairedGram(broken.version))
    clock += 11_000
    await json(app, '/v1/health', { as: null })
    await store.settled()
    model = await json<ModelBody>(app, '/v1/model')
    expect(model.body.version).toBe('missing-bad')
    expect(model.body.lastError).toBeNull()
  })

  it('should report a broken first version and still answer from D1 popularity', async () => {
    const broken = trainClusteredModel({ version: 'cold-broken' })
    await publishVersion(env, broken, {
      tamper: (key, bytes) => (key.endsWith('popularity.shard') ? flipByte(bytes) : bytes),
    })
    const app = createApp()
    const health = await json(app, '/v1/health', { as: null })
    expect(health.body).toEqual({ status: 'ok', modelVersion: null })
    const model = await json<ModelBody>(app, '/v1/model')
    expect(model.body.lastError).toMatchObject({ version: 'cold-broken', code: 'SHARD_INVALID' })
  })

  describe('admin activation and rollback', () => {
    it('should activate a complete version and roll back to the previous one', async () => {
      const v1 = trainClusteredModel({ version: 'admin-v1' })
      const v2 = trainClusteredModel({ version: 'admin-v2', seed: 11 })
      await publishVersion(env, v1)
      await publishVersion(env, v2, { activate: false })
      const app = createApp()
      expect((await json(app, '/v1/health', { as: null })).body.modelVersion).toBe('admin-v1')

      const activated = await json<LivePointer & { shards: number }>(
        app,
        '/v1/admin/models/admin-v2/activate',
        { method: 'POST', as: 'secret' },
      )
      expect(activated.status).toBe(200)
      expect(activated.body).toMatchObject({ version: 'admin-v2', previous: 'admin-v1' })
      expect(activated.body.shards).toBe(3 + 3 + 1) // items + user buckets + popularity, trending, gram
      expect(await env.MODELS_KV.get<LivePointer>(LIVE_POINTER_KEY, 'json')).toMatchObject({
        version: 'admin-v2',
        previous: 'admin-v1',
      })

      const rolled = await json<LivePointer>(app, '/v1/admin/models/rollback', {
        method: 'POST',
        as: 'secret',
      })
      expect(rolled.status).toBe(200)
      expect(rolled.body).toMatchObject({ version: 'admin-v1', previous: 'admin-v2' })
      expect(await env.MODELS_KV.get<LivePointer>(LIVE_POINTER_KEY, 'json')).toMatchObject({
        version: 'admin-v1',
      })
    })

    it('should refuse to activate an incomplete or corrupted version with 409 and leave the pointer alone', async () => {
      const live = trainClusteredModel({ version: 'admin-live' })
      await publishVersion(env, live)
      const bad = trainClusteredModel({ version: 'admin-bad', userBuckets: 4 })
      const manifest = await publishVersion(env, bad, {
        activate: false,
        tamper: (key, bytes) =>
          key.endsWith('users-0002.shard') ? null : key.endsWith('trending.shard') ? flipByte(bytes) : bytes,
      })
      const app = createApp()
      const { status, body } = await json<ErrorBody>(app, '/v1/admin/models/admin-bad/activate', {
        method: 'POST',
        as: 'secret',
      })
      expect(status).toBe(409)
      expect(body.error.code).toBe('MODEL_INVALID')
      expect(body.error.details!.problems).toEqual([
        { key: manifest.shards.trending!.key, code: 'SHARD_CHECKSUM_MISMATCH', message: expect.any(String) },
        { key: manifest.shards.users[2]!.key, code: 'SHARD_MISSING', message: expect.any(String) },
      ])
      expect(await env.MODELS_KV.get<LivePointer>(LIVE_POINTER_KEY, 'json')).toMatchObject({
        version: 'admin-live',
      })
    })

    it('should answer 404 for an unknown version, 400 for a malformed one, 409 for an invalid manifest', async () => {
      const app = createApp()
      const unknown = await json<ErrorBody>(app, '/v1/admin/models/never-published/activate', {
        method: 'POST',
        as: 'secret',
      })
      expect(unknown.status).toBe(404)
      expect(unknown.body.error.code).toBe('MODEL_NOT_FOUND')
      const malformed = await json<ErrorBody>(app, '/v1/admin/models/..bad/activate', {
        method: 'POST',
        as: 'secret',
      })
      expect(malformed.status).toBe(400)
      await env.MODELS_KV.put(manifestKey('bad-manifest'), JSON.stringify({ version: 'bad-manifest' }))
      const invalid = await json<ErrorBody>(app, '/v1/admin/models/bad-manifest/activate', {
        method: 'POST',
        as: 'secret',
      })
      expect(invalid.status).toBe(409)
      expect(invalid.body.error.code).toBe('MODEL_INVALID')
    })

    it('should answer 404 on rollback when no previous version is recorded', async () => {
      await env.MODELS_KV.put(
        LIVE_POINTER_KEY,
        JSON.stringify({ version: 'admin-live', activatedAt: new Date().toISOString() }),
      )
      const app = createApp()
      const { status, body } = await json<ErrorBody>(app, '/v1/admin/models/rollback', {
        method: 'POST',
        as: 'secret',
      })
      expect(status).toBe(404)
      expect(body.error.code).toBe('MODEL_NOT_FOUND')
    })
  })
})

/** Re-encodes the gram shard of a fixture version (what a re-run of the publisher would upload). */
async function repairedGram(version: string): Promise<Uint8Array> {
  const fixture = trainClusteredModel({ version, seed: 3 })
  let gram: Uint8Array | undefined
  await publishVersion(
    {
      MODELS_KV: { put: async () => {} } as unknown as KVNamespace,
      MODELS_R2: { put: async () => {} } as unknown as R2Bucket,
    },
    fixture,
    {
      activate: false,
      tamper: (key, bytes) => {
        if (key.endsWith('gram.shard')) gram = bytes
        return bytes
      },
    },
  )
  return gram!
}
