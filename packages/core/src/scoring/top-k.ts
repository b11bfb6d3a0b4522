/**
 * Bounded top-K selection in one pass: a min-heap of the K best (score desc, index asc) seen so far.
 *
 * @module
 */
import { CoreError } from '../errors.js'

/** Something that says whether an item index is excluded (a `Set<number>` fits). */
export interface IndexFilter {
  has(index: number): boolean
}

/** The K best items, best first. */
export interface TopKResult {
  indices: Uint32Array
  scores: Float32Array
}

/**
 * Keeps the K highest scores seen; ties go to the lower index.
 * Push candidates in any order; `result()` returns them best first.
 *
 * @example
 * ```ts
 * const top = new TopK(10)
 * for (let i = 0; i < scores.length; i++) top.push(i, scores[i])
 * const { indices } = top.result()
 * ```
 */
export class TopK {
  readonly k: number
  #size = 0
  readonly #scores: Float64Array
  readonly #indices: Int32Array

  constructor(k: number) {
    if (!Number.isInteger(k) || k < 0) {
      throw new CoreError(
        'INVALID_ARGUMENT',
        `k must be a non-negative integer, got ${k}. Parse and clamp k before calling.`,
      )
    }
    this.k = k
    this.#scores = new Float64Array(k)
    this.#indices = new Int32Array(k)
  }

  /** Number of items held (≤ k). */
  get size(): number {
    return this.#size
  }

  /** The score an item must beat to enter, or -Infinity while not full. */
  get threshold(): number {
    return this.#size < this.k ? Number.NEGATIVE_INFINITY : this.#scores[0]!
  }

  /** `a` ranks below `b`: lower score, or equal score and higher index. */
  #worse(sa: number, ia: number, sb: number, ib: number): boolean {
    return sa < sb || (sa === sb && ia > ib)
  }

  /** Offers an item. NaN scores are ignored. */
  push(index: number, score: number): void {
    if (this.k === 0 || Number.isNaN(score)) return
    const scores = this.#scores
    const indices = this.#indices
    if (this.#size < this.k) {
      let i = this.#size++
      while (i > 0) {
        const parent = (i - 1) >> 1
        if (!this.#worse(score, index, scores[parent]!, indices[parent]!)) break
        scores[i] = scores[parent]!
        indices[i] = indices[parent]!
        i = parent
      }
      scores[i] = score
      indices[i] = index
      return
    }
    if (!this.#worse(scores[0]!, indices[0]!, score, index)) return
    let i = 0
    const n = this.#size
    for (;;) {
      const left = 2 * i + 1
      if (left >= n) break
      const right = left + 1
      let child = left
      if (right < n && this.#worse(scores[right]!, indices[right]!, scores[left]!, indices[left]!))
        child = right
      if (!this.#worse(scores[child]!, indices[child]!, score, index)) break
      scores[i] = scores[child]!
      indices[i] = indices[child]!
      i = child
    }
    scores[i] = score
    indices[i] = index
  }

  /** The held items, best first. */
  result(): TopKResult {
    const order = Array.from({ length: this.#size }, (_, i) => i)
    order.sort((a, b) => {
      const sa = this.#scores[a]!
      const sb = this.#scores[b]!
      return sb - sa || this.#indices[a]! - this.#indices[b]!
    })
    const indices = new Uint32Array(this.#size)
    const scores = new Float32Array(this.#size)
    order.forEach((j, r) => {
      indices[r] = this.#indices[j]!
      scores[r] = this.#scores[j]!
    })
    return { indices, scores }
  }
}

/**
 * Top K of a score array, skipping excluded indexes.
 */
export function topK(scores: ArrayLike<number>, k: number, exclude?: IndexFilter): TopKResult {
  const top = new TopK(k)
  for (let i = 0; i < scores.length; i++) {
    if (exclude?.has(i)) continue
    top.push(i, scores[i]!)
  }
  return top.result()
}
