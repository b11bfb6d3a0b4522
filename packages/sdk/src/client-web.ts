/**
 * The browser layer: `localStorage` persistence and delivery when the page is hidden or unloaded,
 * through `fetch(..., { keepalive: true })` within its 64 KiB budget.
 *
 * Events sent that way stay in the persisted queue until an answer arrives. When the page dies
 * first, the next page load sends them again and the server, which ingests each event id once,
 * drops the copies: at-least-once delivery plus dedupe by id is exactly-once storage.
 *
 * @module
 */
import { EdgerecClient, type Platform } from './client-core.js'
import { takeWithin } from './queue.js'
import { webStorage } from './storage.js'
import type { ClientOptions, EdgerecEvent } from './types.js'

/**
 * Largest body of the page-hide request. A page may have 64 KiB of `keepalive` bodies in flight
 * (Fetch standard, "keepalive bytes"; Chromium counts `sendBeacon` in the same budget); this leaves
 * room for a request an app sends itself.
 */
const MAX_HIDE_BODY = 60_000
/** Own ids remembered for the shared-queue merge: enough for several full queues. */
const OWNED_MEMORY = 10_000

/** The page layer of one client. */
const webPlatform: Platform = (client) => {
  // NOTE: `l` (loaded), `b` (batch size) and `s` (storage) change later: read them from `client` when used.
  const { o: options, q: queue, send } = client
  /** Ids handed to a keepalive request in this page's life: not sent again on the next hide. */
  const handedOff = new Set<string>()
  /**
   * Ids of events this page has had in its queue: once they leave it (sent, rejected, dropped),
   * copies another tab wrote back to the shared store are not kept.
   */
  const owned = new Set<string>()
  const listen = (method: 'addEventListener' | 'removeEventListener'): void => {
    if (typeof document !== 'undefined') {
      document[method]('visibilitychange', onHide)
      globalThis[method]('pagehide', onHide)
    }
  }

  /**
   * Sends the oldest queued events that fit in one keepalive request while the page goes away.
   * The rest, and whatever the browser refuses, stays persisted for the next page load.
   */
  function onHide(event: Event): void {
    if ((event.type === 'pagehide' || document.visibilityState === 'hidden') && client.l) {
      // NOTE: sizes are counted in UTF-16 units: exact for ASCII. A body that is larger in bytes
      // fails the browser's own check and stays queued.
      const batch = takeWithin(
        queue.filter((event) => !handedOff.has(event.id)),
        client.b,
        MAX_HIDE_BODY - '{"events":[]}'.length,
        (event) => JSON.stringify(event).length,
      )
      if (batch[0]) {
        for (const event of batch) handedOff.add(event.id)
        send(batch, true).catch(() => {
          // NOTE: refused (e.g. 503): the events stay queued and may go out on the next page hide.
          for (const event of batch) handedOff.delete(event.id)
        })
      }
    }
  }

  listen('addEventListener')
  return {
    s: webStorage,
    c: () => listen('removeEventListener'),
    /**
     * Tabs of one origin share one stored queue. Each write keeps the events other tabs stored, so
     * a tab that closes or crashes before delivering leaves its events for the next page load
     * instead of losing them to another tab's write. The next load may send an event its tab also
     * sent: the server stores each id once.
     */
    q(): EdgerecEvent[] {
      let stored: EdgerecEvent[] = []
      try {
        // NOTE: only a synchronous store (localStorage) can be merged without racing; async ones throw here.
        stored = JSON.parse(client.s.getItem(`${options.storagePrefix}queue`) as string) ?? []
      } catch {}
      // NOTE: forgetting (rarely) only lets an already sent copy back in: a server duplicate, never a loss.
      if (owned.size > OWNED_MEMORY) owned.clear()
      for (const { id } of queue) owned.add(id)
      return [...stored.filter((event) => !owned.has(event.id)), ...queue]
    },
  }
}

/** The client for pages (and anything with a `document`): `localStorage` and delivery on page hide. */
export class EdgerecWebClient extends EdgerecClient {
  constructor(options: ClientOptions) {
    super(options, webPlatform)
  }
}
