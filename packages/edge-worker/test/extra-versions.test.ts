/**
 * Extra model versions (experiment variants, canaries, shadows) next to the live one, in workerd
 * on real D1/KV/R2 (issue 16, "memory that fits by construction"): a variant whose version does
 * not fit `MODEL_MEMORY_MIB` next to the live one is refused with `MODEL_TOO_LARGE` before it
 * loads, its requests get the live model with 200, `GET /v1/model` reports the refusal; with a
 * larger budget it loads and serves; extra versions load with the live store's options (the
 * partition cache bound); a held version no experiment names is evicted to make room.
 */

import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { checkSwapMemory, planModelMemory } from '@edgerec/core'
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
import { OnlineWrites } from '../src/attribution/online-writes.js'
import { AssignmentCache } from '../src/experiments/assignment.js'
import type { Experiment } from '../src/experiments/definition.js'
import type { OnlineState } from '../src/experiments/serve.js'
import { ExperimentCache } from '../src/experiments/store.js'
import { type ExtraVersionRefusal, type HeldVersion, VersionCache } from '../src/experiments/versions.js'
import { ModelStore } from '../src/model/model-store.js'
import {
  type ModelFixture,
  publishVersion,
  scatteredFixture,
  setLive,
  trainClusteredModel,
} from './fixtures/model.js'
import { env, json, KEYS } from './helpers.js'

const MiB = 1024 * 1024

type ListBody = { modelVersion: string; variant: string; source: string }
type ModelBody = {
  version: string
  extraVersions: {
    max: number
    held: HeldVersion[]
    plannedBytes: number
    lastRefusal: ExtraVersionRefusal | null
  }
}

function onlineState(): OnlineState {
  return {
    experiments: new ExperimentCache(),
    versions: new VersionCache(),
    assignments: new AssignmentCache(),
    writes: new OnlineWrites(),
  }
}

/** Creates and starts an experiment on recommendations: `a` the live model, `b` on `version`. */
async function startExperiment(
  app: ReturnType<typeof createApp>,
  name: string,
  version: string,
): Promise<string> {
  const created = await json<Experiment>(app, '/v1/admin/experiments', {
    method: 'POST',
    as: 'secret',
    body: JSON.stringify({
      name,
      surface: 'recommendations',
      variants: [
        { name: 'a', weight: 1, strategy: 'model' },
        { name: 'b', weight: 1, strategy: 'model', version },
      ],
    }),
  })
  expect(created.status).toBe(201)
  const started = await json(app, `/v1/admin/experiments/${created.body.id}/start`, {
    method: 'POST',
    as: 'secret',
  })
  expect(started.status).toBe(200)
  return created.body.id
}

let live: ModelFixture

beforeAll(async () => {
  live = trainClusteredModel({ version: 'xv-live' })
  await publishVersion(env, trainClusteredModel({ version: 'xv-b', seed: 5 }), { activate: false })
  await publishVersion(env, trainClusteredModel({ version: 'xv-c', seed: 9 }), { activate: false })
  await publishVersion(env, live)
})

// NOTE: the swap test moves the live pointer; every test starts from xv-live.
beforeEach(async () => {
  await setLive(env, 'xv-live')
})

describe('extra versions of experiment variants within MODEL_MEMORY_MIB', () => {
  it('should refuse a variant version that does not fit next to the live one, serve the live model with 200, report it, and load it with a larger budget', async () => {
    const store = new ModelStore()
    const online = onlineState()
    const app = createApp({ store, online })
    // A 5 MiB user cache bound: each version plans ≈ 5.3 MiB resident; live + one extra > 8 MiB.
    const small = { ...env, USER_CACHE_MIB: '5', MODEL_MEMORY_MIB: '8' }
    expect((await json<ModelBody>(app, '/v1/model', { bindings: small })).body.version).toBe('xv-live')
    const plan = planModelMemory(store.live!.manifest, { userCacheBytes: 5 * MiB })
    expect(plan.loadingPeak).toBeLessThanOrEqual(8 * MiB)
    expect(2 * plan.resident).toBeGreaterThan(8 * MiB)
    const id = await startExperiment(app, 'too-large', 'xv-b')

    const users = live.users.slice(0, 16).map((u) => u.id)
    let degraded = 0
    for (const user of users) {
      const { status, body, headers } = await json<ListBody>(app, `/v1/users/${user}/recommendations?k=5`, {
        bindings: small,
      })
      expect(status).toBe(200)
      expect(body.modelVersion).toBe('xv-live')
      expect(body.variant).not.toBe('b')
      if (headers.get('x-edgerec-degraded') === 'variant-unavailable') degraded++
    }
    // About half the people are in `b`; each got the live model (and left the experiment).
    expect(degraded).toBeGreaterThan(0)
    expect(degraded).toBeLessThan(users.length)

    const refused = await json<ModelBody>(app, '/v1/model', { bindings: small })
    expect(refused.body.version).toBe('xv-live')
    expect(refused.body.extraVersions.held).toEqual([])
    const refusal = refused.body.extraVersions.lastRefusal!
    expect(refusal).toMatchObject({ version: 'xv-b', code: 'MODEL_TOO_LARGE', budgetBytes: 8 * MiB })
    expect(refusal.neededBytes).toBeGreaterThan(8 * MiB)
    expect(refusal.message).toContain('next to the live version xv-live')
    expect(refusal.message).toContain('MODEL_MEMORY_MIB')
    expect(refusal.message).toContain('fewer experiments')
    // The live store is not affected: no load error, it keeps serving.
    expect(store.lastError).toBeNull()

    // With room for both, the variant's version loads and serves its people.
    const roomy = { ...small, MODEL_MEMORY_MIB: '16' }
    const served = new Set<string>()
    for (const user of users) {
      const { status, body, headers } = await json<ListBody>(app, `/v1/users/${user}/recommendations?k=5`, {
        bindings: roomy,
      })
      expect(status).toBe(200)
      expect(headers.get('x-edgerec-degraded')).toBeNull()
      served.add(`${body.variant}:${body.modelVersion}`)
    }
    expect([...served].sort()).toEqual(['a:xv-live', 'b:xv-b'])
    const loaded = await json<ModelBody>(app, '/v1/model', { bindings: roomy })
    expect(loaded.body.extraVersions.lastRefusal).toBeNull()
    expect(loaded.body.extraVersions.held).toEqual([
      { version: 'xv-b', plannedBytes: expect.any(Number), loaded: true },
    ])
    expect(loaded.body.extraVersions.plannedBytes).toBeGreaterThan(5 * MiB)
    await json(app, `/v1/admin/experiments/${id}/stop`, { method: 'POST', as: 'secret' })
  })

  it('should evict a held version no running experiment names to make room for the next one', async () => {
    const online = onlineState()
    const app = createApp({ online })
    // Live + one extra fit 12 MiB (≈ 5.3 MiB each); live + two do not.
    const bindings = { ...env, USER_CACHE_MIB: '5', MODEL_MEMORY_MIB: '12' }
    const users = live.users.slice(0, 16).map((u) => u.id)
    const versionsServed = async () => {
      const seen = new Set<string>()
      for (const user of users) {
        const { status, body } = await json<ListBody>(app, `/v1/users/${user}/recommendations?k=5`, {
          bindings,
        })
        expect(status).toBe(200)
        seen.add(body.modelVersion)
      }
      return [...seen].sort()
    }
    const first = await startExperiment(app, 'evict-first', 'xv-b')
    expect(await versionsServed()).toEqual(['xv-b', 'xv-live'])
    await json(app, `/v1/admin/experiments/${first}/stop`, { method: 'POST', as: 'secret' })

    const second = await startExperiment(app, 'evict-second', 'xv-c')
    expect(await versionsServed()).toEqual(['xv-c', 'xv-live'])
    const model = await json<ModelBody>(app, '/v1/model', { bindings })
    expect(model.body.extraVersions.held.map((h) => h.version)).toEqual(['xv-c'])
    expect(model.body.extraVersions.lastRefusal).toBeNull()
    await json(app, `/v1/admin/experiments/${second}/stop`, { method: 'POST', as: 'secret' })
  })

  it('should load an extra version with the live store options (the partition cache bound)', async () => {
    const partitioned = scatteredFixture('xv-part', {
      items: 4_000,
      dims: 16,
      centres: 20,
      users: 16,
      seed: 41,
      itemPrefix: 'item-',
      userPrefix: 'xv-part-user-',
      userBuckets: 2,
    })
    await publishVersion(env, partitioned, {
      storage: 'r2',
      activate: false,
      partitions: { lists: 20, nprobe: 4 },
    })
    const online = onlineState()
    const app = createApp({ online })
    const bindings = { ...env, PARTITION_CACHE_MIB: '1', PARTITION_NPROBE: '3' }
    const id = await startExperiment(app, 'partitioned-variant', 'xv-part')
    const seen = new Set<string>()
    for (const user of live.users.slice(0, 16)) {
      const { status, body } = await json<ListBody>(app, `/v1/users/${user.id}/recommendations?k=5`, {
        bindings,
      })
      expect(status).toBe(200)
      seen.add(body.modelVersion)
    }
    expect(seen.has('xv-part')).toBe(true)
    // The held model is the one that served: its cache has the configured bound, not the 8 MiB default.
    const model = await online.versions.get(env, 'xv-part', {
      userCacheBytes: MiB,
      now: Date.now,
      live: null,
    })
    expect(model.partitions?.cacheBound).toBe(MiB)
    expect(model.partitions?.nprobe).toBe(3)
    await json(app, `/v1/admin/experiments/${id}/stop`, { method: 'POST', as: 'secret' })
  })

  it('should drop the held extra versions when the next live version fits only without them, then reload them next to it', async () => {
    /** 50k items × 32 dims: a few MiB of factors and ids, so the swap's share shows at whole MiB. */
    const sized = (version: string, seed: number) =>
      scatteredFixture(version, {
        items: 50_000,
        dims: 32,
        centres: 20,
        users: 16,
        seed,
        itemPrefix: 'xs-item-',
        userPrefix: 'xs-user-',
        userBuckets: 1,
      })
    const first = sized('xs-1', 1)
    const v1 = await publishVersion(env, first, { storage: 'r2' })
    await publishVersion(env, sized('xs-2', 2), { storage: 'r2', activate: false })
    const plan = planModelMemory(v1, { userCacheBytes: MiB })
    // The extra version's check (live + it) fits the budget; the swap alone fits; the swap next to
    // the held extra version does not.
    const extraNeed = plan.resident + Math.max(plan.resident, plan.loadingPeak - plan.caches)
    const budgetMiB = Math.max(8, Math.ceil(extraNeed / MiB))
    const swap = checkSwapMemory({ version: 'xs-3', plan }, { version: 'xs-1', plan }, budgetMiB * MiB)
    expect(swap.fits).toBe(true)
    expect(swap.needed + plan.resident).toBeGreaterThan(budgetMiB * MiB)
    const store = new ModelStore({ backoffMs: 0 })
    const online = onlineState()
    const app = createApp({ store, online })
    const bindings = { ...env, USER_CACHE_MIB: '1', MODEL_MEMORY_MIB: String(budgetMiB) }
    expect((await json<ModelBody>(app, '/v1/model', { bindings })).body.version).toBe('xs-1')
    const id = await startExperiment(app, 'swap-next-to-extra', 'xs-2')
    const served = async () => {
      const seen = new Set<string>()
      for (const user of first.users) {
        const { status, body } = await json<ListBody>(app, `/v1/users/${user.id}/recommendations?k=5`, {
          bindings,
        })
        expect(status).toBe(200)
        seen.add(body.modelVersion)
      }
      return [...seen].sort()
    }
    expect(await served()).toEqual(['xs-1', 'xs-2'])
    expect(online.versions.held.map((h) => h.version)).toEqual(['xs-2'])

    await publishVersion(env, sized('xs-3', 3), { storage: 'r2' })
    store.invalidate()
    await json(app, '/v1/model', { bindings })
    await store.settled()
    const swapped = await json<ModelBody & { lastError: unknown }>(app, '/v1/model', { bindings })
    expect(swapped.body).toMatchObject({ version: 'xs-3', lastError: null })
    expect(swapped.body.extraVersions.held).toEqual([])
    // The variant's version reloads on demand, checked against the new live version.
    expect(await served()).toEqual(['xs-2', 'xs-3'])
    expect(online.versions.held.map((h) => h.version)).toEqual(['xs-2'])
    await json(app, `/v1/admin/experiments/${id}/stop`, { method: 'POST', as: 'secret' })
  })

  it('should refuse to start a canary, shadow or experiment whose version can never fit, and serve the live model with 200 when one stops fitting', async () => {
    const online = onlineState()
    const app = createApp({ online })
    const small = { ...env, USER_CACHE_MIB: '5', MODEL_MEMORY_MIB: '8' }
    /** A request with an execution context: the shadow's comparison runs in its waitUntil. */
    const recommend = async (user: string) => {
      const ctx = createExecutionContext()
      const response = await app.request(
        `https://edge.test/v1/users/${user}/recommendations?k=5`,
        { headers: { authorization: `Bearer ${KEYS.publishable}` } },
        small,
        ctx,
      )
      await waitOnExecutionContext(ctx)
      return { status: response.status, body: (await response.json()) as ListBody, headers: response.headers }
    }
    // Defined under this budget, each would never load: refused at once, nothing started.
    type ErrorBody = { error: { code: string; message: string } }
    for (const [path, body] of [
      ['/v1/admin/models/xv-b/canary', { share: 0.5 }],
      ['/v1/admin/models/xv-c/shadow', { sample: 1 }],
      [
        '/v1/admin/experiments',
        {
          name: 'never-fits',
          surface: 'recommendations',
          variants: [
            { name: 'a', weight: 1, strategy: 'model' },
            { name: 'b', weight: 1, strategy: 'model', version: 'xv-b' },
          ],
        },
      ],
    ] as const) {
      const refused = await json<ErrorBody>(app, path, {
        method: 'POST',
        as: 'secret',
        body: JSON.stringify(body),
        bindings: small,
      })
      expect(refused.status).toBe(409)
      expect(refused.body.error.code).toBe('MODEL_TOO_LARGE')
      expect(refused.body.error.message).toContain('next to the live version xv-live')
      expect(refused.body.error.message).toContain('Nothing was started')
    }
    const none = await json<Experiment[] | { experiments: Experiment[] }>(app, '/v1/admin/experiments', {
      as: 'secret',
    })
    expect(JSON.stringify(none.body)).not.toContain('"running"')

    // Defined under the default budget, served under the small one (the budget was lowered, or the
    // live version grew): refused when it would load, the live model answers.
    const canary = await json<Experiment>(app, '/v1/admin/models/xv-b/canary', {
      method: 'POST',
      as: 'secret',
      body: JSON.stringify({ share: 0.5 }),
    })
    expect(canary.status).toBe(201)
    let degraded = 0
    for (const user of live.users.slice(0, 16)) {
      const { status, body, headers } = await recommend(user.id)
      expect(status).toBe(200)
      expect(body).toMatchObject({ modelVersion: 'xv-live', variant: 'live' })
      if (headers.get('x-edgerec-degraded') === 'variant-unavailable') degraded++
    }
    expect(degraded).toBeGreaterThan(0)
    const afterCanary = await json<ModelBody>(app, '/v1/model', { bindings: small })
    expect(afterCanary.body.extraVersions.lastRefusal).toMatchObject({
      version: 'xv-b',
      budgetBytes: 8 * MiB,
    })
    await json(app, `/v1/admin/experiments/${canary.body.id}/stop`, { method: 'POST', as: 'secret' })

    // A shadow of another version: compared after the answer, refused the same way, answers unchanged.
    const shadow = await json<{ id: string }>(app, '/v1/admin/models/xv-c/shadow', {
      method: 'POST',
      as: 'secret',
      body: JSON.stringify({ sample: 1 }),
    })
    expect(shadow.status).toBe(201)
    for (const user of live.users.slice(0, 4)) {
      const { status, body } = await recommend(user.id)
      expect(status).toBe(200)
      expect(body.modelVersion).toBe('xv-live')
    }
    const afterShadow = await json<ModelBody>(app, '/v1/model', { bindings: small })
    expect(afterShadow.body.extraVersions.lastRefusal).toMatchObject({
      version: 'xv-c',
      code: 'MODEL_TOO_LARGE',
    })
    expect(afterShadow.body.extraVersions.held).toEqual([])
    await json(app, `/v1/admin/shadows/${shadow.body.id}/stop`, { method: 'POST', as: 'secret' })
  })

  it('should reserve a version as it is checked, so two loading at once cannot both take the room left', async () => {
    const store = new ModelStore()
    const app = createApp({ store })
    const bindings = { ...env, USER_CACHE_MIB: '5', MODEL_MEMORY_MIB: '12' }
    expect((await json<ModelBody>(app, '/v1/model', { bindings })).body.version).toBe('xv-live')
    const versions = new VersionCache()
    const options = {
      userCacheBytes: 5 * MiB,
      modelMemoryBytes: 12 * MiB,
      now: Date.now,
      live: store.live,
      inUse: new Set(['xv-b', 'xv-c']),
    }
    // Live + one extra fit 12 MiB (≈ 5.1 MiB each), live + two do not: exactly one loads.
    const outcomes = await Promise.allSettled([
      versions.get(env, 'xv-b', options),
      versions.get(env, 'xv-c', options),
    ])
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected'])
    const rejected = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult
    expect(rejected.reason).toMatchObject({ code: 'MODEL_TOO_LARGE' })
    expect(versions.held).toHaveLength(1)
    expect(versions.lastRefusal?.message).toContain('the extra versions')
  })
})
