/**
 * Value transforms applied to each (user, item) pair's summed weight r_ui before ALS:
 * `log1p` (r ← ln(1 + r), for play counts), `binary` (r ← 1), `clip:<max>` (r ← min(r, max)).
 *
 * @module
 */
import type { CsrMatrix } from '../data/matrix.js'
import { TrainerError } from '../errors.js'

/** A value transform: `none`, `log1p`, `binary` or `clip:<max>` (max > 0). */
export type ValueTransform = 'none' | 'log1p' | 'binary' | `clip:${number}`

/** The transforms a tuner can try without parameters. */
export const VALUE_TRANSFORMS = ['none', 'log1p', 'binary'] as const

/**
 * Checks a transform written by a user (config or `--transform`) and returns it typed.
 *
 * @throws TrainerError `CONFIG_INVALID` naming the accepted forms
 */
export function parseValueTransform(text: string): ValueTransform {
  if (text === 'none' || text === 'log1p' || text === 'binary') return text
  const m = /^clip:(.+)$/.exec(text)
  if (m && Number.isFinite(Number(m[1])) && Number(m[1]) > 0) return `clip:${Number(m[1])}`
  throw new TrainerError(
    'CONFIG_INVALID',
    `Value transform ${JSON.stringify(text)} is not one of none, log1p, binary, clip:<max> (e.g. clip:5, max > 0).`,
  )
}

/** The function r ↦ r' of a transform (applied to positive totals only). */
export function transformFunction(transform: ValueTransform): (r: number) => number {
  if (transform === 'none') return (r) => r
  if (transform === 'log1p') return Math.log1p
  if (transform === 'binary') return () => 1
  const max = Number(transform.slice('clip:'.length))
  return (r) => Math.min(r, max)
}

/**
 * A copy of `matrix` with the transform applied to every value (indexes and timestamps shared).
 * For tuning over transforms: build the matrix once with `none`, then transform per trial.
 */
export function transformMatrix(matrix: CsrMatrix, transform: ValueTransform): CsrMatrix {
  if (transform === 'none') return matrix
  const f = transformFunction(transform)
  const values = new Float32Array(matrix.values.length)
  for (let k = 0; k < values.length; k++) values[k] = f(matrix.values[k]!)
  return { ...matrix, values }
}
