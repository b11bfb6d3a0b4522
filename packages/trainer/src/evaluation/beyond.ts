/**
 * Metrics beyond the reference protocol, computed from the same ranked lists: MRR, novelty and
 * intra-list diversity, metrics at several K, and results per user-activity bucket. The reference
 * metrics themselves always come from {@link rankingMetrics} (shared/REFERENCE.md definitions).
 *
 * For a user with test set T_u and a ranked list L (best first, length ≤ K):
 * - mrr = mean_u 1 / (r + 1) for the first r with L_r ∈ T_u (0 without a hit)
 * - novelty = mean_u mean_{i ∈ L} −log2((n_i + 1) / (n_users + 1)), n_i = train users of item i
 *   (self-information of the item's popularity; higher = less popular recommendations)
 * - diversity = mean_u mean_{i < j ∈ L} (1 − cos(y_i, y_j)) over the ALS item factors y (intra-list
 *   diversity; the same embedding for every model so the values compare), computed in O(K · dims)
 *   per user with Σ_{i<j} ŷ_iᵀŷ_j = (‖Σ_i ŷ_i‖² − Σ_i ‖ŷ_i‖²) / 2 for unit vectors ŷ
 *
 * @module
 */
import type { MetricSet } from '@edgerec/core'
import type { CsrMatrix } from '../data/matrix.js'
import { rankingMetrics } from './metrics.js'

/** The K values reported next to the main K. */
export const EVALUATION_KS = [1, 5, 10, 20, 50] as const

/** Reference metrics plus MRR, novelty and intra-list diversity. */
export interface ExtendedMetrics extends MetricSet {
  mrr: number
  novelty: number
  diversity: number
}

/** A user-activity bucket, by the user's number of train interactions. */
export type ActivityBucket = 'cold' | 'light' | 'heavy'

/** Bucket bounds on train interactions: cold ≤ 5 < light ≤ 20 < heavy. */
export const ACTIVITY_BUCKETS: Record<ActivityBucket, { min: number; max: number }> = {
  cold: { min: 0, max: 5 },
  light: { min: 6, max: 20 },
  heavy: { min: 21, max: Number.POSITIVE_INFINITY },
}

/** What the extra metrics need besides the lists. */
export interface BeyondContext {
  /** Train users per item (n_i). */
  itemUsers: ArrayLike<number>
  /** Users in the data. */
  users: number
  /** Item factors (items × dims) for diversity. */
  itemFactors: Float32Array
  dims: number
}

/** Unit-length copies of the item factors (zero rows stay zero). */
export function normalizedRows(factors: Float32Array, rows: number, dims: number): Float32Array {
  const out = new Float32Array(rows * dims)
  for (let i = 0; i < rows; i++) {
    let norm = 0
    for (let d = 0; d < dims; d++) norm += factors[i * dims + d]! ** 2
    norm = Math.sqrt(norm)
    if (norm > 0) for (let d = 0; d < dims; d++) out[i * dims + d] = factors[i * dims + d]! / norm
  }
  return out
}

/**
 * Reference metrics (exactly {@link rankingMetrics}) and MRR, novelty, diversity @K for lists of
 * any length ≥ K (truncated to K).
 *
 * @param unit - {@link normalizedRows} of the context's item factors
 */
export function extendedMetrics(
  test: CsrMatrix,
  k: number,
  lists: (user: number) => Uint32Array | readonly number[],
  context: BeyondContext,
  unit: Float32Array,
): ExtendedMetrics {
  const top = (u: number): ArrayLike<number> => {
    const list = lists(u)
    if (list.length <= k) return list
    return list instanceof Uint32Array ? list.subarray(0, k) : list.slice(0, k)
  }
  const base = rankingMetrics(test, k, top)
  const relevant = new Uint8Array(test.cols)
  const logUsers = Math.log2(context.users + 1)
  const evaluated: number[] = []
  for (let u = 0; u < test.rows; u++) if (test.indptr[u + 1]! > test.indptr[u]!) evaluated.push(u)
  let mrr = 0
  let novelty = 0
  for (const u of evaluated) {
    for (let j = test.indptr[u]!; j < test.indptr[u + 1]!; j++) relevant[test.indices[j]!] = 1
    const list = top(u)
    for (let r = 0; r < list.length; r++) {
      if (relevant[list[r]!] === 1) {
        mrr += 1 / (r + 1)
        break
      }
    }
    if (list.length > 0) {
      let info = 0
      for (let r = 0; r < list.length; r++)
        info += logUsers - Math.log2((context.itemUsers[list[r]!] ?? 0) + 1)
      novelty += info / list.length
    }
    for (let j = test.indptr[u]!; j < test.indptr[u + 1]!; j++) relevant[test.indices[j]!] = 0
  }
  const dims = context.dims
  const sum = new Float64Array(dims)
  let diversity = 0
  let diverse = 0
  for (const u of evaluated) {
    const list = top(u)
    const n = list.length
    if (n < 2) continue
    sum.fill(0)
    let selfDots = 0
    for (let r = 0; r < n; r++) {
      const base = list[r]! * dims
      for (let d = 0; d < dims; d++) {
        const v = unit[base + d]!
        sum[d]! += v
        selfDots += v * v
      }
    }
    let squared = 0
    for (let d = 0; d < dims; d++) squared += sum[d]! * sum[d]!
    const pairs = (n * (n - 1)) / 2
    diversity += 1 - (squared - selfDots) / 2 / pairs
    diverse++
  }
  const users = evaluated.length
  return {
    precision: base.precision,
    recall: base.recall,
    map: base.map,
    ndcg: base.ndcg,
    auc: base.auc,
    coverage: base.coverage,
    mrr: users > 0 ? mrr / users : 0,
    novelty: users > 0 ? novelty / users : 0,
    diversity: diverse > 0 ? diversity / diverse : 0,
  }
}

/** The bucket of each user by train interactions (`train.indptr` differences). */
export function activityBuckets(train: CsrMatrix): Record<ActivityBucket, Uint8Array> {
  const out = {
    cold: new Uint8Array(train.rows),
    light: new Uint8Array(train.rows),
    heavy: new Uint8Array(train.rows),
  }
  for (let u = 0; u < train.rows; u++) {
    const n = train.indptr[u + 1]! - train.indptr[u]!
    for (const bucket of ['cold', 'light', 'heavy'] as const) {
      const { min, max } = ACTIVITY_BUCKETS[bucket]
      if (n >= min && n <= max) out[bucket][u] = 1
    }
  }
  return out
}
