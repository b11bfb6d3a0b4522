/**
 * `POST /v1/identify`: links an anonymous id to a user id at once, so the first recommendations
 * after sign-in already use what the visitor did anonymously (without it the link waits for the next
 * event that carries both ids).
 *
 * @module
 */
import { validateIdentity } from '@edgerec/core'
import { Hono } from 'hono'
import { readConfig } from '../config.js'
import { insertLinks } from '../db/ingest.js'
import type { AppEnv } from '../env.js'
import { ApiError } from '../errors.js'
import { OPERATIONS } from '../openapi/operations.js'
import { readBodyText } from '../params.js'

/** The JSON body of a `POST /v1/identify` answer. */
export interface IdentifyBody {
  userId: string
  anonymousId: string
  /** True when this call created the link; false when the anonymous id was already linked (to any user). */
  linked: boolean
}

/** Options of {@link identifyRoutes}. */
export interface IdentifyRouteOptions {
  /** Clock in epoch ms (`linked_at`). */
  now: () => number
}

/**
 * Routes under `/v1/identify`.
 *
 * - Body: `{ "userId", "anonymousId" }`, validated with the event id rules (any content type is
 *   read as JSON). 400 `INVALID_REQUEST` for malformed JSON or a wrong shape, with the field
 *   errors in `details`.
 * - The link follows the ingestion rule: the first user an anonymous id is linked to keeps it, so
 *   a repeated or conflicting call changes nothing (`linked: false`).
 * - 503 `STORAGE_UNAVAILABLE` if D1 fails; retrying is safe.
 */
export function identifyRoutes(options: IdentifyRouteOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.post('/', OPERATIONS.identify, async (c) => {
    const text = await readBodyText(c)
    let input: unknown
    try {
      input = JSON.parse(text)
    } catch (error) {
      throw new ApiError(
        'INVALID_REQUEST',
        `The body is not valid JSON (${(error as Error).message}). Send { "userId": "…", "anonymousId": "…" }.`,
      )
    }
    const result = validateIdentity(input)
    if (!result.ok) {
      throw new ApiError(
        'INVALID_REQUEST',
        `The body is not an identity link: ${result.errors.map((e) => e.message).join(' ')}`,
        { details: result.errors },
      )
    }
    const { userId, anonymousId } = result.link
    // USER_TOKENS=required: linking an anonymous id to a user needs that user's token (docs/privacy.md).
    if (
      readConfig(c.env).userTokens === 'required' &&
      c.get('role') !== 'secret' &&
      c.get('tokenUser') !== userId
    ) {
      throw new ApiError(
        'USER_TOKEN_REQUIRED',
        'This worker requires a user token to link an anonymous id to a user (USER_TOKENS=required); send "x-edgerec-user-token" for this userId.',
      )
    }
    let linked: number
    try {
      linked = await insertLinks(c.env.DB, new Map([[anonymousId, userId]]), options.now())
    } catch (error) {
      throw new ApiError(
        'STORAGE_UNAVAILABLE',
        'The link could not be stored (D1 failed). Retry the same request: it is idempotent.',
        { cause: error },
      )
    }
    c.header('Cache-Control', 'no-store')
    return c.json({ userId, anonymousId, linked: linked > 0 } satisfies IdentifyBody)
  })
  return app
}
