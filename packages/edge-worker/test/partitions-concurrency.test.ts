import { partitionListsKey } from '@edgerec/core'
import { describe, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
import { ModelStore } from '../src/model/model-store.js'
import { type ModelFixture, publishVersion, scatteredFixture } from './fixtures/model.js'
import { env, json } from './helpers.js'

/** 6k items × 16 dims around 30 centres; users near an item. */
function fixture(version: string): ModelFixture {
  return scatteredFixture(version, {
    items: 6_000,
    dims: 16,
    centres: 30,
    users: 12,
    seed: 47,
    itemPrefix: 'c-',
    userPrefix: 'conc-user-',
    userBuckets: 1,
  })
}

/** What a request answers, or `'hung'` when it has not answered within `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'hung'> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const hung = new Promise<'hung'>((done) => {
    timer = setTimeout(() => done('hung'), ms)
  })
  try {
    return await Promise.race([promise, hung])
  } finally {
    clearTimeout(timer)
  }
}

describe('partition lists under concurrent requests', () => {
  it("should not make a request wait on another request's ranged read that never completes", async () => {
    // Request A's ranged reads of the lists object stall (in production: a request that was
    // cancelled — the client went away — whose R2 reads workerd cancels with it). Request B wants
    // the same lists while A's reads are in flight. Before the fix B awaited A's read: it never
    // answered, and under `wrangler dev` workerd cancelled it as hung, a 500 (3–10 per 1M
    // benchmark run, at the end of each autocannon run). B must read for itself and answer.
    await publishVersion(env, fixture('conc-v1'), { storage: 'r2', partitions: { lists: 60, nprobe: 60 } })
    const listsKey = partitionListsKey('conc-v1')
    const app = createApp({ store: new ModelStore() })
    // Load the model and the user bucket first (not the lists: nothing probes on /v1/model).
    expect((await json(app, '/v1/model')).status).toBe(200)
    let release = () => {}
    const stalled = new Promise<void>((done) => {
      release = done
    })
    let stalledReads = 0
    const r2 = env.MODELS_R2
    const stalling = {
      ...env,
      MODELS_R2: {
        get: async (key: string, options?: R2GetOptions) => {
          if (key === listsKey) {
            stalledReads++
            await stalled
          }
          return r2.get(key, options)
        },
      } as unknown as R2Bucket,
    }
    const path = '/v1/users/conc-user-5/recommendations?k=10'
    const a = json<{ source: string; items: unknown[] }>(app, path, { bindings: stalling })
    // Until A has issued its reads (its user bucket and live pointer come first).
    for (let i = 0; i < 200 && stalledReads === 0; i++) await new Promise((done) => setTimeout(done, 5))
    expect(stalledReads).toBeGreaterThan(0)
    const b = await within(json<{ source: string; items: unknown[] }>(app, path), 10_000)
    expect(b).not.toBe('hung')
    if (b === 'hung') return
    expect(b.status).toBe(200)
    expect(b.body.source).toBe('model')
    expect(b.body.items).toHaveLength(10)
    release()
    const late = await a
    expect(late.status).toBe(200)
    expect(late.body.items).toHaveLength(10)
  })
})
