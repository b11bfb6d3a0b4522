/**
 * Formatting shared by the dashboard page and the simulated audience's console output.
 */

/**
 * A p-value for people: 4 decimals, scientific below 10⁻⁴, and "< 1e-15" when it underflowed to 0
 * (1 − Φ(z) is 0 in double precision beyond z ≈ 8.3).
 */
export function formatPValue(p: number | null | undefined): string {
  if (p === null || p === undefined) return 'n/a'
  if (p === 0) return '< 1e-15'
  return p < 1e-4 ? p.toExponential(2) : p.toFixed(4)
}
