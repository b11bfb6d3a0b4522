import { describe, expect, it } from 'vitest'
import type { CatalogItem } from './item.js'
import { boostFactor, compileRules, rerank } from './rules.js'
import { viewOfItem } from './table.js'

const DAY = 86_400_000
const now = Date.UTC(2026, 11, 3)

function view(fields: Partial<CatalogItem>) {
  return viewOfItem({
    itemId: 'x',
    categories: [],
    tags: [],
    price: null,
    available: true,
    createdAt: null,
    attributes: {},
    ...fields,
  })
}

describe('compileRules', () => {
  it('should compile boosts, pins and diversity defaults', () => {
    const r = compileRules({
      boosts: [
        { newerThanDays: 14, factor: 1.2 },
        { filter: 'category:promo', factor: 2, until: '2027-01-01T00:00:00Z' },
      ],
      pins: [
        { itemId: 'b', position: 3 },
        { itemId: 'a', position: 1 },
      ],
      maxPerCategory: 2,
      diversity: 0.3,
    })
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.rules.pins.map((p) => p.itemId)).toEqual(['a', 'b'])
    expect(r.rules.boosts[1]!.until).toBe(Date.UTC(2027, 0, 1))
    expect(r.rules.maxPerCategory).toBe(2)
  })

  it('should report every bad field', () => {
    const r = compileRules({
      boosts: [{ factor: 0 }, { filter: '(x', factor: 2 }],
      pins: [{ position: 0 }],
      diversity: 2,
      extra: 1,
    })
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.errors.map((e) => e.field).sort()).toEqual(
      ['boosts.0.factor', 'boosts.1.filter', 'diversity', 'extra', 'pins.0.itemId', 'pins.0.position'].sort(),
    )
  })
})

describe('boostFactor', () => {
  it('should multiply the factors of matching, unexpired boosts', () => {
    const r = compileRules({
      boosts: [
        { newerThanDays: 14, factor: 1.2 },
        { filter: 'category:promo', factor: 2 },
        { filter: 'category:promo', factor: 5, until: now - 1 },
      ],
    })
    if (!r.ok) throw new Error('invalid')
    expect(
      boostFactor(r.rules.boosts, view({ createdAt: now - 3 * DAY, categories: ['promo'] }), now),
    ).toBeCloseTo(2.4)
    expect(boostFactor(r.rules.boosts, view({ createdAt: now - 30 * DAY }), now)).toBe(1)
    expect(boostFactor(r.rules.boosts, view({}), now)).toBe(1)
  })
})

describe('rerank', () => {
  const pool = [
    { index: 0, score: 10 },
    { index: 1, score: 9 },
    { index: 2, score: 8 },
    { index: 3, score: 7 },
    { index: 4, score: -1 },
  ]
  const category = (i: number) => [i < 3 ? 'a' : 'b']

  it('should reorder by boosted scores, dividing negative scores', () => {
    const { picks } = rerank(pool, 5, { boost: (i) => (i === 3 ? 2 : i === 4 ? 2 : 1) })
    expect(picks.map((p) => p.index)).toEqual([3, 0, 1, 2, 4])
    expect(picks[0]!.score).toBe(14)
    expect(picks[4]!.score).toBe(-0.5)
  })

  it('should keep at most N per category and say when the pool ran out', () => {
    const capped = rerank(pool, 4, { categories: category, maxPerCategory: 1 })
    expect(capped.picks.map((p) => p.index)).toEqual([0, 3])
    expect(capped.exhausted).toBe(true)
    const two = rerank(pool, 4, { categories: category, maxPerCategory: 2 })
    expect(two.picks.map((p) => p.index)).toEqual([0, 1, 3, 4])
  })

  it('should trade relevance for novelty with MMR as diversity grows', () => {
    // Items 0..2 are near-duplicates; 3 is different.
    const similarity = (a: number, b: number) => (category(a)[0] === category(b)[0] ? 0.95 : 0)
    expect(rerank(pool, 2, { diversity: 0, similarity }).picks.map((p) => p.index)).toEqual([0, 1])
    expect(rerank(pool, 2, { diversity: 0.5, similarity }).picks.map((p) => p.index)).toEqual([0, 3])
  })
})
