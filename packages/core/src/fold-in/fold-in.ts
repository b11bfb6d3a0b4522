import { CoreError } from '../errors.js'
import { findRow, type ItemBlock } from '../scoring/score.js'
import { choleskyFactor, choleskySolveInPlace } from './cholesky.js'

/** One observed (item, confidence) pair of a user: c_ui as the trainer computes it. */
export interface WeightedInteraction {
  /** Global item index. */
  index: number
  /** Confidence c_ui (alpha · summed event weight); > 0 positive feedback, < 0 negative (counts as p_ui = 0 with confidence 1 + |c|). */
  confidence: number
}

/** Reads item vectors y_i for fold-in. */
export type ItemVectorReader = (index: number, out: Float64Array) => boolean

/**
 * Reads dequantized item vectors from int8 item blocks: y_i = s_i · q_i.
 */
export function itemReaderFromBlocks(blocks: readonly ItemBlock[]): ItemVectorReader {
  return (index, out) => {
    const found = findRow(blocks, index)
    if (!found) return false
    const { block, row } = found
    const s = block.scales[row]!
    const base = row * block.dims
    for (let d = 0; d < block.dims; d++) out[d] = s * block.factors[base + d]!
    return true
  }
}

/** A solved fold-in: the user vector and what explanations need. */
export interface FoldInResult {
  /** x_u, the user's factor vector. */
  vector: Float32Array
  /** Cholesky factor L of A_u (row-major, lower triangle), for {@link explainScore}. */
  factor: Float64Array
  /** Interactions that were used (unknown items dropped, duplicates summed). */
  used: WeightedInteraction[]
  /** The item vectors of `used`, row-major. */
  itemVectors: Float64Array
}

/**
 * Computes a user's vector from their interactions with the ALS normal equations
 * (Hu, Koren & Volinsky 2008, eq. 4):
 *
 *   A_u = YᵀY + λI + Σ_i (c_ui − 1) y_i y_iᵀ,   b_u = Σ_i c_ui y_i,   x_u = A_u⁻¹ b_u
 *
 * `gram` is the exported YᵀY + λI (dims × dims, row-major). The k × k system is solved exactly
 * by Cholesky: O(n·k² + k³) for n interactions.
 *
 * @throws {@link CoreError} `INVALID_ARGUMENT` on a wrongly sized gram matrix; ModelFitError when A_u is singular
 * @example
 * ```ts
 * const { vector } = foldInUser(gram.matrix, 64, [{ index: 3, confidence: 4 }], itemReaderFromBlocks(shards))
 * ```
 */
export function foldInUser(
  gram: ArrayLike<number>,
  dims: number,
  interactions: readonly WeightedInteraction[],
  readItem: ItemVectorReader,
): FoldInResult {
  if (gram.length !== dims * dims) {
    throw new CoreError('INVALID_ARGUMENT', `Gram matrix has ${gram.length} values, expected ${dims}².`)
  }
  const merged = new Map<number, number>()
  for (const { index, confidence } of interactions) {
    if (!Number.isFinite(confidence)) continue
    merged.set(index, (merged.get(index) ?? 0) + confidence)
  }
  const a = Float64Array.from(gram as ArrayLike<number>)
  const b = new Float64Array(dims)
  const y = new Float64Array(dims)
  const used: WeightedInteraction[] = []
  const vectors: number[] = []
  for (const [index, confidence] of merged) {
    if (confidence === 0 || !readItem(index, y)) continue
    if (confidence < 0) {
      // Negative feedback (dislike, hide; issue 17): the pair counts as p_ui = 0 with confidence
      // 1 + |c|, i.e. A_u += |c| y_i y_iᵀ and nothing enters b: the solve is pushed away from
      // scoring y_i, and A_u stays positive definite. It is not in `used` (it explains nothing).
      for (let i = 0; i < dims; i++) {
        const w = -confidence * y[i]!
        const row = i * dims
        for (let j = 0; j <= i; j++) a[row + j] = a[row + j]! + w * y[j]!
      }
      continue
    }
    used.push({ index, confidence })
    for (let d = 0; d < dims; d++) vectors.push(y[d]!)
    const extra = confidence - 1
    for (let i = 0; i < dims; i++) {
      const yi = y[i]!
      b[i] = b[i]! + confidence * yi
      if (extra !== 0) {
        const w = extra * yi
        const row = i * dims
        for (let j = 0; j <= i; j++) a[row + j] = a[row + j]! + w * y[j]!
      }
    }
  }
  // Only the lower triangle was accumulated; mirror it so `a` is the full symmetric A_u.
  for (let i = 0; i < dims; i++) for (let j = i + 1; j < dims; j++) a[i * dims + j] = a[j * dims + i]!
  choleskyFactor(a, dims)
  const x = choleskySolveInPlace(a, dims, b)
  return { vector: Float32Array.from(x), factor: a, used, itemVectors: Float64Array.from(vectors) }
}

/** One of the user's items and how much it contributed to an item's score. */
export interface Contribution {
  /** Global index of the user's item. */
  index: number
  contribution: number
}

/**
 * Why item i scores what it does for a folded-in user (Hu et al. 2008, §5): with
 * W = A_u⁻¹ y_i, the score is Σ_j c_uj · (y_jᵀ W), a sum over the user's own items j.
 * Returns the top `n` contributions, largest first.
 */
export function explainScore(fold: FoldInResult, itemVector: ArrayLike<number>, n = 3): Contribution[] {
  const dims = fold.vector.length
  const w = choleskySolveInPlace(fold.factor, dims, Float64Array.from(itemVector as ArrayLike<number>))
  const out: Contribution[] = fold.used.map(({ index, confidence }, j) => {
    let dot = 0
    const base = j * dims
    for (let d = 0; d < dims; d++) dot += fold.itemVectors[base + d]! * w[d]!
    return { index, contribution: confidence * dot }
  })
  out.sort((p, q) => q.contribution - p.contribution || p.index - q.index)
  return out.slice(0, n)
}
