import { DatabaseSync } from 'node:sqlite'

/**
 * Creates the edge worker's `events` table (columns of `@edgerec/edge-worker/schema`) in a SQLite
 * file and fills it: `count` valid events plus bad rows at known rowids.
 */
export function createEventsDb(path: string, count: number): { db: DatabaseSync; badRowids: number[] } {
  const db = new DatabaseSync(path)
  db.exec(`CREATE TABLE events (
    id text PRIMARY KEY NOT NULL, user_id text, anonymous_id text, item_id text NOT NULL, type text NOT NULL,
    value real, timestamp integer NOT NULL, received_at integer NOT NULL, context text)`)
  const insert = db.prepare('INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
  const base = Date.UTC(2026, 0, 1)
  const badRowids: number[] = []
  let rowid = 0
  for (let i = 0; i < count; i++) {
    const anonymous = i % 10 === 3
    insert.run(
      `e${i}`,
      anonymous ? null : `u${i % 13}`,
      anonymous ? `anon-${i % 7}` : null,
      `i${i % 29}`,
      i % 5 === 0 ? 'purchase' : 'view',
      i % 5 === 0 ? 2 : null,
      base + i * 60_000,
      base + i * 60_000 + 5,
      i % 4 === 0 ? JSON.stringify({ page: 'home' }) : null,
    )
    rowid++
    if (i === 100 || i === 2000) {
      // A row the worker would never write: bad type and a context that is not JSON.
      insert.run(`bad${i}`, 'u1', null, 'i1', 'Not A Type', null, base, base, null)
      badRowids.push(++rowid)
      insert.run(`badctx${i}`, 'u1', null, 'i1', 'view', null, base, base, '{oops')
      badRowids.push(++rowid)
    }
  }
  return { db, badRowids }
}
