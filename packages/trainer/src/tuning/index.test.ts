import { describe, expect, it, vi } from 'vitest'
import { type CsrMatrix, csrFromTriples } from '../data/matrix.js'
import { plantedClusters } from '../evaluation/planted.js'
import { splitTemporal } from '../evaluation/split.js'
import {
  adaptiveSpace,
  candidateKey,
  DEFAULT_TUNING_STRATEGY,
  defaultTrials,
  gridCandidates,
  halvingBudgets,
  randomCandidates,
  tune,
} from './index.js'

const data = plantedClusters({ users: 300, items: 200, clusters: 5, perUser: 25, noise: 0.15, seed: 2 })
const base = { factors: 64, regularization: 0.05, alpha: 1, iterations: 15 }

function pairSet(m: CsrMatrix): Set<string> {
  const out = new Set<string>()
  for (let u = 0; u < m.rows; u++)
    for (let j = m.indptr[u]!; j < m.indptr[u + 1]!; j++) out.add(`${u}:${m.indices[j]}`)
  return out
}

describe('candidates', () => {
  it('should enumerate the grid and keep unlisted values at the base', () => {
    const grid = gridCandidates({ factors: [8, 16], regularization: [0.01, 0.1, 1] }, base)
    expect(grid).toHaveLength(6)
    expect(grid).toContainEqual({ factors: 16, regularization: 0.1, alpha: 1, iterations: 15 })
    expect(() => gridCandidates({ alpha: { min: 1, max: 10 } }, base)).toThrow(/random/)
  })

  it('should draw random candidates reproducibly inside the space', () => {
    const space = {
      factors: [8, 16, 32],
      regularization: { min: 0.001, max: 1, log: true },
      iterations: { min: 2, max: 9, integer: true },
    }
    const a = randomCandidates(space, base, 20, 5)
    expect(a).toEqual(randomCandidates(space, base, 20, 5))
    for (const c of a) {
      expect([8, 16, 32]).toContain(c.factors)
      expect(c.regularization).toBeGreaterThanOrEqual(0.001)
      expect(c.regularization).toBeLessThanOrEqual(1)
      expect(Number.isInteger(c.iterations)).toBe(true)
      expect(c.alpha).toBe(1)
    }
  })
})

describe('randomCandidates without repeats', () => {
  it('should never repeat a candidate and stop when the space is exhausted', () => {
    const few = randomCandidates({ factors: [8, 16], alpha: [1, 2] }, base, 10, 3)
    expect(few).toHaveLength(4)
    expect(new Set(few.map(candidateKey)).size).toBe(4)
    const many = randomCandidates({ regularization: { min: 0.01, max: 10, log: true } }, base, 30, 3)
    expect(new Set(many.map(candidateKey)).size).toBe(30)
  })

  it('should draw value transforms from the space', () => {
    const drawn = randomCandidates({ transform: ['none', 'log1p', 'binary'], factors: [8, 16] }, base, 6, 1)
    expect(new Set(drawn.map((c) => c.transform))).toEqual(new Set(['none', 'log1p', 'binary']))
  })
})

describe('adaptiveSpace', () => {
  it('should offer few factors and strong regularization for a small catalog, more factors for a large one', () => {
    const small = adaptiveSpace(
      plantedClusters({ users: 200, items: 60, clusters: 3, perUser: 10, noise: 0.1, seed: 1 }),
    )
    expect(small.factors).toEqual([8])
    expect(small.regularization).toMatchObject({ max: 10, log: true })
    expect(small.transform).toEqual(['none', 'log1p', 'binary'])
    const large = adaptiveSpace(
      plantedClusters({ users: 3000, items: 1200, clusters: 6, perUser: 40, noise: 0.1, seed: 1 }),
    )
    expect(large.factors).toEqual([8, 16, 32, 64, 128])
    // 29 distinct items per user (40 draws): λ reaches about half of that (the data term grows with the history).
    expect(large.regularization).toMatchObject({ min: 0.01, max: 15, log: true })
    const light = adaptiveSpace(
      plantedClusters({ users: 3000, items: 1200, clusters: 6, perUser: 2, noise: 0.1, seed: 1 }),
    )
    expect(light.regularization).toMatchObject({ max: 10 })
    expect(large.alpha).toEqual({ min: 0.25, max: 40, log: true })
    const binary = csrFromTriples(2, 40, [0, 1], [0, 1], [1, 1])
    expect(adaptiveSpace(binary).transform).toBeUndefined()
    expect(adaptiveSpace(data, { transforms: false }).transform).toBeUndefined()
  })
})

describe('halvingBudgets', () => {
  it('should give distinct ascending budgets ending at the full iterations, about 3 candidates in the last rung', () => {
    expect(halvingBudgets(27, 15)).toEqual([2, 5, 15])
    expect(halvingBudgets(9, 9)).toEqual([3, 9])
    expect(halvingBudgets(81, 15)).toEqual([2, 5, 15])
    expect(halvingBudgets(27, 3)).toEqual([2, 3])
    expect(halvingBudgets(3, 15)).toEqual([15])
    expect(halvingBudgets(1, 15)).toEqual([15])
  })

  it('should default to successive halving over 27 candidates (10 for random search)', () => {
    expect(DEFAULT_TUNING_STRATEGY).toBe('halving')
    expect(defaultTrials('halving')).toBe(27)
    expect(defaultTrials('random')).toBe(10)
  })
})

describe('tune', () => {
  const options = {
    space: { factors: [4, 16], regularization: [0.05, 5] },
    strategy: 'grid' as const,
    metric: 'ndcg' as const,
    k: 10,
    validationFraction: 0.2,
    seed: 1,
    als: { iterations: 6, threads: 1 },
  }

  it('should pick the trial with the best validation metric', async () => {
    const { train } = splitTemporal(data, 0.2)
    const report = await tune(train, options)
    // The base configuration (64 factors, λ 0.05) is always trial 0, then the 4 grid points.
    expect(report.trials).toHaveLength(5)
    expect(report.trials[0]!.params).toEqual({ factors: 64, regularization: 0.05, alpha: 1, iterations: 6 })
    expect(report.base).toEqual(report.trials[0]!.params)
    expect(report.bestMetrics.ndcg).toBeGreaterThanOrEqual(report.baseMetrics.ndcg)
    const bestNdcg = Math.max(...report.trials.map((t) => t.metrics.ndcg))
    expect(report.bestMetrics.ndcg).toBe(bestNdcg)
    expect(report.trials.find((t) => t.metrics.ndcg === bestNdcg)!.params).toEqual(report.best)
    expect(report.bestMetrics.ndcg).toBeGreaterThan(report.popularity.ndcg)
  })

  it('should never see the test split: it only gets train, and its validation pairs come from train', async () => {
    const { train, test } = splitTemporal(data, 0.2)
    const testPairs = pairSet(test)
    const validation = splitTemporal(train, options.validationFraction).test
    for (const pair of pairSet(validation)) expect(testPairs.has(pair)).toBe(false)
    // By construction tune's only data argument is `train`; the users it validates on are exactly
    // those of the validation part carved from train.
    const first = await tune(train, options)
    expect(first.validationUsers).toBe(new Set([...pairSet(validation)].map((p) => p.split(':')[0])).size)
  })

  it('should give the same trials in parallel as in sequence, and warn about nested pools', async () => {
    const { train } = splitTemporal(data, 0.2)
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    const parallel = await tune(train, { ...options, parallel: 2, als: { iterations: 6, threads: 2 } })
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/nested thread pools/), expect.anything())
    warn.mockRestore()
    const sequential = await tune(train, options)
    expect(parallel.trials.map((t) => t.metrics)).toEqual(sequential.trials.map((t) => t.metrics))
  })

  it('should run successive halving with the base measured at full iterations', async () => {
    const { train } = splitTemporal(data, 0.2)
    const report = await tune(train, {
      ...options,
      space: { factors: [4, 8, 16, 32], regularization: [0.05, 1, 5] },
      strategy: 'halving',
      trials: 9,
      als: { iterations: 9, threads: 1 },
    })
    // Budgets [3, 9]: all 9 candidates at 3 iterations, the best third (plus the base) at 9.
    const rungs = [...new Set(report.trials.map((t) => t.rung))]
    expect(rungs).toEqual([0, 1])
    expect(report.trials.filter((t) => t.rung === 0)).toHaveLength(9)
    expect(report.trials.filter((t) => t.rung === 0).every((t) => t.params.iterations === 3)).toBe(true)
    const finals = report.trials.filter((t) => t.rung === 1)
    expect(finals.length).toBeGreaterThanOrEqual(3)
    expect(finals.length).toBeLessThanOrEqual(4)
    expect(finals.every((t) => t.params.iterations === 9)).toBe(true)
    expect(finals[0]!.params).toEqual({ factors: 64, regularization: 0.05, alpha: 1, iterations: 9 })
    expect(report.bestMetrics.ndcg).toBe(Math.max(...finals.map((t) => t.metrics.ndcg)))
  })

  it('should reject an empty validation split', async () => {
    const tiny = csrFromTriples(2, 3, [0, 1], [0, 1], [1, 1])
    await expect(tune(tiny, options)).rejects.toThrow(/validation split is empty/)
  })
})
