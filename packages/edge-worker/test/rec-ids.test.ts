/**
 * Signed recIds (docs/online.md, "Signed recIds"): a client holding the publishable key cannot make
 * up recIds. Forged, altered, truncated and other-environment recIds write nothing through
 * `POST /v1/impressions` or `POST /v1/events`; genuine ones mark their list and stay on their
 * events; unsigned (UUID) recIds from before signing only mark a list already stored; a worker
 * without `SECRET_KEY` keeps serving with unsigned recIds; after a rotation of `SECRET_KEY`, recIds of
 * the old key are recognised while `PREVIOUS_SECRET_KEY` holds it, and no longer once it is deleted.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { createApp } from '../src/app.js'
import {
  REC_ID_MAC_BYTES,
  REC_ID_RANDOM_BYTES,
  RecIds,
  SIGNED_REC_ID_PATTERN,
  UNSIGNED_REC_ID_PATTERN,
} from '../src/attribution/rec-id.js'
import type { Env } from '../src/env.js'
import { type ModelFixture, publishVersion, trainClusteredModel } from './fixtures/model.js'
import { env, event, KEYS } from './helpers.js'

type ListBody = { items: { itemId: string }[]; recId: string; variant: string }
type FieldError = { field: string; code: string; message: string }
type ImpressionsBody = { shown: number; rejected: number; errors: FieldError[] }
type EventsBody = {
  accepted: number
  rejected: number
  results: { index: number; id?: string; status: string; errors?: FieldError[] }[]
}

const clock = Date.now()
const app = createApp({ now: () => clock })
/** Another deployment of the worker: its own SECRET_KEY (staging vs production). */
const otherEnvironment = new RecIds('sk_other_environment_secret')

/** Calls the app and waits for its `waitUntil` work (the served-list write). */
async function request<T>(
  path: string,
  init: RequestInit & { bindings?: Env } = {},
): Promise<{ status: number; body: T }> {
  const { bindings = env, ...rest } = init
  const headers = new Headers(rest.headers)
  headers.set('authorization', `Bearer ${KEYS.publishable}`)
  if (rest.body) headers.set('content-type', 'application/json')
  const ctx = createExecutionContext()
  const response = await app.request(`https://edge.test${path}`, { ...rest, headers }, bindings, ctx)
  const body = (await response.json()) as T
  await waitOnExecutionContext(ctx)
  return { status: response.status, body }
}

const impressions = (recIds: unknown[], bindings: Env = env) =>
  request<ImpressionsBody>('/v1/impressions', {
    method: 'POST',
    body: JSON.stringify({ recIds }),
    bindings,
  })

/** Rows of `rec_lists` holding any of `recIds`. */
async function rowsOf(recIds: string[]): Promise<Record<string, unknown>[]> {
  const { results } = await env.DB.prepare(
    'SELECT * FROM rec_lists WHERE rec_id IN (SELECT value FROM json_each(?1))',
  )
    .bind(JSON.stringify(recIds))
    .all()
  return results
}

/** Stored events whose id is one of `ids`. */
async function storedEvents(ids: string[]): Promise<{ id: string; context: string | null }[]> {
  const { results } = await env.DB.prepare(
    'SELECT id, context FROM events WHERE id IN (SELECT value FROM json_each(?1))',
  )
    .bind(JSON.stringify(ids))
    .all<{ id: string; context: string | null }>()
  return results
}

/** Flips the hex digit at `index` (0 ↔ 1, others to 0). */
function alter(recId: string, index: number): string {
  const c = recId[index] === '0' ? '1' : '0'
  return `${recId.slice(0, index)}${c}${recId.slice(index + 1)}`
}

let fixture: ModelFixture
let genuine: string

beforeAll(async () => {
  fixture = trainClusteredModel({ version: 'rec-ids-v1' })
  await publishVersion(env, fixture)
  genuine = (await request<ListBody>(`/v1/users/${fixture.users[0]!.id}/recommendations?k=3`)).body.recId
})

describe('RecIds', () => {
  it('should issue signed recIds that only the same secret recognises', async () => {
    const ours = RecIds.of(env)
    expect(ours.signed).toBe(true)
    const recId = await ours.issue()
    expect(recId).toMatch(SIGNED_REC_ID_PATTERN)
    expect(recId).toHaveLength((REC_ID_RANDOM_BYTES + REC_ID_MAC_BYTES) * 2 + 1)
    expect(await ours.issue()).not.toBe(recId)
    expect(await ours.check(recId)).toBe('signed')
    expect(await new RecIds(env.SECRET_KEY).check(recId)).toBe('signed')
    expect(await otherEnvironment.check(recId)).toBe('forged')
    expect(await ours.check(await otherEnvironment.issue())).toBe('forged')
  })

  it('should call altered recIds forged and truncated or other shapes malformed', async () => {
    const ours = RecIds.of(env)
    const recId = await ours.issue()
    // One digit changed in the random part, in the MAC, or the two parts swapped.
    expect(await ours.check(alter(recId, 0))).toBe('forged')
    expect(await ours.check(alter(recId, recId.length - 1))).toBe('forged')
    const [random, mac] = recId.split('.')
    expect(await ours.check(`${mac}.${random}`)).toBe('forged')
    expect(await ours.check(recId.slice(0, -1))).toBe('malformed')
    expect(await ours.check(recId.slice(0, REC_ID_RANDOM_BYTES * 2))).toBe('malformed')
    expect(await ours.check(recId.toUpperCase())).toBe('malformed')
    expect(await ours.check(`${recId} `)).toBe('malformed')
    expect(await ours.check(42)).toBe('malformed')
    expect(await ours.check(crypto.randomUUID())).toBe('unsigned')
  })

  it('should issue unsigned UUIDs without a secret and recognise no signed recId', async () => {
    const unsigned = new RecIds(undefined)
    expect(unsigned.signed).toBe(false)
    expect(await unsigned.issue()).toMatch(UNSIGNED_REC_ID_PATTERN)
    expect(await unsigned.check(await RecIds.of(env).issue())).toBe('forged')
  })
})

describe('POST /v1/impressions with signed recIds', () => {
  it('should reject forged, altered and other-environment recIds alone and write nothing', async () => {
    const forged = [
      `${'ab'.repeat(REC_ID_RANDOM_BYTES)}.${'cd'.repeat(REC_ID_MAC_BYTES)}`,
      alter(genuine, 3),
      alter(genuine, genuine.length - 2),
      await otherEnvironment.issue(),
    ]
    const { status, body } = await impressions([...forged, genuine])
    expect(status).toBe(200)
    expect(body.shown).toBe(1)
    expect(body.rejected).toBe(forged.length)
    expect(body.errors.map((e) => [e.field, e.code])).toEqual(
      forged.map((_, i) => [`recIds[${i}]`, 'unrecognized']),
    )
    expect(body.errors[0]!.message).toContain('not issued by this worker')
    expect(await rowsOf(forged)).toEqual([])
    expect((await rowsOf([genuine]))[0]).toMatchObject({ surface: 'recommendations', shown_at: clock })
  })

  it('should answer 200 with every entry rejected for an all-forged batch, writing nothing', async () => {
    const forged = await Promise.all(Array.from({ length: 100 }, () => otherEnvironment.issue()))
    const { status, body } = await impressions(forged)
    expect(status).toBe(200)
    expect(body).toMatchObject({ shown: 0, rejected: 100 })
    expect(await rowsOf(forged)).toEqual([])
  })

  it('should refuse truncated recIds as a malformed body (400) and write nothing', async () => {
    const truncated = [genuine.slice(0, -1), genuine.slice(0, REC_ID_RANDOM_BYTES * 2)]
    const { status, body } = await request<{ error: { code: string; details: FieldError[] } }>(
      '/v1/impressions',
      { method: 'POST', body: JSON.stringify({ recIds: truncated }) },
    )
    expect(status).toBe(400)
    expect(body.error.code).toBe('INVALID_PARAMETER')
    expect(body.error.details.map((d) => d.field)).toEqual(['recIds[0]', 'recIds[1]'])
    expect(await rowsOf(truncated)).toEqual([])
  })

  it('should keep a pending mark for a genuine recId whose list is not stored yet', async () => {
    // RECORD_LISTS=off stands for a list still in another isolate's write batch.
    const { body: answer } = await request<ListBody>(
      `/v1/users/${fixture.users[1]!.id}/recommendations?k=3`,
      {
        bindings: { ...env, RECORD_LISTS: 'off' },
      },
    )
    expect(await rowsOf([answer.recId])).toEqual([])
    expect((await impressions([answer.recId])).body).toEqual({ shown: 1, rejected: 0, errors: [] })
    expect(await rowsOf([answer.recId])).toMatchObject([{ surface: '', shown_at: clock }])
  })

  it('should mark an unsigned recId only when its list is stored, and reject a made-up one', async () => {
    // A list served before signing: its recId is a UUID.
    const legacy = crypto.randomUUID()
    await env.DB.prepare(
      `INSERT INTO rec_lists (rec_id, surface, variant, source, items, served_at) VALUES (?1, 'popular', 'live', 'popular', 'a', ?2)`,
    )
      .bind(legacy, clock - 60_000)
      .run()
    const madeUp = crypto.randomUUID()
    const { status, body } = await impressions([legacy, madeUp, legacy])
    expect(status).toBe(200)
    expect(body.shown).toBe(1)
    expect(body.errors.map((e) => [e.field, e.code])).toEqual([['recIds[1]', 'unrecognized']])
    expect(body.rejected).toBe(1)
    expect(await rowsOf([madeUp])).toEqual([])
    expect((await rowsOf([legacy]))[0]).toMatchObject({ surface: 'popular', shown_at: clock })
    // Shown already: neither marked again nor rejected.
    expect((await impressions([legacy])).body).toEqual({ shown: 0, rejected: 0, errors: [] })
  })
})

describe('POST /v1/events with context.recId', () => {
  it('should reject events carrying a recId the worker did not sign alone, and store the others', async () => {
    const item = fixture.itemIds[0]!
    const forged = await otherEnvironment.issue()
    const events = [
      { ...event({ anonymousId: 'rec-ids-a', itemId: item, type: 'click' }), context: { recId: genuine } },
      { ...event({ anonymousId: 'rec-ids-a', itemId: item, type: 'click' }), context: { recId: forged } },
      {
        ...event({ anonymousId: 'rec-ids-a', itemId: item, type: 'click' }),
        context: { recId: alter(genuine, 5), page: 'home' },
      },
      { ...event({ anonymousId: 'rec-ids-a', itemId: item, type: 'click' }), context: { recId: 'made-up' } },
      { ...event({ anonymousId: 'rec-ids-a', itemId: item, type: 'click' }), context: { recId: 7 } },
      // From before signing (a queued event, a cached answer): accepted; it writes no list row.
      {
        ...event({ anonymousId: 'rec-ids-a', itemId: item, type: 'click' }),
        context: { recId: crypto.randomUUID() },
      },
      event({ anonymousId: 'rec-ids-a', itemId: item, type: 'view' }),
    ]
    const { status, body } = await request<EventsBody>('/v1/events', {
      method: 'POST',
      body: JSON.stringify({ events }),
    })
    expect(status).toBe(200)
    expect(body.results.map((r) => [r.status, r.errors?.map((e) => `${e.field}:${e.code}`)])).toEqual([
      ['accepted', undefined],
      ['rejected', ['context.recId:unrecognized']],
      ['rejected', ['context.recId:unrecognized']],
      ['rejected', ['context.recId:pattern']],
      ['rejected', ['context.recId:pattern']],
      ['accepted', undefined],
      ['accepted', undefined],
    ])
    expect(body).toMatchObject({ accepted: 3, rejected: 4 })
    const stored = await storedEvents(events.map((e) => e.id as string))
    expect(stored.map((e) => e.id).sort()).toEqual([events[0]!.id, events[5]!.id, events[6]!.id].sort())
    expect(JSON.parse(stored.find((e) => e.id === events[0]!.id)!.context!)).toEqual({ recId: genuine })
    const uuid = (events[5]!.context as { recId: string }).recId
    expect(await rowsOf([uuid])).toEqual([])
  })
})

describe('a worker without SECRET_KEY', () => {
  const noSecret = { ...env, SECRET_KEY: undefined }

  it('should keep serving with unsigned recIds that mark their stored list', async () => {
    const { status, body } = await request<ListBody>(
      `/v1/users/${fixture.users[2]!.id}/recommendations?k=3`,
      {
        bindings: noSecret,
      },
    )
    expect(status).toBe(200)
    expect(body.recId).toMatch(UNSIGNED_REC_ID_PATTERN)
    expect((await impressions([body.recId], noSecret)).body).toEqual({ shown: 1, rejected: 0, errors: [] })
    // It recognises no signed recId, so those cannot create a pending mark there.
    const signed = await RecIds.of(env).issue()
    const { body: refused } = await impressions([signed], noSecret)
    expect(refused).toMatchObject({ shown: 0, rejected: 1 })
    expect(await rowsOf([signed])).toEqual([])
  })
})

describe('rotating SECRET_KEY with PREVIOUS_SECRET_KEY', () => {
  // Before the rotation, during the window (new key + the old one as previous), after it.
  const before = { ...env, SECRET_KEY: 'sk_live_before_rotation_0123' }
  const during = { ...env, SECRET_KEY: 'sk_live_after_rotation_4567', PREVIOUS_SECRET_KEY: before.SECRET_KEY }
  const after = { ...env, SECRET_KEY: during.SECRET_KEY }
  const served = async (user: number, bindings: Env) =>
    (await request<ListBody>(`/v1/users/${fixture.users[user]!.id}/recommendations?k=3`, { bindings })).body
      .recId
  const click = (recId: string): Record<string, unknown> => ({
    ...event({ anonymousId: 'rec-ids-rotation', itemId: fixture.itemIds[1]!, type: 'click' }),
    context: { recId },
  })
  const sendEvents = (events: Record<string, unknown>[], bindings: Env) =>
    request<EventsBody>('/v1/events', { method: 'POST', body: JSON.stringify({ events }), bindings })

  it('should sign with the new key only and recognise the old key’s recIds until the window ends', async () => {
    const old = await RecIds.of(before).issue()
    const fresh = await RecIds.of(during).issue()
    expect(await RecIds.of(during).check(old)).toBe('signed')
    expect(await new RecIds(before.SECRET_KEY).check(fresh)).toBe('forged')
    expect(await RecIds.of(after).check(fresh)).toBe('signed')
    expect(await RecIds.of(after).check(old)).toBe('forged')
    // A previous key without a current one, or equal to it, is no window.
    expect(
      await RecIds.of({ ...env, SECRET_KEY: undefined, PREVIOUS_SECRET_KEY: before.SECRET_KEY }).check(old),
    ).toBe('forged')
  })

  it('should take impressions and events of lists served before the rotation during the window, and refuse them after', async () => {
    const [first, second, third] = [await served(3, before), await served(4, before), await served(5, before)]
    // During the window: the old recIds mark their lists and stay on their events; a forged one does not.
    const forged = alter(first, first.length - 1)
    const window = await impressions([first, forged], during)
    expect(window.body).toEqual({
      shown: 1,
      rejected: 1,
      errors: [{ field: 'recIds[1]', code: 'unrecognized', message: expect.stringContaining('not issued') }],
    })
    expect((await rowsOf([first]))[0]).toMatchObject({ shown_at: clock })
    expect(await rowsOf([forged])).toEqual([])
    const duringEvents = [click(first), click(forged)]
    const accepted = await sendEvents(duringEvents, during)
    expect(accepted.body.results.map((r) => r.status)).toEqual(['accepted', 'rejected'])
    // New answers in the window carry recIds of the new key.
    const fresh = await served(6, during)
    expect(await new RecIds(during.SECRET_KEY).check(fresh)).toBe('signed')
    expect((await impressions([fresh], during)).body.shown).toBe(1)
    // PREVIOUS_SECRET_KEY deleted: the old key's recIds are rejected alone, the new key's still pass.
    const closed = await impressions([second, fresh], after)
    expect(closed.body).toMatchObject({ shown: 0, rejected: 1 })
    expect(closed.body.errors.map((e) => [e.field, e.code])).toEqual([['recIds[0]', 'unrecognized']])
    expect((await rowsOf([second]))[0]).toMatchObject({ shown_at: null })
    const afterEvents = [click(third), click(fresh)]
    const refused = await sendEvents(afterEvents, after)
    expect(refused.body.results.map((r) => [r.status, r.errors?.[0]?.code])).toEqual([
      ['rejected', 'unrecognized'],
      ['accepted', undefined],
    ])
    const stored = await storedEvents([...duringEvents, ...afterEvents].map((e) => e.id as string))
    expect(stored.map((e) => e.id).sort()).toEqual([duringEvents[0]!.id, afterEvents[1]!.id].sort())
  })

  it('should ignore a PREVIOUS_SECRET_KEY that is too short or equal to SECRET_KEY', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
    const short = { ...env, SECRET_KEY: 'sk_live_after_rotation_4567', PREVIOUS_SECRET_KEY: 'sk_short' }
    expect(await RecIds.of(short).check(await new RecIds('sk_short').issue())).toBe('forged')
    const same = { ...after, PREVIOUS_SECRET_KEY: after.SECRET_KEY }
    expect(await RecIds.of(same).check(await RecIds.of(before).issue())).toBe('forged')
    expect(await RecIds.of(same).check(await RecIds.of(after).issue())).toBe('signed')
    expect(errors.mock.calls.map(([line]) => String(line))).toEqual(
      expect.arrayContaining([
        expect.stringContaining('PREVIOUS_SECRET_KEY is shorter than 16 characters'),
        expect.stringContaining('PREVIOUS_SECRET_KEY equals SECRET_KEY'),
      ]),
    )
    errors.mockRestore()
  })
})
