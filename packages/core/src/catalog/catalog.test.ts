import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { catalogShardRefs, manifestShards, parseManifest } from '../manifest/manifest.js'
import { quantizeRows } from '../quantize/quantize.js'
import { mulberry32, randomFloats, randomInt } from '../random.test-support.js'
import { blockFromQuantized, dotInt8, recommendTopK } from '../scoring/score.js'
import { similarItems } from '../scoring/similar.js'
import { decodeShard } from '../shard/decode.js'
import { encodeShard } from '../shard/encode.js'
import { compileItemFilter, indexFilterOf, parseFilterExpression } from './filter.js'
import { type CatalogItem, validateItem, validateItemBatch } from './item.js'
import {
  alignedCatalogByteLength,
  CatalogTable,
  catalogColumnsByteLength,
  catalogLayoutOf,
  decodeCatalogColumns,
  encodeCatalogColumns,
  splitCatalog,
  viewOfItem,
} from './table.js'

function item(fields: Partial<CatalogItem> & { itemId: string }): CatalogItem {
  return {
    categories: [],
    tags: [],
    price: null,
    available: true,
    createdAt: null,
    attributes: {},
    ...fields,
  }
}

describe('validateItem', () => {
  it('should accept a full item and normalize createdAt and duplicate labels', () => {
    const r = validateItem({
      itemId: 'sku-1',
      categories: ['shoes', 'shoes', 'running'],
      tags: ['red'],
      price: 49.9,
      available: false,
      createdAt: '2026-11-01T00:00:00Z',
      attributes: { brand: 'acme', size: 42, vegan: true },
    })
    expect(r).toEqual({
      ok: true,
      item: {
        itemId: 'sku-1',
        categories: ['shoes', 'running'],
        tags: ['red'],
        price: 49.9,
        available: false,
        createdAt: Date.UTC(2026, 10, 1),
        attributes: { brand: 'acme', size: 42, vegan: true },
      },
    })
  })

  it('should default to available, no price and no labels', () => {
    const r = validateItem({ itemId: 'x' })
    expect(r.ok && r.item).toEqual(item({ itemId: 'x' }))
  })

  it('should report every bad field with its path and code', () => {
    const r = validateItem({
      itemId: 'a b',
      categories: 'shoes',
      tags: ['ok', 'has space'],
      price: -1,
      available: 'yes',
      createdAt: 'soon',
      attributes: { price: 1, nested: { a: 1 } },
      colour: 'red',
    })
    expect(r.ok).toBe(false)
    if (r.ok) return
    const fields = r.errors.map((e) => `${e.field}:${e.code}`).sort()
    expect(fields).toEqual(
      [
        'attributes.nested:type',
        'attributes.price:pattern',
        'available:type',
        'categories:type',
        'colour:unknown_field',
        'createdAt:type',
        'itemId:pattern',
        'price:range',
        'tags.1:pattern',
      ].sort(),
    )
  })

  it('should reject more labels than the limit', () => {
    const r = validateItem({ itemId: 'x', tags: Array.from({ length: 33 }, (_, i) => `t${i}`) })
    expect(r.ok).toBe(false)
  })
})

describe('validateItemBatch', () => {
  it('should validate item by item so a bad item is rejected alone', () => {
    const r = validateItemBatch({ items: [{ itemId: 'a' }, { itemId: '' }, { itemId: 'c', price: 3 }] })
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.valid.map((i) => i.itemId)).toEqual(['a', 'c'])
    expect(r.results.map((x) => x.ok)).toEqual([true, false, true])
  })

  it('should refuse a batch that is not a list, empty or longer than 500', () => {
    expect(validateItemBatch({}).ok).toBe(false)
    expect(validateItemBatch({ items: [] }).ok).toBe(false)
    expect(
      validateItemBatch({ items: Array.from({ length: 501 }, (_, i) => ({ itemId: `i${i}` })) }).ok,
    ).toBe(false)
  })
})

describe('parseFilterExpression', () => {
  const shoe = viewOfItem(
    item({
      itemId: 's',
      categories: ['shoes'],
      tags: ['red'],
      price: 40,
      attributes: { brand: 'acme corp', size: 42 },
    }),
  )
  const boot = viewOfItem(
    item({ itemId: 'b', categories: ['boots'], tags: ['sale'], price: 90, available: false }),
  )
  const matches = (expr: string, view = shoe): boolean => {
    const r = parseFilterExpression(expr)
    if (!r.ok) throw new Error(r.message)
    return compileItemFilter({ expression: r.node }).test(view)
  }

  it('should evaluate terms, AND, OR, NOT and parentheses', () => {
    expect(matches('category:shoes')).toBe(true)
    expect(matches('category:shoes AND price<50')).toBe(true)
    expect(matches('category:shoes price>=50')).toBe(false)
    expect(matches('(tag:blue OR tag:red) AND NOT tag:sale')).toBe(true)
    expect(matches('not category:shoes or price=40')).toBe(true)
    expect(matches('brand:"acme corp" AND size>=42')).toBe(true)
    expect(matches('size:41')).toBe(false)
  })

  it('should let an expression about availability reach unavailable items', () => {
    expect(matches('available:false', boot)).toBe(true)
    expect(matches('category:boots', boot)).toBe(false)
  })

  it('should answer a clear message for malformed expressions', () => {
    for (const bad of [
      '',
      'category:',
      'price<cheap',
      '(tag:a',
      'tag:a)',
      'AND tag:a',
      'shoes',
      'available:maybe',
      '"open',
    ]) {
      const r = parseFilterExpression(bad)
      expect(r.ok, bad).toBe(false)
      if (!r.ok) expect(r.message.length).toBeGreaterThan(10)
    }
    expect(parseFilterExpression(Array.from({ length: 33 }, (_, i) => `tag:t${i}`).join(' ')).ok).toBe(false)
    expect(parseFilterExpression(`${'('.repeat(10)}tag:a${')'.repeat(10)}`).ok).toBe(false)
  })
})

describe('compileItemFilter', () => {
  it('should exclude unavailable items by default and combine the query parts', () => {
    const views = [
      item({ itemId: 'a', categories: ['shoes'], price: 10 }),
      item({ itemId: 'b', categories: ['shoes'], price: 10, available: false }),
      item({ itemId: 'c', categories: ['hats'], tags: ['red'], price: 60 }),
      item({ itemId: 'd', categories: ['hats'] }),
    ].map(viewOfItem)
    const pass = (spec: Parameters<typeof compileItemFilter>[0]) =>
      views.map((v) => compileItemFilter(spec).test(v))
    expect(pass({})).toEqual([true, false, true, true])
    expect(pass({ available: 'any' })).toEqual([true, true, true, true])
    expect(pass({ available: false })).toEqual([false, true, false, false])
    expect(pass({ categories: ['hats', 'caps'] })).toEqual([false, false, true, true])
    expect(pass({ tags: ['red'] })).toEqual([false, false, true, false])
    expect(pass({ minPrice: 5, maxPrice: 50 })).toEqual([true, false, false, false])
  })
})

describe('CatalogTable', () => {
  const items = [
    item({
      itemId: 'a',
      categories: ['shoes', 'running'],
      tags: ['red'],
      price: 10,
      createdAt: 1_700_000_000_000,
      attributes: { brand: 'x' },
    }),
    item({ itemId: 'b', categories: ['hats'], available: false }),
    item({ itemId: 'c', tags: ['red', 'sale'], price: 0, attributes: { size: 3 } }),
  ]

  it('should round-trip items through columns, JSON and a checksummed catalog shard', async () => {
    const columns = CatalogTable.columnsOf(items, 123)
    const json = encodeCatalogColumns(columns)
    const encoded = await encodeShard({ kind: 'catalog', rows: items.length, json })
    const shard = await decodeShard(encoded.bytes, {
      expectedKind: 'catalog',
      expectedSha256: encoded.sha256,
    })
    if (shard.kind !== 'catalog') throw new Error('wrong kind')
    const table = decodeCatalogColumns(shard.json)
    expect(table.updatedUntil).toBe(123)
    expect(items.map((_, row) => table.item(row))).toEqual(items)
    expect(table.rowOf('c')).toBe(2)
    expect(table.view(0).hasCategory('running')).toBe(true)
    expect(table.view(0).hasTag('sale')).toBe(false)
    expect(table.view(1).available).toBe(false)
    // A flipped byte in the body fails the checksum, so a corrupted catalog never loads.
    const corrupted = encoded.bytes.slice()
    corrupted[64] = (corrupted[64]! + 1) & 0xff
    await expect(decodeShard(corrupted)).rejects.toMatchObject({ code: 'SHARD_CHECKSUM_MISMATCH' })
  })

  it('should reject inconsistent columns', () => {
    const columns = CatalogTable.columnsOf(items, 0)
    expect(() => new CatalogTable({ ...columns, price: [1] })).toThrow(/price/)
    expect(() => new CatalogTable({ ...columns, categoryCodes: [9, 9, 9] })).toThrow(/categoryCodes|offsets/)
    expect(() => decodeCatalogColumns(new Uint8Array([0x7b]))).toThrow(/JSON/)
  })
})

describe('filtered top-K', () => {
  const labels = ['a', 'b', 'c', 'd', 'e']

  it('should equal brute-force filtering of the full ranking (recommend and similar)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer(),
        fc.subarray(labels, { minLength: 1 }),
        fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
        fc.boolean(),
        (n, k, seed, wanted, maxPrice, splitBlocks) => {
          const dims = 8
          const random = mulberry32(seed)
          const q = quantizeRows(randomFloats(random, n * dims), n, dims)
          const items = Array.from({ length: n }, (_, i) =>
            item({
              itemId: `i${i}`,
              categories: [labels[randomInt(random, labels.length)]!],
              price: randomInt(random, 4) === 0 ? null : randomInt(random, 120),
              available: randomInt(random, 10) > 0,
            }),
          )
          const table = CatalogTable.fromItems(items, 0)
          const predicate = compileItemFilter({
            categories: wanted,
            ...(maxPrice !== undefined ? { maxPrice } : {}),
          })
          const excluded = new Set([randomInt(random, n)])
          const filter = indexFilterOf(predicate, { viewAt: (i) => table.view(i) }, excluded)
          const half = splitBlocks ? Math.floor(n / 2) : n
          const blocks = [
            blockFromQuantized(
              {
                rows: half,
                dims,
                values: q.values.subarray(0, half * dims),
                scales: q.scales.subarray(0, half),
              },
              0,
            ),
            blockFromQuantized(
              {
                rows: n - half,
                dims,
                values: q.values.subarray(half * dims),
                scales: q.scales.subarray(half),
              },
              half,
            ),
          ].filter((b) => b.rowCount > 0)
          const user = quantizeRows(randomFloats(random, dims), 1, dims)
          const userVector = { values: user.values, scale: user.scales[0]! }

          const top = recommendTopK(userVector, blocks, k, filter)
          const passing = items
            .map((_, i) => i)
            .filter((i) => !excluded.has(i) && predicate.test(viewOfItem(items[i]!)))
          const scored = passing.map((i) => ({
            i,
            s: userVector.scale * q.scales[i]! * dotInt8(userVector.values, q.values, i * dims, dims),
          }))
          scored.sort((x, y) => y.s - x.s || x.i - y.i)
          expect(Array.from(top.indices)).toEqual(scored.slice(0, k).map((x) => x.i))

          const query = randomInt(random, n)
          const similar = similarItems(blocks, query, k, filter)!
          expect(similar.indices.length).toBe(Math.min(k, passing.filter((i) => i !== query).length))
          for (const i of similar.indices) expect(passing).toContain(i)
        },
      ),
      { numRuns: 200 },
    )
  })
})

describe('splitCatalog', () => {
  const random = mulberry32(7)
  const items = Array.from({ length: 3000 }, (_, i) =>
    item({
      itemId: `sku-${i}-${'x'.repeat(randomInt(random, 20))}`,
      categories: [`cat-${i % 37}`, ...(i % 3 === 0 ? [`cat-${(i * 7) % 37}/sub`] : [])],
      tags: i % 5 === 0 ? [] : [`tag-${randomInt(random, 400)}`, 'sale'],
      price: i % 11 === 0 ? null : Math.round(random() * 100_000) / 100,
      available: i % 13 !== 0,
      createdAt: i % 4 === 0 ? null : 1_700_000_000_000 + i * 1000,
      attributes: i % 2 === 0 ? { brand: `brand-${i % 17}`, size: i % 45, vegan: i % 3 === 0 } : {},
    }),
  )

  it('should split into consecutive parts whose catalog shards all fit the limit', async () => {
    const maxBytes = 16 * 1024
    const { ranges, items: list } = splitCatalog(items, maxBytes)
    expect(ranges.length).toBeGreaterThan(5)
    expect(list).toHaveLength(items.length)
    let next = 0
    for (const { start, end } of ranges) {
      expect(start).toBe(next)
      next = end
      const json = encodeCatalogColumns(CatalogTable.columnsOf(list.slice(start, end), 0))
      const shard = await encodeShard({ kind: 'catalog', rows: end - start, rowOffset: start, json })
      expect(shard.bytes.byteLength).toBeLessThanOrEqual(maxBytes)
    }
    expect(next).toBe(items.length)
  })

  it('should keep one part for a catalog that fits one shard, and deduplicate ids (the later wins)', () => {
    const split = splitCatalog([...items.slice(0, 10), { ...items[3]!, price: 1 }])
    expect(split.ranges).toEqual([{ start: 0, end: 10 }])
    expect(split.items[3]!.price).toBe(1)
  })

  it('should put the model items first in model order and plan their aligned table', () => {
    const modelIds = ['sku-9', items[20]!.itemId, 'absent', items[3]!.itemId]
    const split = splitCatalog(items.slice(0, 30), 1 << 20, modelIds)
    expect(split.items.slice(0, 2).map((i) => i.itemId)).toEqual([items[20]!.itemId, items[3]!.itemId])
    expect(split.items).toHaveLength(30)
    const model = [items[20]!, items[3]!]
    const categoryCodes = model.reduce((n, i) => n + i.categories.length, 0)
    const tagCodes = model.reduce((n, i) => n + i.tags.length, 0)
    const attributes = model.reduce((n, i) => n + Object.keys(i.attributes).length, 0)
    const layout = catalogLayoutOf(model)
    expect(layout).toEqual({
      categoryLabels: new Set(model.flatMap((i) => i.categories)).size,
      maxCategories: Math.max(...model.map((i) => i.categories.length)),
      tagLabels: new Set(model.flatMap((i) => i.tags)).size,
      maxTags: Math.max(...model.map((i) => i.tags.length)),
      prices: new Set(model.flatMap((i) => (i.price === null ? [] : [i.price]))).size,
      createdAts: new Set(model.flatMap((i) => (i.createdAt === null ? [] : [i.createdAt]))).size,
    })
    expect(split.manifest).toEqual({
      rows: 30,
      categoryCodes,
      tagCodes,
      memoryBytes: alignedCatalogByteLength(4, categoryCodes, tagCodes, attributes, layout),
      layout,
    })
  })

  it('should refuse an item that cannot fit one shard', () => {
    expect(() => splitCatalog(items.slice(0, 1), 600)).toThrow(/catalog item/)
  })
})

describe('CatalogTable.builder', () => {
  const items = Array.from({ length: 500 }, (_, i) =>
    item({
      itemId: `i${i}`,
      categories: [`c${i % 7}`],
      tags: i % 2 ? [`t${i % 9}`, 'x'] : [],
      price: i % 5 ? i : null,
      available: i % 6 !== 0,
      createdAt: i % 3 ? i * 10 : null,
      attributes: i % 4 ? { brand: `b${i % 3}` } : {},
    }),
  )
  const parts = [
    [0, 120],
    [120, 121],
    [121, 400],
    [400, 500],
  ].map(([s, e]) => CatalogTable.columnsOf(items.slice(s, e), 100 + s!))

  it('should rebuild the table of the whole catalog from its parts, bytes as planned', () => {
    const builder = CatalogTable.builder(10)
    for (const part of parts) builder.add(encodeCatalogColumns(part))
    expect(builder.rows).toBe(500)
    const table = builder.build()
    const whole = CatalogTable.fromItems(items, 500)
    expect(items.map((_, row) => table.item(row))).toEqual(items.map((_, row) => whole.item(row)))
    expect(table.rowOf('i421')).toBe(421)
    expect(table.view(421).hasTag('x')).toBe(true)
    expect(table.view(421).hasCategory('c1')).toBe(true)
    expect(table.updatedUntil).toBe(500)
    const planned = parts.reduce((sum, p) => sum + catalogColumnsByteLength(p), 0) - 8 * (parts.length - 1)
    expect(table.byteLength).toBe(planned)
    expect(whole.byteLength).toBe(catalogColumnsByteLength(CatalogTable.columnsOf(items, 0)))
  })

  it('should leave out a part that is not valid columns, adding nothing of it', () => {
    const builder = CatalogTable.builder()
    builder.add(parts[0]!)
    expect(() => builder.add(new TextEncoder().encode('{"format":1'))).toThrow(/JSON/)
    expect(() => builder.add({ ...parts[1]!, categoryCodes: [99] })).toThrow(/categoryCodes/)
    builder.add(parts[2]!)
    const table = builder.build()
    expect(table.size).toBe(120 + 279)
    expect(table.rowOf('i120')).toBe(-1)
    expect(table.item(120)).toEqual(items[121])
  })
})

describe('CatalogTable.alignedBuilder', () => {
  const items = Array.from({ length: 300 }, (_, i) =>
    item({
      itemId: `i${i}`,
      categories: [`c${i % 7}`, ...(i % 5 === 0 ? ['five'] : [])],
      tags: i % 2 ? [`t${i % 9}`] : [],
      price: i % 5 ? i : null,
      available: i % 6 !== 0,
      createdAt: i % 3 ? i * 10 : null,
      attributes: i % 4 ? { brand: `b${i % 3}` } : {},
    }),
  )
  // The model: 250 of the catalog's items in another order, and 20 items without a catalog row.
  const modelIds = [
    ...Array.from({ length: 250 }, (_, i) => `i${(i * 7) % 250}`),
    ...Array.from({ length: 20 }, (_, i) => `new${i}`),
  ]
  const indexOf = (id: string) => modelIds.indexOf(id)
  const whole = CatalogTable.fromItems(items, 9)

  const modelItems = modelIds.flatMap((id) => items.filter((x) => x.itemId === id))
  const cases = [
    ['model', 'wide'],
    ['catalog', 'wide'],
    ['model', 'compact'],
    ['catalog', 'compact'],
  ] as const
  for (const [order, form] of cases) {
    it(`should put each row at its model index, without ids, parts in ${order} order, ${form} layout`, () => {
      const layout = form === 'compact' ? catalogLayoutOf(modelItems) : undefined
      const sorted =
        order === 'model' ? modelIds.flatMap((id) => items.filter((x) => x.itemId === id)) : items
      const rest = items.filter((x) => !modelIds.includes(x.itemId))
      const list = order === 'model' ? [...sorted, ...rest] : sorted
      const hint = { categories: 0, tags: 0 }
      for (const x of items)
        if (modelIds.includes(x.itemId)) {
          hint.categories += x.categories.length
          hint.tags += x.tags.length
        }
      const builder = CatalogTable.alignedBuilder(
        modelIds.length,
        indexOf,
        order === 'model' ? { ...hint, layout } : layout ? { categories: 0, tags: 0, layout } : undefined,
      )
      for (const [s, e] of [
        [0, 100],
        [100, 101],
        [101, 300],
      ])
        builder.add(encodeCatalogColumns(CatalogTable.columnsOf(list.slice(s, e), 9)))
      expect(builder.rows).toBe(250)
      const table = builder.build()
      expect(table.aligned).toBe(true)
      expect(table.size).toBe(250)
      expect(table.ids).toEqual([])
      for (let index = 0; index < modelIds.length; index++) {
        const row = whole.rowOf(modelIds[index]!)
        expect(table.has(index)).toBe(row >= 0)
        if (row < 0) continue
        expect({ ...table.item(index), itemId: modelIds[index] }).toEqual(whole.item(row))
        expect(table.view(index).hasCategory('five')).toBe(whole.view(row).hasCategory('five'))
      }
      let categoryCodes = 0
      let tagCodes = 0
      let attributes = 0
      for (const id of modelIds.slice(0, 250)) {
        const x = items.find((i) => i.itemId === id)!
        categoryCodes += x.categories.length
        tagCodes += x.tags.length
        attributes += Object.keys(x.attributes).length
      }
      expect(table.byteLength).toBe(
        alignedCatalogByteLength(modelIds.length, categoryCodes, tagCodes, attributes, layout),
      )
      expect(table.updatedUntil).toBe(9)
    })
  }
})

describe('CatalogTable.alignedBuilder with a compact layout', () => {
  it('should code wide dictionaries in 2 bytes, keep > 65,535 distinct values as float64, and answer the same', () => {
    const n = 70_000
    const items = Array.from({ length: n }, (_, i) =>
      item({
        itemId: `i${i}`,
        categories: i % 3 ? [`c${i % 5}`] : [],
        tags: [`t${i % 300}`],
        price: i % 50 ? i + 0.5 : null,
        available: i % 4 !== 0,
        createdAt: 1_000_000 + (i % 1000),
      }),
    )
    const ids = items.map((x) => x.itemId)
    const layout = catalogLayoutOf(items)
    expect(layout).toMatchObject({ tagLabels: 300, maxTags: 1, createdAts: 1000 })
    expect(layout.prices).toBeGreaterThan(0xffff)
    const rowOf = new Map(ids.map((id, i) => [id, i]))
    const builder = CatalogTable.alignedBuilder(n, (id) => rowOf.get(id) ?? -1, {
      categories: 0,
      tags: 0,
      layout,
    })
    for (let s = 0; s < n; s += 20_000)
      builder.add(CatalogTable.columnsOf(items.slice(s, Math.min(n, s + 20_000)), 5))
    const table = builder.build()
    const whole = CatalogTable.fromItems(items, 5)
    for (const row of [0, 1, 2, 3, 299, 300, 11, 65_536, n - 1])
      expect({ ...table.item(row), itemId: ids[row] }).toEqual(whole.item(row))
    expect(table.view(301).hasTag('t1')).toBe(true)
    expect(table.view(301).hasTag('t2')).toBe(false)
    expect(table.view(3).hasCategory('c3')).toBe(false)
    const categoryCodes = items.filter((x) => x.categories.length > 0).length
    // Categories 1 byte (5 labels + none), tags 2 (300 + none), prices float64, times 2 + 1001
    // values, 1 flag byte.
    expect(table.byteLength).toBe(alignedCatalogByteLength(n, categoryCodes, n, 0, layout))
    expect(table.byteLength).toBe(n * (1 + 2 + 8 + 2 + 1) + 8 * 1001)
    expect(table.byteLength).toBeLessThan(alignedCatalogByteLength(n, categoryCodes, n, 0) / 1.5)
  })

  it('should never take more than the wide layout, keeping float64 where a dictionary would not be smaller', () => {
    for (const items of [1, 10, 1000, 100_000])
      for (const distinct of [0, 1, 255, 256, 65_535, 65_536, 1_000_000])
        for (const [labels, max, codes] of [
          [0, 0, 0],
          [300, 1, items],
          [70_000, 3, 3 * items],
        ] as const) {
          const layout = {
            categoryLabels: labels,
            maxCategories: max,
            tagLabels: labels,
            maxTags: max,
            prices: distinct,
            createdAts: distinct,
          }
          expect(alignedCatalogByteLength(items, codes, codes, 0, layout)).toBeLessThanOrEqual(
            alignedCatalogByteLength(items, codes, codes, 0),
          )
        }
    // 10 items with 10 prices: 10 codes + 11 dictionary values > 10 float64s, so float64.
    const items = Array.from({ length: 10 }, (_, i) => item({ itemId: `i${i}`, price: i + 0.25 }))
    const layout = catalogLayoutOf(items)
    const builder = CatalogTable.alignedBuilder(10, (id) => Number(id.slice(1)), {
      categories: 0,
      tags: 0,
      layout,
    })
    builder.add(CatalogTable.columnsOf(items, 1))
    const table = builder.build()
    expect(table.byteLength).toBe(alignedCatalogByteLength(10, 0, 0, 0, layout))
    expect(table.byteLength).toBe(10 * (1 + 1 + 8 + 1 + 1) + 8)
    expect(table.item(7).price).toBe(7.25)
  })

  it('should refuse a part that does not fit the layout, adding nothing of it', () => {
    const items = Array.from({ length: 30 }, (_, i) =>
      item({ itemId: `i${i}`, tags: i === 25 ? ['a', 'b'] : ['a'], price: i < 20 ? 1 : i }),
    )
    const rowOf = (id: string) => Number(id.slice(1))
    const layout = { ...catalogLayoutOf(items.slice(0, 20)), maxTags: 1 }
    const builder = CatalogTable.alignedBuilder(30, rowOf, { categories: 0, tags: 0, layout })
    builder.add(CatalogTable.columnsOf(items.slice(0, 10), 1))
    expect(() => builder.add(CatalogTable.columnsOf(items.slice(20, 30), 1))).toThrow(/layout/)
    expect(() => builder.add(CatalogTable.columnsOf(items.slice(21, 25), 1))).toThrow(/prices exceed/)
    builder.add(CatalogTable.columnsOf(items.slice(10, 20), 1))
    expect(builder.rows).toBe(20)
    const table = builder.build()
    expect(table.has(21)).toBe(false)
    expect(table.item(15)).toEqual({ ...items[15], itemId: '' })
  })
})

/** A manifest's shard reference and fields, for the manifest tests below. */
const ref = (key: string, kind: string, rows = 1, rowOffset = 0) => ({
  key,
  kind,
  bytes: 10,
  sha256: 'a'.repeat(64),
  rows,
  rowOffset,
  storage: 'r2',
})
const base = {
  formatVersion: 1,
  version: 'v1',
  createdAt: new Date(0).toISOString(),
  dims: 4,
  counts: { users: 1, items: 1, interactions: 1 },
  als: { factors: 4, regularization: 0.1, alpha: 1, iterations: 1, cgSteps: 3, solver: 'cg', seed: 1 },
  eventWeights: { view: 1 },
  trainedUntil: 0,
  userBuckets: 1,
}
const shards = {
  items: [ref('i', 'items')],
  users: [ref('u', 'users')],
  popularity: ref('p', 'popularity'),
  gram: ref('g', 'gram'),
}

describe('manifest with a catalog', () => {
  it('should be accepted as an optional manifest shard', () => {
    const manifest = { ...base, shards: { ...shards, catalog: ref('c', 'catalog') } }
    expect(catalogShardRefs(parseManifest(manifest))[0]?.key).toBe('c')
    expect(() =>
      parseManifest({ ...manifest, shards: { ...manifest.shards, catalog: ref('c', 'gram') } }),
    ).toThrow(/shards.catalog.kind/)
  })

  it('should accept consecutive catalog shards with their rows and planned memory', () => {
    const m = parseManifest({
      ...base,
      catalog: { rows: 30, categoryCodes: 10, tagCodes: 0, memoryBytes: 4000 },
      shards: { ...shards, catalog: [ref('c0', 'catalog', 10, 0), ref('c1', 'catalog', 20, 10)] },
    })
    expect(catalogShardRefs(m).map((r) => r.key)).toEqual(['c0', 'c1'])
    expect(manifestShards(m).map((r) => r.key)).toContain('c1')
  })

  it('should reject gaps, wrong row totals and catalog stats without a list', () => {
    expect(() =>
      parseManifest({
        ...base,
        catalog: { rows: 30, categoryCodes: 10, tagCodes: 0, memoryBytes: 4000 },
        shards: { ...shards, catalog: [ref('c0', 'catalog', 10, 0), ref('c1', 'catalog', 20, 11)] },
      }),
    ).toThrow(/must start at row 10/)
    expect(() =>
      parseManifest({
        ...base,
        catalog: { rows: 31, categoryCodes: 10, tagCodes: 0, memoryBytes: 4000 },
        shards: { ...shards, catalog: [ref('c0', 'catalog', 10, 0), ref('c1', 'catalog', 20, 10)] },
      }),
    ).toThrow(/hold 30 rows/)
    expect(() =>
      parseManifest({
        ...base,
        catalog: { rows: 1, categoryCodes: 1, tagCodes: 0, memoryBytes: 1 },
        shards: { ...shards, catalog: ref('c', 'catalog') },
      }),
    ).toThrow(/list of catalog shards/)
    expect(() => parseManifest({ ...base, shards: { ...shards, catalog: [] } })).toThrow(/at least one/)
  })
})
