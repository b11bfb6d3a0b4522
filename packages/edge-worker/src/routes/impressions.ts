/**
 * `POST /v1/impressions` body `{ "recIds": string[] }` (publishable key): the client reports lists
 * it showed. Marks each served list shown once. Lists are written after their response in batches,
 * so a report may arrive first: it is then kept as a pending mark that the list's write completes
 * (`markShown`); marks no list ever completes are dropped after a day.
 *
 * @module
 */
import { Hono } from 'hono'
import { parseImpressions } from '../attribution/impressions.js'
import { markShown } from '../attribution/rec-lists.js'
import type { AppEnv } from '../env.js'
import { ApiError } from '../errors.js'
import { OPERATIONS } from '../openapi/operations.js'
import { ParamErrors } from '../params.js'

/** Routes under `/v1/impressions`. */
export function impressionRoutes(options: { now: () => number }): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.post('/', OPERATIONS.impressions, async (c) => {
    let body: unknown
    try {
      body = JSON.parse(await c.req.text())
    } catch {
      throw new ApiError('INVALID_REQUEST', 'The body is not JSON. Send { "recIds": ["<recId>", …] }.')
    }
    const errors = new ParamErrors()
    const recIds = parseImpressions(errors, body)
    errors.throwIfAny()
    let shown: number
    try {
      shown = await markShown(c.env.DB, [...new Set(recIds ?? [])], options.now())
    } catch (error) {
      throw new ApiError('STORAGE_UNAVAILABLE', 'D1 failed; the impressions were not stored. Retry.', {
        cause: error,
      })
    }
    c.header('Cache-Control', 'no-store')
    return c.json({ shown })
  })
  return app
}
