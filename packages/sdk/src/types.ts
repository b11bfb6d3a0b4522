/**
 * Public types of `@edgerec/sdk`: options, the event the SDK sends and the HTTP API v1 answers.
 *
 * The event types are copies of `@edgerec/core`'s `EdgerecEvent` family (so the published `.d.ts`
 * needs no other package); `types.test.ts` checks at compile time that they stay identical.
 *
 * @module
 */
import type { SdkError } from './errors.js'
import type { KeyValueStorage } from './storage.js'

/** The standard e-commerce event types; custom types (`[a-z][a-z0-9_]*`, ≤ 64 chars) are accepted too. */
export type StandardEventType =
  | 'view'
  | 'click'
  | 'add_to_cart'
  | 'remove_from_cart'
  | 'purchase'
  | 'rating'
  | 'like'
  | 'dislike'

/** A flat map of extra attributes (page, device, price…). */
export type EventContext = Record<string, string | number | boolean>

/** An interaction as the SDK sends it (core's `EdgerecEvent`). */
export interface EdgerecEvent {
  /** Client-generated UUID; the server ingests each id once. */
  id: string
  /** The known user, after `identify()`. */
  userId?: string
  /** This device's anonymous id. */
  anonymousId?: string
  /** The item the event is about. */
  itemId: string
  /** A standard or custom type. */
  type: StandardEventType | (string & {})
  /** Optional magnitude: a rating, a quantity. */
  value?: number
  /** Epoch milliseconds (or ISO-8601). */
  timestamp: number | string
  /** Optional flat attributes. */
  context?: EventContext
}

/** One problem with one field of one event, as the server reports it (core's `FieldError`). */
export interface FieldError {
  field: string
  code:
    | 'required'
    | 'type'
    | 'too_long'
    | 'pattern'
    | 'range'
    | 'unknown_field'
    | 'too_many'
    | 'unauthorized'
    | 'unrecognized'
  message: string
}

/** What `track()` takes besides the type. */
export interface TrackProperties {
  itemId: string
  value?: number
  context?: EventContext
  /**
   * The `recId` of the list the interaction came from (a `recommend()`, `similar()` or `popular()`
   * answer): sent as `context.recId`, so the worker credits the event to that list.
   */
  recId?: string
}

/** The answer to `POST /v1/events`. */
export interface IngestResponse {
  accepted: number
  duplicates: number
  rejected: number
  results: {
    index: number
    id?: string
    status: 'accepted' | 'duplicate' | 'rejected'
    errors?: FieldError[]
  }[]
}

/** A recommended or related item. */
export interface ScoredItem {
  itemId: string
  score: number
  /**
   * Set for items the live model does not know yet (docs/catalog.md): `content`, a new catalog item
   * scored by its content vector; `events`, an item known from events since training.
   */
  source?: 'content' | 'events'
}

/** An item of `recommend()`; `because` lists the user's items that contributed most (with `explain`). */
export interface RecommendedItem extends ScoredItem {
  because?: { itemId: string; contribution: number }[]
}

/** `GET /v1/users/:userId/recommendations`. */
export interface RecommendationsResponse {
  userId: string
  items: RecommendedItem[]
  source: 'model' | 'fold-in' | 'popular'
  modelVersion: string | null
  /** Unique id of this answer: report it with `recs.impression(answer)` once shown and pass it as `recId` to `track()` for the events that follow from the list. */
  recId?: string
  /** The experiment variant that served the answer (`live` outside experiments). */
  variant?: string
}
/** `GET /v1/items/:itemId/similar`. */
export interface SimilarResponse {
  itemId: string
  items: ScoredItem[]
  /**
   * `model`; `content` for a new item's list (from its content vector); an experiment variant may
   * serve a list instead (`popular`, `trending`).
   */
  source: 'model' | 'content' | 'popular' | 'trending'
  modelVersion: string | null
  /** Unique id of this answer: report it with `recs.impression(answer)` once shown and pass it as `recId` to `track()` for the events that follow from the list. */
  recId?: string
  /** The experiment variant that served the answer (`live` outside experiments). */
  variant?: string
}
/** `GET /v1/popular`. */
export interface PopularResponse {
  items: ScoredItem[]
  source: 'popular' | 'trending'
  modelVersion: string | null
  /** Unique id of this answer: report it with `recs.impression(answer)` once shown and pass it as `recId` to `track()` for the events that follow from the list. */
  recId?: string
  /** The experiment variant that served the answer (`live` outside experiments). */
  variant?: string
}

/**
 * A catalog filter (docs/catalog.md, "Filters"); every part must hold. Runs inside the worker's
 * top-K scan, so a selective filter still returns `k` items when `k` match.
 */
export interface ItemFilter {
  /** In any of these categories. */
  category?: string | readonly string[]
  /** With any of these tags. */
  tag?: string | readonly string[]
  minPrice?: number
  maxPrice?: number
  /** Default `true`: unavailable items are left out. */
  available?: boolean | 'any'
  /** An expression, e.g. `category:shoes AND (tag:red OR tag:blue) AND price<50`. */
  filter?: string
}

/** Options of `recommend()`. */
export interface RecommendOptions {
  /** Only items passing this catalog filter. */
  filter?: ItemFilter
  /** Whom to recommend for; default: the identified user, else the anonymous id. */
  userId?: string
  /** How many items (server default 10). */
  k?: number
  /** Item ids to leave out. */
  exclude?: readonly string[]
  /** Ask for `because` explanations. */
  explain?: boolean
}

/** The worker's answer to an impression report (`POST /v1/impressions`). */
export interface ImpressionsResponse {
  /** Lists newly marked shown. */
  shown: number
  /** recIds the worker did not recognise as its own (rejected alone, nothing written). */
  rejected: number
  /** One per rejected recId (`code: "unrecognized"`). */
  errors: FieldError[]
}

/** What `flush()` settles with; it never rejects. */
export interface FlushResult {
  /** True when the queue was emptied without error. */
  ok: boolean
  /** Events the server stored or already had (duplicates). */
  sent: number
  /** Events the server refused (dropped and reported through `onError`). */
  rejected: number
  /** Events still queued (they will be retried). */
  remaining: number
  /** Why the attempt stopped, when it did. */
  error?: SdkError
}

/** What the client reports through `onEvent`. */
export type ClientEvent =
  | { type: 'queued'; event: EdgerecEvent }
  | { type: 'sent'; events: EdgerecEvent[]; response: IngestResponse }
  | { type: 'rejected'; event: EdgerecEvent; errors: FieldError[] }
  | { type: 'dropped'; count: number; total: number }
  | { type: 'retry'; attempt: number; delayMs: number; error: SdkError }

/** Options of `createClient()`. */
export interface ClientOptions {
  /** Base URL of the edge worker, e.g. `https://recs.example.com`. */
  endpoint: string
  /** The publishable key (safe in browsers: it may send events and read recommendations). */
  publishableKey: string
  /** Persistent store; default `localStorage` in browsers, memory elsewhere. `null` forces memory. */
  storage?: KeyValueStorage | null
  /** Prefix of the storage keys; give two clients of one app different prefixes. Default `edgerec:`. */
  storagePrefix?: string
  /** Flush as soon as this many events are queued. Default 20. */
  flushAt?: number
  /** Flush queued events after at most this long. Default 5000 ms. */
  flushIntervalMs?: number
  /** Most events kept; the oldest are dropped (and reported) beyond it. Default 1000. */
  maxQueueSize?: number
  /** Most events per request (server limit 500). Default 100. */
  maxBatchSize?: number
  /** Request timeout. Default 10 000 ms. */
  timeoutMs?: number
  /** How long an answer of `recommend`/`similar`/`popular` is fresh. Default 60 000 ms; 0 turns the cache off. */
  cacheTtlMs?: number
  /** How long after that a stale answer is still served while a fresh one is fetched. Default 300 000 ms. */
  staleWhileRevalidateMs?: number
  /** First backoff window. Default 1000 ms. */
  retryBaseMs?: number
  /** Largest backoff window. Default 60 000 ms. */
  retryMaxMs?: number
  /** Whether a failed delivery is retried; default `isRetryable` (network, timeout, 408, 429, 5xx). */
  retry?: (error: SdkError, attempt: number) => boolean
  /** Log every queue and delivery step with `console.debug`. */
  debug?: boolean
  /** Called with every delivery failure, rejected event, dropped event or storage failure. */
  onError?: (error: SdkError) => void
  /** Called with every queue and delivery step. */
  onEvent?: (event: ClientEvent) => void
  /** The `fetch` to use; default the global one. */
  fetch?: typeof fetch
  /**
   * Proof that the identified user is the one using this client (a short-lived token your backend
   * issues), sent as `x-edgerec-user-token` on `identify()` and on that user's recommendations.
   * `identify(userId, { token })` overrides it for that user. A function is called per request, so
   * it can refresh an expired token.
   */
  userToken?: UserToken
  /**
   * Report every list `recommend()`, `similar()` and `popular()` return as shown
   * (`POST /v1/impressions`) without calling `impression()`: for apps that render what they fetch.
   * Default false (a prefetched list that never reaches the screen should not count).
   */
  autoImpressions?: boolean
}

/** A user token, or a function returning one (called per request, so it may refresh it). */
export type UserToken = string | (() => string | Promise<string>)
