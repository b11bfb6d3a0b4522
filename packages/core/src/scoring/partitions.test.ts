import { describe, expect, it } from 'vitest'
import { checkPartitionList, checkShard } from '../manifest/verify.js'
import { quantizeRows, quantizeVector } from '../quantize/quantize.js'
import { mulberry32 } from '../random.test-support.js'
import { decodeShard } from '../shard/decode.js'
import { encodeShard } from '../shard/encode.js'
import { encodePartitionLists } from '../shard/partition-lists.js'
import { bundledFloat32KernelBytes, createFloat32Kernel, WasmFloat32Kernel } from './kernel/f32-kernel.js'
import {
  buildPartitions,
  chooseNprobe,
  layoutPartitionLists,
  orderCentroids,
  partitionOfItems,
  planPartitionIndex,
  probePartitions,
  recallAtK,
  recommendTopKProbed,
  similarItemsProbed,
} from './partitions.js'
import { blockFromQuantized, type ItemBlock, recommendTopK } from './score.js'
import { similarItems } from './similar.js'

/** `rows` items around `clusters` random centres (noise σ ≈ 0.25 of a centre's spread). */
function clustered(rows: number, dims: number, clusters: number, seed: number): Float32Array {
  const random = mulberry32(seed)
  const centres = Float32Array.from({ length: clusters * dims }, () => random() * 2 - 1)
  const out = new Float32Array(rows * dims)
  for (let r = 0; r < rows; r++) {
    const c = Math.floor(random() * clusters)
    for (let d = 0; d < dims; d++) out[r * dims + d] = centres[c * dims + d]! + (random() - 0.5) * 0.5
  }
  return out
}

function blocksOf(factors: Float32Array, rows: number, dims: number, split: number): ItemBlock[] {
  const q = quantizeRows(factors, rows, dims)
  // Norms as item shards store them (float32), so cosine scores compare exactly.
  const norms = Float32Array.from({ length: rows }, (_, r) => {
    let sum = 0
    for (let d = 0; d < dims; d++) sum += q.values[r * dims + d]! ** 2
    return q.scales[r]! * Math.sqrt(sum)
  })
  const cut = (start: number, end: number): ItemBlock =>
    blockFromQuantized(
      {
        rows: end - start,
        dims,
        values: q.values.subarray(start * dims, end * dims),
        scales: q.scales.subarray(start, end),
      },
      start,
      norms.subarray(start, end),
    )
  return [cut(0, split), cut(split, rows)]
}

describe('buildPartitions', () => {
  const dims = 16
  const rows = 3000
  const factors = clustered(rows, dims, 40, 7)

  it('should be deterministic for a seed', () => {
    const a = buildPartitions(factors, rows, dims, { lists: 50, seed: 3 })
    const b = buildPartitions(factors, rows, dims, { lists: 50, seed: 3 })
    expect(a.centroids).toEqual(b.centroids)
    expect(a.itemIndexes).toEqual(b.itemIndexes)
    expect(a.listOffsets).toEqual(b.listOffsets)
    const c = buildPartitions(factors, rows, dims, { lists: 50, seed: 4 })
    expect(c.centroids).not.toEqual(a.centroids)
  })

  it('should put every item in exactly one list, lists ascending', () => {
    const index = buildPartitions(factors, rows, dims, { lists: 50 })
    expect(index.listOffsets[0]).toBe(0)
    expect(index.listOffsets[index.lists]).toBe(rows)
    const seen = new Uint8Array(rows)
    for (let p = 0; p < index.lists; p++) {
      const list = index.itemIndexes.subarray(index.listOffsets[p]!, index.listOffsets[p + 1]!)
      for (let i = 1; i < list.length; i++) expect(list[i]!).toBeGreaterThan(list[i - 1]!)
      for (const item of list) seen[item]!++
    }
    expect(seen.every((n) => n === 1)).toBe(true)
  })

  it('should list a border item in its second-nearest partition too with spill, lists ascending', () => {
    const plain = buildPartitions(factors, rows, dims, { lists: 50 })
    const index = buildPartitions(factors, rows, dims, { lists: 50, spill: 0.2 })
    expect(index.centroids).toEqual(plain.centroids)
    const entries = index.listOffsets[index.lists]!
    expect(entries).toBeGreaterThan(rows)
    expect(entries).toBeLessThan(2 * rows)
    const seen = new Uint8Array(rows)
    const home = partitionOfItems(plain, rows)
    const nearest = (r: number, p: number) => {
      let sum = 0
      for (let d = 0; d < dims; d++) sum += (factors[r * dims + d]! - index.centroids[p * dims + d]!) ** 2
      return sum
    }
    for (let p = 0; p < index.lists; p++) {
      const list = index.itemIndexes.subarray(index.listOffsets[p]!, index.listOffsets[p + 1]!)
      for (let i = 1; i < list.length; i++) expect(list[i]!).toBeGreaterThan(list[i - 1]!)
      for (const item of list) {
        seen[item]!++
        // The item's own partition, or one within (1 + spill) of its squared distance to it.
        if (p !== home[item])
          expect(nearest(item, p)).toBeLessThanOrEqual(1.2 * nearest(item, home[item]!) * 1.0001)
      }
    }
    expect(seen.every((n) => n === 1 || n === 2)).toBe(true)
    expect(buildPartitions(factors, rows, dims, { lists: 50, spill: 0 }).itemIndexes).toEqual(
      plain.itemIndexes,
    )
    expect(() => buildPartitions(factors, rows, dims, { lists: 50, spill: -1 })).toThrow(/spill/)
  })

  it('should clamp lists to the item count and reject bad input', () => {
    expect(buildPartitions(factors, 5, dims, { lists: 50 }).lists).toBe(5)
    expect(() => buildPartitions(factors, rows, dims, { lists: 0 })).toThrow(/lists/)
    expect(() => buildPartitions(new Float32Array(3), rows, dims, { lists: 4 })).toThrow(/factor values/)
  })

  it('should round-trip through a partitions shard and its lists object', async () => {
    const index = buildPartitions(factors, rows, dims, { lists: 50 })
    const lists = layoutPartitionLists(index, blocksOf(factors, rows, dims, 1000))
    const encoded = await encodePartitionLists(lists, dims)
    const { bytes } = await encodeShard({
      kind: 'partitions',
      dims,
      centroids: index.centroids,
      listOffsets: index.listOffsets,
      itemIndexes: index.itemIndexes,
      listBytes: encoded.listBytes,
      listDigests: encoded.listDigests,
    })
    const shard = await decodeShard(bytes, { expectedKind: 'partitions' })
    expect(shard.kind).toBe('partitions')
    if (shard.kind !== 'partitions') return
    expect(shard.rowCount).toBe(50)
    expect(shard.centroids).toEqual(index.centroids)
    expect(shard.listOffsets).toEqual(index.listOffsets)
    expect(shard.itemIndexes).toEqual(index.itemIndexes)
    expect(shard.listBytes).toEqual(encoded.listBytes)
    expect(shard.listBytes[50]).toBe(encoded.bytes.length)
    await expect(
      encodeShard({
        kind: 'partitions',
        dims,
        centroids: index.centroids,
        listOffsets: Uint32Array.from([0, 5, 3, ...index.listOffsets.subarray(3)]),
        itemIndexes: index.itemIndexes,
        listBytes: encoded.listBytes,
        listDigests: encoded.listDigests,
      }),
    ).rejects.toThrow(/decreases/)
  })
})

describe('buildPartitions k-means', () => {
  const dims = 16

  it('should recover well-separated clusters (k-means++ seeding)', () => {
    // 40 centres in [-1, 1]^16, noise ±0.05: every cluster should be exactly one partition.
    const rows = 4000
    const random = mulberry32(11)
    const centres = Float32Array.from({ length: 40 * dims }, () => random() * 2 - 1)
    const cluster = new Uint32Array(rows)
    const factors = new Float32Array(rows * dims)
    for (let r = 0; r < rows; r++) {
      cluster[r] = Math.floor(random() * 40)
      for (let d = 0; d < dims; d++)
        factors[r * dims + d] = centres[cluster[r]! * dims + d]! + (random() - 0.5) * 0.1
    }
    const index = buildPartitions(factors, rows, dims, { lists: 40, sample: 40 * 64 })
    let pure = 0
    for (let p = 0; p < index.lists; p++) {
      const members = index.itemIndexes.subarray(index.listOffsets[p]!, index.listOffsets[p + 1]!)
      const counts = new Map<number, number>()
      for (const i of members) counts.set(cluster[i]!, (counts.get(cluster[i]!) ?? 0) + 1)
      pure += Math.max(0, ...counts.values())
    }
    expect(pure / rows).toBeGreaterThanOrEqual(0.99)
  })

  it('should assign items as the JS float32 kernel does (ties aside)', () => {
    const rows = 3000
    const factors = clustered(rows, dims, 40, 13)
    const wasm = buildPartitions(factors, rows, dims, { lists: 50 })
    const js = buildPartitions(factors, rows, dims, { lists: 50, forceJs: true })
    const a = partitionOfItems(wasm, rows)
    const b = partitionOfItems(js, rows)
    let same = 0
    for (let i = 0; i < rows; i++) if (a[i] === b[i]) same++
    expect(same / rows).toBeGreaterThanOrEqual(0.99)
  })

  it('should number close centroids closely (ordered vs k-means order)', () => {
    const rows = 3000
    const factors = clustered(rows, dims, 40, 17)
    const gap = (c: Float32Array, lists: number) => {
      let sum = 0
      for (let p = 0; p + 1 < lists; p++) {
        let d2 = 0
        for (let d = 0; d < dims; d++) d2 += (c[p * dims + d]! - c[(p + 1) * dims + d]!) ** 2
        sum += Math.sqrt(d2)
      }
      return sum / (lists - 1)
    }
    const ordered = buildPartitions(factors, rows, dims, { lists: 64 })
    const unordered = buildPartitions(factors, rows, dims, { lists: 64, order: false })
    expect(gap(ordered.centroids, 64)).toBeLessThan(0.8 * gap(unordered.centroids, 64))
    // Same partitions, renumbered: the same multiset of list sizes.
    const sizes = (x: typeof ordered) =>
      Array.from({ length: 64 }, (_, p) => x.listOffsets[p + 1]! - x.listOffsets[p]!).sort((u, v) => u - v)
    expect(sizes(ordered)).toEqual(sizes(unordered))
  })

  it('should order points on a line along the line', () => {
    const n = 33
    const c = new Float32Array(n * 2)
    const shuffled = Array.from({ length: n }, (_, i) => (i * 7) % n)
    shuffled.forEach((x, p) => {
      c[p * 2] = x
      c[p * 2 + 1] = 0.5 * x
    })
    const order = orderCentroids(c, n, 2)
    expect([...order].sort((u, v) => u - v)).toEqual(Array.from({ length: n }, (_, i) => i))
    const xs = Array.from(order, (p) => c[p * 2]!)
    const ascending = xs.every((x, i) => i === 0 || x > xs[i - 1]!)
    const descending = xs.every((x, i) => i === 0 || x < xs[i - 1]!)
    expect(ascending || descending).toBe(true)
  })
})

describe('planPartitionIndex', () => {
  it('should choose the smallest nprobe whose measured recall@10 reaches the target', () => {
    const dims = 16
    const rows = 4000
    const factors = clustered(rows, dims, 60, 29)
    const items = quantizeRows(factors, rows, dims)
    const random = mulberry32(3)
    const queries = Array.from({ length: 100 }, () => {
      const near = Math.floor(random() * rows)
      return quantizeVector(
        Array.from({ length: dims }, (_, d) => factors[near * dims + d]! + (random() - 0.5) * 0.3),
      )
    })
    // Without spilling (with it, this small set reaches 0.9 at nprobe 1: see the next test).
    const planned = planPartitionIndex(factors, items, queries, { targetRecall: 0.9, spill: 0 })
    expect(planned.index.lists).toBe(Math.ceil(Math.sqrt(rows)))
    expect(planned.recall).toBeGreaterThanOrEqual(0.9)
    expect(planned.nprobe).toBeGreaterThan(1)
    const blocks = [blockFromQuantized(items)]
    const below = chooseNprobe(planned.index, planned.lists, blocks, queries, { nprobe: planned.nprobe - 1 })
    expect(below.recall).toBeLessThan(0.9)
    const all = chooseNprobe(planned.index, planned.lists, blocks, queries, { nprobe: planned.index.lists })
    expect(all).toEqual({ nprobe: planned.index.lists, recall: 1 })
    // The default spills border items: the target needs no more probes, each list a few more items.
    const spilled = planPartitionIndex(factors, items, queries, { targetRecall: 0.9 })
    expect(spilled.nprobe).toBeLessThan(planned.nprobe)
    expect(spilled.recall).toBeGreaterThanOrEqual(0.9)
    expect(spilled.index.itemIndexes.length).toBeGreaterThan(rows)
  })
})

describe('layoutPartitionLists', () => {
  const dims = 16
  const rows = 3000
  const factors = clustered(rows, dims, 40, 9)
  const blocks = blocksOf(factors, rows, dims, 1234)
  const index = buildPartitions(factors, rows, dims, { lists: 37 })
  const lists = layoutPartitionLists(index, blocks)

  it('should store the rows of each partition contiguously, equal to the item rows', () => {
    expect(lists.length).toBe(37)
    let total = 0
    lists.forEach((list, p) => {
      expect(Array.from(list.itemIndexes)).toEqual(
        Array.from(index.itemIndexes.subarray(index.listOffsets[p]!, index.listOffsets[p + 1]!)),
      )
      expect(list.factors.length).toBe(list.rowCount * dims)
      for (let r = 0; r < list.rowCount; r++) {
        const item = list.itemIndexes[r]!
        const block = item < 1234 ? blocks[0]! : blocks[1]!
        const row = item - block.rowOffset
        expect(list.factors.subarray(r * dims, (r + 1) * dims)).toEqual(
          block.factors.subarray(row * dims, (row + 1) * dims),
        )
        expect(list.scales[r]).toBe(block.scales[row])
      }
      total += list.rowCount
    })
    expect(total).toBe(rows)
  })

  it('should encode lists one ranged read each, verified against the table', async () => {
    const encoded = await encodePartitionLists(lists, dims)
    const table = { ...index, listBytes: encoded.listBytes, listDigests: encoded.listDigests }
    for (const p of [0, 17, 36]) {
      const slice = encoded.bytes.slice(encoded.listBytes[p]!, encoded.listBytes[p + 1]!)
      const check = await checkPartitionList('lists', slice, table, p)
      expect(check.ok ? '' : check.problem.message).toBe('')
      if (!check.ok) continue
      expect(check.list.itemIndexes).toEqual(lists[p]!.itemIndexes)
      expect(check.list.factors).toEqual(lists[p]!.factors)
      // Another list's bytes at this position fail (digest), and so does a flipped byte.
      const other = encoded.bytes.slice(encoded.listBytes[p + 1]!, encoded.listBytes[p + 2] ?? 0)
      expect((await checkPartitionList('lists', other, table, p)).ok).toBe(false)
      slice[60] = slice[60]! ^ 1
      const bad = await checkPartitionList('lists', slice, table, p)
      expect(bad.ok ? '' : bad.problem.code).toMatch(/SHARD_(CHECKSUM_MISMATCH|SIZE_MISMATCH|INVALID)/)
    }
    const missing = await checkPartitionList('lists', null, table, 3)
    expect(missing.ok ? '' : missing.problem.code).toBe('SHARD_MISSING')
    const ref = {
      key: 'lists',
      kind: 'partitionList' as const,
      bytes: encoded.bytes.length,
      sha256: encoded.sha256,
      rows: 37,
      rowOffset: 0,
      storage: 'r2' as const,
    }
    expect((await checkShard(ref, encoded.bytes, dims)).ok).toBe(true)
    const flipped = encoded.bytes.slice()
    flipped[100] = flipped[100]! ^ 1
    const whole = await checkShard(ref, flipped, dims)
    expect(whole.ok ? '' : whole.problem.code).toBe('SHARD_CHECKSUM_MISMATCH')
  })
})

describe('recommendTopKProbed', () => {
  const dims = 16
  const rows = 4000
  const factors = clustered(rows, dims, 40, 11)
  const blocks = blocksOf(factors, rows, dims, 1500)
  const index = buildPartitions(factors, rows, dims, { lists: 64 })
  const lists = layoutPartitionLists(index, blocks)

  it('should reach recall@10 ≥ 0.95 against the exact scan at nprobe 8 of 64 on clustered data', () => {
    const random = mulberry32(5)
    const users = 200
    let recall = 0
    for (let u = 0; u < users; u++) {
      // A user near one item (its taste), plus noise.
      const near = Math.floor(random() * rows)
      const vector = Array.from(
        { length: dims },
        (_, d) => factors[near * dims + d]! + (random() - 0.5) * 0.3,
      )
      const q = quantizeVector(vector)
      const exact = recommendTopK(q, blocks, 10)
      const approx = recommendTopKProbed(q, index, lists, 8, 10)
      recall += recallAtK(exact.indices, approx.indices)
    }
    expect(recall / users).toBeGreaterThanOrEqual(0.95)
  })

  it('should equal the exact scan when every partition is probed, exclusions included', () => {
    const q = quantizeVector(Array.from({ length: dims }, (_, d) => Math.sin(d + 1)))
    const exclude = new Set([0, 1, 2, 1500, 1501])
    const exact = recommendTopK(q, blocks, 20, exclude)
    const all = recommendTopKProbed(q, index, lists, index.lists, 20, exclude)
    expect(all.indices).toEqual(exact.indices)
    expect(all.scores).toEqual(exact.scores)
    for (const i of all.indices) expect(exclude.has(i)).toBe(false)
  })

  it('should return a spilled item once and reach a higher recall at the same nprobe', () => {
    const spilled = buildPartitions(factors, rows, dims, { lists: 64, spill: 0.2 })
    const spilledLists = layoutPartitionLists(spilled, blocks)
    const q = quantizeVector(Array.from({ length: dims }, (_, d) => Math.sin(d + 1)))
    const exclude = new Set([0, 1, 2])
    const exact = recommendTopK(q, blocks, 20, exclude)
    const all = recommendTopKProbed(q, spilled, spilledLists, spilled.lists, 20, exclude)
    expect(all.indices).toEqual(exact.indices)
    const random = mulberry32(6)
    let plainRecall = 0
    let spillRecall = 0
    for (let u = 0; u < 200; u++) {
      const near = Math.floor(random() * rows)
      const user = quantizeVector(
        Array.from({ length: dims }, (_, d) => factors[near * dims + d]! + (random() - 0.5) * 0.3),
      )
      const truth = recommendTopK(user, blocks, 10).indices
      plainRecall += recallAtK(truth, recommendTopKProbed(user, index, lists, 3, 10).indices)
      const probed = recommendTopKProbed(user, spilled, spilledLists, 3, 10).indices
      expect(new Set(probed).size).toBe(probed.length)
      spillRecall += recallAtK(truth, probed)
    }
    expect(spillRecall).toBeGreaterThan(plainRecall)
  })

  it('should probe the same partitions with the float32 Wasm kernel as with the JS loop', () => {
    const wasm = createFloat32Kernel(bundledFloat32KernelBytes(), {
      dims,
      residentRows: index.lists,
      chunkRows: 16,
    })
    expect(wasm).toBeInstanceOf(WasmFloat32Kernel)
    ;(wasm as WasmFloat32Kernel).resident.set(index.centroids)
    const resident = { ...index, centroids: (wasm as WasmFloat32Kernel).resident }
    const random = mulberry32(8)
    for (let u = 0; u < 50; u++) {
      const q = Array.from({ length: dims }, () => random() - 0.5)
      // Copied chunk by chunk, or read in place from the resident rows: the same probes.
      expect(Array.from(probePartitions(index, q, 8, wasm))).toEqual(Array.from(probePartitions(index, q, 8)))
      expect(Array.from(probePartitions(resident, q, 8, wasm))).toEqual(
        Array.from(probePartitions(index, q, 8)),
      )
    }
  })

  it('should only return items of the probed partitions', () => {
    const q = quantizeVector(Array.from({ length: dims }, (_, d) => Math.cos(d)))
    const probes = probePartitions(
      index,
      Array.from(q.values, (v) => v * q.scale),
      2,
    )
    const allowed = new Set(Array.from(probes).flatMap((p) => Array.from(lists[p]!.itemIndexes)))
    const got = recommendTopKProbed(q, index, lists, 2, 10)
    for (const i of got.indices) expect(allowed.has(i)).toBe(true)
  })
})

describe('similarItemsProbed', () => {
  const dims = 16
  const rows = 2000
  const factors = clustered(rows, dims, 30, 13)
  const blocks = blocksOf(factors, rows, dims, 700)
  const index = buildPartitions(factors, rows, dims, { lists: 45 })
  const lists = layoutPartitionLists(index, blocks)
  const partitionOf = partitionOfItems(index, rows)

  it('should equal exact similar items with every partition probed and never return the item', () => {
    for (const item of [0, 699, 700, 1999]) {
      const exact = similarItems(blocks, item, 10)!
      const all = similarItemsProbed(index, lists, partitionOf, item, index.lists, 10)!
      expect(all.indices).toEqual(exact.indices)
      expect(all.scores).toEqual(exact.scores)
      expect(Array.from(all.indices)).not.toContain(item)
    }
    expect(similarItemsProbed(index, lists, partitionOf, rows + 5, 4, 10)).toBeUndefined()
  })
})

describe('recallAtK', () => {
  it('should count the share of the exact list found', () => {
    expect(recallAtK([1, 2, 3, 4], [4, 3, 9, 8])).toBe(0.5)
    expect(recallAtK([], [1])).toBe(1)
  })
})
