/**
 * A small seeded pseudo-random generator (mulberry32) so that training, splits and random search
 * are reproducible from one integer seed on every platform (Math.random cannot be seeded).
 *
 * @module
 */

/** A seeded source of uniform numbers. */
export interface Rng {
  /** Uniform float in [0, 1), 32 bits of randomness. */
  next(): number
  /** Uniform integer in [0, n). */
  int(n: number): number
}

/**
 * Creates a mulberry32 generator. Equal seeds give equal sequences.
 *
 * @example
 * ```ts
 * const rng = createRng(42)
 * const u = rng.next() // 0 ≤ u < 1
 * ```
 */
export function createRng(seed: number): Rng {
  let state = seed >>> 0
  const nextUint32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
  return {
    next: () => nextUint32() / 4294967296,
    int: (n: number) => Math.floor((nextUint32() / 4294967296) * n),
  }
}

/** Shuffles `values` in place (Fisher–Yates) with `rng`; returns it. */
export function shuffleInPlace<T extends { length: number; [i: number]: unknown }>(values: T, rng: Rng): T {
  for (let i = values.length - 1; i > 0; i--) {
    const j = rng.int(i + 1)
    const tmp = values[i]
    values[i] = values[j]
    values[j] = tmp
  }
  return values
}
