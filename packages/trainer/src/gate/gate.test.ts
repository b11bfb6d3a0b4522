import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LIVE_POINTER_KEY, type MetricSet, manifestKey } from '@edgerec/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EdgerecConfig } from '../config/config.js'
import { MemoryStorage } from '../export/index.js'
import { writeGeneratedData } from '../generate/index.js'
import { train } from '../train.js'
import { decideGate, GATE_DEFAULTS } from './gate.js'
import { loadLiveModel } from './live.js'

const metrics = (ndcg: number): MetricSet => ({
  precision: ndcg,
  recall: ndcg,
  map: ndcg,
  ndcg,
  auc: 0.5,
  coverage: 0.1,
})

describe('decideGate', () => {
  it('should pass a model that beats popularity by the margin and the live version within the drop', () => {
    const gate = decideGate({
      k: 10,
      candidate: metrics(0.2),
      popularity: metrics(0.1),
      live: {
        version: 'v1',
        candidate: metrics(0.15),
        live: metrics(0.152),
        users: 40,
        testInteractions: 'unseen',
      },
    })
    expect(gate).toMatchObject({
      passed: true,
      metric: 'ndcg',
      k: 10,
      candidate: 0.2,
      popularity: 0.1,
      minLiftOverPopularity: GATE_DEFAULTS.minLiftOverPopularity,
      reasons: [],
      live: { version: 'v1', candidate: 0.15, live: 0.152, maxDropVsLive: GATE_DEFAULTS.maxDropVsLive },
    })
    expect(gate.forced).toBeUndefined()
  })

  it('should fail below popularity · (1 + margin) and say by how much', () => {
    // 0.104 > 0.1 but < 0.1 · 1.05 = 0.105
    const gate = decideGate({ k: 10, candidate: metrics(0.104), popularity: metrics(0.1) })
    expect(gate.passed).toBe(false)
    expect(gate.reasons).toEqual([
      'ALS ndcg@10 0.1040 does not beat popularity 0.1000 by the required 5.0% (needs ≥ 0.1050)',
    ])
    expect(
      decideGate(
        { k: 10, candidate: metrics(0.104), popularity: metrics(0.1) },
        { minLiftOverPopularity: 0.02 },
      ).passed,
    ).toBe(true)
  })

  it('should fail a model worse than the live version and record a forced override', () => {
    const gate = decideGate(
      {
        k: 5,
        candidate: metrics(0.3),
        popularity: metrics(0.1),
        live: {
          version: 'v7',
          candidate: metrics(0.2),
          live: metrics(0.25),
          users: 12,
          testInteractions: 'all',
        },
        force: true,
      },
      { metric: 'map' },
    )
    expect(gate).toMatchObject({ passed: false, forced: true, metric: 'map', candidate: 0.3 })
    expect(gate.reasons).toHaveLength(1)
    expect(gate.reasons[0]).toMatch(/worse than the live version v7: map@5 0\.2000 vs 0\.2500 on 12 users/)
  })

  it('should never pass a zero model against a zero popularity', () => {
    expect(decideGate({ k: 10, candidate: metrics(0), popularity: metrics(0) }).passed).toBe(false)
  })
})

describe('train with the quality gate', () => {
  let dir: string
  const base: EdgerecConfig = { als: { factors: 16, iterations: 6, threads: 1 } }
  const events = (name: string): EdgerecConfig['events'] => ({ kind: 'ndjson', path: join(dir, name) })

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgerec-gate-'))
    await writeGeneratedData({ events: 30_000, seed: 5, taste: 0 }, { path: join(dir, 'popular.ndjson') })
    await writeGeneratedData({ events: 30_000, seed: 5 }, { path: join(dir, 'personal.ndjson') })
    // The first 60 of 90 days: what an older live version was trained on.
    const cut = Date.UTC(2026, 0, 1) + 60 * 86_400_000
    const lines = (await readFile(join(dir, 'personal.ndjson'), 'utf8')).trim().split('\n')
    await writeFile(
      join(dir, 'early.ndjson'),
      `${lines.filter((line) => (JSON.parse(line) as { timestamp: number }).timestamp < cut).join('\n')}\n`,
    )
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('should reject a model on data where popularity dominates and record why in the manifest', async () => {
    const storage = new MemoryStorage()
    const result = await train({ ...base, events: events('popular.ndjson') }, { storage, version: 'pop' })
    expect(result.evaluation!.models.popularity!.ndcg).toBeGreaterThan(
      result.evaluation!.models.als_int8!.ndcg,
    )
    expect(result.gate).toMatchObject({ passed: false, metric: 'ndcg', k: 10 })
    expect(result.gate!.reasons[0]).toMatch(/does not beat popularity/)
    expect(result.gate!.live).toBeUndefined()
    const manifest = JSON.parse(new TextDecoder().decode(storage.objects.get(manifestKey('pop'))!))
    expect(manifest.gate).toEqual(result.gate)
  })

  it('should pass a model on data where ALS wins, then compare the next one with the live version', async () => {
    const storage = new MemoryStorage()
    const first = await train({ ...base, events: events('early.ndjson') }, { storage, version: 'v1' })
    expect(first.gate).toMatchObject({ passed: true, reasons: [] })
    expect(first.gate!.candidate).toBeGreaterThan(1.5 * first.gate!.popularity)
    await storage.put(
      LIVE_POINTER_KEY,
      new TextEncoder().encode(JSON.stringify({ version: 'v1', activatedAt: new Date().toISOString() })),
    )
    const live = () => loadLiveModel({ objects: storage, pointers: storage })

    // Same settings on 90 days instead of 60: as good as the live version on pairs it never saw.
    const same = await train({ ...base, events: events('personal.ndjson') }, { storage, version: 'v2', live })
    expect(same.gate).toMatchObject({
      passed: true,
      live: { version: 'v1', testInteractions: 'unseen' },
    })
    expect(same.gate!.live!.users).toBeGreaterThan(500)
    expect(same.gate!.live!.candidate).toBeGreaterThan(0.95 * same.gate!.live!.live)

    // A 2-factor model still beats popularity (margin 0) but is far worse than the live version.
    const worse = await train(
      {
        ...base,
        als: { ...base.als, factors: 2 },
        events: events('personal.ndjson'),
        gate: { minLiftOverPopularity: 0 },
      },
      { storage, version: 'v3', live },
    )
    expect(worse.gate!.passed).toBe(false)
    expect(worse.gate!.reasons).toHaveLength(1)
    expect(worse.gate!.reasons[0]).toMatch(/worse than the live version v1/)
    expect(worse.gate!.live!.candidate).toBeLessThan(0.8 * worse.gate!.live!.live)
  }, 120_000)

  it('should record nothing when the gate is disabled', async () => {
    const result = await train(
      { ...base, events: events('popular.ndjson'), gate: { enabled: false } },
      { storage: new MemoryStorage(), version: 'off' },
    )
    expect(result.gate).toBeUndefined()
    expect(result.manifest.gate).toBeUndefined()
  })
})
