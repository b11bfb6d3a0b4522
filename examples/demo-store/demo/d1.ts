/**
 * The edge worker's local D1, as `wrangler dev --persist-to <state>` serves it: created with the
 * package's drizzle migrations and filled through the D1 binding.
 *
 * @module
 */
import { existsSync, readdirSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { GeneratedEvent } from '@edgerec/trainer'
import { bin, run } from './exec.js'
import { D1_DATABASE, type DemoLayout, d1SqlitePath, workerConfig, workerDir } from './layout.js'

/**
 * Creates the worker's local D1 database with the package's drizzle migrations
 * (`wrangler d1 migrations apply edgerec --local --persist-to <state>`); safe to repeat (applied
 * migrations are skipped).
 */
export async function applyMigrations(layout: DemoLayout): Promise<void> {
  await mkdir(layout.persistTo, { recursive: true })
  await run(
    bin('wrangler'),
    [
      'd1',
      'migrations',
      'apply',
      D1_DATABASE,
      '--local',
      '--persist-to',
      layout.persistTo,
      '-c',
      workerConfig,
    ],
    { cwd: workerDir, env: { CI: '1', WRANGLER_SEND_METRICS: 'false' } },
  )
}

/**
 * The worker's migrations (`packages/edge-worker/drizzle/*.sql`) that the local D1 of `layout` has
 * not applied (wrangler records applied ones in `d1_migrations`). A state prepared before a
 * migration was added (e.g. `0003_online.sql`, the served lists) lacks its tables: the worker then
 * fails the routes that use them. Reads the SQLite file read-only; call it while no worker runs.
 *
 * @param migrationsDir the migration folder (default: the worker's)
 */
export async function pendingMigrations(
  layout: DemoLayout,
  migrationsDir: string = join(workerDir, 'drizzle'),
): Promise<string[]> {
  const all = existsSync(migrationsDir)
    ? readdirSync(migrationsDir)
        .filter((f) => f.endsWith('.sql'))
        .sort()
    : []
  const { DatabaseSync } = await import('node:sqlite')
  const db = new DatabaseSync(d1SqlitePath(layout), { readOnly: true })
  try {
    const table = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'd1_migrations'")
      .get()
    if (!table) return all
    const applied = new Set(
      (db.prepare('SELECT name FROM d1_migrations').all() as { name: string }[]).map((r) => r.name),
    )
    return all.filter((name) => !applied.has(name))
  } finally {
    db.close()
  }
}

/** Rows per INSERT (about 50 KB of SQL; D1 allows 100 KB per statement). */
const ROWS_PER_STATEMENT = 500
/** Statements per `DB.batch` call (one transaction). */
const STATEMENTS_PER_BATCH = 20

/** The part of the D1 binding the loader uses. */
interface D1Statement {
  first<T>(): Promise<T | null>
}
interface D1Like {
  prepare(sql: string): D1Statement
  batch(statements: D1Statement[]): Promise<unknown[]>
}

/** A SQL string literal. */
const text = (value: string) => `'${value.replaceAll("'", "''")}'`

/** Opens the local D1 (and friends) that `wrangler dev --persist-to <persistTo>` serves. */
async function openLocalBindings(layout: DemoLayout): Promise<{ db: D1Like; dispose(): Promise<void> }> {
  const { getPlatformProxy } = await import('wrangler')
  const proxy = await getPlatformProxy<Record<string, unknown>>({
    configPath: workerConfig,
    persist: { path: join(layout.persistTo, 'v3') },
    remoteBindings: false,
    envFiles: [],
  })
  const db = proxy.env.DB as D1Like | undefined
  if (!db) {
    await proxy.dispose()
    throw new Error(`${workerConfig} has no D1 binding named DB.`)
  }
  return { db, dispose: () => proxy.dispose() }
}

/**
 * Loads events into the local D1 `events` table through the D1 binding (the same database file
 * `wrangler dev` serves), in multi-row INSERTs (a few per `DB.batch`). Idempotent by event id
 * (`INSERT OR IGNORE`), like the worker's ingestion.
 *
 * @returns the number of rows in `events` afterwards
 */
export async function loadEvents(
  layout: DemoLayout,
  events: Iterable<GeneratedEvent>,
  onProgress?: (loaded: number) => void,
): Promise<number> {
  const { db, dispose } = await openLocalBindings(layout)
  try {
    const receivedAt = Date.now()
    // NOTE: values are inlined as literals: bound parameters cap a statement at 100 values, and
    // thousands of small statements through the local D1 are ~50× slower than a few large ones.
    const insert = (values: string[]) =>
      `INSERT OR IGNORE INTO events (id, user_id, anonymous_id, item_id, type, value, timestamp, received_at, context) VALUES ${values.join(', ')}`
    let statements: D1Statement[] = []
    let values: string[] = []
    let loaded = 0
    const flushStatements = async () => {
      if (values.length > 0) statements.push(db.prepare(insert(values)))
      values = []
      if (statements.length === 0) return
      await db.batch(statements)
      statements = []
      onProgress?.(loaded)
    }
    for (const e of events) {
      if (!Number.isSafeInteger(e.timestamp)) throw new Error(`Event ${e.id} has no integer timestamp.`)
      values.push(
        `(${text(e.id)}, ${text(e.userId)}, NULL, ${text(e.itemId)}, ${text(e.type)}, NULL, ${e.timestamp}, ${receivedAt}, NULL)`,
      )
      loaded++
      if (values.length === ROWS_PER_STATEMENT) {
        statements.push(db.prepare(insert(values)))
        values = []
        if (statements.length >= STATEMENTS_PER_BATCH) await flushStatements()
      }
    }
    await flushStatements()
    const count = await db.prepare('SELECT COUNT(*) AS n FROM events').first<{ n: number }>()
    return count?.n ?? 0
  } finally {
    await dispose()
  }
}
