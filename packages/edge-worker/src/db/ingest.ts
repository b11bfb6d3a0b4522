/**
 * Writing validated events into D1: idempotent by event id, in as few statements as D1's
 * 100-bound-parameter limit allows, all sent in one `db.batch` round trip.
 *
 * @module
 */
import type { ValidEvent } from '@edgerec/core'
import type { BatchItem } from 'drizzle-orm/batch'
import { type DrizzleD1Database, drizzle } from 'drizzle-orm/d1'
import { events, identityLinks, type NewEventRecord } from './schema.js'

/** D1's limit on bound parameters per statement. */
export const D1_MAX_BOUND_PARAMETERS = 100
/** Columns of one `events` row, so rows per insert statement = ⌊100 / 9⌋ = 11. */
const EVENT_COLUMNS = 9
/** Columns of one `identity_links` row: 33 links per statement. */
const LINK_COLUMNS = 3

/** Rows per `INSERT` statement for a table of `columns` columns under D1's parameter limit. */
export function rowsPerStatement(columns: number): number {
  return Math.max(1, Math.floor(D1_MAX_BOUND_PARAMETERS / columns))
}

/** Outcome of {@link insertEvents}. */
export interface InsertOutcome {
  /** Ids newly stored. */
  inserted: Set<string>
  /** Statements sent (in one batch). */
  statements: number
  /** Anonymous ids newly linked to a user. */
  linked: number
}

function chunk<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size))
  return out
}

/** The D1 row of a validated event. */
export function toRecord(event: ValidEvent, receivedAt: number): NewEventRecord {
  return {
    id: event.id,
    userId: event.userId ?? null,
    anonymousId: event.anonymousId ?? null,
    itemId: event.itemId,
    type: event.type,
    value: event.value ?? null,
    timestamp: event.timestamp,
    receivedAt,
    context: event.context === undefined ? null : JSON.stringify(event.context),
  }
}

/**
 * Inserts events whose ids are distinct (the caller removes in-batch repeats) with
 * `INSERT … ON CONFLICT DO NOTHING RETURNING id`: the returned ids are exactly the new rows, so an
 * id already in D1 (a retried batch) is a duplicate and nothing is written twice. Events carrying
 * both `userId` and `anonymousId` also record the link `anonymousId → userId` in `identity_links`;
 * the first user an anonymous id is linked to keeps it (later links for it are ignored).
 *
 * `receivedAt` is the worker's receive time of every event, or a function giving each event's (the
 * queue consumer stores events received by different requests in one batch).
 *
 * All statements go in one `db.batch`, which D1 runs as one transaction: either every statement
 * applies or none does, so a failed write loses nothing silently (the caller answers 503 and the
 * client retries the whole batch, idempotently).
 */
export async function insertEvents(
  database: D1Database,
  list: readonly ValidEvent[],
  receivedAt: number | ((event: ValidEvent) => number),
): Promise<InsertOutcome> {
  const inserted = new Set<string>()
  if (list.length === 0) return { inserted, statements: 0, linked: 0 }
  const db = drizzle(database)
  const statements: BatchItem<'sqlite'>[] = []
  for (const rows of chunk(
    list.map((e) => toRecord(e, typeof receivedAt === 'number' ? receivedAt : receivedAt(e))),
    rowsPerStatement(EVENT_COLUMNS),
  )) {
    statements.push(
      db.insert(events).values(rows).onConflictDoNothing({ target: events.id }).returning({ id: events.id }),
    )
  }
  const eventStatements = statements.length

  const links = new Map<string, string>()
  for (const e of list) {
    if (e.userId !== undefined && e.anonymousId !== undefined && !links.has(e.anonymousId))
      links.set(e.anonymousId, e.userId)
  }
  const linkedAt = typeof receivedAt === 'number' ? receivedAt : receivedAt(list[0]!)
  statements.push(...linkStatements(db, links, linkedAt))

  const [first, ...rest] = statements
  const results = (await db.batch([first!, ...rest])) as unknown as { id: string }[][]
  let linked = 0
  results.forEach((rows, i) => {
    if (i < eventStatements) for (const row of rows) inserted.add(row.id)
    else linked += rows.length
  })
  return { inserted, statements: statements.length, linked }
}

/**
 * The statements that record `anonymousId → userId` links: the first user an anonymous id is
 * linked to keeps it (`ON CONFLICT DO NOTHING`); each returns the anonymous ids newly linked.
 */
function linkStatements(
  db: DrizzleD1Database,
  links: ReadonlyMap<string, string>,
  linkedAt: number,
): BatchItem<'sqlite'>[] {
  const rows = [...links].map(([anonymousId, userId]) => ({ anonymousId, userId, linkedAt }))
  return chunk(rows, rowsPerStatement(LINK_COLUMNS)).map((part) =>
    db
      .insert(identityLinks)
      .values(part)
      .onConflictDoNothing({ target: identityLinks.anonymousId })
      .returning({ id: identityLinks.anonymousId }),
  )
}

/**
 * Records identity links without an event (`POST /v1/identify`), with the same first-link-wins
 * rule as {@link insertEvents}.
 *
 * @param links - anonymous id → user id
 * @returns how many anonymous ids were newly linked (0 when each already had a user)
 */
export async function insertLinks(
  database: D1Database,
  links: ReadonlyMap<string, string>,
  linkedAt: number,
): Promise<number> {
  const db = drizzle(database)
  const [first, ...rest] = linkStatements(db, links, linkedAt)
  if (!first) return 0
  const results = (await db.batch([first, ...rest])) as unknown as unknown[][]
  return results.reduce((sum, rows) => sum + rows.length, 0)
}
