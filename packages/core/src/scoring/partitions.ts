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
import type { QuantizedMatrix } from '../quantize/quantize.js'
import { mulberry32 } from '../random.js'
import {
  bundledFloat32KernelBytes,
  createFloat32Kernel,
  type Float32DotKernel,
  WasmFloat32Kernel,
} from './kernel/f32-kernel.js'
import type { Int8DotKernel } from './kernel/int8-kernel.js'
import { bundledInt8KernelBytes, createInt8Kernel, jsInt8Kernel } from './kernel/int8-kernel.js'
import { blockFromQuantized, findRow, type Int8Vector, type ItemBlock, recommendTopK } from './score.js'
import { type IndexFilter, TopK, type TopKResult } from './top-k.js'

/** A coarse quantizer and its inverted lists (what a `partitions` shard holds). */
export interface PartitionIndex {
  /** Number of partitions P. */
  lists: number
  dims: number
  /** Row-major `P × dims` float32 centroids c_p. */
  centroids: Float32Array
  /**
   * Items of partition p: `itemIndexes[listOffsets[p] .. listOffsets[p + 1])`, ascending. Every
   * item is in one list, or in two when it was spilled ({@link BuildPartitionsOptions.spill}).
   */
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
   * `256 · P` (FAISS trains on 39–256 points per centroid): Lloyd costs `sample · P · dims` per
   * iteration, the final assignment `items · P · dims`, both on the float32 Wasm SIMD kernel.
   */
  sample?: number
  /**
   * Number the partitions so that close centroids get close numbers (recursive bisection of the
   * centroids along their principal direction), so the lists a query probes tend to be neighbours
   * in the lists object and a few ranged reads cover them. Default true.
   */
  order?: boolean
  /**
   * Spilling (redundant assignment of border items, as in SOAR / FAISS's multi-assignment): an
   * item is also listed in its second-nearest partition when ‖y − c₂‖² ≤ (1 + spill)·‖y − c₁‖²,
   * so a query that probes only one of the two still finds it: the same recall needs fewer
   * probes (fewer ranged reads) for a few more bytes per list. 0 = off (every item in one list).
   * Default 0 here; the trainer's default is {@link DEFAULT_PARTITION_SPILL}.
   */
  spill?: number
  /** Use the JS float32 kernel instead of the Wasm SIMD one (tests compare them). */
  forceJs?: boolean
}

/**
 * The trainer's default {@link BuildPartitionsOptions.spill}: measured on the worker benchmark's
 * data (docs/benchmarks.md, issue 16), 0.2 lists ≈ 13% of the items twice and cuts the nprobe
 * reaching recall@10 0.95 by about a fifth.
 */
export const DEFAULT_PARTITION_SPILL = 0.2

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
 * Nearest centroid of a row by ‖y − c_p‖² = ‖y‖² − 2 y·c_p + ‖c_p‖², i.e. the p maximizing
 * y·c_p − ‖c_p‖²/2 (ties to the lower p), with the dots y·c_p from a float32 kernel over the
 * centroids (resident in the Wasm kernel's memory, one call per row and chunk).
 */
class NearestCentroid {
  readonly #kernel: Float32DotKernel
  readonly #centroids: Float32Array
  readonly #half: Float64Array
  readonly #lists: number
  readonly #dims: number

  constructor(lists: number, dims: number, forceJs: boolean) {
    const chunkRows = Math.min(lists, 4096)
    this.#kernel = createFloat32Kernel(bundledFloat32KernelBytes(), {
      dims,
      residentRows: lists,
      chunkRows,
      forceJs,
    })
    this.#centroids =
      this.#kernel instanceof WasmFloat32Kernel ? this.#kernel.resident : new Float32Array(lists * dims)
    this.#half = new Float64Array(lists)
    this.#lists = lists
    this.#dims = dims
  }

  /** Sets the centroids c_p (row-major `P × dims`). */
  set(centroids: Float32Array): void {
    this.#centroids.set(centroids)
    const dims = this.#dims
    for (let p = 0; p < this.#lists; p++) {
      let s = 0
      for (let d = 0; d < dims; d++) s += centroids[p * dims + d]! ** 2
      this.#half[p] = s / 2
    }
  }

  /**
   * The nearest and second-nearest centroids of `y` and their squared distances
   * ‖y − c‖² = ‖y‖² − 2 (y·c − ‖c‖²/2) (second = −1 with a single centroid).
   */
  two(y: Float32Array): { first: number; second: number; d1: number; d2: number } {
    const chunk = this.#kernel.chunkRows
    let first = 0
    let second = -1
    let s1 = Number.NEGATIVE_INFINITY
    let s2 = Number.NEGATIVE_INFINITY
    for (let start = 0; start < this.#lists; start += chunk) {
      const count = Math.min(chunk, this.#lists - start)
      const dots = this.#kernel.dots(y, this.#centroids, this.#dims, start, count)
      for (let i = 0; i < count; i++) {
        const score = dots[i]! - this.#half[start + i]!
        if (score > s1) {
          s2 = s1
          second = s1 === Number.NEGATIVE_INFINITY ? -1 : first
          s1 = score
          first = start + i
        } else if (score > s2) {
          s2 = score
          second = start + i
        }
      }
    }
    let norm = 0
    for (let d = 0; d < this.#dims; d++) norm += y[d]! ** 2
    return { first, second, d1: Math.max(0, norm - 2 * s1), d2: Math.max(0, norm - 2 * s2) }
  }

  /** argmax_p y·c_p − ‖c_p‖²/2 for the row `y` (`dims` values). */
  of(y: Float32Array): number {
    const chunk = this.#kernel.chunkRows
    let best = 0
    let bestScore = Number.NEGATIVE_INFINITY
    for (let start = 0; start < this.#lists; start += chunk) {
      const count = Math.min(chunk, this.#lists - start)
      const dots = this.#kernel.dots(y, this.#centroids, this.#dims, start, count)
      for (let i = 0; i < count; i++) {
        const score = dots[i]! - this.#half[start + i]!
        if (score > bestScore) {
          bestScore = score
          best = start + i
        }
      }
    }
    return best
  }
}

/**
 * k-means++ seeding (Arthur & Vassilvitskii 2007) on the sample: the first centre a uniform
 * sample row, each next one a row drawn with probability ∝ D(y)², its squared distance to the
 * nearest centre so far; the sample stays resident in a float32 kernel, one call per new centre.
 */
function seedCentroids(
  factors: ArrayLike<number>,
  sample: Uint32Array,
  lists: number,
  dims: number,
  random: () => number,
  forceJs: boolean,
): Float32Array {
  const n = sample.length
  const kernel = createFloat32Kernel(bundledFloat32KernelBytes(), {
    dims,
    residentRows: n,
    chunkRows: 4096,
    forceJs,
  })
  const rows = kernel instanceof WasmFloat32Kernel ? kernel.resident : new Float32Array(n * dims)
  const row = new Float32Array(dims)
  const norms = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const y = rowOf(factors, sample[i]!, dims, row)
    rows.set(y, i * dims)
    let s = 0
    for (let d = 0; d < dims; d++) s += y[d]! ** 2
    norms[i] = s
  }
  const centroids = new Float32Array(lists * dims)
  const d2 = new Float64Array(n).fill(Number.POSITIVE_INFINITY)
  let pick = Math.floor(random() * n)
  for (let p = 0; p < lists; p++) {
    const c = rows.slice(pick * dims, (pick + 1) * dims)
    centroids.set(c, p * dims)
    if (p === lists - 1) break
    let cNorm = 0
    for (let d = 0; d < dims; d++) cNorm += c[d]! ** 2
    // D(y_i)² ← min(D(y_i)², ‖y_i‖² − 2 y_i·c + ‖c‖²), and their sum.
    let total = 0
    for (let start = 0; start < n; start += kernel.chunkRows) {
      const count = Math.min(kernel.chunkRows, n - start)
      const dots = kernel.dots(c, rows, dims, start, count)
      for (let i = 0; i < count; i++) {
        const j = start + i
        const dist = Math.max(0, norms[j]! - 2 * dots[i]! + cNorm)
        if (dist < d2[j]!) d2[j] = dist
        total += d2[j]!
      }
    }
    if (!(total > 0)) {
      // Fewer distinct rows than partitions: the rest repeat a uniform row.
      pick = Math.floor(random() * n)
      continue
    }
    let target = random() * total
    pick = n - 1
    for (let j = 0; j < n; j++) {
      target -= d2[j]!
      if (target < 0) {
        pick = j
        break
      }
    }
  }
  return centroids
}

/** Row `r` of `factors` as float32 (a view when `factors` is a Float32Array, else copied to `into`). */
function rowOf(factors: ArrayLike<number>, r: number, dims: number, into: Float32Array): Float32Array {
  if (factors instanceof Float32Array) return factors.subarray(r * dims, (r + 1) * dims)
  for (let d = 0; d < dims; d++) into[d] = factors[r * dims + d]!
  return into
}

/**
 * Trains the coarse quantizer (k-means, Lloyd's algorithm on a seeded sample, initial centroids by
 * k-means++ on the sample; an emptied partition keeps its previous centroid), numbers the
 * partitions by {@link orderCentroids} (unless `order: false`) and assigns every item to its
 * nearest centroid. Deterministic for a given input, seed and kernel. Every item is in exactly one
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
  let centroids = seedCentroids(factors, sample, lists, dims, random, options.forceJs ?? false)
  const nearest = new NearestCentroid(lists, dims, options.forceJs ?? false)
  const row = new Float32Array(dims)
  const sums = new Float64Array(lists * dims)
  const counts = new Uint32Array(lists)
  for (let it = 0; it < iterations; it++) {
    nearest.set(centroids)
    sums.fill(0)
    counts.fill(0)
    for (const r of sample) {
      const y = rowOf(factors, r, dims, row)
      const p = nearest.of(y)
      counts[p]!++
      for (let d = 0; d < dims; d++) sums[p * dims + d]! += y[d]!
    }
    // c_p ← mean of the points assigned to p (an empty partition keeps c_p).
    for (let p = 0; p < lists; p++)
      if (counts[p]! > 0)
        for (let d = 0; d < dims; d++) centroids[p * dims + d] = sums[p * dims + d]! / counts[p]!
  }
  if (options.order ?? true) {
    const order = orderCentroids(centroids, lists, dims)
    const ordered = new Float32Array(lists * dims)
    for (let p = 0; p < lists; p++)
      ordered.set(centroids.subarray(order[p]! * dims, (order[p]! + 1) * dims), p * dims)
    centroids = ordered
  }
  nearest.set(centroids)
  const spill = options.spill ?? 0
  if (!(spill >= 0))
    throw new CoreError('INVALID_ARGUMENT', `spill must be a number ≥ 0, got ${options.spill}.`)
  const assignment = new Uint32Array(rows)
  // Second list of a spilled item, else -1.
  const spilled = new Int32Array(rows).fill(-1)
  const sizes = new Uint32Array(lists)
  for (let r = 0; r < rows; r++) {
    const y = rowOf(factors, r, dims, row)
    if (spill > 0 && lists > 1) {
      const { first, second, d1, d2 } = nearest.two(y)
      assignment[r] = first
      sizes[first]!++
      if (second >= 0 && d2 <= (1 + spill) * d1) {
        spilled[r] = second
        sizes[second]!++
      }
    } else {
      const p = nearest.of(y)
      assignment[r] = p
      sizes[p]!++
    }
  }
  const listOffsets = new Uint32Array(lists + 1)
  for (let p = 0; p < lists; p++) listOffsets[p + 1] = listOffsets[p]! + sizes[p]!
  const cursor = listOffsets.slice(0, lists)
  const itemIndexes = new Uint32Array(listOffsets[lists]!)
  // Items in ascending order, so every list is ascending.
  for (let r = 0; r < rows; r++) {
    itemIndexes[cursor[assignment[r]!]!++] = r
    if (spilled[r]! >= 0) itemIndexes[cursor[spilled[r]!]!++] = r
  }
  return { lists, dims, centroids, listOffsets, itemIndexes }
}

/**
 * An order of the `P` centroids in which close centroids are close: recursive bisection — split
 * the set at the median of its projections on its principal direction (power iteration on the
 * centred covariance), order each half the same way, and concatenate. A query's best partitions
 * are close to each other, so their lists end up near each other in the lists object.
 *
 * @returns `order[i]` = the old number of the partition numbered i
 */
export function orderCentroids(centroids: Float32Array, lists: number, dims: number): Uint32Array {
  const order = Uint32Array.from({ length: lists }, (_, i) => i)
  const mean = new Float64Array(dims)
  const v = new Float64Array(dims)
  const w = new Float64Array(dims)
  const proj = new Float64Array(lists)
  const split = (from: number, to: number, parent: Float64Array | undefined): void => {
    const n = to - from
    if (n <= 2) return
    mean.fill(0)
    for (let i = from; i < to; i++)
      for (let d = 0; d < dims; d++) mean[d]! += centroids[order[i]! * dims + d]! / n
    // Principal direction: a few power iterations of Σ_i (c_i − μ)(c_i − μ)ᵀ from a fixed start.
    for (let d = 0; d < dims; d++) v[d] = 1 / Math.sqrt(dims) + (d % 2 === 0 ? 1e-3 : -1e-3)
    for (let step = 0; step < 12; step++) {
      w.fill(0)
      for (let i = from; i < to; i++) {
        const c = order[i]! * dims
        let t = 0
        for (let d = 0; d < dims; d++) t += (centroids[c + d]! - mean[d]!) * v[d]!
        for (let d = 0; d < dims; d++) w[d]! += t * (centroids[c + d]! - mean[d]!)
      }
      let norm = 0
      for (let d = 0; d < dims; d++) norm += w[d]! ** 2
      norm = Math.sqrt(norm)
      if (norm === 0) return
      for (let d = 0; d < dims; d++) v[d] = w[d]! / norm
    }
    // Orient like the parent's direction, so each half runs the same way as the whole.
    let agree = 0
    for (let d = 0; d < dims; d++) agree += v[d]! * (parent?.[d] ?? 1)
    if (agree < 0) for (let d = 0; d < dims; d++) v[d] = -v[d]!
    const direction = v.slice()
    for (let i = from; i < to; i++) {
      const c = order[i]! * dims
      let t = 0
      for (let d = 0; d < dims; d++) t += (centroids[c + d]! - mean[d]!) * v[d]!
      proj[order[i]!] = t
    }
    const part = order.subarray(from, to)
    part.sort((a, b) => proj[a]! - proj[b]! || a - b)
    const mid = from + (n >> 1)
    split(from, mid, direction)
    split(mid, to, direction)
  }
  split(0, lists, undefined)
  return order
}

/** What probing needs of a {@link PartitionIndex}: the centroids only. */
export type PartitionCentroids = Pick<PartitionIndex, 'lists' | 'dims' | 'centroids'>

/**
 * The `nprobe` partitions with the largest q·c_p, best first (ties to the lower p).
 *
 * @param kernel - a float32 kernel to compute the q·c_p with (the worker's Wasm SIMD one, the
 *   centroids ideally its resident rows: then nothing is copied); default the float64 JS loop. The
 *   float32 sums can order two nearly equal centroids differently from the JS loop.
 */
export function probePartitions(
  index: PartitionCentroids,
  query: ArrayLike<number>,
  nprobe: number,
  kernel?: Float32DotKernel,
): Uint32Array {
  const { lists, dims, centroids } = index
  const top = new TopK(Math.max(1, Math.min(nprobe, lists)))
  if (kernel) {
    const q = Float32Array.from({ length: dims }, (_, d) => query[d]!)
    for (let start = 0; start < lists; start += kernel.chunkRows) {
      const count = Math.min(kernel.chunkRows, lists - start)
      const dots = kernel.dots(q, centroids, dims, start, count)
      for (let i = 0; i < count; i++) top.push(start + i, dots[i]!)
    }
    return Uint32Array.from(top.result().indices)
  }
  for (let p = 0; p < lists; p++) {
    let s = 0
    for (let d = 0; d < dims; d++) s += query[d]! * centroids[p * dims + d]!
    top.push(p, s)
  }
  return Uint32Array.from(top.result().indices)
}

/** Dequantized query `s · q` for probing. */
export function dequantized(v: Int8Vector): Float64Array {
  return Float64Array.from(v.values, (x) => x * v.scale)
}

function rowNorm(block: ItemBlock, row: number): number {
  if (block.norms) return block.norms[row]!
  let sum = 0
  for (let d = 0; d < block.dims; d++) sum += block.factors[row * block.dims + d]! ** 2
  return block.scales[row]! * Math.sqrt(sum)
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

/**
 * One inverted list with its items' int8 rows CONTIGUOUS (row r is item `itemIndexes[r]`): what
 * the trainer stores per partition and the worker fetches with one ranged read. A decoded
 * `partitionList` shard satisfies it.
 */
export interface PartitionRows {
  rowCount: number
  dims: number
  factors: Int8Array
  scales: Float32Array
  norms: Float32Array
  /** Global item indexes, ascending. */
  itemIndexes: Uint32Array
}

/**
 * Copies the item rows of each partition into one contiguous {@link PartitionRows} per partition
 * (the inverted lists), in partition order.
 *
 * @throws {@link CoreError} `INVALID_ARGUMENT` when a listed item is not in `blocks`
 */
export function layoutPartitionLists(index: PartitionIndex, blocks: readonly ItemBlock[]): PartitionRows[] {
  const dims = index.dims
  const out: PartitionRows[] = []
  for (let p = 0; p < index.lists; p++) {
    const itemIndexes = index.itemIndexes.slice(index.listOffsets[p]!, index.listOffsets[p + 1]!)
    const rows = itemIndexes.length
    const factors = new Int8Array(rows * dims)
    const scales = new Float32Array(rows)
    const norms = new Float32Array(rows)
    for (let r = 0; r < rows; r++) {
      const found = findRow(blocks, itemIndexes[r]!)
      if (!found || found.block.dims !== dims)
        throw new CoreError(
          'INVALID_ARGUMENT',
          `Item ${itemIndexes[r]} of partition ${p} is not in the item blocks.`,
        )
      const { block, row } = found
      factors.set(block.factors.subarray(row * dims, (row + 1) * dims), r * dims)
      scales[r] = block.scales[row]!
      norms[r] = rowNorm(block, row)
    }
    out.push({ rowCount: rows, dims, factors, scales, norms, itemIndexes })
  }
  return out
}

/**
 * Calls `visit(list, row, dot)` with the exact int8 dot product of `query` and every row of every
 * list: the rows of a list are contiguous, so the kernel scores a whole list per call (per
 * `chunkRows` rows).
 */
function scanLists(
  query: Int8Array,
  lists: readonly PartitionRows[],
  kernel: Int8DotKernel,
  visit: (list: PartitionRows, row: number, dot: number) => void,
): void {
  const chunk = kernel.chunkRows
  for (const list of lists) {
    for (let start = 0; start < list.rowCount; start += chunk) {
      const count = Math.min(chunk, list.rowCount - start)
      const dots = kernel.dots(query, list.factors, list.dims, start, count)
      for (let r = 0; r < count; r++) visit(list, start + r, dots[r]!)
    }
  }
}

/**
 * Top K for an int8 user over the items of `lists` (the probed partitions), scored exactly as
 * {@link recommendTopK} scores them (`s_u · s_i · Σ q_u q_i`, ties to the lower index); exclusions
 * are checked only for rows that can enter the top K. An item listed in two probed lists
 * (spilling) enters once.
 */
export function topKOverLists(
  user: Int8Vector,
  lists: readonly PartitionRows[],
  k: number,
  exclude?: IndexFilter,
  kernel: Int8DotKernel = jsInt8Kernel,
): TopKResult {
  const top = new TopK(k)
  // Items offered to `top` (only those reaching its threshold: few).
  const offered = new Set<number>()
  let threshold = top.threshold
  scanLists(user.values, lists, kernel, (list, row, dot) => {
    const score = user.scale * list.scales[row]! * dot
    if (score < threshold) return
    const j = list.itemIndexes[row]!
    // A spilled item's second row has the same score: offered once.
    if (offered.has(j)) return
    offered.add(j)
    if (exclude === undefined || !exclude.has(j)) top.push(j, score)
    threshold = top.threshold
  })
  return top.result()
}

/** A query of cosine similarity: int8 values, scale and the L2 norm of the dequantized vector. */
export interface CosineQuery extends Int8Vector {
  norm: number
}

/**
 * Items most similar to `query` by cosine over the items of `lists`, scored as
 * {@link similarItems} scores them (`s_q s_j Σ q_q q_j / (‖y_q‖ ‖y_j‖)`); `exclude` should hold the
 * query item itself.
 */
export function similarOverLists(
  query: CosineQuery,
  lists: readonly PartitionRows[],
  k: number,
  exclude?: IndexFilter,
  kernel: Int8DotKernel = jsInt8Kernel,
): TopKResult {
  const top = new TopK(k)
  // Items offered to `top` (only those reaching its threshold: few).
  const offered = new Set<number>()
  let threshold = top.threshold
  scanLists(query.values, lists, kernel, (list, row, dot) => {
    const denom = query.norm * list.norms[row]!
    const score = denom > 0 ? (query.scale * list.scales[row]! * dot) / denom : 0
    if (score < threshold) return
    const j = list.itemIndexes[row]!
    if (offered.has(j)) return
    offered.add(j)
    if (exclude?.has(j)) return
    top.push(j, score)
    threshold = top.threshold
  })
  return top.result()
}

/**
 * The partition of every item (`rows` items), from the lists of `index`: u16 when there are at
 * most 65,536 partitions, else u32.
 */
export function partitionOfItems(
  index: Pick<PartitionIndex, 'lists' | 'listOffsets' | 'itemIndexes'>,
  rows: number,
): Uint16Array | Uint32Array {
  const out = index.lists <= 65_536 ? new Uint16Array(rows) : new Uint32Array(rows)
  for (let p = 0; p < index.lists; p++)
    for (let i = index.listOffsets[p]!; i < index.listOffsets[p + 1]!; i++) out[index.itemIndexes[i]!] = p
  return out
}

/** The cosine query of row `row` of `list` (its values copied). */
export function cosineQueryOf(list: PartitionRows, row: number): CosineQuery {
  const dims = list.dims
  return {
    values: list.factors.slice(row * dims, (row + 1) * dims),
    scale: list.scales[row]!,
    norm: list.norms[row]!,
  }
}

/** Row of item `item` in a list (binary search over its ascending item indexes), or -1. */
export function rowInList(list: PartitionRows, item: number): number {
  let lo = 0
  let hi = list.rowCount - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const v = list.itemIndexes[mid]!
    if (v === item) return mid
    if (v < item) lo = mid + 1
    else hi = mid - 1
  }
  return -1
}

/**
 * Partitioned top K over in-memory contiguous lists ({@link layoutPartitionLists}): probe the
 * `nprobe` best partitions, then one kernel call per probed list. Equals {@link recommendTopK} when
 * every partition is probed.
 */
export function recommendTopKProbed(
  user: Int8Vector,
  index: PartitionCentroids,
  lists: readonly PartitionRows[],
  nprobe: number,
  k: number,
  exclude?: IndexFilter,
  kernel: Int8DotKernel = jsInt8Kernel,
): TopKResult {
  const probes = probePartitions(index, dequantized(user), nprobe)
  return topKOverLists(
    user,
    Array.from(probes, (p) => lists[p]!),
    k,
    exclude,
    kernel,
  )
}

/**
 * Items most similar to item `item` by cosine over in-memory contiguous lists: the item's factors
 * probe the `nprobe` best partitions, whose items are re-ranked exactly. Equals
 * {@link similarItems} when every partition is probed. Undefined when the item is in no list.
 */
export function similarItemsProbed(
  index: PartitionCentroids,
  lists: readonly PartitionRows[],
  partitionOf: ArrayLike<number>,
  item: number,
  nprobe: number,
  k: number,
  exclude?: IndexFilter,
  kernel: Int8DotKernel = jsInt8Kernel,
): TopKResult | undefined {
  const home = lists[partitionOf[item] ?? -1]
  const row = home ? rowInList(home, item) : -1
  if (!home || row < 0) return undefined
  const query = cosineQueryOf(home, row)
  const probes = probePartitions(index, dequantized(query), nprobe)
  const skip: IndexFilter = { has: (j) => j === item || (exclude?.has(j) ?? false) }
  return similarOverLists(
    query,
    Array.from(probes, (p) => lists[p]!),
    k,
    skip,
    kernel,
  )
}

/** Options of {@link planPartitionIndex} (the trainer's `export.partitions`, validated). */
export interface PlanPartitionIndexOptions {
  /** Number of partitions. Default ⌈√items⌉. */
  lists?: number
  /** Fixed default nprobe (its recall is measured and reported); unset: chosen by recall. */
  nprobe?: number
  /** Recall@K the chosen nprobe must reach. Default 0.95. */
  targetRecall?: number
  /** Lloyd iterations. Default 8. */
  iterations?: number
  /** Seed of k-means. Default 1. */
  seed?: number
  /** k-means sample (see {@link BuildPartitionsOptions.sample}). */
  sample?: number
  /** Spilling (see {@link BuildPartitionsOptions.spill}). Default {@link DEFAULT_PARTITION_SPILL}. */
  spill?: number
  /** K of recall@K. Default 10. */
  k?: number
  /** The int8 kernel of the exact and probed scans. Default: Wasm SIMD where it runs, else JS. */
  kernel?: Int8DotKernel
}

/** A partitioned index with its lists and the default nprobe chosen by measured recall. */
export interface PlannedPartitionIndex {
  index: PartitionIndex
  /** The int8 rows of each partition, contiguous (the lists object). */
  lists: PartitionRows[]
  nprobe: number
  /** Mean recall@K of the probed top-K against the exact one over `queries`, at `nprobe`. */
  recall: number
  k: number
}

/**
 * The trainer's partitioning (issue 16), for the trainer and the benchmarks alike: k-means on the
 * float item factors ({@link buildPartitions}), the contiguous lists, and the default `nprobe` —
 * when not fixed, the smallest whose MEASURED recall@K of the probed top-K against the exact int8
 * scan over `queries` reaches the target: doubling 1, 2, 4, … then bisection below the first power
 * of two that reaches it (capped at the number of lists).
 *
 * @param itemFactors - float item factors y_i, `items.rows × items.dims`
 * @param items - the int8 item rows as served
 * @param queries - int8 user vectors to measure recall on
 */
export function planPartitionIndex(
  itemFactors: ArrayLike<number>,
  items: QuantizedMatrix,
  queries: readonly Int8Vector[],
  options: PlanPartitionIndexOptions = {},
): PlannedPartitionIndex {
  const n = items.rows
  const k = options.k ?? 10
  const kernel = options.kernel ?? createInt8Kernel(bundledInt8KernelBytes(), { dims: items.dims })
  const index = buildPartitions(itemFactors, n, items.dims, {
    lists: options.lists ?? Math.ceil(Math.sqrt(n)),
    iterations: options.iterations ?? 8,
    seed: options.seed ?? 1,
    ...(options.sample !== undefined ? { sample: options.sample } : {}),
    spill: options.spill ?? DEFAULT_PARTITION_SPILL,
  })
  const blocks = [blockFromQuantized(items)]
  const lists = layoutPartitionLists(index, blocks)
  const { nprobe, recall } = chooseNprobe(index, lists, blocks, queries, { ...options, k, kernel })
  return { index, lists, nprobe, recall, k }
}

/**
 * The default nprobe of a partitioned index by MEASURED recall@K against the exact int8 scan over
 * `queries` (see {@link planPartitionIndex}); with `options.nprobe` set, that nprobe and its recall.
 */
export function chooseNprobe(
  index: PartitionCentroids,
  lists: readonly PartitionRows[],
  blocks: readonly ItemBlock[],
  queries: readonly Int8Vector[],
  options: Pick<PlanPartitionIndexOptions, 'nprobe' | 'targetRecall' | 'k' | 'kernel'> = {},
): { nprobe: number; recall: number } {
  const k = options.k ?? 10
  const target = options.targetRecall ?? 0.95
  const kernel = options.kernel ?? jsInt8Kernel
  const exact = queries.map((q) => recommendTopK(q, blocks, k, undefined, kernel).indices)
  const recallAt = (nprobe: number): number => {
    if (queries.length === 0) return 1
    let sum = 0
    queries.forEach((q, i) => {
      const probed = recommendTopKProbed(q, index, lists, nprobe, k, undefined, kernel)
      sum += recallAtK(exact[i]!, probed.indices)
    })
    return sum / queries.length
  }
  let nprobe = Math.max(1, Math.min(options.nprobe ?? 1, index.lists))
  let recall = recallAt(nprobe)
  if (options.nprobe === undefined) {
    while (recall < target && nprobe < index.lists) {
      nprobe = Math.min(nprobe * 2, index.lists)
      recall = recallAt(nprobe)
    }
    // Then the smallest nprobe in (nprobe/2, nprobe] reaching the target: each probed list the
    // worker does not hold is a ranged read, so 12 instead of 16 counts.
    let below = nprobe >> 1
    while (recall >= target && nprobe - below > 1) {
      const mid = (below + nprobe) >> 1
      const r = recallAt(mid)
      if (r >= target) {
        nprobe = mid
        recall = r
      } else below = mid
    }
  }
  return { nprobe, recall }
}
