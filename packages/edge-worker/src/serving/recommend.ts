/**
 * The recommendation decision of one request: model vector, fold-in, or fallback list, with the
 * user's consumed items excluded and, on request, explanations.
 *
 * @module
 */
import {
  explainScore,
  type FoldInResult,
  type IndexFilter,
  type Int8Vector,
  type PopularityShard,
  quantizeVector,
  rankedList,
  type TopKResult,
  topKFromCandidates,
} from '@edgerec/core'
import type { CandidateList, ExtraItem, Ranker } from '../catalog/rank.js'
import type { LoadedModel, PrefetchedUser } from '../model/loaded-model.js'
import type { ModelBindings } from '../model/storage.js'
import { type ActivityEvent, foldIn, freshInteractions } from '../realtime/fold-in.js'
import type { ServerTiming } from './timing.js'

/**
 * Where a list of recommendations came from (architecture.md). `popular` covers both fallback
 * lists: `FALLBACK_LIST=trending` serves the trending list under the same source.
 */
export type RecommendationSource = 'model' | 'fold-in' | 'popular'

/** One of the user's items that explains a recommendation. */
export interface Because {
  itemId: string
  contribution: number
}

/** One recommended item. */
export interface RecommendedItem {
  itemId: string
  score: number
  because?: Because[]
  /**
   * `content`: a new item scored by its content vector; `events`: an item known only from events
   * since training, in a fallback list (issue 17, docs/catalog.md).
   */
  source?: 'content' | 'events'
}

/** The JSON body of `GET /v1/users/:userId/recommendations`. */
export interface RecommendationsBody {
  userId: string
  items: RecommendedItem[]
  source: RecommendationSource
  modelVersion: string | null
  /** Unique id of this answer: send it with the events that follow from the list (attribution). */
  recId?: string
  /** The experiment variant that served it (`live` outside experiments). */
  variant?: string
}

/** What the request asks. */
export interface RecommendRequest {
  userId: string
  k: number
  exclude: readonly string[]
  explain: boolean
  /** The user's newest events (D1, identity-merged), newest first. */
  activity: readonly ActivityEvent[]
  fallbackList: 'popular' | 'trending'
  now: number
  /**
   * Treat the user as absent from the model (no trained vector, interactions or exclusions from the
   * bucket): a deleted person until a model created after the deletion is live, or an untokened
   * reader under `USER_TOKENS=required` (docs/privacy.md).
   */
  ignoreTrained?: boolean
  /**
   * The request's catalog filter as an index predicate (`has` = skip), consulted inside the top-K
   * scan and over the fallback list (issue 17). Built by `ServingCatalog.indexFilter`.
   */
  skip?: IndexFilter
  /**
   * The ranking pipeline (issue 17, `rankerFor`): candidates → rules (boosts, caps/MMR, pins) →
   * top k.
   */
  rank: Ranker
  /**
   * New items scored by content vectors against the user's vector (issue 17): they enter the
   * ranking as candidates, before rules.
   */
  content?: (user: Int8Vector) => ExtraItem[]
  /**
   * The fallback list's candidates (the popular endpoint's code path: events since training blended
   * in, new items by their people count); absent: the version's list as trained.
   */
  fallback?: (shard: PopularityShard, skip: IndexFilter) => Promise<CandidateList>
  /** false: score with the trained vector only (experiment strategy `model-no-fold-in`). */
  foldIn?: boolean
  /** Serve this list instead of personalising (experiment strategies `popular`, `trending`). */
  list?: 'popular' | 'trending'
  /**
   * What this request already read ({@link LoadedModel.prefetchUser}, while its events were read):
   * the user's row (used instead of a second lookup) and partition lists by partition (scoring
   * uses them before the shared cache).
   */
  prefetched?: PrefetchedUser
  /** `SERVER_TIMING=on`: the phases of this request are added to it. */
  timing?: ServerTiming
}

/** Work done, for `Server-Timing` and benchmarks. */
export interface RecommendStats {
  /** Events that entered a fold-in solve. */
  foldInEvents: number
  /** Interactions in the solve (trained + fresh, before duplicate merge). */
  foldInInteractions: number
}

/** Explanations per item: the user's items with the largest contributions. */
const EXPLAIN_TOP = 3

/**
 * Recommends for one user with one captured model version.
 *
 * 1. Exclusions: the `exclude` ids, every item of the user's D1 activity, and the user's training
 *    interactions from the user bucket.
 * 2. Vector: a user in the model without events newer than `manifest.trainedUntil` is scored with
 *    the trained int8 vector (`model`). A user with newer events, or not in the model (new or
 *    anonymous), is folded in from trained ∪ new interactions (`fold-in`). Otherwise the fallback
 *    list (`FALLBACK_LIST`) serves (`popular`): the popular endpoint's list, events since training
 *    blended in (`request.fallback`).
 * 3. Ranking: the candidates (model items; new items by content vector; for the fallback, items
 *    known from events) go through one pipeline, filters → boosts → caps/MMR → pins → top k.
 * 4. Explanations (`explain`): contributions from the fold-in system; for a model user without new
 *    events the system is solved from their trained interactions just to explain.
 */
export async function recommend(
  model: LoadedModel,
  bindings: ModelBindings,
  request: RecommendRequest,
): Promise<{ body: RecommendationsBody; stats: RecommendStats }> {
  const { userId, k, activity, now, timing } = request
  const timed = <T>(name: string, work: Promise<T>): Promise<T> => (timing ? timing.time(name, work) : work)
  const user = request.ignoreTrained
    ? null
    : request.prefetched
      ? request.prefetched.user
      : await timed('user', model.findUser(bindings, userId, now))
  const excluded = new Set<number>()
  for (const id of request.exclude) {
    const index = model.itemIndexOf(id)
    if (index >= 0) excluded.add(index)
  }
  for (const event of activity) {
    const index = model.itemIndexOf(event.itemId)
    if (index >= 0) excluded.add(index)
  }
  const trained = user ? model.userInteractions(user) : []
  for (const { index } of trained) excluded.add(index)
  const skip = request.skip
  const skipped: IndexFilter = skip ? { has: (i) => excluded.has(i) || skip.has(i) } : excluded

  // A model user's events up to trainedUntil are already inside x_u; only newer ones are news.
  const since = user ? model.manifest.trainedUntil : Number.NEGATIVE_INFINITY
  const fresh =
    request.foldIn === false || request.list
      ? { interactions: [], events: 0 }
      : freshInteractions(model, activity, since)
  const stats: RecommendStats = { foldInEvents: 0, foldInInteractions: 0 }

  let vector: Int8Vector | null = null
  let fold: FoldInResult | null = null
  let source: RecommendationSource = 'model'
  if (fresh.interactions.length > 0 || (request.explain && user)) {
    // A partitioned version holds no item rows: fetch the lists of the items fold-in reads (the
    // newest events first), so `readItem` sees them.
    await timed(
      'items',
      model.ensureItems(
        bindings,
        [...fresh.interactions.map((i) => i.index), ...trained.map((i) => i.index)],
        now,
      ),
    )
  }
  if (fresh.interactions.length > 0) {
    fold = foldIn(model, trained, fresh.interactions)
    if (fold) {
      vector = quantizeVector(fold.vector)
      source = 'fold-in'
      stats.foldInEvents = fresh.events
      stats.foldInInteractions = trained.length + fresh.interactions.length
    }
  }
  if (!vector && user && !request.list) {
    vector = model.userVector(user)
    source = 'model'
    if (request.explain) fold = foldIn(model, trained, [])
  }

  const { rank } = request
  // A trained user without news, ranked without rules: the bucket's precomputed candidates answer
  // when k of them pass the filter and exclusions (issue 16: no list read). Otherwise the scan —
  // unpartitioned: the exact one; partitioned: the probed lists, fetched once for the request.
  const candidates = source === 'model' && user && rank.plain ? model.userCandidates(user) : undefined
  const fromCandidates = candidates && topKFromCandidates(candidates.items, candidates.scores, k, skipped)
  if (fromCandidates) model.noteCandidateAnswer()
  const prepared = fromCandidates
    ? // The plain ranker fetches k once (`Ranker.plain`).
      (): TopKResult => fromCandidates
    : vector
      ? await model.prepareTopK(bindings, vector, now, timing, request.prefetched?.lists)
      : null
  if (!vector || !prepared) {
    const { shard } = model.fallbackList(request.list ?? request.fallbackList)
    const list: CandidateList = request.fallback
      ? await request.fallback(shard, skipped)
      : { fetch: (size) => rankedList(shard, size, skipped), total: shard.rowCount, skip: skipped }
    const items: RecommendedItem[] = rank(list, k).map(publicItem)
    return { body: { userId, items, source: 'popular', modelVersion: model.version }, stats }
  }

  const scan = (size: number): TopKResult => prepared(size, skipped)
  const extras = request.content?.(vector) ?? []
  const started = performance.now()
  const ranked = rank({ fetch: scan, total: model.itemCount, skip: skipped, extras }, k)
  timing?.add('rank', performance.now() - started)
  if (request.explain && fold)
    await model.ensureItems(
      bindings,
      ranked.map((r) => r.index).filter((i) => i >= 0),
      now,
    )
  const itemVector = new Float64Array(model.manifest.dims)
  const items: RecommendedItem[] = ranked.map((r) => {
    const item = publicItem(r)
    if (request.explain && fold && r.index >= 0 && model.readItem(r.index, itemVector)) {
      item.because = explainScore(fold, itemVector, EXPLAIN_TOP).map((c) => ({
        itemId: model.itemId(c.index),
        contribution: c.contribution,
      }))
    }
    return item
  })
  if (request.explain) for (const item of items) item.because ??= []
  return { body: { userId, items, source, modelVersion: model.version }, stats }
}

/** A ranked item as answered (no model index). */
function publicItem(r: { itemId: string; score: number; source?: 'content' | 'events' }): RecommendedItem {
  return r.source
    ? { itemId: r.itemId, score: r.score, source: r.source }
    : { itemId: r.itemId, score: r.score }
}
