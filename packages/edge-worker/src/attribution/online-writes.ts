/**
 * The request path's D1 writes of online evaluation, batched per isolate: served lists
 * (`rec_lists`), first experiment assignments (`experiment_assignments`) and shadow overlaps
 * (`shadow_overlaps`). A request only pushes a row into memory; the rows are written after the
 * responses, with `ctx.waitUntil`, as a few multi-row statements (each row set travels as ONE
 * bound JSON parameter expanded by `json_each`, so a statement is not bound by D1's 100
 * parameters), either when {@link MAX_PENDING_ROWS} rows are pending or `RECORD_FLUSH_MS` after
 * the first pending row, whichever comes first.
 *
 * Why: one `INSERT` per request costs a D1 round trip and a commit each; under load that is what
 * the served-list recording added to every request (docs/benchmarks.md, "Experiment path").
 *
 * Lists and impressions commute: a list written after its impression (the impression raced the
 * batch) fills the row the impression created and keeps its `shown_at` (`rec-lists.ts`).
 *
 * @module
 */
import { ONLINE_TABLES } from '../db/online-schema.js'
import { TABLES } from '../db/schema.js'
import type { ServedList } from './rec-lists.js'
import { ITEM_SEPARATOR } from './rec-lists.js'

/** A person's first assignment in an experiment. */
export interface AssignmentRow {
  experimentId: string
  userKey: string
  variant: string
  assignedAt: number
}

/** One shadow comparison: the served list against the candidate's list for the same request. */
export interface OverlapRow {
  shadowId: string
  recId: string
  userKey: string | null
  at: number
  /** Items served (k). */
  k: number
  /** |served ∩ shadow| within the first k of each. */
  common: number
  /** |served ∩ shadow| / |served ∪ shadow|. */
  jaccard: number
  /** Average overlap (rank-aware): (1/k) Σ_{d=1..k} |S₁..d ∩ C₁..d| / d. */
  averageOverlap: number
}

/** Rows pending before a write is due at once. */
export const MAX_PENDING_ROWS = 64
/** Most rows held while D1 fails; beyond it the oldest are dropped (logged). */
const MAX_HELD_ROWS = 2_000
/** Rows per statement (one JSON parameter each; keeps a statement well under D1's 2 MB value cap). */
const ROWS_PER_STATEMENT = 64

const R = ONLINE_TABLES.recLists
const A = ONLINE_TABLES.experimentAssignments
const O = ONLINE_TABLES.shadowOverlaps

/** `json_extract(value, '$[i]')` for i in 0..n-1. */
function columns(n: number): string {
  return Array.from({ length: n }, (_, i) => `json_extract(value, '$[${i}]')`).join(', ')
}

/**
 * Skips a row of a person erased at or after the row's time (its write was still pending when
 * `DELETE /v1/admin/users/:userId` ran, in this isolate or another): the deletion list holds the
 * user id and every anonymous id linked to it.
 */
function notErased(userColumn: number, timeColumn: number): string {
  return `NOT EXISTS (SELECT 1 FROM ${TABLES.deletedUsers} d WHERE d.user_key = json_extract(value, '$[${userColumn}]') AND d.deleted_at >= json_extract(value, '$[${timeColumn}]'))`
}

/** Lists upsert: a row an impression created first keeps its `shown_at` and gets the list's fields. */
const LISTS_SQL = `INSERT INTO ${R} (rec_id, surface, user_key, experiment_id, variant, model_version, source, items, served_at)
SELECT ${columns(9)} FROM json_each(?1) WHERE ${notErased(2, 8)}
ON CONFLICT(rec_id) DO UPDATE SET surface = excluded.surface, user_key = excluded.user_key,
  experiment_id = excluded.experiment_id, variant = excluded.variant, model_version = excluded.model_version,
  source = excluded.source, items = excluded.items, served_at = excluded.served_at`

const ASSIGNMENTS_SQL = `INSERT OR IGNORE INTO ${A} (experiment_id, user_key, variant, assigned_at)
SELECT ${columns(4)} FROM json_each(?1) WHERE ${notErased(1, 3)}`

const OVERLAPS_SQL = `INSERT OR IGNORE INTO ${O} (shadow_id, rec_id, user_key, at, k, common, jaccard, average_overlap)
SELECT ${columns(8)} FROM json_each(?1) WHERE ${notErased(2, 3)}`

/** Splits `rows` into statements of {@link ROWS_PER_STATEMENT} rows. */
function statements(db: D1Database, sql: string, rows: unknown[][]): D1PreparedStatement[] {
  const out: D1PreparedStatement[] = []
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT)
    out.push(db.prepare(sql).bind(JSON.stringify(rows.slice(i, i + ROWS_PER_STATEMENT))))
  return out
}

/** The per-isolate buffer of online-evaluation writes. */
export class OnlineWrites {
  #lists: ServedList[] = []
  #assignments: AssignmentRow[] = []
  #overlaps: OverlapRow[] = []
  #scheduled = false
  #writes = new Set<Promise<void>>()

  /** Rows waiting to be written. */
  get pending(): number {
    return this.#lists.length + this.#assignments.length + this.#overlaps.length
  }

  /** Queues a served list. */
  list(list: ServedList): void {
    this.#lists.push(list)
    if (this.#lists.length > MAX_HELD_ROWS) this.#drop(this.#lists, 'served lists')
  }

  /** Queues a first assignment. */
  assignment(row: AssignmentRow): void {
    this.#assignments.push(row)
    if (this.#assignments.length > MAX_HELD_ROWS) this.#drop(this.#assignments, 'assignments')
  }

  /** Queues a shadow comparison. */
  overlap(row: OverlapRow): void {
    this.#overlaps.push(row)
    if (this.#overlaps.length > MAX_HELD_ROWS) this.#drop(this.#overlaps, 'shadow overlaps')
  }

  #drop(rows: unknown[], what: string): void {
    const extra = rows.length - MAX_HELD_ROWS
    rows.splice(0, extra)
    console.error(`edgerec: D1 writes are behind; dropped the ${extra} oldest pending ${what}`)
  }

  /**
   * Makes sure the pending rows get written: at once (handed to `defer`) when
   * {@link MAX_PENDING_ROWS} are pending, else once, `delayMs` after the first pending row (that
   * timer is handed to `defer`, so the request that queued the first row keeps the isolate alive
   * until it fires: `waitUntil` allows 30 s).
   */
  schedule(db: D1Database, defer: (promise: Promise<unknown>) => void, delayMs: number): void {
    if (this.pending === 0) return
    if (this.pending >= MAX_PENDING_ROWS) {
      defer(this.flush(db))
      return
    }
    if (this.#scheduled) return
    this.#scheduled = true
    defer(
      new Promise<void>((resolve) => setTimeout(resolve, delayMs)).then(() => {
        this.#scheduled = false
        return this.flush(db)
      }),
    )
  }

  /**
   * Writes every pending row in one D1 batch (one transaction); resolves when it and any write
   * already under way are done. A failed write is logged and its rows are dropped: online
   * evaluation never fails or slows a request.
   */
  flush(db: D1Database): Promise<void> {
    const lists = this.#lists.splice(0)
    const assignments = this.#assignments.splice(0)
    const overlaps = this.#overlaps.splice(0)
    const batch = [
      ...statements(
        db,
        LISTS_SQL,
        lists.map((l) => [
          l.recId,
          l.surface,
          l.userKey,
          l.experimentId,
          l.variant,
          l.modelVersion,
          l.source,
          l.itemIds.join(ITEM_SEPARATOR),
          l.servedAt,
        ]),
      ),
      ...statements(
        db,
        ASSIGNMENTS_SQL,
        assignments.map((a) => [a.experimentId, a.userKey, a.variant, a.assignedAt]),
      ),
      ...statements(
        db,
        OVERLAPS_SQL,
        overlaps.map((o) => [
          o.shadowId,
          o.recId,
          o.userKey,
          o.at,
          o.k,
          o.common,
          o.jaccard,
          o.averageOverlap,
        ]),
      ),
    ]
    if (batch.length > 0) {
      const write = db
        .batch(batch)
        .then(() => undefined)
        .catch((error) =>
          console.error(
            `edgerec: writing ${lists.length} served lists, ${assignments.length} assignments and ${overlaps.length} shadow overlaps failed; dropped`,
            error,
          ),
        )
      this.#writes.add(write)
      void write.finally(() => this.#writes.delete(write))
    }
    return Promise.all([...this.#writes]).then(() => undefined)
  }
}
