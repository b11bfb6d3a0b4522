/**
 * Event type → confidence weight. An event contributes `weight(type) · (value ?? 1)` to its
 * (user, item) pair, the same rule the edge worker's fold-in applies with the manifest's
 * `eventWeights`. ALS then uses c_ui = alpha · r_ui (shared/REFERENCE.md).
 *
 * @module
 */
import { EVENT_TYPE_PATTERN, NEGATIVE_FEEDBACK_WEIGHTS } from '@edgerec/core'
import { TrainerError } from '../errors.js'

/**
 * Default weights of the standard e-commerce types. `rating` is 1 so a rating event weighs its
 * rating value; negative types (remove_from_cart, dislike) pull a pair's total down.
 */
export const DEFAULT_EVENT_WEIGHTS: Readonly<Record<string, number>> = Object.freeze({
  view: 1,
  click: 2,
  add_to_cart: 4,
  remove_from_cart: -2,
  purchase: 8,
  rating: 1,
  like: 4,
  // dislike −4, hide −8: core's NEGATIVE_FEEDBACK_WEIGHTS (the worker's fold-in uses the same).
  ...NEGATIVE_FEEDBACK_WEIGHTS,
})

/** Weight of a custom type missing from the weights. Default 1 (reported in the load stats). */
export const DEFAULT_UNKNOWN_TYPE_WEIGHT = 1

/** Merges user weights over {@link DEFAULT_EVENT_WEIGHTS} and checks them. */
export function resolveEventWeights(overrides: Record<string, number> = {}): Record<string, number> {
  const weights: Record<string, number> = { ...DEFAULT_EVENT_WEIGHTS }
  for (const [type, weight] of Object.entries(overrides)) {
    if (!EVENT_TYPE_PATTERN.test(type)) {
      throw new TrainerError(
        'CONFIG_INVALID',
        `eventWeights key ${JSON.stringify(type)} is not an event type ([a-z][a-z0-9_]*).`,
      )
    }
    if (typeof weight !== 'number' || !Number.isFinite(weight)) {
      throw new TrainerError(
        'CONFIG_INVALID',
        `eventWeights.${type} must be a finite number, got ${String(weight)}.`,
      )
    }
    weights[type] = weight
  }
  return weights
}

/**
 * Time decay factor `0.5^(age / halfLife)` with `age = newest − t` (ms). Returns 1 without a half-life.
 *
 * @param halfLifeMs - half-life in ms; `undefined` or ≤ 0 disables decay
 */
export function decayFactor(newest: number, t: number, halfLifeMs: number | undefined): number {
  if (halfLifeMs === undefined || !(halfLifeMs > 0)) return 1
  const age = Math.max(0, newest - t)
  return 0.5 ** (age / halfLifeMs)
}
