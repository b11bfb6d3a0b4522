import type { QuantizedMatrix } from '../quantize/quantize.js'
import { quantizeVector } from '../quantize/quantize.js'
import { type IndexFilter, TopK, type TopKResult } from './top-k.js'

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
 * Exact integer dot product Σ a[i]·b[j+i] of an int8 vector with one row.
 * The sum of 64 products of ±127 stays far below 2^31, and JS numbers hold it exactly.
 */
export function dotInt8(a: Int8Array, b: Int8Array, bOffset: number, dims: number): number {
  let s0 = 0
  let s1 = 0
  let s2 = 0
  let s3 = 0
  let d = 0
  for (; d + 4 <= dims; d += 4) {
    s0 += a[d]! * b[bOffset + d]!
    s1 += a[d + 1]! * b[bOffset + d + 1]!
    s2 += a[d + 2]! * b[bOffset + d + 2]!
    s3 += a[d + 3]! * b[bOffset + d + 3]!
  }
  for (; d < dims; d++) s0 += a[d]! * b[bOffset + d]!
  return s0 + s1 + s2 + s3
}

/**
 * Scores every row of `block` against an int8 user: `s_u · s_i · Σ q_u q_i`
 * (shared/REFERENCE.md, int8 scoring). Writes into `out[row]`.
 */
export function scoreBlockInt8(user: Int8Vector, block: ItemBlock, out: Float32Array): Float32Array {
  const { dims, factors, scales, rowCount } = block
  for (let r = 0; r < rowCount; r++) {
    out[r] = user.scale * scales[r]! * dotInt8(user.values, factors, r * dims, dims)
  }
  return out
}

/**
 * Scores every row of `block` and offers each non-excluded one to `top` (indexes are global:
 * `block.rowOffset + row`). One pass, no score array.
 */
export function pushBlockInt8(user: Int8Vector, block: ItemBlock, top: TopK, exclude?: IndexFilter): void {
  const { dims, factors, scales, rowCount, rowOffset } = block
  const uScale = user.scale
  const u = user.values
  for (let r = 0; r < rowCount; r++) {
    const index = rowOffset + r
    if (exclude?.has(index)) continue
    top.push(index, uScale * scales[r]! * dotInt8(u, factors, r * dims, dims))
  }
}

/**
 * Top K items for a user over all item blocks (shards), int8 × int8, ties to the lower index.
 *
 * @param user - an int8 vector, or a float vector that is quantized first (as the trainer does)
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
): TopKResult {
  const q = 'values' in user ? user : quantizeVector(user)
  const top = new TopK(k)
  for (const block of blocks) pushBlockInt8(q, block, top, exclude)
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
  const top = new TopK(k)
  for (let r = 0; r < rows; r++) {
    if (exclude?.has(r)) continue
    let s = 0
    const base = r * dims
    for (let d = 0; d < dims; d++) s += user[d]! * items[base + d]!
    top.push(r, s)
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
export function findRow(blocks: readonly ItemBlock[], index: number): { block: ItemBlock; row: number } | undefined {
  for (const block of blocks) {
    if (index >= block.rowOffset && index < block.rowOffset + block.rowCount) return { block, row: index - block.rowOffset }
  }
  return undefined
}
