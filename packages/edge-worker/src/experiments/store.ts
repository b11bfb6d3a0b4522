/**
 * Experiments in D1 and their per-isolate cache: the request path reads the running experiment of a
 * surface from memory; the cache is refreshed at most every `MODEL_REFRESH_SECONDS` in the
 * background (like the live pointer), and at once in the isolate that changed an experiment.
 *
 * @module
 */
import { ONLINE_TABLES } from '../db/online-schema.js'
import type { Experiment, ExperimentStatus, Surface, Variant } from './definition.js'
import { RUNNING_SHADOWS_SQL, type Shadow, type ShadowRow, shadowFromRow } from './shadow.js'

const X = ONLINE_TABLES.experiments

interface ExperimentRow {
  id: string
  name: string
  surface: string
  status: string
  variants: string
  created_at: number
  started_at: number | null
  stopped_at: number | null
  kind: string
  config: string | null
  outcome: string | null
}

function fromRow(row: ExperimentRow): Experiment {
  return {
    id: row.id,
    name: row.name,
    surface: row.surface as Surface,
    status: row.status as ExperimentStatus,
    variants: JSON.parse(row.variants) as Variant[],
    createdAt: Number(row.created_at),
    startedAt: row.started_at === null ? null : Number(row.started_at),
    stoppedAt: row.stopped_at === null ? null : Number(row.stopped_at),
    kind: row.kind === 'canary' ? 'canary' : 'ab',
    config: row.config ? (JSON.parse(row.config) as Record<string, number>) : null,
    outcome: row.outcome ? (JSON.parse(row.outcome) as Record<string, unknown>) : null,
  }
}

/** Every experiment, newest first. */
export async function listExperiments(db: D1Database): Promise<Experiment[]> {
  const { results } = await db.prepare(`SELECT * FROM ${X} ORDER BY created_at DESC, id`).all<ExperimentRow>()
  return results.map(fromRow)
}

/** One experiment, or null. */
export async function getExperiment(db: D1Database, id: string): Promise<Experiment | null> {
  const row = await db.prepare(`SELECT * FROM ${X} WHERE id = ?1`).bind(id).first<ExperimentRow>()
  return row ? fromRow(row) : null
}

/** Inserts a new experiment. */
export async function insertExperiment(db: D1Database, experiment: Experiment): Promise<void> {
  await db
    .prepare(
      `INSERT INTO ${X} (id, name, surface, status, variants, created_at, started_at, stopped_at, kind, config, outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)`,
    )
    .bind(
      experiment.id,
      experiment.name,
      experiment.surface,
      experiment.status,
      JSON.stringify(experiment.variants),
      experiment.createdAt,
      experiment.startedAt,
      experiment.stoppedAt,
      experiment.kind,
      experiment.config ? JSON.stringify(experiment.config) : null,
      experiment.outcome ? JSON.stringify(experiment.outcome) : null,
    )
    .run()
}

/** Records a canary's decision and stops it. */
export async function recordOutcome(
  db: D1Database,
  id: string,
  outcome: Record<string, unknown>,
  now: number,
): Promise<void> {
  await db
    .prepare(`UPDATE ${X} SET status = 'stopped', stopped_at = ?2, outcome = ?3 WHERE id = ?1`)
    .bind(id, now, JSON.stringify(outcome))
    .run()
}

/**
 * Moves an experiment to `status`. Starting one is a single statement that succeeds only when no
 * other experiment runs on the same surface, so two concurrent starts cannot both win.
 *
 * @returns false when the guard refused (another experiment runs on the surface)
 */
export async function setStatus(
  db: D1Database,
  experiment: Experiment,
  status: ExperimentStatus,
  now: number,
): Promise<boolean> {
  if (status === 'running') {
    const result = await db
      .prepare(
        `UPDATE ${X} SET status = 'running', started_at = COALESCE(started_at, ?2) WHERE id = ?1
         AND NOT EXISTS (SELECT 1 FROM ${X} WHERE surface = ?3 AND status = 'running' AND id <> ?1)`,
      )
      .bind(experiment.id, now, experiment.surface)
      .run()
    return result.meta.changes > 0
  }
  await db
    .prepare(
      `UPDATE ${X} SET status = ?2, stopped_at = CASE WHEN ?2 = 'stopped' THEN ?3 ELSE stopped_at END WHERE id = ?1`,
    )
    .bind(experiment.id, status, now)
    .run()
  return true
}

/** The per-isolate cache of the running experiments and shadows. */
export class ExperimentCache {
  #running = new Map<Surface, Experiment>()
  #shadows = new Map<Surface, Shadow>()
  #loaded = false
  #checkedAt = Number.NEGATIVE_INFINITY
  #refreshing: Promise<void> | undefined
  /** Bumped by {@link invalidate}: a read that started before a change does not count as fresh. */
  #generation = 0

  /** Makes the next {@link running} call wait for a fresh read (after a change in this isolate). */
  invalidate(): void {
    this.#loaded = false
    this.#checkedAt = Number.NEGATIVE_INFINITY
    this.#generation++
  }

  /**
   * The experiment running on `surface`, or null. Only a cold (or invalidated) isolate waits for
   * D1; otherwise a stale cache is refreshed in the background and the cached answer is used. A
   * failed read keeps the last known state (none on a cold isolate): experiments never fail a request.
   */
  async running(
    db: D1Database,
    surface: Surface,
    now: number,
    refreshMs: number,
    defer?: (promise: Promise<unknown>) => void,
  ): Promise<Experiment | null> {
    if (!this.#refreshing && now - this.#checkedAt >= refreshMs) {
      this.#checkedAt = now
      defer?.(this.#start(db))
    }
    while (!this.#loaded) await (this.#refreshing ?? this.#start(db))
    return this.#running.get(surface) ?? null
  }

  /**
   * The shadow running on `surface` as of the last read, or null. Never waits: call it after
   * {@link running}, which loads a cold isolate.
   */
  shadow(surface: Surface): Shadow | null {
    return this.#shadows.get(surface) ?? null
  }

  /**
   * The model versions the running experiments (canaries included) and shadows name, as of the
   * last read: the extra versions this isolate may need (`VersionCache` evicts others first).
   */
  versionsInUse(): Set<string> {
    const versions = new Set<string>()
    for (const experiment of this.#running.values())
      for (const variant of experiment.variants) if (variant.version) versions.add(variant.version)
    for (const shadow of this.#shadows.values()) if (shadow.version) versions.add(shadow.version)
    return versions
  }

  #start(db: D1Database): Promise<void> {
    const refresh = this.#refresh(db).finally(() => {
      this.#refreshing = undefined
    })
    this.#refreshing = refresh
    return refresh
  }

  async #refresh(db: D1Database): Promise<void> {
    const generation = this.#generation
    try {
      const [experiments, shadows] = await db.batch<ExperimentRow | ShadowRow>([
        db.prepare(`SELECT * FROM ${X} WHERE status = 'running'`),
        db.prepare(RUNNING_SHADOWS_SQL),
      ])
      const running = new Map<Surface, Experiment>()
      for (const row of (experiments?.results ?? []) as ExperimentRow[])
        running.set(row.surface as Surface, fromRow(row))
      const shadowing = new Map<Surface, Shadow>()
      for (const row of (shadows?.results ?? []) as ShadowRow[])
        shadowing.set(row.surface as Surface, shadowFromRow(row))
      this.#running = running
      this.#shadows = shadowing
    } catch (error) {
      console.error('edgerec: reading experiments failed; keeping the last known state', error)
    }
    if (generation === this.#generation) this.#loaded = true
  }
}
