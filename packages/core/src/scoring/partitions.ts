/**
 * Partitioned (IVF) retrieval for large catalogs: a coarse quantizer splits the items into
 * partitions; a query scores the partition centroids, probes the best `nprobe` partitions and
 * re-ranks their items exactly with the int8 kernel. Recall against the exact scan is a measured
 * property of `nprobe` (the trainer records it), not a guess.
 *
 * The quantizer is Lloyd's k-means with squared Euclidean distance on the UNNORMALIZED item
 * factors y_i: recommendations score the raw inner product x_u·y_i (the norm carries the item's
 * popularity), so items are grouped where they are close as vectors, and a query ranks the
 * partitions by x_u·c_p, the inner product with their centroids c_p (as FAISS's IndexIVFFlat does
 * for inner-product search). Similar items probe with the query item's factors the same way.
 *
 * @module
 */
import { CoreError } from '../errors.js'
import { mulberry32 } from '../random.js'
import type { Int8DotKernel } from './kernel/int8-kernel.js'
import { jsInt8Kernel } from './kernel/int8-kernel.js'
import { findRow, type Int8Vector, type ItemBlock } from './score.js'
import { type IndexFilter, TopK, type TopKResult } from './top-k.js'

/** A coarse quantizer and its inverted lists (what a `partitions` shard holds). */
export interface PartitionIndex {
  /** Number of partitions P. */
  lists: number
  dims: number
  /** Row-major `P × dims` float32 centroids c_p. */
  centroids: Float32Array
  /** Items of partition p: `itemIndexes[listOffsets[p] .. listOffsets[p + 1])`, ascending. */
  listOffsets: Uint32Array
  itemIndexes: Uint32Array
}

/** Options of {@link buildPartitions}. */
export interface BuildPartitionsOptions {
  /** Number of partitions P (clamped to the item count). */
  lists: number
  /** Lloyd iterations. Default 8. */
  iterations?: number
  /** Seed of the initial centroids. Default 1. */
  seed?: number
  /**
   * Items k-means trains on (a seeded sample; every item is assigned afterwards). Default
   * `256 · P`: Lloyd costs `sample · P · dims` per iteration.
   */
  sample?: number
}

/** The first `n` entries of a seeded Fisher–Yates shuffle of 0..rows−1. */
function sampleRows(rows: number, n: number, random: () => number): Uint32Array {
  const order = Uint32Array.from({ length: rows }, (_, i) => i)
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (rows - i))
    const t = order[i]!
    order[i] = order[j]!
    order[j] = t
  }
  return order.slice(0, n)
}

/**
 * Nearest centroid of row `r` by ‖y − c_p‖² = ‖y‖² − 2 y·c_p + ‖c_p‖², i.e. the p maximizing
 * y·c_p − ‖c_p‖²/2 (ties to the lower p).
 */
function nearest(
  factors: ArrayLike<number>,
  r: number,
  centroids: Float32Array,
  halfNorms: Float64Array,
  lists: number,
  dims: number,
): number {
  let best = 0
  let bestScore = Number.NEGATIVE_INFINITY
  const base = r * dims
  for (let p = 0; p < lists; p++) {
    const c = p * dims
    let dot = 0
    for (let d = 0; d < dims; d++) dot += factors[base + d]! * centroids[c + d]!
    const score = dot - halfNorms[p]!
    if (score > bestScore) {
      bestScore = score
      best = p
    }
  }
  return best
}

function halfSquaredNorms(centroids: Float32Array, lists: number, dims: number): Float64Array {
  const out = new Float64Array(lists)
  for (let p = 0; p < lists; p++) {
    let s = 0
    for (let d = 0; d < dims; d++) s += centroids[p * dims + d]! ** 2
    out[p] = s / 2
  }
  return out
}

/**
 * Trains the coarse quantizer (k-means, Lloyd's algorithm on a seeded sample, initial centroids a
 * seeded sample of items; an emptied partition keeps its previous centroid) and assigns every item
 * to its nearest centroid. Deterministic for a given input and seed. Every item is in exactly one
 * list; lists are ascending.
 *
 * @param factors - `rows × dims` row-major float item factors y_i
 */
export function buildPartitions(
  factors: ArrayLike<number>,
  rows: number,
  dims: number,
  options: BuildPartitionsOptions,
): PartitionIndex {
  if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(dims) || dims < 1)
    throw new CoreError('INVALID_ARGUMENT', `Partitions need items and dims ≥ 1, got ${rows} × ${dims}.`)
  if (factors.length < rows * dims)
    throw new CoreError(
      'INVALID_ARGUMENT',
      `Partitions need ${rows * dims} factor values, got ${factors.length}.`,
    )
  if (!Number.isInteger(options.lists) || options.lists < 1)
    throw new CoreError('INVALID_ARGUMENT', `lists must be a positive integer, got ${options.lists}.`)
  const lists = Math.min(options.lists, rows)
  const iterations = options.iterations ?? 8
  const random = mulberry32(options.seed ?? 1)
  const sampleSize = Math.min(rows, Math.max(lists, options.sample ?? 256 * lists))
  const sample = sampleRows(rows, sampleSize, random)
  const centroids = new Float32Array(lists * dims)
  for (let p = 0; p < lists; p++)
    for (let d = 0; d < dims; d++) centroids[p * dims + d] = factors[sample[p]! * dims + d]!
  const sums = new Float64Array(lists * dims)
  const counts = new Uint32Array(lists)
  for (let it = 0; it < iterations; it++) {
    const half = halfSquaredNorms(centroids, lists, dims)
    sums.fill(0)
    counts.fill(0)
    for (const r of sample) {
      const p = nearest(factors, r, centroids, half, lists, dims)
      counts[p]!++
      for (let d = 0; d < dims; d++) sums[p * dims + d]! += factors[r * dims + d]!
    }
    // c_p ← mean of the points assigned to p (an empty partition keeps c_p).
    for (let p = 0; p < lists; p++)
      if (counts[p]! > 0)
        for (let d = 0; d < dims; d++) centroids[p * dims + d] = sums[p * dims + d]! / counts[p]!
  }
  const half = halfSquaredNorms(centroids, lists, dims)
  const assignment = new Uint32Array(rows)
  const sizes = new Uint32Array(lists)
  for (let r = 0; r < rows; r++) {
    const p = nearest(factors, r, centroids, half, lists, dims)
    assignment[r] = p
    sizes[p]!++
  }
  const listOffsets = new Uint32Array(lists + 1)
  for (let p = 0; p < lists; p++) listOffsets[p + 1] = listOffsets[p]! + sizes[p]!
  const cursor = listOffsets.slice(0, lists)
  const itemIndexes = new Uint32Array(rows)
  for (let r = 0; r < rows; r++) itemIndexes[cursor[assignment[r]!]!++] = r
  return { lists, dims, centroids, listOffsets, itemIndexes }
}

/** The `nprobe` partitions with the largest q·c_p, best first (ties to the lower p). */
export function probePartitions(
  index: PartitionIndex,
  query: ArrayLike<number>,
  nprobe: number,
): Uint32Array {
  const { lists, dims, centroids } = index
  const top = new TopK(Math.max(1, Math.min(nprobe, lists)))
  for (let p = 0; p < lists; p++) {
    let s = 0
    for (let d = 0; d < dims; d++) s += query[d]! * centroids[p * dims + d]!
    top.push(p, s)
  }
  return Uint32Array.from(top.result().indices)
}

/** The items of the probed partitions, ascending (so runs of adjacent rows score in one kernel call). */
export function partitionCandidates(index: PartitionIndex, probes: ArrayLike<number>): Uint32Array {
  let total = 0
  for (let i = 0; i < probes.length; i++)
    total += index.listOffsets[probes[i]! + 1]! - index.listOffsets[probes[i]!]!
  const out = new Uint32Array(total)
  let at = 0
  for (let i = 0; i < probes.length; i++) {
    const p = probes[i]!
    out.set(index.itemIndexes.subarray(index.listOffsets[p]!, index.listOffsets[p + 1]!), at)
    at += index.listOffsets[p + 1]! - index.listOffsets[p]!
  }
  return out.sort()
}

/**
 * Calls `visit(block, row, dot)` with the exact int8 dot product of `query` and every candidate
 * row, computed on `kernel` one run of adjacent rows per call.
 */
function scanCandidates(
  query: Int8Array,
  blocks: readonly ItemBlock[],
  candidates: Uint32Array,
  kernel: Int8DotKernel,
  visit: (block: ItemBlock, row: number, dot: number) => void,
): void {
  let i = 0
  while (i < candidates.length) {
    const found = findRow(blocks, candidates[i]!)
    if (!found) {
      i++
      continue
    }
    const { block, row } = found
    const end = block.rowOffset + block.rowCount
    let run = 1
    while (
      i + run < candidates.length &&
      candidates[i + run] === candidates[i]! + run &&
      candidates[i + run]! < end &&
      run < kernel.chunkRows
    )
      run++
    const dots = kernel.dots(query, block.factors, block.dims, row, run)
    for (let r = 0; r < run; r++) visit(block, row + r, dots[r]!)
    i += run
  }
}

/** Dequantized query `s · q` for probing. */
function dequantized(v: Int8Vector): Float64Array {
  return Float64Array.from(v.values, (x) => x * v.scale)
}

/**
 * Top K for an int8 user over the probed partitions only: the user scores the centroids, the best
 * `nprobe` partitions are probed and their items re-ranked exactly (`s_u · s_i · Σ q_u q_i`, the
 * same scores as {@link recommendTopK}); exclusions apply to candidates as in the exact scan.
 */
export function recommendTopKPartitioned(
  user: Int8Vector,
  blocks: readonly ItemBlock[],
  index: PartitionIndex,
  nprobe: number,
  k: number,
  exclude?: IndexFilter,
  kernel: Int8DotKernel = jsInt8Kernel,
): TopKResult {
  const candidates = partitionCandidates(index, probePartitions(index, dequantized(user), nprobe))
  const top = new TopK(k)
  let threshold = top.threshold
  scanCandidates(user.values, blocks, candidates, kernel, (block, row, dot) => {
    const score = user.scale * block.scales[row]! * dot
    if (score < threshold) return
    const j = block.rowOffset + row
    if (exclude === undefined || !exclude.has(j)) top.push(j, score)
    threshold = top.threshold
  })
  return top.result()
}

function rowNorm(block: ItemBlock, row: number): number {
  if (block.norms) return block.norms[row]!
  let sum = 0
  for (let d = 0; d < block.dims; d++) sum += block.factors[row * block.dims + d]! ** 2
  return block.scales[row]! * Math.sqrt(sum)
}

/**
 * Items most similar to item `index` by cosine over the probed partitions (the query item's
 * factors score the centroids), re-ranked exactly as {@link similarItems} scores them.
 *
 * @returns undefined when `index` is not in any block
 */
export function similarItemsPartitioned(
  blocks: readonly ItemBlock[],
  partitions: PartitionIndex,
  nprobe: number,
  index: number,
  k: number,
  exclude?: IndexFilter,
  kernel: Int8DotKernel = jsInt8Kernel,
): TopKResult | undefined {
  const found = findRow(blocks, index)
  if (!found) return undefined
  const { block: qb, row: qr } = found
  const dims = qb.dims
  // NOTE: copied, because the kernel may overwrite its scratch while scanning the query's own block.
  const query = qb.factors.slice(qr * dims, qr * dims + dims)
  const qScale = qb.scales[qr]!
  const qNorm = rowNorm(qb, qr)
  const probes = probePartitions(partitions, dequantized({ values: query, scale: qScale }), nprobe)
  const top = new TopK(k)
  let threshold = top.threshold
  scanCandidates(query, blocks, partitionCandidates(partitions, probes), kernel, (block, row, dot) => {
    const denom = qNorm * rowNorm(block, row)
    const score = denom > 0 ? (qScale * block.scales[row]! * dot) / denom : 0
    if (score < threshold) return
    const j = block.rowOffset + row
    if (j === index || exclude?.has(j)) return
    top.push(j, score)
    threshold = top.threshold
  })
  return top.result()
}

/**
 * Recall@K of an approximate top-K against the exact one: |approx ∩ exact| / |exact| (1 when the
 * exact list is empty).
 */
export function recallAtK(exact: ArrayLike<number>, approx: ArrayLike<number>): number {
  if (exact.length === 0) return 1
  const set = new Set<number>()
  for (let i = 0; i < approx.length; i++) set.add(approx[i]!)
  let hit = 0
  for (let i = 0; i < exact.length; i++) if (set.has(exact[i]!)) hit++
  return hit / exact.length
}
