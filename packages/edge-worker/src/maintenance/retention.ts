/**
 * D1 retention: deletes events older than `EVENT_RETENTION_DAYS` (by event time) from the hourly
 * cron trigger, in bounded chunks so one run never holds D1 for long. With the queued tier's R2
 * archive on, the deleted events stay in the archive, which is what the trainer reads.
 *
 * @module
 */
import { TABLES } from '../db/schema.js'

/** Rows deleted per statement: keeps each write short (D1 runs one query at a time). */
export const RETENTION_CHUNK = 5_000
/** Statements per run: bounds one cron invocation (D1 allows 1,000 queries per invocation). */
export const RETENTION_MAX_CHUNKS = 200

/** What {@link deleteExpiredEvents} removed. */
export interface RetentionOutcome {
  /** Events deleted. */
  deleted: number
  /** True when the run stopped at {@link RETENTION_MAX_CHUNKS} with more left (the next run goes on). */
  more: boolean
}

/**
 * Deletes events whose `timestamp` is before `cutoff` (epoch ms), oldest first, chunk by chunk
 * through the `events_ts_item_idx` index. Identity links stay: they hold no event data and
 * deleting a user removes them (`DELETE /v1/admin/users/:userId`).
 */
export async function deleteExpiredEvents(db: D1Database, cutoff: number): Promise<RetentionOutcome> {
  const statement = db.prepare(
    `DELETE FROM ${TABLES.events} WHERE rowid IN (SELECT rowid FROM ${TABLES.events} WHERE timestamp < ?1 ORDER BY timestamp LIMIT ?2)`,
  )
  let deleted = 0
  for (let i = 0; i < RETENTION_MAX_CHUNKS; i++) {
    const result = await statement.bind(cutoff, RETENTION_CHUNK).run()
    const changes = result.meta.changes ?? 0
    deleted += changes
    if (changes < RETENTION_CHUNK) return { deleted, more: false }
  }
  return { deleted, more: true }
}
