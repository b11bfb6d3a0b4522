/**
 * The dashboard in headless Chromium (Debian's `chromium`, driven by playwright-core) after a
 * simulated audience ran an experiment (model vs popular) on the test demo's worker: every chart is
 * drawn with data, and the page states the experiment's result. Screenshot in test-results/.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { demoLayout, demoStoreDir } from '../demo/layout.js'
import { generatorOptions } from '../demo/prepare.js'
import { DEMO_KEYS } from '../demo/servers.js'
import { audienceOfDemo, type SimulationReport, simulateAudience } from '../demo/simulate.js'
import { TEST_DATA } from './context.js'

const demo = inject('demo')
const artifacts = join(demoStoreDir, 'test-results')
let browser: Browser
let report: SimulationReport

async function stopExperiment(id: string): Promise<void> {
  await fetch(`${demo.workerUrl}/v1/admin/experiments/${id}/stop`, {
    method: 'POST',
    headers: { authorization: `Bearer ${DEMO_KEYS.secret}` },
  })
}

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true })
  // Users far from the ones the other tests use, so their clicks change nobody else's lists.
  report = await simulateAudience({
    workerUrl: demo.workerUrl,
    publishableKey: DEMO_KEYS.publishable,
    secretKey: DEMO_KEYS.secret,
    ...(await audienceOfDemo(demoLayout(demo.dir), generatorOptions(TEST_DATA))),
    people: 120,
    firstUser: 1000,
    visits: 2,
    clickScale: 0.1,
    maxSeconds: 90,
  })
  // The other tests expect the live model on every request: the results stay readable.
  await stopExperiment(report.experimentId)
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--no-first-run',
    ],
  })
}, 180_000)

afterAll(async () => {
  await browser?.close()
})

describe('simulated audience', () => {
  it('should record impressions and clicks for both variants, and the model should have the higher CTR', () => {
    const byName = new Map(report.results.variants.map((v) => [v.name, v]))
    const popular = byName.get('popular')!
    const model = byName.get('model')!
    expect(report.shown).toBe(report.lists)
    expect(popular.ctr.n + model.ctr.n).toBe(report.lists)
    expect(popular.ctr.n).toBeGreaterThan(40)
    expect(model.ctr.n).toBeGreaterThan(40)
    expect(popular.clicks + model.clicks).toBe(report.clicks)
    expect(model.ctr.rate).toBeGreaterThan(popular.ctr.rate)
    expect(model.vsControl?.ctr.pValue).toBeTypeOf('number')
  })
})

describe('dashboard page in Chromium', () => {
  it('should draw the model, experiment, volume, latency and source charts with data', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } })
    const problems: string[] = []
    page.on('pageerror', (e) => problems.push(e.message))
    await page.goto(`${demo.storeUrl}/dashboard.html#key=${DEMO_KEYS.secret}`)
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 }).catch(async (error: Error) => {
      throw new Error(
        `${error.message}; page errors: ${problems.join(' | ')}; ${await page.textContent('#problem')}`,
      )
    })
    expect(problems).toEqual([])
    expect(await page.isHidden('#problem')).toBe(true)
    const points = await page.$$eval('canvas', (canvases) =>
      Object.fromEntries(canvases.map((c) => [c.id, Number((c as HTMLCanvasElement).dataset.points ?? '0')])),
    )
    expect(Object.keys(points).sort()).toEqual(
      [
        'chart-ctr',
        'chart-ctr-time',
        'chart-latency',
        'chart-offline',
        'chart-sources',
        'chart-volume',
      ].sort(),
    )
    for (const [id, n] of Object.entries(points)) expect(n, id).toBeGreaterThan(0)
    // A drawn canvas has non-blank pixels.
    const inked = await page.$eval('#chart-ctr', (c) => {
      const canvas = c as HTMLCanvasElement
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data
      let n = 0
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++
      return n
    })
    expect(inked).toBeGreaterThan(1000)
    expect(await page.textContent('#model-version')).toBe(demo.version)
    expect(await page.textContent('#experiment-name')).toContain('simulated audience')
    expect(await page.textContent('#experiment-facts')).toMatch(/model: .* p = /)
    await page.screenshot({ path: join(artifacts, 'dashboard.png'), fullPage: true })
    await page.close()
  })
})
