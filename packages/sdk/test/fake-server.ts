/**
 * Test doubles for the unit tests: an in-memory edgerec ingest server behind a `fetch` function
 * (it dedupes by event id like the real worker) and an asynchronous key-value store.
 *
 * @module
 */
import type { KeyValueStorage } from '../src/storage.js'
import type { EdgerecEvent, IngestResponse } from '../src/types.js'

/** One request the fake server saw. */
export interface SeenRequest {
  method: string
  url: string
  headers: Record<string, string>
  body: string | undefined
  keepalive: boolean
  at: number
}

/** What the next request gets: a Response, a thrown error (network failure) or the default ingest. */
export type Reply = Response | Error | 'ingest' | ((request: SeenRequest) => Response | Promise<Response>)

/** A JSON answer. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  })
}

/** The worker's error body. */
export function apiError(status: number, code: string, headers: Record<string, string> = {}): Response {
  return json({ error: { code, message: `${code} from the test server.` } }, status, headers)
}

/**
 * A fake edge worker: answers `POST /v1/events` by storing each event id once, and answers other
 * requests from the `replies` script (first in, first out), then `ingest`. `POST /v1/identify` has
 * its own script (`identifyReplies`), then records the link with the worker's first-link-wins rule.
 */
export class FakeServer {
  readonly requests: SeenRequest[] = []
  /** Stored events by id, in arrival order. */
  readonly stored = new Map<string, EdgerecEvent>()
  /** Scripted replies for the next requests, in order. */
  readonly replies: Reply[] = []
  /** Event ids to answer `rejected` for. */
  readonly reject = new Set<string>()
  /** Anonymous id → user id links recorded by `POST /v1/identify`. */
  readonly links = new Map<string, string>()
  /** Scripted replies for the next `POST /v1/identify` requests, in order. */
  readonly identifyReplies: Reply[] = []

  readonly fetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = String(input)
    const headers = Object.fromEntries(
      Object.entries((init.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]),
    )
    const request: SeenRequest = {
      method: init.method ?? 'GET',
      url,
      headers,
      body: typeof init.body === 'string' ? init.body : undefined,
      keepalive: init.keepalive === true,
      at: Date.now(),
    }
    this.requests.push(request)
    const identify = url.includes('/v1/identify')
    const reply = (identify ? this.identifyReplies : this.replies).shift() ?? 'ingest'
    if (reply instanceof Error) throw reply
    if (reply instanceof Response) return reply
    if (typeof reply === 'function') return reply(request)
    return identify ? this.link(request) : this.ingest(request)
  }

  /** `POST /v1/identify`: the first user an anonymous id is linked to keeps it. */
  link(request: SeenRequest): Response {
    const { userId, anonymousId } = JSON.parse(request.body ?? '{}') as Record<string, string>
    const linked = !this.links.has(anonymousId!)
    if (linked) this.links.set(anonymousId!, userId!)
    return json({ userId, anonymousId, linked })
  }

  /** The real worker's semantics: each id stored once; later copies are `duplicate`. */
  ingest(request: SeenRequest): Response {
    const { events } = JSON.parse(request.body ?? '{}') as { events: EdgerecEvent[] }
    const answer: IngestResponse = { accepted: 0, duplicates: 0, rejected: 0, results: [] }
    events.forEach((event, index) => {
      if (this.reject.has(event.id)) {
        answer.rejected++
        answer.results.push({
          index,
          id: event.id,
          status: 'rejected',
          errors: [{ field: 'itemId', code: 'too_long', message: 'itemId is too long.' }],
        })
      } else if (this.stored.has(event.id)) {
        answer.duplicates++
        answer.results.push({ index, id: event.id, status: 'duplicate' })
      } else {
        this.stored.set(event.id, event)
        answer.accepted++
        answer.results.push({ index, id: event.id, status: 'accepted' })
      }
    })
    return json(answer)
  }

  /** Requests to `POST /v1/identify`. */
  get identifies(): SeenRequest[] {
    return this.requests.filter((r) => r.url.includes('/v1/identify'))
  }

  /** Requests to `POST /v1/events`. */
  get posts(): SeenRequest[] {
    return this.requests.filter((r) => r.method === 'POST' && r.url.includes('/v1/events'))
  }
}

/** Event ids in a request body. */
export function idsOf(request: SeenRequest): string[] {
  return (JSON.parse(request.body ?? '{}') as { events: EdgerecEvent[] }).events.map((e) => e.id)
}

/** An asynchronous store over a shared Map (what React Native's AsyncStorage looks like). */
export function asyncStorage(
  values = new Map<string, string>(),
): KeyValueStorage & { values: Map<string, string> } {
  return {
    values,
    getItem: async (key) => values.get(key) ?? null,
    setItem: async (key, value) => void values.set(key, value),
    removeItem: async (key) => void values.delete(key),
  }
}
