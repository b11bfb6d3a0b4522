/**
 * Plain TypeScript ALS kernels over the shared memory: the portable fallback when WebAssembly
 * SIMD is unavailable, the baseline the benchmarks compare against, the exact (Cholesky) row
 * solver and the training loss.
 *
 * All offsets are element offsets into the `Float32Array` / `Uint32Array` views of the memory.
 * Intermediate sums are float64; stored factors are float32.
 *
 * @internal
 * @module
 */
import { choleskyFactor, choleskySolveInPlace } from '@edgerec/core'

/** Views of the shared memory. */
export interface MemoryViews {
  f32: Float32Array
  u32: Uint32Array
}

/** Element offsets of one side's solve (see `SideRegions`, divided by 4). */
export interface RowProblem {
  indptr: number
  indices: number
  conf: number
  x: number
  y: number
  /** A₀ = YᵀY + λI, `stride × stride`. */
  gram: number
  /** True number of factors k. */
  factors: number
  /** Padded row length kp. */
  stride: number
}

/**
 * Partial Gram sum Σ_{r ∈ [start, end)} y_r y_rᵀ written to `out` (stride × stride floats).
 * Lower triangle accumulated in float64, then mirrored.
 */
export function gramRowsJs(
  views: MemoryViews,
  y: number,
  start: number,
  end: number,
  stride: number,
  out: number,
  acc: Float64Array,
): void {
  const f = views.f32
  acc.fill(0)
  for (let r = start; r < end; r++) {
    const base = y + r * stride
    for (let a = 0; a < stride; a++) {
      const ya = f[base + a]!
      if (ya === 0) continue
      const row = a * stride
      for (let b = 0; b <= a; b++) acc[row + b]! += ya * f[base + b]!
    }
  }
  for (let a = 0; a < stride; a++) {
    for (let b = 0; b <= a; b++) {
      const v = acc[a * stride + b]!
      f[out + a * stride + b] = v
      f[out + b * stride + a] = v
    }
  }
}

/**
 * Conjugate-gradient rows `[start, end)`: the same update as the WebAssembly `cgRows`
 * (Takács et al. 2011; implicit `_least_squares_cg`), warm-started from the stored row.
 *
 * `scratch` holds 3 · stride float64 values (r, p, Ap).
 */
export function cgRowsJs(
  views: MemoryViews,
  prob: RowProblem,
  start: number,
  end: number,
  cgSteps: number,
  scratch: Float64Array,
): void {
  const { f32: f, u32 } = views
  const k = prob.stride
  const r = scratch.subarray(0, k)
  const p = scratch.subarray(k, 2 * k)
  const ap = scratch.subarray(2 * k, 3 * k)
  const gram = prob.gram
  for (let u = start; u < end; u++) {
    const x = prob.x + u * k
    const s = u32[prob.indptr + u]!
    const e = u32[prob.indptr + u + 1]!
    if (s === e) {
      f.fill(0, x, x + k)
      continue
    }
    // r = b − A x = −A₀ x + Σ_i [c⁺ − (|c| − 1) y_iᵀx] y_i
    for (let a = 0; a < k; a++) {
      let sum = 0
      const row = gram + a * k
      for (let b = 0; b < k; b++) sum += f[row + b]! * f[x + b]!
      r[a] = -sum
    }
    for (let idx = s; idx < e; idx++) {
      const yi = prob.y + u32[prob.indices + idx]! * k
      const c = f[prob.conf + idx]!
      let dot = 0
      for (let a = 0; a < k; a++) dot += f[yi + a]! * f[x + a]!
      const t = Math.max(c, 0) - (Math.abs(c) - 1) * dot
      for (let a = 0; a < k; a++) r[a]! += t * f[yi + a]!
    }
    let rsold = 0
    for (let a = 0; a < k; a++) {
      p[a] = r[a]!
      rsold += r[a]! * r[a]!
    }
    if (rsold < 1e-20) continue
    for (let it = 0; it < cgSteps; it++) {
      // Ap = A₀ p + Σ_i (|c| − 1)(y_iᵀp) y_i
      for (let a = 0; a < k; a++) {
        let sum = 0
        const row = gram + a * k
        for (let b = 0; b < k; b++) sum += f[row + b]! * p[b]!
        ap[a] = sum
      }
      for (let idx = s; idx < e; idx++) {
        const w = Math.abs(f[prob.conf + idx]!) - 1
        if (w === 0) continue
        const yi = prob.y + u32[prob.indices + idx]! * k
        let dot = 0
        for (let a = 0; a < k; a++) dot += f[yi + a]! * p[a]!
        const t = w * dot
        for (let a = 0; a < k; a++) ap[a]! += t * f[yi + a]!
      }
      let pap = 0
      for (let a = 0; a < k; a++) pap += p[a]! * ap[a]!
      const alpha = rsold / pap
      let rsnew = 0
      for (let a = 0; a < k; a++) {
        f[x + a] = f[x + a]! + alpha * p[a]!
        r[a]! -= alpha * ap[a]!
        rsnew += r[a]! * r[a]!
      }
      if (rsnew < 1e-20) break
      const beta = rsnew / rsold
      for (let a = 0; a < k; a++) p[a] = r[a]! + beta * p[a]!
      rsold = rsnew
    }
  }
}

/**
 * Exact rows `[start, end)`: x_u = A_u⁻¹ b_u with A_u = A₀ + Σ_i (|c| − 1) y_i y_iᵀ and
 * b_u = Σ_i c⁺ y_i (Hu, Koren & Volinsky 2008, eq. 4), by Cholesky in float64.
 *
 * `a` holds k² and `b` k float64 values.
 *
 * @throws ModelFitError when some A_u is not positive definite (λ = 0 on a degenerate row)
 */
export function choleskyRowsJs(
  views: MemoryViews,
  prob: RowProblem,
  start: number,
  end: number,
  a: Float64Array,
  b: Float64Array,
): void {
  const { f32: f, u32 } = views
  const k = prob.factors
  const kp = prob.stride
  for (let u = start; u < end; u++) {
    const x = prob.x + u * kp
    const s = u32[prob.indptr + u]!
    const e = u32[prob.indptr + u + 1]!
    if (s === e) {
      f.fill(0, x, x + kp)
      continue
    }
    for (let i = 0; i < k; i++) {
      for (let j = 0; j <= i; j++) a[i * k + j] = f[prob.gram + i * kp + j]!
    }
    b.fill(0)
    for (let idx = s; idx < e; idx++) {
      const yi = prob.y + u32[prob.indices + idx]! * kp
      const c = f[prob.conf + idx]!
      if (c > 0) for (let i = 0; i < k; i++) b[i]! += c * f[yi + i]!
      const w = Math.abs(c) - 1
      if (w === 0) continue
      for (let i = 0; i < k; i++) {
        const wi = w * f[yi + i]!
        if (wi === 0) continue
        const row = i * k
        for (let j = 0; j <= i; j++) a[row + j]! += wi * f[yi + j]!
      }
    }
    choleskyFactor(a, k)
    choleskySolveInPlace(a, k, b)
    for (let i = 0; i < k; i++) f[x + i] = b[i]!
  }
}

/**
 * The reference's training loss terms for user rows `[start, end)` (implicit `_calculate_loss`):
 * Σ_u [ Σ_i |c_ui| + x_uᵀ YᵀY x_u + Σ_i (−2c⁺_ui + (|c_ui| − 1) y_iᵀx_u) y_iᵀx_u ], i.e.
 * Σ_ui c_ui (p_ui − x_uᵀy_i)² over all pairs; `gram` must hold YᵀY without λ.
 *
 * @returns [loss terms, Σ |c_ui|]
 */
export function lossRowsJs(
  views: MemoryViews,
  prob: RowProblem,
  start: number,
  end: number,
  r: Float64Array,
): [number, number] {
  const { f32: f, u32 } = views
  const k = prob.stride
  let loss = 0
  let totalConfidence = 0
  for (let u = start; u < end; u++) {
    const x = prob.x + u * k
    for (let a = 0; a < k; a++) {
      let sum = 0
      const row = prob.gram + a * k
      for (let b = 0; b < k; b++) sum += f[row + b]! * f[x + b]!
      r[a] = sum
    }
    for (let idx = u32[prob.indptr + u]!; idx < u32[prob.indptr + u + 1]!; idx++) {
      const yi = prob.y + u32[prob.indices + idx]! * k
      const c = f[prob.conf + idx]!
      const abs = Math.abs(c)
      let dot = 0
      for (let a = 0; a < k; a++) dot += f[yi + a]! * f[x + a]!
      const t = (c > 0 ? -2 * c : 0) + (abs - 1) * dot
      for (let a = 0; a < k; a++) r[a]! += t * f[yi + a]!
      totalConfidence += abs
      loss += abs
    }
    for (let a = 0; a < k; a++) loss += r[a]! * f[x + a]!
  }
  return [loss, totalConfidence]
}
