import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { validateEvent } from '@edgerec/core'
import { afterAll, describe, expect, it } from 'vitest'
import { trainAls } from '../als/index.js'
import { runEvaluation } from '../evaluation/index.js'
import { InteractionAccumulator } from '../weighting/index.js'
import { catalogFor, type GeneratedEvent, generateEvents, userTaste, writeGeneratedData } from './index.js'

const small = { events: 4000, users: 120, items: 240, categories: 6, seed: 11 }

describe('generateEvents', () => {
  it('should produce exactly the requested number of events, identically for a seed', () => {
    const a = [...generateEvents(small)]
    const b = [...generateEvents(small)]
    expect(a).toHaveLength(4000)
    expect(b).toEqual(a)
    const other = [...generateEvents({ ...small, seed: 12 })]
    expect(other).toHaveLength(4000)
    expect(other.slice(0, 50)).not.toEqual(a.slice(0, 50))
  })

  it('should emit valid edgerec events over the catalog, within the time window', () => {
    const catalog = catalogFor(small)
    const ids = new Set(catalog.items.map((item) => item.id))
    const start = Date.UTC(2026, 0, 1)
    const seenIds = new Set<string>()
    for (const event of generateEvents(small)) {
      expect(validateEvent(event).ok).toBe(true)
      expect(ids.has(event.itemId)).toBe(true)
      expect(event.userId).toMatch(/^user-\d{6}$/)
      expect(event.timestamp).toBeGreaterThanOrEqual(start)
      expect(event.timestamp).toBeLessThan(start + 91 * 86_400_000)
      seenIds.add(event.id)
    }
    expect(seenIds.size).toBe(4000)
  })

  it('should follow the funnel: likes, carts and purchases follow a view of the same item', () => {
    const counts: Record<string, number> = {}
    const lastView = new Map<string, GeneratedEvent>()
    for (const event of generateEvents({ ...small, events: 20_000 })) {
      counts[event.type] = (counts[event.type] ?? 0) + 1
      if (event.type === 'view') {
        lastView.set(event.userId, event)
      } else {
        const view = lastView.get(event.userId)
        expect(view?.itemId).toBe(event.itemId)
        expect(event.timestamp).toBeGreaterThan(view!.timestamp)
      }
    }
    // views ≫ add_to_cart > purchase > remove_from_cart (rates 0.12, then 0.9 · 0.35 and 0.1).
    expect(counts.view!).toBeGreaterThan(5 * counts.add_to_cart!)
    expect(counts.add_to_cart!).toBeGreaterThan(counts.purchase!)
    expect(counts.purchase!).toBeGreaterThan(counts.remove_from_cart!)
    expect(counts.like!).toBeGreaterThan(0)
  })

  it('should concentrate each user on their favourite category and item popularity on a few items', () => {
    const catalog = catalogFor(small)
    const categoryOf = new Map(
      catalog.items.map((item) => [item.id, catalog.categories.findIndex((c) => c.name === item.category)]),
    )
    const perUser = new Map<string, GeneratedEvent[]>()
    const itemViews = new Map<string, number>()
    for (const event of generateEvents({ ...small, events: 20_000 })) {
      if (event.type !== 'view') continue
      perUser.set(event.userId, [...(perUser.get(event.userId) ?? []), event])
      itemViews.set(event.itemId, (itemViews.get(event.itemId) ?? 0) + 1)
    }
    let inPrimary = 0
    let total = 0
    for (let u = 0; u < small.users; u++) {
      const { primary } = userTaste(small, u)
      for (const event of perUser.get(`user-${String(u).padStart(6, '0')}`) ?? []) {
        total++
        if (categoryOf.get(event.itemId) === primary) inPrimary++
      }
    }
    // 70 % of sessions go to the favourite category, plus its share of the random rest.
    expect(inPrimary / total).toBeGreaterThan(0.65)
    const sorted = [...itemViews.values()].sort((a, b) => b - a)
    const top10 = sorted.slice(0, Math.ceil(catalog.items.length / 10)).reduce((a, b) => a + b, 0)
    expect(top10 / sorted.reduce((a, b) => a + b, 0)).toBeGreaterThan(0.3)
  })

  it('should reject impossible options with GENERATOR_INVALID', () => {
    expect(() => [...generateEvents({ events: 0 })]).toThrow(
      expect.objectContaining({ code: 'GENERATOR_INVALID' }),
    )
    expect(() => [...generateEvents({ events: 10, primaryTaste: 0.9, secondaryTaste: 0.3 })]).toThrow(
      /probabilities/,
    )
  })
})

describe('catalogFor', () => {
  it('should name items readably, by category, with every item in exactly one category', () => {
    const catalog = catalogFor(small)
    expect(catalog.categories).toHaveLength(6)
    expect(catalog.items).toHaveLength(240)
    const members = catalog.categories.flatMap((c) => c.items).sort((a, b) => a - b)
    expect(members).toEqual(catalog.items.map((_, i) => i))
    for (const item of catalog.items) {
      expect(item.name).toMatch(/^[A-Z][\w'-]*( [\w'&-]+)+/)
      expect(item.price).toBeGreaterThan(0)
    }
    expect(catalog.categories.reduce((a, c) => a + c.share, 0)).toBeCloseTo(1, 6)
    expect(catalogFor(small)).toEqual(catalog)
  })
})

describe('writeGeneratedData', () => {
  const dirs: string[] = []
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  })

  it.each(['ndjson', 'csv'] as const)(
    'should write the same events as %s plus the catalog JSON',
    async (format) => {
      const dir = await mkdtemp(join(tmpdir(), 'edgerec-gen-'))
      dirs.push(dir)
      const files = await writeGeneratedData(small, {
        path: join(dir, `events.${format}`),
        catalogPath: join(dir, 'catalog.json'),
      })
      expect(files.events).toBe(4000)
      const text = await readFile(files.eventsPath, 'utf8')
      const lines = text.trimEnd().split('\n')
      const expected = [...generateEvents(small)]
      if (format === 'ndjson') {
        expect(lines.map((line) => JSON.parse(line))).toEqual(expected)
      } else {
        expect(lines[0]).toBe('id,userId,itemId,type,timestamp')
        expect(lines.slice(1).map((line) => line.split(','))).toEqual(
          expected.map((e) => [e.id, e.userId, e.itemId, e.type, String(e.timestamp)]),
        )
      }
      expect(JSON.parse(await readFile(join(dir, 'catalog.json'), 'utf8'))).toEqual(catalogFor(small))
    },
  )
})

describe('a model trained on generated data', () => {
  const options = { events: 30_000, users: 600, items: 400, categories: 8, seed: 5 }
  const accumulator = new InteractionAccumulator()
  accumulator.add(
    [...generateEvents(options)].map((e) => ({
      userId: e.userId,
      itemId: e.itemId,
      type: e.type,
      value: undefined,
      timestamp: e.timestamp,
    })),
  )
  const { data } = accumulator.build()

  it('should recover each user favourite category in their top items', async () => {
    const model = await trainAls(data.matrix, { factors: 16, iterations: 10, threads: 1, seed: 3 })
    const catalog = catalogFor(options)
    const categoryOfItem = data.itemIds.map((id) =>
      catalog.categories.findIndex((c) => c.name === catalog.items.find((item) => item.id === id)!.category),
    )
    let hits = 0
    let total = 0
    const k = model.factors
    for (let u = 0; u < model.users; u++) {
      const { primary } = userTaste(options, Number(data.userIds[u]!.slice(5)))
      const scores = Array.from({ length: model.items }, (_, i) => {
        let s = 0
        for (let d = 0; d < k; d++) s += model.userFactors[u * k + d]! * model.itemFactors[i * k + d]!
        return { i, s }
      }).sort((a, b) => b.s - a.s)
      for (const { i } of scores.slice(0, 5)) {
        total++
        if (categoryOfItem[i] === primary) hits++
      }
    }
    // Measured 0.786 (seed 3); picking by popularity alone would land in the favourite category far less often.
    expect(hits / total).toBeGreaterThan(0.7)
  })

  it('should clearly beat popularity on a temporal split', async () => {
    const report = await runEvaluation(data.matrix, {
      split: 'temporal',
      testFraction: 0.2,
      k: 10,
      seed: 1,
      als: { factors: 16, iterations: 10, threads: 1, alpha: 1 },
    })
    const { als, popularity } = report.models
    // Measured: ndcg@10 ALS 0.368 vs popularity 0.196 (1.88×); asserted: 1.5×.
    expect(als.ndcg).toBeGreaterThan(popularity.ndcg * 1.5)
    expect(als.precision).toBeGreaterThan(popularity.precision)
  })
})
