/**
 * `GET /v1/users/:userId/recommendations?k=&exclude=&explain=`.
 *
 * @module
 */
import { Hono } from 'hono'
import { readConfig } from '../config.js'
import type { AppEnv } from '../env.js'
import { ApiError } from '../errors.js'
import { checkId, ParamErrors, parseExclude, parseFlag, parseK } from '../params.js'
import type { ActivityEvent } from '../realtime/fold-in.js'
import { acquireModel, PERSONAL_CACHE_CONTROL, type ServingDeps } from '../serving/context.js'
import { type RecommendationsBody, recommend } from '../serving/recommend.js'

/** Routes under `/v1/users`. */
export function recommendationRoutes(deps: ServingDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.get('/:userId/recommendations', async (c) => {
    const errors = new ParamErrors()
    const userId = checkId(errors, 'userId', c.req.param('userId'))
    const k = parseK(errors, c.req.query('k'))
    const exclude = parseExclude(errors, c.req.query('exclude'))
    const explain = parseFlag(errors, 'explain', c.req.query('explain'))
    errors.throwIfAny()

    // The model and the user's events are independent reads: overlap them.
    const [{ model, config }, activity] = await Promise.all([
      acquireModel(c, deps),
      readActivity(c.env.DB, deps, userId, readConfig(c.env).foldInMaxEvents),
    ])
    c.header('Cache-Control', PERSONAL_CACHE_CONTROL)
    if (activity.degraded) c.header('x-edgerec-degraded', 'activity-unavailable')

    if (!model) {
      const excluded = new Set([...exclude, ...activity.events.map((e) => e.itemId)])
      const list = await deps.eventPopularity.list(c.env.DB, deps.now()).catch(() => [])
      if (list.length === 0) throw noModel()
      const items = list.filter((i) => !excluded.has(i.itemId)).slice(0, k)
      const body: RecommendationsBody = { userId, items, source: 'popular', modelVersion: null }
      return c.json(body)
    }
    const { body, stats } = await recommend(model, c.env, {
      userId,
      k,
      exclude,
      explain,
      activity: activity.events,
      fallbackList: config.fallbackList,
      now: deps.now(),
    })
    if (stats.foldInEvents > 0) c.header('x-edgerec-fold-in-events', String(stats.foldInEvents))
    return c.json(body)
  })
  return app
}

/**
 * The user's newest events. D1 being down must not turn recommendations into 500s: the answer is
 * then computed without fresh events and says so in `x-edgerec-degraded`.
 */
async function readActivity(
  db: D1Database,
  deps: ServingDeps,
  userId: string,
  limit: number,
): Promise<{ events: ActivityEvent[]; degraded: boolean }> {
  try {
    return { events: await deps.loadActivity(db, userId, { limit }), degraded: false }
  } catch (error) {
    console.error('edgerec: reading user activity failed', error)
    return { events: [], degraded: true }
  }
}

/** The 503 answered only when there is truly nothing to serve. */
export function noModel(): ApiError {
  return new ApiError(
    'NO_MODEL',
    'No model version is live and no events are stored yet, so there is nothing to recommend. Send events, then train and publish a model (see docs/edge-worker.md).',
  )
}
