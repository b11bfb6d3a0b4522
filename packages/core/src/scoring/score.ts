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

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

/**
 * Integer dot products of `query` with rows `[rowStart, rowStart + rowCount)` of a row-major int8
 * matrix, written to `out[0 .. rowCount)`. Exact: |Σ q_u q_i| ≤ 4096 · 127² < 2³¹.
 *
 * NOTE (speed, see benchmarks/): JS has no int8 SIMD, so the fast path reads four int8 at once
 * through an Int32Array view of the same bytes (little-endian: byte k of the word is
 * `(w << (24 − 8k)) >> 24`, sign-extended) and scores four rows per pass so each user value is
 * loaded once per four rows. It needs dims % 4 = 0 and 4-byte aligned factors, which decoded
 * shards always have (sections are 8-byte aligned); anything else takes the plain loop.
 */
export function dotsInt8(
  query: Int8Array,
  factors: Int8Array,
  dims: number,
  rowStart: number,
  rowCount: number,
  out: Int32Array,
): Int32Array {
  if (!LITTLE_ENDIAN_HOST || (dims & 3) !== 0 || (factors.byteOffset & 3) !== 0) {
    for (let r = 0; r < rowCount; r++) out[r] = dotInt8(query, factors, (rowStart + r) * dims, dims)
    return out
  }
  const words = dims >> 2
  const packed = new Int32Array(factors.buffer, factors.byteOffset + rowStart * dims, rowCount * words)
  const u = userWords(query, dims)
  let r = 0
  for (; r + 4 <= rowCount; r += 4) {
    const o0 = r * words
    const o1 = o0 + words
    const o2 = o1 + words
    const o3 = o2 + words
    let s0 = 0
    let s1 = 0
    let s2 = 0
    let s3 = 0
    for (let w = 0; w < words; w++) {
      const d = w << 2
      const a0 = u[d]!
      const a1 = u[d + 1]!
      const a2 = u[d + 2]!
      const a3 = u[d + 3]!
      const x0 = packed[o0 + w]!
      const x1 = packed[o1 + w]!
      const x2 = packed[o2 + w]!
      const x3 = packed[o3 + w]!
      s0 += a0 * ((x0 << 24) >> 24) + a1 * ((x0 << 16) >> 24) + a2 * ((x0 << 8) >> 24) + a3 * (x0 >> 24)
      s1 += a0 * ((x1 << 24) >> 24) + a1 * ((x1 << 16) >> 24) + a2 * ((x1 << 8) >> 24) + a3 * (x1 >> 24)
      s2 += a0 * ((x2 << 24) >> 24) + a1 * ((x2 << 16) >> 24) + a2 * ((x2 << 8) >> 24) + a3 * (x2 >> 24)
      s3 += a0 * ((x3 << 24) >> 24) + a1 * ((x3 << 16) >> 24) + a2 * ((x3 << 8) >> 24) + a3 * (x3 >> 24)
    }
    out[r] = s0
    out[r + 1] = s1
    out[r + 2] = s2
    out[r + 3] = s3
  }
  for (; r < rowCount; r++) {
    const o = r * words
    let s = 0
    for (let w = 0; w < words; w++) {
      const d = w << 2
      const x = packed[o + w]!
      s +=
        u[d]! * ((x << 24) >> 24) +
        u[d + 1]! * ((x << 16) >> 24) +
        u[d + 2]! * ((x << 8) >> 24) +
        u[d + 3]! * (x >> 24)
    }
    out[r] = s
  }
  return out
}

/** The query widened to int32 once per call, so the inner loop does no int8 → int32 loads. */
function userWords(query: Int8Array, dims: number): Int32Array {
  const words = new Int32Array(dims)
  for (let d = 0; d < dims; d++) words[d] = query[d]!
  return words
}

/** Rows scored per kernel call: small enough for the dots to stay in L1. */
const CHUNK_ROWS = 512
const chunkDots = new Int32Array(CHUNK_ROWS)

/**
 * Scores every row of `block` against an int8 user: `s_u · s_i · Σ q_u q_i`
 * (shared/REFERENCE.md, int8 scoring). Writes into `out[row]`.
 */
export function scoreBlockInt8(user: Int8Vector, block: ItemBlock, out: Float32Array): Float32Array {
  const { dims, factors, scales, rowCount } = block
  const uScale = user.scale
  for (let start = 0; start < rowCount; start += CHUNK_ROWS) {
    const count = Math.min(CHUNK_ROWS, rowCount - start)
    dotsInt8(user.values, factors, dims, start, count, chunkDots)
    for (let r = 0; r < count; r++) out[start + r] = uScale * scales[start + r]! * chunkDots[r]!
  }
  return out
}

/**
 * Scores every row of `block` and offers each non-excluded one to `top` (indexes are global:
 * `block.rowOffset + row`). One pass, no score array. A row only reaches the exclusion filter and
 * the heap when its score can enter the top K (score ≥ the current K-th best), so the common case
 * costs one comparison.
 */
export function pushBlockInt8(user: Int8Vector, block: ItemBlock, top: TopK, exclude?: IndexFilter): void {
  const { dims, factors, scales, rowCount, rowOffset } = block
  const uScale = user.scale
  let threshold = top.threshold
  for (let start = 0; start < rowCount; start += CHUNK_ROWS) {
    const count = Math.min(CHUNK_ROWS, rowCount - start)
    dotsInt8(user.values, factors, dims, start, count, chunkDots)
    for (let r = 0; r < count; r++) {
      const score = uScale * scales[start + r]! * chunkDots[r]!
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
  const q = isInt8Vector(user) ? user : quantizeVector(user)
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
