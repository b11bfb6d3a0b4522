/**
 * Issue 16 in workerd on real D1, KV and R2: a catalog split into several shards (as the trainer
 * exports catalogs of any size) loads, verifies and answers filters, categories, similar items and
 * recommendations as one catalog would; a version with one `catalog.shard` (exported before the
 * split) still loads; a corrupt or missing catalog shard degrades the version (health says so)
 * instead of failing a request.
 */
import { type CatalogItem, catalogShardRefs, dotInt8, type ModelManifest, quantizeRows } from '@edgerec/core'
import { beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
import { type ModelFixture, publishVersion, trainClusteredModel } from './fixtures/model.js'
import { env, json } from './helpers.js'

type Items = { itemId: string; score: number }[]
type Health = { status: string; modelVersion: string | null; reasons?: string[] }
type ModelBody = {
  version: string
  memory: { catalog: number }
  catalog: {
    rows: number | null
    shards: number | null
    failedShards: { key: string; rowOffset: number; rows: number; code: string; message: string }[]
  }
}

/** Category `c<cluster>`, price = index, every 10th red, every 7th unavailable, long-ish labels. */
function catalogOf(fixture: ModelFixture): CatalogItem[] {
  return fixture.itemIds.map((itemId, i) => ({
    itemId,
    categories: [`c${fixture.itemCluster[i]}`, `department/${i % 5}`],
    tags: i % 10 === 0 ? ['red', `t${i % 3}`] : [`t${i % 3}`],
    price: i,
    available: i % 7 !== 0,
    createdAt: 1_700_000_000_000 + i,
    attributes: { brand: i % 2 === 0 ? 'even' : 'odd', size: i % 9 },
  }))
}

/** Shards of at most 2 KiB: the 120 items' catalog (~16 KiB of JSON) splits into several. */
const SHARD_BYTES = 2048

describe('split catalog (issue 16)', () => {
  let fixture: ModelFixture
  let catalog: CatalogItem[]
  let manifest: ModelManifest
  const byId = new Map<string, CatalogItem>()
  const app = createApp()

  /** The int8 brute-force ranking of `user`'s untrained items passing `keep`. */
  function bruteForce(userIndex: number, keep: (item: CatalogItem) => boolean, k: number): string[] {
    const user = fixture.users[userIndex]!
    const qi = quantizeRows(fixture.itemFactors, fixture.itemIds.length, fixture.dims)
    const qu = quantizeRows(user.vector, 1, fixture.dims)
    const trained = new Set(user.interactions.map((p) => p.index))
    return fixture.itemIds
      .map((id, i) => ({
        id,
        i,
        s: qu.scales[0]! * qi.scales[i]! * dotInt8(qu.values, qi.values, i * fixture.dims, fixture.dims),
      }))
      .filter(({ id, i }) => keep(byId.get(id)!) && !trained.has(i))
      .sort((a, b) => b.s - a.s || a.i - b.i)
      .slice(0, k)
      .map((x) => x.id)
  }

  beforeAll(async () => {
    fixture = trainClusteredModel({ version: 'catshard-v1', itemPrefix: 'cs' })
    catalog = catalogOf(fixture)
    for (const item of catalog) byId.set(item.itemId, item)
    manifest = await publishVersion(env, fixture, {
      catalog: { items: catalog, updatedUntil: Date.now() - 1000 },
      catalogShardBytes: SHARD_BYTES,
    })
  })

  it('should load every catalog shard of the manifest into one catalog, counted in the memory', async () => {
    const refs = catalogShardRefs(manifest)
    expect(refs.length).toBeGreaterThanOrEqual(4)
    for (const ref of refs) expect(ref.bytes).toBeLessThanOrEqual(SHARD_BYTES)
    const model = await json<ModelBody>(app, '/v1/model', { as: 'secret' })
    expect(model.body.version).toBe('catshard-v1')
    expect(model.body.catalog).toMatchObject({ rows: 120, shards: refs.length, failedShards: [] })
    // The store counts the catalog table (aligned to the model items) as planned in the manifest.
    expect(model.body.memory.catalog).toBe(manifest.catalog!.memoryBytes)
    const health = await json<Health>(app, '/v1/health')
    expect(health.body).toEqual({ status: 'ok', modelVersion: 'catshard-v1' })
  })

  it('should filter recommendations by category, tag, price and expression as the brute-force ranking', async () => {
    const category = await json<{ items: Items }>(
      app,
      `/v1/users/${fixture.users[3]!.id}/recommendations?k=10&category=c2`,
    )
    expect(category.status).toBe(200)
    expect(category.body.items.map((i) => i.itemId)).toEqual(
      bruteForce(3, (item) => item.categories.includes('c2') && item.available, 10),
    )
    const tag = await json<{ items: Items }>(
      app,
      `/v1/users/${fixture.users[5]!.id}/recommendations?k=50&tag=red`,
    )
    expect(tag.body.items.map((i) => i.itemId)).toEqual(
      bruteForce(5, (item) => item.tags.includes('red') && item.available, 50),
    )
    const expr = encodeURIComponent('category:department/3 AND brand:odd AND price>=30 AND price<=100')
    const combined = await json<{ items: Items }>(
      app,
      `/v1/users/${fixture.users[40]!.id}/recommendations?k=100&filter=${expr}`,
    )
    expect(combined.body.items.length).toBeGreaterThan(0)
    expect(combined.body.items.map((i) => i.itemId)).toEqual(
      bruteForce(
        40,
        (item) =>
          item.categories.includes('department/3') &&
          item.attributes.brand === 'odd' &&
          item.price! >= 30 &&
          item.price! <= 100 &&
          item.available,
        100,
      ),
    )
  })

  it('should filter similar items and popular lists with rows from every shard', async () => {
    const seed = fixture.itemIds[1]!
    const similar = await json<{ items: Items }>(app, `/v1/items/${seed}/similar?k=30&category=c0`)
    expect(similar.status).toBe(200)
    expect(similar.body.items.length).toBeGreaterThan(20)
    for (const { itemId } of similar.body.items) {
      expect(byId.get(itemId)!.categories).toContain('c0')
      expect(byId.get(itemId)!.available).toBe(true)
    }
    const popular = await json<{ items: Items }>(app, '/v1/popular?k=100&tag=red&available=any')
    const red = catalog.filter((i) => i.tags.includes('red')).map((i) => i.itemId)
    // Popular lists items with interactions: every red one listed is red, and they span the shards.
    expect(popular.body.items.length).toBeGreaterThan(5)
    for (const { itemId } of popular.body.items) expect(red).toContain(itemId)
    const rows = popular.body.items.map((i) => fixture.itemIds.indexOf(i.itemId))
    expect(Math.max(...rows) - Math.min(...rows)).toBeGreaterThan(60)
  })

  it('should apply PUT /v1/items changes over the split catalog', async () => {
    // An item of the last catalog shard: moved to a new category, then made unavailable.
    const last = catalogShardRefs(manifest).at(-1)!
    const user = fixture.users[2]!
    const trained = new Set(user.interactions.map((p) => fixture.itemIds[p.index]))
    const target = catalog.slice(last.rowOffset).find((i) => i.available && !trained.has(i.itemId))!
    const put = await json(app, '/v1/items', {
      as: 'secret',
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ items: [{ ...target, categories: ['moved'] }] }),
    })
    expect(put.status, JSON.stringify(put.body)).toBe(200)
    const moved = await json<{ items: Items }>(
      app,
      `/v1/users/${user.id}/recommendations?k=10&category=moved`,
    )
    expect(moved.status, JSON.stringify(moved.body)).toBe(200)
    expect(moved.body.items.map((i) => i.itemId)).toEqual([target.itemId])
    await json(app, '/v1/items', {
      as: 'secret',
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ items: [{ ...target, available: false }] }),
    })
    const all = await json<{ items: Items }>(app, `/v1/users/${user.id}/recommendations?k=100`)
    expect(all.body.items.length).toBeGreaterThan(10)
    expect(all.body.items.map((i) => i.itemId)).not.toContain(target.itemId)
  })

  it('should still load a version with one catalog shard (exported before the split)', async () => {
    const legacy = trainClusteredModel({ version: 'catshard-legacy', itemPrefix: 'cs' })
    // A fresh isolate (app) loads the live version before answering; the first one would keep
    // serving its loaded version while the new one loads in the background.
    const app = createApp()
    const published = await publishVersion(env, legacy, {
      catalog: { items: catalogOf(legacy), updatedUntil: Date.now() - 1000 },
    })
    expect(published.shards.catalog).toMatchObject({
      key: 'models/catshard-legacy/catalog.shard',
      rowOffset: 0,
    })
    expect(published.catalog).toBeUndefined()
    const model = await json<ModelBody>(app, '/v1/model', { as: 'secret' })
    expect(model.body).toMatchObject({
      version: 'catshard-legacy',
      catalog: { rows: 120, shards: 1, failedShards: [] },
    })
    const category = await json<{ items: Items }>(
      app,
      `/v1/users/${legacy.users[3]!.id}/recommendations?k=10&category=c2`,
    )
    expect(category.status).toBe(200)
    expect(category.body.items).toHaveLength(10)
    for (const { itemId } of category.body.items) expect(byId.get(itemId)!.categories).toContain('c2')
  })

  it('should answer alike from the compact table and from the wide one of a version without a layout', async () => {
    // One category and one tag per item, 5 prices: codes without offsets, a 1-byte price dictionary.
    const simple = (f: ModelFixture): CatalogItem[] =>
      f.itemIds.map((itemId, i) => ({
        itemId,
        categories: [`c${f.itemCluster[i]}`],
        tags: [`t${i % 4}`],
        price: 10 * (1 + (i % 5)),
        available: i % 6 !== 0,
        createdAt: null,
        attributes: {},
      }))
    const queries = [
      'category=c1',
      'tag=t2',
      'minPrice=20&maxPrice=30',
      'available=false',
      `filter=${encodeURIComponent('(category:c0 OR tag:t3) AND price>=40')}`,
    ]
    const answers: Record<string, string[][]> = {}
    for (const form of ['compact', 'wide'] as const) {
      // Own item ids: the D1 overlay of the PUT test above must not reach these items.
      const f = trainClusteredModel({ version: `catshard-${form}`, itemPrefix: 'cc' })
      const items = simple(f)
      const app = createApp()
      // Exported "after" every D1 change of the tests above: no overlay row reaches either version,
      // so both answer from their own table alone.
      const published = await publishVersion(env, f, {
        catalog: { items, updatedUntil: Date.now() + 3_600_000 },
        catalogShardBytes: SHARD_BYTES,
        ...(form === 'wide' ? { catalogLayout: false as const } : {}),
      })
      expect(published.catalog!.layout === undefined).toBe(form === 'wide')
      const model = await json<ModelBody>(app, '/v1/model', { as: 'secret' })
      expect(model.body.version).toBe(`catshard-${form}`)
      expect(model.body.memory.catalog).toBe(published.catalog!.memoryBytes)
      // 120 items: 1 + 1 + 1 + 1 + 1 bytes and 6 + 1 dictionary values (8 B) vs 25 B + 4 per label.
      expect(published.catalog!.memoryBytes).toBe(
        form === 'compact' ? 120 * 5 + 8 * (6 + 1) : 8 * 121 + 17 * 120 + 4 * 240,
      )
      const seen = new Map(items.map((item) => [item.itemId, item]))
      answers[form] = []
      for (const query of queries) {
        const { status, body } = await json<{ items: Items }>(
          app,
          `/v1/users/${f.users[7]!.id}/recommendations?k=20&${query}`,
        )
        expect(status).toBe(200)
        expect(body.items.length).toBeGreaterThan(0)
        if (query === 'available=false')
          for (const { itemId } of body.items) expect(seen.get(itemId)!.available).toBe(false)
        answers[form]!.push(body.items.map((i) => i.itemId))
      }
    }
    expect(answers.compact).toEqual(answers.wide)
  })

  for (const damage of ['corrupt', 'missing'] as const) {
    it(`should serve a version with a ${damage} catalog shard degraded, leaving its rows out, never failing a request`, async () => {
      const version = `catshard-${damage}`
      const damaged = trainClusteredModel({ version, itemPrefix: 'cs' })
      const key = `models/${version}/catalog-001.shard`
      const app = createApp()
      const published = await publishVersion(env, damaged, {
        catalog: { items: catalog, updatedUntil: Date.now() - 1000 },
        catalogShardBytes: SHARD_BYTES,
        tamper: (k, bytes) => {
          if (k !== key) return bytes
          if (damage === 'missing') return null
          const flipped = bytes.slice()
          flipped[100] = flipped[100]! ^ 0xff
          return flipped
        },
      })
      const bad = catalogShardRefs(published)[1]!
      const lost = new Set(catalog.slice(bad.rowOffset, bad.rowOffset + bad.rows).map((i) => i.itemId))
      const health = await json<Health>(app, '/v1/health')
      expect(health.status).toBe(200)
      expect(health.body).toEqual({ status: 'degraded', modelVersion: version, reasons: ['catalog'] })
      const model = await json<ModelBody>(app, '/v1/model', { as: 'secret' })
      expect(model.body.catalog.rows).toBe(120 - bad.rows)
      expect(model.body.catalog.failedShards).toEqual([
        expect.objectContaining({
          key,
          rowOffset: bad.rowOffset,
          rows: bad.rows,
          code: damage === 'missing' ? 'SHARD_MISSING' : 'SHARD_INVALID',
        }),
      ])
      // Filters on labels leave the lost rows out; everything else still answers.
      for (const cluster of [0, 1, 2, 3]) {
        const filtered = await json<{ items: Items }>(
          app,
          `/v1/users/${damaged.users[cluster * 20]!.id}/recommendations?k=30&category=c${cluster}`,
        )
        expect(filtered.status).toBe(200)
        expect(filtered.body.items.length).toBeGreaterThan(0)
        for (const { itemId } of filtered.body.items) {
          expect(lost.has(itemId)).toBe(false)
          expect(byId.get(itemId)!.categories).toContain(`c${cluster}`)
        }
      }
      expect((await json(app, `/v1/users/${damaged.users[0]!.id}/recommendations?k=10`)).status).toBe(200)
      expect((await json(app, `/v1/items/${damaged.itemIds[5]}/similar?k=10&category=c0`)).status).toBe(200)
      expect((await json(app, '/v1/popular?k=10&tag=red')).status).toBe(200)
    })
  }
})
