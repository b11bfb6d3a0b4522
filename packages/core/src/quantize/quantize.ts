/**
 * Per-row symmetric int8 quantization (shared/REFERENCE.md):
 * `s = max|x| / 127`, `q = round_half_away_from_zero(x / s)` clipped to ±127; a zero row has s = 0, q = 0.
 * A dot product of two quantized rows is `s_u · s_i · Σ q_u q_i`, an exact integer sum.
 *
 * @module
 */
import { CoreError } from '../errors.js'

/** Smallest positive normal float32, 2⁻¹²⁶. */
const MIN_NORMAL_FLOAT32 = 2 ** -126

/** A quantized matrix: `rows × dims` int8 values, row-major, with one scale per row. */
export interface QuantizedMatrix {
  rows: number
  dims: number
  /** Row-major int8 values. */
  values: Int8Array
  /** Per-row scale `s` (dequantized x ≈ s · q). */
  scales: Float32Array
}

/** Rounds half away from zero (JS `Math.round` rounds half up, which differs for negatives). */
export function roundHalfAwayFromZero(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x)
}

/**
 * Quantizes one row `x[offset .. offset + dims)` into `out[outOffset ..]`; returns the scale.
 * The scale is rounded to float32 first and quantization divides by that float32 scale, so a
 * reader that only has the stored float32 scale reproduces the same values. Because
 * `fround(max|x| / 127)` may round down by half an ulp, `max|x| / s` can exceed 127 by ~1e-7; the
 * clip to ±127 absorbs it, so the per-element error stays ≤ s/2.
 *
 * @throws {@link CoreError} `INVALID_ARGUMENT` when the row holds NaN or ±Infinity (a diverged
 * model must not be silently published as zeros).
 */
export function quantizeRowInto(
  x: ArrayLike<number>,
  offset: number,
  dims: number,
  out: Int8Array,
  outOffset: number,
): number {
  let maxAbs = 0
  for (let d = 0; d < dims; d++) {
    const a = Math.abs(x[offset + d]!)
    if (a > maxAbs) maxAbs = a
    else if (!(a <= maxAbs)) maxAbs = Number.NaN
  }
  if (!Number.isFinite(maxAbs)) {
    throw new CoreError(
      'INVALID_ARGUMENT',
      `Cannot quantize a row holding NaN or Infinity (row starting at value ${offset}). The factors diverged: lower alpha or raise regularization.`,
    )
  }
  if (maxAbs === 0) {
    out.fill(0, outOffset, outOffset + dims)
    return 0
  }
  const scale = Math.fround(maxAbs / 127)
  // NOTE: a subnormal float32 scale has too few significant bits to keep |x − s·q| ≤ s/2, so such
  // rows (max|x| < 127 · 2⁻¹²⁶ ≈ 1.5e-36) are stored as zero rows instead.
  if (scale < MIN_NORMAL_FLOAT32) {
    out.fill(0, outOffset, outOffset + dims)
    return 0
  }
  for (let d = 0; d < dims; d++) {
    let q = roundHalfAwayFromZero(x[offset + d]! / scale)
    if (q > 127) q = 127
    else if (q < -127) q = -127
    out[outOffset + d] = q
  }
  return scale
}

/**
 * Quantizes a row-major float matrix.
 *
 * @param factors - `rows × dims` values, row-major
 * @example
 * ```ts
 * const q = quantizeRows(itemFactors, nItems, 64)
 * ```
 */
export function quantizeRows(factors: ArrayLike<number>, rows: number, dims: number): QuantizedMatrix {
  if (factors.length < rows * dims) {
    throw new CoreError(
      'INVALID_ARGUMENT',
      `quantizeRows: ${factors.length} values cannot hold ${rows} × ${dims}. Pass rows × dims values, row-major.`,
    )
  }
  const values = new Int8Array(rows * dims)
  const scales = new Float32Array(rows)
  for (let r = 0; r < rows; r++) scales[r] = quantizeRowInto(factors, r * dims, dims, values, r * dims)
  return { rows, dims, values, scales }
}

/** Quantizes a single vector. */
export function quantizeVector(x: ArrayLike<number>): { values: Int8Array; scale: number } {
  const values = new Int8Array(x.length)
  const scale = quantizeRowInto(x, 0, x.length, values, 0)
  return { values, scale }
}

/** Dequantizes row `row` into `out` (length ≥ dims). */
export function dequantizeRowInto(m: QuantizedMatrix, row: number, out: Float32Array | Float64Array): void {
  const s = m.scales[row]!
  const base = row * m.dims
  for (let d = 0; d < m.dims; d++) out[d] = s * m.values[base + d]!
}

/** Dequantizes the whole matrix into a new Float32Array. */
export function dequantizeRows(m: QuantizedMatrix): Float32Array {
  const out = new Float32Array(m.rows * m.dims)
  for (let r = 0; r < m.rows; r++) {
    const s = m.scales[r]!
    const base = r * m.dims
    for (let d = 0; d < m.dims; d++) out[base + d] = s * m.values[base + d]!
  }
  return out
}
