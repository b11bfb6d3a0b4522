/**
 * Model-only reads: `GET /v1/items/:itemId/similar` and `GET /v1/popular`.
 *
 * @module
 */
import { type IndexFilter, rankedList, type TopKResult } from '@edgerec/core'
import { Hono } from 'hono'
import { contentItem, cosineOf, newItems, similarToVector } from '../catalog/content.js'
import { parseFilterParams, parseRankParams } from '../catalog/params.js'
import { popularCandidates } from '../catalog/popular-list.js'
import type { ExtraItem, RankedItem } from '../catalog/rank.js'
import { compileRequestFilter } from '../catalog/serving.js'
import type { AppEnv } from '../env.js'
import { ApiError } from '../errors.js'
import type { Strategy } from '../experiments/definition.js'
import { attribute, chooseArm, LIVE_ARM, modelForArm, shadowAfter } from '../experiments/serve.js'
import type { LoadedModel } from '../model/loaded-model.js'
import { OPERATIONS } from '../openapi/operations.js'
import { checkId, ParamErrors, parseK } from '../params.js'
import {
  acquireCatalog,
  acquireModel,
  acquireRanker,
  MODEL_CACHE_CONTROL,
  PERSONAL_CACHE_CONTROL,
  type ServingDeps,
} from '../serving/context.js'
import { noModel } from './recommendations.js'

/** One scored item. */
export interface ScoredItem {
  itemId: string
  score: number
}

/** Where a similar list came from. */
type SimilarSource = 'model' | 'content' | 'popular' | 'trending'

/** `userId=` (optional): whom a similar or popular list is shown to, for attribution and experiments. */
function optionalUser(errors: ParamErrors, raw: string | undefined): string | null {
  return raw === undefined || raw === '' ? null : checkId(errors, 'userId', raw)
}

/** Routes under `/v1/items`. */
export function itemRoutes(deps: ServingDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.get('/:itemId/similar', OPERATIONS.similar, async (c) => {
    const errors = new ParamErrors()
    const itemId = checkId(errors, 'itemId', c.req.param('itemId'))
    const k = parseK(errors, c.req.query('k'))
    const predicate = compileRequestFilter(parseFilterParams(errors, (name) => c.req.query(name)))
    const rankParams = parseRankParams(errors, (name) => c.req.query(name))
    const userKey = optionalUser(errors, c.req.query('userId'))
    errors.throwIfAny()
    const { model: live, config } = await acquireModel(c, deps)
    const assigned = await chooseArm(c, deps.online, config, 'similar', userKey, deps.now())
    const { model, arm } = await modelForArm(deps, c, config, assigned, live)
    /** The similar list of `model` with `strategy` (also the shadow's candidate list). */
    const similarOf = async (
      model: LoadedModel,
      strategy: Strategy,
      given?: Awaited<ReturnType<typeof acquireCatalog>>,
    ): Promise<{ items: (ScoredItem & { source?: 'content' | 'events' })[]; source: SimilarSource }> => {
      const catalog = given ?? (await acquireCatalog(c, deps, model))
      const index = model.itemIndexOf(itemId)
      let source: SimilarSource = 'model'
      // The seed's neighbours: its factors, or for a new item (catalog only) its content vector.
      let near: ((size: number) => TopKResult) | undefined
      let seedVector: Float32Array | Float64Array | undefined
      const skip = catalog.indexFilter(predicate)
      if (index >= 0) {
        // Unpartitioned: the exact scan; partitioned: the item's list and the probed ones, fetched once.
        const prepared = await model.prepareSimilar(c.env, index, deps.now())
        if (prepared) near = (size) => prepared(size, skip)
        else {
          // The item's partition list is missing or corrupt (reported in /v1/model): popular items.
          const popular = model.fallbackList('popular').shard
          const notSeed: IndexFilter = { has: (i) => i === index || (skip?.has(i) ?? false) }
          near = (size) => rankedList(popular, size, notSeed)
          source = 'popular'
        }
        const y = new Float64Array(model.manifest.dims)
        if (model.readItem(index, y)) seedVector = y
      } else {
        const entry = deps.catalog.get(itemId)
        const content = entry ? contentItem(model, entry.item) : null
        if (content) {
          const probed = await model.prepareSimilarToVector(c.env, content.vector, deps.now())
          near = probed
            ? (size) => probed(size, skip)
            : (size) => similarToVector(model.blocks, content.vector, size, skip)
          source = 'content'
          seedVector = content.vector
        }
      }
      if (!near) {
        throw new ApiError(
          'ITEM_NOT_FOUND',
          `Item "${itemId}" is not in model version ${model.version}. Items enter the model at the next training run after their first events.`,
        )
      }
      // New items are candidates of the same ranking (cosine to the seed), before rules.
      const extras: ExtraItem[] = []
      if (seedVector) {
        let norm = 0
        for (const v of seedVector) norm += v * v
        norm = Math.sqrt(norm)
        const vector = seedVector
        const fresh = newItems(
          model,
          deps.catalog,
          (id) => id !== itemId && catalog.passes(predicate, id),
          new Set(),
        )
        for (const item of fresh)
          extras.push({
            itemId: item.itemId,
            score: cosineOf(vector, norm, item),
            source: 'content',
            vector: item.vector,
          })
      }
      const seedless: IndexFilter = { has: (i) => i === index || (skip?.has(i) ?? false) }
      const rank = await acquireRanker(c, deps, model, catalog, rankParams)
      let items: (ScoredItem & { source?: 'content' | 'events' })[] = rank(
        { fetch: near, total: model.itemCount - (index >= 0 ? 1 : 0), skip: seedless, extras },
        k,
      ).map(publicItem)
      if (strategy === 'popular' || strategy === 'trending') {
        // Experiment strategy: the version's list in place of neighbours, without the item itself.
        const list = model.fallbackList(strategy)
        source = list.source
        items = []
        for (let i = 0; i < list.shard.rowCount && items.length < k; i++) {
          const other = list.shard.itemIndexes[i]!
          const id = model.itemId(other)
          if (other !== index && catalog.passes(predicate, id))
            items.push({ itemId: id, score: list.shard.scores[i]! })
        }
      }
      return { items, source }
    }
    const catalog = await acquireCatalog(c, deps, model)
    if (!model) {
      throw new ApiError(
        'NO_MODEL',
        'No model version is live yet, so item similarity is unknown. Train and publish a model first.',
      )
    }
    const { items, source } = await similarOf(model, arm.strategy, catalog)
    // An answer for a person (or inside an experiment) carries a person's recId: no shared cache.
    c.header('Cache-Control', userKey === null ? MODEL_CACHE_CONTROL : PERSONAL_CACHE_CONTROL)
    const list = {
      surface: 'similar' as const,
      userKey,
      modelVersion: model.version,
      source,
      itemIds: items.map((i) => i.itemId),
      servedAt: deps.now(),
    }
    const attribution = await attribute(c, deps.online, config, arm, list)
    // Shadow mode: the candidate scores the same request after the response; only the overlap is kept.
    shadowAfter(c, deps, config, live, {
      surface: 'similar',
      recId: attribution.recId,
      userKey,
      servedAt: list.servedAt,
      itemIds: list.itemIds,
      score: async (candidate, strategy) => (await similarOf(candidate, strategy)).items.map((i) => i.itemId),
    })
    return c.json({ itemId, items, source, modelVersion: model.version, ...attribution })
  })
  return app
}

/** `GET /v1/popular?k=&kind=popular|trending`. */
export function popularRoutes(deps: ServingDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.get('/', OPERATIONS.popular, async (c) => {
    const errors = new ParamErrors()
    const k = parseK(errors, c.req.query('k'))
    const predicate = compileRequestFilter(parseFilterParams(errors, (name) => c.req.query(name)))
    const rankParams = parseRankParams(errors, (name) => c.req.query(name))
    const kindParam = c.req.query('kind')
    if (kindParam !== undefined && kindParam !== 'popular' && kindParam !== 'trending') {
      errors.add('kind', 'pattern', 'kind must be "popular" or "trending".')
    }
    const userKey = optionalUser(errors, c.req.query('userId'))
    errors.throwIfAny()
    const { model, config } = await acquireModel(c, deps)
    const catalog = await acquireCatalog(c, deps, model)
    c.header('Cache-Control', userKey === null ? MODEL_CACHE_CONTROL : PERSONAL_CACHE_CONTROL)
    const served = { surface: 'popular', userKey, servedAt: deps.now() } as const
    if (!model) {
      const list = await deps.eventPopularity
        .list(c.env.DB, deps.now(), config.popularMinPeople)
        .catch(() => [])
      if (list.length === 0) throw noModel()
      const items = list.filter((i) => catalog.passes(predicate, i.itemId)).slice(0, k)
      const attribution = await attribute(c, deps.online, config, LIVE_ARM, {
        ...served,
        modelVersion: null,
        source: 'popular',
        itemIds: items.map((i) => i.itemId),
      })
      return c.json({ items, source: 'popular' as const, modelVersion: null, ...attribution })
    }
    const kind = kindParam === 'popular' || kindParam === 'trending' ? kindParam : config.fallbackList
    const { shard, source } = model.fallbackList(kind)
    const rank = await acquireRanker(c, deps, model, catalog, rankParams)
    // Events since training blend in (score = trained score + people since trainedUntil), and items
    // the model does not know yet enter by their people count (issue 17): one code path with the
    // fallback list of recommendations.
    const fresh = await deps.freshPopularity.counts(
      c.env.DB,
      model.manifest.trainedUntil,
      deps.now(),
      config.popularMinPeople,
    )
    const skip = catalog.indexFilter(predicate)
    const list = popularCandidates(model, shard, fresh, {
      ...(skip ? { skip } : {}),
      admits: (id) => catalog.known(id) && catalog.passes(predicate, id),
    })
    const items: ScoredItem[] = rank(list, k).map(publicItem)
    const attribution = await attribute(c, deps.online, config, LIVE_ARM, {
      ...served,
      modelVersion: model.version,
      source,
      itemIds: items.map((i) => i.itemId),
    })
    return c.json({ items, source, modelVersion: model.version, ...attribution })
  })
  return app
}

/** A ranked item as answered (no model index). */
function publicItem(r: RankedItem): ScoredItem & { source?: 'content' | 'events' } {
  return r.source
    ? { itemId: r.itemId, score: r.score, source: r.source }
    : { itemId: r.itemId, score: r.score }
}
