import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'

/** The edge worker's drizzle migrations (`packages/edge-worker/drizzle/*.sql`), in order. */
export function workerMigrations(): string[] {
  const require = createRequire(import.meta.url)
  const folder = join(dirname(require.resolve('@edgerec/edge-worker/package.json')), 'drizzle')
  return readdirSync(folder)
    .filter((name) => name.endsWith('.sql'))
    .sort()
    .flatMap((name) => readFileSync(join(folder, name), 'utf8').split('--> statement-breakpoint'))
    .map((statement) => statement.trim())
    .filter((statement) => statement !== '')
}

/**
 * Creates the edge worker's D1 database in a SQLite file by applying the worker's own drizzle
 * migrations (generated from `@edgerec/edge-worker/schema`), then fills `events`: `count` valid
 * events plus bad rows at known rowids.
 */
export function createEventsDb(path: string, count: number): { db: DatabaseSync; badRowids: number[] } {
  const db = new DatabaseSync(path)
  for (const statement of workerMigrations()) db.exec(statement)
  const insert = db.prepare(
    'INSERT INTO events (id, user_id, anonymous_id, item_id, type, value, timestamp, received_at, context) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  )
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
