/**
 * Typed view of the worker's string vars (see `wrangler.jsonc`), with defaults and bounds.
 *
 * @module
 */
import type { Env } from './env.js'

/** Parsed configuration of one request. */
export interface WorkerConfig {
  /** Milliseconds between two reads of the live pointer in one isolate. */
  refreshMs: number
  /** Newest events read per user for exclusions and fold-in. */
  foldInMaxEvents: number
  /** List served to users the model cannot score. */
  fallbackList: 'popular' | 'trending'
  /** Bound on cached user buckets, in bytes. */
  userCacheBytes: number
  /** Allowed CORS origins; `['*']` allows any. */
  allowedOrigins: string[]
  /** `SCORING_KERNEL`: `auto` (Wasm SIMD where the runtime runs it) or `js`. */
  scoringKernel: 'auto' | 'js'
  /**
   * `MODEL_MEMORY_MIB`: bytes the model store may hold, live version + a version loading during a
   * swap (8–127 MiB, default 96). A version that does not fit is refused with `MODEL_TOO_LARGE`.
   */
  modelMemoryBytes: number
  /**
   * `PARTITION_NPROBE`: partitions probed per query in partitioned versions (1–65 536); unset uses
   * each version's default from its manifest (chosen by the trainer for recall@10 ≥ 0.95).
   */
  partitionNprobe: number | undefined
  /**
   * `PARTITION_CACHE_MIB`: bound of a partitioned version's cache of partition lists fetched on
   * demand (1–96 MiB, default 8); counted in the memory budget.
   */
  partitionCacheBytes: number
  /**
   * `PARTITION_READ_GAP_KIB`: probed lists at most this far apart in the lists object are fetched
   * with one ranged read, the bytes between them discarded (0–16 384 KiB, default 256; 0 = only
   * adjacent lists).
   */
  partitionReadGapBytes: number
  /** Milliseconds between two reads of catalog changes (`items`) in one isolate. */
  catalogRefreshMs: number
  /** Window of the rate limiters, in seconds: what a limited client is told to wait. */
  rateLimitPeriodSeconds: 10 | 60
  /** Where `POST /v1/events` puts accepted events: D1 directly, or the ingestion queue. */
  ingestMode: 'direct' | 'queue'
  /** Whether the queue consumer archives events to R2. */
  archive: boolean
  /** Days of events D1 keeps (0: all). */
  retentionDays: number
  /** Distinct people an item needs before the D1 popularity list (no model) shows it. */
  popularMinPeople: number
  /** Whether events and reads that carry a user id need a user token for that user. */
  userTokens: 'optional' | 'required'
  /** How long after a list was served an event on one of its items is credited to it without a recId. */
  attributionWindowMs: number
  /** `RECORD_LISTS` is not `off`: served lists are stored. */
  recordLists: boolean
  /**
   * `RECORD_FLUSH_MS`: how long served lists, assignments and shadow overlaps wait in the isolate
   * for more rows before one batched D1 write (0–10 000, default 1000; a batch of 64 goes at once).
   */
  recordFlushMs: number
  /** `SERVER_TIMING=on`: recommendations answer a `Server-Timing` header with their phases. */
  serverTiming: boolean
}

function intVar(value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || value.trim() === '') return fallback
  const n = Number(value)
  if (!Number.isFinite(n)) return fallback
  return Math.min(max, Math.max(min, Math.floor(n)))
}

/**
 * Reads the vars of `env`. Out-of-range values are clamped and unparsable ones fall back to the
 * default, so a typo in `wrangler.jsonc` degrades to defaults instead of failing every request.
 */
export function readConfig(env: Env): WorkerConfig {
  const origins = (env.ALLOWED_ORIGINS ?? '*')
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o.length > 0)
  return {
    refreshMs: intVar(env.MODEL_REFRESH_SECONDS, 30, 0, 86_400) * 1000,
    catalogRefreshMs: intVar(env.CATALOG_REFRESH_SECONDS, 10, 0, 3600) * 1000,
    foldInMaxEvents: intVar(env.FOLD_IN_MAX_EVENTS, 200, 1, 5000),
    fallbackList: env.FALLBACK_LIST === 'trending' ? 'trending' : 'popular',
    userCacheBytes: intVar(env.USER_CACHE_MIB, 16, 1, 96) * 1024 * 1024,
    allowedOrigins: origins.length > 0 ? origins : ['*'],
    scoringKernel: env.SCORING_KERNEL?.trim() === 'js' ? 'js' : 'auto',
    modelMemoryBytes: intVar(env.MODEL_MEMORY_MIB, 96, 8, 127) * 1024 * 1024,
    partitionNprobe:
      env.PARTITION_NPROBE === undefined || env.PARTITION_NPROBE.trim() === ''
        ? undefined
        : intVar(env.PARTITION_NPROBE, 1, 1, 65_536),
    partitionCacheBytes: intVar(env.PARTITION_CACHE_MIB, 8, 1, 96) * 1024 * 1024,
    partitionReadGapBytes: intVar(env.PARTITION_READ_GAP_KIB, 256, 0, 16_384) * 1024,
    // NOTE: the Rate Limiting binding accepts only these two periods.
    rateLimitPeriodSeconds: env.RATE_LIMIT_PERIOD_SECONDS?.trim() === '10' ? 10 : 60,
    ingestMode: env.INGEST_MODE?.trim() === 'queue' ? 'queue' : 'direct',
    archive: env.EVENT_ARCHIVE?.trim() !== 'off',
    retentionDays: intVar(env.EVENT_RETENTION_DAYS, 0, 0, 36_500),
    popularMinPeople: intVar(env.POPULAR_MIN_PEOPLE, 3, 1, 1000),
    userTokens: env.USER_TOKENS?.trim() === 'required' ? 'required' : 'optional',
    attributionWindowMs: intVar(env.ATTRIBUTION_WINDOW_MINUTES, 60, 1, 43_200) * 60_000,
    recordLists: env.RECORD_LISTS?.trim() !== 'off',
    recordFlushMs: intVar(env.RECORD_FLUSH_MS, 1000, 0, 10_000),
    serverTiming: env.SERVER_TIMING?.trim() === 'on',
  }
}
