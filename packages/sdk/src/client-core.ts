/**
 * The platform-free client: identity, the persisted event queue, delivery with retries, and the
 * cached recommendation reads. A platform layer (see `client-web.ts`) plugs into it.
 *
 * Delivery is at-least-once: an event leaves the persisted queue only when the server has answered
 * for it (accepted, duplicate or rejected). The server ingests each event id once, so a batch sent
 * twice (a lost answer, a reload mid-request) is stored once.
 *
 * NOTE: the state lives in closures, not in `this._fields`: a minifier renames a local variable to
 * one letter but must keep every property name, and in a client this size that is a quarter of
 * the gzipped bytes (docs/benchmarks/sdk.md).
 *
 * @module
 */
import { backoffDelay, parseRetryAfter } from './backoff.js'
import { EdgerecClientError, EdgerecNetworkError, isRetryable, SdkError } from './errors.js'
import { enqueue, removeIds } from './queue.js'
import { type KeyValueStorage, memoryStorage } from './storage.js'
import type {
  ClientEvent,
  ClientOptions,
  EdgerecEvent,
  FlushResult,
  ImpressionsResponse,
  IngestResponse,
  ItemFilter,
  PopularResponse,
  RecommendationsResponse,
  RecommendOptions,
  SimilarResponse,
  TrackProperties,
  UserToken,
} from './types.js'

/** Largest batch the server takes (docs/architecture.md, `POST /v1/events`). */
const SERVER_MAX_BATCH = 500
/** Recommendation answers kept in the cache; the least recently fetched goes first. */
const CACHE_ENTRIES = 100

/** The options with their defaults (see {@link ClientOptions}). */
const DEFAULTS = {
  storagePrefix: 'edgerec:',
  flushAt: 20,
  flushIntervalMs: 5000,
  maxQueueSize: 1000,
  maxBatchSize: 100,
  timeoutMs: 10_000,
  cacheTtlMs: 60_000,
  staleWhileRevalidateMs: 300_000,
  retryBaseMs: 1000,
  retryMaxMs: 60_000,
  retry: isRetryable as (error: SdkError, attempt: number) => boolean,
}

/**
 * {@link ClientOptions} with every default filled in.
 *
 * @internal
 */
export type ResolvedOptions = ClientOptions & typeof DEFAULTS

/**
 * What the core client shares with its platform layer. Internal: it may change in any release.
 * NOTE: one-letter names: a minifier keeps property names, and they ship in every page.
 *
 * @internal
 */
export interface ClientInternals {
  /** The options, defaults filled in. */
  readonly o: ResolvedOptions
  /** The queue, oldest first: one array for the client's life, persisted after every change. */
  readonly q: EdgerecEvent[]
  /** The store in use; set once the layer has been created. */
  s: KeyValueStorage
  /** Loaded: the stored identity and queue have been read. */
  l: boolean
  /** Batch size, events per request: `maxBatchSize`, halved when the server answers 413. */
  b: number
  /**
   * Sends one batch and settles the server's verdicts (see the client's delivery rules).
   *
   * @param keepalive - the page is going away: `fetch` keepalive, the key in the query, a CORS-simple body
   */
  send(batch: EdgerecEvent[], keepalive?: boolean): Promise<IngestResponse>
}

/**
 * What a platform adds to the core client: a default store, what the persisted queue holds, and
 * cleanup. Internal: it may change in any release.
 *
 * @internal
 */
export interface PlatformLayer {
  /** Storage: the store used when `options.storage` is not given (memory when absent or `undefined`). */
  s?: () => KeyValueStorage | undefined
  /** Queue: what the persisted queue holds; the client's queue when absent. */
  q?: () => EdgerecEvent[]
  /** Close: called by `close()`. */
  c?: () => void
}

/**
 * Creates the platform layer of one client.
 *
 * @internal
 */
export type Platform = (client: ClientInternals) => PlatformLayer

/** A random UUID v4: `crypto.randomUUID` where it exists, `getRandomValues`-free fallback for bare React Native. */
export function uuid(): string {
  return (
    globalThis.crypto?.randomUUID?.() ??
    '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c) =>
      (+c ^ ((Math.random() * 16) >> (+c / 4))).toString(16),
    )
  )
}

function storageError(cause: unknown): SdkError {
  return new SdkError('STORAGE_ERROR', 'Storage failed; events stay in memory. Check the storage option.', {
    cause,
  })
}

interface CacheEntry {
  /** Time: when the answer was asked for. */
  t: number
  /** Value: the answer. */
  v: Promise<unknown>
  /** Refreshing: a revalidation is under way. */
  r?: boolean
}

/**
 * The edgerec client. Create it with `createClient()`, which picks the platform layer.
 *
 * Methods are bound to the client: `const { track } = recs` works.
 *
 * @see the package README (usage, options, errors)
 */
export class EdgerecClient {
  /** Settles when the stored identity and queue have been read. */
  declare readonly ready: Promise<void>
  /** Events dropped because the queue was full, since creation. */
  declare readonly dropped: number
  /** The anonymous id of this device (after {@link ready}). */
  declare readonly anonymousId: string | undefined
  /** The identified user, if any. */
  declare readonly userId: string | undefined
  /** Events waiting for delivery. */
  declare readonly queued: number

  /**
   * Records an interaction. Never throws: problems go to `onError`.
   *
   * @returns the event's id, or `undefined` when it was not queued
   * @example
   * ```ts
   * recs.track('purchase', { itemId: 'sku-1', value: 2, context: { page: 'cart' } })
   * ```
   */
  declare readonly track: (type: EdgerecEvent['type'], properties: TrackProperties) => string | undefined

  /**
   * Sets the user and links this device's anonymous history to them on the server at once
   * (`POST /v1/identify`), so the next {@link recommend} already uses it. Later events carry both ids.
   * Never throws: a failed link goes to `onError` (the next event carrying both ids links them too).
   *
   * @param options.token - proof that the caller is this user (string or async function), sent as
   * `x-edgerec-user-token` on the link and on this user's recommendations; default `userToken`
   * @returns settles (never rejects) when the server answered
   * @example
   * ```ts
   * await recs.identify('user-42', { token: () => fetch('/api/edgerec-token').then((r) => r.text()) })
   * ```
   */
  declare readonly identify: (userId: string, options?: { token?: UserToken }) => Promise<void>

  /**
   * Forgets the user and their token (logout) and starts a new anonymous id, so the next visitor on
   * this device is not recommended the previous user's history. Queued events keep their ids.
   */
  declare readonly reset: () => void

  /**
   * Sends every queued event now.
   *
   * @returns settles (never rejects) when the queue is empty or an attempt failed; a retryable
   * failure schedules the next attempt with backoff.
   */
  declare readonly flush: () => Promise<FlushResult>

  /**
   * Reports a list as shown (`POST /v1/impressions`): call it once the answer is on screen, so
   * clicks and purchases on it count in experiment results. Never throws: a failure (an answer
   * without `recId` included) goes to `onError`. With `autoImpressions` every list is reported when
   * it is fetched.
   *
   * @returns settles (never rejects) with the worker's answer (`shown`: lists newly marked;
   * `rejected`: recIds the worker did not issue), or `undefined` when the report failed
   * @example
   * ```ts
   * const list = await recs.recommend({ k: 8 })
   * render(list.items)
   * void recs.impression(list)
   * recs.track('click', { itemId, recId: list.recId }) // credited to the list
   * ```
   */
  declare readonly impression: (answer: { recId?: string }) => Promise<ImpressionsResponse | undefined>

  /** Stops the timers (and the page listeners of the web layer). Queued events stay persisted. */
  declare readonly close: () => void

  /**
   * Recommendations for the identified user (default), the anonymous id, or `options.userId`.
   *
   * @throws {@link EdgerecClientError} with the server's code, or {@link EdgerecNetworkError}
   * @example
   * ```ts
   * const { items, source, modelVersion } = await recs.recommend({ k: 10, exclude: ['sku-1'] })
   * ```
   */
  declare readonly recommend: (options?: RecommendOptions) => Promise<RecommendationsResponse>

  /** Items similar to `itemId` (`ITEM_NOT_FOUND` when the model does not know it). */
  declare readonly similar: (
    itemId: string,
    options?: { k?: number; filter?: ItemFilter },
  ) => Promise<SimilarResponse>

  /** The most popular (default) or trending items. */
  declare readonly popular: (options?: {
    k?: number
    kind?: 'popular' | 'trending'
    filter?: ItemFilter
  }) => Promise<PopularResponse>

  /**
   * @param platform - internal: the platform layer (`EdgerecWebClient` passes the page's)
   * @throws `SdkError` `INVALID_ARGUMENT` when `endpoint` or `publishableKey` is missing
   */
  constructor(options: ClientOptions, platform?: Platform) {
    if (!options?.endpoint || !options.publishableKey) {
      throw new SdkError('INVALID_ARGUMENT', 'createClient() needs an endpoint and a publishableKey.')
    }
    // NOTE: an option given as `undefined` keeps its default.
    const o = { ...DEFAULTS } as ResolvedOptions
    for (const [name, value] of Object.entries(options))
      if (value !== undefined) (o as unknown as Record<string, unknown>)[name] = value
    o.endpoint = o.endpoint.replace(/\/+$/, '')
    const queue: EdgerecEvent[] = []
    const cache = new Map<string, CacheEntry>()
    let anonymousId: string | undefined
    /** `undefined`: not known yet; `null`: reset (logged out). */
    let userId: string | null | undefined
    /** The identified user's token (see `ClientOptions.userToken`). */
    let token = o.userToken
    /** The last `POST /v1/identify` (after {@link ready}); reads for the user wait for it. Never rejects. */
    let linking: Promise<unknown>
    let dropped = 0
    let flushing: Promise<FlushResult> | undefined
    let timer: ReturnType<typeof setTimeout> | undefined
    let attempt = 0
    let retryAt = 0
    let writes: Promise<unknown> = Promise.resolve()
    /** A queue write is scheduled and has not serialized the queue yet. */
    let savePending = false

    const internals: ClientInternals = {
      o,
      q: queue,
      s: undefined as unknown as KeyValueStorage,
      l: false,
      b: Math.min(Math.max(1, o.maxBatchSize), SERVER_MAX_BATCH),
      send,
    }
    const layer = platform?.(internals) ?? {}
    const storage = (options.storage === undefined ? layer.s?.() : options.storage) ?? memoryStorage()
    internals.s = storage

    /** Reports a failure through `onError` (and the debug log). Never throws. */
    function fail(error: unknown): void {
      emit(
        'error',
        error instanceof SdkError
          ? error
          : new SdkError('INTERNAL', `Unexpected failure: ${error}. Please report it.`, { cause: error }),
        o.onError,
      )
    }

    /** Logs (debug mode) and hands `detail` to an app callback, which may not throw into the client. */
    function emit<T>(what: string, detail: T, callback?: (detail: T) => void): void {
      if (o.debug) console.debug('[edgerec]', what, detail)
      try {
        callback?.(detail)
      } catch {}
    }

    function notify(event: ClientEvent): void {
      emit(event.type, event, o.onEvent)
    }

    /** Queues a storage write after the earlier ones; `value` may be computed when the write runs. */
    function write(key: string, value: string | null | (() => string)): void {
      key = o.storagePrefix + key
      writes = writes
        .then(() => {
          const text = typeof value === 'function' ? value() : value
          return text === null ? storage.removeItem(key) : storage.setItem(key, text)
        })
        .catch((cause) => fail(storageError(cause)))
    }

    /** Persists the queue. Before {@link load} finished it would overwrite the stored queue, so it waits. */
    function save(): void {
      // NOTE: the queue is serialized when the write runs, so a burst of track() calls costs one
      // JSON.stringify and one write, not one per event (O(n²) for a long queue).
      if (internals.l && !savePending) {
        savePending = true
        write('queue', () => {
          savePending = false
          return JSON.stringify(layer.q?.() ?? queue)
        })
      }
    }

    function schedule(delayMs = o.flushIntervalMs): void {
      if (!timer && internals.l && queue.length) {
        timer = setTimeout(
          () => {
            timer = undefined
            void flush()
          },
          Math.max(delayMs, retryAt - Date.now()),
        )
        // NOTE: a pending flush must not keep a Node process alive; `await flush()` before exiting.
        ;(timer as { unref?: () => void }).unref?.()
      }
    }

    /**
     * One HTTP exchange with timeout: a POST of `body`, or a GET without one. Errors become
     * {@link EdgerecClientError} or {@link EdgerecNetworkError}.
     */
    async function request<T>(
      path: string,
      body?: string,
      user?: UserToken,
      keepalive?: boolean,
    ): Promise<T> {
      const { endpoint, publishableKey, timeoutMs } = o
      user = typeof user === 'function' ? await user() : user
      const controller = new AbortController()
      const abort = setTimeout(() => controller.abort(), timeoutMs)
      let response: Response
      let json: { error?: { code?: string; message?: string; details?: unknown } } | undefined
      try {
        response = await (o.fetch ?? fetch)(
          endpoint + path + (keepalive ? `?key=${encodeURIComponent(publishableKey)}` : ''),
          {
            method: body ? 'POST' : 'GET',
            body,
            keepalive,
            signal: controller.signal,
            // NOTE: a string body goes as text/plain, CORS-simple: keepalive requests (key in the query) need no preflight.
            headers: keepalive
              ? {}
              : { authorization: `Bearer ${publishableKey}`, ...(user && { 'x-edgerec-user-token': user }) },
          },
        )
        // NOTE: a body that is not JSON (or is cut) leaves `json` unset: an HTTP_ERROR below.
        json = await response.json().catch(() => {})
      } catch (cause) {
        const timedOut = controller.signal.aborted
        throw new EdgerecNetworkError(
          timedOut ? 'TIMEOUT' : 'NETWORK_ERROR',
          timedOut
            ? `No answer in ${timeoutMs} ms. Raise timeoutMs or check the endpoint.`
            : `Could not reach ${endpoint}. Check it and the network.`,
          { cause },
        )
      } finally {
        clearTimeout(abort)
      }
      if (response.ok && json) {
        // Every list fetched (not each cache hit) is reported once with `autoImpressions`.
        if (o.autoImpressions && !body) void impression(json as { recId?: string })
        return json as T
      }
      const error = json?.error ?? {}
      throw new EdgerecClientError(
        error.code ?? 'HTTP_ERROR',
        error.message ?? `Status ${response.status} without an edgerec answer. Check the endpoint.`,
        response.status,
        { details: error.details, retryAfterMs: parseRetryAfter(response.headers.get('retry-after')) },
      )
    }

    /**
     * Sends one batch and settles the server's verdicts: every event it answered for (accepted,
     * duplicate or rejected) leaves the queue; rejected ones are reported with the field errors.
     */
    async function send(batch: EdgerecEvent[], keepalive?: boolean): Promise<IngestResponse> {
      const answer = await request<IngestResponse>(
        '/v1/events',
        JSON.stringify({ events: batch }),
        undefined,
        keepalive,
      )
      if (!Array.isArray(answer.results))
        throw new EdgerecClientError(
          'HTTP_ERROR',
          'Status 200 without an edgerec answer. Check the endpoint.',
          200,
        )
      for (const { index, status, errors = [] } of answer.results) {
        const event = batch[index]
        if (status === 'rejected' && event) {
          notify({ type: 'rejected', event, errors })
          fail(
            new SdkError(
              'EVENT_REJECTED',
              `Dropped rejected event ${event.id}: ${errors.map((e) => e.message).join(' ')}`,
              { details: { event, errors } },
            ),
          )
        }
      }
      settle(batch)
      // NOTE: new events change what the server recommends (fold-in), so cached answers are outdated.
      cache.clear()
      notify({ type: 'sent', events: batch, response: answer })
      return answer
    }

    /** Removes answered (or undeliverable) events from the queue and persists it. */
    function settle(batch: EdgerecEvent[]): void {
      removeIds(queue, new Set(batch.map((e) => e.id)))
      save()
    }

    /** Reports an answer shown (see `impression`); a recId holds only hex digits, `.` and `-`: no escaping. */
    function impression(answer: { recId?: string }): Promise<ImpressionsResponse | undefined> {
      return request<ImpressionsResponse | undefined>(
        '/v1/impressions',
        `{"recIds":["${answer?.recId}"]}`,
      ).catch(fail as (error: unknown) => undefined)
    }

    /** A cached GET: fresh for `cacheTtlMs`, then served stale for `staleWhileRevalidateMs` while refetched. */
    function get<T>(path: string, params: Record<string, unknown>, user?: UserToken): Promise<T> {
      for (const name in params) {
        // NOTE: arrays (exclude, filter labels) become comma lists; undefined, '' and [] are left out.
        const value = `${params[name] ?? ''}`
        if (value) path += `&${name}=${encodeURIComponent(value)}`
      }
      // NOTE: the path's own ids are percent-encoded, so its first `&` starts the query.
      path = path.replace('&', '?')
      const ttl = o.cacheTtlMs
      const now = Date.now()
      const hit = cache.get(path)
      const age = hit ? now - hit.t : Infinity
      // NOTE: entries exist only when ttl > 0.
      if (hit && age < ttl + o.staleWhileRevalidateMs) {
        if (age >= ttl && !hit.r) {
          hit.r = true
          const fresh = request<T>(path, undefined, user)
          fresh.then(
            () => cache.set(path, { t: now, v: fresh }),
            (error) => {
              hit.r = false
              fail(error)
            },
          )
        }
        return hit.v as Promise<T>
      }
      const fresh = request<T>(path, undefined, user)
      if (ttl > 0) {
        const entry = { t: now, v: fresh }
        cache.delete(path)
        cache.set(path, entry)
        // NOTE: Map iterates in insertion order, so the first key is the least recently fetched.
        if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value as string)
        fresh.catch(() => cache.get(path) === entry && cache.delete(path))
      }
      return fresh
    }

    async function load(): Promise<void> {
      try {
        const [storedAnonymousId, storedUserId, stored] = await Promise.all(
          ['anon', 'uid', 'queue'].map((key) => storage.getItem(o.storagePrefix + key)),
        )
        if (userId === undefined) userId = storedUserId ?? undefined
        if (!anonymousId) {
          anonymousId = storedAnonymousId ?? uuid()
          if (!storedAnonymousId) write('anon', anonymousId)
        }
        // NOTE: stored events first: they are older than the ones tracked while the store was read.
        const events = [...(stored ? (JSON.parse(stored) as EdgerecEvent[]) : []), ...queue]
        const seen = new Set<string>()
        queue.length = 0
        for (const event of events) {
          // NOTE: one id is one event: a copy (two tabs writing one store) would only be a server duplicate.
          if (!seen.has(event.id)) {
            seen.add(event.id)
            dropped += enqueue(queue, event, o.maxQueueSize)
          }
        }
      } catch (cause) {
        anonymousId ??= uuid()
        fail(storageError(cause))
      }
      // NOTE: events tracked before the anonymous id was read get it now (they may carry a userId already).
      for (const event of queue) event.anonymousId ??= anonymousId
      internals.l = true
      save()
      schedule()
    }

    async function run(): Promise<FlushResult> {
      await ready
      clearTimeout(timer)
      timer = undefined
      const result: FlushResult = { ok: true, sent: 0, rejected: 0, remaining: 0 }
      while (queue.length) {
        const batch = queue.slice(0, internals.b)
        try {
          const answer = await send(batch)
          attempt = retryAt = 0
          result.sent += answer.accepted + answer.duplicates
          result.rejected += answer.rejected
        } catch (thrown) {
          const error = thrown as EdgerecClientError
          const { status } = error
          if (status === 413 && batch[1]) {
            internals.b = Math.ceil(batch.length / 2)
          } else if ([400, 413, 422].includes(status)) {
            // NOTE: the same bytes would be refused again; keeping them would block the queue forever.
            fail(
              new SdkError(error.code, `${error.message} Dropped ${batch.length} event(s).`, {
                cause: error,
                details: { events: batch },
              }),
            )
            settle(batch)
            result.rejected += batch.length
          } else {
            result.ok = false
            result.error = error
            fail(error)
            const delayMs = error.retryAfterMs ?? backoffDelay(attempt, o.retryBaseMs, o.retryMaxMs)
            // NOTE: not retried (a wrong key: 401/403) still backs off: without it every track() past
            // flushAt would send a request. The next track() schedules the next attempt.
            retryAt = Date.now() + delayMs
            if (o.retry(error, attempt++)) {
              notify({ type: 'retry', attempt, delayMs, error })
              schedule(delayMs)
            }
            break
          }
        }
      }
      result.remaining = queue.length
      result.ok &&= !result.remaining
      return result
    }

    /** Runs one delivery at a time. */
    function flush(): Promise<FlushResult> {
      flushing ??= run().finally(() => {
        flushing = undefined
      })
      return flushing
    }

    const ready = load()
    linking = ready

    Object.defineProperties(this, {
      dropped: { get: () => dropped },
      anonymousId: { get: () => anonymousId },
      userId: { get: () => userId ?? undefined },
      queued: { get: () => queue.length },
    })
    Object.assign(this, {
      ready,
      flush,
      impression,

      track(type: EdgerecEvent['type'], properties: TrackProperties): string | undefined {
        try {
          const { itemId, value, context, recId } = properties ?? {}
          // NOTE: only presence is checked here; the server validates each event's fields and a
          // rejected one reaches onError as EVENT_REJECTED (bytes: the budget, docs/sdk.md).
          if (!type || !itemId) {
            throw new SdkError('INVALID_ARGUMENT', 'track() needs a type and an itemId string.')
          }
          const event: EdgerecEvent = {
            id: uuid(),
            type,
            itemId,
            value,
            context: recId ? { ...context, recId } : context,
            timestamp: Date.now(),
            anonymousId,
            userId: userId ?? undefined,
          }
          JSON.stringify(event) // NOTE: throws now, not at every later flush, for circular or BigInt context.
          const overflow = enqueue(queue, event, o.maxQueueSize)
          if (overflow) {
            dropped += overflow
            notify({ type: 'dropped', count: overflow, total: dropped })
            fail(
              new SdkError(
                'QUEUE_OVERFLOW',
                `Queue full: dropped ${overflow} oldest event(s). Raise maxQueueSize.`,
              ),
            )
          }
          notify({ type: 'queued', event })
          save()
          if (queue.length >= o.flushAt && Date.now() >= retryAt) void flush()
          else schedule()
          return event.id
        } catch (error) {
          fail(error)
          return undefined
        }
      },

      identify(id: string, options?: { token?: UserToken }): Promise<unknown> {
        if (!id) {
          fail(new SdkError('INVALID_ARGUMENT', 'identify() needs a user id string.'))
          return linking
        }
        userId = id
        token = options?.token ?? o.userToken
        write('uid', id)
        const t = token
        linking = ready
          .then(() => request('/v1/identify', JSON.stringify({ userId: id, anonymousId }), t))
          .then(() => cache.clear(), fail)
        return linking
      },

      reset(): void {
        userId = null
        token = o.userToken
        anonymousId = uuid()
        write('anon', anonymousId)
        write('uid', null)
      },

      close(): void {
        clearTimeout(timer)
        timer = undefined
        layer.c?.()
      },

      async recommend(options: RecommendOptions = {}): Promise<RecommendationsResponse> {
        await linking
        const user = options.userId ?? userId ?? anonymousId ?? ''
        return get(
          `/v1/users/${encodeURIComponent(user)}/recommendations`,
          {
            k: options.k,
            exclude: options.exclude,
            explain: options.explain ? 1 : undefined,
            ...options.filter,
          },
          user === userId ? token : undefined,
        )
      },

      similar: (
        itemId: string,
        options: { k?: number; filter?: ItemFilter } = {},
      ): Promise<SimilarResponse> =>
        get(`/v1/items/${encodeURIComponent(itemId)}/similar`, { k: options.k, ...options.filter }),

      popular: (
        options: { k?: number; kind?: 'popular' | 'trending'; filter?: ItemFilter } = {},
      ): Promise<PopularResponse> =>
        get('/v1/popular', { k: options.k, kind: options.kind, ...options.filter }),
    })
  }
}
