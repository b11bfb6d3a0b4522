/**
 * Offline check of request-time fold-in (issue 7): replace users' trained vectors by vectors
 * solved from their train interactions with core's `foldInUser`, using exactly what the export
 * ships (int8 item factors and YᵀY + λI of the dequantized items), and rank as the worker does.
 *
 * @module
 */
import {
  blockFromQuantized,
  dequantizeRows,
  foldInUser,
  itemReaderFromBlocks,
  type MetricSet,
  quantizeRows,
  recommendTopK,
  type WeightedInteraction,
} from '@edgerec/core'
import type { AlsModel } from '../als/train.js'
import { gramMatrix } from '../als/train.js'
import type { CsrMatrix } from '../data/matrix.js'
import { rankingMetrics } from './metrics.js'

/** Options of {@link foldInMetrics}. */
export interface FoldInEvaluationOptions {
  k: number
  /** λ of the model (added to the exported Gram matrix). */
  regularization: number
  /** c_ui = alpha · r_ui, as in training. */
  alpha: number
  /** Evaluate only these users (1 = included); default every user with test items. */
  users?: Uint8Array
}

/** What {@link foldInMetrics} reports. */
export interface FoldInEvaluation {
  /** Users evaluated. */
  users: number
  /** Fold-in vectors, ranked with int8 items (what the worker serves). */
  foldIn: MetricSet
  /** The trained vectors of the same users, ranked the same way. */
  trained: MetricSet
  /** Mean cosine between fold-in and trained vectors over the evaluated users. */
  meanCosine: number
}

/** `test` restricted to the rows flagged in `users`. */
export function restrictRows(test: CsrMatrix, users: Uint8Array | undefined): CsrMatrix {
  if (!users) return test
  const indptr = new Uint32Array(test.rows + 1)
  const keep: number[] = []
  for (let u = 0; u < test.rows; u++) {
    if (users[u]) for (let j = test.indptr[u]!; j < test.indptr[u + 1]!; j++) keep.push(j)
    indptr[u + 1] = keep.length
  }
  return {
    rows: test.rows,
    cols: test.cols,
    indptr,
    indices: Uint32Array.from(keep, (j) => test.indices[j]!),
    values: Float32Array.from(keep, (j) => test.values[j]!),
    timestamps: Float64Array.from(keep, (j) => test.timestamps[j]!),
  }
}

function withoutUsers(m: MetricSet & { users?: number }): MetricSet {
  return {
    precision: m.precision,
    recall: m.recall,
    map: m.map,
    ndcg: m.ndcg,
    auc: m.auc,
    coverage: m.coverage,
  }
}

/**
 * Folds in every evaluated user from their `train` row and reports metrics @K on `test` for the
 * fold-in vectors and for the model's trained vectors of the same users (both ranked with int8
 * items, train items excluded).
 *
 * The fold-in solves x_u = (G + Σ_i (c_ui − 1) y_i y_iᵀ)⁻¹ Σ_i c_ui y_i exactly, with G = ŶᵀŶ + λI
 * of the dequantized int8 items Ŷ (Hu, Koren & Volinsky 2008, eq. 4): the worker's computation.
 *
 * @example
 * ```ts
 * const { foldIn, trained } = foldInMetrics(model, train, test, { k: 10, regularization: 0.05, alpha: 1 })
 * ```
 */
export function foldInMetrics(
  model: AlsModel,
  train: CsrMatrix,
  test: CsrMatrix,
  options: FoldInEvaluationOptions,
): FoldInEvaluation {
  const dims = model.factors
  const itemQ = quantizeRows(model.itemFactors, model.items, dims)
  const blocks = [blockFromQuantized(itemQ)]
  const gram = gramMatrix(dequantizeRows(itemQ), model.items, dims, options.regularization)
  const read = itemReaderFromBlocks(blocks)
  const subset = restrictRows(test, options.users)
  const mask = new Uint8Array(train.cols)
  const exclude = { has: (i: number): boolean => mask[i] === 1 }
  const select = (u: number): void => {
    mask.fill(0)
    for (let j = train.indptr[u]!; j < train.indptr[u + 1]!; j++) mask[train.indices[j]!] = 1
  }
  let cosineSum = 0
  let cosineUsers = 0
  const foldIn = rankingMetrics(subset, options.k, (u) => {
    select(u)
    const interactions: WeightedInteraction[] = []
    for (let j = train.indptr[u]!; j < train.indptr[u + 1]!; j++) {
      interactions.push({ index: train.indices[j]!, confidence: options.alpha * train.values[j]! })
    }
    const { vector } = foldInUser(gram, dims, interactions, read)
    const trained = model.userFactors.subarray(u * dims, (u + 1) * dims)
    let dot = 0
    let a = 0
    let b = 0
    for (let d = 0; d < dims; d++) {
      dot += vector[d]! * trained[d]!
      a += vector[d]! * vector[d]!
      b += trained[d]! * trained[d]!
    }
    if (a > 0 && b > 0) {
      cosineSum += dot / Math.sqrt(a * b)
      cosineUsers++
    }
    return recommendTopK(vector, blocks, options.k, exclude).indices
  })
  const trained = rankingMetrics(subset, options.k, (u) => {
    select(u)
    return recommendTopK(model.userFactors.subarray(u * dims, (u + 1) * dims), blocks, options.k, exclude)
      .indices
  })
  return {
    users: foldIn.users,
    foldIn: withoutUsers(foldIn),
    trained: withoutUsers(trained),
    meanCosine: cosineUsers > 0 ? cosineSum / cosineUsers : 0,
  }
}
