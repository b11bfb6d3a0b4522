/**
 * The HTML report, opened in headless Chromium (Debian's `chromium`, driven by playwright-core):
 * every plot must have rendered a non-empty canvas, offline. The screenshot is kept as a test
 * artifact in `test-results/report.png`.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliIo, runCli } from '../cli/run.js'
import { writeGeneratedData } from '../generate/index.js'

function chromiumPath(): string {
  for (const path of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (path && existsSync(path)) return path
  }
  return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim()
}

let cwd: string
function io(): CliIo & { err: () => string } {
  let err = ''
  return { stdout: { write: () => {} }, stderr: { write: (t: string) => (err += t) }, cwd, err: () => err }
}

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'edgerec-report-'))
  await writeGeneratedData({ events: 20_000, seed: 4 }, { path: join(cwd, 'events.ndjson') })
})
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true })
})

describe('evaluate --report', () => {
  it('should write one self-contained page whose plots render in Chromium', async () => {
    const run = io()
    const code = await runCli(
      [
        'evaluate',
        '--input',
        'events.ndjson',
        '--iterations',
        '5',
        '--threads',
        '1',
        '--tune',
        '--trials',
        '3',
        '--report',
        'report.html',
      ],
      run,
    )
    expect(code, run.err()).toBe(0)
    const html = await readFile(join(cwd, 'report.html'), 'utf8')
    // Self-contained: uPlot is inlined, nothing is fetched.
    expect(html).toContain('uPlot')
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/)

    const browser = await chromium.launch({
      executablePath: chromiumPath(),
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    })
    try {
      const page = await browser.newPage({ viewport: { width: 800, height: 1200 } })
      const requests: string[] = []
      page.on('request', (r) => {
        if (!r.url().startsWith('file:')) requests.push(r.url())
      })
      const errors: string[] = []
      page.on('pageerror', (e) => errors.push(e.message))
      await page.goto(pathToFileURL(join(cwd, 'report.html')).href)
      // Browser-side code as strings: this package is typed for Node, without the DOM library.
      await page.waitForFunction('document.body.dataset.charts !== undefined')
      expect(errors).toEqual([])
      expect(requests).toEqual([])
      const charts = [
        'chart-ndcg',
        'chart-recall',
        'chart-precision',
        'chart-buckets',
        'chart-iterations',
        'chart-tuning',
        'chart-scores',
      ]
      expect(await page.evaluate('Number(document.body.dataset.charts)')).toBe(charts.length)
      for (const id of charts) {
        // A plot rendered: its canvas exists, has a size and holds coloured (non-white) pixels.
        const coloured = await page.evaluate(`(() => {
          const canvas = document.querySelector('#${id} canvas')
          if (!canvas || canvas.width === 0 || canvas.height === 0) return -1
          const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data
          let n = 0
          for (let i = 0; i < pixels.length; i += 4) {
            const r = pixels[i], g = pixels[i + 1], b = pixels[i + 2], a = pixels[i + 3]
            if (a > 0 && !(r > 240 && g > 240 && b > 240) && Math.max(r, g, b) - Math.min(r, g, b) > 40) n++
          }
          return n
        })()`)
        expect(coloured, id).toBeGreaterThan(50)
      }
      expect(await page.locator('#chart-ndcg .u-legend').textContent()).toContain('popularity')
      await mkdir('test-results', { recursive: true })
      await page.screenshot({ path: 'test-results/report.png', fullPage: true })
    } finally {
      await browser.close()
    }
  }, 120_000)
})
