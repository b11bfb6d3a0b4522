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
const D = TABLES.deletedUsers

/**
 * One statement: resolve the key to its user (an anonymous id linked to a user resolves to that
 * user, but only for a reader allowed to see that user: `?4` is `*` for the secret key, else the
 * user id a valid user token proves, else empty), collect the anonymous ids linked to that user,
 * then take the newest `limit` events under the user id and under any of those anonymous ids. Each
 * branch is bounded by `limit` before the union, so a user with thousands of events costs one index
 * range scan of `limit` rows per branch (`events_user_ts_idx`, `events_anon_ts_idx`). `UNION` (not
 * `UNION ALL`) drops an event that matches both branches (it carries the user id and a linked
 * anonymous id). `?5 = 1` reads anonymous-only events of the key itself (no user branch, no links).
 *
 * The deletion list is read in the same statement (a last row with `deletedAt` set and no item), so
 * checking it costs no extra round trip.
 */
const ACTIVITY_SQL = `
WITH me(uid) AS (SELECT CASE WHEN ?5 = 1 THEN ?1 ELSE COALESCE((SELECT user_id FROM ${L}
    WHERE anonymous_id = ?1 AND (?4 = '*' OR user_id = ?4)), ?1) END),
anon(aid) AS (SELECT ?1 UNION SELECT anonymous_id FROM ${L}
    WHERE ?5 = 0 AND user_id = (SELECT uid FROM me))
SELECT * FROM (
  SELECT item_id AS itemId, type, value, timestamp, received_at AS receivedAt, NULL AS deletedAt FROM (
    SELECT * FROM (SELECT id, item_id, type, value, timestamp, received_at FROM ${E}
      WHERE ?5 = 0 AND user_id = (SELECT uid FROM me) AND timestamp > ?3 ORDER BY timestamp DESC LIMIT ?2)
    UNION
    SELECT * FROM (SELECT id, item_id, type, value, timestamp, received_at FROM ${E}
      WHERE anonymous_id IN (SELECT aid FROM anon) AND (?5 = 0 OR user_id IS NULL) AND timestamp > ?3
      ORDER BY timestamp DESC LIMIT ?2)
  )
  ORDER BY timestamp DESC, id DESC
  LIMIT ?2
)
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, MAX(deleted_at) FROM ${D} WHERE user_key IN (?1, (SELECT uid FROM me))
  HAVING COUNT(*) > 0`

/** Who reads a person's activity, which decides whether a linked anonymous id resolves to its user. */
export type ActivityViewer =
  /** The secret key: every link is followed. */
  | { kind: 'secret' }
  /** The publishable key with a valid user token for `userId`: links to that user are followed. */
  | { kind: 'user'; userId: string }
  /** The publishable key without a token: a linked anonymous id reads only as itself. */
  | { kind: 'anonymous' }

/** Options of {@link loadUserActivity}. */
export interface ActivityOptions {
  /** Most events returned (the newest). */
  limit: number
  /** Only events strictly after this time (epoch ms). */
  since?: number
  /** Who asks (default: the secret key, every link followed). */
  viewer?: ActivityViewer
  /**
   * Read only events of the key without a user id, and follow no link (`USER_TOKENS=required`
   * without a token for the key: the reader is treated as an anonymous visitor).
   */
  anonymousOnly?: boolean
  /**
   * Another read of the same request, sent in the same D1 batch (one round trip instead of two;
   * the experiment assignment lookup uses it). Its first row comes back as {@link UserActivity.alongside}.
   */
  alongside?: D1PreparedStatement
}

/** A user's newest events and whether the id is on the deletion list. */
export interface UserActivity {
  /** Newest first. */
  events: ActivityEvent[]
  /** When the key (or the user it resolved to) was erased, epoch ms; null when never. */
  deletedAt: number | null
  /** The first row of `options.alongside` (null when it had none); absent without it. */
  alongside?: Record<string, unknown> | null
}

/**
 * The newest events of `userKey` (a user id or an anonymous id), newest first, and its entry in
 * the deletion list, in one D1 query.
 *
 * Identity merge: for a user id, its own events plus those of every anonymous id linked to it
 * (`identity_links`, written when an event carries both ids); for an anonymous id that is linked,
 * the same set as for its user when the viewer may see that user (secret key, or a user token for
 * that user), else its own events only; for an unlinked anonymous id, its own events.
 *
 * @example
 * ```ts
 * const { events, deletedAt } = await loadUserActivity(env.DB, 'user-42', { limit: 200 })
 * ```
 */
export async function loadUserActivity(
  db: D1Database,
  userKey: string,
  options: ActivityOptions,
): Promise<UserActivity> {
  const limit = Math.max(1, Math.floor(options.limit))
  const since = options.since ?? -1
  const viewer = options.viewer ?? { kind: 'secret' }
  const reader = viewer.kind === 'secret' ? '*' : viewer.kind === 'user' ? viewer.userId : ''
  const statement = db
    .prepare(ACTIVITY_SQL)
    .bind(userKey, limit, since, reader, options.anonymousOnly ? 1 : 0)
  let alongside: Record<string, unknown> | null | undefined
  let results: (ActivityEvent & { deletedAt: number | null })[]
  if (options.alongside) {
    const [activity, other] = await db.batch<Record<string, unknown>>([statement, options.alongside])
    results = (activity?.results ?? []) as unknown as typeof results
    alongside = other?.results[0] ?? null
  } else {
    results = (await statement.all<ActivityEvent & { deletedAt: number | null }>()).results
  }
  const events: ActivityEvent[] = []
  let deletedAt: number | null = null
  for (const r of results) {
    if (r.deletedAt !== null) {
      deletedAt = Number(r.deletedAt)
      continue
    }
    events.push({
      itemId: r.itemId,
      type: r.type,
      value: r.value ?? null,
      timestamp: Number(r.timestamp),
      receivedAt: Number(r.receivedAt),
    })
  }
  return alongside === undefined ? { events, deletedAt } : { events, deletedAt, alongside }
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
 * Deletes everything D1 holds about `userKey` in one transaction (`db.batch`), by who an event
 * belongs to: an event with a user id belongs to that user; an event without one belongs to its
 * anonymous id, and through `identity_links` to the user that id was first linked to.
 *
 * - events whose `user_id` is `userKey`;
 * - events without a user id whose anonymous id is `userKey` or is linked to `userKey`;
 * - the links of `userKey` (as user or as anonymous id), deleted last so the subqueries see them.
 *
 * An event that carries another user's id is that user's and stays, even when its anonymous id was
 * first linked to `userKey` (docs/privacy.md). `userKey` and its linked anonymous ids go on the
 * deletion list with `deletedAt`, which serving checks until a model trained after the deletion is
 * live. Trained model artifacts are not touched.
 */
export async function deleteUserData(
  db: D1Database,
  userKey: string,
  deletedAt: number,
): Promise<DeletionOutcome> {
  const [, deletedEvents, deletedLinks] = await db.batch([
    db
      .prepare(
        `INSERT INTO ${D} (user_key, deleted_at) SELECT * FROM (SELECT ?1 AS k, ?2 AS d UNION SELECT anonymous_id, ?2 FROM ${L} WHERE user_id = ?1) WHERE true ON CONFLICT(user_key) DO UPDATE SET deleted_at = excluded.deleted_at`,
      )
      .bind(userKey, deletedAt),
    db
      .prepare(
        `DELETE FROM ${E} WHERE user_id = ?1 OR (user_id IS NULL AND (anonymous_id = ?1 OR anonymous_id IN (SELECT anonymous_id FROM ${L} WHERE user_id = ?1)))`,
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
