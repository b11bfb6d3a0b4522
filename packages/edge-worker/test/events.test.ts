import { EVENT_LIMITS } from '@edgerec/core'
import { beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
import { deleteUserData, loadUserActivity } from '../src/db/activity.js'
import { D1_MAX_BOUND_PARAMETERS, rowsPerStatement } from '../src/db/ingest.js'
import type { EventsBody } from '../src/routes/events.js'
import { publishVersion, trainClusteredModel } from './fixtures/model.js'
import { call, env, event, json } from './helpers.js'

type ErrorBody = { error: { code: string; message: string; details?: unknown } }
type Row = {
  id: string
  user_id: string | null
  anonymous_id: string | null
  item_id: string
  type: string
  value: number | null
  timestamp: number
  received_at: number
  context: string | null
}

const NOW = Date.UTC(2026, 11, 1, 12)
const app = createApp({ now: () => NOW })

function post(body: unknown, init: { raw?: string; contentType?: string } = {}) {
  return json<EventsBody & ErrorBody>(app, '/v1/events', {
    method: 'POST',
    headers: { 'content-type': init.contentType ?? 'application/json' },
    body: init.raw ?? JSON.stringify(body),
  })
}

/** The user's events as the worker reads them (secret-key view), without the deletion-list entry. */
async function eventsOf(userKey: string, options: { limit: number; since?: number }) {
  return (await loadUserActivity(env.DB, userKey, options)).events
}

async function rowsOf(ids: readonly string[]): Promise<Row[]> {
  const rows: Row[] = []
  for (let i = 0; i < ids.length; i += 90) {
    const part = ids.slice(i, i + 90)
    const { results } = await env.DB.prepare(
      `SELECT * FROM events WHERE id IN (${part.map(() => '?').join(',')})`,
    )
      .bind(...part)
      .all<Row>()
    rows.push(...results)
  }
  return rows
}

const at = (minutes: number) => NOW - 60 * 60 * 1000 + minutes * 60 * 1000

describe('POST /v1/events', () => {
  it('should store every field of accepted events in D1', async () => {
    const id = crypto.randomUUID()
    const { status, body, headers } = await post({
      events: [
        {
          id,
          userId: 'u-fields',
          anonymousId: 'a-fields',
          itemId: 'sku-1',
          type: 'rating',
          value: 4.5,
          timestamp: '2026-12-01T11:00:00.000Z',
          context: { page: 'home', pos: 3, mobile: true },
        },
      ],
    })
    expect(status).toBe(200)
    expect(headers.get('cache-control')).toBe('no-store')
    expect(body).toEqual({
      accepted: 1,
      duplicates: 0,
      rejected: 0,
      results: [{ index: 0, id, status: 'accepted' }],
    })
    const [row] = await rowsOf([id])
    expect(row).toEqual({
      id,
      user_id: 'u-fields',
      anonymous_id: 'a-fields',
      item_id: 'sku-1',
      type: 'rating',
      value: 4.5,
      timestamp: Date.UTC(2026, 11, 1, 11),
      received_at: NOW,
      context: JSON.stringify({ page: 'home', pos: 3, mobile: true }),
    })
  })

  it('should be idempotent: a retried batch stores nothing twice and counts duplicates', async () => {
    const batch = Array.from({ length: 30 }, (_, i) =>
      event({ userId: 'u-retry', itemId: `sku-${i}`, timestamp: at(i) }),
    )
    const first = await post({ events: batch })
    expect(first.body).toMatchObject({ accepted: 30, duplicates: 0, rejected: 0 })
    const retry = await post({ events: batch })
    expect(retry.status).toBe(200)
    expect(retry.body).toMatchObject({ accepted: 0, duplicates: 30, rejected: 0 })
    expect(retry.body.results.every((r) => r.status === 'duplicate')).toBe(true)
    // A partial retry: 10 old ids and 5 new ones.
    const fresh = Array.from({ length: 5 }, (_, i) =>
      event({ userId: 'u-retry', itemId: `sku-new-${i}`, timestamp: at(40 + i) }),
    )
    const partial = await post({ events: [...batch.slice(0, 10), ...fresh] })
    expect(partial.body).toMatchObject({ accepted: 5, duplicates: 10, rejected: 0 })
    expect(partial.body.results.map((r) => r.status)).toEqual([
      ...Array(10).fill('duplicate'),
      ...Array(5).fill('accepted'),
    ])
    const { results } = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM events WHERE user_id = 'u-retry'",
    ).all<{ n: number }>()
    expect(results[0]!.n).toBe(35)
  })

  it('should count a repeated id inside one batch as a duplicate and keep the first', async () => {
    const a = event({ userId: 'u-dup', itemId: 'first', timestamp: at(1) })
    const b = event({ userId: 'u-dup', itemId: 'other', timestamp: at(2) })
    const { body } = await post({ events: [a, b, { ...a, itemId: 'second' }, b] })
    expect(body).toMatchObject({ accepted: 2, duplicates: 2, rejected: 0 })
    expect(body.results.map((r) => [r.index, r.status])).toEqual([
      [0, 'accepted'],
      [1, 'accepted'],
      [2, 'duplicate'],
      [3, 'duplicate'],
    ])
    const rows = await rowsOf([a.id as string])
    expect(rows.map((r) => r.item_id)).toEqual(['first'])
  })

  it('should keep the good events of a mixed batch and say why each bad one was rejected', async () => {
    const good1 = event({ userId: 'u-mixed', itemId: 'ok-1', timestamp: at(1) })
    const good2 = event({ anonymousId: 'a-mixed', itemId: 'ok-2', timestamp: at(2) })
    const noUser = { id: 'bad-no-user', itemId: 'x', type: 'view', timestamp: at(3) }
    const future = event({ userId: 'u-mixed', itemId: 'x', timestamp: NOW + 2 * 24 * 3600 * 1000 })
    const badType = event({ userId: 'u-mixed', itemId: 'x', type: 'Not A Type', timestamp: at(5) })
    const { status, body } = await post({ events: [good1, noUser, 'not an object', good2, future, badType] })
    expect(status).toBe(200)
    expect(body).toMatchObject({ accepted: 2, duplicates: 0, rejected: 4 })
    expect(body.results.map((r) => r.status)).toEqual([
      'accepted',
      'rejected',
      'rejected',
      'accepted',
      'rejected',
      'rejected',
    ])
    expect(body.results[1]).toMatchObject({
      index: 1,
      id: 'bad-no-user',
      errors: [expect.objectContaining({ code: 'required' })],
    })
    expect(body.results[2]!.id).toBeUndefined()
    expect(body.results[4]!.errors).toEqual([expect.objectContaining({ field: 'timestamp', code: 'range' })])
    expect(body.results[5]!.errors).toEqual([expect.objectContaining({ field: 'type' })])
    const stored = await rowsOf([
      good1.id as string,
      good2.id as string,
      'bad-no-user',
      future.id as string,
      badType.id as string,
    ])
    expect(stored.map((r) => r.item_id).sort()).toEqual(['ok-1', 'ok-2'])
  })

  it('should answer 200 with every event rejected when none is valid', async () => {
    const { status, body } = await post({ events: [{ id: 'only-bad' }] })
    expect(status).toBe(200)
    expect(body).toMatchObject({ accepted: 0, duplicates: 0, rejected: 1 })
  })

  it('should store a full batch of 500 events across D1 statement chunks', async () => {
    expect(rowsPerStatement(9)).toBe(Math.floor(D1_MAX_BOUND_PARAMETERS / 9))
    const batch = Array.from({ length: EVENT_LIMITS.maxBatchSize }, (_, i) =>
      event({
        userId: `u-full-${i % 7}`,
        anonymousId: `a-full-${i % 7}`,
        itemId: `sku-${i}`,
        timestamp: at(i % 60),
        value: i,
      }),
    )
    const { status, body } = await post({ events: batch })
    expect(status).toBe(200)
    expect(body).toMatchObject({ accepted: 500, duplicates: 0, rejected: 0 })
    const rows = await rowsOf(batch.map((e) => e.id as string))
    expect(rows).toHaveLength(500)
    expect(rows.map((r) => r.value).sort((a, b) => a! - b!)).toEqual(batch.map((_, i) => i))
    const again = await post({ events: batch })
    expect(again.body).toMatchObject({ accepted: 0, duplicates: 500 })
  })

  it('should answer 413 above 500 events and store none of them', async () => {
    const batch = Array.from({ length: EVENT_LIMITS.maxBatchSize + 1 }, (_, i) =>
      event({ userId: 'u-413', itemId: `sku-${i}`, timestamp: at(1) }),
    )
    const { status, body } = await post({ events: batch })
    expect(status).toBe(413)
    expect(body.error.code).toBe('PAYLOAD_TOO_LARGE')
    expect(body.error.message).toContain('500')
    expect(await rowsOf(batch.slice(0, 50).map((e) => e.id as string))).toHaveLength(0)
  })

  it.each([
    ['malformed JSON', '{"events": [', 'INVALID_REQUEST'],
    ['an object without events', '{"items": []}', 'INVALID_EVENTS'],
    ['an empty batch', '{"events": []}', 'INVALID_EVENTS'],
    ['null', 'null', 'INVALID_EVENTS'],
    ['an empty body', '', 'INVALID_REQUEST'],
  ])('should answer 400 JSON for %s', async (_, raw, code) => {
    const { status, body, headers } = await post(null, { raw })
    expect(status).toBe(400)
    expect(headers.get('content-type')).toContain('application/json')
    expect(body.error.code).toBe(code)
    expect(body.error.message.length).toBeGreaterThan(10)
  })

  it('should accept a bare array and a text/plain body (navigator.sendBeacon)', async () => {
    const a = event({ userId: 'u-beacon', itemId: 'b1', timestamp: at(1) })
    const bare = await post([a])
    expect(bare.body.accepted).toBe(1)
    const b = event({ userId: 'u-beacon', itemId: 'b2', timestamp: at(2) })
    const beacon = await call(app, '/v1/events?key=pk_test_publishable', {
      as: null,
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify({ events: [b] }),
    })
    expect(beacon.status).toBe(200)
    expect(((await beacon.json()) as EventsBody).accepted).toBe(1)
  })

  it('should answer 503 and store nothing when D1 fails', async () => {
    const failing = {
      ...env,
      DB: {
        ...env.DB,
        batch: () => Promise.reject(new Error('D1 down')),
        prepare: env.DB.prepare.bind(env.DB),
      },
    }
    const e = event({ userId: 'u-503', itemId: 'x', timestamp: at(1) })
    const { status, body } = await json<ErrorBody>(app, '/v1/events', {
      method: 'POST',
      body: JSON.stringify({ events: [e] }),
      bindings: failing as unknown as typeof env,
    })
    expect(status).toBe(503)
    expect(body.error.code).toBe('STORAGE_UNAVAILABLE')
    expect(await rowsOf([e.id as string])).toHaveLength(0)
  })
})

describe('user activity and identity merge', () => {
  it('should return the newest N events of a user, newest first, bounded by the limit', async () => {
    const userId = `u-act-${crypto.randomUUID()}`
    const batch = Array.from({ length: 300 }, (_, i) =>
      event({ userId, itemId: `sku-${i}`, timestamp: at(0) + i * 1000 }),
    )
    await post({ events: batch })
    const newest = await eventsOf(userId, { limit: 50 })
    expect(newest).toHaveLength(50)
    expect(newest.map((e) => e.itemId)).toEqual(Array.from({ length: 50 }, (_, i) => `sku-${299 - i}`))
    expect(newest[0]).toEqual({
      itemId: 'sku-299',
      type: 'view',
      value: null,
      timestamp: at(0) + 299_000,
      receivedAt: NOW,
    })
    const since = await eventsOf(userId, { limit: 1000, since: at(0) + 289_000 })
    expect(since.map((e) => e.itemId)).toEqual(Array.from({ length: 10 }, (_, i) => `sku-${299 - i}`))
  })

  it('should merge anonymous events into the user once an event carries both ids', async () => {
    const anonymousId = `a-merge-${crypto.randomUUID()}`
    const userId = `u-merge-${crypto.randomUUID()}`
    await post({
      events: [
        event({ anonymousId, itemId: 'before-1', timestamp: at(1) }),
        event({ anonymousId, itemId: 'before-2', timestamp: at(2) }),
      ],
    })
    expect(await eventsOf(userId, { limit: 10 })).toEqual([])
    // Before identify, the anonymous id sees only its own events.
    expect((await eventsOf(anonymousId, { limit: 10 })).map((e) => e.itemId)).toEqual([
      'before-2',
      'before-1',
    ])

    await post({ events: [event({ userId, anonymousId, itemId: 'identify', timestamp: at(3) })] })
    await post({
      events: [
        event({ userId, itemId: 'after-user', timestamp: at(4) }),
        event({ anonymousId, itemId: 'after-anon', timestamp: at(5) }),
      ],
    })
    const merged = ['after-anon', 'after-user', 'identify', 'before-2', 'before-1']
    expect((await eventsOf(userId, { limit: 10 })).map((e) => e.itemId)).toEqual(merged)
    // The linked anonymous id resolves to its user; the event carrying both ids appears once.
    expect((await eventsOf(anonymousId, { limit: 10 })).map((e) => e.itemId)).toEqual(merged)
    expect((await eventsOf(userId, { limit: 2 })).map((e) => e.itemId)).toEqual(['after-anon', 'after-user'])
  })

  it('should keep an anonymous id with the first user it was linked to', async () => {
    const anonymousId = `a-shared-${crypto.randomUUID()}`
    await post({ events: [event({ userId: 'first-owner-x', anonymousId, itemId: 'p1', timestamp: at(1) })] })
    await post({ events: [event({ userId: 'second-owner-x', anonymousId, itemId: 'p2', timestamp: at(2) })] })
    const { results } = await env.DB.prepare('SELECT user_id FROM identity_links WHERE anonymous_id = ?')
      .bind(anonymousId)
      .all<{ user_id: string }>()
    expect(results).toEqual([{ user_id: 'first-owner-x' }])
    // second-owner's own event still counts for them (it carries their user id).
    expect((await eventsOf('second-owner-x', { limit: 10 })).map((e) => e.itemId)).toEqual(['p2'])
  })
})

describe('DELETE /v1/admin/users/:userId', () => {
  const fixture = trainClusteredModel({ version: 'delete-v1', seed: 5 })
  beforeAll(async () => {
    await publishVersion(env, fixture)
  })

  it('should delete the user, their linked anonymous ids events and links, and nothing else', async () => {
    const userId = `u-del-${crypto.randomUUID()}`
    const anonymousId = `a-del-${crypto.randomUUID()}`
    const bystander = `u-keep-${crypto.randomUUID()}`
    await post({
      events: [
        event({ anonymousId, itemId: fixture.itemIds[0]!, timestamp: at(1) }),
        event({ userId, anonymousId, itemId: fixture.itemIds[1]!, timestamp: at(2) }),
        event({ userId, itemId: fixture.itemIds[2]!, timestamp: at(3) }),
        event({ userId: bystander, itemId: fixture.itemIds[3]!, timestamp: at(4) }),
      ],
    })
    const before = await json<{ source: string }>(app, `/v1/users/${userId}/recommendations`)
    expect(before.body.source).toBe('fold-in')

    const forbidden = await json<ErrorBody>(app, `/v1/admin/users/${userId}`, { method: 'DELETE' })
    expect(forbidden.status).toBe(403)
    expect(await eventsOf(userId, { limit: 10 })).toHaveLength(3)

    const { status, body, headers } = await json(app, `/v1/admin/users/${userId}`, {
      method: 'DELETE',
      as: 'secret',
    })
    expect(status).toBe(200)
    expect(headers.get('cache-control')).toBe('no-store')
    expect(body).toEqual({
      userId,
      // The served list above is written after its answer (no execution context here), so its count
      // may be 0 or 1; test/online.test.ts checks the deletion of lists and assignments exactly.
      deleted: {
        events: 3,
        identityLinks: 1,
        anonymousIds: [anonymousId],
        impressions: expect.any(Number),
        assignments: 0,
        shadowOverlaps: 0,
      },
    })
    expect(await eventsOf(userId, { limit: 10 })).toEqual([])
    expect(await eventsOf(anonymousId, { limit: 10 })).toEqual([])
    expect(await eventsOf(bystander, { limit: 10 })).toHaveLength(1)
    const after = await json<{ source: string }>(app, `/v1/users/${userId}/recommendations`)
    expect(after.body.source).toBe('popular')
    // Deleting again finds nothing.
    expect(await deleteUserData(env.DB, userId, Date.now())).toEqual({
      events: 0,
      links: 0,
      anonymousIds: [],
    })
  })

  it('should hide a trained user of the live model at once (deletion list, docs/privacy.md)', async () => {
    const user = fixture.users[0]!
    const sent = await post({
      events: [event({ userId: user.id, itemId: fixture.itemIds[50]!, timestamp: at(10) })],
    })
    expect(sent.body.accepted).toBe(1)
    expect((await json<{ source: string }>(app, `/v1/users/${user.id}/recommendations`)).body.source).toBe(
      'fold-in',
    )
    const { body } = await json<{ deleted: { events: number } }>(app, `/v1/admin/users/${user.id}`, {
      method: 'DELETE',
      as: 'secret',
    })
    expect(body.deleted.events).toBe(1)
    // The trained vector stays in the version's shards, but the deletion list hides it from serving
    // until a version created after the deletion is live.
    expect((await json<{ source: string }>(app, `/v1/users/${user.id}/recommendations`)).body.source).toBe(
      'popular',
    )
  })

  it('should delete the events of an anonymous id by its own id', async () => {
    const anonymousId = `a-only-${crypto.randomUUID()}`
    await post({
      events: [
        event({ anonymousId, itemId: 'z1', timestamp: at(1) }),
        event({ anonymousId, itemId: 'z2', timestamp: at(2) }),
      ],
    })
    const { body } = await json<{ deleted: { events: number } }>(app, `/v1/admin/users/${anonymousId}`, {
      method: 'DELETE',
      as: 'secret',
    })
    expect(body.deleted.events).toBe(2)
    expect(await eventsOf(anonymousId, { limit: 10 })).toEqual([])
  })

  it('should reject a malformed user id with 400', async () => {
    const { status, body } = await json<ErrorBody>(app, `/v1/admin/users/${encodeURIComponent('bad id')}`, {
      method: 'DELETE',
      as: 'secret',
    })
    expect(status).toBe(400)
    expect(body.error.code).toBe('INVALID_PARAMETER')
  })
})
