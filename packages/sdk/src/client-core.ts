/**
 * The platform-free client: identity, the persisted event queue, delivery with retries, and the
 * cached recommendation reads. Platform layers (see `client-web.ts`) subclass it.
 *
 * Delivery is at-least-once: an event leaves the persisted queue only when the server has answered
 * for it (accepted, duplicate or rejected). The server ingests each event id once, so a batch sent
 * twice (a lost answer, a reload mid-request) is stored once.
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
  IngestResponse,
  PopularResponse,
  RecommendationsResponse,
  RecommendOptions,
  SimilarResponse,
  TrackProperties,
} from './types.js'

/** Largest batch the server takes (docs/architecture.md, `POST /v1/events`). */
const SERVER_MAX_BATCH = 500

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

type Options = ClientOptions & typeof DEFAULTS

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
  return new SdkError(
    'STORAGE_ERROR',
    'The storage failed; events are kept in memory. Check the storage option.',
    { cause },
  )
}

interface CacheEntry {
  /** When the answer was asked for. */
  at: number
  value: Promise<unknown>
  /** A revalidation is under way. */
  refreshing?: boolean
}

/**
 * The edgerec client. Create it with `createClient()`, which picks the platform layer.
 *
 * @see ../../../docs/sdk.md
 */
export class EdgerecClient {
  /** Settles when the stored identity and queue have been read. */
  readonly ready: Promise<void>
  /** Events dropped because the queue was full, since creation. */
  dropped = 0

  protected readonly _o: Options
  protected readonly _storage: KeyValueStorage
  /** The queue, oldest first; persisted after every change once {@link ready}. */
  protected _queue: EdgerecEvent[] = []
  protected _loaded = false
  private _anon: string | undefined
  /** `undefined`: not known yet; `null`: reset (logged out). */
  private _user: string | null | undefined
  protected _batchSize: number
  private _flushing: Promise<FlushResult> | undefined
  private _timer: ReturnType<typeof setTimeout> | undefined
  private _attempt = 0
  private _retryAt = 0
  private _writes: Promise<unknown> = Promise.resolve()
  /** A queue write is scheduled and has not serialized the queue yet. */
  private _savePending = false
  private readonly _cache = new Map<string, CacheEntry>()

  constructor(options: ClientOptions) {
    if (!options?.endpoint || !options.publishableKey) {
      throw new SdkError('INVALID_ARGUMENT', 'createClient() got no endpoint or publishableKey. Pass both.')
    }
    // NOTE: an option given as `undefined` keeps its default.
    const o = { ...DEFAULTS } as Options
    for (const [name, value] of Object.entries(options))
      if (value !== undefined) (o as unknown as Record<string, unknown>)[name] = value
    o.endpoint = o.endpoint.replace(/\/+$/, '')
    this._o = o
    this._batchSize = Math.min(Math.max(1, o.maxBatchSize), SERVER_MAX_BATCH)
    this._storage =
      (options.storage === undefined ? this._defaultStorage() : options.storage) ?? memoryStorage()
    this.ready = this._load()
  }

  /** The anonymous id of this device (after {@link ready}). */
  get anonymousId(): string | undefined {
    return this._anon
  }

  /** The identified user, if any. */
  get userId(): string | undefined {
    return this._user ?? undefined
  }

  /** Events waiting for delivery. */
  get queued(): number {
    return this._queue.length
  }

  /**
   * Records an interaction. Never throws: problems go to `onError`.
   *
   * @returns the event's id, or `undefined` when it was not queued
   * @example
   * ```ts
   * recs.track('purchase', { itemId: 'sku-1', value: 2, context: { page: 'cart' } })
   * ```
   */
  track(type: EdgerecEvent['type'], properties: TrackProperties): string | undefined {
    try {
      const { itemId, value, context } = properties ?? {}
      if (!type || typeof type !== 'string' || !itemId || typeof itemId !== 'string') {
        throw new SdkError(
          'INVALID_ARGUMENT',
          'track() got no type or itemId string. Call track("view", { itemId }).',
        )
      }
      const event: EdgerecEvent = { id: uuid(), type, itemId, value, context, timestamp: Date.now() }
      this._stamp(event)
      JSON.stringify(event) // NOTE: throws now, not at every later flush, for circular or BigInt context.
      const dropped = enqueue(this._queue, event, this._o.maxQueueSize)
      if (dropped) {
        this.dropped += dropped
        this._emit({ type: 'dropped', count: dropped, total: this.dropped })
        this._fail(
          new SdkError(
            'QUEUE_OVERFLOW',
            `Queue full: dropped the ${dropped} oldest event(s). Raise maxQueueSize or fix delivery.`,
          ),
        )
      }
      this._emit({ type: 'queued', event })
      this._save()
      if (this._queue.length >= this._o.flushAt && Date.now() >= this._retryAt) void this.flush()
      else this._schedule()
      return event.id
    } catch (error) {
      this._fail(error)
      return undefined
    }
  }

  /**
   * Sets the user; later events carry both the user id and the anonymous id, so the server links them.
   */
  identify(userId: string): void {
    if (!userId || typeof userId !== 'string') {
      this._fail(new SdkError('INVALID_ARGUMENT', 'identify() got no user id string. Pass one.'))
      return
    }
    this._user = userId
    this._write('uid', userId)
  }

  /** Forgets the user (logout) and starts a new anonymous id. Queued events keep their ids. */
  reset(): void {
    this._user = null
    this._anon = uuid()
    this._write('anon', this._anon)
    this._write('uid', null)
  }

  /**
   * Sends every queued event now.
   *
   * @returns settles (never rejects) when the queue is empty or an attempt failed; a retryable
   * failure schedules the next attempt with backoff.
   */
  flush(): Promise<FlushResult> {
    this._flushing ??= this._run().finally(() => {
      this._flushing = undefined
    })
    return this._flushing
  }

  /** Stops the timers (and the page listeners of platform layers). Queued events stay persisted. */
  close(): void {
    this._stopTimer()
  }

  /**
   * Recommendations for the identified user (default), the anonymous id, or `options.userId`.
   *
   * @throws {@link EdgerecClientError} with the server's code, or {@link EdgerecNetworkError}
   * @example
   * ```ts
   * const { items, source, modelVersion } = await recs.recommend({ k: 10, exclude: ['sku-1'] })
   * ```
   */
  async recommend(options: RecommendOptions = {}): Promise<RecommendationsResponse> {
    await this.ready
    const user = options.userId ?? this.userId ?? this._anon ?? ''
    return this._get(`/v1/users/${encodeURIComponent(user)}/recommendations`, {
      k: options.k,
      exclude: options.exclude?.join(','),
      explain: options.explain ? 1 : undefined,
    })
  }

  /** Items similar to `itemId` (`ITEM_NOT_FOUND` when the model does not know it). */
  similar(itemId: string, options: { k?: number } = {}): Promise<SimilarResponse> {
    return this._get(`/v1/items/${encodeURIComponent(itemId)}/similar`, { k: options.k })
  }

  /** The most popular (default) or trending items. */
  popular(options: { k?: number; kind?: 'popular' | 'trending' } = {}): Promise<PopularResponse> {
    return this._get('/v1/popular', { k: options.k, kind: options.kind })
  }

  /** The store used when none is given: memory here, `localStorage` in the web layer. */
  protected _defaultStorage(): KeyValueStorage | undefined {
    return undefined
  }

  /** Adds the identity to an event (or leaves it for {@link load} when not known yet). */
  protected _stamp(event: EdgerecEvent): void {
    event.anonymousId ??= this._anon
    event.userId ??= this.userId
  }

  /** Reports a failure through `onError` (and the debug log). Never throws. */
  protected _fail(error: unknown): void {
    const wrapped =
      error instanceof SdkError
        ? error
        : new SdkError('INTERNAL', `Unexpected failure: ${error}. Please report it.`, { cause: error })
    this._log('error', wrapped)
    try {
      this._o.onError?.(wrapped)
    } catch {}
  }

  protected _emit(event: ClientEvent): void {
    this._log(event.type, event)
    try {
      this._o.onEvent?.(event)
    } catch {}
  }

  /**
   * Sends one batch and settles the server's verdicts: every event it answered for (accepted,
   * duplicate or rejected) leaves the queue; rejected ones are reported with the field errors.
   *
   * @param keepalive - page is going away: `fetch` keepalive with `?key=` and a CORS-simple body
   */
  protected async _send(batch: EdgerecEvent[], keepalive?: boolean): Promise<IngestResponse> {
    const answer = await this._request<IngestResponse>(
      'POST',
      '/v1/events',
      JSON.stringify({ events: batch }),
      keepalive,
    )
    if (!Array.isArray(answer.results))
      throw new EdgerecClientError(
        'HTTP_ERROR',
        'The server answered without results. Check the endpoint.',
        200,
      )
    for (const { index, status, errors = [] } of answer.results) {
      const event = batch[index]
      if (status === 'rejected' && event) {
        this._emit({ type: 'rejected', event, errors })
        this._fail(
          new SdkError(
            'EVENT_REJECTED',
            `Dropped rejected event ${event.id}: ${errors.map((e) => e.message).join(' ')} Fix the track() call.`,
            {
              details: { event, errors },
            },
          ),
        )
      }
    }
    this._settle(batch)
    // NOTE: new events change what the server recommends (fold-in), so cached answers are outdated.
    this._cache.clear()
    this._emit({ type: 'sent', events: batch, response: answer })
    return answer
  }

  /** Removes answered (or undeliverable) events from the queue and persists it. */
  protected _settle(batch: EdgerecEvent[]): void {
    removeIds(this._queue, new Set(batch.map((e) => e.id)))
    this._save()
  }

  /** One HTTP exchange with timeout; errors become {@link EdgerecClientError} or {@link EdgerecNetworkError}. */
  protected async _request<T>(method: string, path: string, body?: string, keepalive?: boolean): Promise<T> {
    const { endpoint, publishableKey, timeoutMs } = this._o
    const url = endpoint + path + (keepalive ? `?key=${encodeURIComponent(publishableKey)}` : '')
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), timeoutMs)
    let response: Response
    let text: string
    try {
      response = await (this._o.fetch ?? fetch)(url, {
        method,
        body,
        keepalive,
        signal: controller.signal,
        // NOTE: a string body goes as text/plain, CORS-simple: keepalive requests (key in the query) need no preflight.
        headers: keepalive ? {} : { authorization: `Bearer ${publishableKey}` },
      })
      text = await response.text()
    } catch (cause) {
      throw controller.signal.aborted
        ? new EdgerecNetworkError(
            'TIMEOUT',
            `No answer within ${timeoutMs} ms. Check the endpoint or raise timeoutMs.`,
            { cause },
          )
        : new EdgerecNetworkError('NETWORK_ERROR', `Could not reach ${endpoint}. Check it and the network.`, {
            cause,
          })
    } finally {
      clearTimeout(timer)
    }
    let json: { error?: { code?: string; message?: string; details?: unknown } } | undefined
    try {
      json = JSON.parse(text)
    } catch {}
    if (!response.ok || !json) {
      const { status } = response
      const {
        code = 'HTTP_ERROR',
        message = `The server answered ${status} without an edgerec body. Check the endpoint.`,
        details,
      } = json?.error ?? {}
      throw new EdgerecClientError(code, message, status, {
        details,
        retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
      })
    }
    return json as T
  }

  /** A cached GET: fresh for `cacheTtlMs`, then served stale for `staleWhileRevalidateMs` while refetched. */
  protected _get<T>(path: string, params: Record<string, string | number | undefined>): Promise<T> {
    const query = Object.entries(params)
      .filter(([, value]) => value !== undefined && value !== '')
      .map(([name, value]) => `${name}=${encodeURIComponent(value as string | number)}`)
      .join('&')
    const key = query ? `${path}?${query}` : path
    const { cacheTtlMs: ttl, staleWhileRevalidateMs: swr } = this._o
    const now = Date.now()
    const hit = this._cache.get(key)
    const age = hit ? now - hit.at : Infinity
    if (hit && age < ttl) return hit.value as Promise<T>
    if (ttl > 0 && hit && age < ttl + swr) {
      if (!hit.refreshing) {
        hit.refreshing = true
        const fresh = this._request<T>('GET', key)
        fresh.then(
          () => this._cache.set(key, { at: now, value: fresh }),
          (error) => {
            hit.refreshing = false
            this._fail(error)
          },
        )
      }
      return hit.value as Promise<T>
    }
    const fresh = this._request<T>('GET', key)
    if (ttl > 0) {
      const entry = { at: now, value: fresh }
      this._cache.delete(key)
      this._cache.set(key, entry)
      // NOTE: Map iterates in insertion order, so the first key is the least recently fetched.
      if (this._cache.size > 100) this._cache.delete(this._cache.keys().next().value as string)
      fresh.catch(() => this._cache.get(key) === entry && this._cache.delete(key))
    }
    return fresh
  }

  private _log(what: string, detail: unknown): void {
    if (this._o.debug) console.debug('[edgerec]', what, detail)
  }

  private async _load(): Promise<void> {
    const prefix = this._o.storagePrefix
    try {
      const [anonymous, user, stored] = await Promise.all(
        ['anon', 'uid', 'queue'].map((key) => this._storage.getItem(prefix + key)),
      )
      if (this._user === undefined) this._user = user ?? undefined
      if (!this._anon) {
        this._anon = anonymous ?? uuid()
        if (!anonymous) this._write('anon', this._anon)
      }
      // NOTE: stored events first: they are older than the ones tracked while the store was read.
      const events = [...(stored ? (JSON.parse(stored) as EdgerecEvent[]) : []), ...this._queue]
      const seen = new Set<string>()
      this._queue = []
      for (const event of events) {
        // NOTE: one id is one event: a copy (two tabs writing one store) would only be a server duplicate.
        if (seen.has(event.id)) continue
        seen.add(event.id)
        this.dropped += enqueue(this._queue, event, this._o.maxQueueSize)
      }
    } catch (cause) {
      this._anon ??= uuid()
      this._fail(storageError(cause))
    }
    // NOTE: events tracked before the anonymous id was read get it now (they may carry a userId already).
    for (const event of this._queue) event.anonymousId ??= this._anon
    this._loaded = true
    this._save()
    this._schedule()
  }

  /** Queues a storage write after the earlier ones; `value` may be computed when the write runs. */
  private _write(key: string, value: string | null | (() => string)): void {
    const name = this._o.storagePrefix + key
    this._writes = this._writes
      .then(() => {
        const text = typeof value === 'function' ? value() : value
        return text === null ? this._storage.removeItem(name) : this._storage.setItem(name, text)
      })
      .catch((cause) => this._fail(storageError(cause)))
  }

  /** Persists the queue. Before {@link load} finished it would overwrite the stored queue, so it waits. */
  protected _save(): void {
    if (!this._loaded || this._savePending) return
    this._savePending = true
    // NOTE: the queue is serialized when the write runs, so a burst of track() calls costs one
    // JSON.stringify and one write, not one per event (O(n²) for a long queue).
    this._write('queue', () => {
      this._savePending = false
      return JSON.stringify(this._stored())
    })
  }

  /** What the persisted queue holds: this client's queue (the web layer adds other tabs' events). */
  protected _stored(): EdgerecEvent[] {
    return this._queue
  }

  private _stopTimer(): void {
    clearTimeout(this._timer)
    this._timer = undefined
  }

  private _schedule(delayMs = this._o.flushIntervalMs): void {
    if (this._timer === undefined && this._loaded && this._queue.length) {
      this._timer = setTimeout(
        () => {
          this._timer = undefined
          void this.flush()
        },
        Math.max(delayMs, this._retryAt - Date.now()),
      )
      // NOTE: a pending flush must not keep a Node process alive; `await flush()` before exiting.
      ;(this._timer as { unref?: () => void }).unref?.()
    }
  }

  private async _run(): Promise<FlushResult> {
    await this.ready
    this._stopTimer()
    const result: FlushResult = { ok: true, sent: 0, rejected: 0, remaining: 0 }
    while (this._queue.length) {
      const batch = this._queue.slice(0, this._batchSize)
      try {
        const answer = await this._send(batch)
        this._attempt = 0
        this._retryAt = 0
        result.sent += answer.accepted + answer.duplicates
        result.rejected += answer.rejected
      } catch (thrown) {
        const error = thrown as SdkError
        const status = (error as EdgerecClientError).status
        if (status === 413 && batch.length > 1) {
          this._batchSize = Math.ceil(batch.length / 2)
          continue
        }
        if (status === 400 || status === 413 || status === 422) {
          // NOTE: the same bytes would be refused again; keeping them would block the queue forever.
          this._fail(
            new SdkError(error.code, `${error.message} Dropped ${batch.length} event(s).`, {
              cause: error,
              details: { events: batch },
            }),
          )
          this._settle(batch)
          result.rejected += batch.length
          continue
        }
        result.ok = false
        result.error = error
        this._fail(error)
        const delayMs =
          (error as EdgerecClientError).retryAfterMs ??
          backoffDelay(this._attempt, this._o.retryBaseMs, this._o.retryMaxMs)
        // NOTE: not retried (a wrong key: 401/403) still backs off: without it every track() past
        // flushAt would send a request. The next track() schedules the next attempt.
        this._retryAt = Date.now() + delayMs
        if (this._o.retry(error, this._attempt++)) {
          this._emit({ type: 'retry', attempt: this._attempt, delayMs, error })
          this._schedule(delayMs)
        }
        break
      }
    }
    result.remaining = this._queue.length
    result.ok &&= !result.remaining
    return result
  }
}
