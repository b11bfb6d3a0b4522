/**
 * The ranking of every served list (issue 17), one pipeline: candidates — the filtered top-K scan
 * of the model's items and the extra items (new items scored by content vectors, items known only
 * from events since training) — then boosts, per-category caps or MMR, pins, top k. The rules part
 * is core's `rankWithRules` (the trainer's batch recommendations call the same function); extras
 * take candidate indexes after the model's items, so caps, pins and boosts treat them like trained
 * items.
 *
 * @module
 */
import {
  activeRules,
  type CompiledRules,
  cosineOfCandidates,
  type IndexFilter,
  mergeCandidates,
  rankWithRules,
  type TopKResult,
} from '@edgerec/core'
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

/** A candidate the model does not know (already filtered and excluded by the caller). */
export interface ExtraItem {
  itemId: string
  score: number
  /** `content`: a new item scored by its content vector; `events`: known from events since training. */
  source: 'content' | 'events'
  /** Its vector for diversity (the content vector); absent: similarity 0 to everything. */
  vector?: Float32Array
}

/** The candidates of one list. */
export interface CandidateList {
  /** The best `size` of the model's items, filtered and excluded inside the scan, best first. */
  fetch: (size: number) => TopKResult
  /** How many model items the scan can yield at most. */
  total: number
  /** What the scan skips (request filter, exclusions): a pinned model item it skips is not forced in. */
  skip?: IndexFilter
  extras?: readonly ExtraItem[]
}

/** One ranked item. */
export interface RankedItem {
  itemId: string
  score: number
  /** Model index, or -1 for an extra item. */
  index: number
  source?: 'content' | 'events'
}

/** Ranks a candidate list into at most `k` items. */
export type Ranker = ((list: CandidateList, k: number) => RankedItem[]) & {
  /**
   * True without rules, caps or diversity: the ranker then calls `list.fetch(k)` once and nothing
   * else, so k precomputed candidates can answer (issue 16).
   */
  readonly plain: boolean
}

/**
 * The ranker of one request. Without rules, caps or diversity the merged top-K answers (exact,
 * cheapest); otherwise core's `rankWithRules` over the merged candidates.
 */
export function rankerFor(model: LoadedModel, catalog: ServingCatalog, options: RankOptions): Ranker {
  const { maxPerCategory, diversity } = options
  const active = activeRules(options.rules, options.now, {
    ...(maxPerCategory !== undefined ? { maxPerCategory } : {}),
    ...(diversity !== undefined ? { diversity } : {}),
  })
  const offset = model.itemCount
  const rank = (list: CandidateList, k: number): RankedItem[] => {
    const extras = list.extras ?? []
    const fetch = mergeCandidates(list.fetch, extras, offset)
    const top = active
      ? rankWithRules(
          active,
          {
            fetch,
            total: list.total + extras.length,
            view: (index) =>
              index < offset ? catalog.viewAt(index) : catalog.viewOf(extras[index - offset]!.itemId, -1),
            similarity: cosineOfCandidates(model.manifest.dims, (index, out) => {
              if (index < offset) return model.readItem(index, out)
              const vector = extras[index - offset]!.vector
              if (vector) out.set(vector)
              return vector !== undefined
            }),
            pinIndex: (itemId) => {
              const index = model.itemIndexOf(itemId)
              if (index >= 0) return list.skip?.has(index) ? -1 : index
              const j = extras.findIndex((e) => e.itemId === itemId)
              return j >= 0 ? offset + j : -1
            },
          },
          k,
        )
      : fetch(k)
    return Array.from(top.indices, (index, r): RankedItem => {
      const score = top.scores[r]!
      if (index < offset) return { itemId: model.itemId(index), score, index }
      const extra = extras[index - offset]!
      return { itemId: extra.itemId, score, index: -1, source: extra.source }
    })
  }
  return Object.assign(rank, { plain: !active })
}
