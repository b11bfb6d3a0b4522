import { describe, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
import { loadUserActivity } from '../src/db/activity.js'
import { ModelStore } from '../src/model/model-store.js'
import type { IdentifyBody } from '../src/routes/identify.js'
import { publishVersion, trainClusteredModel } from './fixtures/model.js'
import { env, event, json, sendEvents } from './helpers.js'

type ErrorBody = { error: { code: string; message: string; details?: { field: string; code: string }[] } }
type RecBody = { items: { itemId: string }[]; source: string }

const app = createApp({ store: new ModelStore() })

function identify(body: unknown, init: { raw?: string; as?: 'publishable' | 'secret' | null } = {}) {
  return json<IdentifyBody & ErrorBody>(app, '/v1/identify', {
    method: 'POST',
    as: init.as,
    headers: { 'content-type': 'application/json' },
    body: init.raw ?? JSON.stringify(body),
  })
}

async function linkOf(anonymousId: string): Promise<string[]> {
  const { results } = await env.DB.prepare('SELECT user_id FROM identity_links WHERE anonymous_id = ?')
    .bind(anonymousId)
    .all<{ user_id: string }>()
  return results.map((r) => r.user_id)
}

describe('POST /v1/identify', () => {
  it('should link the anonymous history to the user at once, without an event', async () => {
    const anonymousId = `a-id-${crypto.randomUUID()}`
    const userId = `u-id-${crypto.randomUUID()}`
    await sendEvents(app, [
      event({ anonymousId, itemId: 'anon-1' }),
      event({ anonymousId, itemId: 'anon-2' }),
    ])
    expect((await loadUserActivity(env.DB, userId, { limit: 10 })).events).toEqual([])

    const { status, body, headers } = await identify({ userId, anonymousId })
    expect(status).toBe(200)
    expect(body).toEqual({ userId, anonymousId, linked: true })
    expect(headers.get('cache-control')).toBe('no-store')
    expect(await linkOf(anonymousId)).toEqual([userId])
    expect(
      (await loadUserActivity(env.DB, userId, { limit: 10 })).events.map((e) => e.itemId).sort(),
    ).toEqual(['anon-1', 'anon-2'])
  })

  it('should keep the first link: a repeated or conflicting call changes nothing', async () => {
    const anonymousId = `a-first-${crypto.randomUUID()}`
    expect((await identify({ userId: 'first-user-y', anonymousId })).body.linked).toBe(true)
    expect((await identify({ userId: 'first-user-y', anonymousId })).body.linked).toBe(false)
    expect((await identify({ userId: 'other-user-y', anonymousId })).body.linked).toBe(false)
    // An event carrying both ids after it follows the same rule (shared code in db/ingest.ts).
    await sendEvents(app, [event({ userId: 'third-user-y', anonymousId, itemId: 'p' })])
    expect(await linkOf(anonymousId)).toEqual(['first-user-y'])
  })

  it('should not override a link made earlier by an event', async () => {
    const anonymousId = `a-ev-${crypto.randomUUID()}`
    await sendEvents(app, [event({ userId: 'event-user-z', anonymousId, itemId: 'p' })])
    expect((await identify({ userId: 'late-user-z', anonymousId })).body.linked).toBe(false)
    expect(await linkOf(anonymousId)).toEqual(['event-user-z'])
  })

  it('should answer 400 with field errors for a bad body, and store nothing', async () => {
    const anonymousId = `a-bad-${crypto.randomUUID()}`
    const bad = await identify({ userId: 'has space', anonymousId, extra: 1 })
    expect(bad.status).toBe(400)
    expect(bad.body.error.code).toBe('INVALID_REQUEST')
    expect(bad.body.error.details?.map((d) => `${d.field}:${d.code}`)).toEqual([
      'extra:unknown_field',
      'userId:pattern',
    ])
    expect(await linkOf(anonymousId)).toEqual([])
    const missing = await identify({ userId: 'u' })
    expect(missing.status).toBe(400)
    expect(missing.body.error.message).toContain('anonymousId is required')
    const malformed = await identify(undefined, { raw: '{"userId":' })
    expect(malformed.status).toBe(400)
    expect(malformed.body.error.message).toMatch(/not valid JSON/)
  })

  it('should need a key, and answer other methods with 405', async () => {
    const anonymousId = `a-key-${crypto.randomUUID()}`
    expect((await identify({ userId: 'u-key', anonymousId }, { as: null })).status).toBe(401)
    expect(await linkOf(anonymousId)).toEqual([])
    const get = await json<ErrorBody>(app, '/v1/identify')
    expect(get.status).toBe(405)
    expect(get.headers.get('allow')).toBe('POST')
  })

  it('should answer 413 for a body over 16 KiB', async () => {
    const { status, body } = await identify(undefined, {
      raw: JSON.stringify({ userId: 'x'.repeat(20_000) }),
    })
    expect(status).toBe(413)
    expect(body.error.code).toBe('PAYLOAD_TOO_LARGE')
  })

  it('should answer 503 STORAGE_UNAVAILABLE when D1 fails', async () => {
    const broken = {
      ...env,
      DB: {
        prepare: () => {
          throw new Error('D1 is down')
        },
        batch: () => Promise.reject(new Error('D1 is down')),
      } as unknown as D1Database,
    }
    const { status, body } = await json<ErrorBody>(app, '/v1/identify', {
      method: 'POST',
      bindings: broken,
      body: JSON.stringify({ userId: 'u-down', anonymousId: 'a-down' }),
    })
    expect(status).toBe(503)
    expect(body.error.code).toBe('STORAGE_UNAVAILABLE')
  })

  it('should personalize the next recommendations of the user from the anonymous clicks', async () => {
    const fixture = trainClusteredModel({ version: 'identify-v1', seed: 33 })
    await publishVersion(env, fixture)
    const cluster = fixture.itemIds.filter((_, i) => fixture.itemCluster[i] === 3)
    const anonymousId = `a-rec-${crypto.randomUUID()}`
    const userId = `u-rec-${crypto.randomUUID()}`
    await sendEvents(
      app,
      cluster.slice(0, 5).map((itemId) => event({ anonymousId, itemId })),
    )
    expect((await json<RecBody>(app, `/v1/users/${userId}/recommendations`)).body.source).toBe('popular')
    await identify({ userId, anonymousId })
    const { body } = await json<RecBody>(app, `/v1/users/${userId}/recommendations?k=5`)
    expect(body.source).toBe('fold-in')
    for (const item of body.items) expect(cluster).toContain(item.itemId)
  })
})
