import { quantizeVector, recallAtK, recommendTopK, similarItems } from '@edgerec/core'
import { describe, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
import { loadModel } from '../src/model/loaded-model.js'
import { ModelStore } from '../src/model/model-store.js'
import { type ModelFixture, publishVersion, rng } from './fixtures/model.js'
import { env, json } from './helpers.js'

/** 12k items × 32 dims around 60 centres; users near an item (their taste). */
function fixture(version: string): ModelFixture {
  const items = 12_000
  const dims = 32
  const random = rng(31)
  const centres = Float32Array.from({ length: 60 * dims }, () => random() * 2 - 1)
  const itemFactors = new Float32Array(items * dims)
  for (let i = 0; i < items; i++) {
    const c = Math.floor(random() * 60)
    for (let d = 0; d < dims; d++) itemFactors[i * dims + d] = centres[c * dims + d]! + (random() - 0.5) * 0.5
  }
  return {
    version,
    dims,
    itemIds: Array.from({ length: items }, (_, i) => `p-${i}`),
    itemFactors,
    itemCluster: new Int32Array(items).fill(-1),
    users: Array.from({ length: 30 }, (_, u) => {
      const near = Math.floor(random() * items)
      return {
        id: `part-user-${u}`,
        cluster: -1,
        vector: Float32Array.from(
          { length: dims },
          (_, d) => itemFactors[near * dims + d]! + (random() - 0.5) * 0.3,
        ),
        interactions: [{ index: near, confidence: 2 }],
      }
    }),
    alpha: 2,
    lambda: 0.05,
    eventWeights: { view: 1 },
    trainedUntil: Date.UTC(2026, 9, 1),
    userBuckets: 2,
  }
}

describe('partitioned retrieval in workerd', () => {
  it('should probe the partitions and match the exact top-10 on most queries, with exclusions', async () => {
    const manifest = await publishVersion(env, fixture('part-v1'), {
      storage: 'r2',
      activate: false,
      partitions: { lists: 110, nprobe: 12 },
    })
    const model = await loadModel(env, manifest, { userCacheBytes: 1 << 20, now: Date.now })
    expect(model.partitions?.rowCount).toBe(110)
    expect(model.nprobe).toBe(12)
    expect(model.memory().shards).toBeGreaterThanOrEqual(manifest.shards.partitions!.bytes)
    const random = rng(8)
    let recall = 0
    let equal = 0
    const queries = 60
    for (let q = 0; q < queries; q++) {
      const near = Math.floor(random() * 12_000)
      const y = new Float64Array(32)
      model.readItem(near, y)
      const user = quantizeVector(Array.from(y, (v) => v + (random() - 0.5) * 0.3))
      const exclude = new Set([near])
      const exact = recommendTopK(user, model.blocks, 10, exclude, model.kernel)
      const probed = model.topK(user, 10, exclude)
      expect(Array.from(probed.indices)).not.toContain(near)
      recall += recallAtK(exact.indices, probed.indices)
      if (Array.from(probed.indices).join() === Array.from(exact.indices).join()) equal++
      const similar = model.similar(near, 10)!
      const exactSimilar = similarItems(model.blocks, near, 10, undefined, model.kernel)!
      recall += recallAtK(exactSimilar.indices, similar.indices)
    }
    expect(recall / (2 * queries)).toBeGreaterThanOrEqual(0.95)
    expect(equal).toBeGreaterThan(queries * 0.7)
    // PARTITION_NPROBE = every partition: the exact answer.
    const all = await loadModel(env, manifest, {
      userCacheBytes: 1 << 20,
      now: Date.now,
      partitionNprobe: 999,
    })
    expect(all.nprobe).toBe(110)
    const user = quantizeVector(Array.from({ length: 32 }, (_, d) => Math.sin(d)))
    expect(Array.from(all.topK(user, 20).indices)).toEqual(
      Array.from(recommendTopK(user, all.blocks, 20, undefined, all.kernel).indices),
    )
  })

  it('should serve routes from a partitioned version and leave an unpartitioned one on the exact scan', async () => {
    const plain = await publishVersion(env, fixture('part-plain'), { storage: 'r2', activate: false })
    const plainModel = await loadModel(env, plain, { userCacheBytes: 1 << 20, now: Date.now })
    expect(plainModel.partitions).toBeUndefined()
    expect(plainModel.nprobe).toBe(0)
    const user = quantizeVector(Array.from({ length: 32 }, (_, d) => Math.cos(d)))
    const exact = recommendTopK(user, plainModel.blocks, 10, undefined, plainModel.kernel)
    expect(plainModel.topK(user, 10)).toEqual(exact)

    await publishVersion(env, fixture('part-v2'), { storage: 'r2', partitions: { lists: 110, nprobe: 12 } })
    const answers: string[][] = []
    for (const nprobe of ['', '110']) {
      const app = createApp({ store: new ModelStore() })
      const bindings = { ...env, PARTITION_NPROBE: nprobe }
      for (let u = 0; u < 10; u++) {
        const { status, body } = await json<{ source: string; items: { itemId: string }[] }>(
          app,
          `/v1/users/part-user-${u}/recommendations?k=10`,
          { bindings },
        )
        expect(status).toBe(200)
        expect(body.source).toBe('model')
        expect(body.items).toHaveLength(10)
        answers.push(body.items.map((i) => i.itemId))
      }
      const similar = await json<{ items: { itemId: string }[] }>(app, '/v1/items/p-42/similar?k=10', {
        bindings,
      })
      expect(similar.status).toBe(200)
      expect(similar.body.items.map((i) => i.itemId)).not.toContain('p-42')
    }
    // Default nprobe (12 of 110) vs every partition (exact): recall@10 over the users.
    let recall = 0
    for (let u = 0; u < 10; u++) {
      const exactIds = new Set(answers[10 + u])
      recall += answers[u]!.filter((id) => exactIds.has(id)).length / 10
    }
    expect(recall / 10).toBeGreaterThanOrEqual(0.9)
  })
})
