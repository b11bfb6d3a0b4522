import { describe, expect, it } from 'vitest'
import { normalCdf, twoProportionTest, wilson } from './stats.js'

describe('wilson', () => {
  it('should match the hand-computed interval for 10 successes in 100', () => {
    // z² = 3.841459; denominator 1.03841459; centre (0.1 + 0.01920729) / 1.03841459 = 0.1148044;
    // half = 1.959964 · √(0.0009 + 0.00009604) / 1.03841459 = 0.0595839.
    const p = wilson(10, 100)
    expect(p.rate).toBe(0.1)
    expect(p.low).toBeCloseTo(0.0552, 4)
    expect(p.high).toBeCloseTo(0.1744, 4)
  })

  it('should stay inside [0, 1] at the edges and answer [0, 1] without trials', () => {
    expect(wilson(0, 20).low).toBe(0)
    expect(wilson(0, 20).high).toBeCloseTo(0.1611, 4)
    expect(wilson(20, 20).high).toBe(1)
    expect(wilson(0, 0)).toEqual({ x: 0, n: 0, rate: 0, low: 0, high: 1 })
  })
})

describe('normalCdf', () => {
  it('should match tabulated values of Φ', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7)
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6)
    expect(normalCdf(-1)).toBeCloseTo(0.158655, 6)
    expect(normalCdf(3)).toBeCloseTo(0.99865, 5)
  })
})

describe('twoProportionTest', () => {
  it('should match the hand-computed z and p for 100/1000 against 130/1000', () => {
    // p̄ = 230/2000 = 0.115; se = √(0.115 · 0.885 · 0.002) = 0.0142671; z = 0.03 / 0.0142671 = 2.10273;
    // p = 2(1 − Φ(2.10273)) = 0.035487.
    const t = twoProportionTest(100, 1000, 130, 1000)
    expect(t.difference).toBeCloseTo(0.03, 10)
    expect(t.z).toBeCloseTo(2.10273, 4)
    expect(t.pValue).toBeCloseTo(0.035487, 4)
    expect(t.test).toBe('two-proportion z-test, pooled, two-sided')
  })

  it('should answer no p-value when a side has no trials or nothing varies', () => {
    expect(twoProportionTest(0, 0, 5, 10).pValue).toBeNull()
    expect(twoProportionTest(0, 10, 0, 10).pValue).toBeNull()
  })
})
