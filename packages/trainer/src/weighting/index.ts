/**
 * Weighting: event types → confidence weights, repeated events summed, optional time decay,
 * non-positive totals dropped, min-interaction filters, string ids → dense indexes.
 *
 * @module
 */
export type { BuildOptions, WeightingOptions, WeightingStats } from './accumulate.js'
export { InteractionAccumulator } from './accumulate.js'
export { compareIds, sortIds } from './ids.js'
export type { ValueTransform } from './transform.js'
export {
  parseValueTransform,
  transformFunction,
  transformMatrix,
  VALUE_TRANSFORMS,
} from './transform.js'
export {
  DEFAULT_EVENT_WEIGHTS,
  DEFAULT_UNKNOWN_TYPE_WEIGHT,
  decayFactor,
  resolveEventWeights,
} from './weights.js'
