/**
 * The built SDK (dist/, ES modules as published) in headless Chromium: events survive a reload
 * through localStorage, page-hide delivery goes out with a keepalive fetch, and every
 * event is stored exactly once by a server that dedupes by id like the edge worker.
 *
 * Chromium: Debian's package at /usr/bin/chromium or `CHROMIUM_PATH` (`scripts/ensure-chromium.sh`).
 */
import { existsSync, readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { EdgerecClient } from '../src/client-core.js'
import type { EdgerecEvent, IngestResponse } from '../src/types.js'
import { launchChromium } from './chromium.js'

declare global {
  interface Window {
    recs: EdgerecClient
    seen: { keepalive: boolean[]; bodies: number[] }
  }
}

const dist = new URL('../dist/', import.meta.url).pathname

interface PostRecord {
  url: string
  authorization: string | undefined
  contentType: string | undefined
  fetchMode: string | undefined
  ids: string[]
  status: number
}

/** The page: the built SDK as an ES module, events held back (no size or interval flush). */
const PAGE = `<!doctype html><meta charset="utf-8"><title>edgerec sdk</title>
<script type="module">
import { createClient } from '/sdk/index.js'
window.recs = createClient({ endpoint: location.origin, publishableKey: 'pk_browser', flushAt: 10000, maxQueueSize: 10000, flushIntervalMs: 3600000 })
</script>`

/** A module Web Worker: no document, no localStorage. */
const WORKER = `import { createClient, EdgerecWebClient } from '/sdk/index.js'
const recs = createClient({ endpoint: location.origin, publishableKey: 'pk_browser' })
await recs.ready
const id = recs.track('view', { itemId: 'sku-worker' })
const result = await recs.flush()
postMessage({ id, result, web: recs instanceof EdgerecWebClient, anonymousId: recs.anonymousId })`

let server: Server
let origin: string
let browser: Browser
/** Events by id, each stored once (like D1's primary key on the event id). */
const stored = new Map<string, EdgerecEvent>()
const posts: PostRecord[] = []
let failEvents = false

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

beforeAll(async () => {
  if (!existsSync(join(dist, 'index.js')))
    throw new Error('dist/ is missing: run `npm run build -w @edgerec/sdk` first.')
  server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1')
    if (request.method === 'GET' && url.pathname === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE)
      return
    }
    if (request.method === 'GET' && url.pathname === '/worker.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(WORKER)
      return
    }
    if (request.method === 'GET' && url.pathname.startsWith('/sdk/')) {
      const file = join(dist, url.pathname.slice('/sdk/'.length).replace(/\.\./g, ''))
      if (existsSync(file))
        response.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(file))
      else response.writeHead(404).end()
      return
    }
    if (request.method === 'POST' && url.pathname === '/v1/events') {
      const body = await readBody(request)
      const { events } = JSON.parse(body) as { events: EdgerecEvent[] }
      const record: PostRecord = {
        url: request.url ?? '',
        authorization: request.headers.authorization,
        contentType: request.headers['content-type'],
        fetchMode: request.headers['sec-fetch-mode'] as string | undefined,
        ids: events.map((e) => e.id),
        status: failEvents ? 503 : 200,
      }
      posts.push(record)
      const key = url.searchParams.get('key') ?? request.headers.authorization?.replace(/^Bearer /, '')
      if (key !== 'pk_browser') {
        response
          .writeHead(401, { 'content-type': 'application/json' })
          .end('{"error":{"code":"UNAUTHORIZED","message":"no key"}}')
        return
      }
      if (failEvents) {
        response
          .writeHead(503, { 'content-type': 'application/json' })
          .end('{"error":{"code":"UNAVAILABLE","message":"down"}}')
        return
      }
      const answer: IngestResponse = { accepted: 0, duplicates: 0, rejected: 0, results: [] }
      events.forEach((event, index) => {
        const duplicate = stored.has(event.id)
        if (!duplicate) stored.set(event.id, event)
        answer[duplicate ? 'duplicates' : 'accepted']++
        answer.results.push({ index, id: event.id, status: duplicate ? 'duplicate' : 'accepted' })
      })
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer))
      return
    }
    response.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
})

beforeEach(() => {
  stored.clear()
  posts.length = 0
  failEvents = false
})

async function openPage(page: Page): Promise<void> {
  await page.goto(origin)
  await page.waitForFunction(() => window.recs !== undefined)
  await page.evaluate(() => window.recs.ready)
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

describe('SDK in headless Chromium', () => {
  it('should keep events across a reload (localStorage) and deliver each exactly once when the page closes', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    await openPage(page)
    const anonymousId = await page.evaluate(() => window.recs.anonymousId)
    failEvents = true
    const first = await page.evaluate(() =>
      Array.from({ length: 5 }, (_, i) => window.recs.track('view', { itemId: `sku-${i}` }) ?? ''),
    )
    // Reload mid-queue: the page-hide delivery is refused (503), so the events must come back from localStorage.
    await page.reload()
    await page.waitForFunction(() => window.recs !== undefined)
    await page.evaluate(() => window.recs.ready)
    expect(await page.evaluate(() => window.recs.queued)).toBe(5)
    expect(await page.evaluate(() => window.recs.anonymousId)).toBe(anonymousId)
    expect(stored.size).toBe(0)
    const refusedPageHide = posts.filter((p) => p.status === 503)
    expect(refusedPageHide.length).toBeGreaterThan(0)

    failEvents = false
    const second = await page.evaluate(() =>
      Array.from({ length: 3 }, (_, i) => window.recs.track('click', { itemId: `sku-${i}` }) ?? ''),
    )
    // Page-hide delivery: the page closes and nothing else sends the queue.
    await page.close({ runBeforeUnload: true })
    const all = [...first, ...second]
    await until(() => stored.size >= all.length, 'the events sent on page hide')
    await context.close()

    expect(new Set(all).size).toBe(8)
    expect([...stored.keys()].sort()).toEqual([...all].sort())
    expect([...stored.values()].every((e) => e.anonymousId === anonymousId)).toBe(true)
    // Every delivery was a page-hide one: key in the query (no Authorization header), CORS-simple text body.
    for (const post of posts) {
      expect(post.url).toContain('key=pk_browser')
      expect(post.authorization).toBeUndefined()
      expect(post.contentType).toMatch(/^text\/plain/)
    }
  })

  it('should send page-hide delivery as one keepalive fetch within its 64 KiB budget, and keep the rest queued', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    await openPage(page)
    // ~120 KB of events: more than the 64 KiB a page may have in flight with keepalive.
    const ids = await page.evaluate(() => {
      window.seen = { keepalive: [], bodies: [] }
      const realFetch = window.fetch.bind(window)
      window.fetch = (input, init) => {
        window.seen.keepalive.push(init?.keepalive === true)
        window.seen.bodies.push(typeof init?.body === 'string' ? init.body.length : -1)
        return realFetch(input, init)
      }
      const padding = 'x'.repeat(400)
      return Array.from(
        { length: 250 },
        (_, i) => window.recs.track('view', { itemId: `sku-${i}`, context: { padding } }) ?? '',
      )
    })
    const hide = () =>
      page.evaluate(() => {
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' })
        document.dispatchEvent(new Event('visibilitychange'))
      })
    await hide()
    const seen = await page.evaluate(() => window.seen)
    expect(seen.keepalive).toEqual([true])
    expect(seen.bodies[0]).toBeGreaterThan(30_000)
    expect(seen.bodies[0]).toBeLessThanOrEqual(60_000)
    await until(() => posts.length === 1, 'the page-hide request')
    const [pageHide] = posts
    // Oldest first, CORS-simple, key in the query; the browser took it (it would refuse past 64 KiB).
    expect(pageHide!.ids).toEqual(ids.slice(0, pageHide!.ids.length))
    expect(pageHide!.url).toContain('key=pk_browser')
    expect(pageHide!.fetchMode).toBe('cors')
    await until(() => stored.size === pageHide!.ids.length, 'the page-hide events stored')

    // A second hide sends the next slice, never the events already handed off.
    await page.evaluate(() => window.recs.ready)
    await hide()
    await until(() => posts.length === 2, 'the second page-hide request')
    expect(posts[1]!.ids.some((id) => pageHide!.ids.includes(id))).toBe(false)

    // What no page-hide request took stays queued; the next flush sends it.
    const result = await page.evaluate(() => window.recs.flush())
    expect(result.ok).toBe(true)
    expect(await page.evaluate(() => window.recs.queued)).toBe(0)
    await context.close()
    expect(stored.size).toBe(250)
    expect([...stored.keys()].sort()).toEqual([...ids].sort())
  })

  it('should keep the events of two tabs in the shared localStorage queue, so a closed tab loses nothing', async () => {
    const context = await browser.newContext()
    const [tabA, tabB] = [await context.newPage(), await context.newPage()]
    await openPage(tabA)
    await openPage(tabB)
    failEvents = true
    const track = (page: Page, prefix: string, n: number) =>
      page.evaluate(
        ([p, count]) =>
          Array.from({ length: count }, (_, i) => window.recs.track('view', { itemId: `${p}-${i}` }) ?? ''),
        [prefix, n] as const,
      )
    const storedQueue = (page: Page) =>
      page.evaluate(() =>
        (JSON.parse(localStorage.getItem('edgerec:queue') ?? '[]') as { id: string }[]).map((e) => e.id),
      )
    const fromA = await track(tabA, 'a', 3)
    await tabA.waitForFunction(() => localStorage.getItem('edgerec:queue')?.includes('a-2'))
    const fromB = await track(tabB, 'b', 2)
    await tabB.waitForFunction(() => localStorage.getItem('edgerec:queue')?.includes('b-1'))
    // Tab B's write kept tab A's events.
    expect((await storedQueue(tabB)).sort()).toEqual([...fromA, ...fromB].sort())
    // Both tabs go away while the server refuses events: nothing was delivered.
    // close({ runBeforeUnload }) does not wait for the page to go: wait for it, or a tab still alive
    // when the server recovers below gets its page-hide events accepted and rewrites the queue.
    for (const tab of [tabA, tabB]) {
      const closed = tab.waitForEvent('close')
      await tab.close({ runBeforeUnload: true })
      await closed
    }
    expect(stored.size).toBe(0)

    failEvents = false
    const tabC = await context.newPage()
    await openPage(tabC)
    expect(await tabC.evaluate(() => window.recs.queued)).toBe(5)
    expect(await tabC.evaluate(() => window.recs.flush())).toMatchObject({ ok: true, sent: 5 })
    expect(await storedQueue(tabC)).toEqual([])
    await context.close()
    expect([...stored.keys()].sort()).toEqual([...fromA, ...fromB].sort())
  })

  it('should run in a module Web Worker (no document, no localStorage) and deliver with the bearer key', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    await page.goto(origin)
    const answer = await page.evaluate(
      () =>
        new Promise<{ id: string; result: { ok: boolean; sent: number }; web: boolean; anonymousId: string }>(
          (resolve, reject) => {
            const worker = new Worker('/worker.js', { type: 'module' })
            worker.onmessage = (event) => resolve(event.data)
            worker.onerror = (event) => reject(new Error(event.message))
          },
        ),
    )
    await context.close()
    expect(answer.web).toBe(false)
    expect(answer.result).toMatchObject({ ok: true, sent: 1 })
    expect(answer.anonymousId).toMatch(/^[0-9a-f-]{36}$/)
    expect(stored.get(answer.id)?.itemId).toBe('sku-worker')
    expect(posts.at(-1)?.authorization).toBe('Bearer pk_browser')
  })
})
