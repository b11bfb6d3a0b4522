/**
 * Typed view of the worker's string vars (see `wrangler.jsonc`), with defaults and bounds, and of
 * its keys and secrets with their rotation windows (`readKeys`).
 *
 * @module
 */
import { USER_TOKEN_MIN_SECRET_BYTES } from '@edgerec/core'
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
   * `MODEL_MEMORY_MIB`: bytes the models of an isolate may hold, live version + a version loading
   * during a swap + the extra versions of experiments, canaries and shadows (8–127 MiB, default 96).
   * A version that does not fit is refused with `MODEL_TOO_LARGE`.
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

/** Shortest `PREVIOUS_SECRET_KEY` / `PREVIOUS_PUBLISHABLE_KEY` the worker accepts, in characters. */
export const MIN_PREVIOUS_KEY_CHARS = 16

/** The secrets of a rotation window (docs/online.md, "Rotating keys and secrets"). */
export type PreviousSecret = 'PREVIOUS_SECRET_KEY' | 'PREVIOUS_PUBLISHABLE_KEY' | 'PREVIOUS_USER_TOKEN_SECRET'

/** A `PREVIOUS_*` secret that is set but ignored: which one, and why and how to fix it. */
export interface KeyProblem {
  variable: PreviousSecret
  message: string
}

/**
 * The keys and secrets a request may present, the current one first and the previous one (a
 * rotation window) second while it is set and valid. A previous key grants exactly what the current
 * one of its kind grants.
 */
export interface WorkerKeys {
  /** `SECRET_KEY`, then `PREVIOUS_SECRET_KEY`: everything, and the recId signing secrets. */
  secretKeys: string[]
  /** `PUBLISHABLE_KEY`, then `PREVIOUS_PUBLISHABLE_KEY`: events and reads. */
  publishableKeys: string[]
  /** `USER_TOKEN_SECRET`, then `PREVIOUS_USER_TOKEN_SECRET` (each at least 32 bytes). */
  userTokenSecrets: string[]
  /** Previous secrets that are set but ignored (also logged once per isolate). */
  problems: KeyProblem[]
}

const encoder = new TextEncoder()
/** Problems already logged in this isolate. */
const logged = new Set<string>()

/** A set, non-blank value, or undefined. */
function setValue(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value
}

/** The bindings {@link readKeys} reads. */
export type KeyBindings = Pick<Env, 'SECRET_KEY' | 'PUBLISHABLE_KEY' | 'USER_TOKEN_SECRET' | PreviousSecret>

/**
 * Reads the keys of `env` (as {@link inspectKeys}) and logs each problem once per isolate.
 */
export function readKeys(env: KeyBindings): WorkerKeys {
  const keys = inspectKeys(env)
  for (const { message } of keys.problems) {
    if (logged.has(message)) continue
    logged.add(message)
    console.error(`edgerec: ${message}`)
  }
  return keys
}

/**
 * The keys of `env`, without logging (`npm run deploy` checks the values it sets with it). A
 * `PREVIOUS_*` secret that is unset or blank is no window (never an empty key that matches); one that is invalid — set without its current secret, too short, equal
 * to its current secret, or equal to a key of the other kind (which would give the publishable key
 * the secret key's rights) — is ignored, reported in `problems` (the 401 of a request whose key or
 * token matches nothing names them; {@link readKeys} logs them). A typo in a rotation secret thus
 * never accepts a weak key nor takes the worker down.
 */
export function inspectKeys(env: KeyBindings): WorkerKeys {
  const secret = setValue(env.SECRET_KEY)
  const publishable = setValue(env.PUBLISHABLE_KEY)
  const userToken = setValue(env.USER_TOKEN_SECRET)
  const problems: KeyProblem[] = []
  const previous = (
    variable: PreviousSecret,
    current: string | undefined,
    currentName: string,
    minimum: { length: number; unit: string; of: (value: string) => number },
    otherKind: readonly (readonly [string, string | undefined])[],
  ): string | undefined => {
    const value = setValue(env[variable])
    if (value === undefined) return undefined
    let message: string | undefined
    if (current === undefined)
      message = `${variable} is set but ${currentName} is not, so it is ignored. Set ${currentName} to the new value, or delete ${variable} (wrangler secret delete ${variable}).`
    else if (minimum.of(value) < minimum.length)
      message = `${variable} is shorter than ${minimum.length} ${minimum.unit}, so it is ignored (a short key is guessable). Set it to the exact old ${currentName}, or delete it; a key that short cannot have a rotation window.`
    else if (value === current)
      message = `${variable} equals ${currentName}, so it is ignored. Set it to the ${currentName} from before the rotation (and ${currentName} to the new one), or delete it.`
    else {
      const clash = otherKind.find(([, other]) => other !== undefined && other === value)
      if (clash)
        message = `${variable} equals ${clash[0]}, so it is ignored: a key of one kind never gets another kind's rights. Give each key its own value (docs/online.md, "Rotating keys and secrets").`
    }
    if (message === undefined) return value
    problems.push({ variable, message })
    return undefined
  }
  const chars = { length: MIN_PREVIOUS_KEY_CHARS, unit: 'characters', of: (v: string) => v.length }
  const previousSecretRaw = setValue(env.PREVIOUS_SECRET_KEY)
  const previousPublishableRaw = setValue(env.PREVIOUS_PUBLISHABLE_KEY)
  const previousSecret = previous('PREVIOUS_SECRET_KEY', secret, 'SECRET_KEY', chars, [
    ['PUBLISHABLE_KEY', publishable],
    ['PREVIOUS_PUBLISHABLE_KEY', previousPublishableRaw],
  ])
  const previousPublishable = previous('PREVIOUS_PUBLISHABLE_KEY', publishable, 'PUBLISHABLE_KEY', chars, [
    ['SECRET_KEY', secret],
    ['PREVIOUS_SECRET_KEY', previousSecretRaw],
  ])
  const bytes = {
    length: USER_TOKEN_MIN_SECRET_BYTES,
    unit: 'bytes',
    of: (v: string) => encoder.encode(v).byteLength,
  }
  const validUserToken =
    userToken !== undefined && bytes.of(userToken) >= USER_TOKEN_MIN_SECRET_BYTES ? userToken : undefined
  const previousUserToken = previous(
    'PREVIOUS_USER_TOKEN_SECRET',
    validUserToken,
    'USER_TOKEN_SECRET',
    bytes,
    [],
  )
  const both = (current: string | undefined, old: string | undefined) =>
    [current, old].filter((k): k is string => k !== undefined)
  return {
    secretKeys: both(secret, previousSecret),
    publishableKeys: both(publishable, previousPublishable),
    userTokenSecrets: both(validUserToken, previousUserToken),
    problems,
  }
}
