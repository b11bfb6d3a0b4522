/**
 * The browser layer: `localStorage` persistence and delivery when the page is hidden or unloaded,
 * through `fetch(..., { keepalive: true })` within its 64 KiB budget, then `navigator.sendBeacon`.
 *
 * Events sent that way stay in the persisted queue until an answer arrives. When the page dies
 * first, the next page load sends them again and the server, which ingests each event id once,
 * drops the copies: at-least-once delivery plus dedupe by id is exactly-once storage.
 *
 * @module
 */
import { EdgerecClient } from './client-core.js'
import { chunkBySize } from './queue.js'
import { type KeyValueStorage, webStorage } from './storage.js'
import type { ClientOptions, EdgerecEvent } from './types.js'

/**
 * Bytes of request bodies a page may have in flight with `keepalive` (Fetch standard, "keepalive
 * bytes"; Chromium shares it with `sendBeacon`).
 */
const KEEPALIVE_BUDGET = 64 * 1024
/** Largest body of one page-hide request: leaves room under {@link KEEPALIVE_BUDGET}'s 64 KiB. */
const MAX_HIDE_BODY = 60_000
/** Own ids remembered for the shared-queue merge: enough for several full queues. */
const OWNED_MEMORY = 10_000

/** The client for pages (and anything with a `document`). */
export class EdgerecWebClient extends EdgerecClient {
  /** Ids already handed to keepalive/beacon in this page's life: not sent again on the next hide. */
  private readonly _handedOff = new Set<string>()
  /**
   * Ids of events this page has had in its queue: once they leave it (sent, rejected, dropped),
   * copies another tab wrote back to the shared store are not kept. Bounded, oldest forgotten first.
   */
  private readonly _owned = new Set<string>()
  private readonly _onHide = (event: Event): void => {
    if (event.type === 'pagehide' || document.visibilityState === 'hidden') this._deliverOnHide()
  }

  constructor(options: ClientOptions) {
    super(options)
    if (typeof document !== 'undefined') {
      document.addEventListener('visibilitychange', this._onHide)
      addEventListener('pagehide', this._onHide)
    }
  }

  override close(): void {
    super.close()
    if (typeof document !== 'undefined') {
      document.removeEventListener('visibilitychange', this._onHide)
      removeEventListener('pagehide', this._onHide)
    }
  }

  protected override _defaultStorage(): KeyValueStorage | undefined {
    return webStorage()
  }

  /**
   * Tabs of one origin share one stored queue. Each write keeps the events other tabs stored, so a
   * tab that closes or crashes before delivering leaves its events for the next page load instead
   * of losing them to another tab's write. The next load may send an event its tab also sent: the
   * server stores each id once.
   */
  protected override _stored(): EdgerecEvent[] {
    let stored: EdgerecEvent[] = []
    try {
      // NOTE: only a synchronous store (localStorage) can be merged without racing; async ones throw here.
      stored = JSON.parse(this._storage.getItem(`${this._o.storagePrefix}queue`) as string) ?? []
    } catch {}
    for (const { id } of this._queue) {
      this._owned.add(id)
      if (this._owned.size > OWNED_MEMORY) this._owned.delete(this._owned.values().next().value as string)
    }
    return [...stored.filter((event) => !this._owned.has(event.id)), ...this._queue]
  }

  /**
   * Sends the queue while the page goes away: keepalive `fetch` while the budget lasts, then
   * `sendBeacon`. Whatever neither takes stays persisted for the next page load.
   */
  protected _deliverOnHide(): void {
    if (!this._loaded) return
    let budget = KEEPALIVE_BUDGET
    const pending = this._queue.filter((event) => !this._handedOff.has(event.id))
    // NOTE: sizes are counted in UTF-16 units: exact for ASCII. A body that is larger in bytes fails
    // the browser's own check and stays queued for the next page load.
    for (const batch of chunkBySize(
      pending,
      this._batchSize,
      MAX_HIDE_BODY,
      (event) => JSON.stringify(event).length,
    )) {
      const body = JSON.stringify({ events: batch })
      let handedOff = body.length <= budget
      if (handedOff) {
        budget -= body.length
        this._send(batch, true).catch(() => {
          // NOTE: refused (e.g. 503): the events stay queued and may go out on the next page hide.
          for (const event of batch) this._handedOff.delete(event.id)
        })
      } else {
        const { endpoint, publishableKey } = this._o
        handedOff =
          globalThis.navigator?.sendBeacon?.(
            `${endpoint}/v1/events?key=${encodeURIComponent(publishableKey)}`,
            body,
          ) ?? false
      }
      if (handedOff) for (const event of batch) this._handedOff.add(event.id)
    }
  }
}
