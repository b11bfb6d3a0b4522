/**
 * Popularity straight from D1, for a deployment that has events but no model yet: the most
 * frequent items of the last 30 days. Cached per isolate for a minute, so it costs one aggregate
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
  async list(db: D1Database, now: number): Promise<EventPopularityItem[]> {
    if (this.#cached && now - this.#cached.at < TTL_MS) return this.#cached.items
    this.#pending ??= db
      .prepare(
        'SELECT item_id AS itemId, COUNT(*) AS score FROM events WHERE timestamp > ?1 GROUP BY item_id ORDER BY score DESC, item_id ASC LIMIT ?2',
      )
      .bind(now - WINDOW_MS, LIST_LENGTH)
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
