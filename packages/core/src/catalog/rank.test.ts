import { describe, expect, it } from 'vitest'
import { TopK, type TopKResult } from '../scoring/top-k.js'
import { activeRules, cosineOfCandidates, mergeCandidates, rankWithRules } from './rank.js'
import { compileRules } from './rules.js'
import { viewOfItem } from './table.js'

/** Scores of 10 scanned items: 10, 9, …, 1. */
const scanScores = Array.from({ length: 10 }, (_, i) => 10 - i)
const scan = (size: number): TopKResult => {
  const top = new TopK(size)
  scanScores.forEach((s, i) => {
    top.push(i, s)
  })
  return top.result()
}

function rulesOf(doc: unknown) {
  const compiled = compileRules(doc)
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors))
  return compiled.rules
}

describe('activeRules', () => {
  it('should be undefined without rules, and drop expired boosts and pins', () => {
    expect(activeRules(undefined, 0)).toBeUndefined()
    expect(activeRules(undefined, 0, { diversity: 0.3 })?.diversity).toBe(0.3)
    const rules = rulesOf({
      boosts: [{ factor: 2, until: 1000 }],
      pins: [{ itemId: 'a', position: 1, until: 1000 }],
    })
    expect(activeRules(rules, 500)).toMatchObject({ pins: [{ itemId: 'a', position: 1 }] })
    expect(activeRules(rules, 2000)).toBeUndefined()
  })
})

describe('mergeCandidates', () => {
  it('should return the best `size` of scan ∪ extras, extras indexed after the offset', () => {
    const merged = mergeCandidates(scan, [{ score: 9.5 }, { score: 0.5 }, { score: 20 }], 100)
    const top = merged(4)
    expect(Array.from(top.indices)).toEqual([102, 0, 100, 1])
    expect(Array.from(top.scores)).toEqual([20, 10, 9.5, 9])
    expect(merged(20).indices).toHaveLength(13)
    expect(mergeCandidates(scan, [], 100)).toBe(scan)
  })
})

describe('rankWithRules', () => {
  const category = (index: number) => (index >= 100 ? 'new' : index % 2 === 0 ? 'even' : 'odd')
  const views = (index: number) =>
    viewOfItem({
      itemId: String(index),
      categories: [category(index)],
      tags: index === 101 ? ['arrival'] : [],
      price: null,
      available: true,
      createdAt: null,
      attributes: {},
    })
  const extras = [{ score: 8.5 }, { score: 1.5 }]
  const source = {
    fetch: mergeCandidates(scan, extras, 100),
    total: scanScores.length + extras.length,
    view: views,
    similarity: () => 0,
    pinIndex: (id: string) => (id === 'gone' ? -1 : Number(id)),
  }

  it('should boost, cap and pin extras like scanned items', () => {
    const boosted = rankWithRules(
      activeRules(rulesOf({ boosts: [{ filter: 'tag:arrival', factor: 10 }] }), 0)!,
      source,
      3,
    )
    expect(Array.from(boosted.indices)).toEqual([101, 0, 1])
    expect(boosted.scores[0]).toBeCloseTo(15)

    const capped = rankWithRules(activeRules(rulesOf({ maxPerCategory: 1 }), 0)!, source, 5)
    expect(Array.from(capped.indices)).toEqual([0, 1, 100])

    const pinned = rankWithRules(
      activeRules(
        rulesOf({
          pins: [
            { itemId: '101', position: 1 },
            { itemId: 'gone', position: 2 },
          ],
        }),
        0,
      )!,
      source,
      3,
    )
    expect(Array.from(pinned.indices)).toEqual([101, 0, 1])
  })

  it('should grow the pool until the cap is filled', () => {
    const calls: number[] = []
    const many = Array.from({ length: 300 }, (_, i) => 300 - i)
    const fetch = (size: number): TopKResult => {
      calls.push(size)
      const top = new TopK(size)
      many.forEach((s, i) => {
        top.push(i, s)
      })
      return top.result()
    }
    // Items 0..199 share a category; the third category starts at 250.
    const view = (index: number) =>
      viewOfItem({
        itemId: String(index),
        categories: [index < 200 ? 'a' : index < 250 ? 'b' : 'c'],
        tags: [],
        price: null,
        available: true,
        createdAt: null,
        attributes: {},
      })
    const top = rankWithRules(
      activeRules(undefined, 0, { maxPerCategory: 1 })!,
      { fetch, total: 300, view, similarity: () => 0, pinIndex: () => -1 },
      3,
    )
    expect(Array.from(top.indices)).toEqual([0, 200, 250])
    expect(calls).toEqual([50, 200, 300])
  })
})

describe('cosineOfCandidates', () => {
  it('should give cosines of the vectors read, 0 for a candidate without one', () => {
    const vectors: Record<number, number[]> = { 0: [1, 0], 1: [1, 1], 2: [0, 3] }
    const cos = cosineOfCandidates(2, (index, out) => {
      const v = vectors[index]
      if (v) out.set(v)
      return v !== undefined
    })
    expect(cos(0, 1)).toBeCloseTo(Math.SQRT1_2)
    expect(cos(0, 2)).toBeCloseTo(0)
    expect(cos(1, 1)).toBeCloseTo(1)
    expect(cos(0, 9)).toBe(0)
  })
})
