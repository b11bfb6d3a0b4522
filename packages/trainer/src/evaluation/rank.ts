/**
 * Top-K ranking of every evaluated user, float32 and int8, on worker threads (comlink, the same
 * worker start-up as the ALS pool) or inline. Lists go into shared memory; metrics are computed
 * from them on the main thread, so the result is identical for any number of threads.
 *
 * @module
 */
import { Worker } from 'node:worker_threads'
import {
  blockFromQuantized,
  bundledFloat32KernelBytes,
  bundledInt8KernelBytes,
  createFloat32Kernel,
  createInt8Kernel,
  type Float32DotKernel,
  type Int8DotKernel,
  type ItemBlock,
  quantizeRowInto,
  recommendTopK,
  topKFloat32,
  WasmFloat32Kernel,
  WasmInt8Kernel,
} from '@edgerec/core'
import { type Remote, releaseProxy, wrap } from 'comlink'
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs'
import { workerEntry } from '../als/pool.js'
import type { AlsModel } from '../als/train.js'
import type { CsrMatrix } from '../data/matrix.js'
import type { RankWorkerApi } from './rank-worker.js'

/** Everything a ranking thread reads and writes; typed arrays on SharedArrayBuffers. */
export interface RankJob {
  users: number
  items: number
  dims: number
  /** List length (the largest K evaluated). */
  k: number
  userFactors: Float32Array
  itemFactors: Float32Array
  userQ: Int8Array
  userScales: Float32Array
  itemQ: Int8Array
  itemScales: Float32Array
  /** Train part (items to exclude per user). */
  indptr: Uint32Array
  indices: Uint32Array
  /** Users to rank (1) or skip (0). */
  selected: Uint8Array
  /** users × k float32 lists, then users × k int8 lists. */
  out: Uint32Array
  /** users float32 lengths, then users int8 lengths. */
  lengths: Uint16Array
  /** [0]: next user to hand out; [1]: users done. */
  counter: Int32Array
  chunk: number
  /** Float32 scan: core's Wasm SIMD kernel (default; JS where Wasm SIMD does not validate) or its JS kernel. */
  float32Kernel: 'wasm' | 'js'
}

function shared<T extends Float32Array | Int8Array | Uint32Array | Uint16Array | Uint8Array | Int32Array>(
  make: (buffer: SharedArrayBuffer) => T,
  bytes: number,
): T {
  return make(new SharedArrayBuffer(Math.max(8, bytes)))
}

/**
 * A typed array the ranking threads can read: `source` itself when it already lives on a
 * SharedArrayBuffer (the factors {@link trainAls} returns are views onto its shared WebAssembly
 * memory, at an offset; a view posted to a thread keeps its offset), else a copy on a new one.
 */
function sharedView<T extends Float32Array | Uint32Array | Uint8Array>(
  source: T,
  make: (buffer: SharedArrayBuffer) => T,
): T {
  if (source.buffer instanceof SharedArrayBuffer) return source
  const target = shared(make, source.byteLength)
  ;(target as unknown as { set(a: ArrayLike<number>): void }).set(source)
  return target
}

/** int8 rows and scales of `factors` (core's `quantizeRowInto`), written straight into shared memory. */
function sharedQuantized(factors: Float32Array, rows: number, dims: number) {
  const values = shared((b) => new Int8Array(b, 0, rows * dims), rows * dims)
  const scales = shared((b) => new Float32Array(b, 0, rows), 4 * rows)
  for (let r = 0; r < rows; r++) scales[r] = quantizeRowInto(factors, r * dims, dims, values, r * dims)
  return { values, scales }
}

/**
 * Builds a job for `model` on `train`, ranking the users `selected` flags. Factors already on a
 * SharedArrayBuffer are shared, not copied; the int8 matrices are quantized in place.
 */
export function rankJob(
  model: AlsModel,
  train: CsrMatrix,
  selected: Uint8Array,
  k: number,
  float32Kernel: 'wasm' | 'js' = 'wasm',
): RankJob {
  const { users, items, factors: dims } = model
  const uq = sharedQuantized(model.userFactors, users, dims)
  const iq = sharedQuantized(model.itemFactors, items, dims)
  return {
    users,
    items,
    dims,
    k,
    userFactors: sharedView(model.userFactors, (b) => new Float32Array(b, 0, users * dims)),
    itemFactors: sharedView(model.itemFactors, (b) => new Float32Array(b, 0, items * dims)),
    userQ: uq.values,
    userScales: uq.scales,
    itemQ: iq.values,
    itemScales: iq.scales,
    indptr: sharedView(train.indptr, (b) => new Uint32Array(b, 0, train.indptr.length)),
    indices: sharedView(train.indices, (b) => new Uint32Array(b, 0, train.indices.length)),
    selected: sharedView(selected, (b) => new Uint8Array(b, 0, users)),
    out: shared((b) => new Uint32Array(b, 0, 2 * users * k), 8 * users * k),
    lengths: shared((b) => new Uint16Array(b, 0, 2 * users), 4 * users),
    counter: shared((b) => new Int32Array(b, 0, 2), 8),
    chunk: 64,
    float32Kernel,
  }
}

/** Per job and thread: the int8 kernel and the item block it scans (built once). */
const int8Scans = new WeakMap<RankJob, { kernel: Int8DotKernel; blocks: ItemBlock[] }>()

/**
 * The int8 scan of a job in this thread: core's fastest exact kernel (Wasm relaxed SIMD, SIMD128,
 * else JS; every one computes the exact sums Σ q_u q_i, so the lists do not depend on it), with the
 * int8 item matrix copied once into the Wasm kernel's memory so the scans read it in place.
 */
function int8Scan(job: RankJob): { kernel: Int8DotKernel; blocks: ItemBlock[] } {
  let scan = int8Scans.get(job)
  if (!scan) {
    const kernel = createInt8Kernel(bundledInt8KernelBytes(), { dims: job.dims, residentRows: job.items })
    let values = job.itemQ
    if (kernel instanceof WasmInt8Kernel) {
      kernel.resident.set(job.itemQ)
      values = kernel.resident
    }
    scan = {
      kernel,
      blocks: [blockFromQuantized({ rows: job.items, dims: job.dims, values, scales: job.itemScales })],
    }
    int8Scans.set(job, scan)
  }
  return scan
}

/** Per job and thread: the float32 kernel and the item matrix it scans (built once). */
const float32Scans = new WeakMap<RankJob, { kernel: Float32DotKernel; items: Float32Array }>()

/**
 * The float32 scan of a job in this thread: core's Wasm SIMD128 float32 kernel (else its JS
 * kernel), with the float32 item matrix copied once into the kernel's memory. NOTE: the Wasm kernel
 * accumulates in float32 lanes, so scores can differ from the JS loop in the last bits and exact
 * ties or near-ties may swap (docs/trainer.md); metrics agree to 4 decimals.
 */
function float32Scan(job: RankJob): { kernel: Float32DotKernel; items: Float32Array } {
  let scan = float32Scans.get(job)
  if (!scan) {
    const kernel = createFloat32Kernel(bundledFloat32KernelBytes(), {
      dims: job.dims,
      residentRows: job.float32Kernel === 'js' ? 0 : job.items,
      forceJs: job.float32Kernel === 'js',
    })
    let items = job.itemFactors
    if (kernel instanceof WasmFloat32Kernel) {
      kernel.resident.set(job.itemFactors)
      items = kernel.resident
    }
    scan = { kernel, items }
    float32Scans.set(job, scan)
  }
  return scan
}

/**
 * Ranks chunks of users until none is left or `budgetMs` has passed (each thread runs this on the
 * same job); returns whether users are left. Float32:
 * score = x_uᵀ y_i in float32 (core's `topKFloat32` with its Wasm SIMD float32 kernel); int8:
 * s_u · s_i · Σ q_u q_i (core's `recommendTopK` with its Wasm SIMD int8 kernel);
 * train items excluded; ties to the lower index.
 */
export function rankChunks(job: RankJob, budgetMs = Number.POSITIVE_INFINITY): boolean {
  const started = performance.now()
  const { dims, items, k } = job
  const mask = new Uint8Array(items)
  const exclude = { has: (i: number): boolean => mask[i] === 1 }
  const { kernel, blocks } = int8Scan(job)
  const f32 = float32Scan(job)
  for (;;) {
    if (performance.now() - started > budgetMs) return Atomics.load(job.counter, 0) < job.users
    const start = Atomics.add(job.counter, 0, job.chunk)
    if (start >= job.users) return false
    const end = Math.min(job.users, start + job.chunk)
    for (let u = start; u < end; u++) {
      if (job.selected[u] !== 1) continue
      for (let j = job.indptr[u]!; j < job.indptr[u + 1]!; j++) mask[job.indices[j]!] = 1
      const x = job.userFactors.subarray(u * dims, (u + 1) * dims)
      const f = topKFloat32(f32.kernel, x, f32.items, items, dims, k, exclude).indices
      job.out.set(f, u * k)
      job.lengths[u] = f.length
      const vector = { values: job.userQ.subarray(u * dims, (u + 1) * dims), scale: job.userScales[u]! }
      const q = recommendTopK(vector, blocks, k, exclude, kernel).indices
      job.out.set(q, (job.users + u) * k)
      job.lengths[job.users + u] = q.length
      for (let j = job.indptr[u]!; j < job.indptr[u + 1]!; j++) mask[job.indices[j]!] = 0
    }
    Atomics.add(job.counter, 1, end - start)
  }
}

/** Ranked lists of a job: user `u`'s float32 or int8 list. */
export interface RankedLists {
  float32(user: number): Uint32Array
  int8(user: number): Uint32Array
}

/** Options of {@link rankAll}. */
export interface RankOptions {
  /** Threads (≥ 1); 1 ranks in the calling thread. */
  threads: number
  /** Called about every `intervalMs` with users handed out so far. */
  onProgress?: (done: number, total: number) => void
  intervalMs?: number
  /** Float32 scan kernel (default `'wasm'`; `'js'` is the scalar loop, for benchmarks). */
  float32Kernel?: 'wasm' | 'js'
}

/**
 * Ranks every selected user of `model` (float32 and int8 lists of length `k`), on `threads`
 * worker threads.
 */
export async function rankAll(
  model: AlsModel,
  train: CsrMatrix,
  selected: Uint8Array,
  k: number,
  options: RankOptions,
): Promise<RankedLists> {
  const job = rankJob(model, train, selected, k, options.float32Kernel)
  const total = job.users
  const report = (): void => options.onProgress?.(Math.min(total, Atomics.load(job.counter, 1)), total)
  if (options.threads <= 1) {
    const interval = options.intervalMs ?? 1000
    while (rankChunks(job, interval)) report()
  } else {
    const { url, execArgv } = workerEntry('../evaluation/rank-worker')
    const workers: Worker[] = []
    const remotes: Remote<RankWorkerApi>[] = []
    const timer = setInterval(report, options.intervalMs ?? 1000)
    try {
      for (let t = 0; t < options.threads; t++) {
        const worker = new Worker(url, { execArgv })
        workers.push(worker)
        remotes.push(wrap<RankWorkerApi>(nodeEndpoint(worker)))
      }
      await Promise.all(remotes.map((remote) => remote.rank(job)))
    } finally {
      clearInterval(timer)
      for (const remote of remotes) remote[releaseProxy]()
      await Promise.all(workers.map((w) => w.terminate()))
    }
  }
  report()
  return {
    float32: (u) => job.out.subarray(u * k, u * k + job.lengths[u]!),
    int8: (u) => job.out.subarray((job.users + u) * k, (job.users + u) * k + job.lengths[job.users + u]!),
  }
}
