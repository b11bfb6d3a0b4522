/**
 * One immutable, fully verified model version held in isolate memory, plus its on-demand user
 * buckets. A request captures one {@link LoadedModel} at its start and scores with it only, so a
 * version swap can never mix two versions inside one answer.
 *
 * @module
 */
import {
  CatalogTable,
  catalogShardRefs,
  cosineQueryOf,
  DEFAULT_PARTITION_CACHE_BYTES,
  dequantized,
  type GramShard,
  IdIndex,
  IdIndexBuilder,
  type IndexFilter,
  type Int8DotKernel,
  type Int8Vector,
  type ItemBlock,
  type ItemShard,
  type ItemVectorReader,
  isEdgerecError,
  itemReaderFromBlocks,
  type ModelManifest,
  type PartitionListShard,
  type PartitionsShard,
  type PopularityShard,
  planModelMemory,
  quantizeVector,
  recommendTopK,
  rowInList,
  similarItems,
  similarOverLists,
  type TopKResult,
  topKOverLists,
  type UserShard,
  userBucket,
  WasmInt8Kernel,
  type WeightedInteraction,
} from '@edgerec/core'
import { ByteLru } from './byte-lru.js'
import { modelKernel, probeKernel, type ScoringKernelSetting } from './kernel.js'
import { type PartitionListFailure, PartitionLists, type PhaseTiming } from './partition-lists.js'
import { loadShard, type ModelBindings, ModelLoadError } from './storage.js'

/** Where a user sits in a bucket. */
export interface UserRow {
  shard: UserShard
  row: number
}

/** What a model version holds in memory, in bytes (see {@link LoadedModel.memory}). */
export interface ModelMemory {
  /**
   * Bytes of every retained shard buffer: popularity, trending, gram, partitions (item shards only
   * with the JS kernel; the Wasm kernel copies what it needs and drops them).
   */
  shards: number
  /** Bytes of the compact item id index (string table + offsets + hash slots; exact). */
  itemIdIndex: number
  /** Bytes of the per-item scales and norms copied out of the item shards (Wasm kernel; exact). */
  itemRows: number
  /** Bytes of cached user buckets: shard buffers + the hash slots of their id index (exact). */
  userCache: number
  /** Bytes of the scoring kernel's Wasm memory (the item factors it scans in place); 0 for JS. */
  kernel: number
  /** Partitioned versions: centroids, list tables and the item → partition map (exact); else 0. */
  partitionIndex: number
  /** Partitioned versions: the cached partition lists (≤ `PARTITION_CACHE_MIB`); else 0. */
  partitionCache: number
  /**
   * The catalog table aligned to the model's items (core's `CatalogTable.byteLength`: typed arrays
   * exactly, custom attribute values estimated); 0 without a catalog.
   */
  catalog: number
  /** The sum. */
  total: number
}

/** A user bucket (or a partition list) that failed to load, for `/v1/model`. */
export interface UserBucketFailure {
  /** The user bucket, -1 for a partition list. */
  bucket: number
  /** The partition whose list failed (partitioned versions). */
  partition?: number
  code: string
  message: string
  at: string
}

/**
 * A catalog shard that failed to load (missing, size, SHA-256, shape, or not valid columns): its
 * rows are absent from the version's catalog (their items look unknown to filters unless the D1
 * overlay holds them) and `/v1/health` says `degraded`.
 */
export interface CatalogShardFailure {
  key: string
  /** First catalog row of the shard and how many it held. */
  rowOffset: number
  rows: number
  code: string
  message: string
}

/** A loaded model version. Create with {@link loadModel}. */
export class LoadedModel {
  readonly version: string
  readonly manifest: ModelManifest
  /** ISO-8601 time the version finished loading in this isolate. */
  readonly loadedAt: string
  /** Milliseconds the load took (fetch + verify + decode + index). */
  readonly loadMs: number
  /**
   * The item rows as scoring reads them: with a Wasm kernel, the factors are views into the
   * kernel's memory and scales/norms are copies (the item shards are dropped after load); with the
   * JS kernel, the shards themselves.
   */
  readonly blocks: readonly ItemBlock[]
  /** Computes the int8 dot products of top-K and similar items ({@link modelKernel}). */
  readonly kernel: Int8DotKernel
  readonly popularity: PopularityShard
  readonly trending: PopularityShard | undefined
  readonly gram: GramShard
  /**
   * The catalog exported with the version (absent when it was trained without one; issue 17): the
   * rows of every catalog shard that loaded, in one table aligned to the model's items (row = item
   * index, no ids held; core's `CatalogTable.alignedBuilder`). Catalog rows of items the model
   * does not know are not kept (the overlay serves those).
   */
  readonly catalog: CatalogTable | undefined
  /** Catalog shards that failed to load (empty when the catalog is whole): the version is degraded. */
  readonly catalogFailures: readonly CatalogShardFailure[]
  /**
   * The partitions of a partitioned version (issue 16; absent below the trainer's `minItems`,
   * then every query scans all items), their lists loaded on demand: such a version holds no item
   * rows (`blocks` is empty); scoring probes, fetches and re-ranks (see {@link prepareTopK}).
   */
  readonly partitions: PartitionLists | undefined
  /** {@link catalog}'s byteLength, computed once. */
  readonly #catalogBytes: number
  /** Reads dequantized item vectors y_i for fold-in and explanations. */
  readonly readItem: ItemVectorReader
  readonly #ids: IdIndex
  readonly #retainedShardBytes: number
  readonly #itemRowsBytes: number
  readonly #users: ByteLru<number, CachedBucket>
  readonly #failedBuckets = new Map<number, number>()
  #candidateAnswers = 0
  #lastBucketFailure: UserBucketFailure | undefined
  readonly #onCorruptShard: ((failure: UserBucketFailure) => void) | undefined

  /** @internal use {@link loadModel} */
  constructor(init: {
    manifest: ModelManifest
    kernel: Int8DotKernel
    blocks: ItemBlock[]
    ids: IdIndex
    /** Bytes of item shards kept alive by `blocks` (JS kernel), else 0. */
    retainedShardBytes: number
    /** Bytes of scales and norms copied out of the item shards, else 0. */
    itemRowsBytes: number
    popularity: PopularityShard
    trending: PopularityShard | undefined
    gram: GramShard
    catalog?: CatalogTable | undefined
    catalogFailures?: CatalogShardFailure[]
    partitions?: PartitionLists | undefined
    userCacheBytes: number
    loadMs: number
    now: number
    onCorruptShard?: (failure: UserBucketFailure) => void
  }) {
    this.#onCorruptShard = init.onCorruptShard
    this.manifest = init.manifest
    this.version = init.manifest.version
    this.kernel = init.kernel
    this.blocks = init.blocks
    this.popularity = init.popularity
    this.trending = init.trending
    this.gram = init.gram
    this.loadMs = init.loadMs
    this.loadedAt = new Date(init.now).toISOString()
    const partitions = init.partitions
    this.readItem = partitions
      ? (index, out) => partitions.readItem(index, out)
      : itemReaderFromBlocks(init.blocks)
    this.#users = new ByteLru(init.userCacheBytes)
    this.#ids = init.ids
    this.#retainedShardBytes = init.retainedShardBytes
    this.#itemRowsBytes = init.itemRowsBytes
    this.catalog = init.catalog
    this.catalogFailures = init.catalogFailures ?? []
    this.partitions = init.partitions
    const catalog = init.catalog
    this.#catalogBytes = catalog?.byteLength ?? 0
  }

  /** Partitions probed per query: `PARTITION_NPROBE`, else the manifest's default (0 without partitions). */
  get nprobe(): number {
    return this.partitions?.nprobe ?? 0
  }

  /** Top `size` items for an int8 user by the exact scan of every item (unpartitioned versions). */
  topK(user: Int8Vector, size: number, skip?: IndexFilter): TopKResult {
    return recommendTopK(user, this.blocks, size, skip, this.kernel)
  }

  /** Items most similar to item `index` (cosine, exact scan); undefined for an unknown index. */
  similar(index: number, size: number, skip?: IndexFilter): TopKResult | undefined {
    return similarItems(this.blocks, index, size, skip, this.kernel)
  }

  /**
   * What one request ranks with: a synchronous top K (called again with larger sizes by rules and
   * diversity). Unpartitioned: the exact scan. Partitioned: the user scores the centroids, the
   * best {@link nprobe} lists are fetched (cache, else ranged reads issued at once, one per run
   * of adjacent lists, each list verified) and held for the request, and their items are
   * re-ranked exactly with the int8 kernel, one call per list. Null when no probed list could be loaded (the caller serves the fallback list).
   */
  async prepareTopK(
    bindings: ModelBindings,
    user: Int8Vector,
    now: number,
    timing?: PhaseTiming,
    held?: ReadonlyMap<number, PartitionListShard>,
  ): Promise<((size: number, skip?: IndexFilter) => TopKResult) | null> {
    const p = this.partitions
    if (!p) return (size, skip) => this.topK(user, size, skip)
    const started = performance.now()
    const probed = p.probe(dequantized(user))
    timing?.add('probe', performance.now() - started)
    const lists = await p.get(bindings, probed, now, timing, held)
    if (lists.length === 0) return null
    return (size, skip) => topKOverLists(user, lists, size, skip, this.kernel)
  }

  /**
   * Like {@link prepareTopK} for the items most similar to item `index` (its own list is fetched
   * for its factors, which then probe). Undefined for an unknown index or when its list cannot be
   * loaded.
   */
  async prepareSimilar(
    bindings: ModelBindings,
    index: number,
    now: number,
  ): Promise<((size: number, skip?: IndexFilter) => TopKResult) | undefined> {
    const p = this.partitions
    if (!p) {
      if (index < 0 || index >= this.itemCount) return undefined
      return (size, skip) => this.similar(index, size, skip)!
    }
    const [home] = await p.get(bindings, [p.partitionOf(index)], now)
    const row = home ? rowInList(home, index) : -1
    if (!home || row < 0) return undefined
    const query = cosineQueryOf(home, row)
    const lists = await p.get(bindings, p.probe(dequantized(query)), now)
    const skipSelf = (skip?: IndexFilter): IndexFilter => ({
      has: (j) => j === index || (skip?.has(j) ?? false),
    })
    return (size, skip) => similarOverLists(query, lists, size, skipSelf(skip), this.kernel)
  }

  /**
   * Items most similar by cosine to a float vector (content vectors of new items), like
   * {@link prepareTopK}: over the probed lists of a partitioned version; null for an unpartitioned
   * one (scan `blocks`).
   */
  async prepareSimilarToVector(
    bindings: ModelBindings,
    vector: Float32Array,
    now: number,
  ): Promise<((size: number, skip?: IndexFilter) => TopKResult) | null> {
    const p = this.partitions
    if (!p) return null
    const q = quantizeVector(vector)
    let sum = 0
    for (const v of q.values) sum += v * v
    const query = { ...q, norm: Math.sqrt(sum) * q.scale }
    const lists = await p.get(bindings, p.probe(vector), now)
    return (size, skip) => similarOverLists(query, lists, size, skip, this.kernel)
  }

  /**
   * Makes {@link readItem} see items `indexes` (fold-in, explanations, diversity): a partitioned
   * version fetches their lists, at most `maxLists` distinct ones, in the order the items come
   * (list the newest first). Items of lists not loaded stay unreadable (fold-in leaves them out).
   * No-op for an unpartitioned version.
   */
  async ensureItems(
    bindings: ModelBindings,
    indexes: Iterable<number>,
    now: number,
    maxLists = MAX_ITEM_LISTS,
  ): Promise<void> {
    const p = this.partitions
    if (!p) return
    const wanted = new Set<number>()
    for (const index of indexes) {
      const list = p.partitionOf(index)
      if (list >= 0) wanted.add(list)
      if (wanted.size >= maxLists) break
    }
    await p.get(bindings, wanted, now)
  }

  /** The last partition list that failed to load, if any. */
  get lastPartitionFailure(): PartitionListFailure | undefined {
    return this.partitions?.lastFailure
  }

  /**
   * The export time the D1 catalog overlay starts from: the catalog's `updatedUntil`, or 0 when a
   * catalog shard failed (the overlay then re-reads the D1 catalog from the start, up to its bound,
   * so items of the missing shard get their rows back when D1 holds them).
   */
  get catalogSince(): number {
    return this.catalogFailures.length > 0 ? 0 : (this.catalog?.updatedUntil ?? 0)
  }

  /**
   * Catalog row of the item at global `index` in {@link catalog}, or -1. The worker's catalog is
   * aligned to the model's items (row = index), so this is `index` when the item has a row.
   */
  catalogRow(index: number): number {
    return this.catalog?.has(index) ? index : -1
  }

  /** Number of items. */
  get itemCount(): number {
    return this.#ids.size
  }

  /** Global index of item `id`, or -1. */
  itemIndexOf(id: string): number {
    return this.#ids.indexOf(id)
  }

  /** Id of the item at global `index`. */
  itemId(index: number): string {
    return this.#ids.get(index)
  }

  /** The ranked list to serve users the model cannot score. */
  fallbackList(kind: 'popular' | 'trending'): { shard: PopularityShard; source: 'popular' | 'trending' } {
    if (kind === 'trending' && this.trending) return { shard: this.trending, source: 'trending' }
    return { shard: this.popularity, source: 'popular' }
  }

  /** The last user bucket that failed to load, if any. */
  get lastBucketFailure(): UserBucketFailure | undefined {
    return this.#lastBucketFailure
  }

  /**
   * Finds `userId` in its bucket, fetching the bucket when it is not cached. A bucket that fails to
   * load makes its users unknown for 30 s (they get fold-in or popularity) and is reported in
   * `/v1/model`; it never fails the request.
   *
   * A request never waits on another request's bucket read: in workerd a read belongs to the
   * request that started it, and requests that awaited another one's shared read failed with
   * "Cannot perform I/O on behalf of a different request" (500s under load whenever buckets were
   * evicted and re-read: the 1M benchmark with a 4 MiB user cache). So concurrent requests that
   * miss the same bucket each read it, and the cache keeps one copy; within a request the route
   * reads it once ({@link prefetchUser}'s `user`).
   */
  async findUser(bindings: ModelBindings, userId: string, now: number): Promise<UserRow | null> {
    const bucket = userBucket(userId, this.manifest.userBuckets)
    const cached = await this.#bucket(bindings, bucket, now)
    if (!cached) return null
    const row = cached.ids.indexOf(userId)
    return row < 0 ? null : { shard: cached.shard, row }
  }

  /**
   * Fetches ahead what a request for `userId` will most likely read, while it reads the user's
   * events (issue 16: the list reads were the largest part of a 1M-item request and waited for the
   * events' D1 read): the user's bucket, and in a partitioned version the lists the trained vector
   * probes, into the list cache — unless the bucket holds the user's precomputed candidates, which
   * answer without lists. A user whose events since training change their vector (fold-in) probes
   * lists close to these, so most are then found here; the rest are read as before.
   *
   * @returns the user's row (null for a user not in the model or whose bucket failed to load) for
   *   {@link recommend}, and the lists fetched, by partition, for {@link prepareTopK}'s `held`
   *   (empty when unpartitioned, for a user not in the model, with candidates, or on failure)
   */
  async prefetchUser(
    bindings: ModelBindings,
    userId: string,
    now: number,
    timing?: PhaseTiming,
  ): Promise<PrefetchedUser> {
    const looked = performance.now()
    const user = await this.findUser(bindings, userId, now)
    timing?.add('user', performance.now() - looked)
    const p = this.partitions
    // A user with precomputed candidates is most likely answered from them, without lists.
    if (!user || !p || this.userCandidates(user)) return { user, lists: new Map() }
    try {
      const started = performance.now()
      const probed = p.probe(dequantized(this.userVector(user)))
      timing?.add('probe', performance.now() - started)
      return { user, lists: await p.getByPartition(bindings, probed, now, timing) }
    } catch {
      // The request's own prepareTopK meets the same failure and handles it.
      return { user, lists: new Map() }
    }
  }

  async #bucket(bindings: ModelBindings, bucket: number, now: number): Promise<CachedBucket | null> {
    const cached = this.#users.get(bucket)
    if (cached) return cached
    const retryAt = this.#failedBuckets.get(bucket)
    if (retryAt !== undefined && now < retryAt) return null
    const ref = this.manifest.shards.users[bucket]
    if (!ref) return null
    try {
      const shard = await loadShard(bindings, ref, 'users', this.manifest.dims)
      const loaded = { shard, ids: IdIndex.over(shard.ids) }
      this.#failedBuckets.delete(bucket)
      this.#users.set(bucket, loaded, shard.byteLength + loaded.ids.slotBytes)
      return loaded
    } catch (error) {
      this.#failedBuckets.set(bucket, now + 30_000)
      const code = error instanceof ModelLoadError ? error.code : 'STORAGE_UNAVAILABLE'
      this.#lastBucketFailure = {
        bucket,
        code,
        message: error instanceof Error ? error.message : String(error),
        at: new Date(now).toISOString(),
      }
      // A bucket that is there but fails its checks (not a storage outage) means the version is
      // corrupt: the store marks it degraded and goes back to the previous good version.
      if (code !== 'STORAGE_UNAVAILABLE') this.#onCorruptShard?.(this.#lastBucketFailure)
      return null
    }
  }

  /** The user's int8 factor row x_u as stored by the trainer. */
  userVector(user: UserRow): Int8Vector {
    const dims = user.shard.dims
    return {
      values: user.shard.factors.subarray(user.row * dims, (user.row + 1) * dims),
      scale: user.shard.scales[user.row]!,
    }
  }

  /** Recommendations answered from precomputed candidates so far ({@link noteCandidateAnswer}). */
  get candidateAnswers(): number {
    return this.#candidateAnswers
  }

  /** Counts one recommendation answered from a user's precomputed candidates (`/v1/model`). */
  noteCandidateAnswer(): void {
    this.#candidateAnswers++
  }

  /**
   * The user's precomputed candidates (issue 16: the trainer's best items by x_u, training
   * interactions left out, best first, with the scan's scores), or undefined when the bucket has
   * none or they name an item this version does not have (the scan answers then).
   */
  userCandidates(user: UserRow): { items: Uint32Array; scores: Float32Array } | undefined {
    const lists = user.shard.candidates
    if (!lists) return undefined
    const start = lists.offsets[user.row]!
    const end = lists.offsets[user.row + 1]!
    const items = lists.items.subarray(start, end)
    for (const index of items) if (index >= this.itemCount) return undefined
    return { items, scores: lists.scores.subarray(start, end) }
  }

  /** The user's training interactions (global item index, confidence c_ui) kept in the bucket. */
  userInteractions(user: UserRow): WeightedInteraction[] {
    const { offsets, items, confidences } = user.shard.interactions
    const out: WeightedInteraction[] = []
    for (let p = offsets[user.row]!; p < offsets[user.row + 1]!; p++)
      out.push({ index: items[p]!, confidence: confidences[p]! })
    return out
  }

  /**
   * Empties this version's caches (user buckets, partition lists) and keeps nothing in them from
   * now on: the model store calls it when a new version replaces this one, so the swap holds one
   * version's caches (core's `checkSwapMemory` counts them so). Requests still holding this version
   * are served, loading what they need without keeping it.
   */
  closeCaches(): void {
    this.#users.close()
    this.partitions?.closeCache()
  }

  /**
   * Bytes this version holds, exact: shard buffers, the kernel memory, the id index, the item rows
   * and the cached user buckets (buffer + hash slots) are all typed arrays.
   */
  memory(): ModelMemory {
    const shards =
      this.popularity.byteLength +
      this.gram.byteLength +
      (this.trending?.byteLength ?? 0) +
      this.#retainedShardBytes
    const catalog = this.#catalogBytes
    const userCache = this.#users.bytes
    const kernel = this.kernel instanceof WasmInt8Kernel ? this.kernel.byteLength : 0
    const itemIdIndex = this.#ids.byteLength
    const itemRows = this.#itemRowsBytes
    const partitionIndex = this.partitions?.indexBytes ?? 0
    const partitionCache = this.partitions?.cacheBytes ?? 0
    return {
      shards,
      itemIdIndex,
      itemRows,
      userCache,
      kernel,
      partitionIndex,
      partitionCache,
      catalog,
      total: shards + itemIdIndex + itemRows + userCache + kernel + partitionIndex + partitionCache + catalog,
    }
  }
}

/** What {@link LoadedModel.prefetchUser} read for one request. */
export interface PrefetchedUser {
  /** The user's row, or null (not in the model, or the bucket failed to load). */
  user: UserRow | null
  /** Lists the trained vector probes, by partition (empty when none were read). */
  lists: Map<number, PartitionListShard>
}

/**
 * A cached user bucket: the shard (one buffer; ids, factors and interactions are views on it) and a
 * hash index over its id table. It costs `shard.byteLength + ids.slotBytes`, exactly.
 */
interface CachedBucket {
  shard: UserShard
  ids: IdIndex
}

/** Most partition lists one request fetches for item vectors ({@link LoadedModel.ensureItems}). */
const MAX_ITEM_LISTS = 32

/** Options of {@link loadModel}. */
export interface LoadModelOptions {
  userCacheBytes: number
  /** Bound of a partitioned version's list cache (`PARTITION_CACHE_MIB`). Default 8 MiB. */
  partitionCacheBytes?: number
  /** Largest gap between two lists one ranged read covers (`PARTITION_READ_GAP_KIB`). Default 256 KiB. */
  partitionReadGapBytes?: number
  /** Which int8 kernel scores (default `auto`: Wasm SIMD where the runtime runs it). */
  scoringKernel?: ScoringKernelSetting
  /** Partitions probed per query (`PARTITION_NPROBE`); default the manifest's `partitions.nprobe`. */
  partitionNprobe?: number
  now: () => number
  /**
   * Called when a user bucket or a partition list fails its integrity checks on first use
   * (missing, size, SHA-256, shape).
   */
  onCorruptShard?: (failure: UserBucketFailure) => void
}

/**
 * Loads, verifies and indexes a version: the item shards one at a time (each is copied into the
 * scoring kernel's memory, its scales, norms and ids into compact arrays, then dropped, so the peak
 * is what `planModelMemory` plans), and popularity, trending and the gram matrix alongside. Any
 * missing or corrupted object rejects the whole version.
 *
 * A partitioned version (`shards.partitions` + `shards.partitionLists`) loads its partitions shard
 * first (centroids, list tables and the item → partition map are kept, the rest dropped), then
 * reads the item shards for their ids only: no item rows are resident; lists are fetched on demand.
 *
 * @throws {@link ModelLoadError}
 */
export async function loadModel(
  bindings: ModelBindings,
  manifest: ModelManifest,
  options: LoadModelOptions,
): Promise<LoadedModel> {
  const started = options.now()
  const { dims, shards } = manifest
  const count = manifest.counts.items
  const lists = Promise.all([
    loadShard(bindings, shards.popularity, 'popularity', dims),
    shards.trending ? loadShard(bindings, shards.trending, 'popularity', dims) : Promise.resolve(undefined),
    loadShard(bindings, shards.gram, 'gram', dims),
  ])
  // NOTE: without this, a list failing while items load would be an unhandled rejection.
  lists.catch(() => undefined)
  const listsRef = shards.partitionLists
  let partitions: PartitionLists | undefined
  if (shards.partitions && listsRef) {
    if (listsRef.storage !== 'r2')
      throw new ModelLoadError(
        'SHARD_INVALID',
        `${listsRef.key} must be in R2 (lists are ranged reads). Republish.`,
        { key: listsRef.key },
      )
    const shard = await loadShard(bindings, shards.partitions, 'partitions', dims)
    checkPartitions(shard, count, shards.partitions.key)
    if (shard.listBytes[shard.rowCount] !== listsRef.bytes || shard.rowCount !== listsRef.rows)
      throw new ModelLoadError(
        'SHARD_INVALID',
        `${shards.partitions.key} does not describe ${listsRef.key} (${listsRef.rows} lists, ${listsRef.bytes} bytes). Republish.`,
        { key: shards.partitions.key },
      )
    const onCorrupt = options.onCorruptShard
    const probe = probeKernel(options.scoringKernel ?? 'auto', dims)
    partitions = new PartitionLists({
      shard,
      items: count,
      ref: listsRef,
      nprobe: options.partitionNprobe ?? manifest.partitions?.nprobe ?? 1,
      cacheBytes: options.partitionCacheBytes ?? DEFAULT_PARTITION_CACHE_BYTES,
      ...(options.partitionReadGapBytes !== undefined ? { readGapBytes: options.partitionReadGapBytes } : {}),
      ...(probe ? { probeKernel: probe } : {}),
      ...(onCorrupt
        ? {
            onCorrupt: (f: PartitionListFailure) =>
              onCorrupt({ bucket: -1, partition: f.partition, code: f.code, message: f.message, at: f.at }),
          }
        : {}),
    })
  }
  const kernel = modelKernel(options.scoringKernel ?? 'auto', dims, partitions ? 0 : count)
  const resident = kernel instanceof WasmInt8Kernel && !partitions ? kernel : undefined
  const scales = resident ? new Float32Array(count) : undefined
  const norms = resident ? new Float32Array(count) : undefined
  // The id string table is allocated once, at its bound from the manifest (no copy while loading).
  const ids = new IdIndexBuilder(count, planModelMemory(manifest, options).itemIdBytes)
  const blocks: ItemBlock[] = []
  let retainedShardBytes = 0
  for (const ref of [...shards.items].sort((a, b) => a.rowOffset - b.rowOffset)) {
    const shard: ItemShard = await loadShard(bindings, ref, 'items', dims)
    const { rowOffset, rowCount } = shard
    if (rowOffset + rowCount > count) {
      throw new ModelLoadError(
        'SHARD_INVALID',
        `${ref.key} holds rows ${rowOffset}..${rowOffset + rowCount - 1} of ${count} items. Republish.`,
        { key: ref.key },
      )
    }
    try {
      ids.add(rowOffset, shard.ids)
    } catch (error) {
      throw new ModelLoadError('SHARD_INVALID', `${ref.key}: ${(error as Error).message} Republish.`, {
        key: ref.key,
        cause: error,
      })
    }
    if (partitions) {
      // Ids only: the rows come from the partition lists.
    } else if (resident && scales && norms) {
      const at = rowOffset * dims
      const length = rowCount * dims
      resident.resident.set(shard.factors.subarray(0, length), at)
      scales.set(shard.scales, rowOffset)
      norms.set(shard.norms, rowOffset)
      blocks.push({
        rowCount,
        dims,
        rowOffset,
        factors: resident.resident.subarray(at, at + length),
        scales: scales.subarray(rowOffset, rowOffset + rowCount),
        norms: norms.subarray(rowOffset, rowOffset + rowCount),
      })
    } else {
      blocks.push(shard)
      retainedShardBytes += shard.byteLength
    }
  }
  let idIndex: IdIndex
  try {
    idIndex = ids.build()
  } catch (error) {
    throw new ModelLoadError(
      'SHARD_INVALID',
      `Item shards of ${manifest.version} do not cover the ${count} items: ${isEdgerecError(error) ? error.message : String(error)} Republish.`,
      { cause: error },
    )
  }
  const [popularity, trending, gram] = await lists
  const { catalog, catalogFailures } = await loadCatalog(bindings, manifest, idIndex)
  for (const list of [popularity, trending]) {
    if (!list) continue
    for (let i = 0; i < list.rowCount; i++) {
      if (list.itemIndexes[i]! >= count) {
        throw new ModelLoadError(
          'SHARD_INVALID',
          `Popularity list names item ${list.itemIndexes[i]} of ${count}. Republish.`,
        )
      }
    }
  }
  return new LoadedModel({
    manifest,
    kernel,
    blocks,
    ids: idIndex,
    retainedShardBytes,
    itemRowsBytes: (scales?.byteLength ?? 0) + (norms?.byteLength ?? 0),
    popularity,
    trending,
    gram,
    catalog,
    catalogFailures,
    partitions,
    userCacheBytes: options.userCacheBytes,
    loadMs: options.now() - started,
    now: options.now(),
    ...(options.onCorruptShard ? { onCorruptShard: options.onCorruptShard } : {}),
  })
}

/**
 * Loads the catalog shards of a version one at a time (each verified like every shard, parsed,
 * appended, dropped: the loading peak `planModelMemory` plans), in row order. A shard that fails is
 * left out and reported, never failing the version: filters then see its items as unknown.
 * Versions exported before catalogs were split have one shard and load the same way.
 */
async function loadCatalog(
  bindings: ModelBindings,
  manifest: ModelManifest,
  ids: IdIndex,
): Promise<{ catalog: CatalogTable | undefined; catalogFailures: CatalogShardFailure[] }> {
  const refs = catalogShardRefs(manifest)
  const catalogFailures: CatalogShardFailure[] = []
  if (refs.length === 0) return { catalog: undefined, catalogFailures }
  const known = manifest.catalog
  const builder = CatalogTable.alignedBuilder(
    ids.size,
    (id) => ids.indexOf(id),
    known ? { categories: known.categoryCodes, tags: known.tagCodes, layout: known.layout } : undefined,
  )
  for (const ref of refs) {
    try {
      const shard = await loadShard(bindings, ref, 'catalog', manifest.dims)
      builder.add(shard.json)
    } catch (error) {
      const failure: CatalogShardFailure = {
        key: ref.key,
        rowOffset: ref.rowOffset,
        rows: ref.rows,
        code: error instanceof ModelLoadError ? error.code : 'SHARD_INVALID',
        message:
          error instanceof ModelLoadError
            ? error.message
            : `The catalog shard ${ref.key} does not decode (${error instanceof Error ? error.message : String(error)}). Republish.`,
      }
      catalogFailures.push(failure)
      console.error(`edgerec: catalog shard ${ref.key} of ${manifest.version} left out: ${failure.message}`)
    }
  }
  return { catalog: builder.build(), catalogFailures }
}

/**
 * Every item must be in one partition list, or in two (spilled border items, issue 16), each list
 * ascending (so never twice in one list); anything else rejects the version.
 */
export function checkPartitions(
  shard: Pick<PartitionsShard, 'rowCount' | 'listOffsets' | 'itemIndexes'>,
  count: number,
  key: string,
): void {
  const seen = new Uint8Array(count)
  const { itemIndexes, listOffsets } = shard
  let ok = itemIndexes.length >= count && itemIndexes.length <= 2 * count
  for (let p = 0; ok && p < shard.rowCount; p++) {
    for (let i = listOffsets[p]!; ok && i < listOffsets[p + 1]!; i++) {
      const item = itemIndexes[i]!
      if (item >= count || seen[item] === 2 || (i > listOffsets[p]! && item <= itemIndexes[i - 1]!))
        ok = false
      else seen[item]!++
    }
  }
  if (ok) ok = seen.every((n) => n > 0)
  if (!ok)
    throw new ModelLoadError(
      'SHARD_INVALID',
      `${key} does not list each of the ${count} items once (or twice, in two lists), every list ascending. Republish.`,
      { key },
    )
}
