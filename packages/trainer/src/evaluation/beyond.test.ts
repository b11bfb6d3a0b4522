import { describe, expect, it } from 'vitest'
import { csrFromTriples } from '../data/matrix.js'
import { activityBuckets, extendedMetrics, normalizedRows } from './beyond.js'
import { rankingMetrics } from './metrics.js'

describe('extendedMetrics', () => {
  // 4 items in 2 dims: items 0, 1 point along x, item 2 along y, item 3 at 45°.
  const factors = Float32Array.from([1, 0, 2, 0, 0, 1, 1, 1])
  const unit = normalizedRows(factors, 4, 2)
  const context = { itemUsers: [3, 1, 0, 7], users: 7, itemFactors: factors, dims: 2 }

  it('should compute MRR, novelty and diversity by hand and keep the reference metrics exact', () => {
    // user 0: T = {2}, list [0, 2]; user 1: no test items (skipped); user 2: T = {3}, list [1, 0]
    const test = csrFromTriples(3, 4, [0, 2], [2, 3], [1, 1])
    const lists: Record<number, number[]> = { 0: [0, 2], 1: [3, 1], 2: [1, 0] }
    const m = extendedMetrics(test, 2, (u) => lists[u]!, context, unit)
    // mrr: user 0 hit at rank 1 → 1/2; user 2 no hit → 0
    expect(m.mrr).toBeCloseTo(0.25, 12)
    // novelty: −log2((n_i + 1)/8): item 0 → 1, item 2 → 3, item 1 → 2
    expect(m.novelty).toBeCloseTo(((1 + 3) / 2 + (2 + 1) / 2) / 2, 12)
    // diversity: user 0 pair (0, 2) orthogonal → 1; user 2 pair (1, 0) parallel → 0
    expect(m.diversity).toBeCloseTo(0.5, 6)
    const reference = rankingMetrics(test, 2, (u) => lists[u]!)
    expect(m).toMatchObject({
      precision: reference.precision,
      recall: reference.recall,
      map: reference.map,
      ndcg: reference.ndcg,
      auc: reference.auc,
      coverage: reference.coverage,
    })
  })

  it('should truncate longer lists to K', () => {
    const test = csrFromTriples(1, 4, [0], [3], [1])
    const at1 = extendedMetrics(test, 1, () => [0, 3], context, unit)
    const at2 = extendedMetrics(test, 2, () => [0, 3], context, unit)
    expect(at1.mrr).toBe(0)
    expect(at2.mrr).toBe(0.5)
    expect(at1.diversity).toBe(0)
  })
})

describe('activityBuckets', () => {
  it('should put users in cold (≤ 5), light (6–20) and heavy (> 20) by train interactions', () => {
    const counts = [0, 5, 6, 20, 21]
    const rows: number[] = []
    const cols: number[] = []
    counts.forEach((n, u) => {
      for (let i = 0; i < n; i++) {
        rows.push(u)
        cols.push(i)
      }
    })
    const b = activityBuckets(
      csrFromTriples(
        5,
        30,
        rows,
        cols,
        rows.map(() => 1),
      ),
    )
    expect(Array.from(b.cold)).toEqual([1, 1, 0, 0, 0])
    expect(Array.from(b.light)).toEqual([0, 0, 1, 1, 0])
    expect(Array.from(b.heavy)).toEqual([0, 0, 0, 0, 1])
  })
})
