/**
 * Popularity and trending: the fallback for unknown users and the baseline every evaluation is
 * reported next to.
 *
 * @example
 * ```ts
 * const counts = itemCounts(train)                  // interactions per item
 * const hot = trendingScores(train, { halfLifeDays: 7, now: Date.now() })
 * const order = rankItems(counts)                   // item indexes, most popular first
 * ```
 * @module
 */
import { CoreError } from '@edgerec/core'
import type { CsrMatrix } from '../data/matrix.js'

const DAY_MS = 86_400_000

/** Number of (user, item) pairs per item: the popularity score of the reference's baseline. */
export function itemCounts(data: CsrMatrix): Float32Array {
  const counts = new Float32Array(data.cols)
  const total = data.indptr[data.rows]!
  for (let k = 0; k < total; k++) counts[data.indices[k]!]!++
  return counts
}

/** Options of {@link trendingScores}. */
export interface TrendingOptions {
  /** Days after which an interaction counts half. */
  halfLifeDays: number
  /** Reference time (epoch ms), usually the newest event time; newer pairs count 1. */
  now: number
}

/**
 * Time-decayed popularity: Σ over the item's pairs of 2^(−age / halfLife), age = now − t
 * (the pair's newest event time), floored at 0.
 *
 * @throws CoreError `INVALID_ARGUMENT` when the half-life is not a positive number
 */
export function trendingScores(data: CsrMatrix, opts: TrendingOptions): Float32Array {
  if (!(Number.isFinite(opts.halfLifeDays) && opts.halfLifeDays > 0)) {
    throw new CoreError(
      'INVALID_ARGUMENT',
      `halfLifeDays must be a positive number, got ${opts.halfLifeDays}.`,
    )
  }
  if (!Number.isFinite(opts.now)) {
    throw new CoreError('INVALID_ARGUMENT', `now must be an epoch-ms timestamp, got ${opts.now}.`)
  }
  const halfLifeMs = opts.halfLifeDays * DAY_MS
  const scores = new Float64Array(data.cols)
  const total = data.indptr[data.rows]!
  for (let k = 0; k < total; k++) {
    const age = Math.max(0, opts.now - data.timestamps[k]!)
    scores[data.indices[k]!]! += 2 ** (-age / halfLifeMs)
  }
  return Float32Array.from(scores)
}

/** Item indexes sorted by score descending, ties to the lower index; `limit` keeps the first ones. */
export function rankItems(scores: ArrayLike<number>, limit = scores.length): Uint32Array {
  const order = Array.from({ length: scores.length }, (_, i) => i)
  order.sort((a, b) => scores[b]! - scores[a]! || a - b)
  return Uint32Array.from(order.slice(0, Math.max(0, limit)))
}
