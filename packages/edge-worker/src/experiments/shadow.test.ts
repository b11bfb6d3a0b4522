import { describe, expect, it } from 'vitest'
import { listOverlap } from './shadow.js'

describe('listOverlap', () => {
  it('should match overlap@k, Jaccard and average overlap computed by hand', () => {
    // S = a b c d, C = b a e c: S ∩ C = {a, b, c}; |S ∪ C| = 5.
    // Prefix overlaps |S₁..d ∩ C₁..d| = 0, 2, 2, 3, so AO = (0/1 + 2/2 + 2/3 + 3/4) / 4 = 29/48.
    const o = listOverlap(['a', 'b', 'c', 'd'], ['b', 'a', 'e', 'c'])
    expect(o).toEqual({ k: 4, common: 3, jaccard: 3 / 5, averageOverlap: expect.any(Number) })
    expect(o!.averageOverlap).toBeCloseTo(29 / 48, 12)
  })

  it('should give 1 for identical lists and 0 for disjoint ones', () => {
    expect(listOverlap(['a', 'b', 'c'], ['a', 'b', 'c'])).toEqual({
      k: 3,
      common: 3,
      jaccard: 1,
      averageOverlap: 1,
    })
    expect(listOverlap(['a', 'b'], ['c', 'd'])).toEqual({ k: 2, common: 0, jaccard: 0, averageOverlap: 0 })
  })

  it('should truncate the candidate to k and handle a shorter candidate', () => {
    // C truncated to k = 2 is c a: common {a}; J = 1 / 3; prefixes 0, 1 → AO = (0 + 1/2) / 2.
    expect(listOverlap(['a', 'b'], ['c', 'a', 'b'])).toEqual({
      k: 2,
      common: 1,
      jaccard: 1 / 3,
      averageOverlap: 1 / 4,
    })
    // C = b only: common {b}; |S ∪ C| = 3; prefixes 0, 1, 1 → AO = (0 + 1/2 + 1/3) / 3 = 5/18.
    const short = listOverlap(['a', 'b', 'c'], ['b'])!
    expect(short).toMatchObject({ k: 3, common: 1, jaccard: 1 / 3 })
    expect(short.averageOverlap).toBeCloseTo(5 / 18, 12)
    expect(listOverlap([], ['a'])).toBeNull()
  })
})
