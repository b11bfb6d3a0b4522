/**
 * The batched online writes (issue 15, latency): served lists and first assignments wait in the
 * isolate and are written together; an impression that arrives before its list still counts; a
 * person erased while their rows were pending is not written back; a repeat visitor's variant comes
 * from the isolate's memory.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
import { OnlineWrites } from '../src/attribution/online-writes.js'
import { RecIds } from '../src/attribution/rec-id.js'
import { deleteStaleMarks, PENDING_MARK_MS } from '../src/attribution/rec-lists.js'
import { AssignmentCache } from '../src/experiments/assignment.js'
import type { Experiment } from '../src/experiments/definition.js'
import type { OnlineState } from '../src/experiments/serve.js'
import { ExperimentCache } from '../src/experiments/store.js'
import { VersionCache } from '../src/experiments/versions.js'
import { type ModelFixture, publishVersion, trainClusteredModel } from './fixtures/model.js'
import { env, KEYS } from './helpers.js'

type ListBody = { recId: string; variant: string; items: { itemId: string }[] }

let clock = Date.now()
const online: OnlineState = {
  experiments: new ExperimentCache(),
  versions: new VersionCache(),
  assignments: new AssignmentCache(),
  writes: new OnlineWrites(),
}
const app = createApp({ now: () => clock, online })
/** A long batch window: rows stay pending until the test flushes them. */
const batched = { ...env, RECORD_FLUSH_MS: '10000', MODEL_REFRESH_SECONDS: '60' }

/** Calls the app WITHOUT waiting for its `waitUntil` work (the pending batch). */
async function request<T>(
  path: string,
  init: RequestInit & { as?: keyof typeof KEYS } = {},
): Promise<{ status: number; body: T }> {
  const { as = 'publishable', ...rest } = init
  const headers = new Headers(rest.headers)
  headers.set('authorization', `Bearer ${KEYS[as]}`)
  if (rest.body) headers.set('content-type', 'application/json')
  const response = await app.request(
    `https://edge.test${path}`,
    { ...rest, headers },
    batched,
    createExecutionContext(),
  )
  return { status: response.status, body: (await response.json()) as T }
}

async function rowOf(recId: string): Promise<Record<string, unknown> | null> {
  return env.DB.prepare('SELECT * FROM rec_lists WHERE rec_id = ?1').bind(recId).first()
}

let fixture: ModelFixture

beforeAll(async () => {
  fixture = trainClusteredModel({ version: 'writes-v1' })
  await publishVersion(env, fixture)
})

describe('OnlineWrites', () => {
  it('should hold served lists until the batch is written, then write them all in one go', async () => {
    const answers = []
    for (const user of fixture.users.slice(0, 5))
      answers.push((await request<ListBody>(`/v1/users/${user.id}/recommendations?k=4`)).body)
    expect(online.writes.pending).toBe(5)
    expect(await rowOf(answers[0]!.recId)).toBeNull()
    await online.writes.flush(env.DB)
    expect(online.writes.pending).toBe(0)
    for (const [i, answer] of answers.entries()) {
      expect(await rowOf(answer.recId)).toMatchObject({
        surface: 'recommendations',
        user_key: fixture.users[i]!.id,
        variant: 'live',
        items: answer.items.map((item) => item.itemId).join('\n'),
        served_at: clock,
        shown_at: null,
      })
    }
  })

  it('should write at once when a batch is full, in the request that filled it', async () => {
    const writes = new OnlineWrites()
    const fullApp = createApp({
      now: () => clock,
      online: { ...online, writes },
    })
    let last = ''
    for (let i = 0; i < 64; i++) {
      const ctx = createExecutionContext()
      const response = await fullApp.request(
        `https://edge.test/v1/popular?k=2&userId=full-${i}`,
        { headers: { authorization: `Bearer ${KEYS.publishable}` } },
        batched,
        ctx,
      )
      last = ((await response.json()) as ListBody).recId
      if (i === 63) await waitOnExecutionContext(ctx)
    }
    expect(writes.pending).toBe(0)
    expect(await rowOf(last)).toMatchObject({ surface: 'popular', user_key: 'full-63' })
  })

  it('should count an impression that arrives before its list is written', async () => {
    const { body } = await request<ListBody>(`/v1/users/${fixture.users[6]!.id}/recommendations?k=3`)
    clock += 500
    const shown = await request<{ shown: number }>('/v1/impressions', {
      method: 'POST',
      body: JSON.stringify({ recIds: [body.recId] }),
    })
    expect(shown).toEqual({ status: 200, body: { shown: 1, rejected: 0, errors: [] } })
    expect(await rowOf(body.recId)).toMatchObject({ surface: '', shown_at: clock })
    await online.writes.flush(env.DB)
    expect(await rowOf(body.recId)).toMatchObject({
      surface: 'recommendations',
      user_key: fixture.users[6]!.id,
      served_at: clock - 500,
      shown_at: clock,
    })
    // A second report changes nothing.
    const again = await request<{ shown: number }>('/v1/impressions', {
      method: 'POST',
      body: JSON.stringify({ recIds: [body.recId] }),
    })
    expect(again.body.shown).toBe(0)
  })

  it('should drop impressions whose list never arrived after a day, and only those', async () => {
    // A genuine recId whose list is never written (a write that failed): its mark stays pending.
    const orphan = await RecIds.of(env).issue()
    await request('/v1/impressions', { method: 'POST', body: JSON.stringify({ recIds: [orphan] }) })
    const { body } = await request<ListBody>(`/v1/users/${fixture.users[7]!.id}/recommendations?k=3`)
    await request('/v1/impressions', { method: 'POST', body: JSON.stringify({ recIds: [body.recId] }) })
    await online.writes.flush(env.DB)
    expect(await deleteStaleMarks(env.DB, clock + PENDING_MARK_MS - 1)).toBe(0)
    expect(await deleteStaleMarks(env.DB, clock + PENDING_MARK_MS + 1)).toBe(1)
    expect(await rowOf(orphan)).toBeNull()
    expect(await rowOf(body.recId)).toMatchObject({ surface: 'recommendations' })
  })

  it('should not write back the pending lists and assignments of a person erased meanwhile', async () => {
    const user = fixture.users[8]!.id
    const created = await request<Experiment>('/v1/admin/experiments', {
      method: 'POST',
      as: 'secret',
      body: JSON.stringify({
        name: 'erase-pending',
        surface: 'recommendations',
        variants: [
          { name: 'a', weight: 1, strategy: 'model' },
          { name: 'b', weight: 1, strategy: 'model' },
        ],
      }),
    })
    await request(`/v1/admin/experiments/${created.body.id}/start`, { method: 'POST', as: 'secret' })
    const { body } = await request<ListBody>(`/v1/users/${user}/recommendations?k=3`)
    expect(body.variant).not.toBe('live')
    expect(online.writes.pending).toBe(2)
    clock += 1
    const deleted = await request<{ deleted: { impressions: number } }>(`/v1/admin/users/${user}`, {
      method: 'DELETE',
      as: 'secret',
    })
    expect(deleted.status).toBe(200)
    await online.writes.flush(env.DB)
    expect(await rowOf(body.recId)).toBeNull()
    const assignments = await env.DB.prepare(
      'SELECT COUNT(*) AS n FROM experiment_assignments WHERE user_key = ?1',
    )
      .bind(user)
      .first<{ n: number }>()
    expect(assignments?.n).toBe(0)
    await request(`/v1/admin/experiments/${created.body.id}/stop`, { method: 'POST', as: 'secret' })
  })
})

describe('AssignmentCache', () => {
  it('should serve a repeat visitor from memory within the TTL and read D1 after it', async () => {
    const cache = new AssignmentCache()
    cache.set('e1', 'u1', 'b', 1000)
    expect(cache.get('e1', 'u1', 1000 + 59_999, 60_000)).toBe('b')
    expect(cache.get('e1', 'u1', 1000 + 60_000, 60_000)).toBeUndefined()
    expect(cache.get('e1', 'u2', 1000, 60_000)).toBeUndefined()
    expect(cache.get('e2', 'u1', 1000, 60_000)).toBeUndefined()
  })

  it('should keep a person on the variant the isolate gave them without a D1 lookup', async () => {
    const created = await request<Experiment>('/v1/admin/experiments', {
      method: 'POST',
      as: 'secret',
      body: JSON.stringify({
        name: 'remembered',
        surface: 'recommendations',
        variants: [
          { name: 'a', weight: 1, strategy: 'model' },
          { name: 'b', weight: 1, strategy: 'popular' },
        ],
      }),
    })
    await request(`/v1/admin/experiments/${created.body.id}/start`, { method: 'POST', as: 'secret' })
    const user = fixture.users[9]!.id
    const first = await request<ListBody>(`/v1/users/${user}/recommendations?k=3`)
    await online.writes.flush(env.DB)
    // Rewrite the stored assignment behind the isolate's back: the remembered one still serves.
    const other = first.body.variant === 'a' ? 'b' : 'a'
    await env.DB.prepare('UPDATE experiment_assignments SET variant = ?1 WHERE user_key = ?2')
      .bind(other, user)
      .run()
    expect((await request<ListBody>(`/v1/users/${user}/recommendations?k=3`)).body.variant).toBe(
      first.body.variant,
    )
    // After the TTL (MODEL_REFRESH_SECONDS = 60) the stored one is read again.
    clock += 60_000
    expect((await request<ListBody>(`/v1/users/${user}/recommendations?k=3`)).body.variant).toBe(other)
    await request(`/v1/admin/experiments/${created.body.id}/stop`, { method: 'POST', as: 'secret' })
    await online.writes.flush(env.DB)
  })
})
