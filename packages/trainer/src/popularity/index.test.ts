import { describe, expect, it } from 'vitest'
import { csrFromTriples } from '../data/matrix.js'
import { itemCounts, rankItems, trendingScores } from './index.js'

const DAY = 86_400_000
const now = 1_700_000_000_000
// item 0: two pairs (now, now − 7 days); item 1: one pair 14 days old; item 2: none; item 3: one in the future
const data = csrFromTriples(
  3,
  4,
  [0, 1, 2, 2],
  [0, 0, 1, 3],
  [5, 1, 1, 1],
  [now, now - 7 * DAY, now - 14 * DAY, now + DAY],
)

describe('itemCounts', () => {
  it('should count pairs per item, not their values', () => {
    expect([...itemCounts(data)]).toEqual([2, 1, 0, 1])
  })
})

describe('trendingScores', () => {
  it('should halve the weight of a pair every half-life and cap future pairs at 1', () => {
    const s = trendingScores(data, { halfLifeDays: 7, now })
    expect(s[0]).toBeCloseTo(1 + 0.5, 6)
    expect(s[1]).toBeCloseTo(0.25, 6)
    expect(s[2]).toBe(0)
    expect(s[3]).toBe(1)
  })

  it('should reject a non-positive half-life', () => {
    expect(() => trendingScores(data, { halfLifeDays: 0, now })).toThrow(/halfLifeDays/)
  })
})

describe('rankItems', () => {
  it('should sort by score descending with ties to the lower index', () => {
    expect([...rankItems([1, 3, 3, 0, 2])]).toEqual([1, 2, 4, 0, 3])
    expect([...rankItems([1, 3, 3, 0, 2], 2)]).toEqual([1, 2])
  })
})
