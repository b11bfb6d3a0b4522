import { ModelFitError } from '../errors.js'

/**
 * In-place Cholesky factorization A = L Lᵀ of a symmetric positive-definite `n × n` row-major
 * matrix; the lower triangle of `a` becomes L (the upper triangle is left as it was).
 *
 * @throws {@link ModelFitError} when A is not positive definite
 */
export function choleskyFactor(a: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) {
    let diag = a[j * n + j]!
    for (let k = 0; k < j; k++) diag -= a[j * n + k]! ** 2
    if (!(diag > 0)) {
      throw new ModelFitError(
        `Matrix is not positive definite (pivot ${j} = ${diag}). Increase regularization or check the factors for NaN.`,
      )
    }
    const ljj = Math.sqrt(diag)
    a[j * n + j] = ljj
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j]!
      for (let k = 0; k < j; k++) s -= a[i * n + k]! * a[j * n + k]!
      a[i * n + j] = s / ljj
    }
  }
}

/** Solves L Lᵀ x = b given the factor from {@link choleskyFactor}; `b` is overwritten with x. */
export function choleskySolveInPlace(l: Float64Array, n: number, b: Float64Array): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = b[i]!
    for (let k = 0; k < i; k++) s -= l[i * n + k]! * b[k]!
    b[i] = s / l[i * n + i]!
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i]!
    for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * b[k]!
    b[i] = s / l[i * n + i]!
  }
  return b
}

/** Solves A x = b for symmetric positive-definite A (copies A). */
export function solveSpd(a: ArrayLike<number>, n: number, b: ArrayLike<number>): Float64Array {
  const l = Float64Array.from(a as ArrayLike<number>)
  choleskyFactor(l, n)
  return choleskySolveInPlace(l, n, Float64Array.from(b as ArrayLike<number>))
}
