import { dequantizeRows, LIVE_POINTER_KEY, quantizeRows } from '@edgerec/core'
import { beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
import { type ModelFixture, publishVersion, trainClusteredModel } from './fixtures/model.js'
import { call, env, event, json, sendEvents } from './helpers.js'

type Items = { itemId: string; score: number }[]
type ErrorBody = { error: { code: string; message: string; details?: unknown } }

describe('HTTP API v1 routes', () => {
  let fixture: ModelFixture
  const app = createApp()

  beforeAll(async () => {
    fixture = trainClusteredModel({ version: 'routes-v1' })
    await publishVersion(env, fixture)
  })

  describe('GET /v1/health', () => {
    it('should answer without a key and name the live version', async () => {
      const { status, body, headers } = await json(app, '/v1/health', { as: null })
      expect(status).toBe(200)
      expect(body).toEqual({ status: 'ok', modelVersion: 'routes-v1' })
      expect(headers.get('cache-control')).toBe('no-store')
    })
  })

  describe('GET /v1/model', () => {
    it('should describe the loaded version', async () => {
      const { status, body } = await json<Record<string, unknown>>(app, '/v1/model')
      expect(status).toBe(200)
      expect(body.version).toBe('routes-v1')
      expect(body.dims).toBe(8)
      expect(body.counts).toEqual({ users: 80, items: 120, interactions: 640 })
      expect(Date.parse(body.loadedAt as string)).not.toBeNaN()
      expect((body.metrics as { models: Record<string, unknown> }).models.als).toBeDefined()
      expect(body.lastError).toBeNull()
      expect((body.memory as { total: number }).total).toBeGreaterThan(0)
    })
  })

  describe('GET /v1/users/:userId/recommendations', () => {
    it('should score a known user with the model, excluding their training items', async () => {
      const user = fixture.users[5]!
      const { status, body, headers } = await json<{
        userId: string
        items: Items
        source: string
        modelVersion: string
      }>(app, `/v1/users/${user.id}/recommendations?k=10`)
      expect(status).toBe(200)
      expect(body.source).toBe('model')
      expect(body.modelVersion).toBe('routes-v1')
      expect(body.userId).toBe(user.id)
      expect(body.items).toHaveLength(10)
      const trained = new Set(user.interactions.map((i) => fixture.itemIds[i.index]))
      for (const item of body.items) expect(trained.has(item.itemId)).toBe(false)
      const scores = body.items.map((i) => i.score)
      expect([...scores].sort((a, b) => b - a)).toEqual(scores)
      expect(headers.get('cache-control')).toBe('private, no-store')
    })

    it('should score a known user with int8 dot products of the stored factors', async () => {
      const user = fixture.users[0]!
      const { body } = await json<{ items: Items }>(app, `/v1/users/${user.id}/recommendations?k=3`)
      // Independent recomputation: s_u · s_i · Σ q_u q_i over the same quantized rows.
      const qi = quantizeRows(fixture.itemFactors, fixture.itemIds.length, fixture.dims)
      const qu = quantizeRows(user.vector, 1, fixture.dims)
      for (const item of body.items) {
        const i = fixture.itemIds.indexOf(item.itemId)
        let dot = 0
        for (let d = 0; d < fixture.dims; d++) dot += qu.values[d]! * qi.values[i * fixture.dims + d]!
        expect(item.score).toBeCloseTo(qu.scales[0]! * qi.scales[i]! * dot, 5)
      }
    })

    it('should honour exclude=', async () => {
      const user = fixture.users[1]!
      const first = await json<{ items: Items }>(app, `/v1/users/${user.id}/recommendations?k=5`)
      const drop = first.body.items.slice(0, 2).map((i) => i.itemId)
      const second = await json<{ items: Items }>(
        app,
        `/v1/users/${user.id}/recommendations?k=5&exclude=${drop.join(',')}`,
      )
      expect(second.body.items.map((i) => i.itemId)).not.toContain(drop[0])
      expect(second.body.items.map((i) => i.itemId)).not.toContain(drop[1])
      expect(second.body.items[0]!.itemId).toBe(first.body.items[2]!.itemId)
    })

    it('should serve an unknown user without events the popularity list', async () => {
      const { body } = await json<{ items: Items; source: string; modelVersion: string }>(
        app,
        '/v1/users/nobody-ever/recommendations?k=4&exclude=item-0000',
      )
      expect(body.source).toBe('popular')
      expect(body.modelVersion).toBe('routes-v1')
      const counts = new Map<string, number>()
      for (const u of fixture.users)
        for (const p of u.interactions)
          counts.set(fixture.itemIds[p.index]!, (counts.get(fixture.itemIds[p.index]!) ?? 0) + 1)
      const expected = [...counts.entries()]
        .filter(([id]) => id !== 'item-0000')
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .slice(0, 4)
      expect(body.items).toEqual(expected.map(([itemId, score]) => ({ itemId, score })))
    })

    it('should serve the trending list to unknown users when FALLBACK_LIST=trending', async () => {
      const { body } = await json<{ items: Items; source: string }>(
        app,
        '/v1/users/nobody-trending/recommendations?k=2',
        {
          bindings: { ...env, FALLBACK_LIST: 'trending' },
        },
      )
      // The fixture's trending list is the items in reverse order.
      expect(body.items.map((i) => i.itemId)).toEqual(['item-0119', 'item-0118'])
      expect(body.source).toBe('popular')
    })

    it('should exclude items the user consumed after training (D1 events)', async () => {
      const user = fixture.users[2]!
      const before = await json<{ items: Items }>(app, `/v1/users/${user.id}/recommendations?k=5`)
      const consumed = before.body.items.slice(0, 3).map((i) => i.itemId)
      await sendEvents(
        app,
        consumed.map((itemId) => event({ userId: user.id, itemId })),
      )
      const after = await json<{ items: Items; source: string }>(
        app,
        `/v1/users/${user.id}/recommendations?k=5`,
      )
      for (const id of consumed) expect(after.body.items.map((i) => i.itemId)).not.toContain(id)
      expect(after.body.source).toBe('fold-in')
    })

    it.each([
      ['k=0', 'k'],
      ['k=101', 'k'],
      ['k=abc', 'k'],
      ['explain=maybe', 'explain'],
      [`exclude=${Array.from({ length: 201 }, (_, i) => `x${i}`).join(',')}`, 'exclude'],
    ])('should reject %s with 400 and field details', async (query, field) => {
      const { status, body } = await json<ErrorBody>(
        app,
        `/v1/users/${fixture.users[0]!.id}/recommendations?${query}`,
      )
      expect(status).toBe(400)
      expect(body.error.code).toBe('INVALID_PARAMETER')
      expect(body.error.details).toEqual([expect.objectContaining({ field })])
    })

    it('should reject a user id with forbidden characters', async () => {
      const { status, body } = await json<ErrorBody>(app, '/v1/users/bad%22id/recommendations')
      expect(status).toBe(400)
      expect(body.error.details).toEqual([expect.objectContaining({ field: 'userId', code: 'pattern' })])
    })
  })

  describe('GET /v1/items/:itemId/similar', () => {
    it('should rank items by cosine of their dequantized factors', async () => {
      const { status, body, headers } = await json<{
        itemId: string
        items: Items
        source: string
        modelVersion: string
      }>(app, '/v1/items/item-0003/similar?k=5')
      expect(status).toBe(200)
      expect(body).toMatchObject({ itemId: 'item-0003', source: 'model', modelVersion: 'routes-v1' })
      const y = dequantizeRows(quantizeRows(fixture.itemFactors, fixture.itemIds.length, fixture.dims))
      const d = fixture.dims
      const norm = (i: number) => Math.hypot(...y.subarray(i * d, (i + 1) * d))
      const cos = (i: number, j: number) => {
        let s = 0
        for (let k = 0; k < d; k++) s += y[i * d + k]! * y[j * d + k]!
        return s / (norm(i) * norm(j))
      }
      const expected = fixture.itemIds
        .map((_, j) => j)
        .filter((j) => j !== 3)
        .sort((a, b) => cos(3, b) - cos(3, a) || a - b)
        .slice(0, 5)
      expect(body.items.map((i) => i.itemId)).toEqual(expected.map((j) => fixture.itemIds[j]))
      body.items.forEach((item, r) => {
        expect(item.score).toBeCloseTo(cos(3, expected[r]!), 4)
      })
      // Similar items share the cluster of the query item.
      for (const item of body.items)
        expect(fixture.itemCluster[fixture.itemIds.indexOf(item.itemId)]).toBe(fixture.itemCluster[3])
      expect(headers.get('cache-control')).toContain('max-age=60')
    })

    it('should answer 404 ITEM_NOT_FOUND for an unknown item', async () => {
      const { status, body } = await json<ErrorBody>(app, '/v1/items/not-an-item/similar')
      expect(status).toBe(404)
      expect(body.error.code).toBe('ITEM_NOT_FOUND')
      expect(body.error.message).toContain('not-an-item')
    })
  })

  describe('GET /v1/popular', () => {
    it('should list popular and trending items', async () => {
      const popular = await json<{ items: Items; source: string }>(app, '/v1/popular?k=3')
      expect(popular.status).toBe(200)
      expect(popular.body.source).toBe('popular')
      expect(popular.body.items).toHaveLength(3)
      const scores = popular.body.items.map((i) => i.score)
      expect([...scores].sort((a, b) => b - a)).toEqual(scores)
      const trending = await json<{ items: Items; source: string }>(app, '/v1/popular?k=2&kind=trending')
      expect(trending.body).toMatchObject({ source: 'trending', modelVersion: 'routes-v1' })
      expect(trending.body.items.map((i) => i.itemId)).toEqual(['item-0119', 'item-0118'])
    })

    it('should reject an unknown kind', async () => {
      const { status, body } = await json<ErrorBody>(app, '/v1/popular?kind=hot')
      expect(status).toBe(400)
      expect(body.error.details).toEqual([expect.objectContaining({ field: 'kind' })])
    })
  })

  describe('auth', () => {
    it('should answer 401 without a key, with a wrong key and with a malformed header', async () => {
      for (const init of [
        { as: null },
        { as: null, headers: { authorization: 'Bearer nope' } },
        { as: null, headers: { authorization: 'Basic abc' } },
      ] as const) {
        const { status, body } = await json<ErrorBody>(app, '/v1/popular', init)
        expect(status).toBe(401)
        expect(body.error.code).toBe('UNAUTHORIZED')
        expect(body.error.message.length).toBeGreaterThan(20)
      }
    })

    it('should accept x-edgerec-key', async () => {
      const response = await call(app, '/v1/popular', {
        as: null,
        headers: { 'x-edgerec-key': 'pk_test_publishable' },
      })
      expect(response.status).toBe(200)
    })

    it('should accept ?key= only on POST /v1/events', async () => {
      const read = await call(app, '/v1/popular?key=pk_test_publishable', { as: null })
      expect(read.status).toBe(401)
      const beacon = await call(app, '/v1/events?key=pk_test_publishable', {
        as: null,
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify({ events: [event({ userId: 'beacon-user', itemId: 'item-0001' })] }),
      })
      expect(beacon.status).toBe(200)
    })

    it('should refuse the secret key in ?key= (it ends up in URLs and logs; issue 13)', async () => {
      const { status, body } = await json<ErrorBody>(app, '/v1/events?key=sk_test_secret', {
        as: null,
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify({ events: [event({ userId: 'beacon-user', itemId: 'item-0001' })] }),
      })
      expect(status).toBe(401)
      expect(body.error.code).toBe('UNAUTHORIZED')
      expect(body.error.message).toMatch(/secret key was sent in the URL/)
    })

    it('should answer 403 when the publishable key calls admin routes', async () => {
      for (const [method, path] of [
        ['POST', '/v1/admin/models/routes-v1/activate'],
        ['POST', '/v1/admin/models/rollback'],
        ['DELETE', '/v1/admin/users/someone'],
      ] as const) {
        const { status, body } = await json<ErrorBody>(app, path, { method })
        expect(status).toBe(403)
        expect(body.error.code).toBe('FORBIDDEN')
      }
    })

    it('should answer 401 when the worker has no keys configured', async () => {
      const { status, body } = await json<ErrorBody>(app, '/v1/popular', {
        bindings: { ...env, PUBLISHABLE_KEY: undefined, SECRET_KEY: undefined },
      })
      expect(status).toBe(401)
      expect(body.error.message).toContain('wrangler secret put')
    })
  })

  describe('errors and limits', () => {
    it('should answer unknown routes with JSON 404', async () => {
      const { status, body } = await json<ErrorBody>(app, '/v1/nothing-here')
      expect(status).toBe(404)
      expect(body.error.code).toBe('NOT_FOUND')
    })

    it('should answer a wrong method with 405 and Allow', async () => {
      const { status, body, headers } = await json<ErrorBody>(app, '/v1/popular', { method: 'POST' })
      expect(status).toBe(405)
      expect(body.error.code).toBe('METHOD_NOT_ALLOWED')
      expect(headers.get('allow')).toBe('GET, HEAD')
      const events = await json<ErrorBody>(app, '/v1/events', { method: 'GET' })
      expect(events.status).toBe(405)
      expect(events.headers.get('allow')).toBe('POST')
    })

    it('should answer 413 for an event body over 1 MiB', async () => {
      const big = JSON.stringify({
        events: [event({ userId: 'u', itemId: 'i', type: 'view' })],
        pad: 'x'.repeat(1024 * 1024),
      })
      const { status, body } = await json<ErrorBody>(app, '/v1/events', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: big,
      })
      expect(status).toBe(413)
      expect(body.error.code).toBe('PAYLOAD_TOO_LARGE')
    })
  })

  describe('CORS', () => {
    it('should answer preflights from allowed origins and not from others', async () => {
      const allowed = await call(app, '/v1/events', {
        as: null,
        method: 'OPTIONS',
        headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' },
      })
      expect(allowed.status).toBe(204)
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://shop.example')
      expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-edgerec-key')
      const other = await call(app, '/v1/events', {
        as: null,
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      })
      expect(other.headers.get('access-control-allow-origin')).toBeNull()
    })

    it('should put CORS headers on errors too', async () => {
      const response = await call(app, '/v1/popular', {
        as: null,
        headers: { origin: 'https://shop.example' },
      })
      expect(response.status).toBe(401)
      expect(response.headers.get('access-control-allow-origin')).toBe('https://shop.example')
    })
  })

  describe('without any model', () => {
    it('should answer 503 NO_MODEL only when there is nothing at all to serve', async () => {
      await env.MODELS_KV.delete(LIVE_POINTER_KEY)
      const unavailable = {
        prepare: () => {
          throw new Error('D1 is unavailable')
        },
      } as unknown as D1Database
      const bare = createApp()
      const { status, body, headers } = await json<ErrorBody>(bare, '/v1/users/u1/recommendations', {
        bindings: { ...env, DB: unavailable },
      })
      expect(status).toBe(503)
      expect(body.error.code).toBe('NO_MODEL')
      expect(headers.get('x-edgerec-degraded')).toBe('activity-unavailable')
      const similar = await json<ErrorBody>(bare, '/v1/items/item-0001/similar', {
        bindings: { ...env, DB: unavailable },
      })
      expect(similar.status).toBe(503)
      const health = await json(bare, '/v1/health', { as: null })
      expect(health.body).toEqual({ status: 'ok', modelVersion: null })
      await publishVersion(env, fixture)
    })

    it('should serve popularity counted from D1 events when no version is live', async () => {
      await env.MODELS_KV.delete(LIVE_POINTER_KEY)
      const bare = createApp()
      await sendEvents(
        bare,
        [1, 2, 3].map((i) =>
          event({ userId: i === 1 ? 'd1-pop-user' : `d1-pop-${i}`, itemId: 'd1-hot-item' }),
        ),
      )
      const { status, body } = await json<{ items: Items; source: string; modelVersion: null }>(
        bare,
        '/v1/users/someone-new/recommendations?k=50',
      )
      expect(status).toBe(200)
      expect(body.source).toBe('popular')
      expect(body.modelVersion).toBeNull()
      expect(body.items.map((i) => i.itemId)).toContain('d1-hot-item')
      const scores = body.items.map((i) => i.score)
      expect([...scores].sort((a, b) => b - a)).toEqual(scores)
      const own = await json<{ items: Items }>(bare, '/v1/users/d1-pop-user/recommendations?k=50')
      expect(own.body.items.map((i) => i.itemId)).not.toContain('d1-hot-item')
      await publishVersion(env, fixture)
    })

    it('should rank D1 popularity by distinct people, so one client cannot push a junk item (issue 13)', async () => {
      await env.MODELS_KV.delete(LIVE_POINTER_KEY)
      const bare = createApp()
      const spammer = `spam-${crypto.randomUUID()}`
      await sendEvents(
        bare,
        Array.from({ length: 200 }, () => event({ anonymousId: spammer, itemId: 'junk-item-x' })),
      )
      await sendEvents(
        bare,
        [1, 2, 3, 4].map((i) =>
          event({ userId: `real-pop-${i}-${crypto.randomUUID()}`, itemId: 'real-item-y' }),
        ),
      )
      const { body } = await json<{ items: Items }>(bare, '/v1/popular?k=100')
      const ids = body.items.map((i) => i.itemId)
      expect(ids).toContain('real-item-y')
      expect(ids).not.toContain('junk-item-x')
      expect(body.items.find((i) => i.itemId === 'real-item-y')!.score).toBeGreaterThanOrEqual(4)
      await publishVersion(env, fixture)
    })
  })
})
