/**
 * User tokens (`x-edgerec-user-token`): the proof that a publishable-key request comes from the
 * signed-in person it is about (docs/privacy.md). The site's backend mints a short-lived token with
 * `signUserToken` from `@edgerec/core` and the worker secret `USER_TOKEN_SECRET`; the SDK sends it.
 * During a rotation window tokens signed with `PREVIOUS_USER_TOKEN_SECRET` are accepted too (docs/online.md,
 * "Rotating keys and secrets").
 *
 * @module
 */
import { verifyUserToken } from '@edgerec/core'
import type { Context, MiddlewareHandler } from 'hono'
import { readKeys } from '../config.js'
import type { AppEnv } from '../env.js'
import { ApiError } from '../errors.js'
import { configNote } from './auth.js'

/** The header that carries a user token. */
export const USER_TOKEN_HEADER = 'x-edgerec-user-token'

/**
 * Verifies `x-edgerec-user-token` when sent and sets `c.var.tokenUser` to its `sub`. Runs after the
 * key check. A token that is sent but invalid (bad signature, expired, malformed, or a worker
 * without `USER_TOKEN_SECRET`) is refused with 401 `USER_TOKEN_INVALID` instead of being ignored, so
 * a client learns at once that it must fetch a fresh token.
 */
export function userToken(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set('tokenUser', undefined)
    const token = c.req.header(USER_TOKEN_HEADER)
    if (token !== undefined) {
      const { userTokenSecrets, problems } = readKeys(c.env)
      const [secret, previous] = userTokenSecrets
      if (secret === undefined) {
        throw new ApiError(
          'USER_TOKEN_INVALID',
          'A user token was sent but this worker has no USER_TOKEN_SECRET (at least 32 bytes). Set it with "wrangler secret put USER_TOKEN_SECRET", or stop sending tokens.',
        )
      }
      let result = await verifyUserToken(token.trim(), secret)
      // A rotation window: a token whose signature fails under the current secret may be signed
      // with the previous one; then that one's verdict (valid, or e.g. expired) stands.
      if (!result.ok && result.reason === 'signature' && previous !== undefined)
        result = await verifyUserToken(token.trim(), previous)
      if (!result.ok) {
        const note = result.reason === 'signature' ? configNote(problems, ['PREVIOUS_USER_TOKEN_SECRET']) : ''
        throw new ApiError(
          'USER_TOKEN_INVALID',
          `${result.message} Mint a fresh token on your backend with signUserToken (docs/privacy.md).${note}`,
          { details: { reason: result.reason } },
        )
      }
      c.set('tokenUser', result.claims.sub)
    }
    await next()
  }
}

/** Whether the request may see `userId`'s own history: the secret key, or a user token for them. */
export function mayReadHistoryOf(c: Context<AppEnv>, userId: string): boolean {
  return c.get('role') === 'secret' || c.get('tokenUser') === userId
}
