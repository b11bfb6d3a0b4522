/**
 * `GET /v1/users/:userId/recommendations?k=&exclude=&explain=`.
 *
 * Privacy (docs/privacy.md): `explain=1` reveals the person's own items, so it needs the secret key
 * or a user token for `:userId` (403 `USER_TOKEN_REQUIRED` otherwise); a linked anonymous id reads
 * as its user only for a reader who may see that user; a deleted person's trained vector is hidden
 * until a model created after the deletion is live; with `USER_TOKENS=required` a read without a
 * token for `:userId` is served as an anonymous visitor (anonymous-only events, no trained vector).
 *
 * @module
 */

import type { IndexFilter, Int8Vector, PopularityShard } from '@edgerec/core'
import { Hono } from 'hono'
import { contentScore, dequantizeUser, newItems } from '../catalog/content.js'
import { parseFilterParams, parseRankParams } from '../catalog/params.js'
import { popularCandidates } from '../catalog/popular-list.js'
import type { ExtraItem } from '../catalog/rank.js'
import { compileRequestFilter } from '../catalog/serving.js'
import { readConfig } from '../config.js'
import type { ActivityOptions, ActivityViewer, UserActivity } from '../db/activity.js'
import type { AppEnv } from '../env.js'
import { ApiError } from '../errors.js'
import type { Strategy } from '../experiments/definition.js'
import { attribute, modelForArm, planArm, shadowAfter } from '../experiments/serve.js'
import { mayReadHistoryOf } from '../middleware/user-token.js'
import type { LoadedModel } from '../model/loaded-model.js'
import { OPERATIONS } from '../openapi/operations.js'
import { checkId, ParamErrors, parseExclude, parseFlag, parseK } from '../params.js'
import {
  acquireCatalog,
  acquireModel,
  acquireRanker,
  PERSONAL_CACHE_CONTROL,
  type ServingDeps,
} from '../serving/context.js'
import { type RecommendationsBody, recommend } from '../serving/recommend.js'
import { ServerTiming } from '../serving/timing.js'

/** Routes under `/v1/users`. */
export function recommendationRoutes(deps: ServingDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.get('/:userId/recommendations', OPERATIONS.recommendations, async (c) => {
    const routeStarted = performance.now()
    const errors = new ParamErrors()
    const userId = checkId(errors, 'userId', c.req.param('userId'))
    const k = parseK(errors, c.req.query('k'))
    const exclude = parseExclude(errors, c.req.query('exclude'))
    const explain = parseFlag(errors, 'explain', c.req.query('explain'))
    const predicate = compileRequestFilter(parseFilterParams(errors, (name) => c.req.query(name)))
    const rankParams = parseRankParams(errors, (name) => c.req.query(name))
    errors.throwIfAny()
    const ownHistory = mayReadHistoryOf(c, userId)
    if (explain && !ownHistory) {
      throw new ApiError(
        'USER_TOKEN_REQUIRED',
        'explain=1 reveals the person\'s own history, so it needs a user token for this userId ("x-edgerec-user-token", minted by your backend with signUserToken) or the secret key. Drop explain=1 to get the recommendations alone.',
      )
    }
    const tokenUser = c.get('tokenUser')
    const viewer: ActivityViewer =
      c.get('role') === 'secret'
        ? { kind: 'secret' }
        : tokenUser !== undefined
          ? { kind: 'user', userId: tokenUser }
          : { kind: 'anonymous' }
    const startConfig = readConfig(c.env)
    const timing = startConfig.serverTiming ? new ServerTiming() : undefined
    const timed = <T>(name: string, work: Promise<T>): Promise<T> => (timing ? timing.time(name, work) : work)
    const anonymousOnly = startConfig.userTokens === 'required' && !ownHistory

    // The model and the user's events are independent reads: overlap them. An experiment's
    // assignment lookup (when the isolate does not remember the person) rides in the events' batch.
    const [{ model: live, config, prefetched }, [activity, assigned]] = await Promise.all([
      // While the events are read: the user's bucket and, partitioned, the lists their trained
      // vector probes (issue 16), held for the scoring below.
      timed('model', acquireModel(c, deps)).then(async (acquired) => ({
        ...acquired,
        prefetched:
          acquired.model && !anonymousOnly
            ? await timed('prefetch', acquired.model.prefetchUser(c.env, userId, deps.now(), timing))
            : undefined,
      })),
      planArm(c, deps.online, startConfig, 'recommendations', userId, deps.now()).then(async (plan) => {
        const read = await timed(
          'events',
          readActivity(c.env.DB, deps, userId, {
            limit: startConfig.foldInMaxEvents,
            viewer,
            anonymousOnly,
            ...(plan.lookup ? { alongside: plan.lookup } : {}),
          }),
        )
        if (plan.arm) return [read, plan.arm] as const
        if (read.degraded) return [read, plan.settle(undefined)] as const
        // A loader that does not run `alongside` (a test double): the lookup on its own.
        const row =
          read.alongside !== undefined
            ? read.alongside
            : plan.lookup
              ? await plan.lookup.first<{ variant: string }>().catch(() => undefined)
              : null
        return [read, plan.settle(row)] as const
      }),
    ])
    c.header('Cache-Control', PERSONAL_CACHE_CONTROL)
    if (activity.degraded) c.header('x-edgerec-degraded', 'activity-unavailable')
    const { model, arm } = await modelForArm(deps, c, config, assigned, live)
    const catalog = await timed('catalog', acquireCatalog(c, deps, model))
    const servedAt = deps.now()

    if (!model) {
      const excluded = new Set([...exclude, ...activity.events.map((e) => e.itemId)])
      const list = await deps.eventPopularity
        .list(c.env.DB, deps.now(), readConfig(c.env).popularMinPeople)
        .catch(() => [])
      if (list.length === 0) throw noModel()
      const items = list
        .filter((i) => !excluded.has(i.itemId) && catalog.passes(predicate, i.itemId))
        .slice(0, k)
      const served = { surface: 'recommendations', userKey: userId, modelVersion: null, servedAt } as const
      const body: RecommendationsBody = {
        userId,
        items,
        source: 'popular',
        modelVersion: null,
        ...(await attribute(c, deps.online, config, arm, {
          ...served,
          source: 'popular',
          itemIds: items.map((i) => i.itemId),
        })),
      }
      return c.json(body)
    }
    const score = async (scorer: LoadedModel, strategy: Strategy) => {
      const view = scorer === model ? catalog : await acquireCatalog(c, deps, scorer)
      // A deleted person's trained row stays in every model created before the deletion.
      const deletedFromModel =
        activity.deletedAt !== null && activity.deletedAt >= Date.parse(scorer.manifest.createdAt)
      const skip = view.indexFilter(predicate)
      const rank = await timed('rules', acquireRanker(c, deps, scorer, view, rankParams))
      const seen = new Set([...exclude, ...activity.events.map((e) => e.itemId)])
      const fresh = newItems(scorer, deps.catalog, (id) => view.passes(predicate, id), seen)
      // New items are candidates of the same ranking as the model's items (before rules).
      const content =
        fresh.length === 0
          ? undefined
          : (vector: Int8Vector): ExtraItem[] => {
              const x = dequantizeUser(vector)
              return fresh.map((item) => ({
                itemId: item.itemId,
                score: contentScore(x, item),
                source: 'content',
                vector: item.vector,
              }))
            }
      // Unknown users get the popular endpoint's list: events since training blended in.
      const fallback = async (shard: PopularityShard, skip: IndexFilter) =>
        popularCandidates(
          scorer,
          shard,
          await deps.freshPopularity.counts(
            c.env.DB,
            scorer.manifest.trainedUntil,
            deps.now(),
            config.popularMinPeople,
          ),
          {
            skip,
            admits: (id) => !seen.has(id) && view.known(id) && view.passes(predicate, id),
          },
        )
      return recommend(scorer, c.env, {
        userId,
        ignoreTrained: anonymousOnly || deletedFromModel,
        k,
        exclude,
        explain,
        activity: activity.events,
        fallbackList: config.fallbackList,
        now: deps.now(),
        ...(skip ? { skip } : {}),
        rank,
        fallback,
        ...(content ? { content } : {}),
        foldIn: strategy !== 'model-no-fold-in',
        ...(strategy === 'popular' || strategy === 'trending' ? { list: strategy } : {}),
        ...(timing && scorer === model ? { timing } : {}),
        ...(prefetched && scorer === live ? { prefetched } : {}),
      })
    }
    const { body, stats } = await score(model, arm.strategy)
    if (stats.foldInEvents > 0) c.header('x-edgerec-fold-in-events', String(stats.foldInEvents))
    if (timing) {
      timing.add('route', performance.now() - routeStarted)
      c.header('Server-Timing', timing.header())
    }
    const itemIds = body.items.map((i) => i.itemId)
    const attribution = await attribute(c, deps.online, config, arm, {
      surface: 'recommendations',
      userKey: userId,
      modelVersion: body.modelVersion,
      source: body.source,
      itemIds,
      servedAt,
    })
    Object.assign(body, attribution)
    // Shadow mode: the candidate scores the same request after the response; only the overlap is kept.
    shadowAfter(c, deps, config, live, {
      surface: 'recommendations',
      recId: attribution.recId,
      userKey: userId,
      servedAt,
      itemIds,
      score: async (candidate, strategy) =>
        (await score(candidate, strategy)).body.items.map((i) => i.itemId),
    })
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
  options: ActivityOptions,
): Promise<UserActivity & { degraded: boolean }> {
  try {
    return { ...(await deps.loadActivity(db, userId, options)), degraded: false }
  } catch (error) {
    console.error('edgerec: reading user activity failed', error)
    return { events: [], deletedAt: null, degraded: true }
  }
}

/** The 503 answered only when there is truly nothing to serve. */
export function noModel(): ApiError {
  return new ApiError(
    'NO_MODEL',
    'No model version is live and no events are stored yet, so there is nothing to recommend. Send events, then train and publish a model (see docs/edge-worker.md).',
  )
}
