/**
 * Served lists and impressions: every recommendations, similar-items and popular answer gets a
 * `recId` and is stored as ONE `rec_lists` row (item ids in rank order), written after the response
 * in a per-isolate batch (`online-writes.ts`). `POST /v1/impressions` marks lists shown; clicks, add-to-carts and
 * purchases are credited to shown lists in `experiments/results.ts`.
 *
 * @module
 */
import { ONLINE_TABLES } from '../db/online-schema.js'
import { TABLES } from '../db/schema.js'

const R = ONLINE_TABLES.recLists
const L = TABLES.identityLinks

/** The separator of `rec_lists.items` (item ids never hold whitespace: core's `ID_PATTERN`). */
export const ITEM_SEPARATOR = '\n'

/** A served list, as stored. */
export interface ServedList {
  recId: string
  surface: 'recommendations' | 'similar' | 'popular'
  userKey: string | null
  experimentId: string | null
  variant: string
  modelVersion: string | null
  source: string
  itemIds: readonly string[]
  servedAt: number
}

/**
 * Marks lists shown (first report wins); returns how many lists were newly marked. A `recId` not
 * stored yet (its list is still in a worker's write batch, `online-writes.ts`) gets a pending row
 * (empty `surface`) that the list's write fills in later keeping `shown_at`, so an impression that
 * races its list still counts. Pending rows no list ever filled are deleted by
 * {@link deleteStaleMarks} (hourly cron). Only for recIds this worker signed (`rec-id.ts`): a
 * made-up one must never reach it.
 */
export async function markShown(db: D1Database, recIds: readonly string[], now: number): Promise<number> {
  return (await markShownChecked(db, recIds, [], now)).shown
}

const MARK_SIGNED_SQL = `INSERT INTO ${R} (rec_id, surface, variant, source, items, served_at, shown_at)
SELECT value, '', '', '', '', ?1, ?1 FROM json_each(?2) WHERE true
ON CONFLICT(rec_id) DO UPDATE SET shown_at = excluded.shown_at WHERE ${R}.shown_at IS NULL`
const MARK_STORED_SQL = `UPDATE ${R} SET shown_at = ?1
WHERE rec_id IN (SELECT value FROM json_each(?2)) AND surface != '' AND shown_at IS NULL`
const STORED_SQL = `SELECT rec_id FROM ${R} WHERE rec_id IN (SELECT value FROM json_each(?1)) AND surface != ''`

/**
 * Marks lists shown in one D1 batch (one transaction): `signed` recIds as {@link markShown} does
 * (a pending row when the list is not stored yet), `unsigned` ones (UUIDs: from before signing, or
 * from a worker without `SECRET_KEY`) only when their list is already stored, since nothing proves
 * the worker issued them.
 *
 * @returns lists newly marked, and the unsigned recIds that have no stored list (nothing written)
 */
export async function markShownChecked(
  db: D1Database,
  signed: readonly string[],
  unsigned: readonly string[],
  now: number,
): Promise<{ shown: number; unknown: string[] }> {
  const statements: D1PreparedStatement[] = []
  if (signed.length > 0) statements.push(db.prepare(MARK_SIGNED_SQL).bind(now, JSON.stringify(signed)))
  if (unsigned.length > 0) {
    const ids = JSON.stringify(unsigned)
    statements.push(db.prepare(MARK_STORED_SQL).bind(now, ids), db.prepare(STORED_SQL).bind(ids))
  }
  if (statements.length === 0) return { shown: 0, unknown: [] }
  const results = await db.batch<{ rec_id: string }>(statements)
  const stored = unsigned.length > 0 ? new Set(results.at(-1)!.results.map((r) => r.rec_id)) : new Set()
  const shown = results
    .slice(0, unsigned.length > 0 ? -1 : undefined)
    .reduce((sum, r) => sum + r.meta.changes, 0)
  return { shown, unknown: unsigned.filter((id) => !stored.has(id)) }
}

/** How long a pending impression (no list yet) is kept before {@link deleteStaleMarks} drops it. */
export const PENDING_MARK_MS = 86_400_000

/**
 * Deletes impressions whose list never arrived (reported more than {@link PENDING_MARK_MS} before
 * `now`: a made-up `recId`, or a list whose write failed).
 *
 * @returns rows deleted
 */
export async function deleteStaleMarks(db: D1Database, now: number): Promise<number> {
  const result = await db
    .prepare(`DELETE FROM ${R} WHERE surface = '' AND shown_at < ?1`)
    .bind(now - PENDING_MARK_MS)
    .run()
  return result.meta.changes
}

/**
 * Deletes the served lists, experiment assignments and shadow overlaps of `userKey` and of every anonymous id linked
 * to it, in one transaction. Runs BEFORE the events and links are deleted (it reads the links).
 */
export async function deleteOnlineData(
  db: D1Database,
  userKey: string,
): Promise<{ impressions: number; assignments: number; shadowOverlaps: number }> {
  const keys = `SELECT ?1 UNION SELECT anonymous_id FROM ${L} WHERE user_id = ?1`
  const [lists, assignments, overlaps] = await db.batch([
    db.prepare(`DELETE FROM ${R} WHERE user_key IN (${keys})`).bind(userKey),
    db
      .prepare(`DELETE FROM ${ONLINE_TABLES.experimentAssignments} WHERE user_key IN (${keys})`)
      .bind(userKey),
    db.prepare(`DELETE FROM ${ONLINE_TABLES.shadowOverlaps} WHERE user_key IN (${keys})`).bind(userKey),
  ])
  return {
    impressions: lists?.meta.changes ?? 0,
    assignments: assignments?.meta.changes ?? 0,
    shadowOverlaps: overlaps?.meta.changes ?? 0,
  }
}
