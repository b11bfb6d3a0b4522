import type { QuantizedMatrix } from '../quantize/quantize.js'
import { quantizeVector } from '../quantize/quantize.js'
import { type Int8DotKernel, jsInt8Kernel } from './kernel/int8-kernel.js'
import { type IndexFilter, TopK, type TopKResult } from './top-k.js'

export { dotInt8, dotsInt8 } from './dots.js'

/**
 * A block of item rows as scoring reads it: int8 factors, per-row scales, optional norms, and the
 * global index of its first row. A decoded item shard satisfies this interface.
 */
export interface ItemBlock {
  rowCount: number
  dims: number
  rowOffset: number
  factors: Int8Array
  scales: Float32Array
  norms?: Float32Array
}

/** A user vector quantized to int8. */
export interface Int8Vector {
  values: Int8Array
  scale: number
}

/**
 * Scores every row of `block` against an int8 user: `s_u · s_i · Σ q_u q_i`
 * (shared/REFERENCE.md, int8 scoring). Writes into `out[row]`.
 *
 * @param kernel - computes Σ q_u q_i (exact in every kernel, so scores do not depend on it)
 */
export function scoreBlockInt8(
  user: Int8Vector,
  block: ItemBlock,
  out: Float32Array,
  kernel: Int8DotKernel = jsInt8Kernel,
): Float32Array {
  const { dims, factors, scales, rowCount } = block
  const uScale = user.scale
  const chunk = kernel.chunkRows
  for (let start = 0; start < rowCount; start += chunk) {
    const count = Math.min(chunk, rowCount - start)
    const dots = kernel.dots(user.values, factors, dims, start, count)
    for (let r = 0; r < count; r++) out[start + r] = uScale * scales[start + r]! * dots[r]!
  }
  return out
}

/**
 * Scores every row of `block` and offers each non-excluded one to `top` (indexes are global:
 * `block.rowOffset + row`). One pass, no score array. A row only reaches the exclusion filter and
 * the heap when its score can enter the top K (score ≥ the current K-th best), so the common case
 * costs one comparison; the filter therefore runs inside the scan, on candidates only.
 *
 * @param kernel - computes Σ q_u q_i per chunk of rows (Wasm SIMD or JS; exact in every kernel)
 */
export function pushBlockInt8(
  user: Int8Vector,
  block: ItemBlock,
  top: TopK,
  exclude?: IndexFilter,
  kernel: Int8DotKernel = jsInt8Kernel,
): void {
  const { dims, factors, scales, rowCount, rowOffset } = block
  const uScale = user.scale
  const chunk = kernel.chunkRows
  let threshold = top.threshold
  for (let start = 0; start < rowCount; start += chunk) {
    const count = Math.min(chunk, rowCount - start)
    const dots = kernel.dots(user.values, factors, dims, start, count)
    for (let r = 0; r < count; r++) {
      const score = uScale * scales[start + r]! * dots[r]!
      if (score >= threshold) threshold = offer(top, rowOffset + start + r, score, exclude)
    }
  }
}

/** Pushes a candidate unless excluded; returns the new entry threshold. */
function offer(top: TopK, index: number, score: number, exclude: IndexFilter | undefined): number {
  if (exclude === undefined || !exclude.has(index)) top.push(index, score)
  return top.threshold
}

/**
 * True for an {@link Int8Vector}. NOTE: `'values' in user` is not enough: arrays and typed arrays
 * inherit a `values()` method.
 */
function isInt8Vector(user: Int8Vector | ArrayLike<number>): user is Int8Vector {
  return (
    (user as Partial<Int8Vector>).values instanceof Int8Array &&
    typeof (user as Partial<Int8Vector>).scale === 'number'
  )
}

/**
 * Top K items for a user over all item blocks (shards), int8 × int8, ties to the lower index.
 *
 * @param user - an int8 vector, or a float vector that is quantized first (as the trainer does)
 * @param kernel - the dot-product kernel ({@link createInt8Kernel}); the JS one by default. The
 *   ranking is the same with every kernel: all compute the exact integer sums.
 * @example
 * ```ts
 * const { indices, scores } = recommendTopK(userVec, itemShards, 10, new Set(seen))
 * ```
 */
export function recommendTopK(
  user: Int8Vector | ArrayLike<number>,
  blocks: readonly ItemBlock[],
  k: number,
  exclude?: IndexFilter,
  kernel: Int8DotKernel = jsInt8Kernel,
): TopKResult {
  const q = isInt8Vector(user) ? user : quantizeVector(user)
  const top = new TopK(k)
  for (const block of blocks) pushBlockInt8(q, block, top, exclude, kernel)
  return top.result()
}

/**
 * Top K by float32 dot product (the unquantized baseline; benchmarks and the trainer use it).
 *
 * @param items - `rows × dims` row-major float factors
 */
export function recommendTopKFloat32(
  user: ArrayLike<number>,
  items: Float32Array,
  rows: number,
  dims: number,
  k: number,
  exclude?: IndexFilter,
): TopKResult {
  // NOTE: same loop shape as the int8 kernel (four rows per pass, threshold check before the
  // exclusion filter) so that benchmarks compare number formats, not loop tuning.
  const top = new TopK(k)
  const u = Float64Array.from({ length: dims }, (_, d) => user[d]!)
  let threshold = top.threshold
  let r = 0
  for (; r + 4 <= rows; r += 4) {
    const o0 = r * dims
    const o1 = o0 + dims
    const o2 = o1 + dims
    const o3 = o2 + dims
    let s0 = 0
    let s1 = 0
    let s2 = 0
    let s3 = 0
    for (let d = 0; d < dims; d++) {
      const a = u[d]!
      s0 += a * items[o0 + d]!
      s1 += a * items[o1 + d]!
      s2 += a * items[o2 + d]!
      s3 += a * items[o3 + d]!
    }
    if (s0 >= threshold) threshold = offer(top, r, s0, exclude)
    if (s1 >= threshold) threshold = offer(top, r + 1, s1, exclude)
    if (s2 >= threshold) threshold = offer(top, r + 2, s2, exclude)
    if (s3 >= threshold) threshold = offer(top, r + 3, s3, exclude)
  }
  for (; r < rows; r++) {
    let s = 0
    const o = r * dims
    for (let d = 0; d < dims; d++) s += u[d]! * items[o + d]!
    if (s >= threshold) threshold = offer(top, r, s, exclude)
  }
  return top.result()
}

/** Wraps a quantized matrix as a single {@link ItemBlock}. */
export function blockFromQuantized(m: QuantizedMatrix, rowOffset = 0, norms?: Float32Array): ItemBlock {
  const block: ItemBlock = { rowCount: m.rows, dims: m.dims, rowOffset, factors: m.values, scales: m.scales }
  if (norms) block.norms = norms
  return block
}

/** Locates global item `index` in `blocks`: the block and the row inside it. */
export function findRow(
  blocks: readonly ItemBlock[],
  index: number,
): { block: ItemBlock; row: number } | undefined {
  for (const block of blocks) {
    if (index >= block.rowOffset && index < block.rowOffset + block.rowCount)
      return { block, row: index - block.rowOffset }
  }
  return undefined
}
