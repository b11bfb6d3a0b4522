/**
 * The int8 dot products in plain JavaScript: the reference of the Wasm kernels and their fallback.
 *
 * @module
 */
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
