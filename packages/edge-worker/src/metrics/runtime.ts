/**
 * Runtime figures per request (issue 15): route, status, latency, source (model / fold-in /
 * popular) and experiment variant.
 *
 * - Production: one `writeDataPoint` per request into Workers Analytics Engine (binding `METRICS`,
 *   wrangler.jsonc), which costs the request nothing (no I/O awaited). `GET /v1/admin/metrics` reads
 *   it back through the Analytics Engine SQL API when `METRICS_ACCOUNT_ID` and `METRICS_API_TOKEN`
 *   are set.
 * - Without those (`wrangler dev`, tests, or a deployment that does not want an API token): the
 *   same points are buffered per isolate and written to D1 `request_metrics` in batches after the
 *   responses (`ctx.waitUntil`), and the endpoint reads D1. So the one endpoint answers in both.
 *
 * Data point layout: blobs [route, source, variant], doubles [latency ms, status], index [route].
 *
 * @module
 */
import type { MiddlewareHandler } from 'hono'
import { ONLINE_TABLES } from '../db/online-schema.js'
import type { AppEnv, Env } from '../env.js'
import { waitUntilOf } from '../serving/context.js'

/** One request's figures. */
export interface RequestPoint {
  at: number
  route: string
  status: number
  latencyMs: number
  source: string
  variant: string
}

/** Rows per D1 statement: 6 bound parameters each, within D1's 100 per statement. */
const ROWS_PER_STATEMENT = 16
/** A buffer is written once it holds this many points or its oldest is this old. */
const FLUSH_ROWS = 64
const FLUSH_MS = 5_000
/** Most points buffered; beyond it (D1 down) the oldest are dropped. */
const MAX_BUFFER = 2_000

/** The route of a path, or null for paths that are not measured. */
export function routeOf(path: string): string | null {
  if (path.startsWith('/v1/users/') && path.endsWith('/recommendations')) return 'recommendations'
  if (path.startsWith('/v1/items/') && path.endsWith('/similar')) return 'similar'
  if (path === '/v1/popular') return 'popular'
  if (path === '/v1/events') return 'events'
  if (path === '/v1/impressions') return 'impressions'
  return null
}

/** Whether the endpoint reads Analytics Engine (else D1, where the points are then written too). */
export function readsAnalyticsEngine(env: Env): boolean {
  return Boolean(env.METRICS && env.METRICS_ACCOUNT_ID && env.METRICS_API_TOKEN)
}

/** The per-isolate buffer of points bound for D1. */
export class MetricsBuffer {
  #points: RequestPoint[] = []
  #oldest = 0
  #writing: Promise<void> | undefined

  /** Adds a point; returns a write to hand to `waitUntil` when the buffer is due. */
  add(db: D1Database, point: RequestPoint): Promise<void> | undefined {
    if (this.#points.length === 0) this.#oldest = point.at
    this.#points.push(point)
    if (this.#points.length > MAX_BUFFER) this.#points.splice(0, this.#points.length - MAX_BUFFER)
    const due = this.#points.length >= FLUSH_ROWS || point.at - this.#oldest >= FLUSH_MS
    return due && !this.#writing ? this.flush(db) : undefined
  }

  /** Writes every buffered point (tests and the due check call it). */
  flush(db: D1Database): Promise<void> {
    const points = this.#points.splice(0)
    if (points.length === 0) return this.#writing ?? Promise.resolve()
    const statements: D1PreparedStatement[] = []
    for (let i = 0; i < points.length; i += ROWS_PER_STATEMENT) {
      const chunk = points.slice(i, i + ROWS_PER_STATEMENT)
      const values = chunk.map(
        (_, r) =>
          `(?${r * 6 + 1}, ?${r * 6 + 2}, ?${r * 6 + 3}, ?${r * 6 + 4}, ?${r * 6 + 5}, ?${r * 6 + 6})`,
      )
      statements.push(
        db
          .prepare(
            `INSERT INTO ${ONLINE_TABLES.requestMetrics} (at, route, status, latency_ms, source, variant) VALUES ${values.join(', ')}`,
          )
          .bind(...chunk.flatMap((p) => [p.at, p.route, p.status, p.latencyMs, p.source, p.variant])),
      )
    }
    const write = db
      .batch(statements)
      .then(() => undefined)
      .catch((error) =>
        console.error('edgerec: writing runtime metrics failed; dropped', points.length, error),
      )
      .finally(() => {
        this.#writing = undefined
      })
    this.#writing = write
    return write
  }
}

/**
 * Measures the measured routes (see {@link routeOf}); `now` stamps the point. Never fails a request:
 * a failing sink is logged.
 */
export function runtimeMetrics(buffer: MetricsBuffer, now: () => number): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const route = routeOf(c.req.path)
    if (!route) return next()
    const started = performance.now()
    await next()
    const served = c.get('served')
    const point: RequestPoint = {
      at: now(),
      route,
      status: c.res.status,
      latencyMs: performance.now() - started,
      source: served?.source ?? '',
      variant: served?.variant ?? '',
    }
    try {
      c.env.METRICS?.writeDataPoint({
        blobs: [point.route, point.source, point.variant],
        doubles: [point.latencyMs, point.status],
        indexes: [point.route],
      })
      if (!readsAnalyticsEngine(c.env)) {
        const write = buffer.add(c.env.DB, point)
        if (write) (waitUntilOf(c) ?? ((p) => void p))(write)
      }
    } catch (error) {
      console.error('edgerec: recording runtime metrics failed', error)
    }
  }
}
