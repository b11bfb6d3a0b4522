/**
 * Value transforms applied to each (user, item) pair's summed weight r_ui before ALS:
 * `log1p` (r ← ln(1 + r), for play counts), `binary` (r ← 1), `clip:<max>` (r ← min(r, max)).
 *
 * @module
 */
import { toValueTransform, type ValueTransform, valueTransformFunction } from '@edgerec/core'
import type { CsrMatrix } from '../data/matrix.js'
import { TrainerError } from '../errors.js'

export type { ValueTransform } from '@edgerec/core'
/** The transforms a tuner can try without parameters (core's list; the same functions serve fold-in). */
export { VALUE_TRANSFORMS } from '@edgerec/core'

/**
 * Checks a transform written by a user (config or `--transform`) and returns it typed.
 *
 * @throws TrainerError `CONFIG_INVALID` naming the accepted forms
 */
export function parseValueTransform(text: string): ValueTransform {
  const transform = toValueTransform(text)
  if (transform) return transform
  throw new TrainerError(
    'CONFIG_INVALID',
    `Value transform ${JSON.stringify(text)} is not one of none, log1p, binary, clip:<max> (e.g. clip:5, max > 0).`,
  )
}

/** The function r ↦ r' of a transform (core's; the trainer applies it to positive totals only). */
export const transformFunction: (transform: ValueTransform) => (r: number) => number = valueTransformFunction

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
