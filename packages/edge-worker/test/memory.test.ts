import { describe, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
import { ModelStore } from '../src/model/model-store.js'
import { type FixtureUser, type ModelFixture, publishVersion, rng } from './fixtures/model.js'
import { env, json } from './helpers.js'

const MiB = 1024 * 1024

/** A 100k-item × 64-dim model with 20k users in 8 buckets, random factors. */
function largeFixture(version: string): ModelFixture {
  const items = 100_000
  const dims = 64
  const random = rng(99)
  const itemFactors = Float32Array.from({ length: items * dims }, () => random() - 0.5)
  const users: FixtureUser[] = Array.from({ length: 20_000 }, (_, u) => ({
    id: `big-user-${u}`,
    cluster: -1,
    vector: Float32Array.from({ length: dims }, () => random() - 0.5),
    interactions: Array.from({ length: 20 }, () => ({ index: Math.floor(random() * items), confidence: 2 })),
  }))
  return {
    version,
    dims,
    itemIds: Array.from({ length: items }, (_, i) => `sku-${String(i).padStart(6, '0')}`),
    itemFactors,
    itemCluster: new Int32Array(items).fill(-1),
    users,
    alpha: 2,
    lambda: 0.05,
    eventWeights: { view: 1, purchase: 4 },
    trainedUntil: Date.UTC(2026, 9, 1),
    userBuckets: 8,
  }
}

describe('memory budget of a 100k × 64 model', () => {
  it('should hold the model and its caches well under the 128 MB isolate limit', async () => {
    const fixture = largeFixture('memory-100k')
    const manifest = await publishVersion(env, fixture, { storage: 'r2' })
    const store = new ModelStore()
    const app = createApp({ store })
    const userCacheMiB = 2
    const bindings = { ...env, USER_CACHE_MIB: String(userCacheMiB) }

    // Touch every bucket (users spread over all 8) and ask similar items.
    for (let u = 0; u < 64; u++) {
      const { status, body } = await json<{ source: string; items: unknown[] }>(
        app,
        `/v1/users/big-user-${u * 311}/recommendations?k=10`,
        { bindings },
      )
      expect(status).toBe(200)
      expect(body.source).toBe('model')
      expect(body.items).toHaveLength(10)
    }
    expect((await json(app, '/v1/items/sku-004242/similar?k=10', { bindings })).status).toBe(200)

    const memory = store.live!.memory()
    const shardBytes = [
      ...manifest.shards.items,
      manifest.shards.popularity,
      manifest.shards.trending!,
      manifest.shards.gram,
    ].reduce((sum, ref) => sum + ref.bytes, 0)
    console.info(
      `100k × 64 model in the store: shards ${(memory.shards / MiB).toFixed(2)} MiB, item id index ${(memory.itemIdIndex / MiB).toFixed(2)} MiB (estimated), user cache ${(memory.userCache / MiB).toFixed(2)} MiB (bound ${userCacheMiB} MiB), total ${(memory.total / MiB).toFixed(2)} MiB`,
    )
    // Shard buffers are accounted exactly: the bytes the manifest lists, nothing copied.
    expect(memory.shards).toBe(shardBytes)
    // The user cache respects its byte bound although the buckets used hold more than the bound.
    const allBuckets = manifest.shards.users.reduce((sum, ref) => sum + ref.bytes, 0)
    expect(allBuckets).toBeGreaterThan(userCacheMiB * MiB)
    expect(memory.userCache).toBeLessThanOrEqual(userCacheMiB * MiB)
    expect(memory.userCache).toBeGreaterThan(0)
    // Budget: the whole store under 48 MiB, leaving > 60 % of 128 MB for requests and the runtime.
    expect(memory.total).toBeLessThan(48 * MiB)

    const budget = await json<{ memory: { total: number } }>(app, '/v1/model', { bindings })
    expect(budget.body.memory.total).toBe(store.live!.memory().total)
  })
})
