/**
 * Rules and diversity on top of the filtered top-K scan: the scan yields a pool of the best
 * candidates (already filtered and excluded), which is reranked with boosts, per-category caps or
 * MMR (core's `rerank`), then pins are placed. A cap that leaves fewer than `k` picks grows the pool
 * (×4) until `k` are found or every item was seen.
 *
 * @module
 */
import { boostFactor, type CompiledRules, type IndexFilter, rerank, type TopKResult } from '@edgerec/core'
import type { LoadedModel } from '../model/loaded-model.js'
import type { ServingCatalog } from './serving.js'

/** What a request asks of rules and diversity. */
export interface RankOptions {
  rules: CompiledRules | undefined
  /** `maxPerCategory=` (overrides the rules' default). */
  maxPerCategory?: number
  /** `diversity=` (overrides the rules' default). */
  diversity?: number
  now: number
}

/** Ranks with rules; a drop-in for a plain top-K call. */
export type Ranker = (
  fetch: (size: number) => TopKResult,
  k: number,
  total: number,
  skip?: IndexFilter,
) => TopKResult

/** Smallest pool reranked. */
const MIN_POOL = 50

/**
 * The ranker of one request, or undefined when neither rules nor diversity apply (the plain top-K
 * is then exact and cheapest).
 */
export function rankerFor(
  model: LoadedModel,
  catalog: ServingCatalog,
  options: RankOptions,
): Ranker | undefined {
  const { rules, now } = options
  const maxPerCategory = options.maxPerCategory ?? rules?.maxPerCategory
  const diversity = options.diversity ?? rules?.diversity ?? 0
  const boosts = rules?.boosts.filter((b) => now <= b.until) ?? []
  const pins = rules?.pins.filter((p) => now <= p.until) ?? []
  if (boosts.length === 0 && pins.length === 0 && maxPerCategory === undefined && diversity === 0)
    return undefined

  const categories = (index: number): readonly string[] => catalog.viewAt(index)?.categories() ?? []
  const boost = (index: number): number => {
    const view = catalog.viewAt(index)
    return view ? boostFactor(boosts, view, now) : 1
  }
  const vectors = new Map<number, Float64Array>()
  const unit = (index: number): Float64Array => {
    let v = vectors.get(index)
    if (!v) {
      v = new Float64Array(model.manifest.dims)
      model.readItem(index, v)
      let norm = 0
      for (const x of v) norm += x * x
      norm = Math.sqrt(norm)
      if (norm > 0) for (let d = 0; d < v.length; d++) v[d]! /= norm
      vectors.set(index, v)
    }
    return v
  }
  const similarity = (a: number, b: number): number => {
    const x = unit(a)
    const y = unit(b)
    let s = 0
    for (let d = 0; d < x.length; d++) s += x[d]! * y[d]!
    return s
  }

  return (fetch, k, total, skip) => {
    let size = Math.min(total, Math.max(4 * k, MIN_POOL))
    let picks: { index: number; score: number }[]
    const poolScores = new Map<number, number>()
    for (;;) {
      const top = fetch(size)
      const pool = Array.from(top.indices, (index, r) => ({ index, score: top.scores[r]! }))
      for (const c of pool) poolScores.set(c.index, c.score)
      const result = rerank(pool, k, {
        ...(boosts.length > 0 ? { boost } : {}),
        categories,
        ...(maxPerCategory !== undefined ? { maxPerCategory } : {}),
        diversity,
        similarity,
      })
      picks = result.picks
      if (!result.exhausted || size >= total || top.indices.length < size) break
      size = Math.min(total, size * 4)
    }
    for (const pin of pins) {
      const index = model.itemIndexOf(pin.itemId)
      if (index < 0 || skip?.has(index)) continue
      const at = picks.findIndex((p) => p.index === index)
      const existing = at >= 0 ? picks.splice(at, 1)[0]! : undefined
      const position = Math.min(pin.position - 1, picks.length)
      const score =
        existing?.score ?? poolScores.get(index) ?? picks[position]?.score ?? picks.at(-1)?.score ?? 0
      picks.splice(position, 0, { index, score })
    }
    picks.length = Math.min(picks.length, k)
    return {
      indices: Uint32Array.from(picks, (p) => p.index),
      scores: Float32Array.from(picks, (p) => p.score),
    }
  }
}
