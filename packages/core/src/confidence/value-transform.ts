/**
 * Value transforms of a (user, item) pair's summed weight r_ui, applied before the confidence
 * c_ui = α · r'_ui (shared/REFERENCE.md, "Confidence"): `log1p` (r' = ln(1 + r), for play counts),
 * `binary` (r' = 1), `clip:<max>` (r' = min(r, max)). The trainer applies the transform chosen for
 * a version to every pair it trains on and records it in the manifest (`valueTransform`); the edge
 * worker's fold-in applies the same transform to a person's new events, so fresh confidences are on
 * the scale the model was trained on.
 *
 * @module
 */

/** A value transform: `none`, `log1p`, `binary` or `clip:<max>` (max > 0). */
export type ValueTransform = 'none' | 'log1p' | 'binary' | `clip:${number}`

/** The transforms that take no parameter. */
export const VALUE_TRANSFORMS = ['none', 'log1p', 'binary'] as const

/** The transform `text` names, or `undefined` when it names none. */
export function toValueTransform(text: string): ValueTransform | undefined {
  if (text === 'none' || text === 'log1p' || text === 'binary') return text
  const m = /^clip:(.+)$/.exec(text)
  if (m && Number.isFinite(Number(m[1])) && Number(m[1]) > 0) return `clip:${Number(m[1])}`
  return undefined
}

/**
 * The function r ↦ r' of a transform. It applies to positive totals only: a pair whose weights
 * sum to r ≤ 0 (negative feedback) keeps r.
 *
 * @example
 * ```ts
 * valueTransformFunction('log1p')(7) // ln 8
 * ```
 */
export function valueTransformFunction(transform: ValueTransform): (r: number) => number {
  if (transform === 'none') return (r) => r
  if (transform === 'log1p') return (r) => (r > 0 ? Math.log1p(r) : r)
  if (transform === 'binary') return (r) => (r > 0 ? 1 : r)
  const max = Number(transform.slice('clip:'.length))
  return (r) => (r > 0 ? Math.min(r, max) : r)
}
