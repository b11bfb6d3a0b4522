/**
 * Bindings, variables and secrets of the edge worker, derived from what `wrangler types` generates
 * from wrangler.jsonc (`worker-configuration.d.ts`; regenerate it with
 * `npm run cf-typegen -w @edgerec/edge-worker` after changing wrangler.jsonc: `npm test` runs
 * `wrangler types --check` and fails when it is stale). What each one means is commented in
 * wrangler.jsonc.
 *
 * @module
 */
import type { QueuedEvents } from './queue/messages.js'

/** The bindings every deployment has; the worker cannot run without them. */
type RequiredBinding = 'DB' | 'MODELS_KV' | 'MODELS_R2'

/**
 * Worker bindings, vars and secrets: the generated `WranglerEnv`, with everything but D1, KV and R2
 * optional (vars have defaults, a removed rate limiter means no limit, the queue is only used in
 * `INGEST_MODE=queue`, tests and `wrangler dev` may run without keys) and the queue typed by its
 * messages.
 */
export interface Env
  extends Pick<WranglerEnv, RequiredBinding>,
    Partial<Omit<WranglerEnv, RequiredBinding | 'EVENTS_QUEUE'>> {
  /** Queue of accepted events (queued ingestion tier; used when `INGEST_MODE` is `queue`). */
  EVENTS_QUEUE?: Queue<QueuedEvents>
  /**
   * Secret: HMAC key of user tokens (`x-edgerec-user-token`, core's `signUserToken`), ≥ 32 bytes.
   * Without it no user token is accepted (explanations then need the secret key).
   */
  USER_TOKEN_SECRET?: string
  /**
   * Secret, a rotation window (docs/online.md, "Rotating keys and secrets"): the `SECRET_KEY` from
   * before the rotation, accepted as the secret key and for recIds it signed while set; at least 16
   * characters, different from every other key. Delete it when the window is over.
   */
  PREVIOUS_SECRET_KEY?: string
  /** Secret, a rotation window: the `PUBLISHABLE_KEY` from before the rotation (as `PREVIOUS_SECRET_KEY`). */
  PREVIOUS_PUBLISHABLE_KEY?: string
  /** Secret, a rotation window: the `USER_TOKEN_SECRET` from before the rotation (≥ 32 bytes). */
  PREVIOUS_USER_TOKEN_SECRET?: string
  /** Minutes after a served list during which an event on one of its items is credited to it without a recId. Default 60. */
  ATTRIBUTION_WINDOW_MINUTES?: string
  /** Workers Analytics Engine dataset of the runtime figures (`analytics_engine_datasets`). */
  METRICS?: AnalyticsEngineDataset
  /** The dataset's name, for the SQL API (default `edgerec_metrics`). */
  METRICS_DATASET?: string
  /** Account id and API token (Account Analytics: Read) for reading `METRICS` back; unset: figures go to D1. */
  METRICS_ACCOUNT_ID?: string
  /** Secret: see `METRICS_ACCOUNT_ID`. */
  METRICS_API_TOKEN?: string
  /** `off`: served lists are not stored (answers still carry `recId`). Default on. */
  RECORD_LISTS?: string
  /** Milliseconds served lists, assignments and shadow overlaps wait for a batched D1 write (default 1000). */
  RECORD_FLUSH_MS?: string
  /** `on`: recommendations answer a `Server-Timing` header with their phases (default off). */
  SERVER_TIMING?: string
}

/** Hono environment type of the app. */
export interface AppEnv {
  Bindings: Env
  Variables: {
    /** Which key authenticated the request. */
    role: 'publishable' | 'secret'
    /** The user id a valid `x-edgerec-user-token` proves (unset without a token). */
    tokenUser: string | undefined
    /** What served a list (set by the list routes, read by the runtime metrics). */
    served?: { source: string; variant: string }
  }
}
