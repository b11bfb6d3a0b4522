/**
 * A small seeded PRNG (SplitMix32 seeding + Mulberry32) for the generator: fast, deterministic on
 * every platform, and cheap to fork per user so any user can be regenerated on its own.
 *
 * @module
 */
import { createRng, type Rng } from '../als/random.js'

/** Mixes two integers into a 32-bit seed (for per-user streams). */
export function mixSeed(a: number, b: number): number {
  let h = (Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35)) >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d)
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b)
  return (h ^ (h >>> 16)) >>> 0
}

/** Deterministic random numbers: the trainer's Mulberry32 ({@link createRng}) with SplitMix seeding. */
export class Random {
  readonly #rng: Rng

  constructor(seed: number) {
    this.#rng = createRng(mixSeed(seed | 0, 0x1234567) || 1)
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.#rng.next()
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  /** One element of a non-empty list. */
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!
  }

  /** Shuffles in place (Fisher-Yates) and returns the list. */
  shuffle<T>(list: T[]): T[] {
    for (let i = list.length - 1; i > 0; i--) {
      const j = this.int(i + 1)
      const tmp = list[i]!
      list[i] = list[j]!
      list[j] = tmp
    }
    return list
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next()
    const v = this.next()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }

  /** Number of failures before the first success, success probability p (mean (1−p)/p). */
  geometric(p: number): number {
    return Math.floor(Math.log(1 - this.next()) / Math.log(1 - p))
  }

  /** A random UUID (version 4 layout) from this stream. */
  uuid(): string {
    const hex = (n: number, digits: number) => n.toString(16).padStart(digits, '0')
    const a = (this.next() * 4294967296) >>> 0
    const b = (this.next() * 4294967296) >>> 0
    const c = (this.next() * 4294967296) >>> 0
    const d = (this.next() * 4294967296) >>> 0
    return `${hex(a, 8)}-${hex(b >>> 16, 4)}-4${hex(b & 0xfff, 3)}-${hex(0x8000 | (c >>> 18), 4)}-${hex(c & 0xffff, 4)}${hex(d, 8)}`
  }
}

/** Index drawn from a cumulative distribution (ascending, last = 1) by binary search. */
export function sampleCdf(cdf: Float64Array, u: number, start = 0, end = cdf.length): number {
  let lo = start
  let hi = end - 1
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (cdf[mid]! > u) hi = mid
    else lo = mid + 1
  }
  return lo
}
