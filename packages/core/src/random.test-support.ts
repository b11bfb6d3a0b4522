/**
 * Deterministic pseudo-random numbers for tests and benchmarks (mulberry32). Not part of the
 * published package.
 *
 * @internal
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

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
