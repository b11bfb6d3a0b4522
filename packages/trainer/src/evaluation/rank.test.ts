import {
  blockFromQuantized,
  bundledFloat32KernelBytes,
  bundledInt8KernelBytes,
  createFloat32Kernel,
  createInt8Kernel,
  jsInt8Kernel,
  recommendTopK,
  WasmFloat32Kernel,
  WasmInt8Kernel,
} from '@edgerec/core'
import { describe, expect, it } from 'vitest'
import { trainAls } from '../als/train.js'
import { evaluateModel, popularityMetrics, runEvaluation } from './evaluate.js'
import { rankingMetrics } from './metrics.js'
import { plantedClusters } from './planted.js'
import { rankAll, rankJob } from './rank.js'
import { splitTemporal } from './split.js'

const data = plantedClusters({ users: 300, items: 240, clusters: 5, perUser: 30, noise: 0.15, seed: 3 })
const als = { factors: 12, iterations: 6, threads: 1, seed: 7 }
const options = { split: 'temporal' as const, testFraction: 0.2, k: 10, seed: 7, als }

describe('runEvaluation ranking on worker threads', () => {
  it('should give the same metrics on 2 ranking threads as inline and as evaluateModel', async () => {
    const progress: Array<[number, number]> = []
    const threaded = await runEvaluation(data, {
      ...options,
      rankThreads: 2,
      onProgress: (_step, done, total) => progress.push([done, total]),
    })
    const inline = await runEvaluation(data, { ...options, rankThreads: 1 })
    expect(threaded.timing.rankThreads).toBe(2)
    expect(threaded.models).toEqual(inline.models)
    expect(threaded.atK).toEqual(inline.atK)
    expect(threaded.buckets).toEqual(inline.buckets)
    expect(progress.at(-1)).toEqual([data.rows, data.rows])

    const { train, test } = splitTemporal(data, 0.2)
    const model = await trainAls(train, { ...als })
    const direct = evaluateModel(model, train, test, 10)
    expect(inline.models.als).toEqual(direct.als)
    expect(inline.models.als_int8).toEqual(direct.als_int8)
    expect(inline.models.popularity).toEqual(popularityMetrics(train, test, 10))
  }, 60_000)

  it('should report every model at K = 1, 5, 10, 20, 50 with MRR, novelty and diversity, and per bucket', async () => {
    const report = await runEvaluation(data, { ...options, k: 7 })
    expect(Object.keys(report.atK).map(Number)).toEqual([1, 5, 7, 10, 20, 50])
    expect(report.atK[7]!.als.ndcg).toBe(report.models.als.ndcg)
    for (const model of ['als', 'als_int8', 'popularity'] as const) {
      const recall = [1, 5, 10, 20, 50].map((k) => report.atK[k]![model].recall)
      expect(recall).toEqual([...recall].sort((a, b) => a - b))
      expect(report.atK[10]![model].mrr).toBeGreaterThan(0)
      expect(report.atK[10]![model].novelty).toBeGreaterThan(0)
    }
    // Personal lists are less popular and more varied than the one popularity list.
    expect(report.atK[10]!.als.novelty).toBeGreaterThan(report.atK[10]!.popularity.novelty)
    expect(report.atK[10]!.als.coverage).toBeGreaterThan(report.atK[10]!.popularity.coverage)
    const { cold, light, heavy } = report.buckets
    expect(cold.users + light.users + heavy.users).toBe(report.users)
    expect(light.users).toBeGreaterThan(0)
    expect(light.models.als.ndcg).toBeGreaterThan(light.models.popularity.ndcg)
  })
})

describe('rankJob', () => {
  it('should share factors already on SharedArrayBuffers and copy plain ones, ranking the same lists', async () => {
    const { train } = splitTemporal(data, 0.2)
    const shared = await trainAls(train, { ...als })
    const plain = await trainAls(train, { ...als, sharedFactors: false })
    const selected = new Uint8Array(train.rows).fill(1)
    const sharedJob = rankJob(shared, train, selected, 10)
    const plainJob = rankJob(plain, train, selected, 10)
    expect(sharedJob.userFactors).toBe(shared.userFactors)
    expect(sharedJob.itemFactors).toBe(shared.itemFactors)
    expect(plainJob.userFactors).not.toBe(plain.userFactors)
    expect(plainJob.userFactors.buffer).toBeInstanceOf(SharedArrayBuffer)
    expect(plainJob.userQ).toEqual(sharedJob.userQ)
    expect(plainJob.itemScales).toEqual(sharedJob.itemScales)
    const a = await rankAll(shared, train, selected, 10, { threads: 2 })
    const b = await rankAll(plain, train, selected, 10, { threads: 1 })
    for (let u = 0; u < train.rows; u++) {
      expect(a.float32(u)).toEqual(b.float32(u))
      expect(a.int8(u)).toEqual(b.int8(u))
    }
  }, 60_000)
})

describe('rankChunks int8 scan', () => {
  it("should rank int8 lists with the Wasm SIMD kernel exactly as core's JS kernel does", async () => {
    // Node runs the Wasm kernels: the evaluation's int8 scan is not the JS fallback here.
    expect(createInt8Kernel(bundledInt8KernelBytes(), { dims: 12 })).toBeInstanceOf(WasmInt8Kernel)
    const { train } = splitTemporal(data, 0.2)
    const model = await trainAls(train, { ...als })
    const selected = new Uint8Array(train.rows).fill(1)
    const job = rankJob(model, train, selected, 20)
    const lists = await rankAll(model, train, selected, 20, { threads: 1 })
    const blocks = [
      blockFromQuantized({ rows: job.items, dims: job.dims, values: job.itemQ, scales: job.itemScales }),
    ]
    for (let u = 0; u < train.rows; u++) {
      const seen = new Set(train.indices.subarray(train.indptr[u]!, train.indptr[u + 1]!))
      const vector = {
        values: job.userQ.subarray(u * job.dims, (u + 1) * job.dims),
        scale: job.userScales[u]!,
      }
      const expected = recommendTopK(vector, blocks, 20, seen, jsInt8Kernel).indices
      expect(Array.from(lists.int8(u))).toEqual(Array.from(expected))
    }
  }, 60_000)
})

describe('rankChunks float32 scan', () => {
  it('should rank float32 lists with the Wasm SIMD kernel like the scalar JS loop (same ndcg@10 to 4 decimals, top-20 overlap ≥ 0.99)', async () => {
    // Node runs the Wasm float32 kernel: the evaluation's float32 scan is not the JS fallback here.
    expect(createFloat32Kernel(bundledFloat32KernelBytes(), { dims: 12 })).toBeInstanceOf(WasmFloat32Kernel)
    const { train, test } = splitTemporal(data, 0.2)
    const model = await trainAls(train, { ...als })
    const selected = new Uint8Array(train.rows).fill(1)
    const wasm = await rankAll(model, train, selected, 20, { threads: 1 })
    const js = await rankAll(model, train, selected, 20, { threads: 1, float32Kernel: 'js' })
    let shared = 0
    let total = 0
    for (let u = 0; u < train.rows; u++) {
      const a = wasm.float32(u)
      const b = new Set(js.float32(u))
      expect(a.length).toBe(b.size)
      for (const i of a) if (b.has(i)) shared++
      total += a.length
      // Train items stay excluded.
      const seen = new Set(train.indices.subarray(train.indptr[u]!, train.indptr[u + 1]!))
      for (const i of a) expect(seen.has(i)).toBe(false)
    }
    expect(total).toBeGreaterThan(0)
    expect(shared / total).toBeGreaterThanOrEqual(0.99)
    const ndcgWasm = rankingMetrics(test, 10, (u) => wasm.float32(u)).ndcg
    const ndcgJs = rankingMetrics(test, 10, (u) => js.float32(u)).ndcg
    expect(ndcgWasm).toBeGreaterThan(0)
    expect(ndcgWasm.toFixed(4)).toBe(ndcgJs.toFixed(4))
    // The int8 half does not depend on the float32 kernel.
    for (let u = 0; u < train.rows; u++) expect(Array.from(wasm.int8(u))).toEqual(Array.from(js.int8(u)))
  }, 60_000)
})
