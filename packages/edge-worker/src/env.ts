/**
 * Bindings and variables of the edge worker (see wrangler.jsonc).
 *
 * @module
 */
import type { QueuedEvents } from './queue/messages.js'

/** Worker bindings, vars and secrets. */
export interface Env {
  /** D1 database holding ingested events. */
  DB: D1Database
  /** KV namespace: live pointer `models/live`, manifests, small shards. */
  MODELS_KV: KVNamespace
  /** R2 bucket: shards. */
  MODELS_R2: R2Bucket
  /** Secret: key that may send events and read recommendations (safe in a browser). */
  PUBLISHABLE_KEY?: string
  /** Secret: admin key. */
  SECRET_KEY?: string
  /** Comma-separated allowed CORS origins, or `*`. */
  ALLOWED_ORIGINS?: string
  /** How often (seconds) an isolate re-reads the live pointer. Default 30. */
  MODEL_REFRESH_SECONDS?: string
  /** Newest events read per user for exclusions and fold-in. Default 200. */
  FOLD_IN_MAX_EVENTS?: string
  /** `popular` (default) or `trending`: the fallback list for unknown users. */
  FALLBACK_LIST?: string
  /** Bound on cached user buckets, in MiB. Default 16. */
  USER_CACHE_MIB?: string
  /**
   * `auto` (default): int8 scoring in WebAssembly SIMD (relaxed SIMD where the runtime validates it);
   * `js`: the plain JS loop (for comparison). Read when a version loads.
   */
  SCORING_KERNEL?: string
  /**
   * MiB the model store may hold (live version + one loading during a swap, user cache included):
   * 8–127, default 96. A version that cannot fit is refused (`MODEL_TOO_LARGE` in `/v1/model`).
   */
  MODEL_MEMORY_MIB?: string
  /** Rate limit of `POST /v1/events` per client, publishable key only (absent: no limit). */
  EVENTS_RATE_LIMITER?: RateLimit
  /** Rate limit of the reads (recommendations, similar, popular, model) per client, publishable key only. */
  READS_RATE_LIMITER?: RateLimit
  /** The `period` of the rate limiters, in seconds (10 or 60); sent as `Retry-After`. Default 60. */
  RATE_LIMIT_PERIOD_SECONDS?: string
  /** Queue of accepted events (queued ingestion tier; used when `INGEST_MODE` is `queue`). */
  EVENTS_QUEUE?: Queue<QueuedEvents>
  /** `direct` (default: `POST /v1/events` writes D1) or `queue` (it enqueues; the consumer writes D1). */
  INGEST_MODE?: string
  /** `r2` (default): the queue consumer also archives events to R2 as hourly NDJSON; `off`: D1 only. */
  EVENT_ARCHIVE?: string
  /** Days of events kept in D1 (by event time); older ones are deleted hourly. Unset or 0: keep all. */
  EVENT_RETENTION_DAYS?: string
  /**
   * Secret: HMAC key of user tokens (`x-edgerec-user-token`, core's `signUserToken`), ≥ 32 bytes.
   * Without it no user token is accepted (explanations then need the secret key).
   */
  USER_TOKEN_SECRET?: string
  /**
   * `optional` (default): user tokens unlock explanations and identity links of the reader's own
   * person. `required`: also events, identify calls and reads that carry a user id need a token
   * for that user (docs/privacy.md).
   */
  USER_TOKENS?: string
}

/** Hono environment type of the app. */
export interface AppEnv {
  Bindings: Env
  Variables: {
    /** Which key authenticated the request. */
    role: 'publishable' | 'secret'
    /** The user id a valid `x-edgerec-user-token` proves (unset without a token). */
    tokenUser: string | undefined
  }
}
