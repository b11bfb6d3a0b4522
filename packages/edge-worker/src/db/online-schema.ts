/**
 * D1 tables of online evaluation (issue 15), kept apart from `schema.ts` (the events contract the
 * trainer and adapters import) because only the worker reads them:
 *
 * - `rec_lists`: one row per served list (recommendations, similar items, popular), not per item:
 *   `rec_id`, who it was for, which experiment variant served it, the item ids in rank order, when
 *   it was served and when the client reported it shown (`POST /v1/impressions`). An impression is
 *   a list with `shown_at` set.
 * - `experiments`: A/B experiment definitions with their variants (JSON) and status.
 * - `experiment_assignments`: the variant a person got in an experiment (first assignment wins; an
 *   anonymous visitor who signs in keeps it through `identity_links`).
 *
 * Migrations in `drizzle/` are generated from `schema.ts` and this file (`npm run db:generate`).
 *
 * @module
 */
import { index, integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core'

/** Served lists; an impression is a list the client reported shown. */
export const recLists = sqliteTable(
  'rec_lists',
  {
    /** The response's `recId` (UUID). */
    recId: text('rec_id').primaryKey(),
    /** `recommendations`, `similar` or `popular`. */
    surface: text('surface').notNull(),
    /** The person (user id or anonymous id) the list was served to, when known. */
    userKey: text('user_key'),
    /** The experiment that assigned the variant, or null outside experiments. */
    experimentId: text('experiment_id'),
    /** The variant that served the list (`live` outside experiments). */
    variant: text('variant').notNull(),
    /** The model version that scored it (null when no model was live). */
    modelVersion: text('model_version'),
    /** `model`, `fold-in`, `popular` or `trending`. */
    source: text('source').notNull(),
    /** The item ids in rank order, joined by newlines (ids never hold whitespace). */
    items: text('items').notNull(),
    /** When the worker served it, epoch ms (worker clock). */
    servedAt: integer('served_at').notNull(),
    /** When the client first reported it shown, epoch ms (worker clock); null: never shown. */
    shownAt: integer('shown_at'),
  },
  (t) => [
    index('rec_lists_experiment_idx').on(t.experimentId, t.servedAt),
    index('rec_lists_user_idx').on(t.userKey, t.servedAt),
  ],
)

/** Experiment definitions. */
export const experiments = sqliteTable(
  'experiments',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    /** `recommendations` or `similar`. */
    surface: text('surface').notNull(),
    /** `draft`, `running`, `paused` or `stopped`. */
    status: text('status').notNull(),
    /** JSON array of variants `{ name, weight, strategy, version? }`. */
    variants: text('variants').notNull(),
    /** `ab` (an experiment) or `canary` (a version on a share of traffic, decided automatically). */
    kind: text('kind').notNull().default('ab'),
    /** JSON: the canary's thresholds (null for `ab`). */
    config: text('config'),
    /** JSON: the canary's decision once made. */
    outcome: text('outcome'),
    createdAt: integer('created_at').notNull(),
    startedAt: integer('started_at'),
    stoppedAt: integer('stopped_at'),
  },
  (t) => [index('experiments_surface_status_idx').on(t.surface, t.status)],
)

/** Variant of each person per experiment. */
export const experimentAssignments = sqliteTable(
  'experiment_assignments',
  {
    experimentId: text('experiment_id').notNull(),
    /** User id or anonymous id. */
    userKey: text('user_key').notNull(),
    variant: text('variant').notNull(),
    assignedAt: integer('assigned_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.experimentId, t.userKey] }),
    index('experiment_assignments_user_idx').on(t.userKey),
  ],
)

/** Table names, for the raw SQL of the online modules. */
export const ONLINE_TABLES = {
  recLists: 'rec_lists',
  experiments: 'experiments',
  experimentAssignments: 'experiment_assignments',
  requestMetrics: 'request_metrics',
  shadows: 'shadows',
  shadowOverlaps: 'shadow_overlaps',
} as const

/**
 * Runtime figures per request where Workers Analytics Engine cannot be queried (`wrangler dev`, or
 * no `METRICS_API_TOKEN`): route, status, latency, source and variant. Written in batches after the
 * responses.
 */
export const requestMetrics = sqliteTable(
  'request_metrics',
  {
    /** When the request finished, epoch ms. */
    at: integer('at').notNull(),
    /** `recommendations`, `similar`, `popular`, `events`, `impressions`. */
    route: text('route').notNull(),
    status: integer('status').notNull(),
    /** Wall time in the worker, ms (Workers clocks advance on I/O only). */
    latencyMs: real('latency_ms').notNull(),
    /** `model`, `fold-in`, `popular`, `trending`, or empty. */
    source: text('source').notNull(),
    /** Experiment variant, or empty. */
    variant: text('variant').notNull(),
  },
  (t) => [index('request_metrics_at_idx').on(t.at, t.route)],
)

/**
 * Shadow candidates: a strategy (and version) scored next to what is served on a share of the
 * requests of a surface, never served. One runs per surface.
 */
export const shadows = sqliteTable(
  'shadows',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    /** `recommendations` or `similar`. */
    surface: text('surface').notNull(),
    /** `running` or `stopped`. */
    status: text('status').notNull(),
    /** A variant strategy: `model`, `model-no-fold-in`, `popular`, `trending`. */
    strategy: text('strategy').notNull(),
    /** The model version the candidate scores with (null: the live one). */
    version: text('version'),
    /** Share of the surface's requests also scored by the candidate, (0, 1]. */
    sample: real('sample').notNull(),
    createdAt: integer('created_at').notNull(),
    stoppedAt: integer('stopped_at'),
  },
  (t) => [index('shadows_surface_status_idx').on(t.surface, t.status)],
)

/**
 * One row per shadowed list: how much the candidate's list overlapped the served one. Per person
 * (`user_key`), so deleting a user deletes their rows.
 */
export const shadowOverlaps = sqliteTable(
  'shadow_overlaps',
  {
    shadowId: text('shadow_id').notNull(),
    /** The served list's `recId`. */
    recId: text('rec_id').notNull(),
    userKey: text('user_key'),
    /** When the list was served, epoch ms. */
    at: integer('at').notNull(),
    /** Length of the served list (the k of overlap@k). */
    k: integer('k').notNull(),
    /** Items in both the served list and the candidate's first k. */
    common: integer('common').notNull(),
    /** |S ∩ C| / |S ∪ C|. */
    jaccard: real('jaccard').notNull(),
    /** Average overlap: (1/k) Σ_{d=1..k} |S₁..d ∩ C₁..d| / d (rank-aware). */
    averageOverlap: real('average_overlap').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.shadowId, t.recId] }),
    index('shadow_overlaps_shadow_at_idx').on(t.shadowId, t.at),
    index('shadow_overlaps_user_idx').on(t.userKey),
  ],
)
