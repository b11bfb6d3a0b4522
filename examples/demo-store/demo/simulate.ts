/**
 * A simulated audience for the running demo worker: creates an experiment (`popular` as control
 * against `model`) on `recommendations`, then has people of the generated history (with the
 * generator's hidden tastes, `userTaste`) ask for recommendations, report the lists as shown
 * (`POST /v1/impressions`) and click listed items with a probability set by their true affinity
 * for the item's category, sending each click with `context.recId`. Then reads the experiment's
 * results (CTR per variant, Wilson intervals, z-test against the control).
 *
 * Affinity of a person for a category is the share of their sessions the generator puts there:
 * `primaryTaste` (0.7) for the favourite, `secondaryTaste` (0.2) for the second, and the rest drawn
 * by the categories' traffic shares (as the generator draws a session's category). P(click item) = `clickScale` · affinity(item's category),
 * independently per listed item.
 *
 * P(the list gets ≥ 1 click) = 1 − Πᵢ (1 − clickScale · affinity(category of item i)) (see
 * {@link listClickChance}): a list holding the person's favourite category beats a list of
 * best sellers, which is what the experiment measures.
 *
 * With `canary`, the experiment is instead a canary of a published version against the live one
 * (`POST /v1/admin/models/:version/canary`), evaluated after every round of visits
 * (`POST /v1/admin/experiments/:id/evaluate`) until it is promoted or rolled back; the report says
 * after how many impressions.
 *
 * Loopback only, bounded by `people × visits` requests and by `maxSeconds`.
 *
 * @module
 */
import { readFile } from 'node:fs/promises'
import { type GenerateOptions, generatedUserId, mixSeed, Random, userTaste } from '@edgerec/trainer'
import { formatPValue } from '../src/format.js'
import type { DemoLayout } from './layout.js'
import { generatorOptions, readPrepared } from './prepare.js'

/** A proportion with its 95 % Wilson interval (as the results endpoint answers it). */
export interface Proportion {
  x: number
  n: number
  rate: number
  low: number
  high: number
}

/** One variant in `GET /v1/admin/experiments/:id/results`. */
export interface VariantResult {
  name: string
  impressions: number
  clicks: number
  ctr: Proportion
  vsControl: { ctr: { z: number; pValue: number | null; difference: number } } | null
}

/** The part of the results answer the simulation reads. */
export interface ExperimentResults {
  experiment: { id: string; name: string; status: string }
  control: string
  test: string
  variants: VariantResult[]
}

/** Options of {@link simulateAudience}. */
export interface SimulateOptions {
  /** The worker, e.g. `http://127.0.0.1:8787` (loopback only). */
  workerUrl: string
  publishableKey: string
  secretKey: string
  /** The generator options the demo's history was made with (tastes are a function of them). */
  generator: GenerateOptions
  /** Category of every item id (from the demo's catalog). */
  categoryOf: ReadonlyMap<string, string>
  /** Category names in the catalog's order (the taste's indexes refer to it). */
  categories: readonly string[]
  /** Each category's share of the shop's traffic (the generator's category popularity), same order. */
  categoryShares: readonly number[]
  /** People (generated users firstUser..firstUser+people−1). */
  people: number
  /** First generated user. Default 0. */
  firstUser?: number
  /** Lists each person asks for. Default 3. */
  visits?: number
  /** Items per list. Default 8. */
  k?: number
  /** Scale of the click probability. Default 0.08. */
  clickScale?: number
  /** Requests in flight. Default 6. */
  concurrency?: number
  /** Stop issuing visits after this long. Default 120. */
  maxSeconds?: number
  /** Seed of the clicks. Default 1. */
  seed?: number
  /** Progress lines. */
  log?: (line: string) => void
  /** Run a canary of this published version instead of model vs popular. */
  canary?: CanaryOptions
}

/** The canary's thresholds (the worker's defaults where absent: docs/online.md, "Canary"). */
export interface CanaryOptions {
  version: string
  share?: number
  minImpressions?: number
  maxImpressions?: number
  margin?: number
  alpha?: number
  maxLatencyRatio?: number
}

/** The worker's canary decision (`POST /v1/admin/experiments/:id/evaluate`). */
export interface CanaryDecision {
  action: 'wait' | 'promote' | 'rollback'
  reason: string
  test: string
  difference: number
  z: number | null
  pValue: number | null
  live: { impressions: number; clicked: number }
  canary: { impressions: number; clicked: number }
}

/** What {@link simulateAudience} did and what the worker reports. */
export interface SimulationReport {
  experimentId: string
  /** Experiments on `recommendations` that were running and got stopped first. */
  stopped: string[]
  lists: number
  shown: number
  clicks: number
  seconds: number
  results: ExperimentResults
  /** With `canary`: the last decision, and the impressions (both arms) it was taken at. */
  canary?: { version: string; decision: CanaryDecision; impressions: number; rounds: number }
}

function assertLoopback(url: string): void {
  const host = new URL(url).hostname
  if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host)) {
    throw new Error(
      `The simulated audience only talks to a local worker; got ${url}. Use the demo's 127.0.0.1 URL.`,
    )
  }
}

/** What the audience needs from a prepared demo: its generator options and its catalog. */
export async function audienceOfDemo(
  layout: DemoLayout,
  /** The generator options, when the layout has no `prepared` marker (the tests' setup). */
  generator?: GenerateOptions,
): Promise<Pick<SimulateOptions, 'generator' | 'categoryOf' | 'categories' | 'categoryShares'>> {
  const prepared = generator ? undefined : await readPrepared(layout)
  if (!generator && !prepared)
    throw new Error(`No prepared demo in ${layout.dir}. Run \`npm run demo\` first.`)
  const catalog = JSON.parse(await readFile(layout.catalog, 'utf8')) as {
    categories: { name: string; share: number }[]
    items: { id: string; category: string }[]
  }
  return {
    generator: generator ?? generatorOptions(prepared!.data),
    categoryOf: new Map(catalog.items.map((i) => [i.id, i.category])),
    categories: catalog.categories.map((c) => c.name),
    categoryShares: catalog.categories.map((c) => c.share),
  }
}

/**
 * Chance that a person with `affinity` (per category index) clicks at least one item of `itemIds`:
 * 1 − Πᵢ (1 − clickScale · affinity(category of item i)). Items of no known category are never
 * clicked.
 */
export function listClickChance(
  itemIds: readonly string[],
  affinity: readonly number[],
  categoryOfItem: (itemId: string) => number | undefined,
  clickScale: number,
): number {
  let none = 1
  for (const itemId of itemIds) {
    const c = categoryOfItem(itemId)
    if (c !== undefined) none *= 1 - clickScale * affinity[c]!
  }
  return 1 - none
}

/** Draws the items a person clicks in a list: each independently with clickScale · affinity. */
export function drawClicks(
  itemIds: readonly string[],
  affinity: readonly number[],
  categoryOfItem: (itemId: string) => number | undefined,
  clickScale: number,
  rng: { next(): number },
): string[] {
  return itemIds.filter((itemId) => {
    const c = categoryOfItem(itemId)
    // One draw per listed item, clicked or not, so the stream of draws does not depend on the catalog.
    const u = rng.next()
    return c !== undefined && u < clickScale * affinity[c]!
  })
}

/** Affinity of a person with `taste` for each category (sums to 1). */
export function categoryAffinity(
  taste: { primary: number; secondary: number },
  categoryShares: readonly number[],
  shares: { primary: number; secondary: number },
): number[] {
  // The generator: a session goes to the favourite with `primary`, else to the second with
  // `secondary` (when the person has one), else to a category drawn by traffic share.
  const secondary = taste.secondary >= 0 ? shares.secondary : 0
  const rest = 1 - shares.primary - secondary
  return categoryShares.map(
    (share, c) =>
      (c === taste.primary ? shares.primary : 0) + (c === taste.secondary ? secondary : 0) + rest * share,
  )
}

async function pool<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0
  const runners = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!
      await work(item)
    }
  })
  await Promise.all(runners)
}

/** Runs the audience and returns the experiment's results. */
export async function simulateAudience(options: SimulateOptions): Promise<SimulationReport> {
  assertLoopback(options.workerUrl)
  const started = performance.now()
  const visits = options.visits ?? 3
  const k = options.k ?? 8
  const clickScale = options.clickScale ?? 0.08
  const deadline = Date.now() + (options.maxSeconds ?? 120) * 1000
  const log = options.log ?? (() => {})
  const base = options.workerUrl.replace(/\/$/, '')
  const call = async <T>(path: string, key: string, init: { method?: string; body?: unknown } = {}) => {
    // A 503 says "Retry" (e.g. the local D1 locked by a concurrent writer): up to 3 more tries.
    let response: Response | undefined
    for (let attempt = 0; attempt < 4; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 250 * 2 ** attempt))
      response = await fetch(`${base}${path}`, {
        method: init.method ?? 'GET',
        headers: {
          authorization: `Bearer ${key}`,
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: init.body === undefined ? null : JSON.stringify(init.body),
        signal: AbortSignal.timeout(30_000),
      })
      if (response.status !== 503) break
    }
    if (!response) throw new Error(`${path}: no answer`)
    const text = await response.text()
    if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${path} answered ${response.status}: ${text}`)
    return JSON.parse(text) as T
  }

  // One experiment per surface: stop whatever runs on recommendations (the demo's own state).
  const { experiments } = await call<{ experiments: { id: string; surface: string; status: string }[] }>(
    '/v1/admin/experiments',
    options.secretKey,
  )
  const stopped: string[] = []
  for (const e of experiments) {
    if (e.surface === 'recommendations' && e.status === 'running') {
      await call(`/v1/admin/experiments/${e.id}/stop`, options.secretKey, { method: 'POST' })
      stopped.push(e.id)
    }
  }
  const { canary } = options
  let experiment: { id: string }
  if (canary) {
    const { version, ...thresholds } = canary
    experiment = await call<{ id: string }>(
      `/v1/admin/models/${encodeURIComponent(version)}/canary`,
      options.secretKey,
      { method: 'POST', body: thresholds },
    )
    log(`canary ${experiment.id} started: ${version} against the live version`)
  } else {
    experiment = await call<{ id: string }>('/v1/admin/experiments', options.secretKey, {
      method: 'POST',
      body: {
        name: `simulated audience ${new Date().toISOString().slice(0, 19)}Z: model vs popular`,
        surface: 'recommendations',
        variants: [
          { name: 'popular', weight: 1, strategy: 'popular' },
          { name: 'model', weight: 1, strategy: 'model' },
        ],
      },
    })
    await call(`/v1/admin/experiments/${experiment.id}/start`, options.secretKey, { method: 'POST' })
    log(`experiment ${experiment.id} started (popular vs model)`)
  }

  const generatorShares = {
    primary: options.generator.primaryTaste ?? 0.7 * (options.generator.taste ?? 1),
    secondary: options.generator.secondaryTaste ?? 0.2 * (options.generator.taste ?? 1),
  }
  const categoryIndex = new Map(options.categories.map((name, i) => [name, i]))
  const people = Array.from({ length: options.people }, (_, i) => {
    const u = (options.firstUser ?? 0) + i
    const taste = userTaste(options.generator, u)
    return {
      id: generatedUserId(u),
      affinity: categoryAffinity(taste, options.categoryShares, generatorShares),
      rng: new Random(mixSeed(options.seed ?? 1, u + 1)),
    }
  })

  const categoryOfItem = (itemId: string) => categoryIndex.get(options.categoryOf.get(itemId) ?? '')
  let lists = 0
  let shown = 0
  let clicks = 0
  let verdict: SimulationReport['canary']
  for (let visit = 0; visit < visits && Date.now() < deadline; visit++) {
    const served: { person: (typeof people)[number]; recId: string; items: string[] }[] = []
    await pool(people, options.concurrency ?? 6, async (person) => {
      if (Date.now() >= deadline) return
      const body = await call<{ recId: string; items: { itemId: string }[] }>(
        `/v1/users/${encodeURIComponent(person.id)}/recommendations?k=${k}`,
        options.publishableKey,
      )
      served.push({ person, recId: body.recId, items: body.items.map((i) => i.itemId) })
    })
    lists += served.length
    // The lists are written after each answer (waitUntil): report them once they are on "screen".
    await new Promise((r) => setTimeout(r, 500))
    for (let i = 0; i < served.length; i += 100) {
      const batch = served.slice(i, i + 100)
      const answer = await call<{ shown: number }>('/v1/impressions', options.publishableKey, {
        method: 'POST',
        body: { recIds: batch.map((s) => s.recId) },
      })
      shown += answer.shown
    }
    const events: Record<string, unknown>[] = []
    for (const s of served) {
      for (const itemId of drawClicks(s.items, s.person.affinity, categoryOfItem, clickScale, s.person.rng)) {
        events.push({
          id: crypto.randomUUID(),
          type: 'click',
          userId: s.person.id,
          itemId,
          timestamp: Date.now(),
          context: { recId: s.recId },
        })
      }
    }
    for (let i = 0; i < events.length; i += 500) {
      await call('/v1/events', options.publishableKey, {
        method: 'POST',
        body: { events: events.slice(i, i + 500) },
      })
    }
    clicks += events.length
    log(`visit ${visit + 1}/${visits}: ${served.length} lists, ${events.length} clicks`)
    if (canary) {
      const { decision } = await call<{ decision: CanaryDecision }>(
        `/v1/admin/experiments/${experiment.id}/evaluate`,
        options.secretKey,
        { method: 'POST' },
      )
      verdict = {
        version: canary.version,
        decision,
        impressions: decision.live.impressions + decision.canary.impressions,
        rounds: visit + 1,
      }
      log(`canary: ${decision.action} (${decision.reason})`)
      if (decision.action !== 'wait') break
    }
  }
  // Served lists reach D1 in per-isolate batches after their answers (`RECORD_FLUSH_MS`), so on a
  // busy machine the last ones may still be on their way: read the results until every list
  // reported shown is counted, for at most 15 s.
  const readResults = () =>
    call<ExperimentResults>(`/v1/admin/experiments/${experiment.id}/results`, options.secretKey)
  let results = await readResults()
  const settleBy = Date.now() + 15_000
  while (results.variants.reduce((n, v) => n + v.ctr.n, 0) < shown && Date.now() < settleBy) {
    await new Promise((r) => setTimeout(r, 250))
    results = await readResults()
  }
  return {
    experimentId: experiment.id,
    stopped,
    lists,
    shown,
    clicks,
    seconds: (performance.now() - started) / 1000,
    results,
    ...(verdict ? { canary: verdict } : {}),
  }
}

/** The canary's outcome in one line: decision, impressions it needed, test and p-value. */
export function formatCanary(canary: NonNullable<SimulationReport['canary']>): string {
  const d = canary.decision
  const rate = (a: { impressions: number; clicked: number }) =>
    a.impressions > 0 ? `${((100 * a.clicked) / a.impressions).toFixed(2)} %` : 'n/a'
  return [
    `  canary ${canary.version}: ${d.action.toUpperCase()} after ${canary.impressions} impressions (${canary.rounds} rounds): ${d.reason}`,
    `  live ${rate(d.live)} of ${d.live.impressions}, canary ${rate(d.canary)} of ${d.canary.impressions}; ${d.test}: z = ${d.z?.toFixed(3) ?? 'n/a'}, p = ${formatPValue(d.pValue)}`,
  ].join('\n')
}

/** The results as a small table (CTR per variant with its interval, p-value against the control). */
export function formatResults(results: ExperimentResults): string {
  const pct = (x: number) => `${(100 * x).toFixed(2)} %`
  const lines = [
    `  ${'variant'.padEnd(10)}${'impressions'.padStart(12)}${'clicked'.padStart(9)}${'CTR'.padStart(10)}   95 % Wilson interval     p vs ${results.control}`,
  ]
  for (const v of results.variants) {
    const p = v.vsControl?.ctr.pValue
    lines.push(
      `  ${v.name.padEnd(10)}${String(v.ctr.n).padStart(12)}${String(v.ctr.x).padStart(9)}${pct(v.ctr.rate).padStart(10)}   [${pct(v.ctr.low)}, ${pct(v.ctr.high)}]`.padEnd(
        74,
      ) + (v.vsControl ? `${formatPValue(p)} (z = ${v.vsControl.ctr.z.toFixed(2)})` : '(control)'),
    )
  }
  lines.push(`  test: ${results.test}`)
  return lines.join('\n')
}
