/**
 * End to end: the built SDK in headless Chromium, on a page served from one 127.0.0.1 origin,
 * sending to the real edge worker (workerd + D1) on another: CORS preflight for the bearer key,
 * page-hide delivery with `?key=` and a text body, a reload mid-queue, and every event in D1 once.
 */
import { existsSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EdgerecClient } from '../src/client-core.js'
import { launchChromium } from './chromium.js'
import { type RunningWorker, startWorker } from './worker-harness.js'

declare global {
  interface Window {
    recs: EdgerecClient
    createClient: typeof import('../src/index.js').createClient
  }
}

const KEY = 'pk_browser_worker'
const dist = new URL('../dist/', import.meta.url).pathname

let worker: RunningWorker
let server: Server
let origin: string
let browser: Browser

beforeAll(async () => {
  if (!existsSync(join(dist, 'index.js')))
    throw new Error('dist/ is missing: run `npm run build -w @edgerec/sdk` first.')
  worker = await startWorker(KEY)
  const endpoint = worker.url.origin
  const page = `<!doctype html><meta charset="utf-8"><title>edgerec sdk → worker</title>
<script type="module">
import { createClient } from '/sdk/index.js'
window.createClient = createClient
window.recs = createClient({ endpoint: ${JSON.stringify(endpoint)}, publishableKey: ${JSON.stringify(KEY)}, flushAt: 10000, flushIntervalMs: 3600000 })
</script>`
  server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1')
    if (url.pathname === '/')
      return void response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page)
    const file = join(dist, url.pathname.slice('/sdk/'.length).replace(/\.\./g, ''))
    if (url.pathname.startsWith('/sdk/') && existsSync(file)) {
      return void response.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(file))
    }
    response.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  browser = await launchChromium()
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  await worker?.dispose()
})

async function ready(page: Page): Promise<void> {
  await page.waitForFunction(() => window.recs !== undefined)
  await page.evaluate(() => window.recs.ready)
}

async function storedIds(): Promise<string[]> {
  const rows = await worker.db.prepare('SELECT id FROM events').all<{ id: string }>()
  return rows.results.map((row) => row.id)
}

describe('SDK in Chromium against the edge worker', () => {
  it('should store every event once across flush, reload and close (cross-origin, keepalive on page hide)', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    const failed: string[] = []
    page.on('requestfailed', (request) =>
      failed.push(`${request.method()} ${request.url()}: ${request.failure()?.errorText}`),
    )
    await page.goto(origin)
    await ready(page)
    const anonymousId = await page.evaluate(() => window.recs.anonymousId)

    // A normal flush: Authorization header, so the browser sends a CORS preflight first.
    const first = await page.evaluate(() =>
      ['a', 'b', 'c'].map((itemId) => window.recs.track('view', { itemId }) ?? ''),
    )
    const flushed = await page.evaluate(() => window.recs.flush())
    expect(flushed).toMatchObject({ ok: true, sent: 3, remaining: 0 })
    expect((await storedIds()).sort()).toEqual([...first].sort())

    // Reload mid-queue: page-hide delivery, and the queue comes back from localStorage.
    const second = await page.evaluate(() =>
      ['d', 'e', 'f', 'g'].map((itemId) => window.recs.track('click', { itemId }) ?? ''),
    )
    await page.reload()
    await ready(page)
    const third = await page.evaluate(() =>
      ['h', 'i'].map((itemId) => window.recs.track('view', { itemId }) ?? ''),
    )
    // Closing: whatever is still queued (the reloaded events if their answer was lost, and the new ones) goes out on page hide.
    await page.close({ runBeforeUnload: true })
    const all = [...first, ...second, ...third]
    const deadline = Date.now() + 15_000
    let ids = await storedIds()
    while (ids.length < all.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      ids = await storedIds()
    }
    await context.close()

    expect(failed.filter((f) => !f.includes('net::ERR_ABORTED'))).toEqual([])
    expect(ids).toHaveLength(all.length)
    expect(ids.sort()).toEqual([...all].sort())
    const anon = await worker.db.prepare('SELECT DISTINCT anonymous_id AS a FROM events').all<{ a: string }>()
    expect(anon.results.map((row) => row.a)).toEqual([anonymousId])
  })

  it('should report a shown list and credit a click to it by recId, by hand and with autoImpressions (issue 15)', async () => {
    // Three people viewed p1 and p2, so the worker (no model yet) serves a popular list from D1.
    const events = ['x1', 'x2', 'x3'].flatMap((userId) =>
      ['p1', 'p2'].map((itemId) => ({
        id: crypto.randomUUID(),
        type: 'view',
        userId,
        itemId,
        timestamp: Date.now(),
      })),
    )
    const sent = await fetch(new URL('/v1/events', worker.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
    })
    expect(sent.status).toBe(200)
    const context = await browser.newContext()
    const page = await context.newPage()
    await page.goto(origin)
    await ready(page)
    const result = await page.evaluate(
      async ({ endpoint, key }) => {
        const list = await window.recs.popular({ k: 2 })
        const shown = await window.recs.impression(list)
        const clickId = window.recs.track('click', { itemId: list.items[0]!.itemId, recId: list.recId })
        await window.recs.flush()
        // A second client that reports every list it fetches by itself.
        const auto = window.createClient({
          endpoint,
          publishableKey: key,
          storagePrefix: 'auto:',
          autoImpressions: true,
        })
        const autoList = await auto.popular({ k: 1 })
        return { recId: list.recId, shown, clickId, autoRecId: autoList.recId }
      },
      { endpoint: worker.url.origin, key: KEY },
    )
    // Signed by the worker (docs/online.md, "Signed recIds"); opaque to the SDK.
    expect(result.recId).toMatch(/^[0-9a-f]{24}\.[0-9a-f]{24}$/)
    expect(result.shown).toEqual({ shown: 1, rejected: 0, errors: [] })
    const click = await worker.db
      .prepare('SELECT context FROM events WHERE id = ?1')
      .bind(result.clickId)
      .first<{ context: string }>()
    expect(JSON.parse(click!.context)).toEqual({ recId: result.recId })
    // The list's own row arrives in the worker's next batched write (RECORD_FLUSH_MS) and keeps the mark.
    const deadline = Date.now() + 15_000
    let row: { surface: string; shown_at: number | null } | null = null
    while (Date.now() < deadline && row?.surface !== 'popular') {
      await new Promise((resolve) => setTimeout(resolve, 100))
      row = await worker.db
        .prepare('SELECT surface, shown_at FROM rec_lists WHERE rec_id = ?1')
        .bind(result.recId)
        .first()
    }
    expect(row).toMatchObject({ surface: 'popular', shown_at: expect.any(Number) })
    // autoImpressions: the fetched list is marked shown without an impression() call.
    let autoRow: { shown_at: number | null } | null = null
    while (Date.now() < deadline && !autoRow?.shown_at) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      autoRow = await worker.db
        .prepare('SELECT shown_at FROM rec_lists WHERE rec_id = ?1')
        .bind(result.autoRecId)
        .first()
    }
    expect(autoRow?.shown_at).toEqual(expect.any(Number))
    await context.close()
  })
})
