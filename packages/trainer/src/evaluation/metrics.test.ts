import { describe, expect, it } from 'vitest'
import { csrFromTriples } from '../data/matrix.js'
import { rankingMetrics, scoreRanking } from './metrics.js'

describe('scoreRanking', () => {
  it('should score a list with two hits by hand', () => {
    // 10 items, T = {2, 5}, K = 3, ranked [5, 1, 2] → h = [1, 0, 1], H = 2, k_u = min(3, 2) = 2
    // ap   = (1/1 + 2/3) / 2 = 5/6
    // ndcg = (1/log2 2 + 1/log2 4) / (1/log2 2 + 1/log2 3) = 1.5 / 1.6309298
    // auc  = [hits before the miss at r=1: 1] + ((2 + 2)/2)·(8 − 1) = 15, / (2 · 8) = 0.9375
    const s = scoreRanking([5, 1, 2], (i) => i === 2 || i === 5, 2, 3, 10)
    expect(s.hits).toBe(2)
    expect(s.cappedRelevant).toBe(2)
    expect(s.recall).toBe(1)
    expect(s.ap).toBeCloseTo(5 / 6, 12)
    expect(s.ndcg).toBeCloseTo(1.5 / (1 + 1 / Math.log2(3)), 12)
    expect(s.auc).toBeCloseTo(0.9375, 12)
  })

  it('should score a list without hits by hand', () => {
    // 10 items, T = {7}, ranked [0, 1, 3]: no hits; auc = ((0 + 1)/2)·(9 − 3) / (1 · 9) = 1/3
    const s = scoreRanking([0, 1, 3], (i) => i === 7, 1, 3, 10)
    expect(s).toEqual({
      hits: 0,
      cappedRelevant: 1,
      recall: 0,
      ap: 0,
      ndcg: 0,
      auc: expect.closeTo(1 / 3, 12),
    })
  })

  it('should cap the ideal DCG and AP denominator at K', () => {
    // K = 2, |T| = 4, ranked [1, 9] with 1 ∈ T: k_u = 2, ap = 1/2, ndcg = 1 / (1 + 1/log2 3), recall = 1/4
    const s = scoreRanking([1, 9], (i) => i < 4, 4, 2, 20)
    expect(s.ap).toBeCloseTo(0.5, 12)
    expect(s.ndcg).toBeCloseTo(1 / (1 + 1 / Math.log2(3)), 12)
    expect(s.recall).toBeCloseTo(0.25, 12)
  })
})

describe('rankingMetrics', () => {
  it('should average over users with test items, micro-average precision and count coverage', () => {
    // user 0: T = {2, 5} ranked [5, 1, 2]; user 1: no test items (skipped); user 2: T = {7} ranked [0, 1, 3]
    const test = csrFromTriples(3, 10, [0, 0, 2], [2, 5, 7], [1, 1, 1])
    const lists: Record<number, number[]> = { 0: [5, 1, 2], 1: [9, 8, 6], 2: [0, 1, 3] }
    const m = rankingMetrics(test, 3, (u) => lists[u]!)
    expect(m.users).toBe(2)
    expect(m.precision).toBeCloseTo(2 / 3, 12) // (2 + 0) / (2 + 1)
    expect(m.recall).toBeCloseTo(0.5, 12)
    expect(m.map).toBeCloseTo(5 / 12, 12)
    expect(m.ndcg).toBeCloseTo(1.5 / (1 + 1 / Math.log2(3)) / 2, 12)
    expect(m.auc).toBeCloseTo((0.9375 + 1 / 3) / 2, 12)
    expect(m.coverage).toBeCloseTo(5 / 10, 12) // {5, 1, 2, 0, 3}; user 1 is not evaluated
  })
})
