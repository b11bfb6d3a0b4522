/**
 * The statistics of experiment results: Wilson score intervals for proportions (CTR, conversion)
 * and the two-sided two-proportion z-test with pooled variance between a variant and the control.
 *
 * Notation: n impressions, x successes (impressions with at least one attributed click, add to
 * cart or purchase), p̂ = x / n, z = Φ⁻¹(0.975) = 1.959964 for 95 % intervals.
 *
 * @module
 */

/** z for a two-sided 95 % interval: Φ⁻¹(0.975). */
export const Z_95 = 1.959963984540054

/** A proportion with its 95 % Wilson interval. */
export interface Proportion {
  /** Successes. */
  x: number
  /** Trials. */
  n: number
  /** x / n (0 when n = 0). */
  rate: number
  /** Lower end of the 95 % interval. */
  low: number
  /** Upper end of the 95 % interval. */
  high: number
}

/**
 * Wilson score interval (Wilson 1927): centre (p̂ + z²/2n) / (1 + z²/n), half-width
 * z·√(p̂(1−p̂)/n + z²/4n²) / (1 + z²/n). Unlike the Wald interval it stays inside [0, 1] and is
 * sensible for small n and rates near 0, which CTRs are. n = 0 gives [0, 1].
 */
export function wilson(x: number, n: number, z = Z_95): Proportion {
  if (n <= 0) return { x, n, rate: 0, low: 0, high: 1 }
  const p = x / n
  const z2 = z * z
  const denominator = 1 + z2 / n
  const centre = (p + z2 / (2 * n)) / denominator
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denominator
  return { x, n, rate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) }
}

/**
 * Φ(x), the standard normal CDF, from erfc by the Numerical Recipes Chebyshev fit (`erfcc`,
 * fractional error < 1.2·10⁻⁷ everywhere).
 */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2
  const t = 1 / (1 + 0.5 * z)
  const erfc =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    )
  return x >= 0 ? 1 - erfc / 2 : erfc / 2
}

/** The outcome of {@link twoProportionTest}. */
export interface ProportionTest {
  /** The test's name, stated in every answer. */
  test: 'two-proportion z-test, pooled, two-sided'
  /** z = (p̂_b − p̂_a) / √(p̄(1−p̄)(1/n_a + 1/n_b)), p̄ = (x_a + x_b)/(n_a + n_b). */
  z: number
  /** 2·(1 − Φ(|z|)); null when either side has no trials or p̄ ∈ {0, 1}. */
  pValue: number | null
  /** p̂_b − p̂_a. */
  difference: number
}

/** Two-sided two-proportion z-test of H₀: p_a = p_b (a: control, b: the variant). */
export function twoProportionTest(xa: number, na: number, xb: number, nb: number): ProportionTest {
  const test = 'two-proportion z-test, pooled, two-sided' as const
  const pa = na > 0 ? xa / na : 0
  const pb = nb > 0 ? xb / nb : 0
  const difference = pb - pa
  const pooled = na + nb > 0 ? (xa + xb) / (na + nb) : 0
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb))
  if (na <= 0 || nb <= 0 || !(se > 0)) return { test, z: 0, pValue: null, difference }
  const z = difference / se
  return { test, z, pValue: Math.min(1, 2 * (1 - normalCdf(Math.abs(z)))), difference }
}
