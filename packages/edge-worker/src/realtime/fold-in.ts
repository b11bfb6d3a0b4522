/**
 * Real-time fold-in (issue 7): turns a user's newest D1 events into confidences with the model's own
 * weights, adds the trained interactions kept in the user bucket, and solves the ALS normal
 * equations for the user's vector with the exported YᵀY + λI.
 *
 * @module
 */
import {
  type FoldInResult,
  foldInUser,
  NEGATIVE_FEEDBACK_WEIGHTS,
  valueTransformFunction,
  type WeightedInteraction,
} from '@edgerec/core'
import type { LoadedModel } from '../model/loaded-model.js'

/** One event of the user as read from D1 (newest first). */
export interface ActivityEvent {
  itemId: string
  type: string
  value: number | null
  /** When it happened, epoch ms (client clock, bounded at ingestion; kept for analysis). */
  timestamp: number
  /** When the worker stored it, epoch ms (worker clock): what training cut-offs compare. */
  receivedAt: number
}

/** Confidences of the events that count for fold-in. */
export interface FreshInteractions {
  interactions: WeightedInteraction[]
  /** Events that contributed (known item, known event type, received after the cut-off). */
  events: number
}

/**
 * Confidences of events received after `since` (the manifest's `trainedUntil`, a receive time:
 * server clocks decide what training saw, so a client clock ahead or behind cannot hide new events
 * or count trained ones twice), the trainer's way (shared/REFERENCE.md, "Confidence"):
 *
 *   c_ui = α · T(Σ_e w(type_e) · (value_e ?? 1))
 *
 * summed over the user's events e on item i, with α = `manifest.als.alpha`, w =
 * `manifest.eventWeights` and T the version's value transform (`manifest.valueTransform`: log1p,
 * binary, clip; identity when absent; negative totals are not transformed), as training computed it. Events on items the model does not know, or of types without a weight,
 * cannot enter the solve (no y_i, or no confidence) and are skipped.
 */
export function freshInteractions(
  model: LoadedModel,
  events: readonly ActivityEvent[],
  since: number,
): FreshInteractions {
  const { alpha } = model.manifest.als
  const weights = model.manifest.eventWeights
  const sums = new Map<number, number>()
  let used = 0
  for (const event of events) {
    if (event.receivedAt <= since) continue
    // Negative feedback counts even with a model whose weights predate its type (issue 17).
    const weight = weights[event.type] ?? NEGATIVE_FEEDBACK_WEIGHTS[event.type]
    if (weight === undefined || weight === 0) continue
    const index = model.itemIndexOf(event.itemId)
    if (index < 0) continue
    const value = event.value ?? 1
    if (!Number.isFinite(value)) continue
    sums.set(index, (sums.get(index) ?? 0) + weight * value)
    used++
  }
  const transform = valueTransformFunction(model.manifest.valueTransform ?? 'none')
  const interactions: WeightedInteraction[] = []
  for (const [index, sum] of sums) interactions.push({ index, confidence: alpha * transform(sum) })
  return { interactions, events: used }
}

/**
 * Solves x_u = (YᵀY + λI + Σ_i (c_ui − 1) y_i y_iᵀ)⁻¹ Σ_i c_ui y_i over the union of `trained` and
 * `fresh` interactions (Hu, Koren & Volinsky 2008, eq. 4). An item in both gets c_ui summed: the new
 * events add confidence to what training saw. Returns null when no interaction has positive
 * confidence (nothing to fold in) or the system is not positive definite (negative weights can
 * make it so); the caller then falls back.
 */
export function foldIn(
  model: LoadedModel,
  trained: readonly WeightedInteraction[],
  fresh: readonly WeightedInteraction[],
): FoldInResult | null {
  const all = trained.length === 0 ? fresh : fresh.length === 0 ? trained : [...trained, ...fresh]
  if (!all.some((i) => i.confidence > 0)) return null
  try {
    const result = foldInUser(model.gram.matrix, model.manifest.dims, all, model.readItem)
    return result.used.length > 0 ? result : null
  } catch {
    return null
  }
}
