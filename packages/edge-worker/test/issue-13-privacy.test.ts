/**
 * Issue 13, finding 1 (and 5): who may read what about a person. Explanations need the secret key or
 * a user token for that person; a linked anonymous id does not read as its user without one; a
 * deleted person disappears from every answer at once; `USER_TOKENS=required` closes writes and
 * reads that name a user without their token; deletion follows who an event belongs to.
 */
import { signUserToken } from '@edgerec/core'
import { beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
import { type ModelFixture, publishVersion, trainClusteredModel } from './fixtures/model.js'
import { env, event, json, sendEvents, USER_TOKEN_SECRET } from './helpers.js'

type Because = { itemId: string; contribution: number }
type RecBody = {
  userId: string
  items: { itemId: string; score: number; because?: Because[] }[]
  source: string
}
type ErrorBody = { error: { code: string; message: string; details?: unknown } }

const app = createApp()
let fixture: ModelFixture

beforeAll(async () => {
  fixture = trainClusteredModel({ version: 'privacy-v1', seed: 13 })
  await publishVersion(env, fixture)
})

const token = (userId: string, ttlSeconds = 600) => signUserToken(userId, USER_TOKEN_SECRET, { ttlSeconds })
const withToken = async (userId: string) => ({ 'x-edgerec-user-token': await token(userId) })

describe('explanations (issue 13, finding 1)', () => {
  it('should refuse explain=1 with the publishable key alone (403 USER_TOKEN_REQUIRED)', async () => {
    const user = fixture.users[3]!
    const { status, body } = await json<ErrorBody>(app, `/v1/users/${user.id}/recommendations?explain=1`)
    expect(status).toBe(403)
    expect(body.error.code).toBe('USER_TOKEN_REQUIRED')
    expect(JSON.stringify(body)).not.toContain('because')
  })

  it('should explain with a user token for that same user', async () => {
    const user = fixture.users[3]!
    const { status, body } = await json<RecBody>(app, `/v1/users/${user.id}/recommendations?k=5&explain=1`, {
      headers: await withToken(user.id),
    })
    expect(status).toBe(200)
    const own = new Set(user.interactions.map((i) => fixture.itemIds[i.index]))
    expect(body.items.length).toBe(5)
    for (const item of body.items) for (const b of item.because!) expect(own.has(b.itemId)).toBe(true)
  })

  it('should refuse a token for another user, and serve the recommendations alone without explain', async () => {
    const victim = fixture.users[4]!
    const refused = await json<ErrorBody>(app, `/v1/users/${victim.id}/recommendations?explain=1`, {
      headers: await withToken('attacker-1'),
    })
    expect(refused.status).toBe(403)
    expect(refused.body.error.code).toBe('USER_TOKEN_REQUIRED')
    const plain = await json<RecBody>(app, `/v1/users/${victim.id}/recommendations`)
    expect(plain.status).toBe(200)
    expect(plain.body.items.every((i) => i.because === undefined)).toBe(true)
  })

  it('should explain with the secret key', async () => {
    const user = fixture.users[3]!
    const { status, body } = await json<RecBody>(app, `/v1/users/${user.id}/recommendations?explain=1`, {
      as: 'secret',
    })
    expect(status).toBe(200)
    expect(body.items[0]!.because!.length).toBeGreaterThan(0)
  })

  it('should answer 401 USER_TOKEN_INVALID for a forged, expired or garbage token', async () => {
    const user = fixture.users[3]!
    const forged = await signUserToken(user.id, 'someone-elses-secret-0123456789abcdef')
    const expired = await signUserToken(user.id, USER_TOKEN_SECRET, {
      ttlSeconds: 1,
      now: Date.now() - 3_600_000,
    })
    for (const bad of [forged, expired, 'not-a-token']) {
      const { status, body } = await json<ErrorBody>(app, `/v1/users/${user.id}/recommendations`, {
        headers: { 'x-edgerec-user-token': bad },
      })
      expect(status).toBe(401)
      expect(body.error.code).toBe('USER_TOKEN_INVALID')
    }
  })

  it('should allow the user-token header in CORS preflights', async () => {
    const response = await app.request(
      'https://edge.test/v1/users/u/recommendations',
      {
        method: 'OPTIONS',
        headers: {
          origin: 'https://shop.example',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization, x-edgerec-user-token',
        },
      },
      env,
    )
    expect(response.headers.get('access-control-allow-headers')?.toLowerCase()).toContain(
      'x-edgerec-user-token',
    )
  })
})

describe('linking an anonymous id to someone else (issue 13, finding 1)', () => {
  it("should not let a linked anonymous id read its user's history without that user's token", async () => {
    const victim = `victim-${crypto.randomUUID()}`
    const attackerAnon = `anon-attacker-${crypto.randomUUID()}`
    const cluster = fixture.itemIds.filter((_, i) => fixture.itemCluster[i] === 2)
    await sendEvents(
      app,
      cluster.slice(0, 4).map((itemId) => event({ userId: victim, itemId })),
    )
    // The attacker holds the publishable key and pairs their anonymous id with the victim's user id.
    await sendEvents(app, [event({ userId: victim, anonymousId: attackerAnon, itemId: cluster[9]! })])

    const read = await json<RecBody>(app, `/v1/users/${attackerAnon}/recommendations?k=20`)
    expect(read.status).toBe(200)
    // Only the attacker's own (linking) event enters their fold-in, none of the victim's four.
    expect(read.headers.get('x-edgerec-fold-in-events')).toBe('1')

    // The victim, proving who they are, still sees the merge.
    const own = await json<RecBody>(app, `/v1/users/${attackerAnon}/recommendations`, {
      headers: await withToken(victim),
    })
    expect(own.headers.get('x-edgerec-fold-in-events')).toBe('5')
  })
})

describe('deleted people disappear at once (issue 13, finding 1)', () => {
  it('should stop serving a deleted trained user from the old model, with no explanations of their history', async () => {
    const user = fixture.users[5]!
    const before = await json<RecBody>(app, `/v1/users/${user.id}/recommendations`)
    expect(before.body.source).toBe('model')
    const deleted = await json(app, `/v1/admin/users/${user.id}`, { method: 'DELETE', as: 'secret' })
    expect(deleted.status).toBe(200)

    const after = await json<RecBody>(app, `/v1/users/${user.id}/recommendations?k=5`)
    expect(after.body.source).toBe('popular')
    const explained = await json<RecBody>(app, `/v1/users/${user.id}/recommendations?k=5&explain=1`, {
      as: 'secret',
    })
    expect(explained.body.source).toBe('popular')
    for (const item of explained.body.items) expect(item.because ?? []).toEqual([])
    const { results } = await env.DB.prepare('SELECT user_key FROM deleted_users WHERE user_key = ?')
      .bind(user.id)
      .all()
    expect(results).toHaveLength(1)
  })

  it('should serve the person again from a model created after the deletion', async () => {
    const user = fixture.users[6]!
    await json(app, `/v1/admin/users/${user.id}`, { method: 'DELETE', as: 'secret' })
    expect((await json<RecBody>(app, `/v1/users/${user.id}/recommendations`)).body.source).toBe('popular')
    // A later training run that still holds this id (new events after the deletion) is used again.
    const retrained = trainClusteredModel({ version: 'privacy-v2', seed: 13, trainedUntil: Date.now() })
    await publishVersion(env, retrained)
    // A fresh isolate loads the new version before answering (an old one swaps in the background).
    const fresh = createApp()
    expect((await json<RecBody>(fresh, `/v1/users/${user.id}/recommendations`)).body.source).toBe('model')
    await publishVersion(env, fixture)
  })
})

describe('USER_TOKENS=required (issue 13, finding 1)', () => {
  const strict = { ...env, USER_TOKENS: 'required' }

  it('should reject, one by one, events that name a user without that user’s token', async () => {
    const victim = `strict-victim-${crypto.randomUUID()}`
    const anonymousId = `strict-anon-${crypto.randomUUID()}`
    const { body } = await json<{
      accepted: number
      rejected: number
      results: { status: string; errors?: { field: string; code: string }[] }[]
    }>(app, '/v1/events', {
      method: 'POST',
      bindings: strict,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        events: [event({ userId: victim, anonymousId, itemId: 'x1' }), event({ anonymousId, itemId: 'x2' })],
      }),
    })
    expect(body.accepted).toBe(1)
    expect(body.rejected).toBe(1)
    expect(body.results[0]!.errors).toEqual([
      expect.objectContaining({ field: 'userId', code: 'unauthorized' }),
    ])
    const { results } = await env.DB.prepare('SELECT * FROM identity_links WHERE anonymous_id = ?')
      .bind(anonymousId)
      .all()
    expect(results).toEqual([])

    const own = await json<{ accepted: number }>(app, '/v1/events', {
      method: 'POST',
      bindings: strict,
      headers: { 'content-type': 'application/json', ...(await withToken(victim)) },
      body: JSON.stringify({ events: [event({ userId: victim, anonymousId, itemId: 'x1' })] }),
    })
    expect(own.body.accepted).toBe(1)
  })

  it('should refuse POST /v1/identify for another user without their token', async () => {
    const victim = `strict-identify-${crypto.randomUUID()}`
    const anonymousId = `strict-identify-anon-${crypto.randomUUID()}`
    const body = JSON.stringify({ userId: victim, anonymousId })
    const headers = { 'content-type': 'application/json' }
    const refused = await json<ErrorBody>(app, '/v1/identify', {
      method: 'POST',
      bindings: strict,
      headers,
      body,
    })
    expect(refused.status).toBe(403)
    expect(refused.body.error.code).toBe('USER_TOKEN_REQUIRED')
    const own = await json<{ linked: boolean }>(app, '/v1/identify', {
      method: 'POST',
      bindings: strict,
      headers: { ...headers, ...(await withToken(victim)) },
      body,
    })
    expect(own.status).toBe(200)
    expect(own.body.linked).toBe(true)
  })

  it("should serve a read without the user's token as an anonymous visitor", async () => {
    const user = fixture.users[8]!
    const open = await json<RecBody>(app, `/v1/users/${user.id}/recommendations`, { bindings: strict })
    expect(open.body.source).toBe('popular')
    const proven = await json<RecBody>(app, `/v1/users/${user.id}/recommendations`, {
      bindings: strict,
      headers: await withToken(user.id),
    })
    expect(proven.body.source).toBe('model')
    const secret = await json<RecBody>(app, `/v1/users/${user.id}/recommendations`, {
      bindings: strict,
      as: 'secret',
    })
    expect(secret.body.source).toBe('model')
  })
})

describe('deletion follows who an event belongs to (issue 13, finding 5)', () => {
  const del = (id: string) =>
    json<{ deleted: { events: number; identityLinks: number; anonymousIds: string[] } }>(
      app,
      `/v1/admin/users/${id}`,
      {
        method: 'DELETE',
        as: 'secret',
      },
    )
  const remaining = async (ids: string[]) => {
    const { results } = await env.DB.prepare(
      `SELECT id FROM events WHERE id IN (${ids.map(() => '?').join(',')}) ORDER BY id`,
    )
      .bind(...ids)
      .all<{ id: string }>()
    return results.map((r) => r.id).sort()
  }

  it("should keep user B's event that carried an anonymous id first linked to user A when A is deleted", async () => {
    const a = `del-a-${crypto.randomUUID()}`
    const b = `del-b-${crypto.randomUUID()}`
    const anon = `del-anon-${crypto.randomUUID()}`
    const anonOnly = event({ anonymousId: anon, itemId: 'i1' })
    const linkA = event({ userId: a, anonymousId: anon, itemId: 'i2' })
    const ownA = event({ userId: a, itemId: 'i3' })
    const bWithAnon = event({ userId: b, anonymousId: anon, itemId: 'i4' })
    const ownB = event({ userId: b, itemId: 'i5' })
    const anonAfter = event({ anonymousId: anon, itemId: 'i6' })
    const all = [anonOnly, linkA, ownA, bWithAnon, ownB, anonAfter]
    await sendEvents(app, all)
    const { body } = await del(a)
    expect(body.deleted).toEqual({
      events: 4,
      identityLinks: 1,
      anonymousIds: [anon],
      impressions: 0,
      assignments: 0,
      shadowOverlaps: 0,
    })
    expect(await remaining(all.map((e) => e.id as string))).toEqual([bWithAnon.id, ownB.id].sort())
  })

  it('should delete only the anonymous-only events when an anonymous id linked to a user is passed', async () => {
    const user = `del-u-${crypto.randomUUID()}`
    const anon = `del-anon2-${crypto.randomUUID()}`
    const anonOnly = event({ anonymousId: anon, itemId: 'j1' })
    const link = event({ userId: user, anonymousId: anon, itemId: 'j2' })
    const own = event({ userId: user, itemId: 'j3' })
    await sendEvents(app, [anonOnly, link, own])
    const { body } = await del(anon)
    expect(body.deleted.events).toBe(1)
    expect(body.deleted.identityLinks).toBe(1)
    expect(await remaining([anonOnly.id, link.id, own.id] as string[])).toEqual([link.id, own.id].sort())
  })

  it('should delete an unlinked anonymous id’s events and leave other ids alone', async () => {
    const anon = `del-anon3-${crypto.randomUUID()}`
    const other = `del-other-${crypto.randomUUID()}`
    const mine = event({ anonymousId: anon, itemId: 'k1' })
    const theirs = event({ anonymousId: other, itemId: 'k2' })
    await sendEvents(app, [mine, theirs])
    const { body } = await del(anon)
    expect(body.deleted).toEqual({
      events: 1,
      identityLinks: 0,
      anonymousIds: [],
      impressions: 0,
      assignments: 0,
      shadowOverlaps: 0,
    })
    expect(await remaining([mine.id, theirs.id] as string[])).toEqual([theirs.id])
  })

  it('should put the user and their linked anonymous ids on the deletion list', async () => {
    const user = `del-list-${crypto.randomUUID()}`
    const anon = `del-list-anon-${crypto.randomUUID()}`
    await sendEvents(app, [event({ userId: user, anonymousId: anon, itemId: 'm1' })])
    await del(user)
    const { results } = await env.DB.prepare(
      'SELECT user_key FROM deleted_users WHERE user_key IN (?, ?) ORDER BY user_key',
    )
      .bind(user, anon)
      .all<{ user_key: string }>()
    expect(results.map((r) => r.user_key).sort()).toEqual([anon, user].sort())
  })
})
