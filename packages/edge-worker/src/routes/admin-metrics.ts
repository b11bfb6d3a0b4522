/**
 * `GET /v1/admin/metrics?since=&until=` (secret key): runtime figures per route, and the overlap of
 * the shadows that ran in the window (docs/online.md).
 *
 * @module
 */
import { Hono } from 'hono'
import type { AppEnv } from '../env.js'
import { ApiError } from '../errors.js'
import { listShadows, reportShadow } from '../experiments/shadow.js'
import { readMetrics } from '../metrics/report.js'
import { OPERATIONS } from '../openapi/operations.js'
import { ParamErrors } from '../params.js'

const HOUR_MS = 3_600_000

function time(errors: ParamErrors, field: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback
  const n = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw)
  if (!Number.isFinite(n)) {
    errors.add(field, 'type', `${field} must be epoch milliseconds or an ISO-8601 time.`)
    return fallback
  }
  return n
}

/** Routes under `/v1/admin/metrics`. */
export function adminMetricsRoutes(options: { now: () => number; fetch?: typeof fetch }): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.get('/', OPERATIONS.metrics, async (c) => {
    const errors = new ParamErrors()
    const until = time(errors, 'until', c.req.query('until'), options.now() + 1)
    const since = time(errors, 'since', c.req.query('since'), until - HOUR_MS)
    if (since >= until) errors.add('since', 'range', 'since must be before until.')
    errors.throwIfAny()
    c.header('Cache-Control', 'no-store')
    try {
      const [report, shadows] = await Promise.all([
        readMetrics(c.env, since, until, options.fetch),
        // Shadows that ran in the window, with the overlap of the lists they compared in it.
        listShadows(c.env.DB).then((all) =>
          Promise.all(
            all
              .filter((s) => s.createdAt < until && (s.stoppedAt === null || s.stoppedAt >= since))
              .map((s) => reportShadow(c.env.DB, s, since, until)),
          ),
        ),
      ])
      return c.json({ ...report, shadows: shadows.map(({ days: _days, ...rest }) => rest) })
    } catch (error) {
      throw new ApiError('STORAGE_UNAVAILABLE', 'The metrics store could not be read. Retry in a moment.', {
        cause: error,
      })
    }
  })
  return app
}
