/**
 * Model-only reads: `GET /v1/items/:itemId/similar` and `GET /v1/popular`.
 *
 * @module
 */
import { similarItems } from '@edgerec/core'
import { Hono } from 'hono'
import type { AppEnv } from '../env.js'
import { ApiError } from '../errors.js'
import { checkId, ParamErrors, parseK } from '../params.js'
import { acquireModel, MODEL_CACHE_CONTROL, type ServingDeps } from '../serving/context.js'
import { noModel } from './recommendations.js'

/** One scored item. */
export interface ScoredItem {
  itemId: string
  score: number
}

/** Routes under `/v1/items`. */
export function itemRoutes(deps: ServingDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.get('/:itemId/similar', async (c) => {
    const errors = new ParamErrors()
    const itemId = checkId(errors, 'itemId', c.req.param('itemId'))
    const k = parseK(errors, c.req.query('k'))
    errors.throwIfAny()
    const { model } = await acquireModel(c, deps)
    if (!model) {
      throw new ApiError(
        'NO_MODEL',
        'No model version is live yet, so item similarity is unknown. Train and publish a model first.',
      )
    }
    const index = model.itemIndexOf(itemId)
    const top = index < 0 ? undefined : similarItems(model.blocks, index, k, undefined, model.kernel)
    if (!top) {
      throw new ApiError(
        'ITEM_NOT_FOUND',
        `Item "${itemId}" is not in model version ${model.version}. Items enter the model at the next training run after their first events.`,
      )
    }
    const items: ScoredItem[] = Array.from(top.indices, (i, r) => ({
      itemId: model.itemId(i),
      score: top.scores[r]!,
    }))
    c.header('Cache-Control', MODEL_CACHE_CONTROL)
    return c.json({ itemId, items, source: 'model' as const, modelVersion: model.version })
  })
  return app
}

/** `GET /v1/popular?k=&kind=popular|trending`. */
export function popularRoutes(deps: ServingDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.get('/', async (c) => {
    const errors = new ParamErrors()
    const k = parseK(errors, c.req.query('k'))
    const kindParam = c.req.query('kind')
    if (kindParam !== undefined && kindParam !== 'popular' && kindParam !== 'trending') {
      errors.add('kind', 'pattern', 'kind must be "popular" or "trending".')
    }
    errors.throwIfAny()
    const { model, config } = await acquireModel(c, deps)
    c.header('Cache-Control', MODEL_CACHE_CONTROL)
    if (!model) {
      const list = await deps.eventPopularity.list(c.env.DB, deps.now()).catch(() => [])
      if (list.length === 0) throw noModel()
      return c.json({ items: list.slice(0, k), source: 'popular' as const, modelVersion: null })
    }
    const kind = kindParam === 'popular' || kindParam === 'trending' ? kindParam : config.fallbackList
    const { shard, source } = model.fallbackList(kind)
    const items: ScoredItem[] = []
    for (let i = 0; i < Math.min(k, shard.rowCount); i++)
      items.push({ itemId: model.itemId(shard.itemIndexes[i]!), score: shard.scores[i]! })
    return c.json({ items, source, modelVersion: model.version })
  })
  return app
}
