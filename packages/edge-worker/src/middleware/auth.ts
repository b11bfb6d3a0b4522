/**
 * API key authentication: the publishable key (events + reads, safe in a browser) and the secret
 * key (everything, including `/v1/admin/*`), both Worker secrets, compared in constant time. During
 * a rotation window `PREVIOUS_SECRET_KEY` / `PREVIOUS_PUBLISHABLE_KEY` are accepted too, each with
 * exactly the rights of its current key (docs/online.md, "Rotating keys and secrets").
 *
 * @module
 */
import type { MiddlewareHandler } from 'hono'
import { type KeyProblem, readKeys } from '../config.js'
import type { AppEnv } from '../env.js'
import { ApiError } from '../errors.js'

const encoder = new TextEncoder()

async function digest(value: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest('SHA-256', encoder.encode(value))
}

/**
 * Constant-time equality of two strings of any lengths: both are hashed to 32 bytes first, so
 * neither the comparison nor its timing depends on where (or whether) the lengths differ.
 */
export async function keysEqual(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([digest(given), digest(expected)])
  return crypto.subtle.timingSafeEqual(a, b)
}

/**
 * The rotation secrets among `variables` that are set but ignored, named at the end of a 401 so the
 * client refused during a botched rotation knows where to look; empty without any. Only their
 * names: anyone can provoke a 401, so why each is ignored (its length, which key it equals) is
 * left to the worker's logs ({@link readKeys}).
 */
export function configNote(
  problems: readonly KeyProblem[],
  variables: readonly KeyProblem['variable'][],
): string {
  const ignored = problems.filter((p) => variables.includes(p.variable)).map((p) => p.variable)
  return ignored.length === 0
    ? ''
    : ` This worker ignores ${ignored.join(' and ')} (a configuration problem; its logs say why).`
}

/** Where a request's key came from. */
function presentedKey(
  authorization: string | undefined,
  headerKey: string | undefined,
  queryKey: string | undefined,
): string | undefined {
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization)
    if (!match) {
      throw new ApiError(
        'UNAUTHORIZED',
        'The Authorization header is not "Bearer <key>". Send "Authorization: Bearer <your key>".',
      )
    }
    return match[1]
  }
  return headerKey ?? queryKey
}

/**
 * Authenticates every request it runs on and sets `c.var.role`. `?key=` is accepted on
 * `POST /v1/events` only, and only for the publishable key (the SDK's page-hide `keepalive`
 * request carries it there; that key is public anyway): query strings end up in URLs and logs, so
 * the secret key in `?key=` is refused (issue 13) and reads must use a header.
 *
 * @throws {@link ApiError} `UNAUTHORIZED` (no or unknown key), `FORBIDDEN` (publishable key on `/v1/admin/*`)
 */
export function apiKeyAuth(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const isBeacon = c.req.method === 'POST' && c.req.path.replace(/\/+$/, '') === '/v1/events'
    const headerKey = presentedKey(c.req.header('authorization'), c.req.header('x-edgerec-key'), undefined)
    const fromQuery = headerKey === undefined && isBeacon ? c.req.query('key') : undefined
    const key = headerKey ?? fromQuery
    if (!key) {
      throw new ApiError(
        'UNAUTHORIZED',
        'No API key was sent. Send "Authorization: Bearer <key>" or "x-edgerec-key: <key>".',
      )
    }
    const { secretKeys, publishableKeys, problems } = readKeys(c.env)
    if (secretKeys.length === 0 && publishableKeys.length === 0) {
      throw new ApiError(
        'UNAUTHORIZED',
        'This worker has no API keys configured. Set them with "wrangler secret put PUBLISHABLE_KEY" and "wrangler secret put SECRET_KEY".',
      )
    }
    // NOTE: every comparison always runs, so the timing does not reveal which key matched.
    const matches = await Promise.all([...secretKeys, ...publishableKeys].map((k) => keysEqual(key, k)))
    const isSecret = matches.slice(0, secretKeys.length).includes(true)
    const isPublishable = matches.slice(secretKeys.length).includes(true)
    if (!isSecret && !isPublishable) {
      throw new ApiError(
        'UNAUTHORIZED',
        `The API key is not valid for this worker. Check the key you configured in the client.${configNote(problems, ['PREVIOUS_SECRET_KEY', 'PREVIOUS_PUBLISHABLE_KEY'])}`,
      )
    }
    if (isSecret && fromQuery !== undefined) {
      throw new ApiError(
        'UNAUTHORIZED',
        'The secret key was sent in the URL (?key=), where it ends up in logs; it is refused there. Send it in "Authorization: Bearer <key>", and rotate it (wrangler secret put SECRET_KEY).',
      )
    }
    const role = isSecret ? 'secret' : 'publishable'
    if (role !== 'secret' && c.req.path.startsWith('/v1/admin/')) {
      throw new ApiError(
        'FORBIDDEN',
        'Admin routes need the secret key; the publishable key may only send events and read.',
      )
    }
    c.set('role', role)
    await next()
  }
}
