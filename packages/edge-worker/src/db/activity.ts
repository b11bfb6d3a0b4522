/**
 * Reading a user's newest events from D1, identity-merged: what recommendations exclude and what
 * fold-in solves from.
 *
 * @module
 */
import type { ActivityEvent } from '../realtime/fold-in.js'
import { TABLES } from './schema.js'

const E = TABLES.events
const L = TABLES.identityLinks

/**
 * One statement: resolve the key to its user (an anonymous id linked to a user resolves to that
 * user), collect the anonymous ids linked to that user, then take the newest `limit` events under
 * the user id and under any of those anonymous ids. Each branch is bounded by `limit` before the
 * union, so a user with thousands of events costs one index range scan of `limit` rows per branch
 * (`events_user_ts_idx`, `events_anon_ts_idx`). `UNION` (not `UNION ALL`) drops an event that
 * matches both branches (it carries the user id and a linked anonymous id).
 */
const ACTIVITY_SQL = `
WITH me(uid) AS (SELECT COALESCE((SELECT user_id FROM ${L} WHERE anonymous_id = ?1), ?1)),
anon(aid) AS (SELECT ?1 UNION SELECT anonymous_id FROM ${L} WHERE user_id = (SELECT uid FROM me))
SELECT item_id AS itemId, type, value, timestamp FROM (
  SELECT * FROM (SELECT id, item_id, type, value, timestamp FROM ${E}
    WHERE user_id = (SELECT uid FROM me) AND timestamp > ?3 ORDER BY timestamp DESC LIMIT ?2)
  UNION
  SELECT * FROM (SELECT id, item_id, type, value, timestamp FROM ${E}
    WHERE anonymous_id IN (SELECT aid FROM anon) AND timestamp > ?3 ORDER BY timestamp DESC LIMIT ?2)
)
ORDER BY timestamp DESC, id DESC
LIMIT ?2`

/** Options of {@link loadUserActivity}. */
export interface ActivityOptions {
  /** Most events returned (the newest). */
  limit: number
  /** Only events strictly after this time (epoch ms). */
  since?: number
}

/**
 * The newest events of `userKey` (a user id or an anonymous id), newest first, in one D1 query.
 *
 * Identity merge: for a user id, its own events plus those of every anonymous id linked to it
 * (`identity_links`, written when an event carries both ids); for an anonymous id that is linked,
 * the same set as for its user; for an unlinked anonymous id, its own events.
 *
 * @example
 * ```ts
 * const recent = await loadUserActivity(env.DB, 'user-42', { limit: 200 })
 * ```
 */
export async function loadUserActivity(
  db: D1Database,
  userKey: string,
  options: ActivityOptions,
): Promise<ActivityEvent[]> {
  const limit = Math.max(1, Math.floor(options.limit))
  const since = options.since ?? -1
  const { results } = await db.prepare(ACTIVITY_SQL).bind(userKey, limit, since).all<ActivityEvent>()
  return results.map((r) => ({
    itemId: r.itemId,
    type: r.type,
    value: r.value ?? null,
    timestamp: Number(r.timestamp),
  }))
}

/** What {@link deleteUserData} removed. */
export interface DeletionOutcome {
  /** Event rows deleted. */
  events: number
  /** Identity links deleted. */
  links: number
  /** Anonymous ids whose events were deleted with the user's. */
  anonymousIds: string[]
}

/**
 * Deletes everything D1 holds about `userKey` in one transaction (`db.batch`): events whose
 * `user_id` or `anonymous_id` is `userKey`, events of every anonymous id linked to it, and those
 * links (deleted last, so the subquery still sees them). Trained model artifacts are not touched
 * (docs/privacy.md).
 */
export async function deleteUserData(db: D1Database, userKey: string): Promise<DeletionOutcome> {
  const [deletedEvents, deletedLinks] = await db.batch([
    db
      .prepare(
        `DELETE FROM ${E} WHERE user_id = ?1 OR anonymous_id = ?1 OR anonymous_id IN (SELECT anonymous_id FROM ${L} WHERE user_id = ?1)`,
      )
      .bind(userKey),
    db
      .prepare(`DELETE FROM ${L} WHERE user_id = ?1 OR anonymous_id = ?1 RETURNING anonymous_id AS a`)
      .bind(userKey),
  ])
  const anonymousIds = ((deletedLinks?.results ?? []) as { a: string }[])
    .map((r) => r.a)
    .filter((a) => a !== userKey)
  return { events: deletedEvents?.meta.changes ?? 0, links: deletedLinks?.results.length ?? 0, anonymousIds }
}
