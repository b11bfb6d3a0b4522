/**
 * The SDK against the real edge worker: packages/edge-worker bundled from source with esbuild and
 * run in workerd by Miniflare on 127.0.0.1, with a local D1 database migrated from
 * packages/edge-worker/drizzle. A fault-injecting proxy in front of it answers 503 and 429, drops
 * connections before the worker sees a request, and drops them after the worker stored a batch
 * (the answer is lost). Every event sent through the SDK must be in D1 exactly once.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EdgerecClient } from '../src/client-core.js'
import type { SdkError } from '../src/errors.js'
import { type RunningWorker, startWorker } from './worker-harness.js'

const PUBLISHABLE_KEY = 'pk_sdk_integration'

/** Faults the proxy injects, by share of requests (the rest pass through unharmed). */
const FAULTS = { unavailable: 0.15, rateLimited: 0.1, dropBefore: 0.1, dropAfter: 0.1 } as const
type Fault = keyof typeof FAULTS | 'none'

/** Mulberry32: a seeded PRNG, so a failure reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

let worker: RunningWorker
let workerUrl: URL
let proxy: Server
let proxyUrl: string
const faults: Record<Fault, number> = { unavailable: 0, rateLimited: 0, dropBefore: 0, dropAfter: 0, none: 0 }
let injecting = true
const random = prng(20261202)

/** The first requests meet every fault for sure; random ones (seeded) follow. */
const scripted: Fault[] = ['dropAfter', 'unavailable', 'none', 'rateLimited', 'dropBefore', 'dropAfter']

function pickFault(): Fault {
  if (!injecting) return 'none'
  const next = scripted.shift()
  if (next) return next
  let x = random()
  for (const [fault, share] of Object.entries(FAULTS) as [keyof typeof FAULTS, number][]) {
    if (x < share) return fault
    x -= share
  }
  return 'none'
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** Forwards one request to the worker; resolves with its status, headers and body. */
function forward(
  request: IncomingMessage,
  body: Buffer,
): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const upstream = httpRequest(
      new URL(request.url ?? '/', workerUrl),
      { method: request.method, headers: { ...request.headers, host: workerUrl.host } },
      async (response) => {
        const headers: Record<string, string> = {}
        for (const [name, value] of Object.entries(response.headers))
          if (typeof value === 'string') headers[name] = value
        resolve({ status: response.statusCode ?? 502, headers, body: await readBody(response) })
      },
    )
    upstream.on('error', reject)
    upstream.end(body)
  })
}

beforeAll(async () => {
  worker = await startWorker(PUBLISHABLE_KEY)
  workerUrl = worker.url

  proxy = createServer(async (request, response) => {
    const fault = pickFault()
    faults[fault]++
    const body = await readBody(request)
    if (fault === 'dropBefore') return void request.socket.destroy()
    if (fault === 'unavailable') {
      response.writeHead(503, { 'content-type': 'application/json' })
      return void response.end('{"error":{"code":"UNAVAILABLE","message":"Injected 503."}}')
    }
    if (fault === 'rateLimited') {
      response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '0' })
      return void response.end('{"error":{"code":"RATE_LIMITED","message":"Injected 429."}}')
    }
    try {
      const answer = await forward(request, body)
      // The worker stored the batch; the client never hears about it.
      if (fault === 'dropAfter') return void request.socket.destroy()
      response.writeHead(answer.status, answer.headers)
      response.end(answer.body)
    } catch {
      request.socket.destroy()
    }
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
}, 120_000)

afterAll(async () => {
  if (proxy) {
    proxy.closeAllConnections()
    await new Promise<void>((resolve) => proxy.close(() => resolve()))
  }
  await worker?.dispose()
})

describe('SDK against the edge worker (workerd + D1) behind a faulty network', () => {
  it('should store every event exactly once in D1 despite 503s, 429s and dropped connections', async () => {
    const errors: SdkError[] = []
    let duplicates = 0
    const recs = new EdgerecClient({
      endpoint: proxyUrl,
      publishableKey: PUBLISHABLE_KEY,
      storage: null,
      flushAt: 10,
      maxBatchSize: 20,
      flushIntervalMs: 50,
      retryBaseMs: 10,
      retryMaxMs: 100,
      timeoutMs: 5000,
      onError: (error) => errors.push(error),
      onEvent: (event) => {
        if (event.type === 'sent') duplicates += event.response.duplicates
      },
    })
    await recs.ready
    const N = 400
    const ids: string[] = []
    for (let i = 0; i < N; i++) {
      if (i === 150) recs.identify('user-sdk-1')
      const id = recs.track(i % 7 === 0 ? 'add_to_cart' : 'view', {
        itemId: `sku-${i % 37}`,
        context: { n: i },
      })
      expect(id).toBeDefined()
      ids.push(id!)
      if (i % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 5))
    }
    const deadline = Date.now() + 60_000
    while (recs.queued > 0 && Date.now() < deadline) {
      await recs.flush()
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    recs.close()
    console.info(
      `sdk→worker: ${N} events, faults ${JSON.stringify(faults)}, duplicates reported by the worker ${duplicates}`,
    )
    expect(recs.queued).toBe(0)

    const db = worker.db
    const rows = await db
      .prepare('SELECT id, user_id, anonymous_id FROM events')
      .all<{ id: string; user_id: string | null; anonymous_id: string }>()
    const storedIds = rows.results.map((row) => row.id)
    expect(storedIds).toHaveLength(N)
    expect(new Set(storedIds)).toEqual(new Set(ids))
    expect(rows.results.every((row) => row.anonymous_id === recs.anonymousId)).toBe(true)
    expect(rows.results.filter((row) => row.user_id === 'user-sdk-1')).toHaveLength(N - 150)
    // Each fault actually happened, and lost answers made the worker report duplicates on resend.
    expect(faults.unavailable).toBeGreaterThan(0)
    expect(faults.rateLimited).toBeGreaterThan(0)
    expect(faults.dropBefore).toBeGreaterThan(0)
    expect(faults.dropAfter).toBeGreaterThan(0)
    expect(duplicates).toBeGreaterThan(0)
    expect(errors.some((e) => e.code === 'NETWORK_ERROR')).toBe(true)
    expect(errors.some((e) => e.code === 'UNAVAILABLE')).toBe(true)
    expect(errors.some((e) => e.code === 'RATE_LIMITED')).toBe(true)
    // A TIMEOUT is possible on a loaded machine: it is retried like the rest.
    expect(
      errors.every((e) => ['NETWORK_ERROR', 'UNAVAILABLE', 'RATE_LIMITED', 'TIMEOUT'].includes(e.code)),
    ).toBe(true)
  })

  it('should drop and report events the worker rejects, and get typed errors from reads', async () => {
    injecting = false
    const errors: SdkError[] = []
    const recs = new EdgerecClient({
      endpoint: proxyUrl,
      publishableKey: PUBLISHABLE_KEY,
      storage: null,
      onError: (e) => errors.push(e),
    })
    await recs.ready
    const good = recs.track('view', { itemId: 'sku-ok' })!
    const bad = recs.track('Not A Type!', { itemId: 'sku-bad' })!
    const result = await recs.flush()
    expect(result).toMatchObject({ ok: true, sent: 1, rejected: 1, remaining: 0 })
    expect(errors.map((e) => e.code)).toEqual(['EVENT_REJECTED'])
    const db = worker.db
    expect(await db.prepare('SELECT count(*) AS n FROM events WHERE id = ?').bind(good).first('n')).toBe(1)
    expect(await db.prepare('SELECT count(*) AS n FROM events WHERE id = ?').bind(bad).first('n')).toBe(0)

    const wrongKey = new EdgerecClient({ endpoint: proxyUrl, publishableKey: 'pk_wrong', storage: null })
    await expect(wrongKey.popular()).rejects.toMatchObject({
      name: 'EdgerecClientError',
      code: 'UNAUTHORIZED',
      status: 401,
    })
  })

  it('should link the anonymous id to the user in D1 on identify(), before any event carries both ids', async () => {
    injecting = false
    const errors: SdkError[] = []
    const recs = new EdgerecClient({
      endpoint: proxyUrl,
      publishableKey: PUBLISHABLE_KEY,
      storage: null,
      onError: (e) => errors.push(e),
    })
    await recs.ready
    recs.track('view', { itemId: 'sku-anon' })
    await recs.flush()
    const userId = `user-link-${recs.anonymousId}`
    await recs.identify(userId)
    expect(errors).toEqual([])
    const link = await worker.db
      .prepare('SELECT user_id AS u FROM identity_links WHERE anonymous_id = ?')
      .bind(recs.anonymousId)
      .first('u')
    expect(link).toBe(userId)
    expect(recs.queued).toBe(0)
    // The worker's first-link-wins rule: another user cannot take the anonymous id over.
    const answer = await fetch(`${proxyUrl}/v1/identify`, {
      method: 'POST',
      headers: { authorization: `Bearer ${PUBLISHABLE_KEY}` },
      body: JSON.stringify({ userId: 'someone-else', anonymousId: recs.anonymousId }),
    })
    expect(await answer.json()).toEqual({
      userId: 'someone-else',
      anonymousId: recs.anonymousId,
      linked: false,
    })
  })

  it("should read the worker's typed answers: popular and recommendations from stored events, NO_MODEL for similar", async () => {
    injecting = false
    // Without a model, popularity lists items seen from POPULAR_MIN_PEOPLE (3) distinct people.
    for (let person = 0; person < 3; person++) {
      const visitor = new EdgerecClient({
        endpoint: proxyUrl,
        publishableKey: PUBLISHABLE_KEY,
        storage: null,
      })
      visitor.track('view', { itemId: 'sku-shared' })
      expect((await visitor.flush()).ok).toBe(true)
    }
    const recs = new EdgerecClient({ endpoint: proxyUrl, publishableKey: PUBLISHABLE_KEY, storage: null })
    await recs.ready
    const popular = await recs.popular({ k: 5 })
    expect(popular.items.map((item) => item.itemId)).toContain('sku-shared')
    expect(popular.items.length).toBeLessThanOrEqual(5)
    expect(
      popular.items.every((item) => typeof item.itemId === 'string' && Number.isFinite(item.score)),
    ).toBe(true)
    expect(popular.modelVersion).toBeNull()
    const forUser = await recs.recommend({ userId: 'user-sdk-1', k: 3 })
    expect(forUser.userId).toBe('user-sdk-1')
    expect(forUser.source).toBe('popular')
    expect(forUser.items.length).toBeGreaterThan(0)
    await expect(recs.similar('sku-1')).rejects.toMatchObject({
      name: 'EdgerecClientError',
      code: 'NO_MODEL',
      status: 503,
    })
  })
})
