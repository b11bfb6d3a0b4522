/**
 * The D1 schema of the edge worker, defined once with drizzle-orm's `sqlite-core` and exported as
 * `@edgerec/edge-worker/schema` for the trainer and the SQLite/D1 event sources (schema only: this
 * module imports nothing from the Worker runtime).
 *
 * - `events`: one row per ingested event, primary key the client event id (so a retried batch
 *   inserts nothing twice). Column order is the one the event sources' fixtures use.
 * - `identity_links`: anonymous id → known user id, written when an event carries both; reads of a
 *   user's activity and `DELETE /v1/admin/users/:userId` follow these links.
 * - `deleted_users`: the deletion list. Every id `DELETE /v1/admin/users/:userId` erased (the id and
 *   the anonymous ids linked to it) with the time of erasure, so serving can hide what a published
 *   model still holds about them until a model trained after the deletion is live (docs/privacy.md).
 * - `items`: the catalog (issue 17), upserted by `PUT /v1/items`, read by the trainer and the
 *   worker's catalog overlay.
 *
 * Migrations in `packages/edge-worker/drizzle/` are generated from this file with `npm run db:generate`.
 *
 * @module
 */
import { index, integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core'

/** Ingested events (written by `POST /v1/events`). */
export const events = sqliteTable(
  'events',
  {
    /** Client-supplied event id (idempotency key). */
    id: text('id').primaryKey(),
    /** Known user id, or null for an anonymous-only event. */
    userId: text('user_id'),
    /** Anonymous (device/session) id, or null. */
    anonymousId: text('anonymous_id'),
    /** Item the event is about. */
    itemId: text('item_id').notNull(),
    /** Event type (`view`, `click`, `add_to_cart`, `purchase`, `rating`, or a custom type). */
    type: text('type').notNull(),
    /** Optional numeric value (rating, quantity, dwell seconds...). */
    value: real('value'),
    /** When the event happened, epoch milliseconds (client clock, validated at ingestion). */
    timestamp: integer('timestamp').notNull(),
    /** When the worker stored the event, epoch milliseconds (worker clock). */
    receivedAt: integer('received_at').notNull(),
    /** Optional JSON object of context (page, device...), as text. */
    context: text('context'),
  },
  (t) => [
    index('events_user_ts_idx').on(t.userId, t.timestamp),
    index('events_anon_ts_idx').on(t.anonymousId, t.timestamp),
    // Covers the recent-popularity count (`WHERE timestamp > ? GROUP BY item_id`).
    index('events_ts_item_idx').on(t.timestamp, t.itemId),
  ],
)

/** Anonymous id → known user id links (anonymous → known merge). One known user per anonymous id. */
export const identityLinks = sqliteTable(
  'identity_links',
  {
    /** The anonymous id. */
    anonymousId: text('anonymous_id').primaryKey(),
    /** The known user id it belongs to. */
    userId: text('user_id').notNull(),
    /** When the link was first seen, epoch ms (worker clock). */
    linkedAt: integer('linked_at').notNull(),
  },
  (t) => [index('identity_links_user_idx').on(t.userId)],
)

/** The deletion list: ids erased by `DELETE /v1/admin/users/:userId`, and when. */
export const deletedUsers = sqliteTable('deleted_users', {
  /** A user id or anonymous id that was erased. */
  userKey: text('user_key').primaryKey(),
  /** When it was (last) erased, epoch ms (worker clock). */
  deletedAt: integer('deleted_at').notNull(),
})
/**
 * The item catalog (`PUT /v1/items`, `DELETE /v1/items/:itemId`; issue 17). A deletion keeps the
 * row as a tombstone (`deleted = 1`) so isolates and the next training see it go; labels and custom
 * attributes are JSON text. `updated_at` (worker clock) drives the per-isolate overlay of rows
 * changed since a version's export.
 */
export const items = sqliteTable(
  'items',
  {
    /** The item id (same space as `events.item_id`). */
    itemId: text('item_id').primaryKey(),
    /** JSON array of category labels. */
    categories: text('categories').notNull(),
    /** JSON array of tags. */
    tags: text('tags').notNull(),
    /** Price, or null. */
    price: real('price'),
    /** 1 available, 0 not. */
    available: integer('available').notNull(),
    /** When the item entered the shop, epoch ms, or null. */
    createdAt: integer('created_at'),
    /** JSON object of custom scalar attributes. */
    attributes: text('attributes').notNull(),
    /** Last write, epoch ms (worker clock). */
    updatedAt: integer('updated_at').notNull(),
    /** 1 once deleted (a tombstone). */
    deleted: integer('deleted').notNull().default(0),
  },
  (t) => [index('items_updated_idx').on(t.updatedAt)],
)

/** A row of {@link events} as read. */
export type EventRecord = typeof events.$inferSelect
/** A row of {@link events} as inserted. */
export type NewEventRecord = typeof events.$inferInsert
/** A row of {@link identityLinks}. */
export type IdentityLink = typeof identityLinks.$inferSelect
/** A row of {@link deletedUsers}. */
export type DeletedUser = typeof deletedUsers.$inferSelect

/** A row of {@link items}. */
export type ItemRecord = typeof items.$inferSelect

/** Table names, for code that reads the tables without drizzle. */
export const TABLES = {
  events: 'events',
  identityLinks: 'identity_links',
  deletedUsers: 'deleted_users',
  items: 'items',
} as const
