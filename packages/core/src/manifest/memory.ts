/**
 * The isolate memory a model version needs, planned from its manifest before anything loads, and
 * the swap check: the version being loaded must fit next to the live one.
 *
 * The plan follows how the edge worker holds a version (docs/edge-worker.md, "Memory accounting"):
 * item factors in the scoring kernel's Wasm memory, per-item scales and norms as Float32Arrays, item
 * ids in one `IdIndex`, the popularity/trending/gram shard buffers, and the user-bucket cache
 * up to its bound. Item shards are loaded one at a time and dropped once copied.
 *
 * @module
 */

import { alignedCatalogBuildBytes, alignedCatalogByteLength } from '../catalog/table.js'
import { CoreError } from '../errors.js'
import { wasmFloat32KernelByteLength } from '../scoring/kernel/f32-kernel.js'
import { wasmInt8KernelByteLength } from '../scoring/kernel/int8-kernel.js'
import { idIndexByteLength } from '../shard/id-index.js'
import { catalogShardRefs, type ModelManifest } from './manifest.js'

/**
 * Label codes per byte of catalog shard, estimated when the manifest does not say (versions
 * exported with one catalog shard, before `manifest.catalog`): a code takes at least 2 JSON bytes.
 */
export const CATALOG_CODES_PER_SHARD_BYTE = 0.5

/**
 * Bytes one catalog shard costs while it loads, per byte of shard: the shard buffer, its decoded
 * JSON text and the parsed columns (estimated).
 */
export const CATALOG_LOADING_PER_SHARD_BYTE = 4

const MiB = 1024 * 1024

/** Default bytes a worker isolate gives to models (`MODEL_MEMORY_MIB`): 96 MiB of the 128 MB limit. */
export const DEFAULT_MODEL_MEMORY_BUDGET_BYTES = 96 * MiB

/** Default bound of the worker's user-bucket cache (`USER_CACHE_MIB`). */
export const DEFAULT_USER_CACHE_BYTES = 16 * MiB

/** Default bound of the worker's partition-list cache (`PARTITION_CACHE_MIB`). */
export const DEFAULT_PARTITION_CACHE_BYTES = 8 * MiB

/** Bytes per section of a model version in memory (see {@link planModelMemory}). */
export interface ModelMemoryPlan {
  /** The scoring kernel's Wasm memory: all item factors plus query/result/scratch space (exact). */
  kernel: number
  /** Per-item scales and norms (exact). */
  itemRows: number
  /** The compact id index (upper bound: id bytes are bounded by the shard sizes). */
  itemIdIndex: number
  /** Popularity, trending, gram and (large versions) partitions shard buffers (exact). */
  lists: number
  /** The user-bucket cache bound. */
  userCache: number
  /**
   * The catalog table aligned to the model's items (`manifest.catalog.memoryBytes`, else estimated
   * from the shard bytes); 0 without a catalog.
   */
  catalog: number
  /**
   * A partitioned version (lists loaded on demand): the centroids, the list offset / byte / digest
   * tables and the item → partition map (exact); 0 otherwise.
   */
  partitionIndex: number
  /** A partitioned version: the bound of its partition-list cache; 0 otherwise. */
  partitionCache: number
  /** What the version holds once loaded: the sum of the above. */
  resident: number
  /**
   * The most it holds while loading: resident + one item shard in flight. (Its caches are still
   * empty then, see {@link ModelMemoryPlan.caches} and {@link checkSwapMemory}; this figure counts
   * them full, what the version may hold alone.)
   */
  loadingPeak: number
  /**
   * The bounds of its caches (user buckets, partition lists): part of {@link resident}, empty
   * while the version loads. They fill from its first request, which comes once it is live; the
   * worker then closes the caches of the version it replaced.
   */
  caches: number
  /** Upper bound of the item ids' UTF-8 bytes (preallocate the id string table with it). */
  itemIdBytes: number
}

/**
 * Plans the memory of `manifest`'s version in a worker isolate.
 *
 * Item ids: an item shard holds factors (rows·dims), scales and norms (8·rows), id offsets
 * (4·(rows + 1)) and the id bytes, so id bytes ≤ bytes − rows·(dims + 12) per shard.
 */
export function planModelMemory(
  manifest: ModelManifest,
  options: { userCacheBytes: number; partitionCacheBytes?: number },
): ModelMemoryPlan {
  const items = manifest.counts.items
  const { dims, shards } = manifest
  let idBytes = 0
  let largestShard = 0
  for (const ref of shards.items) {
    idBytes += Math.max(0, ref.bytes - ref.rows * (dims + 12))
    largestShard = Math.max(largestShard, ref.bytes)
  }
  // A partitioned version keeps no item factors: the lists are fetched on demand into a cache.
  const onDemand = shards.partitions !== undefined && shards.partitionLists !== undefined
  const lists = manifest.partitions?.lists ?? 0
  const kernel = wasmInt8KernelByteLength(dims, onDemand ? 0 : items)
  const itemRows = onDemand ? 0 : 8 * items
  const itemIdIndex = idIndexByteLength(items, idBytes)
  const retained =
    shards.popularity.bytes +
    shards.gram.bytes +
    (shards.trending?.bytes ?? 0) +
    (onDemand ? 0 : (shards.partitions?.bytes ?? 0))
  const partitionIndex = onDemand ? partitionIndexByteLength(lists, dims, items) : 0
  const partitionCache = onDemand ? (options.partitionCacheBytes ?? DEFAULT_PARTITION_CACHE_BYTES) : 0
  const userCache = options.userCacheBytes
  const catalogRefs = catalogShardRefs(manifest)
  let catalogShardBytes = 0
  let largestCatalogShard = 0
  for (const ref of catalogRefs) {
    catalogShardBytes += ref.bytes
    largestCatalogShard = Math.max(largestCatalogShard, ref.bytes)
  }
  // Versions that record their codes get them allocated once; older ones grow them by doubling
  // (up to twice their final 4 bytes each while loading).
  const known = manifest.catalog
  const estimatedCodes = Math.ceil(CATALOG_CODES_PER_SHARD_BYTE * catalogShardBytes)
  const catalog =
    catalogRefs.length === 0
      ? 0
      : (known?.memoryBytes ?? alignedCatalogByteLength(items, estimatedCodes, 0, 0))
  // Compact layouts build their number dictionaries with a value → code map while loading.
  const catalogGrowth =
    catalogRefs.length === 0 ? 0 : known ? alignedCatalogBuildBytes(items, known.layout) : 8 * estimatedCodes
  const resident =
    kernel + itemRows + itemIdIndex + retained + userCache + partitionIndex + partitionCache + catalog
  return {
    kernel,
    itemRows,
    itemIdIndex,
    lists: retained,
    userCache,
    catalog,
    partitionIndex,
    partitionCache,
    resident,
    // One item shard fetched and decoded (views, no copy) at a time; the id string table is
    // preallocated with `itemIdBytes`, so ids are copied once. A partitioned version also holds
    // its partitions shard (item indexes of every list) while the item → partition map is built.
    // Catalog shards load one at a time after the items, each parsed and appended then dropped
    // (plus, in a compact layout, the dictionaries' maps until the table is built).
    loadingPeak:
      resident +
      Math.max(
        largestShard,
        onDemand ? (shards.partitions?.bytes ?? 0) : 0,
        CATALOG_LOADING_PER_SHARD_BYTE * largestCatalogShard + catalogGrowth,
      ),
    caches: userCache + partitionCache,
    itemIdBytes: idBytes,
  }
}

/**
 * Centroids per call of the worker's float32 Wasm kernel that scores a query against the centroids
 * (its scratch holds this many, copied in per call; issue 16: the JS loop took ≈ 1 ms at 1,000 × 64).
 */
export const PROBE_KERNEL_CHUNK_ROWS = 64

/**
 * Bytes a worker holds per partitioned version to find and verify lists (exact with the Wasm
 * kernels; 1 Wasm page less with `SCORING_KERNEL=js`): float32 centroids, the list offset and
 * byte tables (u32, P + 1 each), the SHA-256 of each list, the item → partition map (u16 when
 * P ≤ 65,536, else u32), and the float32 probe kernel's memory.
 */
export function partitionIndexByteLength(lists: number, dims: number, items: number): number {
  return (
    4 * lists * dims +
    8 * (lists + 1) +
    32 * lists +
    (lists <= 65_536 ? 2 : 4) * items +
    wasmFloat32KernelByteLength(dims, 0, PROBE_KERNEL_CHUNK_ROWS)
  )
}

/** The outcome of {@link checkSwapMemory}. */
export interface SwapMemoryCheck {
  fits: boolean
  /**
   * Bytes needed at the peak of the swap: while the new version loads, the live version's resident
   * bytes + the new one's loading peak without its (still empty) caches; once it is live, the old
   * version without its caches (closed at the swap; the rest stays until its last request ends) +
   * the new one's resident bytes. The larger of the two.
   */
  needed: number
  budget: number
  /** Why it does not fit and what to do (empty when it fits). */
  message: string
}

const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`

/**
 * Whether `next` can load while `live` (if any, and if a different version) still serves, within
 * `budget` bytes. During a swap both versions are in memory: the live one until the last request
 * holding it ends, the new one at its loading peak.
 *
 * @throws {@link CoreError} `INVALID_ARGUMENT` on a non-positive budget
 */
export function checkSwapMemory(
  next: { version: string; plan: ModelMemoryPlan },
  live: { version: string; plan: ModelMemoryPlan } | undefined,
  budget: number,
): SwapMemoryCheck {
  if (!(budget > 0))
    throw new CoreError('INVALID_ARGUMENT', `Memory budget must be > 0 bytes, got ${budget}.`)
  const swapping = live !== undefined && live.version !== next.version
  const liveBytes = swapping ? live.plan.resident : 0
  const needed = swapping
    ? Math.max(
        live.plan.resident + next.plan.loadingPeak - next.plan.caches,
        live.plan.resident - live.plan.caches + next.plan.resident,
      )
    : next.plan.loadingPeak
  if (needed <= budget) return { fits: true, needed, budget, message: '' }
  const partitioned =
    next.plan.partitionCache > 0
      ? `, partition index ${mib(next.plan.partitionIndex)}, partition cache ${mib(next.plan.partitionCache)}`
      : ''
  const catalog = next.plan.catalog > 0 ? `, catalog ${mib(next.plan.catalog)}` : ''
  const parts = `item factors ${mib(next.plan.kernel)}, item ids ≤ ${mib(next.plan.itemIdIndex)}, lists ${mib(next.plan.lists)}, user cache ${mib(next.plan.userCache)}${partitioned}${catalog}`
  const alone = next.plan.loadingPeak <= budget
  return {
    fits: false,
    needed,
    budget,
    message:
      `Version ${next.version} needs ${mib(next.plan.loadingPeak)} while loading (${parts})` +
      (liveBytes > 0
        ? ` next to ${mib(liveBytes)} of the live version ${live!.version} (caches are counted once: ${mib(Math.max(next.plan.caches, live!.plan.caches))})`
        : '') +
      `: ${mib(needed)} in all, over the memory budget of ${mib(budget)}. ` +
      `${mib(needed - budget)} too much. ` +
      (next.plan.catalog > 0 &&
      needed - next.plan.catalog - (liveBytes > 0 ? (live?.plan.catalog ?? 0) : 0) <= budget
        ? `Without its catalog (${mib(next.plan.catalog)}${liveBytes > 0 && (live?.plan.catalog ?? 0) > 0 ? `, and ${mib(live!.plan.catalog)} for the live one's` : ''}) it would fit: export fewer catalog items or attributes, or raise the budget. `
        : '') +
      (alone
        ? 'It fits alone but not during a swap: lower USER_CACHE_MIB (or PARTITION_CACHE_MIB) or the number of factors, or raise the budget (MODEL_MEMORY_MIB, at most 127 of the 128 MB isolate).'
        : 'It does not fit even alone: train fewer factors or fewer items, or lower USER_CACHE_MIB.'),
  }
}
