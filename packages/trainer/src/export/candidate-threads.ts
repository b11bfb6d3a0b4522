/**
 * The precomputed candidates on worker threads (issue 16): one scan per trained user is the
 * export's longest step on a large population (≈ 0.3–0.4 ms per user at 1M items), so the buckets'
 * candidates are computed on `threads` workers that share the scan's data (the partition lists or
 * the item rows, copied once onto SharedArrayBuffers). A bucket's rows go to one worker and its
 * candidates come back; each user's candidates do not depend on the thread, so the shards are
 * identical for any number of threads.
 *
 * @module
 */
import { Worker } from 'node:worker_threads'
import {
  blockFromQuantized,
  bundledInt8KernelBytes,
  type CandidateLists,
  type CandidateScan,
  createInt8Kernel,
  type InteractionLists,
  type PartitionRows,
  type QuantizedMatrix,
  recommendTopK,
  recommendTopKProbed,
  WasmInt8Kernel,
} from '@edgerec/core'
import { type Remote, releaseProxy, wrap } from 'comlink'
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs'
import { workerEntry } from '../als/pool.js'
import { TrainerError } from '../errors.js'
import type { CandidatesWorkerApi } from './candidates-worker.js'

/** What a candidates thread scans: every item (exact) or the partition lists (probed). */
export type CandidateScanData =
  | { kind: 'exact'; dims: number; rows: number; values: Int8Array; scales: Float32Array }
  | {
      kind: 'probed'
      dims: number
      /** Partitions probed per user. */
      nprobe: number
      lists: number
      /** `lists × dims` centroids. */
      centroids: Float32Array
      /** `lists + 1` offsets of each list's rows in the arrays below. */
      listRows: Uint32Array
      factors: Int8Array
      scales: Float32Array
      norms: Float32Array
      itemIndexes: Uint32Array
    }

/** One bucket's users as a candidates thread needs them (int8 rows and training items). */
export interface BucketRows {
  factors: QuantizedMatrix
  interactions: Pick<InteractionLists, 'offsets' | 'items'>
}

type Shareable = Int8Array | Float32Array | Uint32Array

/** `source` copied onto a SharedArrayBuffer (threads read it without a copy of their own). */
function shared<T extends Shareable>(source: T, make: (buffer: SharedArrayBuffer) => T): T {
  const target = make(new SharedArrayBuffer(Math.max(8, source.byteLength)))
  ;(target as Shareable).set(source as never)
  return target
}

/** The exact scan's data on shared memory. */
export function sharedExactData(items: QuantizedMatrix): CandidateScanData {
  const { rows, dims } = items
  return {
    kind: 'exact',
    dims,
    rows,
    values: shared(items.values, (b) => new Int8Array(b, 0, rows * dims)),
    scales: shared(items.scales, (b) => new Float32Array(b, 0, rows)),
  }
}

/** The probed scan's data on shared memory: the lists' rows back to back, and the centroids. */
export function sharedProbedData(
  centroids: Float32Array,
  lists: readonly PartitionRows[],
  dims: number,
  nprobe: number,
): CandidateScanData {
  const listRows = new Uint32Array(new SharedArrayBuffer(4 * (lists.length + 1)))
  lists.forEach((list, p) => {
    listRows[p + 1] = listRows[p]! + list.rowCount
  })
  const rows = listRows[lists.length]!
  const factors = new Int8Array(new SharedArrayBuffer(Math.max(8, rows * dims)), 0, rows * dims)
  const scales = new Float32Array(new SharedArrayBuffer(Math.max(8, 4 * rows)), 0, rows)
  const norms = new Float32Array(new SharedArrayBuffer(Math.max(8, 4 * rows)), 0, rows)
  const itemIndexes = new Uint32Array(new SharedArrayBuffer(Math.max(8, 4 * rows)), 0, rows)
  lists.forEach((list, p) => {
    const at = listRows[p]!
    factors.set(list.factors.subarray(0, list.rowCount * dims), at * dims)
    scales.set(list.scales.subarray(0, list.rowCount), at)
    norms.set(list.norms.subarray(0, list.rowCount), at)
    itemIndexes.set(list.itemIndexes.subarray(0, list.rowCount), at)
  })
  return {
    kind: 'probed',
    dims,
    nprobe,
    lists: lists.length,
    centroids: shared(centroids, (b) => new Float32Array(b, 0, centroids.length)),
    listRows,
    factors,
    scales,
    norms,
    itemIndexes,
  }
}

/**
 * The scan of `data` with this thread's Wasm int8 kernel: core's `recommendTopKProbed` over the
 * lists at `nprobe`, or core's exact `recommendTopK` with the item rows in the kernel's memory.
 */
export function scanOf(data: CandidateScanData): CandidateScan {
  const { dims } = data
  if (data.kind === 'probed') {
    const kernel = createInt8Kernel(bundledInt8KernelBytes(), { dims })
    const index = { lists: data.lists, dims, centroids: data.centroids }
    const lists: PartitionRows[] = Array.from({ length: data.lists }, (_, p) => {
      const start = data.listRows[p]!
      const end = data.listRows[p + 1]!
      return {
        rowCount: end - start,
        dims,
        factors: data.factors.subarray(start * dims, end * dims),
        scales: data.scales.subarray(start, end),
        norms: data.norms.subarray(start, end),
        itemIndexes: data.itemIndexes.subarray(start, end),
      }
    })
    return (user, n, exclude) => recommendTopKProbed(user, index, lists, data.nprobe, n, exclude, kernel)
  }
  // The item rows live in the kernel's memory, so every scan reads them in place.
  const kernel = createInt8Kernel(bundledInt8KernelBytes(), { dims, residentRows: data.rows })
  let values = data.values
  if (kernel instanceof WasmInt8Kernel) {
    kernel.resident.set(data.values)
    values = kernel.resident
  }
  const blocks = [blockFromQuantized({ rows: data.rows, dims, values, scales: data.scales })]
  return (user, n, exclude) => recommendTopK(user, blocks, n, exclude, kernel)
}

/** Worker threads computing buckets' candidates, one bucket per thread at a time. */
export class CandidatePool {
  readonly threads: number
  readonly #workers: Worker[]
  readonly #remotes: Remote<CandidatesWorkerApi>[]
  readonly #idle: number[]
  readonly #waiting: ((worker: number) => void)[] = []
  /** Why a thread stopped (set when one exits or fails), so no call waits for it forever. */
  #failure: Error | undefined
  readonly #pending = new Set<(error: Error) => void>()

  private constructor(workers: Worker[], remotes: Remote<CandidatesWorkerApi>[]) {
    this.threads = workers.length
    this.#workers = workers
    this.#remotes = remotes
    this.#idle = workers.map((_, i) => i)
  }

  /** Starts `threads` workers, each with the scan of `data` (shared, not copied). */
  static async start(data: CandidateScanData, threads: number): Promise<CandidatePool> {
    const { url, execArgv } = workerEntry('../export/candidates-worker')
    const workers: Worker[] = []
    const remotes: Remote<CandidatesWorkerApi>[] = []
    for (let t = 0; t < threads; t++) {
      const worker = new Worker(url, { execArgv })
      workers.push(worker)
      remotes.push(wrap<CandidatesWorkerApi>(nodeEndpoint(worker)))
    }
    const pool = new CandidatePool(workers, remotes)
    for (const worker of workers) {
      worker.on('error', (error) => pool.#fail(error))
      worker.on('exit', (code) => pool.#fail(new Error(`A candidates thread exited (code ${code}).`)))
    }
    try {
      await pool.#call(Promise.all(remotes.map((remote) => remote.init(data))))
    } catch (error) {
      await pool.close()
      throw error
    }
    return pool
  }

  /** The candidates of one bucket's rows (`n` per user, training items left out). */
  async build(bucket: BucketRows, n: number): Promise<CandidateLists> {
    if (this.#failure) throw this.#failure
    const worker = this.#idle.pop() ?? (await new Promise<number>((resolve) => this.#waiting.push(resolve)))
    // −1: woken because a thread failed.
    if (worker < 0) throw this.#failure
    try {
      return await this.#call(this.#remotes[worker]!.build(bucket, n))
    } finally {
      const next = this.#waiting.shift()
      if (next) next(worker)
      else this.#idle.push(worker)
    }
  }

  /** Stops every thread. */
  async close(): Promise<void> {
    this.#failure ??= new Error('The candidates threads were closed.')
    for (const remote of this.#remotes) remote[releaseProxy]()
    await Promise.all(this.#workers.map((worker) => worker.terminate()))
  }

  /** `promise`, rejected as soon as a thread fails (a crashed thread never answers). */
  #call<T>(promise: Promise<T>): Promise<T> {
    if (this.#failure) return Promise.reject(this.#failure)
    return new Promise<T>((resolve, reject) => {
      const onFailure = (error: Error): void => reject(error)
      this.#pending.add(onFailure)
      promise.then(resolve, reject).finally(() => this.#pending.delete(onFailure))
    })
  }

  #fail(error: Error): void {
    if (this.#failure) return
    this.#failure = new TrainerError(
      'EXPORT_FAILED',
      `Computing the precomputed candidates on worker threads failed (${error.message}). Set export.candidates to 0 to export without them, or train with fewer threads.`,
      { cause: error },
    )
    for (const reject of this.#pending) reject(this.#failure)
    for (const wake of this.#waiting.splice(0)) wake(-1)
  }
}
