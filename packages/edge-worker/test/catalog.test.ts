/**
 * Issue 17 in workerd on real D1 (SQLite): the catalog write API, filters inside the top-K scan of
 * recommendations, similar and popular, and catalog changes reaching answers without a retrain.
 */
import { type CatalogItem, dotInt8, quantizeRows } from '@edgerec/core'
import { beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
import { type ModelFixture, publishVersion, trainClusteredModel } from './fixtures/model.js'
import { call, env, event, json, sendEvents } from './helpers.js'

type Items = { itemId: string; score: number }[]
type ErrorBody = { error: { code: string; message: string; details?: { field: string; code: string }[] } }

/** Catalog of the fixture: category `c<cluster>`, price = index, every 10th red, every 7th unavailable. */
function catalogOf(fixture: ModelFixture): CatalogItem[] {
  return fixture.itemIds.map((itemId, i) => ({
    itemId,
    categories: [`c${fixture.itemCluster[i]}`],
    tags: i % 10 === 0 ? ['red'] : [],
    price: i,
    available: i % 7 !== 0,
    createdAt: null,
    attributes: { brand: i % 2 === 0 ? 'even' : 'odd' },
  }))
}

/** Categories of the items the tests put (items added after training). */
const putCategories = new Map<string, string>()

async function putItems(
  app: ReturnType<typeof createApp>,
  items: unknown[],
  as: 'secret' | 'publishable' = 'secret',
) {
  for (const item of items as { itemId?: unknown; categories?: unknown }[])
    if (typeof item?.itemId === 'string' && Array.isArray(item.categories) && item.categories.length > 0)
      putCategories.set(item.itemId, String(item.categories[0]))
  return json<Record<string, unknown> & ErrorBody>(app, '/v1/items', {
    as,
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ items }),
  })
}

describe('catalog (issue 17)', () => {
  let fixture: ModelFixture
  let catalog: CatalogItem[]
  const app = createApp()
  const byId = new Map<string, CatalogItem>()

  beforeAll(async () => {
    fixture = trainClusteredModel({ version: 'catalog-v1', itemPrefix: 'cat' })
    catalog = catalogOf(fixture)
    for (const item of catalog) byId.set(item.itemId, item)
    await publishVersion(env, fixture, { catalog: { items: catalog, updatedUntil: Date.now() - 1000 } })
  })

  describe('PUT /v1/items', () => {
    it('should upsert valid items, reject bad ones alone, and store them in D1', async () => {
      const { status, body } = await putItems(app, [
        {
          itemId: 'put-1',
          categories: ['hats'],
          tags: ['new'],
          price: 12.5,
          createdAt: '2026-12-01T00:00:00Z',
          attributes: { size: 3 },
        },
        { itemId: 'put-2', price: -3 },
        { itemId: 'put-3', available: false },
      ])
      expect(status).toBe(200)
      expect(body.created).toBe(2)
      expect(body.rejected).toBe(1)
      const results = body.results as {
        index: number
        itemId: string
        status: string
        errors?: { field: string }[]
      }[]
      expect(results.map((r) => r.status)).toEqual(['created', 'rejected', 'created'])
      expect(results[1]!.errors?.[0]?.field).toBe('price')
      const row = await env.DB.prepare('SELECT * FROM items WHERE item_id = ?1')
        .bind('put-1')
        .first<Record<string, unknown>>()
      expect(row).toMatchObject({
        categories: '["hats"]',
        tags: '["new"]',
        price: 12.5,
        available: 1,
        deleted: 0,
      })
      expect(row?.created_at).toBe(Date.UTC(2026, 11, 1))
      expect(JSON.parse(String(row?.attributes))).toEqual({ size: 3 })

      const again = await putItems(app, [{ itemId: 'put-1', categories: ['caps'] }])
      expect(again.body.updated).toBe(1)
      const updated = await env.DB.prepare('SELECT categories, price FROM items WHERE item_id = ?1')
        .bind('put-1')
        .first()
      expect(updated).toEqual({ categories: '["caps"]', price: null })
    })

    it('should refuse the publishable key, a non-batch, malformed JSON and more than 500 items', async () => {
      expect((await putItems(app, [{ itemId: 'x' }], 'publishable')).status).toBe(403)
      const notBatch = await json<ErrorBody>(app, '/v1/items', {
        as: 'secret',
        method: 'PUT',
        body: '{"item":1}',
      })
      expect(notBatch.status).toBe(400)
      expect(notBatch.body.error.code).toBe('INVALID_ITEMS')
      const badJson = await json<ErrorBody>(app, '/v1/items', { as: 'secret', method: 'PUT', body: '{' })
      expect(badJson.body.error.code).toBe('INVALID_REQUEST')
      const many = await putItems(
        app,
        Array.from({ length: 501 }, (_, i) => ({ itemId: `m-${i}` })),
      )
      expect(many.status).toBe(413)
      const method = await call(app, '/v1/items', { as: 'secret', method: 'POST', body: '{}' })
      expect(method.status).toBe(405)
      expect(method.headers.get('allow')).toBe('PUT')
    })
  })

  describe('filters', () => {
    it('should return only items of the requested category, best first, as the brute-force ranking', async () => {
      const user = fixture.users[3]!
      const { status, body } = await json<{ items: Items; source: string }>(
        app,
        `/v1/users/${user.id}/recommendations?k=10&category=c2`,
      )
      expect(status).toBe(200)
      // Brute force: every item of c2, available, not trained, ranked by the int8 score.
      const qi = quantizeRows(fixture.itemFactors, fixture.itemIds.length, fixture.dims)
      const qu = quantizeRows(user.vector, 1, fixture.dims)
      const trained = new Set(user.interactions.map((p) => p.index))
      const expected = fixture.itemIds
        .map((id, i) => ({
          id,
          i,
          s: qu.scales[0]! * qi.scales[i]! * dotInt8(qu.values, qi.values, i * fixture.dims, fixture.dims),
        }))
        .filter(
          ({ id, i }) => byId.get(id)!.categories[0] === 'c2' && byId.get(id)!.available && !trained.has(i),
        )
        .sort((a, b) => b.s - a.s || a.i - b.i)
        .slice(0, 10)
        .map((x) => x.id)
      expect(body.items.map((i) => i.itemId)).toEqual(expected)
    })

    it('should fill k when k items match a selective filter, and return fewer when fewer match', async () => {
      const user = fixture.users[0]!
      // Red items are every 10th: 12 of 120, 3 of them unavailable (multiples of 70 → index 0 and 70).
      const red = catalog.filter((i) => i.tags.includes('red') && i.available).map((i) => i.itemId)
      const trained = new Set(user.interactions.map((p) => fixture.itemIds[p.index]))
      const candidates = red.filter((id) => !trained.has(id))
      const few = await json<{ items: Items }>(app, `/v1/users/${user.id}/recommendations?k=50&tag=red`)
      expect(few.body.items.map((i) => i.itemId).sort()).toEqual([...candidates].sort())
      const some = await json<{ items: Items }>(app, `/v1/users/${user.id}/recommendations?k=3&tag=red`)
      expect(some.body.items).toHaveLength(3)
    })

    it('should apply price ranges, availability and expressions', async () => {
      const user = fixture.users[10]!
      const path = (q: string) => `/v1/users/${user.id}/recommendations?k=100&${q}`
      const priced = await json<{ items: Items }>(app, path('minPrice=20&maxPrice=40'))
      expect(priced.body.items.length).toBeGreaterThan(0)
      for (const { itemId } of priced.body.items) {
        const item = byId.get(itemId)!
        expect(item.price! >= 20 && item.price! <= 40 && item.available).toBe(true)
      }
      const all = await json<{ items: Items }>(app, path(''))
      for (const { itemId } of all.body.items) expect(byId.get(itemId)!.available).toBe(true)
      const unavailable = await json<{ items: Items }>(app, path('available=false'))
      expect(unavailable.body.items.length).toBeGreaterThan(0)
      for (const { itemId } of unavailable.body.items) expect(byId.get(itemId)!.available).toBe(false)
      const expr = encodeURIComponent('(category:c0 OR category:c3) AND NOT brand:even AND price<100')
      const combined = await json<{ items: Items }>(app, path(`filter=${expr}`))
      expect(combined.body.items.length).toBeGreaterThan(0)
      for (const { itemId } of combined.body.items) {
        const item = byId.get(itemId)!
        expect(['c0', 'c3']).toContain(item.categories[0])
        expect(item.attributes.brand).toBe('odd')
        expect(item.price! < 100 && item.available).toBe(true)
      }
    })

    it('should answer 400 with the field for a malformed filter', async () => {
      const user = fixture.users[0]!
      const bad = await json<ErrorBody>(
        app,
        `/v1/users/${user.id}/recommendations?filter=${encodeURIComponent('(tag:a')}&maxPrice=x`,
      )
      expect(bad.status).toBe(400)
      expect(bad.body.error.code).toBe('INVALID_PARAMETER')
      expect(bad.body.error.details?.map((d) => d.field).sort()).toEqual(['filter', 'maxPrice'])
    })

    it('should filter similar items and popular lists inside their scans', async () => {
      const seed = fixture.itemIds[31]!
      const similar = await json<{ items: Items }>(app, `/v1/items/${seed}/similar?k=5&category=c0`)
      expect(similar.status).toBe(200)
      expect(similar.body.items).toHaveLength(5)
      for (const { itemId } of similar.body.items) expect(byId.get(itemId)!.categories).toEqual(['c0'])
      const popular = await json<{ items: Items }>(app, '/v1/popular?k=5&tag=red')
      expect(popular.body.items.length).toBeGreaterThan(0)
      for (const { itemId } of popular.body.items) expect(byId.get(itemId)!.tags).toContain('red')
    })
  })

  describe('changes after training', () => {
    it('should apply PUT and DELETE on the next request, in this isolate and in another one', async () => {
      const other = createApp() // a second isolate: learns the change from D1, not by write-through
      const target = fixture.itemIds[45]! // cluster 1
      const user = fixture.users.find((u) => u.cluster === 1 && !u.interactions.some((p) => p.index === 45))!
      const recs = async (a: typeof app, q = '') =>
        (await json<{ items: Items }>(a, `/v1/users/${user.id}/recommendations?k=30${q}`)).body.items.map(
          (i) => i.itemId,
        )
      expect(await recs(other)).toContain(target)

      await putItems(app, [{ ...byId.get(target)!, available: false }])
      expect(await recs(app)).not.toContain(target)
      expect(await recs(other)).not.toContain(target)
      expect(await recs(other, '&available=false')).toContain(target)

      await putItems(app, [{ ...byId.get(target)!, categories: ['moved'], available: true }])
      expect(await recs(other, '&category=moved')).toEqual([target])
      expect(await recs(other, '&category=c1')).not.toContain(target)

      const deleted = await json<{ deleted: boolean; existed: boolean }>(app, `/v1/items/${target}`, {
        as: 'secret',
        method: 'DELETE',
      })
      expect(deleted.body).toEqual({ itemId: target, deleted: true, existed: true })
      expect(await recs(other)).not.toContain(target)
      expect(await recs(other, '&available=any')).not.toContain(target)
      const similar = await json<{ items: Items }>(other, `/v1/items/${fixture.itemIds[46]}/similar?k=100`)
      expect(similar.body.items.map((i) => i.itemId)).not.toContain(target)
      const popular = await json<{ items: Items }>(other, '/v1/popular?k=100&available=any')
      expect(popular.body.items.map((i) => i.itemId)).not.toContain(target)

      // Putting it again brings it back.
      await putItems(app, [byId.get(target)!])
      expect(await recs(other)).toContain(target)

      const model = await json<{ catalog: { rows: number; overlay: { entries: number } } }>(
        other,
        '/v1/model',
      )
      expect(model.body.catalog.rows).toBe(fixture.itemIds.length)
      expect(model.body.catalog.overlay.entries).toBeGreaterThan(0)
    })

    it('should refuse DELETE with the publishable key', async () => {
      const r = await call(app, `/v1/items/${fixture.itemIds[1]}`, { method: 'DELETE' })
      expect(r.status).toBe(403)
    })
  })

  const categoryOf = (id: string) => byId.get(id)?.categories[0] ?? putCategories.get(id)

  describe('rules and diversity', () => {
    const putRules = (rules: unknown, as: 'secret' | 'publishable' = 'secret') =>
      json<ErrorBody & { rules: unknown }>(app, '/v1/admin/rules', {
        as,
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(rules),
      })

    it('should cap items per category and still fill k by growing the pool', async () => {
      const user = fixture.users.find((u) => u.cluster === 1)!
      const plain = await json<{ items: Items }>(app, `/v1/users/${user.id}/recommendations?k=4`)
      expect(new Set(plain.body.items.map((i) => categoryOf(i.itemId))).size).toBe(1)
      const capped = await json<{ items: Items }>(
        app,
        `/v1/users/${user.id}/recommendations?k=4&maxPerCategory=1`,
      )
      expect(capped.body.items).toHaveLength(4)
      expect(new Set(capped.body.items.map((i) => categoryOf(i.itemId))).size).toBe(4)
      // The first pick is still the best item overall.
      expect(capped.body.items[0]!.itemId).toBe(plain.body.items[0]!.itemId)
      const similar = await json<{ items: Items }>(
        app,
        `/v1/items/${fixture.itemIds[2]}/similar?k=3&maxPerCategory=1`,
      )
      expect(new Set(similar.body.items.map((i) => categoryOf(i.itemId))).size).toBe(3)
    })

    it('should cover more categories as diversity grows (MMR)', async () => {
      const user = fixture.users.find((u) => u.cluster === 2)!
      const coverage = async (d: number) => {
        const r = await json<{ items: Items }>(app, `/v1/users/${user.id}/recommendations?k=8&diversity=${d}`)
        expect(r.body.items).toHaveLength(8)
        return new Set(r.body.items.map((i) => categoryOf(i.itemId))).size
      }
      const off = await coverage(0)
      const on = await coverage(0.9)
      expect(off).toBe(1)
      expect(on).toBeGreaterThan(off)
      const bad = await json<ErrorBody>(
        app,
        `/v1/users/${user.id}/recommendations?diversity=2&maxPerCategory=0`,
      )
      expect(bad.body.error.details?.map((d) => d.field).sort()).toEqual(['diversity', 'maxPerCategory'])
    })

    it('should apply admin boosts and pins on the next request, and refuse bad rules', async () => {
      expect((await putRules({ boosts: [] }, 'publishable')).status).toBe(403)
      const invalid = await putRules({ boosts: [{ factor: -1 }] })
      expect(invalid.status).toBe(400)
      expect(invalid.body.error.code).toBe('INVALID_PARAMETER')

      const before = await json<{ items: Items }>(app, '/v1/popular?k=3')
      const present = new Set(before.body.items.map((i) => categoryOf(i.itemId)))
      const promoted = ['c0', 'c1', 'c2', 'c3'].find((c) => !present.has(c))!
      expect(promoted).toBeDefined()
      const pinned = fixture.itemIds[8]! // available (every 7th is not)
      const saved = await putRules({
        boosts: [{ filter: `category:${promoted}`, factor: 10 }],
        pins: [{ itemId: pinned, position: 1 }],
      })
      expect(saved.status).toBe(200)
      const other = createApp() // reads the rules from KV
      for (const a of [app, other]) {
        const after = await json<{ items: Items }>(a, '/v1/popular?k=5')
        expect(after.body.items[0]!.itemId).toBe(pinned)
        expect(after.body.items.slice(1).every((i) => categoryOf(i.itemId) === promoted)).toBe(true)
      }
      const user = fixture.users.find((u) => !u.interactions.some((p) => p.index === 8))!
      const recs = await json<{ items: Items }>(other, `/v1/users/${user.id}/recommendations?k=5`)
      expect(recs.body.items[0]!.itemId).toBe(pinned)
      // A pinned item that fails the request's filter is not forced in.
      const filtered = await json<{ items: Items }>(
        other,
        `/v1/users/${user.id}/recommendations?k=5&category=c2`,
      )
      expect(filtered.body.items.map((i) => i.itemId)).not.toContain(pinned)
      expect(
        (await json<{ rules: unknown }>(app, '/v1/admin/rules', { as: 'secret' })).body.rules,
      ).toMatchObject({
        pins: [{ itemId: pinned, position: 1 }],
      })
      await putRules({})
    })
  })

  describe('negative feedback', () => {
    it('should drop a disliked or hidden item for that person on the next request, and count it against the item', async () => {
      const cluster0 = fixture.itemIds.filter(
        (_, i) => fixture.itemCluster[i] === 0 && byId.get(fixture.itemIds[i]!)!.available,
      )
      const [a, b, c, disliked, hidden] = cluster0
      const viewed = [a!, b!, c!].map((itemId) => ({ itemId, type: 'view' }))
      const plain = `anon-plain-${crypto.randomUUID()}`
      const negative = `anon-neg-${crypto.randomUUID()}`
      await sendEvents(
        app,
        viewed.map((e) => event({ anonymousId: plain, ...e })),
      )
      await sendEvents(app, [
        ...viewed.map((e) => event({ anonymousId: negative, ...e })),
        event({ anonymousId: negative, itemId: disliked!, type: 'dislike' }),
        event({ anonymousId: negative, itemId: hidden!, type: 'hide' }),
      ])
      const recs = async (id: string) =>
        (await json<{ items: Items; source: string }>(app, `/v1/users/${id}/recommendations?k=40`)).body
      const before = await recs(plain)
      const after = await recs(negative)
      expect(before.source).toBe('fold-in')
      expect(after.source).toBe('fold-in')
      const ids = after.items.map((i) => i.itemId)
      expect(ids).not.toContain(disliked)
      expect(ids).not.toContain(hidden)
      expect(before.items.map((i) => i.itemId)).toContain(disliked)
      // The dislike and the hide pull the solve away from their items: the cluster's other items
      // score lower than for the same views without them.
      const scoreOf = (items: Items, id: string) => items.find((i) => i.itemId === id)?.score
      const shared = cluster0
        .slice(5)
        .filter((id) => scoreOf(before.items, id) !== undefined && scoreOf(after.items, id) !== undefined)
      expect(shared.length).toBeGreaterThan(3)
      for (const id of shared) expect(scoreOf(after.items, id)!).toBeLessThan(scoreOf(before.items, id)!)
    })
  })

  describe('new items', () => {
    it('should serve an item added after training from its content vector on the next request', async () => {
      const other = createApp() // learns the item from D1, not by write-through
      const newId = `new-${crypto.randomUUID()}`
      expect((await json(other, `/v1/items/${newId}/similar`)).status).toBe(404)
      await putItems(app, [{ itemId: newId, categories: ['c2'], price: 10 }])

      const similar = await json<{ items: (Items[number] & { source?: string })[]; source: string }>(
        other,
        `/v1/items/${newId}/similar?k=5`,
      )
      expect(similar.status).toBe(200)
      expect(similar.body.source).toBe('content')
      expect(similar.body.items).toHaveLength(5)
      for (const { itemId } of similar.body.items) expect(categoryOf(itemId)).toBe('c2')

      const user = fixture.users.find((u) => u.cluster === 2)!
      const recs = await json<{ items: (Items[number] & { source?: string })[] }>(
        other,
        `/v1/users/${user.id}/recommendations?k=30`,
      )
      expect(recs.body.items.find((i) => i.itemId === newId)?.source).toBe('content')
      const filtered = await json<{ items: Items }>(
        other,
        `/v1/users/${user.id}/recommendations?k=30&category=c0`,
      )
      expect(filtered.body.items.map((i) => i.itemId)).not.toContain(newId)

      const seed = fixture.itemIds.find((_, i) => fixture.itemCluster[i] === 2)!
      const near = await json<{ items: (Items[number] & { source?: string })[] }>(
        other,
        `/v1/items/${seed}/similar?k=20`,
      )
      expect(near.body.items.find((i) => i.itemId === newId)?.source).toBe('content')

      await json(app, `/v1/items/${newId}`, { as: 'secret', method: 'DELETE' })
      expect((await json(other, `/v1/items/${newId}/similar`)).status).toBe(404)
    })
  })

  describe('new items in the ranking pipeline', () => {
    type Listed = Items[number] & { source?: string }
    const putRules = (rules: unknown) =>
      json(app, '/v1/admin/rules', {
        as: 'secret',
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(rules),
      })

    it('should boost, cap and pin new items like trained ones (candidates before rules)', async () => {
      const arrival = `arrival-${crypto.randomUUID()}`
      await putItems(app, [{ itemId: arrival, categories: ['c2'], tags: ['arrival'], price: 5 }])
      const user = fixture.users.find((u) => u.cluster === 2)!
      const recs = async (query: string) =>
        (await json<{ items: Listed[] }>(app, `/v1/users/${user.id}/recommendations?${query}`)).body.items
      const plain = await recs('k=100')
      const unboosted = plain.find((i) => i.itemId === arrival)
      expect(unboosted?.source).toBe('content')
      expect(unboosted!.score).toBeGreaterThan(0)

      await putRules({ boosts: [{ filter: 'tag:arrival', factor: 10 }] })
      try {
        // The boost reaches the new arrival: first, with ×10 its content score.
        const boosted = await recs('k=5')
        expect(boosted[0]).toMatchObject({ itemId: arrival, source: 'content' })
        expect(boosted[0]!.score).toBeCloseTo(unboosted!.score * 10, 3)

        // The cap counts the new arrival toward its category: no second c2 item.
        const capped = await recs('k=4&maxPerCategory=1')
        expect(capped).toHaveLength(4)
        expect(capped[0]!.itemId).toBe(arrival)
        const categories = capped.map((i) => categoryOf(i.itemId))
        expect(new Set(categories).size).toBe(4)

        // Pins still come first, the boosted arrival right after.
        const pinned = fixture.itemIds.find(
          (id, i) =>
            fixture.itemCluster[i] === 0 &&
            byId.get(id)!.available &&
            !user.interactions.some((p) => p.index === i),
        )!
        await putRules({
          boosts: [{ filter: 'tag:arrival', factor: 10 }],
          pins: [{ itemId: pinned, position: 1 }],
        })
        const withPin = await recs('k=5&maxPerCategory=2')
        expect(withPin.map((i) => i.itemId).slice(0, 2)).toEqual([pinned, arrival])

        // A new item can be pinned itself, and its similar lists apply the same rules.
        await putRules({ pins: [{ itemId: arrival, position: 1 }] })
        expect((await recs('k=5'))[0]).toMatchObject({ itemId: arrival, source: 'content' })
        const seed = fixture.itemIds.find((_, i) => fixture.itemCluster[i] === 1)!
        const similar = await json<{ items: Listed[] }>(app, `/v1/items/${seed}/similar?k=5`)
        expect(similar.body.items[0]).toMatchObject({ itemId: arrival, source: 'content' })
        // ... but never past the request's filter.
        const filtered = await recs('k=5&category=c1')
        expect(filtered.map((i) => i.itemId)).not.toContain(arrival)
      } finally {
        await putRules({})
        await json(app, `/v1/items/${arrival}`, { as: 'secret', method: 'DELETE' })
      }
    })
  })

  describe('events since training', () => {
    it('should blend events received since training into popular lists, new items included', async () => {
      const before = await json<{ items: Items }>(createApp(), '/v1/popular?k=100&available=any')
      const last = before.body.items.at(-1)!.itemId
      const hit = `hit-${crypto.randomUUID()}`
      await putItems(app, [{ itemId: hit, categories: ['c1'] }])
      const views = (itemId: string, n: number) =>
        Array.from({ length: n }, (_, i) => event({ anonymousId: `fan-${i}`, itemId, type: 'view' }))
      await sendEvents(app, [...views(last, 200), ...views(hit, 300)])
      const after = await json<{ items: (Items[number] & { source?: string })[] }>(
        createApp(),
        '/v1/popular?k=3&available=any',
      )
      expect(after.body.items.map((i) => i.itemId)).toEqual([hit, last, expect.any(String)])
      expect(after.body.items[0]).toMatchObject({ score: 300, source: 'events' })
      const filtered = await json<{ items: Items }>(createApp(), '/v1/popular?k=3&category=c0')
      expect(filtered.body.items.map((i) => i.itemId)).not.toContain(hit)
    })

    it("should serve unknown users the popular endpoint's blended list, with filters and rules", async () => {
      const hit = `fallback-hit-${crypto.randomUUID()}`
      await putItems(app, [{ itemId: hit, categories: ['c3'] }])
      await sendEvents(
        app,
        Array.from({ length: 400 }, (_, i) =>
          event({ anonymousId: `buyer-${i}`, itemId: hit, type: 'view' }),
        ),
      )
      const reader = createApp()
      const nobody = `nobody-${crypto.randomUUID()}`
      for (const query of ['k=5', 'k=5&category=c3', 'k=6&maxPerCategory=1', 'k=5&category=c0']) {
        const recs = await json<{ items: (Items[number] & { source?: string })[]; source: string }>(
          reader,
          `/v1/users/${nobody}/recommendations?${query}`,
        )
        const popular = await json<{ items: Items }>(reader, `/v1/popular?${query}`)
        expect(recs.body.source).toBe('popular')
        expect(recs.body.items).toEqual(popular.body.items)
        const ids = recs.body.items.map((i) => i.itemId)
        if (query.includes('c0')) expect(ids).not.toContain(hit)
        else expect(recs.body.items[0]).toMatchObject({ itemId: hit, score: 400, source: 'events' })
        if (query.includes('maxPerCategory')) {
          const categories = ids.map(categoryOf)
          expect(new Set(categories).size).toBe(categories.length)
        }
      }
    })

    it('should count people, not events, and list only ids the catalog or the model knows (issue 13)', async () => {
      const junk = `junk-${crypto.randomUUID()}`
      const known = `known-${crypto.randomUUID()}`
      await putItems(app, [{ itemId: known, categories: ['c1'] }])
      const crowd = Array.from({ length: 300 }, (_, i) =>
        event({ anonymousId: `crowd-${i}`, itemId: junk, type: 'view' }),
      )
      // One client repeating events for a catalog item: one person, however many events.
      const spam = Array.from({ length: 400 }, () =>
        event({ anonymousId: 'spammer', itemId: known, type: 'view' }),
      )
      await sendEvents(app, [...crowd.slice(0, 150), ...spam.slice(0, 200)])
      await sendEvents(app, [...crowd.slice(150), ...spam.slice(200)])
      const list = await json<{ items: Items }>(createApp(), '/v1/popular?k=100&available=any')
      const ids = list.body.items.map((i) => i.itemId)
      expect(ids).not.toContain(junk)
      expect(ids).not.toContain(known)
    })
  })
})
