/**
 * Served lists and impressions: every recommendations, similar-items and popular answer gets a
 * `recId` and is stored as ONE `rec_lists` row (item ids in rank order), written after the response
 * with `ctx.waitUntil`. `POST /v1/impressions` marks lists shown; clicks, add-to-carts and
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

/** A fresh `recId` (UUID v4). */
export function newRecId(): string {
  return crypto.randomUUID()
}

/** Stores one served list. Callers pass it to `waitUntil`: the response never waits for it. */
export async function recordList(db: D1Database, list: ServedList): Promise<void> {
  await db
    .prepare(
      `INSERT OR IGNORE INTO ${R} (rec_id, surface, user_key, experiment_id, variant, model_version, source, items, served_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)`,
    )
    .bind(
      list.recId,
      list.surface,
      list.userKey,
      list.experimentId,
      list.variant,
      list.modelVersion,
      list.source,
      list.itemIds.join(ITEM_SEPARATOR),
      list.servedAt,
    )
    .run()
}

/**
 * Marks lists shown (first report wins); returns how many lists were newly marked.
 *
 * The ids travel as ONE JSON array parameter (`json_each`): D1 binds at most 100 parameters per
 * statement, so one placeholder per id failed a full `POST /v1/impressions` batch (100 ids + `now`).
 */
export async function markShown(db: D1Database, recIds: readonly string[], now: number): Promise<number> {
  if (recIds.length === 0) return 0
  const result = await db
    .prepare(
      `UPDATE ${R} SET shown_at = ?1 WHERE shown_at IS NULL AND rec_id IN (SELECT value FROM json_each(?2))`,
    )
    .bind(now, JSON.stringify(recIds))
    .run()
  return result.meta.changes
}

/**
 * Deletes the served lists and experiment assignments of `userKey` and of every anonymous id linked
 * to it, in one transaction. Runs BEFORE the events and links are deleted (it reads the links).
 */
export async function deleteOnlineData(
  db: D1Database,
  userKey: string,
): Promise<{ impressions: number; assignments: number }> {
  const keys = `SELECT ?1 UNION SELECT anonymous_id FROM ${L} WHERE user_id = ?1`
  const [lists, assignments] = await db.batch([
    db.prepare(`DELETE FROM ${R} WHERE user_key IN (${keys})`).bind(userKey),
    db
      .prepare(`DELETE FROM ${ONLINE_TABLES.experimentAssignments} WHERE user_key IN (${keys})`)
      .bind(userKey),
  ])
  return { impressions: lists?.meta.changes ?? 0, assignments: assignments?.meta.changes ?? 0 }
}
