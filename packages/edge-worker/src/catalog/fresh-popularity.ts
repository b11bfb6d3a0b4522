/**
 * Events received since training, blended into the popular and trending lists (issue 17): a hit
 * product shows up the same day instead of at the next retrain. One D1 query per isolate per
 * minute (`events_ts_item_idx` covers it), counting the distinct people (user or anonymous id) with
 * events newer than the live version's `trainedUntil` per item — on the scale of the trained list
 * (one interaction per person and item) — and only items seen from at least `POPULAR_MIN_PEOPLE`
 * people, so one client repeating events cannot lift an item (issue 13); at most
 * {@link FRESH_LIST_LENGTH} items.
 *
 * @module
 */
import { TABLES } from '../db/schema.js'

/** Items kept per isolate. */
export const FRESH_LIST_LENGTH = 500
/** How long one isolate reuses the counts. */
const TTL_MS = 60_000

/** Per-isolate cache of counts since training. */
export class FreshPopularity {
  #cached: { at: number; since: number; counts: Map<string, number> } | undefined
  #pending: Promise<Map<string, number>> | undefined

  /**
   * People per item since `since` (epoch ms), items with at least `minPeople`; empty when D1 fails
   * (the trained list serves).
   */
  async counts(db: D1Database, since: number, now: number, minPeople = 3): Promise<Map<string, number>> {
    const cached = this.#cached
    if (cached && cached.since === since && now - cached.at < TTL_MS) return cached.counts
    this.#pending ??= db
      .prepare(
        `SELECT item_id AS itemId, COUNT(DISTINCT COALESCE(user_id, anonymous_id)) AS n FROM ${TABLES.events} WHERE timestamp > ?1 GROUP BY item_id HAVING n >= ?3 ORDER BY n DESC, item_id ASC LIMIT ?2`,
      )
      .bind(since, FRESH_LIST_LENGTH, Math.max(1, minPeople))
      .all<{ itemId: string; n: number }>()
      .then((result) => {
        const counts = new Map(result.results.map((r) => [String(r.itemId), Number(r.n)]))
        this.#cached = { at: now, since, counts }
        return counts
      })
      .catch((error: unknown) => {
        console.error('edgerec: reading events since training failed', error)
        return new Map<string, number>()
      })
      .finally(() => {
        this.#pending = undefined
      })
    return this.#pending
  }
}
