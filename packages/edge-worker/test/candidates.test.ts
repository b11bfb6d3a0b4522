/**
 * Precomputed candidates (issue 16): a trained user without events since training is answered from
 * the candidates in their bucket, without reading any partition list; the scan answers whenever the
 * candidates cannot (too few pass, rules or diversity, fold-in).
 */
import { describe, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
import { loadModel } from '../src/model/loaded-model.js'
import { ModelStore } from '../src/model/model-store.js'
import { type ModelFixture, publishVersion, scatteredFixture } from './fixtures/model.js'
import { env, event, json, sendEvents } from './helpers.js'

/** 12k items × 32 dims around 60 centres; 30 users near an item, each with that item trained. */
function fixture(version: string): ModelFixture {
  return scatteredFixture(version, {
    items: 12_000,
    dims: 32,
    centres: 60,
    users: 30,
    seed: 41,
    itemPrefix: 'c-',
    userPrefix: 'cand-user-',
    userBuckets: 2,
  })
}

type Answer = { source: string; items: { itemId: string; score: number }[] }

async function listReads(app: ReturnType<typeof createApp>): Promise<number> {
  const { body } = await json<{ partitions: { fetches: number } }>(app, '/v1/model')
  return body.partitions.fetches
}

describe('precomputed candidates in workerd', () => {
  it("should answer a trained user's exact top k from the bucket, reading no list", async () => {
    await publishVersion(env, fixture('cand-v1'), {
      storage: 'r2',
      partitions: { lists: 110, nprobe: 12 },
      candidates: 20,
    })
    const exact = await loadModel(
      env,
      await publishVersion(env, fixture('cand-exact'), { storage: 'r2', activate: false }),
      {
        userCacheBytes: 1 << 20,
        now: Date.now,
      },
    )
    const app = createApp({ store: new ModelStore() })
    const before = await listReads(app)
    for (let u = 0; u < 10; u++) {
      const { status, body } = await json<Answer>(app, `/v1/users/cand-user-${u}/recommendations?k=10`)
      expect(status).toBe(200)
      expect(body.source).toBe('model')
      const user = (await exact.findUser(env, `cand-user-${u}`, Date.now()))!
      const trained = new Set(exact.userInteractions(user).map((i) => i.index))
      const want = exact.topK(exact.userVector(user), 10, trained)
      expect(body.items.map((i) => i.itemId)).toEqual(Array.from(want.indices, (i) => exact.itemId(i)))
      expect(body.items.map((i) => i.score)).toEqual(Array.from(want.scores))
    }
    expect(await listReads(app)).toBe(before)
    const status = await json<{ candidates: { perUser: number; answered: number } | null }>(app, '/v1/model')
    expect(status.body.candidates).toMatchObject({ perUser: 20, answered: 10 })
  })

  it('should scan the probed lists when too few candidates pass, with diversity, and for fold-in', async () => {
    await publishVersion(env, fixture('cand-v2'), {
      storage: 'r2',
      partitions: { lists: 110, nprobe: 12 },
      candidates: 12,
    })
    const app = createApp({ store: new ModelStore() })
    const first = await json<Answer>(app, '/v1/users/cand-user-3/recommendations?k=10')
    expect(first.status).toBe(200)
    const reads = await listReads(app)
    // Excluding 5 of the 12 candidates leaves 7 < k: the scan answers, without the excluded items.
    const excluded = first.body.items.slice(0, 5).map((i) => i.itemId)
    const fewer = await json<Answer>(
      app,
      `/v1/users/cand-user-3/recommendations?k=10&exclude=${excluded.join(',')}`,
    )
    expect(fewer.status).toBe(200)
    expect(fewer.body.source).toBe('model')
    expect(fewer.body.items).toHaveLength(10)
    for (const id of excluded) expect(fewer.body.items.map((i) => i.itemId)).not.toContain(id)
    // Same order as the candidates for the items they hold (the scan ranks them the same way).
    expect(fewer.body.items.slice(0, 5).map((i) => i.itemId)).toEqual(
      first.body.items.slice(5, 10).map((i) => i.itemId),
    )
    const afterExclude = await listReads(app)
    expect(afterExclude).toBeGreaterThan(reads)

    // Diversity reranks a pool larger than k: the scan, not the candidates.
    const diverse = await json<Answer>(app, '/v1/users/cand-user-4/recommendations?k=10&diversity=0.3')
    expect(diverse.status).toBe(200)
    expect(diverse.body.items).toHaveLength(10)
    const afterDiversity = await listReads(app)
    expect(afterDiversity).toBeGreaterThan(afterExclude)

    // Events since training change the vector: fold-in scans.
    await sendEvents(app, [event({ userId: 'cand-user-5', itemId: 'c-17' })])
    const folded = await json<Answer>(app, '/v1/users/cand-user-5/recommendations?k=10')
    expect(folded.status).toBe(200)
    expect(folded.body.source).toBe('fold-in')
    expect(await listReads(app)).toBeGreaterThan(afterDiversity)
  })
})
