/**
 * One immutable, fully verified model version held in isolate memory, plus its on-demand user
 * buckets. A request captures one {@link LoadedModel} at its start and scores with it only, so a
 * version swap can never mix two versions inside one answer.
 *
 * @module
 */
import {
  type GramShard,
  type Int8DotKernel,
  type Int8Vector,
  type ItemBlock,
  type ItemShard,
  type ItemVectorReader,
  itemReaderFromBlocks,
  type ModelManifest,
  type PopularityShard,
  type UserShard,
  userBucket,
  WasmInt8Kernel,
  type WeightedInteraction,
} from '@edgerec/core'
import { ByteLru } from './byte-lru.js'
import { modelKernel, type ScoringKernelSetting } from './kernel.js'
import { loadShard, type ModelBindings, ModelLoadError } from './storage.js'

/**
 * Estimated V8 heap bytes of one string id: a header (≤ 16 bytes) plus one byte per Latin-1 char,
 * rounded up to 8. Ids are printable ASCII (core's `ID_PATTERN`), so they are one-byte strings.
 */
function stringBytes(length: number): number {
  return 16 + Math.ceil(length / 8) * 8
}

/**
 * Estimated bytes of one `Map` entry plus the array slot pointing at the same string: an
 * OrderedHashMap entry is key + value + chain (3 × 8 B) plus a bucket slot, and the table is at
 * most half full after growth, so 64 B bounds it; the array slot is 8 B.
 */
const MAP_ENTRY_BYTES = 64
const ARRAY_SLOT_BYTES = 8

/** Where a user sits in a bucket. */
export interface UserRow {
  shard: UserShard
  row: number
}

/** What a model version holds in memory, in bytes (see {@link LoadedModel.memory}). */
export interface ModelMemory {
  /** Bytes of every retained shard buffer: items, popularity, trending, gram. */
  shards: number
  /** Estimated heap bytes of the item id → index map and the index → id array. */
  itemIdIndex: number
  /** Bytes of cached user buckets (shard buffers + their id maps, estimated). */
  userCache: number
  /** Bytes of the scoring kernel's Wasm memory (the item factors it scans in place); 0 for JS. */
  kernel: number
  /** The sum. */
  total: number
}

/** How a version's loading went, for `/v1/model`. */
export interface UserBucketFailure {
  bucket: number
  code: string
  message: string
  at: string
}

/** A loaded model version. Create with {@link loadModel}. */
export class LoadedModel {
  readonly version: string
  readonly manifest: ModelManifest
  /** ISO-8601 time the version finished loading in this isolate. */
  readonly loadedAt: string
  /** Milliseconds the load took (fetch + verify + decode + index). */
  readonly loadMs: number
  readonly items: readonly ItemShard[]
  /**
   * The item rows as scoring reads them: with a Wasm kernel, the factors are views into the
   * kernel's memory (copied once at load); with the JS kernel, the shards themselves.
   */
  readonly blocks: readonly ItemBlock[]
  /** Computes the int8 dot products of top-K and similar items ({@link modelKernel}). */
  readonly kernel: Int8DotKernel
  readonly popularity: PopularityShard
  readonly trending: PopularityShard | undefined
  readonly gram: GramShard
  /** Reads dequantized item vectors y_i for fold-in and explanations. */
  readonly readItem: ItemVectorReader
  readonly #itemIds: string[]
  readonly #itemIndex: Map<string, number>
  readonly #itemIndexBytes: number
  readonly #users: ByteLru<number, UserShard>
  readonly #pendingBuckets = new Map<number, Promise<UserShard>>()
  readonly #failedBuckets = new Map<number, number>()
  #lastBucketFailure: UserBucketFailure | undefined

  /** @internal use {@link loadModel} */
  constructor(init: {
    manifest: ModelManifest
    items: ItemShard[]
    popularity: PopularityShard
    trending: PopularityShard | undefined
    gram: GramShard
    userCacheBytes: number
    scoringKernel: ScoringKernelSetting
    loadMs: number
    now: number
  }) {
    this.manifest = init.manifest
    this.version = init.manifest.version
    this.items = init.items
    this.popularity = init.popularity
    this.trending = init.trending
    this.gram = init.gram
    this.loadMs = init.loadMs
    this.loadedAt = new Date(init.now).toISOString()
    this.kernel = modelKernel(init.scoringKernel, init.manifest.dims, init.manifest.counts.items)
    this.blocks = residentBlocks(this.kernel, init.items)
    this.readItem = itemReaderFromBlocks(this.blocks)
    this.#users = new ByteLru(init.userCacheBytes)
    const total = init.manifest.counts.items
    this.#itemIds = new Array<string>(total)
    this.#itemIndex = new Map()
    let bytes = total * ARRAY_SLOT_BYTES
    for (const shard of init.items) {
      for (let r = 0; r < shard.rowCount; r++) {
        const id = shard.ids.get(r)
        const index = shard.rowOffset + r
        this.#itemIds[index] = id
        if (!this.#itemIndex.has(id)) this.#itemIndex.set(id, index)
        bytes += stringBytes(id.length) + MAP_ENTRY_BYTES
      }
    }
    this.#itemIndexBytes = bytes
  }

  /** Number of items. */
  get itemCount(): number {
    return this.#itemIds.length
  }

  /** Global index of item `id`, or -1. */
  itemIndexOf(id: string): number {
    return this.#itemIndex.get(id) ?? -1
  }

  /** Id of the item at global `index`. */
  itemId(index: number): string {
    const id = this.#itemIds[index]
    if (id === undefined)
      throw new RangeError(`Item index ${index} is outside 0..${this.#itemIds.length - 1}.`)
    return id
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
   * Finds `userId` in its bucket, fetching the bucket on first use (one fetch per bucket even under
   * concurrent requests). A bucket that fails to load makes its users unknown for 30 s (they get
   * fold-in or popularity) and is reported in `/v1/model`; it never fails the request.
   */
  async findUser(bindings: ModelBindings, userId: string, now: number): Promise<UserRow | null> {
    const bucket = userBucket(userId, this.manifest.userBuckets)
    const shard = await this.#bucket(bindings, bucket, now)
    if (!shard) return null
    const row = shard.ids.indexOf(userId)
    return row < 0 ? null : { shard, row }
  }

  async #bucket(bindings: ModelBindings, bucket: number, now: number): Promise<UserShard | null> {
    const cached = this.#users.get(bucket)
    if (cached) return cached
    const retryAt = this.#failedBuckets.get(bucket)
    if (retryAt !== undefined && now < retryAt) return null
    let pending = this.#pendingBuckets.get(bucket)
    if (!pending) {
      const ref = this.manifest.shards.users[bucket]
      if (!ref) return null
      pending = loadShard(bindings, ref, 'users', this.manifest.dims)
      this.#pendingBuckets.set(bucket, pending)
      pending.then(
        (shard) => {
          this.#pendingBuckets.delete(bucket)
          this.#failedBuckets.delete(bucket)
          this.#users.set(bucket, shard, userShardBytes(shard))
        },
        (error: unknown) => {
          this.#pendingBuckets.delete(bucket)
          this.#failedBuckets.set(bucket, now + 30_000)
          this.#lastBucketFailure = {
            bucket,
            code: error instanceof ModelLoadError ? error.code : 'STORAGE_UNAVAILABLE',
            message: error instanceof Error ? error.message : String(error),
            at: new Date(now).toISOString(),
          }
        },
      )
    }
    try {
      return await pending
    } catch {
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

  /** The user's training interactions (global item index, confidence c_ui) kept in the bucket. */
  userInteractions(user: UserRow): WeightedInteraction[] {
    const { offsets, items, confidences } = user.shard.interactions
    const out: WeightedInteraction[] = []
    for (let p = offsets[user.row]!; p < offsets[user.row + 1]!; p++)
      out.push({ index: items[p]!, confidence: confidences[p]! })
    return out
  }

  /**
   * Bytes this version holds. Shard buffers are exact (`byteLength` of the retained buffers; the
   * decoded arrays are views on them). Id maps are estimated per entry (see `MAP_ENTRY_BYTES`).
   */
  memory(): ModelMemory {
    let shards = this.popularity.byteLength + this.gram.byteLength + (this.trending?.byteLength ?? 0)
    for (const shard of this.items) shards += shard.byteLength
    const userCache = this.#users.bytes
    const kernel = this.kernel instanceof WasmInt8Kernel ? this.kernel.byteLength : 0
    return {
      shards,
      itemIdIndex: this.#itemIndexBytes,
      userCache,
      kernel,
      total: shards + this.#itemIndexBytes + userCache + kernel,
    }
  }
}

/** The item shards as scoring blocks whose factors live in the kernel's memory, when it has one. */
function residentBlocks(kernel: Int8DotKernel, shards: readonly ItemShard[]): ItemBlock[] {
  if (!(kernel instanceof WasmInt8Kernel)) return [...shards]
  return shards.map((shard) => {
    const at = shard.rowOffset * shard.dims
    const length = shard.rowCount * shard.dims
    kernel.resident.set(shard.factors.subarray(0, length), at)
    const block: ItemBlock = {
      rowCount: shard.rowCount,
      dims: shard.dims,
      rowOffset: shard.rowOffset,
      factors: kernel.resident.subarray(at, at + length),
      scales: shard.scales,
    }
    if (shard.norms) block.norms = shard.norms
    return block
  })
}

/**
 * Bytes a cached user bucket costs: its buffer plus the id strings, cache slots and map entries
 * `IdTable.indexOf` builds on first lookup.
 */
function userShardBytes(shard: UserShard): number {
  let bytes = shard.byteLength
  for (let r = 0; r < shard.rowCount; r++)
    bytes += stringBytes(shard.ids.get(r).length) + MAP_ENTRY_BYTES + ARRAY_SLOT_BYTES
  return bytes
}

/** Options of {@link loadModel}. */
export interface LoadModelOptions {
  userCacheBytes: number
  /** Which int8 kernel scores (default `auto`: Wasm SIMD where the runtime runs it). */
  scoringKernel?: ScoringKernelSetting
  now: () => number
}

/**
 * Loads, verifies and indexes a version: every item shard, popularity, trending and the gram
 * matrix, fetched in parallel. Any missing or corrupted object rejects the whole version.
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
  const [items, popularity, trending, gram] = await Promise.all([
    Promise.all(shards.items.map((ref) => loadShard(bindings, ref, 'items', dims))),
    loadShard(bindings, shards.popularity, 'popularity', dims),
    shards.trending ? loadShard(bindings, shards.trending, 'popularity', dims) : Promise.resolve(undefined),
    loadShard(bindings, shards.gram, 'gram', dims),
  ])
  for (const list of [popularity, trending]) {
    if (!list) continue
    for (let i = 0; i < list.rowCount; i++) {
      if (list.itemIndexes[i]! >= manifest.counts.items) {
        throw new ModelLoadError(
          'SHARD_INVALID',
          `Popularity list names item ${list.itemIndexes[i]} of ${manifest.counts.items}. Republish.`,
        )
      }
    }
  }
  return new LoadedModel({
    manifest,
    items,
    popularity,
    trending,
    gram,
    userCacheBytes: options.userCacheBytes,
    scoringKernel: options.scoringKernel ?? 'auto',
    loadMs: options.now() - started,
    now: options.now(),
  })
}
