/**
 * `DELETE /v1/admin/users/:userId` (secret key): deletes the user's events from D1, with those of
 * every anonymous id linked to them, and the links. See docs/privacy.md for what it covers.
 *
 * @module
 */
import { Hono } from 'hono'
import { deleteOnlineData } from '../attribution/rec-lists.js'
import { deleteUserData } from '../db/activity.js'
import type { AppEnv } from '../env.js'
import { ApiError } from '../errors.js'
import { OPERATIONS } from '../openapi/operations.js'
import { checkId, ParamErrors } from '../params.js'

/** The JSON body of the answer. */
export interface DeleteUserBody {
  userId: string
  deleted: {
    events: number
    identityLinks: number
    anonymousIds: string[]
    /** Served lists (impressions) and experiment assignments of the user and their anonymous ids. */
    impressions: number
    assignments: number
    /** Shadow comparisons of their lists (`shadow_overlaps`). */
    shadowOverlaps: number
  }
}

/** Routes under `/v1/admin/users` (the app's auth middleware already requires the secret key). */
export function adminUserRoutes(options: { now: () => number }): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.delete('/:userId', OPERATIONS.deleteUser, async (c) => {
    const errors = new ParamErrors()
    const userId = checkId(errors, 'userId', c.req.param('userId'))
    errors.throwIfAny()
    // Defence in depth: the middleware already answers 403 for the publishable key.
    if (c.get('role') !== 'secret')
      throw new ApiError('FORBIDDEN', 'Deleting user data needs the secret key.')
    let outcome: Awaited<ReturnType<typeof deleteUserData>>
    let online: Awaited<ReturnType<typeof deleteOnlineData>>
    try {
      // Online data first: it finds the linked anonymous ids through the links deleted next.
      online = await deleteOnlineData(c.env.DB, userId)
      outcome = await deleteUserData(c.env.DB, userId, options.now())
    } catch (error) {
      throw new ApiError(
        'STORAGE_UNAVAILABLE',
        'D1 failed; the deletion may be partial. Retry the request (it is idempotent).',
        { cause: error },
      )
    }
    c.header('Cache-Control', 'no-store')
    const body: DeleteUserBody = {
      userId,
      deleted: {
        events: outcome.events,
        identityLinks: outcome.links,
        anonymousIds: outcome.anonymousIds,
        ...online,
      },
    }
    return c.json(body)
  })
  return app
}
