import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
import { MAX_IMPRESSIONS } from '../src/attribution/impressions.js'
import { SIGNED_REC_ID_PATTERN } from '../src/attribution/rec-id.js'
import { hashVariant } from '../src/experiments/assignment.js'
import type { Experiment } from '../src/experiments/definition.js'
import type { ExperimentResults } from '../src/experiments/results.js'
import { type ModelFixture, publishVersion, trainClusteredModel } from './fixtures/model.js'
import { env, event, KEYS } from './helpers.js'

type ListBody = {
  items: { itemId: string }[]
  source: string
  modelVersion: string | null
  recId: string
  variant: string
}
type ErrorBody = { error: { code: string; message: string; details?: { field: string }[] } }

let clock = Date.now()
const app = createApp({ now: () => clock })

/** Calls the app with an execution context and waits for its `waitUntil` work (the served-list write). */
async function request<T>(
  path: string,
  init: RequestInit & { as?: keyof typeof KEYS; bindings?: typeof env } = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const { as = 'publishable', bindings = env, ...rest } = init
  const headers = new Headers(rest.headers)
  headers.set('authorization', `Bearer ${KEYS[as]}`)
  if (rest.body) headers.set('content-type', 'application/json')
  const ctx = createExecutionContext()
  const response = await app.request(`https://edge.test${path}`, { ...rest, headers }, bindings, ctx)
  const body = (await response.json()) as T
  await waitOnExecutionContext(ctx)
  return { status: response.status, body, headers: response.headers }
}

const post = <T>(path: string, body: unknown, as: keyof typeof KEYS = 'secret') =>
  request<T>(path, { method: 'POST', body: JSON.stringify(body), as })

async function sendEvents(events: Record<string, unknown>[]): Promise<void> {
  const { status } = await post('/v1/events', { events }, 'publishable')
  expect(status).toBe(200)
}

async function rowOf(recId: string): Promise<Record<string, unknown> | null> {
  return env.DB.prepare('SELECT * FROM rec_lists WHERE rec_id = ?1').bind(recId).first()
}

async function createExperiment(body: Record<string, unknown>): Promise<Experiment> {
  const { status, body: created } = await post<Experiment>('/v1/admin/experiments', body)
  expect(status).toBe(201)
  return created
}

let fixture: ModelFixture

beforeAll(async () => {
  fixture = trainClusteredModel({ version: 'online-v1' })
  await publishVersion(env, fixture)
  await publishVersion(env, trainClusteredModel({ version: 'online-v2', seed: 11 }), { activate: false })
})

describe('attribution: recId and served lists', () => {
  it('should give every recommendations, similar and popular answer a unique recId and the live variant, stored as one row', async () => {
    const user = fixture.users[3]!.id
    const answers = [
      await request<ListBody>(`/v1/users/${user}/recommendations?k=5`),
      await request<ListBody>(`/v1/users/${user}/recommendations?k=5`),
      await request<ListBody>(`/v1/items/${fixture.itemIds[0]}/similar?k=4&userId=${user}`),
      await request<ListBody>(`/v1/popular?k=3`),
    ]
    const recIds = answers.map((a) => a.body.recId)
    expect(new Set(recIds).size).toBe(4)
    for (const { status, body } of answers) {
      expect(status).toBe(200)
      expect(body.recId).toMatch(SIGNED_REC_ID_PATTERN)
      expect(body.variant).toBe('live')
    }
    const rec = await rowOf(recIds[0]!)
    expect(rec).toMatchObject({
      surface: 'recommendations',
      user_key: user,
      experiment_id: null,
      variant: 'live',
      model_version: 'online-v1',
      source: answers[0]!.body.source,
      items: answers[0]!.body.items.map((i) => i.itemId).join('\n'),
      served_at: clock,
      shown_at: null,
    })
    expect(await rowOf(recIds[2]!)).toMatchObject({ surface: 'similar', user_key: user, source: 'model' })
    expect(await rowOf(recIds[3]!)).toMatchObject({ surface: 'popular', user_key: null })
    // A person's similar list is not for shared caches; an anonymous one still is.
    expect(answers[2]!.headers.get('cache-control')).toBe('private, no-store')
    expect(answers[3]!.headers.get('cache-control')).toContain('public')
  })

  it('should still give a recId but store nothing with RECORD_LISTS=off', async () => {
    const { body } = await request<ListBody>(`/v1/users/${fixture.users[5]!.id}/recommendations?k=3`, {
      bindings: { ...env, RECORD_LISTS: 'off' },
    })
    expect(body.recId).toMatch(SIGNED_REC_ID_PATTERN)
    expect(await rowOf(body.recId)).toBeNull()
  })

  it('should mark lists shown once through POST /v1/impressions and validate recIds', async () => {
    const { body } = await request<ListBody>(`/v1/users/${fixture.users[4]!.id}/recommendations?k=3`)
    clock += 1000
    const first = await post<{ shown: number }>(
      '/v1/impressions',
      { recIds: [body.recId, body.recId] },
      'publishable',
    )
    expect(first).toMatchObject({ status: 200, body: { shown: 1, rejected: 0, errors: [] } })
    const again = await post<{ shown: number }>('/v1/impressions', { recIds: [body.recId] }, 'publishable')
    expect(again.body.shown).toBe(0)
    expect((await rowOf(body.recId))?.shown_at).toBe(clock)
    const bad = await post<ErrorBody>('/v1/impressions', { recIds: ['nope', 3] }, 'publishable')
    expect(bad.status).toBe(400)
    expect(bad.body.error.code).toBe('INVALID_PARAMETER')
    expect(bad.body.error.details?.map((d) => d.field)).toEqual(['recIds[0]', 'recIds[1]'])
    expect((await post<ErrorBody>('/v1/impressions', { recIds: [] }, 'publishable')).status).toBe(400)
  })

  it('should mark a full batch of 100 recIds shown in one request (D1 binds at most 100 parameters per statement)', async () => {
    const recIds: string[] = []
    for (let i = 0; i < MAX_IMPRESSIONS; i++) {
      const { body } = await request<ListBody>(`/v1/popular?k=2&userId=batch-${i}`)
      recIds.push(body.recId)
    }
    clock += 1000
    const response = await post<{ shown: number }>('/v1/impressions', { recIds }, 'publishable')
    expect(response).toMatchObject({ status: 200, body: { shown: MAX_IMPRESSIONS } })
    const { results } = await env.DB.prepare(
      'SELECT COUNT(*) AS n FROM rec_lists, json_each(?1) AS ids WHERE rec_id = ids.value AND shown_at = ?2',
    )
      .bind(JSON.stringify(recIds), clock)
      .all<{ n: number }>()
    expect(results[0]?.n).toBe(MAX_IMPRESSIONS)
    const tooMany = await post<ErrorBody>(
      '/v1/impressions',
      { recIds: [...recIds, crypto.randomUUID()] },
      'publishable',
    )
    expect(tooMany.status).toBe(400)
  })
})

describe('hashVariant', () => {
  const experiment = {
    id: 'split-test',
    variants: [
      { name: 'a', weight: 1, strategy: 'model' as const },
      { name: 'b', weight: 3, strategy: 'popular' as const },
    ],
  }

  it('should be stable and split traffic by weight', () => {
    const counts = { a: 0, b: 0 }
    for (let i = 0; i < 20_000; i++) {
      const v = hashVariant(experiment, `user-${i}`)
      expect(hashVariant(experiment, `user-${i}`)).toBe(v)
      counts[v.name as 'a' | 'b']++
    }
    // Binomial(20000, 0.25): sd = 61; ±4 sd.
    expect(Math.abs(counts.a - 5000)).toBeLessThan(245)
  })

  it('should split two experiments independently', () => {
    const other = {
      ...experiment,
      id: 'other-test',
      variants: experiment.variants.map((v) => ({ ...v, weight: 1 })),
    }
    const first = { ...experiment, variants: other.variants }
    let same = 0
    for (let i = 0; i < 4000; i++)
      if (hashVariant(first, `u${i}`).name === hashVariant(other, `u${i}`).name) same++
    expect(Math.abs(same - 2000)).toBeLessThan(130)
  })
})

describe('POST /v1/admin/experiments', () => {
  it('should reject invalid definitions with every field named', async () => {
    const { status, body } = await post<ErrorBody>('/v1/admin/experiments', {
      name: '',
      surface: 'checkout',
      variants: [
        { name: 'A', weight: 0, strategy: 'model' },
        { name: 'b', weight: 1, strategy: 'magic', extra: 1 },
      ],
    })
    expect(status).toBe(400)
    expect(body.error.details?.map((d) => d.field)).toEqual([
      'name',
      'surface',
      'variants[0].name',
      'variants[0].weight',
      'variants[1].extra',
      'variants[1].strategy',
    ])
    const one = await post<ErrorBody>('/v1/admin/experiments', {
      name: 'x',
      surface: 'similar',
      variants: [{ name: 'a', weight: 1, strategy: 'model' }],
    })
    expect(one.status).toBe(400)
    const noFoldOnSimilar = await post<ErrorBody>('/v1/admin/experiments', {
      name: 'x',
      surface: 'similar',
      variants: [
        { name: 'a', weight: 1, strategy: 'model' },
        { name: 'b', weight: 1, strategy: 'model-no-fold-in' },
      ],
    })
    expect(noFoldOnSimilar.body.error.details?.[0]?.field).toBe('variants[1].strategy')
  })

  it('should reject a model version that does not exist', async () => {
    const { status, body } = await post<ErrorBody>('/v1/admin/experiments', {
      name: 'ghost',
      surface: 'recommendations',
      variants: [
        { name: 'live', weight: 1, strategy: 'model' },
        { name: 'ghost', weight: 1, strategy: 'model', version: 'never-published' },
      ],
    })
    expect(status).toBe(400)
    expect(body.error.message).toContain('never-published does not exist')
  })

  it('should refuse the publishable key', async () => {
    const { status } = await post('/v1/admin/experiments', {}, 'publishable')
    expect(status).toBe(403)
  })

  it('should start, pause and stop, with one running experiment per surface', async () => {
    const variants = [
      { name: 'a', weight: 1, strategy: 'model' },
      { name: 'b', weight: 1, strategy: 'popular' },
    ]
    const first = await createExperiment({ name: 'first', surface: 'similar', variants })
    const second = await createExperiment({ name: 'second', surface: 'similar', variants })
    expect(first.status).toBe('draft')
    expect((await post<Experiment>(`/v1/admin/experiments/${first.id}/start`, {})).body.status).toBe(
      'running',
    )
    const clash = await post<ErrorBody>(`/v1/admin/experiments/${second.id}/start`, {})
    expect(clash.status).toBe(409)
    expect(clash.body.error.code).toBe('EXPERIMENT_CONFLICT')
    expect((await post<Experiment>(`/v1/admin/experiments/${first.id}/pause`, {})).body.status).toBe('paused')
    expect((await post<Experiment>(`/v1/admin/experiments/${second.id}/start`, {})).body.status).toBe(
      'running',
    )
    for (const e of [first, second])
      expect((await post<Experiment>(`/v1/admin/experiments/${e.id}/stop`, {})).body.status).toBe('stopped')
    expect((await post<ErrorBody>(`/v1/admin/experiments/${first.id}/start`, {})).status).toBe(409)
    expect((await request<ErrorBody>('/v1/admin/experiments/nope/results', { as: 'secret' })).status).toBe(
      404,
    )
  })
})

describe('experiments on the request path', () => {
  it('should serve each person their variant, keep it across sign-in, and use the variant strategy and version', async () => {
    const experiment = await createExperiment({
      name: 'strategies',
      surface: 'recommendations',
      variants: [
        { name: 'model', weight: 1, strategy: 'model' },
        { name: 'pop', weight: 1, strategy: 'popular' },
        { name: 'v2', weight: 1, strategy: 'model', version: 'online-v2' },
      ],
    })
    await post(`/v1/admin/experiments/${experiment.id}/start`, {})
    const seen = new Map<string, ListBody>()
    for (let i = 0; seen.size < 3 && i < 60; i++) {
      const anon = `anon-strategy-${i}`
      const { body } = await request<ListBody>(`/v1/users/${anon}/recommendations?k=5`)
      expect(body.variant).toBe(hashVariant(experiment, anon).name)
      if (!seen.has(body.variant)) seen.set(body.variant, { ...body, userId: anon } as ListBody)
      expect((await rowOf(body.recId))?.experiment_id).toBe(experiment.id)
    }
    expect(seen.get('pop')?.source).toBe('popular')
    expect(seen.get('v2')?.modelVersion).toBe('online-v2')
    expect(seen.get('model')?.modelVersion).toBe('online-v1')

    // Sign-in: find a user id whose own hash variant differs from the anonymous visitor's.
    const anon = (seen.get('pop') as ListBody & { userId: string }).userId
    let userId = ''
    for (let i = 0; !userId; i++)
      if (hashVariant(experiment, `signed-${i}`).name !== 'pop') userId = `signed-${i}`
    await sendEvents([event({ userId, anonymousId: anon, itemId: fixture.itemIds[1]!, timestamp: clock })])
    const after = await request<ListBody>(`/v1/users/${userId}/recommendations?k=5`)
    expect(after.body.variant).toBe('pop')

    // Deleting the user deletes their lists and assignments (and those of the linked anonymous id).
    const deleted = await request<{ deleted: { impressions: number; assignments: number } }>(
      `/v1/admin/users/${userId}`,
      { method: 'DELETE', as: 'secret' },
    )
    expect(deleted.body.deleted.impressions).toBe(2)
    expect(deleted.body.deleted.assignments).toBe(1)
    const left = await env.DB.prepare(
      'SELECT (SELECT COUNT(*) FROM rec_lists WHERE user_key IN (?1, ?2)) + (SELECT COUNT(*) FROM experiment_assignments WHERE user_key IN (?1, ?2)) AS n',
    )
      .bind(userId, anon)
      .first<{ n: number }>()
    expect(left?.n).toBe(0)
    await post(`/v1/admin/experiments/${experiment.id}/stop`, {})
    expect((await request<ListBody>(`/v1/users/${anon}/recommendations?k=5`)).body.variant).toBe('live')
  })
})

describe('GET /v1/admin/experiments/:id/results', () => {
  it('should credit clicks with and without recId inside the window, per variant and day', async () => {
    // Just after midnight UTC today, so the whole stream falls on one day and no event is from the future.
    clock = Math.floor(Date.now() / 86_400_000) * 86_400_000 + 60_000
    const day = new Date(clock).toISOString().slice(0, 10)
    const ev = (fields: Parameters<typeof event>[0] & { context?: Record<string, string> }) =>
      event({ timestamp: clock, ...fields })
    const experiment = await createExperiment({
      name: 'attribution',
      surface: 'recommendations',
      variants: [
        { name: 'control', weight: 1, strategy: 'popular' },
        { name: 'treatment', weight: 1, strategy: 'model' },
      ],
    })
    await post(`/v1/admin/experiments/${experiment.id}/start`, {})
    // Eight people; expected counts are tallied below from what each variant was shown and did.
    const expected = new Map<
      string,
      { impressions: number; clicks: number; clicked: number; bought: number }
    >()
    for (const name of ['control', 'treatment'])
      expected.set(name, { impressions: 0, clicks: 0, clicked: 0, bought: 0 })
    // Per UTC hour of the served time and variant: [impressions, lists clicked] (for ?interval=hour).
    const hourly = new Map<string, [number, number]>()
    for (let p = 0; p < 8; p++) {
      const person = `attr-${p}`
      const servedHour = new Date(Math.floor(clock / 3_600_000) * 3_600_000).toISOString()
      const { body } = await request<ListBody>(`/v1/users/${person}/recommendations?k=5`)
      const tally = expected.get(body.variant)!
      const hour = hourly.get(`${servedHour} ${body.variant}`) ?? [0, 0]
      if (p !== 7) hourly.set(`${servedHour} ${body.variant}`, hour)
      if (p !== 7 && p % 4 <= 1) hour[1]++
      const [first, second] = body.items.map((i) => i.itemId)
      if (p === 7) continue // served, never shown: no impression
      await post('/v1/impressions', { recIds: [body.recId] }, 'publishable')
      tally.impressions++
      hour[0]++
      clock += 60_000
      if (p % 4 === 0) {
        // recId on the click: credited even for an item the list did not hold.
        await sendEvents([ev({ anonymousId: person, itemId: 'unlisted', type: 'click', ...ctx(body.recId) })])
        tally.clicks++
        tally.clicked++
      } else if (p % 4 === 1) {
        // No recId, listed item, inside the window: credited; then a purchase of the second item.
        await sendEvents([
          ev({ anonymousId: person, itemId: first!, type: 'click' }),
          ev({ anonymousId: person, itemId: first!, type: 'click' }),
          ev({ anonymousId: person, itemId: second!, type: 'purchase' }),
        ])
        tally.clicks += 2
        tally.clicked++
        tally.bought++
      } else if (p % 4 === 2) {
        // No recId, unlisted item: not credited.
        await sendEvents([ev({ anonymousId: person, itemId: 'unlisted', type: 'click' })])
      } else {
        // No recId, listed item, after the 60-minute window: not credited.
        clock += 61 * 60_000
        await sendEvents([ev({ anonymousId: person, itemId: first!, type: 'click' })])
      }
    }
    const { status, body } = await request<ExperimentResults>(
      `/v1/admin/experiments/${experiment.id}/results`,
      {
        as: 'secret',
      },
    )
    expect(status).toBe(200)
    expect(body.attributionWindowMs).toBe(3_600_000)
    expect(body.test).toBe('two-proportion z-test, pooled, two-sided')
    expect(body.days.map((d) => d.day)).toEqual([day])
    for (const v of body.variants) {
      const e = expected.get(v.name)!
      expect({
        name: v.name,
        impressions: v.impressions,
        clicks: v.clicks,
        clicked: v.ctr.x,
        bought: v.purchase.x,
      }).toEqual({
        name: v.name,
        ...e,
      })
      expect(v.ctr.n).toBe(e.impressions)
    }
    expect(body.variants[0]!.vsControl).toBeNull()
    expect(body.variants[1]!.vsControl?.ctr.difference).toBeCloseTo(
      body.variants[1]!.ctr.rate - body.variants[0]!.ctr.rate,
      12,
    )
    expect(body.series).toBeUndefined()

    // The same counts per UTC hour of the served time (p % 4 = 3 moves the clock past an hour).
    const byHour = await request<ExperimentResults>(
      `/v1/admin/experiments/${experiment.id}/results?interval=hour`,
      { as: 'secret' },
    )
    expect(byHour.status).toBe(200)
    expect(byHour.body.days).toEqual(body.days)
    const series = byHour.body.series!
    expect(series.length).toBeGreaterThan(1)
    expect(series.map((s) => s.at)).toEqual([...series.map((s) => s.at)].sort())
    const got = new Map<string, [number, number]>()
    for (const s of series)
      for (const v of s.variants)
        if (v.impressions > 0) got.set(`${s.at} ${v.name}`, [v.impressions, v.ctr.x])
    expect(got).toEqual(hourly)
    const bad = await request<ErrorBody>(`/v1/admin/experiments/${experiment.id}/results?interval=week`, {
      as: 'secret',
    })
    expect(bad.status).toBe(400)
    expect(bad.body.error.details?.map((d) => d.field)).toEqual(['interval'])
    await post(`/v1/admin/experiments/${experiment.id}/stop`, {})
  })
})

function ctx(recId: string): { context: { recId: string } } {
  return { context: { recId } }
}
