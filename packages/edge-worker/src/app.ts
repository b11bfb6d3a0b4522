/**
 * The edge worker's Hono app: CORS, API keys, rate limits, body limits, JSON errors, and every route of HTTP
 * API v1 (docs/architecture.md).
 *
 * @module
 */
import { isEdgerecError } from '@edgerec/core'
import { Hono, type MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { cors } from 'hono/cors'
import { HTTPException } from 'hono/http-exception'
import { OnlineWrites } from './attribution/online-writes.js'
import { FreshPopularity } from './catalog/fresh-popularity.js'
import { CatalogOverlay } from './catalog/overlay.js'
import { RulesStore } from './catalog/rules.js'
import { readConfig } from './config.js'
import { loadUserActivity } from './db/activity.js'
import type { AppEnv } from './env.js'
import { ApiError } from './errors.js'
import { AssignmentCache } from './experiments/assignment.js'
import type { OnlineState } from './experiments/serve.js'
import { ExperimentCache } from './experiments/store.js'
import { VersionCache } from './experiments/versions.js'
import { MetricsBuffer, runtimeMetrics } from './metrics/runtime.js'
import { apiKeyAuth } from './middleware/auth.js'
import { rateLimit } from './middleware/rate-limit.js'
import { USER_TOKEN_HEADER, userToken } from './middleware/user-token.js'
import { EventPopularity } from './model/event-popularity.js'
import { ModelStore } from './model/model-store.js'
import { openApiRoutes } from './openapi/document.js'
import { adminCanaryRoutes } from './routes/admin-canary.js'
import { adminExperimentRoutes } from './routes/admin-experiments.js'
import { adminMetricsRoutes } from './routes/admin-metrics.js'
import { adminModelRoutes } from './routes/admin-models.js'
import { adminRulesRoutes } from './routes/admin-rules.js'
import { adminModelShadowRoutes, adminShadowRoutes } from './routes/admin-shadows.js'
import { adminUserRoutes } from './routes/admin-users.js'
import { itemRoutes, popularRoutes } from './routes/catalog.js'
import { eventsRoutes } from './routes/events.js'
import { identifyRoutes } from './routes/identify.js'
import { impressionRoutes } from './routes/impressions.js'
import { catalogWriteRoutes } from './routes/items.js'
import { recommendationRoutes } from './routes/recommendations.js'
import { healthRoutes, modelRoutes } from './routes/status.js'
import type { ActivityLoader, ServingDeps } from './serving/context.js'

/** Largest `POST /v1/events` body: 1 MiB (architecture.md). */
export const MAX_EVENTS_BODY_BYTES = 1024 * 1024
/** Largest body of any other route (admin posts carry none). */
export const MAX_OTHER_BODY_BYTES = 16 * 1024

/** Options of {@link createApp}; the defaults are what production uses. */
export interface AppOptions {
  /** The isolate's model store (tests pass one to inspect it). */
  store?: ModelStore
  /** Reads a user's events; default: the data side's `loadUserActivity`. */
  loadActivity?: ActivityLoader
  /** Clock in epoch ms. */
  now?: () => number
  /** The `fetch` of the Analytics Engine SQL API reads (tests pass a fake one). */
  fetch?: typeof fetch
  /** The isolate's buffer of runtime figures bound for D1 (tests pass one to flush it). */
  metrics?: MetricsBuffer
  /** The isolate's experiment caches and pending online writes (tests pass one to inspect it). */
  online?: OnlineState
}

/** Each route and the methods it answers, for 405 answers with an `Allow` header. */
const ROUTE_METHODS: readonly [path: string, allow: string][] = [
  ['/v1/events', 'POST'],
  ['/v1/identify', 'POST'],
  ['/v1/items', 'PUT'],
  ['/v1/items/:itemId', 'DELETE'],
  ['/v1/users/:userId/recommendations', 'GET, HEAD'],
  ['/v1/items/:itemId/similar', 'GET, HEAD'],
  ['/v1/popular', 'GET, HEAD'],
  ['/v1/health', 'GET, HEAD'],
  ['/v1/model', 'GET, HEAD'],
  ['/v1/admin/models/rollback', 'POST'],
  ['/v1/admin/models/:version/activate', 'POST'],
  ['/v1/admin/users/:userId', 'DELETE'],
  ['/v1/admin/rules', 'GET, HEAD, PUT'],
  ['/v1/impressions', 'POST'],
  ['/v1/admin/metrics', 'GET, HEAD'],
  ['/v1/admin/experiments', 'GET, HEAD, POST'],
  ['/v1/admin/experiments/:id', 'GET, HEAD'],
  ['/v1/admin/experiments/:id/results', 'GET, HEAD'],
  ['/v1/admin/experiments/:id/:action{start|pause|stop|evaluate}', 'POST'],
  ['/v1/admin/models/:version/canary', 'POST'],
  ['/v1/openapi.json', 'GET, HEAD'],
  ['/v1/docs', 'GET, HEAD'],
  ['/v1/admin/models/:version/shadow', 'POST'],
  ['/v1/admin/shadows', 'GET, HEAD, POST'],
  ['/v1/admin/shadows/:id', 'GET, HEAD'],
  ['/v1/admin/shadows/:id/stop', 'POST'],
]

/**
 * Hono's body limit, with a body that cannot be read (the client closed the connection mid-body)
 * answered 400 `INVALID_REQUEST` instead of surfacing as an unhandled worker error.
 */
function limitBody(maxSize: number, hint: string): MiddlewareHandler<AppEnv> {
  const limit = bodyLimit({ maxSize, onError: () => tooLarge(maxSize, hint) })
  return async (c, next) => {
    try {
      await limit(c, next)
    } catch (error) {
      if (error instanceof ApiError || error instanceof HTTPException) throw error
      throw new ApiError(
        'INVALID_REQUEST',
        'The request body could not be read (the connection closed before it ended). Send the request again.',
        { cause: error },
      )
    }
  }
}

function tooLarge(limit: number, hint: string): never {
  throw new ApiError('PAYLOAD_TOO_LARGE', `The request body is larger than ${limit} bytes. ${hint}`)
}

/**
 * Builds the worker's app. One app (and so one model store) lives per isolate.
 *
 * @example
 * ```ts
 * const app = createApp()
 * export default { fetch: app.fetch } satisfies ExportedHandler<Env>
 * ```
 */
export function createApp(options: AppOptions = {}): Hono<AppEnv> {
  const now = options.now ?? Date.now
  const deps: ServingDeps = {
    store: options.store ?? new ModelStore({ now }),
    eventPopularity: new EventPopularity(),
    catalog: new CatalogOverlay(),
    rules: new RulesStore(),
    freshPopularity: new FreshPopularity(),
    loadActivity: options.loadActivity ?? loadUserActivity,
    now,
    online: options.online ?? {
      experiments: new ExperimentCache(),
      versions: new VersionCache(),
      assignments: new AssignmentCache(),
      writes: new OnlineWrites(),
    },
  }
  const app = new Hono<AppEnv>()

  app.onError((error, c) => {
    c.header('Cache-Control', 'no-store')
    if (error instanceof ApiError) {
      // The client gets the stable code; the log keeps the storage error behind a 5xx.
      if (error.status >= 500)
        console.error(`edgerec: ${c.req.method} ${c.req.path} → ${error.code}`, error.cause)
      return c.json(error.toJSON(), error.status)
    }
    if (error instanceof HTTPException && error.status < 500) {
      const status = error.status
      const code =
        status === 413
          ? 'PAYLOAD_TOO_LARGE'
          : status === 401
            ? 'UNAUTHORIZED'
            : status === 404
              ? 'NOT_FOUND'
              : 'INVALID_REQUEST'
      return c.json(new ApiError(code, error.message || 'The request was rejected.').toJSON(), status)
    }
    console.error('edgerec: unhandled error', error)
    const detail = isEdgerecError(error) ? ` (${error.code})` : ''
    return c.json(
      new ApiError(
        'INTERNAL',
        `The worker failed unexpectedly${detail}. Retry; if it persists, check the worker logs.`,
      ).toJSON(),
      500,
    )
  })
  app.notFound((c) => {
    c.header('Cache-Control', 'no-store')
    return c.json(
      new ApiError(
        'NOT_FOUND',
        `No route ${c.req.method} ${c.req.path}. The API is described in docs/architecture.md (HTTP API v1).`,
      ).toJSON(),
      404,
    )
  })

  app.use('*', async (c, next) => {
    // NOTE: admin routes take the secret key, which never belongs in a browser: they answer no CORS
    // preflight and carry no CORS header, so no page on any origin can call them (issue 13).
    if (c.req.path.startsWith('/v1/admin/')) return next()
    const { allowedOrigins } = readConfig(c.env)
    const middleware = cors({
      origin: (origin) =>
        allowedOrigins.includes('*') ? '*' : allowedOrigins.includes(origin) ? origin : null,
      allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
      allowHeaders: ['Authorization', 'Content-Type', 'x-edgerec-key', USER_TOKEN_HEADER],
      exposeHeaders: ['x-edgerec-fold-in-events', 'x-edgerec-degraded'],
      maxAge: 86_400,
    })
    return middleware(c, next)
  })
  app.post('/v1/events', limitBody(MAX_EVENTS_BODY_BYTES, 'Send fewer events per batch (at most 500).'))
  app.use('/v1/identify', limitBody(MAX_OTHER_BODY_BYTES, 'Send only { "userId", "anonymousId" }.'))
  app.use(
    '/v1/admin/*',
    limitBody(MAX_OTHER_BODY_BYTES, 'Admin bodies (rules, experiments) are small JSON objects; send less.'),
  )
  app.post('/v1/impressions', limitBody(MAX_OTHER_BODY_BYTES, 'Send at most 100 recIds per request.'))

  // Health is public: load balancers and uptime checks carry no key.
  app.route('/v1/health', healthRoutes(deps))
  // The API's own description is public too (it holds no key, only how to send one).
  app.route('/v1', openApiRoutes(app))
  const metrics = options.metrics ?? new MetricsBuffer()
  app.use('/v1/*', runtimeMetrics(metrics, now))
  app.use('/v1/*', apiKeyAuth())
  app.use('/v1/*', userToken())
  for (const path of ['/v1/events', '/v1/identify', '/v1/impressions'])
    app.use(path, rateLimit('EVENTS_RATE_LIMITER'))
  for (const path of ['/v1/users/*', '/v1/items/*', '/v1/popular', '/v1/model'])
    app.use(path, rateLimit('READS_RATE_LIMITER'))
  app.route('/v1/events', eventsRoutes({ now }))
  app.route('/v1/identify', identifyRoutes({ now }))
  app.route('/v1/users', recommendationRoutes(deps))
  app.route('/v1/items', catalogWriteRoutes(deps))
  app.route('/v1/items', itemRoutes(deps))
  app.route('/v1/popular', popularRoutes(deps))
  app.route('/v1/model', modelRoutes(deps))
  app.route('/v1/admin/models', adminModelRoutes(deps))
  app.route('/v1/admin/users', adminUserRoutes({ now }))
  app.route('/v1/admin/rules', adminRulesRoutes(deps))
  app.route('/v1/admin/models', adminCanaryRoutes(deps))
  app.route('/v1/admin/models', adminModelShadowRoutes(deps))
  app.route('/v1/admin/shadows', adminShadowRoutes(deps))
  app.route('/v1/impressions', impressionRoutes({ now }))
  app.route('/v1/admin/experiments', adminExperimentRoutes(deps))
  app.route(
    '/v1/admin/metrics',
    adminMetricsRoutes({ now, ...(options.fetch ? { fetch: options.fetch } : {}) }),
  )

  for (const [path, allow] of ROUTE_METHODS) {
    app.all(path, (c) => {
      c.header('Allow', allow)
      throw new ApiError(
        'METHOD_NOT_ALLOWED',
        `${c.req.method} is not allowed on ${c.req.path}; use ${allow}.`,
      )
    })
  }
  return app
}
