/**
 * Precomputed candidates of trained users (issue 16): at export, each user's best `n` items by the
 * trained vector x_u (training interactions left out) are stored in the user's bucket with the
 * score the worker's scan gives them; at serving, a user without events since training takes the
 * first `size` candidates that pass the request's filter and exclusions, so a partitioned version
 * answers without reading any list. When fewer than `size` candidates pass, the caller scans.
 *
 * @module
 */
import type { QuantizedMatrix } from '../quantize/quantize.js'
import type { CandidateLists, InteractionLists } from '../shard/types.js'
import type { Int8Vector } from './score.js'
import type { IndexFilter, TopKResult } from './top-k.js'

/** Default candidates stored per user ({@link buildCandidateLists}). */
export const DEFAULT_CANDIDATES_PER_USER = 50

/**
 * A partitioned version's candidates are found by the probed scan at this many times its default
 * nprobe (capped at the number of partitions): they are computed once per version offline, where a
 * probe is a memory read, not a ranged read from R2, so a wider probe buys recall for the users
 * served from them at no cost per request.
 */
export const CANDIDATE_NPROBE_FACTOR = 4

/** The nprobe of a partitioned version's candidates: min(P, {@link CANDIDATE_NPROBE_FACTOR} · nprobe). */
export function candidateNprobe(lists: number, nprobe: number): number {
  return Math.min(lists, CANDIDATE_NPROBE_FACTOR * nprobe)
}

/**
 * The best items of one user by x_u, best first, with `exclude` left out: the exact scan
 * (`recommendTopK`) or the probed one (`recommendTopKProbed` at a larger nprobe than serving's).
 */
export type CandidateScan = (user: Int8Vector, n: number, exclude: IndexFilter) => TopKResult

/**
 * The candidates of every row of `users` (one user bucket): row r's best `n` items by `scan`, its
 * training interactions (`interactions`, the bucket's CSR) left out, since serving excludes them.
 */
export function buildCandidateLists(
  users: QuantizedMatrix,
  interactions: Pick<InteractionLists, 'offsets' | 'items'>,
  n: number,
  scan: CandidateScan,
): CandidateLists {
  const rows = users.rows
  const offsets = new Uint32Array(rows + 1)
  const parts: TopKResult[] = []
  const trained = new Set<number>()
  for (let r = 0; r < rows; r++) {
    trained.clear()
    for (let i = interactions.offsets[r]!; i < interactions.offsets[r + 1]!; i++)
      trained.add(interactions.items[i]!)
    const user: Int8Vector = {
      values: users.values.subarray(r * users.dims, (r + 1) * users.dims),
      scale: users.scales[r]!,
    }
    const top = n > 0 ? scan(user, n, trained) : { indices: new Uint32Array(0), scores: new Float32Array(0) }
    parts.push(top)
    offsets[r + 1] = offsets[r]! + top.indices.length
  }
  const items = new Uint32Array(offsets[rows]!)
  const scores = new Float32Array(offsets[rows]!)
  parts.forEach((top, r) => {
    items.set(top.indices, offsets[r]!)
    scores.set(top.scores, offsets[r]!)
  })
  return { offsets, items, scores }
}

/**
 * The best `size` of one user's candidates (`items`/`scores`: the user's row, best first) that are
 * not in `skip`, or null when fewer than `size` pass: the caller then scans the version. The
 * candidates were ranked by the scan itself, so the answer is the scan's over the same items.
 */
export function topKFromCandidates(
  items: Uint32Array,
  scores: Float32Array,
  size: number,
  skip?: IndexFilter,
): TopKResult | null {
  const indices: number[] = []
  const kept: number[] = []
  for (let i = 0; i < items.length && indices.length < size; i++) {
    // A repeat (a bucket the encoder's check did not write) is dropped, not served twice.
    if (skip?.has(items[i]!) || indices.includes(items[i]!)) continue
    indices.push(items[i]!)
    kept.push(scores[i]!)
  }
  if (indices.length < size) return null
  return { indices: Uint32Array.from(indices), scores: Float32Array.from(kept) }
}
