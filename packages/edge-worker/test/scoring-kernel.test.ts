import { quantizeVector, recommendTopK, similarItems } from '@edgerec/core'
import { describe, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
import { loadModel } from '../src/model/loaded-model.js'
import { ModelStore } from '../src/model/model-store.js'
import { type ModelFixture, publishVersion, rng } from './fixtures/model.js'
import { env, json } from './helpers.js'

/** 20k items × 48 dims in several shards, random factors, a few users. */
function fixture(version: string): ModelFixture {
  const items = 20_000
  const dims = 48
  const random = rng(5)
  return {
    version,
    dims,
    itemIds: Array.from({ length: items }, (_, i) => `k-${i}`),
    itemFactors: Float32Array.from({ length: items * dims }, () => random() - 0.5),
    itemCluster: new Int32Array(items).fill(-1),
    users: Array.from({ length: 12 }, (_, u) => ({
      id: `kernel-user-${u}`,
      cluster: -1,
      vector: Float32Array.from({ length: dims }, () => random() - 0.5),
      interactions: [{ index: u * 13, confidence: 2 }],
    })),
    alpha: 2,
    lambda: 0.05,
    eventWeights: { view: 1 },
    trainedUntil: Date.UTC(2026, 9, 1),
    userBuckets: 2,
  }
}

describe('scoring kernel in workerd', () => {
  it('should score with the bundled relaxed-SIMD Wasm module and rank exactly as the JS kernel', async () => {
    const manifest = await publishVersion(env, fixture('kernel-v1'), {
      storage: 'r2',
      maxItemShardBytes: 400_000,
    })
    expect(manifest.shards.items.length).toBeGreaterThan(2)
    const options = { userCacheBytes: 1 << 20, now: Date.now }
    const wasm = await loadModel(env, manifest, { ...options, scoringKernel: 'auto' })
    const js = await loadModel(env, manifest, { ...options, scoringKernel: 'js' })
    expect(wasm.kernel.isa).toBe('relaxed-simd')
    expect(js.kernel.isa).toBe('js')
    // The Wasm kernel holds the factors in its own memory, and the model accounts for it.
    expect(wasm.memory().kernel).toBeGreaterThanOrEqual(20_000 * 48)
    expect(js.memory().kernel).toBe(0)

    const random = rng(17)
    for (let q = 0; q < 10; q++) {
      const user = quantizeVector(Float32Array.from({ length: 48 }, () => random() - 0.5))
      const exclude = new Set([q, q * 100, 19_999])
      const a = recommendTopK(user, wasm.blocks, 25, exclude, wasm.kernel)
      const b = recommendTopK(user, js.blocks, 25, exclude, js.kernel)
      expect(Array.from(a.indices)).toEqual(Array.from(b.indices))
      expect(Array.from(a.scores)).toEqual(Array.from(b.scores))
      const sa = similarItems(wasm.blocks, q * 1999, 10, undefined, wasm.kernel)!
      const sb = similarItems(js.blocks, q * 1999, 10, undefined, js.kernel)!
      expect(Array.from(sa.indices)).toEqual(Array.from(sb.indices))
    }
  })

  it('should serve the same recommendations with SCORING_KERNEL=js and report the kernel in /v1/model', async () => {
    await publishVersion(env, fixture('kernel-v2'), { storage: 'r2' })
    const answers: Record<string, unknown>[] = []
    for (const kernel of ['auto', 'js']) {
      const app = createApp({ store: new ModelStore() })
      const bindings = { ...env, SCORING_KERNEL: kernel }
      const status = await json<{ version: string; scoringKernel: string }>(app, '/v1/model', { bindings })
      expect(status.body.version).toBe('kernel-v2')
      expect(status.body.scoringKernel).toBe(kernel === 'js' ? 'js' : 'relaxed-simd')
      for (let u = 0; u < 4; u++) {
        const { status: code, body } = await json(app, `/v1/users/kernel-user-${u}/recommendations?k=10`, {
          bindings,
        })
        expect(code).toBe(200)
        expect(body.source).toBe('model')
        answers.push({ kernel, u, items: body.items })
      }
      const similar = await json(app, '/v1/items/k-42/similar?k=10', { bindings })
      answers.push({ kernel, similar: similar.body.items })
    }
    const half = answers.length / 2
    for (let i = 0; i < half; i++) {
      const { kernel: _a, ...auto } = answers[i]!
      const { kernel: _b, ...js } = answers[half + i]!
      expect(auto).toEqual(js)
    }
  })
})
