/**
 * One ranking pipeline for every list (issue 17), shared by the edge worker and the trainer's batch
 * recommendations:
 *
 *   candidates (the filtered scan of the model's items ∪ extra items: new items scored by content
 *   vectors, items known only from events since training)
 *   → boosts → per-category caps or MMR (core's {@link rerank}) → pins → top k.
 *
 * Candidates live in one index space: the scanned items keep their model index, extra item `j`
 * takes `offset + j` (offset = the model's item count), so caps, diversity and pins treat a new
 * item exactly like a trained one.
 *
 * @module
 */
import type { IndexFilter, TopKResult } from '../scoring/top-k.js'
import type { PopularityShard } from '../shard/types.js'
import { boostFactor, type CompiledBoost, type CompiledRules, rerank } from './rules.js'
import type { ItemView } from './table.js'

/** Smallest pool reranked when rules apply: max(4k, {@link MIN_RULE_POOL}). */
export const MIN_RULE_POOL = 50

/** The rules that apply to one request, after expiry and the request's overrides. */
export interface ActiveRules {
  boosts: CompiledBoost[]
  /** Pins unexpired at `now`, by position. */
  pins: { itemId: string; position: number }[]
  maxPerCategory: number | undefined
  /** MMR knob in [0, 1] (0: off). */
  diversity: number
  now: number
}

/** A request's overrides of the rules' defaults (`maxPerCategory=`, `diversity=`). */
export interface RuleOverrides {
  maxPerCategory?: number
  diversity?: number
}

/**
 * The rules active at `now` with the request's overrides, or undefined when nothing applies (the
 * plain filtered top-K is then exact and cheapest).
 */
export function activeRules(
  rules: CompiledRules | undefined,
  now: number,
  overrides: RuleOverrides = {},
): ActiveRules | undefined {
  const maxPerCategory = overrides.maxPerCategory ?? rules?.maxPerCategory
  const diversity = overrides.diversity ?? rules?.diversity ?? 0
  const boosts = rules?.boosts.filter((b) => now <= b.until) ?? []
  const pins = (rules?.pins ?? [])
    .filter((p) => now <= p.until)
    .map(({ itemId, position }) => ({ itemId, position }))
  if (boosts.length === 0 && pins.length === 0 && maxPerCategory === undefined && diversity === 0)
    return undefined
  return { boosts, pins, maxPerCategory, diversity, now }
}

/**
 * The best `size` candidates of the union of a scan (`fetch`, best first) and `extras` (any order),
 * extra `j` as index `offset + j`. Ties go to the scanned item, then to the earlier extra.
 */
export function mergeCandidates(
  fetch: (size: number) => TopKResult,
  extras: readonly { score: number }[],
  offset: number,
): (size: number) => TopKResult {
  if (extras.length === 0) return fetch
  const order = extras.map((e, j) => ({ index: offset + j, score: e.score }))
  order.sort((a, b) => b.score - a.score || a.index - b.index)
  return (size) => {
    const top = fetch(size)
    const n = Math.min(size, top.indices.length + order.length)
    const indices = new Uint32Array(n)
    const scores = new Float32Array(n)
    let a = 0
    let b = 0
    for (let r = 0; r < n; r++) {
      const takeScan = b >= order.length || (a < top.indices.length && top.scores[a]! >= order[b]!.score)
      if (takeScan) {
        indices[r] = top.indices[a]!
        scores[r] = top.scores[a++]!
      } else {
        indices[r] = order[b]!.index
        scores[r] = order[b++]!.score
      }
    }
    return { indices, scores }
  }
}

/** What {@link rankWithRules} needs to know about the candidates. */
export interface RankSource {
  /** The best `size` candidates (already filtered and excluded), best first. */
  fetch: (size: number) => TopKResult
  /** How many candidates exist at most (the pool never grows past it). */
  total: number
  /** The catalog view of a candidate (boost filters, categories); null: none. */
  view: (index: number) => ItemView | null
  /** Cosine of two candidates' vectors (MMR). */
  similarity: (a: number, b: number) => number
  /**
   * The candidate index of a pinned item, or -1 when it may not appear in this list (unknown, or
   * failing the request's filter or exclusions): a pin never overrides those.
   */
  pinIndex: (itemId: string) => number
}

/**
 * Ranks with rules: a pool of the best max(4k, {@link MIN_RULE_POOL}) candidates is reranked by
 * {@link rerank} (boosts, then MMR or greedy order under the per-category cap); when the cap leaves
 * fewer than `k` picks the pool grows ×4 until `k` are found or every candidate was seen. Then pins
 * are placed at their positions (a pinned pick keeps its score; otherwise it takes its pool score
 * or its neighbour's).
 */
export function rankWithRules(rules: ActiveRules, source: RankSource, k: number): TopKResult {
  const { boosts, maxPerCategory, diversity, now } = rules
  const categories = (index: number): readonly string[] => source.view(index)?.categories() ?? []
  const boost = (index: number): number => {
    const view = source.view(index)
    return view ? boostFactor(boosts, view, now) : 1
  }
  const total = source.total
  let size = Math.min(total, Math.max(4 * k, MIN_RULE_POOL))
  let picks: { index: number; score: number }[]
  const poolScores = new Map<number, number>()
  for (;;) {
    const top = source.fetch(size)
    const pool = Array.from(top.indices, (index, r) => ({ index, score: top.scores[r]! }))
    for (const c of pool) poolScores.set(c.index, c.score)
    const result = rerank(pool, k, {
      ...(boosts.length > 0 ? { boost } : {}),
      categories,
      ...(maxPerCategory !== undefined ? { maxPerCategory } : {}),
      diversity,
      similarity: source.similarity,
    })
    picks = result.picks
    if (!result.exhausted || size >= total || top.indices.length < size) break
    size = Math.min(total, size * 4)
  }
  for (const pin of rules.pins) {
    const index = source.pinIndex(pin.itemId)
    if (index < 0) continue
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

/**
 * cos(y_a, y_b) of candidates whose vectors `read` fills (false: no vector, similarity 0); unit
 * vectors are computed once per candidate and kept for the ranking's lifetime.
 */
export function cosineOfCandidates(
  dims: number,
  read: (index: number, out: Float64Array) => boolean,
): (a: number, b: number) => number {
  const units = new Map<number, Float64Array | null>()
  const unit = (index: number): Float64Array | null => {
    let v = units.get(index)
    if (v === undefined) {
      v = new Float64Array(dims)
      if (read(index, v)) {
        let norm = 0
        for (const x of v) norm += x * x
        norm = Math.sqrt(norm)
        if (norm > 0) for (let d = 0; d < dims; d++) v[d]! /= norm
      } else v = null
      units.set(index, v)
    }
    return v
  }
  return (a, b) => {
    const x = unit(a)
    const y = unit(b)
    if (!x || !y) return 0
    let s = 0
    for (let d = 0; d < dims; d++) s += x[d]! * y[d]!
    return s
  }
}

/**
 * The first `size` items of a ranked list (the popularity or trending shard) that `skip` lets
 * through, in list order: the candidate scan of popular lists.
 */
export function rankedList(
  shard: Pick<PopularityShard, 'rowCount' | 'itemIndexes' | 'scores'>,
  size: number,
  skip?: IndexFilter,
): TopKResult {
  const indices: number[] = []
  const scores: number[] = []
  for (let i = 0; i < shard.rowCount && indices.length < size; i++) {
    const index = shard.itemIndexes[i]!
    if (skip?.has(index)) continue
    indices.push(index)
    scores.push(shard.scores[i]!)
  }
  return { indices: Uint32Array.from(indices), scores: Float32Array.from(scores) }
}
