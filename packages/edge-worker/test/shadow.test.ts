/**
 * Shadow mode (issue 15) in workerd on real D1/KV/R2: the admin API validates; a shadow never
 * changes what is served; the overlap of each compared list matches `listOverlap` of the served
 * list and the candidate's own list; the aggregates are the means of those; deleting a user deletes
 * their overlap rows. The same on the `similar` surface, with one running shadow per surface.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
import type { Experiment } from '../src/experiments/definition.js'
import { listOverlap, type ShadowReport } from '../src/experiments/shadow.js'
import { type ModelFixture, publishVersion, trainClusteredModel } from './fixtures/model.js'
import { env, KEYS } from './helpers.js'

type ListBody = {
  items: { itemId: string }[]
  source: string
  modelVersion: string
  recId: string
  variant: string
}
type ErrorBody = { error: { code: string; details?: { field: string }[] } }

const app = createApp()

async function request<T>(
  path: string,
  init: RequestInit & { as?: keyof typeof KEYS } = {},
): Promise<{ status: number; body: T }> {
  const { as = 'publishable', ...rest } = init
  const headers = new Headers(rest.headers)
  headers.set('authorization', `Bearer ${KEYS[as]}`)
  if (rest.body) headers.set('content-type', 'application/json')
  const ctx = createExecutionContext()
  const response = await app.request(`https://edge.test${path}`, { ...rest, headers }, env, ctx)
  const body = (await response.json()) as T
  // The shadow scores after the answer, in waitUntil; RECORD_FLUSH_MS = 0 writes its row there too.
  await waitOnExecutionContext(ctx)
  return { status: response.status, body }
}

const post = <T>(path: string, body: unknown, as: keyof typeof KEYS = 'secret') =>
  request<T>(path, { method: 'POST', body: JSON.stringify(body), as })

const ids = (body: ListBody) => body.items.map((i) => i.itemId)

async function overlapRows(shadowId: string): Promise<Record<string, number | string>[]> {
  const { results } = await env.DB.prepare('SELECT * FROM shadow_overlaps WHERE shadow_id = ?1')
    .bind(shadowId)
    .all<Record<string, number | string>>()
  return results
}

let fixture: ModelFixture
let users: string[]

beforeAll(async () => {
  fixture = trainClusteredModel({ version: 'shadow-v1' })
  await publishVersion(env, trainClusteredModel({ version: 'shadow-v2', seed: 23 }), { activate: false })
  await publishVersion(env, fixture)
  users = fixture.users.slice(0, 12).map((u) => u.id)
})

describe('POST /v1/admin/shadows', () => {
  it('should validate the definition, the version and the key, and allow one shadow at a time', async () => {
    const bad = await post<ErrorBody>('/v1/admin/shadows', {
      surface: 'search',
      strategy: 'best',
      sample: 0,
      extra: 1,
    })
    expect(bad.status).toBe(400)
    expect(bad.body.error.code).toBe('INVALID_PARAMETER')
    expect(bad.body.error.details?.map((d) => d.field).sort()).toEqual([
      'extra',
      'sample',
      'strategy',
      'surface',
    ])
    const nothing = await post<ErrorBody>('/v1/admin/shadows', {})
    expect(nothing.body.error.details?.map((d) => d.field)).toEqual(['version'])
    const both = await post<ErrorBody>('/v1/admin/shadows', {
      experimentId: 'x',
      variant: 'a',
      version: 'shadow-v2',
    })
    expect(both.status).toBe(400)
    expect((await post<ErrorBody>('/v1/admin/shadows', { version: 'no-such-version' })).body.error.code).toBe(
      'MODEL_NOT_FOUND',
    )
    expect(
      (await post<ErrorBody>('/v1/admin/shadows', { experimentId: 'nope', variant: 'a' })).body.error.code,
    ).toBe('EXPERIMENT_NOT_FOUND')
    expect((await post<ErrorBody>('/v1/admin/shadows', { version: 'shadow-v2' }, 'publishable')).status).toBe(
      403,
    )
    expect((await request<ErrorBody>('/v1/admin/shadows/nope', { as: 'secret' })).body.error.code).toBe(
      'SHADOW_NOT_FOUND',
    )

    const first = await post<ShadowReport>('/v1/admin/models/shadow-v2/shadow', { sample: 0.5 })
    expect(first.status).toBe(201)
    expect(first.body).toMatchObject({
      status: 'running',
      version: 'shadow-v2',
      strategy: 'model',
      sample: 0.5,
    })
    const second = await post<ErrorBody>('/v1/admin/shadows', { strategy: 'popular' })
    expect(second).toMatchObject({ status: 409, body: { error: { code: 'SHADOW_CONFLICT' } } })
    const stopped = await post<ShadowReport>(`/v1/admin/shadows/${first.body.id}/stop`, {})
    expect(stopped.body).toMatchObject({ status: 'stopped', overlap: { comparisons: 0 } })
  })

  it('should take the strategy and version of an experiment variant', async () => {
    const experiment = await post<Experiment>('/v1/admin/experiments', {
      name: 'to shadow',
      surface: 'recommendations',
      variants: [
        { name: 'live', weight: 1, strategy: 'model' },
        { name: 'v2-nofold', weight: 1, strategy: 'model-no-fold-in', version: 'shadow-v2' },
      ],
    })
    const shadow = await post<ShadowReport>('/v1/admin/shadows', {
      experimentId: experiment.body.id,
      variant: 'v2-nofold',
    })
    expect(shadow.body).toMatchObject({
      status: 'running',
      strategy: 'model-no-fold-in',
      version: 'shadow-v2',
      name: 'shadow v2-nofold',
      sample: 1,
    })
    await post(`/v1/admin/shadows/${shadow.body.id}/stop`, {})
  })
})

describe('shadow mode on the request path', () => {
  it('should record the overlap with the candidate and never change what is served', async () => {
    // What the live model serves, and what the candidate (shadow-v2) serves, to each person, with no shadow.
    const live = new Map<string, ListBody>()
    for (const user of users)
      live.set(user, (await request<ListBody>(`/v1/users/${user}/recommendations?k=6`)).body)
    const experiment = await post<Experiment>('/v1/admin/experiments', {
      name: 'candidate lists',
      surface: 'recommendations',
      variants: [
        { name: 'a', weight: 1, strategy: 'model', version: 'shadow-v2' },
        { name: 'b', weight: 1, strategy: 'model', version: 'shadow-v2' },
      ],
    })
    await post(`/v1/admin/experiments/${experiment.body.id}/start`, {})
    const candidate = new Map<string, string[]>()
    for (const user of users) {
      const { body } = await request<ListBody>(`/v1/users/${user}/recommendations?k=6`)
      expect(body.modelVersion).toBe('shadow-v2')
      candidate.set(user, ids(body))
    }
    await post(`/v1/admin/experiments/${experiment.body.id}/stop`, {})

    const shadow = (
      await post<ShadowReport>('/v1/admin/shadows', { version: 'shadow-v2', name: 'v2 in shadow' })
    ).body
    const served = new Map<string, ListBody>()
    for (const user of users) {
      const { status, body } = await request<ListBody>(`/v1/users/${user}/recommendations?k=6`)
      expect(status).toBe(200)
      // Served exactly as without the shadow: the live version, its items, its source.
      expect(body).toMatchObject({
        modelVersion: 'shadow-v1',
        variant: 'live',
        source: live.get(user)!.source,
      })
      expect(ids(body)).toEqual(ids(live.get(user)!))
      served.set(user, body)
    }
    // The two versions disagree somewhere, so the test can tell the candidate's list from the served one.
    expect(users.some((u) => ids(served.get(u)!).join() !== candidate.get(u)!.join())).toBe(true)

    const rows = await overlapRows(shadow.id)
    expect(rows).toHaveLength(users.length)
    const expected = users.map((user) => {
      const body = served.get(user)!
      const o = listOverlap(ids(body), candidate.get(user)!)!
      const row = rows.find((r) => r.rec_id === body.recId)!
      expect(row).toMatchObject({ user_key: user, k: o.k, common: o.common })
      expect(row.jaccard).toBeCloseTo(o.jaccard, 10)
      expect(row.average_overlap).toBeCloseTo(o.averageOverlap, 10)
      return o
    })
    const mean = (f: (o: (typeof expected)[number]) => number) =>
      expected.reduce((sum, o) => sum + f(o), 0) / expected.length
    const report = (await request<ShadowReport>(`/v1/admin/shadows/${shadow.id}`, { as: 'secret' })).body
    expect(report.overlap.comparisons).toBe(users.length)
    expect(report.overlap.overlapAtK).toBeCloseTo(
      mean((o) => o.common / o.k),
      10,
    )
    expect(report.overlap.jaccard).toBeCloseTo(
      mean((o) => o.jaccard),
      10,
    )
    expect(report.overlap.averageOverlap).toBeCloseTo(
      mean((o) => o.averageOverlap),
      10,
    )
    expect(report.overlap.identical).toBe(expected.filter((o) => o.averageOverlap === 1).length)
    expect(report.days).toHaveLength(1)
    expect(report.days[0]!.comparisons).toBe(users.length)

    // The runtime figures carry it too.
    const metrics = await request<{ shadows: ShadowReport[] }>('/v1/admin/metrics', { as: 'secret' })
    expect(metrics.body.shadows.find((s) => s.id === shadow.id)?.overlap.comparisons).toBe(users.length)

    // Deleting a person deletes their overlap rows.
    const deleted = await request<{ deleted: { shadowOverlaps: number } }>(`/v1/admin/users/${users[0]}`, {
      method: 'DELETE',
      as: 'secret',
    })
    expect(deleted.body.deleted.shadowOverlaps).toBe(1)
    expect((await overlapRows(shadow.id)).some((r) => r.user_key === users[0])).toBe(false)

    // Stopped: no more comparisons.
    await post(`/v1/admin/shadows/${shadow.id}/stop`, {})
    await request(`/v1/users/${users[1]}/recommendations?k=6`)
    expect(await overlapRows(shadow.id)).toHaveLength(users.length - 1)
  })

  it('should find identical lists when the candidate is the live model itself', async () => {
    const shadow = (await post<ShadowReport>('/v1/admin/shadows', { strategy: 'model' })).body
    for (const user of users.slice(2, 6)) await request(`/v1/users/${user}/recommendations?k=5`)
    const report = (await request<ShadowReport>(`/v1/admin/shadows/${shadow.id}`, { as: 'secret' })).body
    expect(report.overlap).toEqual({
      comparisons: 4,
      overlapAtK: 1,
      jaccard: 1,
      averageOverlap: 1,
      identical: 4,
    })
    await post(`/v1/admin/shadows/${shadow.id}/stop`, {})
  })
})

describe('shadow mode on similar', () => {
  const similar = (item: string, user?: string) =>
    request<ListBody>(`/v1/items/${item}/similar?k=6${user ? `&userId=${user}` : ''}`)

  it('should validate the surface and its strategies, and allow one shadow per surface', async () => {
    const noFold = await post<ErrorBody>('/v1/admin/shadows', {
      surface: 'similar',
      strategy: 'model-no-fold-in',
    })
    expect(noFold.status).toBe(400)
    expect(noFold.body.error.details?.map((d) => d.field)).toEqual(['strategy'])
    // A recommendations variant that similar cannot serve (no user to fold in).
    const experiment = await post<Experiment>('/v1/admin/experiments', {
      name: 'no fold-in',
      surface: 'recommendations',
      variants: [
        { name: 'a', weight: 1, strategy: 'model' },
        { name: 'nofold', weight: 1, strategy: 'model-no-fold-in' },
      ],
    })
    const fromVariant = await post<ErrorBody>('/v1/admin/shadows', {
      experimentId: experiment.body.id,
      variant: 'nofold',
      surface: 'similar',
    })
    expect(fromVariant.status).toBe(400)
    expect(fromVariant.body.error.details?.map((d) => d.field)).toEqual(['variant'])

    const onRecs = await post<ShadowReport>('/v1/admin/shadows', { strategy: 'popular' })
    const onSimilar = await post<ShadowReport>('/v1/admin/models/shadow-v2/shadow', { surface: 'similar' })
    expect(onRecs).toMatchObject({ status: 201, body: { surface: 'recommendations' } })
    expect(onSimilar).toMatchObject({ status: 201, body: { surface: 'similar', version: 'shadow-v2' } })
    const second = await post<{ error: { code: string; message: string } }>('/v1/admin/shadows', {
      surface: 'similar',
      strategy: 'popular',
    })
    expect(second).toMatchObject({ status: 409, body: { error: { code: 'SHADOW_CONFLICT' } } })
    expect(second.body.error.message).toContain('similar')

    // Each shadow compares only the lists of its own surface.
    await request(`/v1/users/${users[0]}/recommendations?k=4`)
    await similar(fixture.itemIds[0]!)
    expect(await overlapRows(onRecs.body.id)).toHaveLength(1)
    const rows = await overlapRows(onSimilar.body.id)
    expect(rows).toHaveLength(1)
    expect(rows[0]!.user_key).toBeNull()
    await post(`/v1/admin/shadows/${onRecs.body.id}/stop`, {})
    await post(`/v1/admin/shadows/${onSimilar.body.id}/stop`, {})
  })

  it('should record the overlap with the candidate similar list and never change what is served', async () => {
    const seeds = fixture.itemIds.slice(0, 8)
    const viewer = users[3]!
    const live = new Map<string, ListBody>()
    for (const item of seeds) live.set(item, (await similar(item)).body)
    // The candidate's own similar lists (shadow-v2), served through an experiment on similar.
    const experiment = await post<Experiment>('/v1/admin/experiments', {
      name: 'candidate similar lists',
      surface: 'similar',
      variants: [
        { name: 'a', weight: 1, strategy: 'model', version: 'shadow-v2' },
        { name: 'b', weight: 1, strategy: 'model', version: 'shadow-v2' },
      ],
    })
    await post(`/v1/admin/experiments/${experiment.body.id}/start`, {})
    const candidate = new Map<string, string[]>()
    for (const item of seeds) {
      const { body } = await similar(item, viewer)
      expect(body.modelVersion).toBe('shadow-v2')
      candidate.set(item, ids(body))
    }
    await post(`/v1/admin/experiments/${experiment.body.id}/stop`, {})

    const shadow = (
      await post<ShadowReport>('/v1/admin/shadows', { version: 'shadow-v2', surface: 'similar' })
    ).body
    const served = new Map<string, ListBody>()
    for (const [n, item] of seeds.entries()) {
      // Half the requests name a viewer, half do not.
      const { status, body } = await similar(item, n % 2 ? viewer : undefined)
      expect(status).toBe(200)
      expect(body).toMatchObject({
        modelVersion: 'shadow-v1',
        variant: 'live',
        source: live.get(item)!.source,
      })
      expect(ids(body)).toEqual(ids(live.get(item)!))
      served.set(item, body)
    }
    expect(seeds.some((i) => ids(served.get(i)!).join() !== candidate.get(i)!.join())).toBe(true)

    const rows = await overlapRows(shadow.id)
    expect(rows).toHaveLength(seeds.length)
    for (const [n, item] of seeds.entries()) {
      const body = served.get(item)!
      const o = listOverlap(ids(body), candidate.get(item)!)!
      const row = rows.find((r) => r.rec_id === body.recId)!
      expect(row).toMatchObject({ user_key: n % 2 ? viewer : null, k: o.k, common: o.common })
      expect(row.jaccard).toBeCloseTo(o.jaccard, 10)
      expect(row.average_overlap).toBeCloseTo(o.averageOverlap, 10)
    }
    const report = (await request<ShadowReport>(`/v1/admin/shadows/${shadow.id}`, { as: 'secret' })).body
    expect(report).toMatchObject({ surface: 'similar', overlap: { comparisons: seeds.length } })
    await post(`/v1/admin/shadows/${shadow.id}/stop`, {})
    await similar(seeds[0]!)
    expect(await overlapRows(shadow.id)).toHaveLength(seeds.length)
  })

  it('should find identical similar lists when the candidate is the live model itself', async () => {
    const shadow = (await post<ShadowReport>('/v1/admin/shadows', { surface: 'similar', strategy: 'model' }))
      .body
    for (const item of fixture.itemIds.slice(10, 13)) await similar(item)
    const report = (await request<ShadowReport>(`/v1/admin/shadows/${shadow.id}`, { as: 'secret' })).body
    expect(report.overlap).toEqual({
      comparisons: 3,
      overlapAtK: 1,
      jaccard: 1,
      averageOverlap: 1,
      identical: 3,
    })
    await post(`/v1/admin/shadows/${shadow.id}/stop`, {})
  })
})
