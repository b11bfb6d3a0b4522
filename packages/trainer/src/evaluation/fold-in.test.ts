import { describe, expect, it } from 'vitest'
import { trainAls } from '../als/index.js'
import { popularityMetrics } from './evaluate.js'
import { foldInMetrics, restrictRows } from './fold-in.js'
import { plantedClusters } from './planted.js'
import { splitTemporal } from './split.js'

const data = plantedClusters({ users: 300, items: 200, clusters: 5, perUser: 20, noise: 0.1, seed: 4 })
const { train, test } = splitTemporal(data, 0.2)
const options = { factors: 16, regularization: 0.05, alpha: 2, iterations: 12, threads: 1, seed: 9 }

describe('foldInMetrics', () => {
  it('should reproduce the trained vectors of converged users from their train interactions', async () => {
    const model = await trainAls(train, { ...options, solver: 'cholesky' })
    const result = foldInMetrics(model, train, test, { k: 10, regularization: 0.05, alpha: 2 })
    // Exact ALS converged: x_u solves the same normal equations fold-in solves; only int8 items differ.
    expect(result.meanCosine).toBeGreaterThan(0.995)
    expect(Math.abs(result.foldIn.ndcg - result.trained.ndcg)).toBeLessThan(0.02)
    expect(result.users).toBeGreaterThan(250)
  })

  it('should rank users unseen in training far above popularity', async () => {
    const cold = Uint8Array.from({ length: train.rows }, (_, u) => (u % 2 === 0 ? 1 : 0))
    const warmOnly = restrictRows(
      train,
      Uint8Array.from(cold, (c) => 1 - c),
    )
    expect(warmOnly.indptr[1]).toBe(0)
    const model = await trainAls(warmOnly, options)
    const result = foldInMetrics(model, train, test, { k: 10, regularization: 0.05, alpha: 2, users: cold })
    const popularity = popularityMetrics(train, restrictRows(test, cold), 10)
    expect(result.users).toBe(150)
    expect(result.foldIn.ndcg).toBeGreaterThan(1.5 * popularity.ndcg)
  })
})

describe('restrictRows', () => {
  it('should keep only the flagged rows, with the same shape', () => {
    const kept = restrictRows(
      test,
      Uint8Array.from({ length: test.rows }, (_, u) => (u < 3 ? 1 : 0)),
    )
    expect(kept.rows).toBe(test.rows)
    expect(kept.indptr[3]).toBe(test.indptr[3])
    expect(kept.indptr[test.rows]).toBe(test.indptr[3])
    expect(Array.from(kept.indices)).toEqual(Array.from(test.indices.subarray(0, test.indptr[3]!)))
  })
})
