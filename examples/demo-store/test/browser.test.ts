/**
 * The demo store in headless Chromium (Debian's `chromium`, driven by playwright-core): a new
 * visitor opens the store, clicks several products of one category, and "Recommended for you"
 * shifts towards that category. Screenshots go to test-results/.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { generatedUserId } from '@edgerec/trainer'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { demoStoreDir } from '../demo/layout.js'
import { readCatalog, shareOf } from './context.js'

const demo = inject('demo')
const { products, categories } = readCatalog(demo.dir)
const byId = new Map(products.map((p) => [p.id, p]))
const artifacts = join(demoStoreDir, 'test-results')
let browser: Browser

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true })
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
})

afterAll(async () => {
  await browser?.close()
})

async function listed(page: Page, list: string): Promise<string[]> {
  return page.$$eval(`#${list} li.card`, (cards) => cards.map((c) => (c as HTMLElement).dataset.itemId ?? ''))
}

async function refreshes(page: Page): Promise<number> {
  return Number(await page.evaluate(() => document.body.dataset.refreshes ?? '0'))
}

describe('demo store page in Chromium', () => {
  it('should shift "recommended for you" towards the category a new visitor clicks, and keep it after sign-in', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const page = await context.newPage()
    const problems: string[] = []
    const consoleLines: string[] = []
    page.on('pageerror', (e) => problems.push(e.message))
    page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`))
    const health = (await (await fetch(`${demo.workerUrl}/v1/health`)).json()) as { modelVersion: string }
    await page.goto(demo.storeUrl)
    await page.waitForSelector('body[data-ready="true"]', { timeout: 45_000 }).catch((error: Error) => {
      throw new Error(
        `The store page did not get ready: ${error.message}\npage errors: ${problems.join(' | ')}\nconsole: ${consoleLines.slice(-10).join(' | ')}`,
      )
    })

    expect(await page.textContent('#recs-badge')).toBe('popular')
    const before = await listed(page, 'recs')
    expect(before.length).toBe(8)
    expect(await page.$$eval('#grid li.card', (c) => c.length)).toBeGreaterThan(10)
    expect(await page.getAttribute('#recs', 'data-model-version')).toBe(health.modelVersion)
    expect(await page.textContent('#provenance')).toContain(health.modelVersion)
    await page.screenshot({ path: join(artifacts, 'demo-store-1-new-visitor.png'), fullPage: true })

    // The category least present in the visitor's first list (among those with enough products).
    const target = categories
      .filter((c) => products.filter((p) => p.category === c.name).length >= 8)
      .map((c) => ({ name: c.name, share: shareOf(before, c.name, byId), traffic: c.share }))
      .sort((a, b) => a.share - b.share || b.traffic - a.traffic)[0]!.name
    await page.click(`#chips button:text-is("${target}")`)
    await page.waitForFunction(
      (t) =>
        [...document.querySelectorAll<HTMLElement>('#grid li.card')].every((c) => c.dataset.category === t),
      target,
    )

    const clicked: string[] = []
    for (let i = 0; i < 5; i++) {
      const n = await refreshes(page)
      const card = page.locator('#grid li.card').nth(i)
      clicked.push((await card.getAttribute('data-item-id')) ?? '')
      await card.click()
      await page.waitForFunction((m) => Number(document.body.dataset.refreshes ?? '0') > m, n, {
        timeout: 15_000,
      })
    }
    expect(await page.textContent('#product-name')).toBe(byId.get(clicked.at(-1)!)?.name)
    expect(await page.evaluate(() => document.body.dataset.eventsSent)).toBe('5')

    expect(await page.textContent('#recs-badge')).toBe('fold-in')
    const after = await listed(page, 'recs')
    expect(after.filter((id) => clicked.includes(id))).toEqual([])
    const shareBefore = shareOf(before, target, byId)
    const shareAfter = shareOf(after, target, byId)
    expect(shareAfter).toBeGreaterThan(shareBefore)
    expect(shareAfter).toBeGreaterThanOrEqual(0.6)
    // The product page shows similar items served by the model.
    await page.waitForFunction(() => document.querySelectorAll('#similar li.card').length > 0)
    expect(await page.textContent('#similar-badge')).toBe('model')
    expect(await page.textContent('#provenance')).toContain('fold-in')
    // Explanations stay on the items they explain: every "because you viewed" is on an item of the
    // clicked category.
    const explained = await page.$$eval('#recs li.card', (cards) =>
      cards.filter((c) => c.querySelector('.why')).map((c) => (c as HTMLElement).dataset.category),
    )
    expect(explained.every((category) => category === target)).toBe(true)
    await page.screenshot({ path: join(artifacts, 'demo-store-2-after-clicks.png'), fullPage: true })

    // Signing in links the anonymous clicks to the account at once (POST /v1/identify): the list of a
    // brand-new account stays on the clicked category instead of falling back to popular.
    const account = `new-shopper-${Date.now()}`
    const s = await refreshes(page)
    await page.fill('#user-input', account)
    await page.click('#sign-in button[type="submit"]')
    await page.waitForFunction((m) => Number(document.body.dataset.refreshes ?? '0') > m, s)
    expect(await page.textContent('#who-label')).toBe(`signed in as ${account}`)
    expect(await page.textContent('#recs-badge')).toBe('fold-in')
    const signedIn = await listed(page, 'recs')
    expect(signedIn.filter((id) => clicked.includes(id))).toEqual([])
    expect(shareOf(signedIn, target, byId)).toBeGreaterThanOrEqual(0.6)
    await page.screenshot({
      path: join(artifacts, 'demo-store-2b-signed-in-after-clicks.png'),
      fullPage: true,
    })
    expect(problems).toEqual([])
    await context.close()
  })

  it('should serve a signed-in shopper of the generated history from the model, with explanations', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const page = await context.newPage()
    await page.goto(demo.storeUrl)
    await page.waitForSelector('body[data-ready="true"]', { timeout: 45_000 })
    const user = generatedUserId(0)
    const n = await refreshes(page)
    await page.fill('#user-input', user)
    await page.click('#sign-in button[type="submit"]')
    await page.waitForFunction((m) => Number(document.body.dataset.refreshes ?? '0') > m, n)
    expect(await page.textContent('#who-label')).toBe(`signed in as ${user}`)
    expect(await page.isVisible('#sign-out')).toBe(true)
    expect(await page.isVisible('#sign-in')).toBe(false)
    expect(await page.textContent('#recs-badge')).toBe('model')
    expect((await listed(page, 'recs')).length).toBe(8)
    expect(await page.$$eval('#recs .why', (w) => w.length)).toBeGreaterThan(0)
    await page.screenshot({ path: join(artifacts, 'demo-store-3-signed-in.png') })

    const m = await refreshes(page)
    await page.click('#sign-out')
    await page.waitForFunction((k) => Number(document.body.dataset.refreshes ?? '0') > k, m)
    expect(await page.textContent('#who-label')).toMatch(/^anonymous /)
    expect(await page.isVisible('#sign-in')).toBe(true)
    expect(await page.isVisible('#sign-out')).toBe(false)
    expect(await page.textContent('#recs-badge')).toBe('popular')
    await context.close()
  })

  for (const [width, height] of [
    [390, 844],
    [1280, 900],
  ] as const) {
    it(`should fit ${width} px without sideways scrolling and open a product low on the page in view`, async () => {
      const context = await browser.newContext({ viewport: { width, height } })
      const page = await context.newPage()
      await page.goto(demo.storeUrl)
      await page.waitForSelector('body[data-ready="true"]', { timeout: 45_000 })
      const wider = await page.evaluate(
        (w) =>
          [...document.querySelectorAll<HTMLElement>('body *')]
            .filter((e) => e.getBoundingClientRect().right > w + 0.5 || e.scrollWidth > e.clientWidth + 1)
            .filter((e) => getComputedStyle(e).overflowX === 'visible')
            .map((e) => `${e.tagName}#${e.id}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)
            .slice(0, 5),
        width,
      )
      expect(wider, 'elements wider than the viewport').toEqual([])
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width)
      // Sign in and Sign out are never shown together.
      expect([await page.isVisible('#sign-in'), await page.isVisible('#sign-out')]).toEqual([true, false])
      await page.screenshot({ path: join(artifacts, `demo-store-${width}px.png`), fullPage: true })

      const n = await refreshes(page)
      const low = page.locator('#grid li.card').nth(40)
      await low.scrollIntoViewIfNeeded()
      await low.click()
      await page.waitForFunction((m) => Number(document.body.dataset.refreshes ?? '0') > m, n, {
        timeout: 15_000,
      })
      const box = await page.locator('#product').boundingBox()
      expect(box).not.toBeNull()
      expect(box!.y).toBeGreaterThanOrEqual(-1)
      expect(box!.y).toBeLessThan(height / 2)
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width)
      await page.screenshot({ path: join(artifacts, `demo-store-${width}px-product.png`) })
      await context.close()
    })
  }

  it('should report the recommended list shown and send a click on it with its recId', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const page = await context.newPage()
    const reported: string[][] = []
    const clicks: { itemId: string; recId: string | undefined }[] = []
    page.on('request', (request) => {
      if (request.method() !== 'POST') return
      const path = new URL(request.url()).pathname
      if (path === '/v1/impressions') reported.push((request.postDataJSON() as { recIds: string[] }).recIds)
      if (path === '/v1/events') {
        const body = request.postDataJSON() as {
          events: { type: string; itemId: string; context?: { recId?: string } }[]
        }
        for (const e of body.events.filter((x) => x.type === 'click'))
          clicks.push({ itemId: e.itemId, recId: e.context?.recId })
      }
    })
    await page.goto(demo.storeUrl)
    await page.waitForSelector('body[data-ready="true"]', { timeout: 45_000 })
    const recId = await page.getAttribute('#recs', 'data-rec-id')
    // Signed by the worker (docs/online.md, "Signed recIds").
    expect(recId).toMatch(/^[0-9a-f]{24}\.[0-9a-f]{24}$/)
    // Reported once the list stayed on screen for a second; the worker accepted the report.
    await page.waitForSelector('body[data-impressions-reported="1"]', { timeout: 15_000 })
    expect(reported).toEqual([[recId]])

    const card = page.locator('#recs li.card').first()
    const itemId = await card.getAttribute('data-item-id')
    expect(await card.getAttribute('data-rec-id')).toBe(recId)
    const n = await refreshes(page)
    await card.click()
    await page.waitForFunction((m) => Number(document.body.dataset.refreshes ?? '0') > m, n, {
      timeout: 15_000,
    })
    expect(clicks).toEqual([{ itemId, recId }])
    // The click went out with the view in one batch the worker accepted.
    expect(await page.textContent('#delivery')).toMatch(/^1 events sent|^\d+ events sent/)
    await context.close()
  })

  it('should say the worker is offline instead of "not in model yet" when it cannot be reached', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const page = await context.newPage()
    // The page as it is when the worker is down: the configured endpoint refuses connections.
    await page.route('**/config.json', async (route) => {
      const config = (await (await route.fetch()).json()) as Record<string, string>
      await route.fulfill({ json: { ...config, endpoint: 'http://127.0.0.1:9' } })
    })
    await page.goto(demo.storeUrl)
    await page.waitForSelector('body[data-ready="true"]', { timeout: 45_000 })
    expect(await page.textContent('#recs-badge')).toBe('offline')
    expect(await page.isVisible('#offline-note')).toBe(true)
    const n = await refreshes(page)
    await page.locator('#grid li.card').first().click()
    await page.waitForFunction((m) => Number(document.body.dataset.refreshes ?? '0') > m, n, {
      timeout: 15_000,
    })
    await page.waitForFunction(() => document.querySelector('#similar-badge')?.textContent !== '')
    expect(await page.textContent('#similar-badge')).toBe('offline')
    expect((await page.textContent('body'))?.toLowerCase()).not.toContain('not in model yet')
    await page.screenshot({ path: join(artifacts, 'demo-store-offline.png') })
    await context.close()
  })
})
