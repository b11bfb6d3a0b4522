import { describe, expect, it } from 'vitest'
import { createRng, shuffleInPlace } from './random.js'

describe('createRng', () => {
  it('should repeat a sequence for a seed and stay in [0, 1)', () => {
    const a = createRng(7)
    const b = createRng(7)
    const xs = Array.from({ length: 1000 }, () => a.next())
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b.next()))
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...xs)).toBeLessThan(1)
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05)
    expect(createRng(8).next()).not.toBe(createRng(7).next())
  })

  it('should draw integers in [0, n) and shuffle to a permutation', () => {
    const rng = createRng(1)
    const counts = new Array(5).fill(0)
    for (let j = 0; j < 5000; j++) counts[rng.int(5)]++
    for (const c of counts) expect(c).toBeGreaterThan(850)
    const shuffled = shuffleInPlace([1, 2, 3, 4, 5, 6], createRng(2))
    expect([...shuffled].sort()).toEqual([1, 2, 3, 4, 5, 6])
  })
})
