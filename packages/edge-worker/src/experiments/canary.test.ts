import { describe, expect, it } from 'vitest'
import { CANARY_DEFAULTS, decideCanary, zOneSided } from './canary.js'

/** A synthetic impression stream: n impressions of which a share `ctr` clicked (rounded). */
const stream = (n: number, ctr: number) => ({ impressions: n, clicked: Math.round(n * ctr) })

describe('zOneSided', () => {
  it('should invert Φ', () => {
    expect(zOneSided(0.05)).toBeCloseTo(1.644854, 5)
    expect(zOneSided(0.01)).toBeCloseTo(2.326348, 5)
  })
})

describe('decideCanary', () => {
  it('should wait below minImpressions', () => {
    expect(decideCanary(stream(9000, 0.1), stream(999, 0.2), CANARY_DEFAULTS).action).toBe('wait')
  })

  it('should promote an equal canary once non-inferiority is significant (hand-computed z)', () => {
    // p̂ = 0.10 both; se = √(0.09/2000 + 0.09/18000) = 0.0070711; z = 0.01 / se = 1.41421 → p = 0.0786: wait.
    const early = decideCanary(stream(18_000, 0.1), stream(2000, 0.1), CANARY_DEFAULTS)
    expect(early.z).toBeCloseTo(Math.SQRT2, 4)
    expect(early.pValue).toBeCloseTo(0.07865, 4)
    expect(early.action).toBe('wait')
    // n_c = 5000, n_l = 45000: se = √(0.09/5000 + 0.09/45000) = 0.0044721; z = 2.23607 → p = 0.01267: promote.
    const later = decideCanary(stream(45_000, 0.1), stream(5000, 0.1), CANARY_DEFAULTS)
    expect(later.z).toBeCloseTo(2.23607, 4)
    expect(later.pValue).toBeCloseTo(0.01267, 4)
    expect(later.action).toBe('promote')
  })

  it('should roll back a clearly worse canary', () => {
    // p̂_c = 0.06, p̂_l = 0.10: z = (−0.04 + 0.01) / √(0.0564/2000 + 0.09/18000) = −5.21.
    const d = decideCanary(stream(18_000, 0.1), stream(2000, 0.06), CANARY_DEFAULTS)
    expect(d.action).toBe('rollback')
    expect(d.z).toBeCloseTo(-0.03 / Math.sqrt(0.0564 / 2000 + 0.09 / 18_000), 6)
  })

  it('should roll back when undecided at maxImpressions', () => {
    const config = { ...CANARY_DEFAULTS, maxImpressions: 1500 }
    expect(decideCanary(stream(13_500, 0.1), stream(1500, 0.095), config).action).toBe('rollback')
  })

  it('should roll back on the guardrails whatever the CTR', () => {
    const good = {
      live: { requests: 1000, errors: 1, p99: 20 },
      canary: { requests: 100, errors: 0, p99: 25 },
    }
    expect(decideCanary(stream(45_000, 0.1), stream(5000, 0.1), CANARY_DEFAULTS, good).action).toBe('promote')
    const errors = { ...good, canary: { requests: 100, errors: 3, p99: 25 } }
    expect(decideCanary(stream(45_000, 0.1), stream(5000, 0.1), CANARY_DEFAULTS, errors).reason).toContain(
      'error rate',
    )
    const slow = { ...good, canary: { requests: 100, errors: 0, p99: 31 } }
    const d = decideCanary(stream(45_000, 0.1), stream(5000, 0.1), CANARY_DEFAULTS, slow)
    expect([d.action, d.reason.startsWith('guardrail: canary p99')]).toEqual(['rollback', true])
  })
})
