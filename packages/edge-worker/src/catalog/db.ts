/**
 * The `items` table (catalog) in D1: upserts, tombstone deletions, and the bounded read of rows
 * changed since a time that feeds each isolate's overlay.
 *
 * @module
 */
import type { AttributeValue, CatalogItem } from '@edgerec/core'
import { TABLES } from '../db/schema.js'

const T = TABLES.items

/** A catalog change as the overlay sees it: the item, or `null` when it was deleted. */
export interface CatalogChange {
  itemId: string
  item: CatalogItem | null
  updatedAt: number
}

const UPSERT_SQL = `INSERT INTO ${T} (item_id, categories, tags, price, available, created_at, attributes, updated_at, deleted)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0)
ON CONFLICT (item_id) DO UPDATE SET categories = excluded.categories, tags = excluded.tags, price = excluded.price,
  available = excluded.available, created_at = excluded.created_at, attributes = excluded.attributes,
  updated_at = excluded.updated_at, deleted = 0`

/**
 * Upserts validated items by `item_id` in one transaction (`db.batch`); a deleted item put again
 * comes back. Returns the ids that were new (no row before).
 */
export async function upsertItems(
  db: D1Database,
  items: readonly CatalogItem[],
  now: number,
): Promise<Set<string>> {
  if (items.length === 0) return new Set()
  const ids = items.map((i) => i.itemId)
  // NOTE: D1 binds at most 100 parameters per statement; batches are ≤ 500 items, so look up in slices.
  const existing = new Set<string>()
  for (let start = 0; start < ids.length; start += 100) {
    const slice = ids.slice(start, start + 100)
    const marks = slice.map((_, i) => `?${i + 1}`).join(', ')
    const { results } = await db
      .prepare(`SELECT item_id AS id FROM ${T} WHERE deleted = 0 AND item_id IN (${marks})`)
      .bind(...slice)
      .all<{ id: string }>()
    for (const r of results) existing.add(r.id)
  }
  await db.batch(
    items.map((item) =>
      db
        .prepare(UPSERT_SQL)
        .bind(
          item.itemId,
          JSON.stringify(item.categories),
          JSON.stringify(item.tags),
          item.price,
          item.available ? 1 : 0,
          item.createdAt,
          JSON.stringify(item.attributes),
          now,
        ),
    ),
  )
  return new Set(ids.filter((id) => !existing.has(id)))
}

/**
 * Marks an item deleted (a tombstone row, written even when the item only exists in a trained
 * version's catalog), so every isolate's overlay drops it. Returns whether a live row existed.
 */
export async function deleteItem(db: D1Database, itemId: string, now: number): Promise<boolean> {
  const [before] = await db.batch([
    db.prepare(`SELECT 1 AS live FROM ${T} WHERE item_id = ?1 AND deleted = 0`).bind(itemId),
    db
      .prepare(
        `INSERT INTO ${T} (item_id, categories, tags, price, available, created_at, attributes, updated_at, deleted)
VALUES (?1, '[]', '[]', NULL, 0, NULL, '{}', ?2, 1)
ON CONFLICT (item_id) DO UPDATE SET deleted = 1, updated_at = excluded.updated_at`,
      )
      .bind(itemId, now),
  ])
  return (before?.results.length ?? 0) > 0
}

interface ItemRow {
  item_id: string
  categories: string
  tags: string
  price: number | null
  available: number
  created_at: number | null
  attributes: string
  updated_at: number
  deleted: number
}

function parseJson<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T
  } catch {
    return fallback
  }
}

/** A stored row as an item (the route validated it before writing). */
export function rowToItem(row: ItemRow): CatalogItem {
  return {
    itemId: row.item_id,
    categories: parseJson<string[]>(row.categories, []),
    tags: parseJson<string[]>(row.tags, []),
    price: row.price === null ? null : Number(row.price),
    available: Number(row.available) === 1,
    createdAt: row.created_at === null ? null : Number(row.created_at),
    attributes: parseJson<Record<string, AttributeValue>>(row.attributes, {}),
  }
}

/**
 * Rows with `updated_at ≥ since`, oldest change first, at most `limit` (one index range scan of
 * `items_updated_idx`). `≥` rather than `>`: a row written in the same millisecond as the last one
 * read is read again instead of being missed.
 */
export async function readChangedItems(
  db: D1Database,
  since: number,
  limit: number,
): Promise<CatalogChange[]> {
  const { results } = await db
    .prepare(`SELECT * FROM ${T} WHERE updated_at >= ?1 ORDER BY updated_at ASC, item_id ASC LIMIT ?2`)
    .bind(since, limit)
    .all<ItemRow>()
  return results.map((row) => ({
    itemId: row.item_id,
    item: Number(row.deleted) === 1 ? null : rowToItem(row),
    updatedAt: Number(row.updated_at),
  }))
}
