/**
 * Popularity straight from D1, for a deployment that has events but no model yet: the items of the
 * last 30 days ranked by how many distinct people (`user_id`, else `anonymous_id`) interacted with
 * them, listing only items seen from at least `POPULAR_MIN_PEOPLE` people (default 3). Counting
 * people, not events, means one client repeating an event, or inventing item ids, cannot move the
 * list (issue 13); the per-address and per-person event quotas bound how many ids one client makes. Cached per isolate for a minute, so it costs one aggregate
 * query per isolate per minute.
 *
 * @module
 */

/** One item of the D1 popularity list. */
export interface EventPopularityItem {
  itemId: string
  score: number
}

/** Window of events counted. */
const WINDOW_MS = 30 * 24 * 60 * 60 * 1000
/** Items kept (requests ask for at most 100 plus their exclusions). */
const LIST_LENGTH = 500
/** How long one isolate reuses the list. */
const TTL_MS = 60_000

/** Per-isolate cache of the D1 popularity list. */
export class EventPopularity {
  #cached: { at: number; items: EventPopularityItem[] } | undefined
  #pending: Promise<EventPopularityItem[]> | undefined

  /**
   * The list, newest within {@link TTL_MS}. Reads the `events` table the data side writes
   * (`src/db/schema.ts`): `item_id`, `timestamp` (epoch ms), indexed on `item_id`.
   */
  async list(db: D1Database, now: number, minPeople = 3): Promise<EventPopularityItem[]> {
    if (this.#cached && now - this.#cached.at < TTL_MS) return this.#cached.items
    this.#pending ??= db
      .prepare(
        'SELECT item_id AS itemId, COUNT(DISTINCT COALESCE(user_id, anonymous_id)) AS score FROM events WHERE timestamp > ?1 GROUP BY item_id HAVING score >= ?3 ORDER BY score DESC, item_id ASC LIMIT ?2',
      )
      .bind(now - WINDOW_MS, LIST_LENGTH, Math.max(1, minPeople))
      .all<EventPopularityItem>()
      .then((result) => {
        const items = result.results.map((r) => ({ itemId: String(r.itemId), score: Number(r.score) }))
        this.#cached = { at: now, items }
        return items
      })
      .finally(() => {
        this.#pending = undefined
      })
    return this.#pending
  }
}
