import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { apiError, asyncStorage, FakeServer, idsOf, json } from '../test/fake-server.js'
import { EdgerecClient, uuid } from './client-core.js'
import { EdgerecClientError, EdgerecNetworkError, SdkError } from './errors.js'
import { createClient } from './index.js'
import type { ClientEvent, ClientOptions } from './types.js'

const ENDPOINT = 'https://recs.test'

let server: FakeServer
let errors: SdkError[]
let events: ClientEvent[]

function client(options: Partial<ClientOptions> = {}): EdgerecClient {
  return new EdgerecClient({
    endpoint: ENDPOINT,
    publishableKey: 'pk_test',
    fetch: server.fetch,
    storage: null,
    onError: (e) => errors.push(e),
    onEvent: (e) => events.push(e),
    ...options,
  })
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_800_000_000_000 })
  server = new FakeServer()
  errors = []
  events = []
})

afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
})

describe('EdgerecClient batching', () => {
  it('should send one batch as soon as flushAt events are queued', async () => {
    const recs = client({ flushAt: 3, flushIntervalMs: 60_000 })
    await recs.ready
    const ids = ['a', 'b', 'c'].map((itemId) => recs.track('view', { itemId }))
    await vi.advanceTimersByTimeAsync(0)
    expect(server.posts).toHaveLength(1)
    expect(idsOf(server.posts[0]!)).toEqual(ids)
    expect(server.stored.size).toBe(3)
    expect(recs.queued).toBe(0)
  })

  it('should send queued events after flushIntervalMs and not before', async () => {
    const recs = client({ flushAt: 100, flushIntervalMs: 5000 })
    await recs.ready
    recs.track('view', { itemId: 'a' })
    await vi.advanceTimersByTimeAsync(4999)
    expect(server.posts).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(server.posts).toHaveLength(1)
    expect(server.stored.size).toBe(1)
  })

  it('should split a flush into batches of maxBatchSize, oldest first', async () => {
    const recs = client({ flushAt: 100, maxBatchSize: 2 })
    await recs.ready
    const ids = ['a', 'b', 'c', 'd', 'e'].map((itemId) => recs.track('click', { itemId }))
    const result = await recs.flush()
    expect(server.posts.map(idsOf)).toEqual([ids.slice(0, 2), ids.slice(2, 4), ids.slice(4)])
    expect(result).toEqual({ ok: true, sent: 5, rejected: 0, remaining: 0 })
  })

  it('should send the events with the publishable key as a bearer token and the event fields', async () => {
    const recs = client()
    await recs.ready
    recs.track('rating', { itemId: 'sku-1', value: 4, context: { page: 'pdp' } })
    await recs.flush()
    const post = server.posts[0]!
    expect(post.url).toBe(`${ENDPOINT}/v1/events`)
    expect(post.headers.authorization).toBe('Bearer pk_test')
    const [event] = [...server.stored.values()]
    expect(event).toMatchObject({
      type: 'rating',
      itemId: 'sku-1',
      value: 4,
      context: { page: 'pdp' },
      anonymousId: recs.anonymousId,
    })
    expect(event?.timestamp).toBe(1_800_000_000_000)
    expect(event?.id).toMatch(/^[0-9a-f-]{36}$/)
  })
})

describe('EdgerecClient retries', () => {
  it('should back off exponentially with full jitter on 503', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5)
    const recs = client({ retryBaseMs: 1000, retryMaxMs: 60_000 })
    await recs.ready
    server.replies.push(apiError(503, 'UNAVAILABLE'), apiError(503, 'UNAVAILABLE'))
    recs.track('view', { itemId: 'a' })
    const first = await recs.flush()
    expect(first.ok).toBe(false)
    expect(first.error?.code).toBe('UNAVAILABLE')
    expect(first.remaining).toBe(1)
    // attempt 0: random · min(cap, base · 2⁰) = 500 ms
    await vi.advanceTimersByTimeAsync(499)
    expect(server.posts).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(server.posts).toHaveLength(2)
    // attempt 1: 0.5 · 2000 = 1000 ms
    await vi.advanceTimersByTimeAsync(999)
    expect(server.posts).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(server.posts).toHaveLength(3)
    expect(server.stored.size).toBe(1)
    expect(recs.queued).toBe(0)
    const retries = events.filter((e) => e.type === 'retry')
    expect(retries.map((e) => e.type === 'retry' && e.delayMs)).toEqual([500, 1000])
  })

  it('should retry a 200 whose body it cannot read by timer, without waiting for the next track()', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5)
    const recs = client({ retryBaseMs: 1000, flushIntervalMs: 60_000 })
    await recs.ready
    // A proxy cut the answer: the events may or may not be stored, so they are sent again (ids dedupe).
    server.replies.push(new Response('{"accepted":1,"resu', { status: 200 }), json({ accepted: 1 }))
    recs.track('view', { itemId: 'a' })
    const first = await recs.flush()
    expect(first).toMatchObject({ ok: false, remaining: 1 })
    expect(first.error).toMatchObject({ code: 'HTTP_ERROR', status: 200 })
    await vi.advanceTimersByTimeAsync(500)
    // A 200 without `results` is unreadable too.
    expect(server.posts).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1000)
    expect(server.posts).toHaveLength(3)
    expect(server.stored.size).toBe(1)
    expect(recs.queued).toBe(0)
    expect(events.filter((e) => e.type === 'retry')).toHaveLength(2)
  })

  it('should spread retry delays over the whole window (jitter) and cap them', async () => {
    const delays: number[] = []
    for (let i = 0; i < 200; i++) {
      server = new FakeServer()
      events = []
      server.replies.push(new TypeError('fetch failed'))
      const recs = client({ retryBaseMs: 1000, retryMaxMs: 60_000 })
      await recs.ready
      recs.track('view', { itemId: 'a' })
      await recs.flush()
      recs.close()
      const retry = events.find((e) => e.type === 'retry')
      if (retry?.type === 'retry') delays.push(retry.delayMs)
    }
    expect(delays).toHaveLength(200)
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...delays)).toBeLessThan(1000)
    // Full jitter: the delays are spread, not clustered at one value.
    expect(new Set(delays).size).toBeGreaterThan(100)
    expect(errors[0]).toBeInstanceOf(EdgerecNetworkError)
    expect(errors[0]?.code).toBe('NETWORK_ERROR')
  })

  it('should wait as long as Retry-After says on 429 (seconds)', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0)
    const recs = client()
    await recs.ready
    server.replies.push(apiError(429, 'RATE_LIMITED', { 'retry-after': '7' }))
    recs.track('view', { itemId: 'a' })
    await recs.flush()
    await vi.advanceTimersByTimeAsync(6999)
    expect(server.posts).toHaveLength(1)
    // Tracking during the wait does not jump the queue ahead of Retry-After.
    recs.track('view', { itemId: 'b' })
    await vi.advanceTimersByTimeAsync(0)
    expect(server.posts).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(server.posts).toHaveLength(2)
    expect(server.stored.size).toBe(2)
  })

  it('should wait until the HTTP-date of Retry-After on 503', async () => {
    const recs = client()
    await recs.ready
    const at = new Date(Date.now() + 30_000).toUTCString()
    server.replies.push(apiError(503, 'UNAVAILABLE', { 'retry-after': at }))
    recs.track('view', { itemId: 'a' })
    await recs.flush()
    await vi.advanceTimersByTimeAsync(29_000)
    expect(server.posts).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1000)
    expect(server.posts).toHaveLength(2)
  })

  it('should not retry a 400 batch: drop it and report the server code through onError', async () => {
    const recs = client()
    await recs.ready
    server.replies.push(apiError(400, 'INVALID_BATCH'))
    recs.track('view', { itemId: 'a' })
    recs.track('view', { itemId: 'b' })
    const result = await recs.flush()
    expect(result).toEqual({ ok: true, sent: 0, rejected: 2, remaining: 0 })
    expect(errors.map((e) => e.code)).toEqual(['INVALID_BATCH'])
    expect((errors[0]!.details as { events: unknown[] }).events).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(120_000)
    expect(server.posts).toHaveLength(1)
  })

  it('should drop events the server rejects, report them, and keep the rest', async () => {
    const recs = client()
    await recs.ready
    const good = recs.track('view', { itemId: 'a' })!
    const bad = recs.track('view', { itemId: 'b' })!
    server.reject.add(bad)
    const result = await recs.flush()
    expect(result).toMatchObject({ ok: true, sent: 1, rejected: 1, remaining: 0 })
    expect([...server.stored.keys()]).toEqual([good])
    expect(errors).toHaveLength(1)
    expect(errors[0]?.code).toBe('EVENT_REJECTED')
    expect(
      events.some((e) => e.type === 'rejected' && e.event.id === bad && e.errors[0]?.code === 'too_long'),
    ).toBe(true)
  })

  it('should halve the batch on 413 and still deliver everything', async () => {
    const recs = client({ maxBatchSize: 4 })
    await recs.ready
    server.replies.push(apiError(413, 'PAYLOAD_TOO_LARGE'))
    for (const itemId of ['a', 'b', 'c', 'd']) recs.track('view', { itemId })
    const result = await recs.flush()
    expect(server.posts.map((p) => idsOf(p).length)).toEqual([4, 2, 2])
    expect(result).toMatchObject({ ok: true, sent: 4 })
  })

  it('should keep events and not retry on 401 with the default predicate, reporting UNAUTHORIZED', async () => {
    const recs = client({ flushIntervalMs: 1000 })
    await recs.ready
    server.replies.push(apiError(401, 'UNAUTHORIZED'))
    recs.track('view', { itemId: 'a' })
    const result = await recs.flush()
    expect(result).toMatchObject({ ok: false, remaining: 1 })
    expect(result.error).toBeInstanceOf(EdgerecClientError)
    expect((result.error as EdgerecClientError).status).toBe(401)
    expect(events.some((e) => e.type === 'retry')).toBe(false)
    // A later flush (the app fixed its key) delivers the kept event.
    expect((await recs.flush()).sent).toBe(1)
  })

  it('should not send a request per track() after a non-retryable failure (wrong key): it backs off', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5)
    const recs = client({ flushAt: 2, flushIntervalMs: 100, retryBaseMs: 1000 })
    await recs.ready
    for (let i = 0; i < 5; i++) server.replies.push(apiError(401, 'UNAUTHORIZED'))
    recs.track('view', { itemId: 'a' })
    recs.track('view', { itemId: 'b' })
    await vi.advanceTimersByTimeAsync(0)
    expect(server.posts).toHaveLength(1)
    for (let i = 0; i < 10; i++) recs.track('view', { itemId: `c${i}` })
    await vi.advanceTimersByTimeAsync(499)
    expect(server.posts).toHaveLength(1)
    // Backoff 0.5 · 1000 ms after the failure, the scheduled flush tries again (and nothing is lost).
    await vi.advanceTimersByTimeAsync(1)
    expect(server.posts).toHaveLength(2)
    expect(recs.queued).toBe(12)
  })

  it('should let a custom retry predicate decide', async () => {
    const retry = vi.fn(() => false)
    const recs = client({ retry })
    await recs.ready
    server.replies.push(apiError(503, 'UNAVAILABLE'))
    recs.track('view', { itemId: 'a' })
    await recs.flush()
    expect(retry).toHaveBeenCalledWith(expect.objectContaining({ code: 'UNAVAILABLE' }), 0)
    await vi.advanceTimersByTimeAsync(120_000)
    expect(server.posts).toHaveLength(1)
    expect(recs.queued).toBe(1)
  })
})

describe('EdgerecClient queue bound', () => {
  it('should drop the oldest events beyond maxQueueSize, count and report them', async () => {
    const recs = client({ maxQueueSize: 3, flushAt: 100 })
    await recs.ready
    const ids = ['a', 'b', 'c', 'd', 'e'].map((itemId) => recs.track('view', { itemId }))
    expect(recs.queued).toBe(3)
    expect(recs.dropped).toBe(2)
    expect(errors.map((e) => e.code)).toEqual(['QUEUE_OVERFLOW', 'QUEUE_OVERFLOW'])
    expect(events.filter((e) => e.type === 'dropped').map((e) => e.type === 'dropped' && e.total)).toEqual([
      1, 2,
    ])
    await recs.flush()
    expect([...server.stored.keys()]).toEqual(ids.slice(2))
  })
})

describe('EdgerecClient persistence', () => {
  it('should keep the queue and identity in async storage and deliver after a restart, each event once', async () => {
    const storage = asyncStorage()
    server.replies.push(new TypeError('offline'))
    const first = client({ storage, retry: () => false })
    await first.ready
    first.identify('user-42')
    const ids = [first.track('view', { itemId: 'a' }), first.track('purchase', { itemId: 'b', value: 2 })]
    await first.flush()
    first.close()
    expect(server.stored.size).toBe(0)
    await vi.advanceTimersByTimeAsync(0)
    expect(JSON.parse(storage.values.get('edgerec:queue')!).map((e: { id: string }) => e.id)).toEqual(ids)

    const second = client({ storage })
    await second.ready
    expect(second.anonymousId).toBe(first.anonymousId)
    expect(second.userId).toBe('user-42')
    expect(second.queued).toBe(2)
    await second.flush()
    expect([...server.stored.keys()]).toEqual(ids)
    expect(
      [...server.stored.values()].every((e) => e.userId === 'user-42' && e.anonymousId === first.anonymousId),
    ).toBe(true)
    await vi.advanceTimersByTimeAsync(0)
    expect(JSON.parse(storage.values.get('edgerec:queue')!)).toEqual([])
  })

  it('should write the queue once for a burst of track() calls, with every event in it', async () => {
    const storage = asyncStorage()
    const setItem = vi.spyOn(storage, 'setItem')
    const recs = client({ storage, flushAt: 1000 })
    await recs.ready
    await vi.advanceTimersByTimeAsync(0)
    setItem.mockClear()
    const ids = Array.from({ length: 200 }, (_, i) => recs.track('view', { itemId: `sku-${i}` }))
    await vi.advanceTimersByTimeAsync(0)
    const queueWrites = setItem.mock.calls.filter(([key]) => key === 'edgerec:queue')
    expect(queueWrites).toHaveLength(1)
    expect(JSON.parse(storage.values.get('edgerec:queue')!).map((e: { id: string }) => e.id)).toEqual(ids)
    recs.track('view', { itemId: 'later' })
    await vi.advanceTimersByTimeAsync(0)
    expect(JSON.parse(storage.values.get('edgerec:queue')!)).toHaveLength(201)
  })

  it('should keep events tracked before storage was read, after the stored ones', async () => {
    const storage = asyncStorage()
    const stored = { id: 'old-1', type: 'view', itemId: 'x', timestamp: 1, anonymousId: 'anon-1' }
    storage.values.set('edgerec:queue', JSON.stringify([stored]))
    storage.values.set('edgerec:anon', 'anon-1')
    const recs = client({ storage })
    const id = recs.track('view', { itemId: 'y' })
    await recs.ready
    expect(recs.anonymousId).toBe('anon-1')
    await recs.flush()
    expect([...server.stored.keys()]).toEqual(['old-1', id])
    expect(server.stored.get(id!)?.anonymousId).toBe('anon-1')
  })

  it('should give the stored anonymous id to events tracked after identify() but before storage was read', async () => {
    const storage = asyncStorage()
    storage.values.set('edgerec:anon', 'anon-stored')
    const recs = client({ storage })
    recs.identify('user-early')
    const id = recs.track('view', { itemId: 'a' })!
    await recs.ready
    await recs.flush()
    expect(server.stored.get(id)).toMatchObject({ userId: 'user-early', anonymousId: 'anon-stored' })
  })

  it('should dedupe stored events by id on load', async () => {
    const storage = asyncStorage()
    const event = { id: 'dup-1', type: 'view', itemId: 'x', timestamp: 1, anonymousId: 'anon-1' }
    storage.values.set('edgerec:queue', JSON.stringify([event, event, { ...event, id: 'dup-2' }]))
    const recs = client({ storage })
    await recs.ready
    expect(recs.queued).toBe(2)
    await recs.flush()
    expect(server.posts.map(idsOf)).toEqual([['dup-1', 'dup-2']])
  })

  it('should store each event once when an answer is lost and the batch is sent again', async () => {
    const recs = client()
    await recs.ready
    // The server stores the batch, then the connection drops before the answer.
    server.replies.push((request) => {
      server.ingest(request)
      throw new TypeError('connection reset')
    })
    const ids = [recs.track('view', { itemId: 'a' }), recs.track('view', { itemId: 'b' })]
    expect((await recs.flush()).ok).toBe(false)
    const retried = await recs.flush()
    expect(retried).toMatchObject({ ok: true, sent: 2, remaining: 0 })
    expect(server.posts.map(idsOf)).toEqual([ids, ids])
    expect([...server.stored.keys()]).toEqual(ids)
  })

  it('should report a failing store and go on in memory', async () => {
    const broken = {
      getItem: async () => {
        throw new Error('disk full')
      },
      setItem: async () => {
        throw new Error('disk full')
      },
      removeItem: async () => {},
    }
    const recs = client({ storage: broken })
    await recs.ready
    recs.track('view', { itemId: 'a' })
    await recs.flush()
    expect(server.stored.size).toBe(1)
    expect(errors.some((e) => e.code === 'STORAGE_ERROR')).toBe(true)
    expect(recs.anonymousId).toMatch(/^[0-9a-f-]{36}$/)
  })
})

describe('EdgerecClient identity', () => {
  it('should stamp events with the anonymous id, then both ids after identify, and a new anonymous id after reset', async () => {
    const storage = asyncStorage()
    const recs = client({ storage })
    await recs.ready
    const anon = recs.anonymousId
    recs.track('view', { itemId: 'a' })
    recs.identify('user-7')
    recs.track('view', { itemId: 'b' })
    recs.reset()
    recs.track('view', { itemId: 'c' })
    await recs.flush()
    const sent = [...server.stored.values()]
    expect(sent.map((e) => [e.userId, e.anonymousId])).toEqual([
      [undefined, anon],
      ['user-7', anon],
      [undefined, recs.anonymousId],
    ])
    expect(recs.anonymousId).not.toBe(anon)
    expect(recs.userId).toBeUndefined()
    await vi.advanceTimersByTimeAsync(0)
    expect(storage.values.get('edgerec:anon')).toBe(recs.anonymousId)
    expect(storage.values.has('edgerec:uid')).toBe(false)
  })
})

describe('EdgerecClient identify()', () => {
  const recsBody = { userId: 'u', items: [], source: 'fold-in', modelVersion: 'v1' }

  it('should link the anonymous id on the server at once and ask for recommendations only after the link', async () => {
    const recs = client()
    await recs.ready
    let release!: () => void
    server.identifyReplies.push(async (request) => {
      await new Promise<void>((resolve) => {
        release = resolve
      })
      return server.link(request)
    })
    server.replies.push(json(recsBody))
    const linked = recs.identify('user-9')
    const answer = recs.recommend()
    await vi.advanceTimersByTimeAsync(0)
    // The read waits for the link: only the identify request has gone out.
    expect(server.requests.map((r) => r.url.slice(ENDPOINT.length))).toEqual(['/v1/identify'])
    expect(JSON.parse(server.identifies[0]!.body!)).toEqual({
      userId: 'user-9',
      anonymousId: recs.anonymousId,
    })
    expect(server.identifies[0]!.headers.authorization).toBe('Bearer pk_test')
    release()
    await linked
    expect((await answer).source).toBe('fold-in')
    expect(server.requests.map((r) => r.url.slice(ENDPOINT.length))).toEqual([
      '/v1/identify',
      '/v1/users/user-9/recommendations',
    ])
    expect(server.links.get(recs.anonymousId!)).toBe('user-9')
    expect(server.posts).toHaveLength(0)
  })

  it('should report a failed link through onError, never reject, and still serve reads', async () => {
    const recs = client()
    await recs.ready
    server.identifyReplies.push(apiError(503, 'STORAGE_UNAVAILABLE'))
    server.replies.push(json(recsBody))
    await expect(recs.identify('user-10')).resolves.toBeUndefined()
    expect(errors.map((e) => e.code)).toEqual(['STORAGE_UNAVAILABLE'])
    expect((await recs.recommend()).source).toBe('fold-in')
    // Later events carry both ids, so the worker links them on the next delivery too.
    recs.track('view', { itemId: 'a' })
    await recs.flush()
    expect([...server.stored.values()][0]).toMatchObject({ userId: 'user-10', anonymousId: recs.anonymousId })
  })

  it('should wait for the stored anonymous id when identify() is called before storage was read', async () => {
    const storage = asyncStorage(new Map([['edgerec:anon', 'stored-anon']]))
    const recs = client({ storage })
    await recs.identify('user-early')
    expect(JSON.parse(server.identifies[0]!.body!)).toEqual({
      userId: 'user-early',
      anonymousId: 'stored-anon',
    })
  })

  it("should send the user token on the link and on that user's recommendations only", async () => {
    let calls = 0
    const recs = client({ cacheTtlMs: 0, userToken: async () => `option-token-${++calls}` })
    await recs.ready
    server.replies.push(json(recsBody), json(recsBody), json(recsBody), json(recsBody))
    await recs.recommend()
    await recs.identify('user-11')
    await recs.recommend()
    await recs.recommend({ userId: 'someone-else' })
    await recs.identify('user-12', { token: 'given-token' })
    await recs.recommend()
    const tokens = server.requests.map((r) => [
      r.url.slice(ENDPOINT.length),
      r.headers['x-edgerec-user-token'],
    ])
    expect(tokens).toEqual([
      [`/v1/users/${recs.anonymousId}/recommendations`, undefined],
      ['/v1/identify', 'option-token-1'],
      ['/v1/users/user-11/recommendations', 'option-token-2'],
      ['/v1/users/someone-else/recommendations', undefined],
      ['/v1/identify', 'given-token'],
      ['/v1/users/user-12/recommendations', 'given-token'],
    ])
  })

  it('should start a new anonymous id and drop the token on reset(), so the next visitor gets nothing of the old user', async () => {
    const recs = client({ cacheTtlMs: 0 })
    await recs.ready
    const before = recs.anonymousId
    await recs.identify('user-13', { token: 't13' })
    recs.reset()
    server.replies.push(json(recsBody))
    await recs.recommend()
    const last = server.requests.at(-1)!
    expect(recs.anonymousId).not.toBe(before)
    expect(last.url).toBe(`${ENDPOINT}/v1/users/${recs.anonymousId}/recommendations`)
    expect(last.headers['x-edgerec-user-token']).toBeUndefined()
    expect(server.links.has(recs.anonymousId!)).toBe(false)
  })

  it('should report an invalid user id and send nothing', async () => {
    const recs = client()
    await recs.identify('')
    expect(errors.map((e) => e.code)).toEqual(['INVALID_ARGUMENT'])
    expect(server.requests).toHaveLength(0)
    expect(recs.userId).toBeUndefined()
  })
})

describe('EdgerecClient input errors', () => {
  it('should never throw from track: bad arguments and unserializable context go to onError', async () => {
    const recs = client()
    await recs.ready
    const circular: Record<string, unknown> = {}
    circular.self = circular
    expect(recs.track('', { itemId: 'a' })).toBeUndefined()
    expect(recs.track('view', undefined as unknown as { itemId: string })).toBeUndefined()
    expect(recs.track('view', { itemId: 'a', context: circular as never })).toBeUndefined()
    expect(errors.map((e) => e.code)).toEqual(['INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'INTERNAL'])
    expect(recs.queued).toBe(0)
  })

  it('should throw INVALID_ARGUMENT from the constructor without endpoint or key', () => {
    expect(() => new EdgerecClient({ endpoint: '', publishableKey: 'pk' })).toThrow(SdkError)
    expect(() => createClient({ endpoint: ENDPOINT } as ClientOptions)).toThrow(/publishableKey/)
  })
})

describe('EdgerecClient flush()', () => {
  it('should return the same promise to concurrent callers and settle with an empty queue', async () => {
    const recs = client()
    recs.track('view', { itemId: 'a' })
    const [a, b] = [recs.flush(), recs.flush()]
    expect(a).toBe(b)
    expect(await a).toEqual({ ok: true, sent: 1, rejected: 0, remaining: 0 })
    expect(await recs.flush()).toEqual({ ok: true, sent: 0, rejected: 0, remaining: 0 })
  })

  it('should include events tracked while a batch is in flight', async () => {
    const recs = client()
    await recs.ready
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    server.replies.push(async (request) => {
      await gate
      return server.ingest(request)
    })
    recs.track('view', { itemId: 'a' })
    const flushing = recs.flush()
    await vi.advanceTimersByTimeAsync(0)
    recs.track('view', { itemId: 'b' })
    release()
    expect(await flushing).toMatchObject({ ok: true, sent: 2, remaining: 0 })
    expect(server.posts).toHaveLength(2)
  })

  it('should settle (never reject) with the error when the attempt fails', async () => {
    const recs = client()
    server.replies.push(new TypeError('offline'))
    recs.track('view', { itemId: 'a' })
    const result = await recs.flush()
    expect(result.ok).toBe(false)
    expect(result.error).toBeInstanceOf(EdgerecNetworkError)
    expect(result.remaining).toBe(1)
  })
})

describe('EdgerecClient reads', () => {
  const recsBody = (tag: string) => ({
    userId: 'u',
    items: [{ itemId: tag, score: 1 }],
    source: 'model',
    modelVersion: 'v1',
  })

  it('should build the recommendation URL for the identified user with k, exclude and explain', async () => {
    const recs = client()
    await recs.ready
    server.replies.push(json(recsBody('a')))
    recs.identify('user 1')
    const answer = await recs.recommend({ k: 5, exclude: ['x', 'y'], explain: true })
    expect(answer.items[0]?.itemId).toBe('a')
    expect(server.requests.map((r) => r.url)).toEqual([
      `${ENDPOINT}/v1/identify`,
      `${ENDPOINT}/v1/users/user%201/recommendations?k=5&exclude=x%2Cy&explain=1`,
    ])
    expect(server.requests[1]?.headers.authorization).toBe('Bearer pk_test')
  })

  it('should ask for the anonymous id before identify, and build similar and popular URLs', async () => {
    const recs = client({ cacheTtlMs: 0 })
    await recs.ready
    server.replies.push(
      json(recsBody('a')),
      json({ itemId: 's', items: [], source: 'model', modelVersion: null }),
      json({ items: [], source: 'trending', modelVersion: null }),
    )
    await recs.recommend()
    await recs.similar('sku/1', { k: 6 })
    await recs.popular({ kind: 'trending', k: 3 })
    expect(server.requests.map((r) => r.url.slice(ENDPOINT.length))).toEqual([
      `/v1/users/${recs.anonymousId}/recommendations`,
      '/v1/items/sku%2F1/similar?k=6',
      '/v1/popular?k=3&kind=trending',
    ])
  })

  it('should send catalog filters as query parameters on recommend, similar and popular', async () => {
    const recs = client({ cacheTtlMs: 0 })
    await recs.ready
    server.replies.push(
      json(recsBody('a')),
      json({ itemId: 's', items: [], source: 'model', modelVersion: null }),
      json({ items: [], source: 'popular', modelVersion: null }),
    )
    await recs.recommend({
      userId: 'u',
      k: 4,
      filter: { category: ['shoes', 'boots'], maxPrice: 50, available: 'any' },
    })
    await recs.similar('s', { filter: { tag: 'red', filter: 'price<10 AND NOT tag:sale' } })
    await recs.popular({ filter: { minPrice: 5, available: false } })
    expect(server.requests.map((r) => r.url.slice(ENDPOINT.length))).toEqual([
      '/v1/users/u/recommendations?k=4&category=shoes%2Cboots&maxPrice=50&available=any',
      '/v1/items/s/similar?tag=red&filter=price%3C10%20AND%20NOT%20tag%3Asale',
      '/v1/popular?minPrice=5&available=false',
    ])
  })

  it('should serve from cache within the TTL, serve stale while revalidating, then wait for fresh', async () => {
    const recs = client({ cacheTtlMs: 1000, staleWhileRevalidateMs: 5000 })
    await recs.ready
    server.replies.push(json(recsBody('v1')), json(recsBody('v2')), json(recsBody('v3')))
    expect((await recs.recommend()).items[0]?.itemId).toBe('v1')
    await vi.advanceTimersByTimeAsync(999)
    expect((await recs.recommend()).items[0]?.itemId).toBe('v1')
    expect(server.requests).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    // Stale: answered at once from cache, one refetch in the background.
    expect((await recs.recommend()).items[0]?.itemId).toBe('v1')
    expect((await recs.recommend()).items[0]?.itemId).toBe('v1')
    await vi.advanceTimersByTimeAsync(0)
    expect(server.requests).toHaveLength(2)
    expect((await recs.recommend()).items[0]?.itemId).toBe('v2')
    // Past TTL + stale window: the caller waits for a fresh answer.
    await vi.advanceTimersByTimeAsync(6000)
    expect((await recs.recommend()).items[0]?.itemId).toBe('v3')
    expect(server.requests).toHaveLength(3)
  })

  it('should not cache failures', async () => {
    const recs = client()
    server.replies.push(
      apiError(503, 'UNAVAILABLE'),
      json({ items: [{ itemId: 'p', score: 2 }], source: 'popular', modelVersion: 'v1' }),
    )
    await expect(recs.popular()).rejects.toMatchObject({ code: 'UNAVAILABLE', status: 503 })
    expect((await recs.popular()).items[0]?.itemId).toBe('p')
  })

  it('should clear the cache after events are delivered (they change the recommendations)', async () => {
    const recs = client()
    await recs.ready
    server.replies.push(json(recsBody('before')))
    await recs.recommend()
    recs.track('view', { itemId: 'a' })
    await recs.flush()
    server.replies.push(json(recsBody('after')))
    expect((await recs.recommend()).items[0]?.itemId).toBe('after')
  })

  it('should abort a request after timeoutMs with TIMEOUT', async () => {
    const hanging = (_url: string | URL | Request, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason))
      })
    const recs = client({ fetch: hanging as typeof fetch, timeoutMs: 2000 })
    const answer = recs.popular()
    const settled = expect(answer).rejects.toMatchObject({ name: 'EdgerecNetworkError', code: 'TIMEOUT' })
    await vi.advanceTimersByTimeAsync(2000)
    await settled
  })

  it("should throw EdgerecClientError with the server's code, status and details", async () => {
    const recs = client()
    server.replies.push(
      json(
        { error: { code: 'ITEM_NOT_FOUND', message: 'No item sku-9.', details: { itemId: 'sku-9' } } },
        404,
      ),
    )
    const error = await recs.similar('sku-9').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(EdgerecClientError)
    expect(error).toBeInstanceOf(SdkError)
    expect(error).toMatchObject({
      code: 'ITEM_NOT_FOUND',
      status: 404,
      message: 'No item sku-9.',
      details: { itemId: 'sku-9' },
    })
  })

  it('should answer HTTP_ERROR for an error status without an edgerec body', async () => {
    const recs = client()
    server.replies.push(new Response('<html>bad gateway</html>', { status: 502 }))
    await expect(recs.popular()).rejects.toMatchObject({ code: 'HTTP_ERROR', status: 502 })
  })
})

describe('EdgerecClient impressions and attribution (issue 15)', () => {
  const list = (recId: string) => ({
    items: [{ itemId: 'a', score: 1 }],
    source: 'popular',
    modelVersion: 'v1',
    recId,
  })
  const R1 = '11111111-1111-4111-8111-111111111111'
  const R2 = '22222222-2222-4222-8222-222222222222'

  it('should report a shown list with impression() and credit a click to it with track({ recId })', async () => {
    const recs = client()
    await recs.ready
    server.replies.push(json(list(R1)), json({ shown: 1 }))
    const answer = await recs.popular({ k: 1 })
    await expect(recs.impression(answer)).resolves.toEqual({ shown: 1 })
    const impression = server.requests.at(-1)!
    expect([
      impression.method,
      impression.url,
      impression.headers.authorization,
      JSON.parse(impression.body!),
    ]).toEqual(['POST', `${ENDPOINT}/v1/impressions`, 'Bearer pk_test', { recIds: [R1] }])
    recs.track('click', { itemId: 'a', recId: answer.recId })
    recs.track('view', { itemId: 'a', recId: answer.recId, context: { page: 'home' } })
    recs.track('view', { itemId: 'b', context: { page: 'pdp' } })
    await recs.flush()
    expect([...server.stored.values()].map((e) => e.context)).toEqual([
      { recId: R1 },
      { page: 'home', recId: R1 },
      { page: 'pdp' },
    ])
    expect(errors).toEqual([])
  })

  it('should never reject from impression(): a failure goes to onError', async () => {
    const recs = client()
    server.replies.push(apiError(400, 'INVALID_PARAMETER'), new Error('offline'))
    await expect(recs.impression({})).resolves.toBeUndefined()
    await expect(recs.impression(undefined as unknown as { recId: string })).resolves.toBeUndefined()
    expect(errors.map((e) => e.code)).toEqual(['INVALID_PARAMETER', 'NETWORK_ERROR'])
  })

  it('should report every fetched list once with autoImpressions, not each cache hit, and nothing without it', async () => {
    const recs = client({ autoImpressions: true })
    await recs.ready
    server.replies.push(json(list(R1)), json({ shown: 1 }), json(list(R2)), json({ shown: 1 }))
    await recs.popular()
    await recs.popular()
    await recs.similar('x')
    await vi.advanceTimersByTimeAsync(0)
    expect(
      server.requests.map((r) => [r.method, r.url.slice(ENDPOINT.length), r.body && JSON.parse(r.body)]),
    ).toEqual([
      ['GET', '/v1/popular', undefined],
      ['POST', '/v1/impressions', { recIds: [R1] }],
      ['GET', '/v1/items/x/similar', undefined],
      ['POST', '/v1/impressions', { recIds: [R2] }],
    ])
    const manual = client()
    server.replies.push(json(list(R1)))
    await manual.popular()
    await vi.advanceTimersByTimeAsync(0)
    expect(server.requests).toHaveLength(5)
  })
})

describe('createClient', () => {
  it('should give the platform-free client where there is no document (Node, React Native, Workers)', () => {
    const recs = createClient({ endpoint: ENDPOINT, publishableKey: 'pk', fetch: server.fetch })
    expect(recs).toBeInstanceOf(EdgerecClient)
    expect(recs.constructor.name).toBe('EdgerecClient')
  })
})

describe('client shape', () => {
  it('should work with detached methods and behind a Proxy (Vue reactive, MobX observable)', async () => {
    const recs = client()
    await recs.ready
    const { track, flush } = recs
    track('view', { itemId: 'detached' })
    // A Proxy calls methods and getters with the proxy as `this`; private class fields would throw here.
    const observed = new Proxy(recs, { get: (target, key, receiver) => Reflect.get(target, key, receiver) })
    observed.track('view', { itemId: 'proxied' })
    expect(observed.queued).toBe(2)
    expect(observed.anonymousId).toBe(recs.anonymousId)
    expect((await flush()).sent).toBe(2)
    expect(errors).toEqual([])
    expect([...server.stored.values()].map((e) => e.itemId)).toEqual(['detached', 'proxied'])
  })
})

describe('uuid', () => {
  it('should make RFC 4122 v4 ids without crypto.randomUUID (Hermes without a polyfill)', () => {
    vi.stubGlobal('crypto', undefined)
    try {
      const ids = Array.from({ length: 2000 }, () => uuid())
      for (const id of ids)
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      expect(new Set(ids).size).toBe(ids.length)
    } finally {
      vi.unstubAllGlobals()
    }
  })
})

describe('debug mode', () => {
  it('should log queue and delivery steps with console.debug', async () => {
    const debug = vi.spyOn(console, 'debug').mockImplementation(() => {})
    const recs = client({ debug: true })
    recs.track('view', { itemId: 'a' })
    await recs.flush()
    const steps = debug.mock.calls.map((call) => call[1])
    expect(debug.mock.calls.every((call) => call[0] === '[edgerec]')).toBe(true)
    expect(steps).toEqual(expect.arrayContaining(['queued', 'sent']))
  })
})
