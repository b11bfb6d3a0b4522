/**
 * Events from the edge worker's D1 `events` table: a local SQLite file (the embedded default: the
 * worker's D1 under `wrangler dev` persistence) read through drizzle-orm's `sqlite-proxy` driver on
 * Node's built-in `node:sqlite` (no native addon), and Cloudflare D1 through its HTTP query API.
 * Both page through the table by `rowid`, so memory holds one page.
 *
 * @module
 */
import { validateEvent } from '@edgerec/core'
import { EventSourceError } from './errors.js'
import {
  BadRowTracker,
  batchedStream,
  type EventSource,
  type EventStream,
  type ReadOptions,
  type SourceEvent,
} from './source.js'

/** A row of the worker's `events` table (columns as in `@edgerec/edge-worker/schema`). */
export interface EventRow {
  rowid: number
  id: string
  user_id: string | null
  anonymous_id: string | null
  item_id: string
  type: string
  value: number | null
  /** Epoch ms (client clock). */
  timestamp: number
  /** Epoch ms the worker stored the row (worker clock). */
  received_at: number
  context: string | null
}

/**
 * The columns of the worker's `events` table the SQL sources select, in order (checked against
 * `@edgerec/edge-worker/schema` by the tests).
 */
export const EVENT_ROW_COLUMNS = [
  'id',
  'user_id',
  'anonymous_id',
  'item_id',
  'type',
  'value',
  'timestamp',
  'context',
  'received_at',
] as const

/** The edge worker's table linking anonymous ids to the user who identified with them. */
export const IDENTITY_LINKS_TABLE = 'identity_links'

/**
 * The select list over `events AS e`. With identity links, an event recorded under an anonymous id
 * before `identify()` is read as the linked user's (the same merge the worker applies when serving), so
 * the trainer learns one vector per person instead of one for the user and one for each of their
 * anonymous ids.
 */
function selectColumns(hasLinks: boolean): string {
  return EVENT_ROW_COLUMNS.map((column) =>
    column === 'user_id' && hasLinks
      ? `COALESCE(e.user_id, (SELECT l.user_id FROM ${IDENTITY_LINKS_TABLE} AS l WHERE l.anonymous_id = e.anonymous_id)) AS user_id`
      : `e.${column}`,
  ).join(', ')
}

/** The edge worker's deletion list (`DELETE /v1/admin/users/:userId` writes it). */
export const DELETED_USERS_TABLE = 'deleted_users'

/**
 * A `WHERE` clause part over `events AS e` that drops events of a person on the deletion list that
 * were received before their deletion: a restored backup or a copy taken before the erasure must
 * not bring them back into a model. An event belongs to its user id, else its anonymous id
 * (docs/privacy.md); events received after the deletion are new data and stay.
 */
function notDeleted(hasDeletionList: boolean): string {
  return hasDeletionList
    ? ` AND NOT EXISTS (SELECT 1 FROM ${DELETED_USERS_TABLE} AS d WHERE d.user_key = COALESCE(e.user_id, e.anonymous_id) AND d.deleted_at >= e.received_at)`
    : ''
}

/** Default rows per page. */
export const DEFAULT_PAGE_ROWS = 5000

/** Options shared by the SQL sources. */
export interface SqlSourceOptions {
  /** Table name. Default `events`. */
  table?: string
  /** Rows per query. Default 5000. */
  pageRows?: number
  /** Only events at or after this time (epoch ms). */
  since?: number
}

function checkTable(table: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) {
    throw new EventSourceError(
      'INPUT_INVALID',
      `Table name ${JSON.stringify(table)} must be a plain SQL identifier.`,
    )
  }
  return table
}

/**
 * Validates a table row as an edgerec event (core's `validateEvent`, with no future-skew check:
 * the worker already checked that at ingestion).
 *
 * @internal
 */
export function rowToSourceEvent(row: EventRow): SourceEvent | string {
  let context: unknown
  if (row.context !== null && row.context !== '') {
    try {
      context = JSON.parse(row.context)
    } catch {
      return 'context is not JSON'
    }
  }
  const candidate: Record<string, unknown> = {
    id: row.id,
    itemId: row.item_id,
    type: row.type,
    timestamp: typeof row.timestamp === 'bigint' ? Number(row.timestamp) : row.timestamp,
  }
  if (row.user_id !== null) candidate.userId = row.user_id
  if (row.anonymous_id !== null) candidate.anonymousId = row.anonymous_id
  if (row.value !== null) candidate.value = row.value
  if (context !== undefined) candidate.context = context
  const result = validateEvent(candidate, { maxFutureSkewMs: Number.POSITIVE_INFINITY })
  if (!result.ok) return result.errors.map((e) => `${e.field}: ${e.message}`).join(' ')
  const e = result.event
  const receivedAt = typeof row.received_at === 'bigint' ? Number(row.received_at) : row.received_at
  return {
    userId: (e.userId ?? e.anonymousId)!,
    itemId: e.itemId,
    type: e.type,
    value: e.value,
    timestamp: e.timestamp,
    ...(Number.isFinite(receivedAt) ? { receivedAt } : {}),
  }
}

/** Pages through rows with `fetchPage(afterRowid, limit)` and turns them into an event stream. */
function pagedStream(
  description: string,
  readOptions: ReadOptions,
  pageRows: number,
  fetchPage: (afterRowid: number, limit: number) => Promise<EventRow[]>,
): EventStream {
  const tracker = new BadRowTracker(description, readOptions)
  return batchedStream(tracker, readOptions, async function* (emit) {
    let after = -1
    for (;;) {
      const rows = await fetchPage(after, pageRows)
      for (const row of rows) {
        const event = rowToSourceEvent(row)
        if (typeof event === 'string') tracker.bad(row.rowid, event, JSON.stringify(row))
        else emit(event)
        after = row.rowid
      }
      yield
      if (rows.length < pageRows) return
    }
  })
}

/** Options of {@link sqliteEventSource}. */
export interface SqliteSourceOptions extends SqlSourceOptions {
  /** Path of the SQLite file (for `wrangler dev`: `.wrangler/state/v3/d1/miniflare-D1DatabaseObject/<id>.sqlite`). */
  path: string
}

/**
 * Reads the worker's `events` table from a local SQLite file with drizzle-orm (`sqlite-proxy`
 * driver over `node:sqlite`, read-only). Bad rows are reported by `rowid`.
 *
 * @example
 * ```ts
 * const source = sqliteEventSource({ path: '.wrangler/state/v3/d1/miniflare-D1DatabaseObject/abc.sqlite' })
 * ```
 */
export function sqliteEventSource(options: SqliteSourceOptions): EventSource {
  const table = checkTable(options.table ?? 'events')
  const description = `SQLite ${options.path} (table ${table})`
  const pageRows = options.pageRows ?? DEFAULT_PAGE_ROWS
  return {
    description,
    read(readOptions: ReadOptions = {}): EventStream {
      let state: Awaited<ReturnType<typeof openSqlite>> | undefined
      const stream = pagedStream(description, readOptions, pageRows, async (after, limit) => {
        state ??= await openSqlite(options.path, table, description)
        try {
          return await state.page(after, limit, options.since)
        } catch (error) {
          state.close()
          throw error
        }
      })
      return {
        report: stream.report,
        async *[Symbol.asyncIterator]() {
          try {
            yield* stream
          } finally {
            state?.close()
          }
        },
      }
    },
  }
}

async function openSqlite(path: string, table: string, description: string) {
  let drizzleModule: typeof import('drizzle-orm/sqlite-proxy')
  let orm: typeof import('drizzle-orm')
  try {
    drizzleModule = await import('drizzle-orm/sqlite-proxy')
    orm = await import('drizzle-orm')
  } catch (cause) {
    throw new EventSourceError(
      'DEPENDENCY_MISSING',
      'Reading SQLite events needs drizzle-orm. Install it: npm install drizzle-orm',
      { cause },
    )
  }
  const { DatabaseSync } = await import('node:sqlite')
  const { existsSync } = await import('node:fs')
  if (!existsSync(path)) {
    throw new EventSourceError(
      'INPUT_NOT_FOUND',
      `SQLite file ${path} does not exist. Check the path (wrangler dev keeps D1 under .wrangler/state/v3/d1/).`,
    )
  }
  const sqlite = new DatabaseSync(path, { readOnly: true })
  const exists = sqlite.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?`).get(table)
  if (!exists) {
    sqlite.close()
    throw new EventSourceError(
      'INPUT_NOT_FOUND',
      `${description}: the table does not exist. Apply the edge worker's migrations first.`,
    )
  }
  const db = drizzleModule.drizzle(async (query, params, method) => {
    const statement = sqlite.prepare(query)
    statement.setReturnArrays(true)
    const args = params as (string | number | bigint | null)[]
    if (method === 'get') return { rows: (statement.get(...args) as unknown[] | undefined) ?? [] }
    return { rows: statement.all(...args) as unknown[] }
  })
  const { sql } = orm
  const tableSql = sql.identifier(table)
  const hasLinks =
    sqlite
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?`)
      .get(IDENTITY_LINKS_TABLE) !== undefined
  const columns = sql.raw(selectColumns(hasLinks))
  const hasDeletionList =
    sqlite
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?`)
      .get(DELETED_USERS_TABLE) !== undefined
  const deletedSql = sql.raw(notDeleted(hasDeletionList))
  return {
    async page(after: number, limit: number, since?: number): Promise<EventRow[]> {
      const sinceSql = since === undefined ? sql`` : sql` AND e.timestamp >= ${since}`
      const rows = await db.values<unknown[]>(
        sql`SELECT e.rowid, ${columns} FROM ${tableSql} AS e WHERE e.rowid > ${after}${sinceSql}${deletedSql} ORDER BY e.rowid LIMIT ${limit}`,
      )
      return rows.map((r) => ({
        rowid: Number(r[0]),
        id: r[1] as string,
        user_id: r[2] as string | null,
        anonymous_id: r[3] as string | null,
        item_id: r[4] as string,
        type: r[5] as string,
        value: r[6] as number | null,
        timestamp: Number(r[7]),
        context: r[8] as string | null,
        received_at: Number(r[9]),
      }))
    },
    close(): void {
      if (sqlite.isOpen) sqlite.close()
    },
  }
}

/** Options of {@link d1EventSource}. */
export interface D1SourceOptions extends SqlSourceOptions {
  accountId: string
  databaseId: string
  /** Env var holding a Cloudflare API token with D1 read permission. Default `CLOUDFLARE_API_TOKEN`. */
  apiTokenEnv?: string
  /** API base. Default `https://api.cloudflare.com/client/v4`. */
  apiBase?: string
  /** Custom fetch (tests, proxies). */
  fetch?: typeof fetch
}

interface D1QueryResponse {
  success: boolean
  errors?: { code?: number; message: string }[]
  result?: { results?: Record<string, unknown>[]; success?: boolean }[]
}

/**
 * Reads the worker's `events` table from Cloudflare D1 through the HTTP query API
 * (`POST /accounts/{account}/d1/database/{db}/query`), paged by `rowid`.
 *
 * @example
 * ```ts
 * const source = d1EventSource({ accountId: '…', databaseId: '…' }) // token in CLOUDFLARE_API_TOKEN
 * ```
 */
export function d1EventSource(options: D1SourceOptions): EventSource {
  const table = checkTable(options.table ?? 'events')
  const description = `D1 ${options.databaseId} (table ${table})`
  const pageRows = options.pageRows ?? DEFAULT_PAGE_ROWS
  const base = (options.apiBase ?? 'https://api.cloudflare.com/client/v4').replace(/\/+$/, '')
  const url = `${base}/accounts/${encodeURIComponent(options.accountId)}/d1/database/${encodeURIComponent(options.databaseId)}/query`
  const tokenEnv = options.apiTokenEnv ?? 'CLOUDFLARE_API_TOKEN'
  return {
    description,
    read(readOptions: ReadOptions = {}): EventStream {
      return pagedStream(description, readOptions, pageRows, async (after, limit) => {
        const token = process.env[tokenEnv]
        if (!token) {
          throw new EventSourceError(
            'SOURCE_UNAVAILABLE',
            `${description}: no API token: set ${tokenEnv} to a Cloudflare API token with D1 read access.`,
          )
        }
        const params: (number | string)[] = [after]
        let where = 'e.rowid > ?1'
        if (options.since !== undefined) {
          params.push(options.since)
          where += ' AND e.timestamp >= ?2'
        }
        params.push(limit)
        const body = {
          // NOTE: D1 databases written by the edge worker have identity_links (migration 0000) and
          // deleted_users (0001): apply the worker's migrations before training from D1.
          sql: `SELECT e.rowid AS rowid, ${selectColumns(true)} FROM ${table} AS e WHERE ${where}${notDeleted(true)} ORDER BY e.rowid LIMIT ?${params.length}`,
          params,
        }
        const doFetch = options.fetch ?? fetch
        let response: Response
        try {
          response = await doFetch(url, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify(body),
            ...(readOptions.signal ? { signal: readOptions.signal } : {}),
          })
        } catch (cause) {
          throw new EventSourceError(
            'SOURCE_UNAVAILABLE',
            `${description}: the D1 API could not be reached (${(cause as Error).message}). Check the network and apiBase.`,
            { cause },
          )
        }
        let parsed: D1QueryResponse | undefined
        try {
          parsed = (await response.json()) as D1QueryResponse
        } catch {
          parsed = undefined
        }
        if (!response.ok || !parsed?.success) {
          const detail = parsed?.errors?.map((e) => e.message).join('; ') ?? `HTTP ${response.status}`
          const hint =
            response.status === 401 || response.status === 403
              ? `Check that ${tokenEnv} holds a token with D1 read permission for account ${options.accountId}.`
              : response.status === 404
                ? 'Check accountId and databaseId.'
                : 'Retry later.'
          throw new EventSourceError(
            'SOURCE_UNAVAILABLE',
            `${description}: D1 query failed (${detail}). ${hint}`,
          )
        }
        const results = parsed.result?.[0]?.results ?? []
        return results.map((r) => ({
          rowid: Number(r.rowid),
          id: r.id as string,
          user_id: (r.user_id ?? null) as string | null,
          anonymous_id: (r.anonymous_id ?? null) as string | null,
          item_id: r.item_id as string,
          type: r.type as string,
          value: (r.value ?? null) as number | null,
          timestamp: Number(r.timestamp),
          context: (r.context ?? null) as string | null,
          received_at: Number(r.received_at),
        }))
      })
    },
  }
}
