/**
 * Deterministic pseudo-random numbers for tests and benchmarks (mulberry32). Not part of the
 * published package.
 *
 * @internal
 */
export { mulberry32 } from './random.js'

/** A random integer in [0, n). */
export function randomInt(random: () => number, n: number): number {
  return Math.floor(random() * n)
}

/** `n` values uniform in [-1, 1). */
export function randomFloats(random: () => number, n: number): Float64Array {
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) out[i] = random() * 2 - 1
  return out
}
