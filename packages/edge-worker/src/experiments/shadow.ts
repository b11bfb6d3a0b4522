/**
 * Shadow mode (issue 15): a candidate (a model version, or an experiment variant's strategy and
 * version) scores a share of the requests of a surface next to what is served, after the response,
 * and only the overlap of its list with the served list is recorded. The served list never depends
 * on the candidate.
 *
 * Overlap of a served list S (length k) with the candidate's list C truncated to k:
 * - overlap@k = |S ∩ C| / k;
 * - Jaccard J = |S ∩ C| / |S ∪ C|;
 * - average overlap AO = (1/k) Σ_{d=1..k} |S₁..d ∩ C₁..d| / d, rank-aware: agreement at the top
 *   weighs most (Webber, Moffat & Zobel, "A similarity measure for indefinite rankings", TOIS 2010,
 *   §3, the truncated average overlap that rank-biased overlap generalises).
 *
 * @module
 */
import { VERSION_PATTERN } from '@edgerec/core'
import { ONLINE_TABLES } from '../db/online-schema.js'
import type { ParamErrors } from '../params.js'
import {
  MAX_EXPERIMENT_NAME_LENGTH,
  STRATEGIES,
  type Strategy,
  SURFACE_STRATEGIES,
  SURFACES,
  type Surface,
} from './definition.js'

/** A stored shadow. */
export interface Shadow {
  id: string
  name: string
  surface: Surface
  status: 'running' | 'stopped'
  strategy: Strategy
  /** The version the candidate scores with; null: the live version. */
  version: string | null
  /** Share of the surface's requests the candidate also scores, (0, 1]. */
  sample: number
  createdAt: number
  stoppedAt: number | null
}

/** The overlap of one served list with the candidate's. */
export interface ListOverlap {
  k: number
  common: number
  jaccard: number
  averageOverlap: number
}

/**
 * Overlap of `served` with `candidate` (truncated to `served.length`), see the module comment.
 * Both lists hold distinct ids. An empty served list has nothing to compare (null).
 */
export function listOverlap(served: readonly string[], candidate: readonly string[]): ListOverlap | null {
  const k = served.length
  if (k === 0) return null
  const c = candidate.slice(0, k)
  const seenS = new Set<string>()
  const seenC = new Set<string>()
  let prefixCommon = 0
  let sum = 0
  for (let d = 0; d < k; d++) {
    // |S₁..d ∩ C₁..d| grows by one for each new id already present in the other prefix.
    const s = served[d]!
    seenS.add(s)
    if (seenC.has(s)) prefixCommon++
    const x = c[d]
    if (x !== undefined) {
      seenC.add(x)
      if (seenS.has(x)) prefixCommon++
    }
    sum += prefixCommon / (d + 1)
  }
  const common = prefixCommon
  return { k, common, jaccard: common / (k + c.length - common), averageOverlap: sum / k }
}

/** The body of `POST /v1/admin/shadows`, after validation. */
export interface ShadowInput {
  name: string
  /** The surface whose requests it scores; null: the experiment's surface, else `recommendations`. */
  surface: Surface | null
  strategy: Strategy
  version: string | null
  sample: number
  /** Copy strategy and version from this experiment's variant. */
  from?: { experimentId: string; variant: string }
}

/** The fields of a shadow definition. */
export const SHADOW_FIELDS = ['name', 'surface', 'strategy', 'version', 'sample', 'experimentId', 'variant']

/**
 * Checks a shadow definition: `{ name?, surface? ('recommendations' | 'similar'), strategy?, version?,
 * sample?, experimentId?, variant? }`; `experimentId` + `variant` take the strategy and version of that
 * experiment's variant (the route resolves them). Every problem is added to `errors`.
 */
export function parseShadowInput(errors: ParamErrors, raw: unknown): ShadowInput | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    errors.add('body', 'type', 'The body must be a JSON object { version?, strategy?, sample?, name? }.')
    return null
  }
  const body = raw as Record<string, unknown>
  for (const key of Object.keys(body))
    if (!SHADOW_FIELDS.includes(key))
      errors.add(key.slice(0, 32), 'unknown_field', `Unknown field; allowed: ${SHADOW_FIELDS.join(', ')}.`)
  if (body.surface !== undefined && !SURFACES.includes(body.surface as Surface))
    errors.add('surface', 'pattern', `surface must be one of ${SURFACES.join(', ')}.`)
  if (
    body.name !== undefined &&
    (typeof body.name !== 'string' || !body.name.trim() || body.name.length > MAX_EXPERIMENT_NAME_LENGTH)
  )
    errors.add(
      'name',
      'range',
      `name must be a non-empty string of at most ${MAX_EXPERIMENT_NAME_LENGTH} characters.`,
    )
  if (body.strategy !== undefined && !STRATEGIES.includes(body.strategy as Strategy))
    errors.add('strategy', 'pattern', `strategy must be one of ${STRATEGIES.join(', ')}.`)
  else if (
    body.strategy !== undefined &&
    SURFACES.includes(body.surface as Surface) &&
    !SURFACE_STRATEGIES[body.surface as Surface].includes(body.strategy as Strategy)
  )
    errors.add(
      'strategy',
      'pattern',
      `strategy must be one of ${SURFACE_STRATEGIES[body.surface as Surface].join(', ')} on surface ${String(body.surface)}.`,
    )
  if (body.version !== undefined && (typeof body.version !== 'string' || !VERSION_PATTERN.test(body.version)))
    errors.add('version', 'pattern', 'version must match [A-Za-z0-9][A-Za-z0-9._-]{0,127}.')
  if (
    body.sample !== undefined &&
    (typeof body.sample !== 'number' || !(body.sample > 0 && body.sample <= 1))
  )
    errors.add('sample', 'range', 'sample must be a number in (0, 1]: the share of requests shadowed.')
  const fromExperiment = body.experimentId !== undefined || body.variant !== undefined
  if (fromExperiment) {
    if (typeof body.experimentId !== 'string' || typeof body.variant !== 'string')
      errors.add('variant', 'required', 'experimentId and variant go together: the variant to shadow.')
    if (body.strategy !== undefined || body.version !== undefined)
      errors.add('variant', 'pattern', 'Give either experimentId + variant, or strategy/version, not both.')
  } else if (body.strategy === undefined && body.version === undefined)
    errors.add('version', 'required', 'Name the candidate: a version, a strategy, or experimentId + variant.')
  if (errors.errors.length > 0) return null
  const strategy = (body.strategy as Strategy | undefined) ?? 'model'
  const version = (body.version as string | undefined) ?? null
  return {
    surface: (body.surface as Surface | undefined) ?? null,
    name:
      typeof body.name === 'string'
        ? body.name.trim()
        : fromExperiment
          ? `shadow ${String(body.variant)}`
          : `shadow ${version ?? strategy}`,
    strategy,
    version,
    sample: (body.sample as number | undefined) ?? 1,
    ...(fromExperiment
      ? { from: { experimentId: String(body.experimentId), variant: String(body.variant) } }
      : {}),
  }
}

/** The fields of `POST /v1/admin/models/:version/shadow` (the version is the path's). */
export const MODEL_SHADOW_FIELDS = ['name', 'surface', 'strategy', 'sample']

/**
 * Checks the body of `POST /v1/admin/models/:version/shadow`: a JSON object with only
 * {@link MODEL_SHADOW_FIELDS} (no `version`, `experimentId` or `variant`: the candidate is the
 * path's `version`), then the definition it makes with that version ({@link parseShadowInput}).
 */
export function parseModelShadowInput(
  errors: ParamErrors,
  raw: unknown,
  version: string,
): ShadowInput | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    errors.add(
      'body',
      'type',
      'The body must be a JSON object { sample?, strategy?, name?, surface? } or empty.',
    )
    return null
  }
  const before = errors.errors.length
  for (const key of Object.keys(raw)) {
    if (MODEL_SHADOW_FIELDS.includes(key)) continue
    errors.add(
      key.slice(0, 32),
      'unknown_field',
      key === 'version' || key === 'experimentId' || key === 'variant'
        ? 'The candidate is the version in the path; send { sample?, strategy?, name?, surface? } (POST /v1/admin/shadows takes experimentId + variant).'
        : `Unknown field; allowed: ${MODEL_SHADOW_FIELDS.join(', ')}.`,
    )
  }
  if (errors.errors.length > before) return null
  return parseShadowInput(errors, { ...raw, version })
}

const S = ONLINE_TABLES.shadows
const O = ONLINE_TABLES.shadowOverlaps
const DAY_MS = 86_400_000

/** A `shadows` row. */
export interface ShadowRow {
  id: string
  name: string
  surface: string
  status: string
  strategy: string
  version: string | null
  sample: number
  created_at: number
  stopped_at: number | null
}

/** A row as the API shows it. */
export function shadowFromRow(row: ShadowRow): Shadow {
  return {
    id: row.id,
    name: row.name,
    surface: row.surface as Surface,
    status: row.status === 'running' ? 'running' : 'stopped',
    strategy: row.strategy as Strategy,
    version: row.version,
    sample: Number(row.sample),
    createdAt: Number(row.created_at),
    stoppedAt: row.stopped_at === null ? null : Number(row.stopped_at),
  }
}

/** The SQL of the running shadows (read with the running experiments, `store.ts`). */
export const RUNNING_SHADOWS_SQL = `SELECT * FROM ${S} WHERE status = 'running'`

/**
 * Inserts a running shadow unless one already runs on its surface (one statement, so two
 * concurrent starts cannot both win).
 *
 * @returns false when another shadow runs on the surface
 */
export async function startShadow(db: D1Database, shadow: Shadow): Promise<boolean> {
  const result = await db
    .prepare(
      `INSERT INTO ${S} (id, name, surface, status, strategy, version, sample, created_at, stopped_at)
       SELECT ?1, ?2, ?3, 'running', ?4, ?5, ?6, ?7, NULL
       WHERE NOT EXISTS (SELECT 1 FROM ${S} WHERE surface = ?3 AND status = 'running')`,
    )
    .bind(
      shadow.id,
      shadow.name,
      shadow.surface,
      shadow.strategy,
      shadow.version,
      shadow.sample,
      shadow.createdAt,
    )
    .run()
  return result.meta.changes > 0
}

/** Stops a shadow (its overlaps stay readable). */
export async function stopShadow(db: D1Database, id: string, now: number): Promise<void> {
  await db
    .prepare(`UPDATE ${S} SET status = 'stopped', stopped_at = ?2 WHERE id = ?1 AND status = 'running'`)
    .bind(id, now)
    .run()
}

/** One shadow, or null. */
export async function getShadow(db: D1Database, id: string): Promise<Shadow | null> {
  const row = await db.prepare(`SELECT * FROM ${S} WHERE id = ?1`).bind(id).first<ShadowRow>()
  return row ? shadowFromRow(row) : null
}

/** Every shadow, newest first. */
export async function listShadows(db: D1Database): Promise<Shadow[]> {
  const { results } = await db.prepare(`SELECT * FROM ${S} ORDER BY created_at DESC, id`).all<ShadowRow>()
  return results.map(shadowFromRow)
}

/** Mean overlap figures of a set of compared lists. */
export interface OverlapSummary {
  /** Lists compared. */
  comparisons: number
  /** Mean overlap@k (k = each served list's length). */
  overlapAtK: number | null
  /** Mean Jaccard. */
  jaccard: number | null
  /** Mean average overlap (rank-aware). */
  averageOverlap: number | null
  /** Lists the candidate would have served identically (same items, same order). */
  identical: number
}

/** A shadow with its overlap, overall and per UTC day of serving. */
export interface ShadowReport extends Shadow {
  overlap: OverlapSummary
  days: ({ day: string } & OverlapSummary)[]
}

interface SummaryRow {
  day: number | null
  comparisons: number
  overlap_at_k: number | null
  jaccard: number | null
  average_overlap: number | null
  identical: number | null
}

function summary(row: SummaryRow | undefined): OverlapSummary {
  return {
    comparisons: Number(row?.comparisons ?? 0),
    overlapAtK: row?.overlap_at_k ?? null,
    jaccard: row?.jaccard ?? null,
    averageOverlap: row?.average_overlap ?? null,
    identical: Number(row?.identical ?? 0),
  }
}

const SUMMARY_COLUMNS = `COUNT(*) AS comparisons, AVG(CAST(common AS REAL) / k) AS overlap_at_k,
  AVG(jaccard) AS jaccard, AVG(average_overlap) AS average_overlap, SUM(average_overlap >= 1) AS identical`

/**
 * The overlap of `shadow`'s compared lists served in [since, until) (epoch ms), overall and per
 * UTC day. Averages are over lists (each list counts once).
 */
export async function reportShadow(
  db: D1Database,
  shadow: Shadow,
  since = 0,
  until = Number.MAX_SAFE_INTEGER,
): Promise<ShadowReport> {
  const [total, days] = await db.batch<SummaryRow>([
    db
      .prepare(
        `SELECT NULL AS day, ${SUMMARY_COLUMNS} FROM ${O} WHERE shadow_id = ?1 AND at >= ?2 AND at < ?3`,
      )
      .bind(shadow.id, since, until),
    db
      .prepare(
        `SELECT at / ${DAY_MS} AS day, ${SUMMARY_COLUMNS} FROM ${O} WHERE shadow_id = ?1 AND at >= ?2 AND at < ?3 GROUP BY day ORDER BY day`,
      )
      .bind(shadow.id, since, until),
  ])
  return {
    ...shadow,
    overlap: summary(total?.results[0]),
    days: (days?.results ?? []).map((row) => ({
      day: new Date(Number(row.day) * DAY_MS).toISOString().slice(0, 10),
      ...summary(row),
    })),
  }
}
