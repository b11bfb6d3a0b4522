/**
 * The candidates of a popular or trending list (issue 17), one code path for `GET /v1/popular` and
 * the fallback list of recommendations (users with neither a trained vector nor fold-in history):
 * the version's ranked list blended with the events received since training — score = trained
 * score + distinct people with events since `trainedUntil` — plus the items the model does not know
 * yet, by their people count alone (`source: "events"`), only when the catalog has them and the
 * request's filter lets them through (an id nobody added cannot enter everyone's list, issue 13).
 *
 * @module
 */
import { type IndexFilter, type PopularityShard, rankedList, type TopKResult } from '@edgerec/core'
import type { LoadedModel } from '../model/loaded-model.js'
import type { CandidateList, ExtraItem } from './rank.js'

/** How a popular list decides what may enter it. */
export interface PopularListOptions {
  /** The request's filter and exclusions over model indexes (`has` = skip). */
  skip?: IndexFilter
  /** Whether an item the model does not know may enter (known to the catalog, passes the filter, not excluded). */
  admits: (itemId: string) => boolean
}

/**
 * The candidates of ranked list `shard` blended with `fresh` (people per item since training, from
 * `FreshPopularity`).
 */
export function popularCandidates(
  model: LoadedModel,
  shard: PopularityShard,
  fresh: ReadonlyMap<string, number>,
  options: PopularListOptions,
): CandidateList {
  const { skip } = options
  const extras: ExtraItem[] = []
  let freshInModel = 0
  for (const [itemId, n] of fresh) {
    if (model.itemIndexOf(itemId) >= 0) freshInModel++
    else if (options.admits(itemId)) extras.push({ itemId, score: n, source: 'events' })
  }
  const fetch = (size: number): TopKResult => {
    const trained = rankedList(shard, size, skip)
    if (fresh.size === 0) return trained
    const blended = new Map<number, number>()
    for (let r = 0; r < trained.indices.length; r++) {
      const index = trained.indices[r]!
      blended.set(index, trained.scores[r]! + (fresh.get(model.itemId(index)) ?? 0))
    }
    for (const [itemId, n] of fresh) {
      const index = model.itemIndexOf(itemId)
      if (index >= 0 && !blended.has(index) && !skip?.has(index))
        blended.set(index, (scoreIn(shard, index) ?? 0) + n)
    }
    const order = [...blended].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, size)
    return { indices: Uint32Array.from(order, (e) => e[0]), scores: Float32Array.from(order, (e) => e[1]) }
  }
  return { fetch, total: shard.rowCount + freshInModel, ...(skip ? { skip } : {}), extras }
}

const scoresByIndex = new WeakMap<PopularityShard, Map<number, number>>()

/** The score of `index` in a ranked list, if listed (an index → score map built once per list). */
function scoreIn(shard: PopularityShard, index: number): number | undefined {
  let map = scoresByIndex.get(shard)
  if (!map) {
    map = new Map()
    for (let i = 0; i < shard.rowCount; i++) map.set(shard.itemIndexes[i]!, shard.scores[i]!)
    scoresByIndex.set(shard, map)
  }
  return map.get(index)
}
