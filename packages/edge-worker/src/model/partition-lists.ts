/**
 * The partitions of a large version, loaded on demand (issue 16): the isolate holds only the
 * centroids, the list tables (offsets, byte offsets, SHA-256 of each list) and the item →
 * partition map; a query probes the best `nprobe` partitions and fetches their lists with R2 ranged
 * reads (issued at once, one per span of lists that are close in the object: lists at most
 * `PARTITION_READ_GAP_KIB` apart are read together, the bytes between them discarded) into a cache
 * bounded in bytes (`PARTITION_CACHE_MIB`). Every list is verified (core's
 * `checkPartitionList`) before use; a missing or corrupt list is skipped, never a failed request.
 *
 * A request never waits on another request's read: workerd ties I/O to the request that started
 * it, so when that request is cancelled (its client went away) its reads never complete, and a
 * request waiting on them with no I/O of its own is cancelled as hung (a 500, seen at the end of
 * every full-speed 1M benchmark run). Reads are shared only within one call; concurrent requests
 * that miss the same list each read it, and the cache keeps one copy.
 *
 * @module
 */
import {
  checkPartitionList,
  type PartitionCentroids,
  type PartitionListShard,
  type PartitionsShard,
  partitionOfItems,
  probePartitions,
  rowInList,
  type ShardRef,
  type WasmFloat32Kernel,
} from '@edgerec/core'
import { ByteLru } from './byte-lru.js'
import type { ModelBindings } from './storage.js'

/** A list that could not be used, for `/v1/model`. */
export interface PartitionListFailure {
  partition: number
  code: string
  message: string
  at: string
}

/** Default bytes between two lists below which one ranged read covers both (`PARTITION_READ_GAP_KIB`). */
export const DEFAULT_PARTITION_READ_GAP_BYTES = 256 * 1024

/** How long a list that failed to load is skipped before it is fetched again. */
const RETRY_MS = 30_000

/** Receives the durations of a request's phases (`Server-Timing`, the route's `ServerTiming`). */
export interface PhaseTiming {
  add(name: string, ms: number): void
}

/** Called when a list is there but fails its integrity check (the version is corrupt). */
export type CorruptListHandler = (failure: PartitionListFailure) => void

/** On-demand partition lists of one loaded version. */
export class PartitionLists {
  /** The coarse quantizer's centroids (what probing needs). */
  readonly centroids: PartitionCentroids
  /** Partitions probed per query. */
  readonly nprobe: number
  readonly #table: Pick<PartitionsShard, 'listBytes' | 'listDigests' | 'listOffsets' | 'dims'>
  readonly #partitionOf: Uint16Array | Uint32Array
  readonly #ref: ShardRef
  readonly #cache: ByteLru<number, PartitionListShard>
  readonly #failed = new Map<number, number>()
  readonly #onCorrupt: CorruptListHandler | undefined
  readonly #readGapBytes: number
  readonly #probeKernel: WasmFloat32Kernel | undefined
  #lastFailure: PartitionListFailure | undefined
  #fetches = 0
  #fetchedBytes = 0

  /**
   * Copies what it keeps out of `shard` (centroids and tables; the item lists become the
   * item → partition map), so the shard's buffer can be dropped.
   */
  constructor(init: {
    shard: PartitionsShard
    items: number
    ref: ShardRef
    nprobe: number
    cacheBytes: number
    /** Largest gap (bytes) between two lists one ranged read covers; default 256 KiB, 0 = adjacent only. */
    readGapBytes?: number
    /** Scores queries against the centroids (the worker's float32 Wasm kernel); default the JS loop. */
    probeKernel?: WasmFloat32Kernel
    onCorrupt?: CorruptListHandler
  }) {
    const { shard } = init
    this.centroids = { lists: shard.rowCount, dims: shard.dims, centroids: shard.centroids.slice() }
    this.#table = {
      dims: shard.dims,
      listOffsets: shard.listOffsets.slice(),
      listBytes: shard.listBytes.slice(),
      listDigests: shard.listDigests.slice(),
    }
    this.#partitionOf = partitionOfItems(
      { lists: shard.rowCount, listOffsets: shard.listOffsets, itemIndexes: shard.itemIndexes },
      init.items,
    )
    this.nprobe = Math.max(1, Math.min(shard.rowCount, init.nprobe))
    this.#ref = init.ref
    this.#cache = new ByteLru(init.cacheBytes)
    this.#onCorrupt = init.onCorrupt
    this.#readGapBytes = Math.max(0, init.readGapBytes ?? DEFAULT_PARTITION_READ_GAP_BYTES)
    this.#probeKernel = init.probeKernel
  }

  /** Number of partitions. */
  get lists(): number {
    return this.centroids.lists
  }

  /** Bytes of the centroids, tables, item → partition map and probe kernel (exact). */
  get indexBytes(): number {
    const t = this.#table
    return (
      (this.#probeKernel?.byteLength ?? 0) +
      this.centroids.centroids.byteLength +
      t.listOffsets.byteLength +
      t.listBytes.byteLength +
      t.listDigests.byteLength +
      this.#partitionOf.byteLength
    )
  }

  /** Bytes of the cached lists (≤ {@link cacheBound}). */
  get cacheBytes(): number {
    return this.#cache.bytes
  }

  /** The cache's bound in bytes (`PARTITION_CACHE_MIB`). */
  get cacheBound(): number {
    return this.#cache.maxBytes
  }

  /** Empties the list cache and keeps nothing in it from now on (the version was replaced). */
  closeCache(): void {
    this.#cache.close()
  }

  /** Lists held in the cache. */
  get cachedLists(): number {
    return this.#cache.size
  }

  /** Ranged reads issued so far (tests and `/v1/model`). */
  get fetches(): number {
    return this.#fetches
  }

  /** Bytes those reads returned, gaps between lists included (tests and `/v1/model`). */
  get fetchedBytes(): number {
    return this.#fetchedBytes
  }

  /** The last list that failed to load, if any. */
  get lastFailure(): PartitionListFailure | undefined {
    return this.#lastFailure
  }

  /** The partition of item `index`, or -1. */
  partitionOf(index: number): number {
    return index >= 0 && index < this.#partitionOf.length ? this.#partitionOf[index]! : -1
  }

  /** The `nprobe` partitions whose centroids score best against `query` (dequantized), best first. */
  probe(query: ArrayLike<number>): Uint32Array {
    return probePartitions(this.centroids, query, this.nprobe, this.#probeKernel)
  }

  /**
   * The lists of `partitions` (duplicates once), fetched where not cached, in the order given.
   * Lists that are missing, corrupt or unreadable are left out (and reported), so the result may
   * be shorter: the caller ranks what is there.
   *
   * @param held - lists this request already holds (a prefetch), by partition: used before the
   *   cache, since under concurrent requests the cache may have evicted them since
   */
  async get(
    bindings: ModelBindings,
    partitions: Iterable<number>,
    now: number,
    timing?: PhaseTiming,
    held?: ReadonlyMap<number, PartitionListShard>,
  ): Promise<PartitionListShard[]> {
    const byPartition = await this.getByPartition(bindings, partitions, now, timing, held)
    return [...byPartition.values()]
  }

  /** Like {@link get}, by partition (in the order given; lists that could not be loaded left out). */
  async getByPartition(
    bindings: ModelBindings,
    partitions: Iterable<number>,
    now: number,
    timing?: PhaseTiming,
    held?: ReadonlyMap<number, PartitionListShard>,
  ): Promise<Map<number, PartitionListShard>> {
    const started = performance.now()
    const wanted = [...new Set(partitions)].filter((p) => p >= 0 && p < this.lists)
    const found = new Map<number, Promise<PartitionListShard | null>>()
    const missing: number[] = []
    for (const p of wanted) {
      const cached = held?.get(p) ?? this.#cache.get(p)
      const retryAt = this.#failed.get(p)
      if (cached) found.set(p, Promise.resolve(cached))
      else if (retryAt !== undefined && now < retryAt) found.set(p, Promise.resolve(null))
      // Not another request's in-flight read (see the module comment): this call reads it.
      else missing.push(p)
    }
    // List p is bytes [listBytes[p], listBytes[p + 1]) of the object: one ranged read per span of
    // missing lists at most `readGapBytes` apart (the bytes between them are read and dropped), all
    // spans at once.
    let readMs = 0
    for (const span of spansOf(missing, this.#table.listBytes, this.#readGapBytes)) {
      const read = this.#fetchSpan(bindings, span, now, (ms) => {
        readMs = Math.max(readMs, ms)
      })
      for (const [i, p] of span.entries())
        found.set(
          p,
          read.then((lists) => lists[i]!),
        )
    }
    const lists = await Promise.all(wanted.map((p) => found.get(p)!))
    if (timing) {
      // `read`: until the slowest ranged read's bytes were in; `lists`: the whole call (verification too).
      timing.add('read', readMs)
      timing.add('lists', performance.now() - started)
    }
    const out = new Map<number, PartitionListShard>()
    for (const [i, list] of lists.entries()) if (list) out.set(wanted[i]!, list)
    return out
  }

  /** The cached list of `partition` (marking it recently used), or undefined. */
  cached(partition: number): PartitionListShard | undefined {
    return this.#cache.get(partition)
  }

  /**
   * Writes y_i = s_i · q_i of item `index` into `out` when its list is cached (fetch it first with
   * {@link get}); false otherwise.
   */
  readItem(index: number, out: Float64Array): boolean {
    const list = this.cached(this.partitionOf(index))
    if (!list) return false
    const row = rowInList(list, index)
    if (row < 0) return false
    const s = list.scales[row]!
    const dims = list.dims
    for (let d = 0; d < dims; d++) out[d] = s * list.factors[row * dims + d]!
    return true
  }

  /**
   * The lists of `span` (ascending, close in the object) with one ranged read from the first's
   * start to the last's end, each verified on its own. Each list is copied out of the read, so a
   * cached list never keeps its neighbours' (or the gaps') bytes alive and the cache's byte bound
   * stays exact.
   */
  async #fetchSpan(
    bindings: ModelBindings,
    span: readonly number[],
    now: number,
    onRead: (ms: number) => void,
  ): Promise<(PartitionListShard | null)[]> {
    const started = performance.now()
    const first = span[0]!
    const last = span.at(-1)!
    const offset = this.#table.listBytes[first]!
    const length = this.#table.listBytes[last + 1]! - offset
    const key = this.#ref.key
    this.#fetches++
    let bytes: Uint8Array | null
    try {
      const object = await bindings.MODELS_R2.get(key, { range: { offset, length } })
      bytes = object ? new Uint8Array(await object.arrayBuffer()) : null
      onRead(performance.now() - started)
    } catch (cause) {
      const message = cause instanceof Error ? cause.message : String(cause)
      return span.map((p) => {
        this.#fail(p, now, 'STORAGE_UNAVAILABLE', `Reading list ${p} of ${key} failed: ${message}.`)
        return null
      })
    }
    if (bytes) this.#fetchedBytes += bytes.byteLength
    const checks = span.map((p) => {
      const start = this.#table.listBytes[p]! - offset
      const end = this.#table.listBytes[p + 1]! - offset
      const own = bytes && (span.length === 1 ? bytes : bytes.slice(start, end))
      return checkPartitionList(key, own, this.#table, p)
    })
    const out: (PartitionListShard | null)[] = []
    for (const [i, check] of (await Promise.all(checks)).entries()) {
      const p = span[i]!
      if (check.ok) {
        this.#failed.delete(p)
        this.#cache.set(p, check.list, check.list.byteLength)
        out.push(check.list)
      } else {
        // Not inside `?.(…)`: its arguments are not evaluated when there is no handler.
        const failure = this.#fail(p, now, check.problem.code, check.problem.message)
        this.#onCorrupt?.(failure)
        out.push(null)
      }
    }
    return out
  }

  #fail(partition: number, now: number, code: string, message: string): PartitionListFailure {
    this.#failed.set(partition, now + RETRY_MS)
    this.#lastFailure = { partition, code, message, at: new Date(now).toISOString() }
    return this.#lastFailure
  }
}

/** Longest span one ranged read covers (its buffer is transient, outside the cache's bound). */
export const MAX_SPAN_BYTES = 4 * 1024 * 1024

/**
 * `partitions` ascending, cut into spans where the next list starts at most `gapBytes` after the
 * previous one ends (`listBytes`: list p is bytes `[listBytes[p], listBytes[p + 1])`) and the span
 * stays within `maxSpanBytes` (a single larger list is a span of its own).
 */
export function spansOf(
  partitions: readonly number[],
  listBytes: ArrayLike<number>,
  gapBytes: number,
  maxSpanBytes: number = MAX_SPAN_BYTES,
): number[][] {
  const sorted = [...partitions].sort((a, b) => a - b)
  const spans: number[][] = []
  for (const p of sorted) {
    const span = spans.at(-1)
    const close = span && listBytes[p]! - listBytes[span.at(-1)! + 1]! <= gapBytes
    if (span && close && listBytes[p + 1]! - listBytes[span[0]!]! <= maxSpanBytes) span.push(p)
    else spans.push([p])
  }
  return spans
}
