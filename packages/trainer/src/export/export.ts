/**
 * Writes a trained model as one immutable version (docs/architecture.md): int8 item shards split by
 * rows, user shards bucketed by `stableHash32(userId) % userBuckets` with each user's train
 * interactions (and, by default in partitioned versions, their precomputed candidates), popularity
 * and trending lists, the fold-in gram YᵀY + λI, and the manifest last.
 *
 * @module
 */
import type { Storage } from '@edgerec/adapters'
import {
  type AlsHyperparameters,
  buildCandidateLists,
  type CandidateLists,
  type CatalogItem,
  CatalogTable,
  catalogShardKey,
  DEFAULT_MAX_SHARD_BYTES,
  dequantizeRows,
  encodeCatalogColumns,
  encodePartitionLists,
  encodeShard,
  itemShardKey,
  MANIFEST_FORMAT_VERSION,
  type ModelEvaluation,
  type ModelGate,
  type ModelManifest,
  manifestKey,
  newVersionId,
  partitionListsKey,
  planItemShards,
  type QuantizedMatrix,
  quantizeRows,
  type ShardRef,
  singleShardKey,
  splitCatalog,
  userBucket,
  userShardKey,
  type ValueTransform,
  VERSION_PATTERN,
  validateManifest,
} from '@edgerec/core'
import type { AlsModel } from '../als/index.js'
import { gramMatrix } from '../als/index.js'
import type { InteractionMatrix } from '../data/matrix.js'
import { TrainerError } from '../errors.js'
import { CandidatePool } from './candidate-threads.js'
import { candidatesPerUser, planCandidates } from './candidates.js'
import { type PartitionsConfig, planPartitions } from './partitions.js'

/**
 * Largest item shard of a partitioned version (4 MiB): its worker reads item shards one at a time
 * for the ids only, so this bounds the loading peak.
 */
const PARTITIONED_ITEM_SHARD_BYTES = 4 * 1024 * 1024

/**
 * Largest catalog shard (2 MiB): the worker parses catalog shards one at a time, each JSON text and
 * its parsed columns costing a few times its size while it loads, so this bounds the loading peak
 * (core's `CATALOG_LOADING_PER_SHARD_BYTE`).
 */
export const CATALOG_SHARD_BYTES = 2 * 1024 * 1024

/** What gets exported. */
export interface ExportInput {
  model: AlsModel
  /** The interactions the model was trained on (the user shards carry them for exclusion and fold-in). */
  data: InteractionMatrix
  /** Hyperparameters of the run (alpha is what the worker uses for fold-in confidences). */
  als: AlsHyperparameters
  /** Event type → weight used to build `data`. */
  eventWeights: Record<string, number>
  /** Time decay half-life used in weighting, if any. */
  halfLifeDays?: number
  /** Value transform applied to every pair's summed weight (recorded unless `none`, for fold-in). */
  valueTransform?: ValueTransform
  /** Popularity score per item (train interaction counts). */
  popularity: ArrayLike<number>
  /** Trending score per item (time-decayed counts), optional. */
  trending?: ArrayLike<number>
  evaluation?: ModelEvaluation
  tuning?: unknown
  /** The quality gate's verdict (recorded in the manifest; the publisher refuses a failed gate). */
  gate?: ModelGate
  /**
   * The item catalog (issue 17), exported as `catalog.shard` so the worker filters without D1;
   * `updatedUntil` is the newest catalog change read, from which the worker overlays later ones.
   */
  catalog?: { items: readonly CatalogItem[]; updatedUntil: number }
}

/** Options of {@link exportModel}. */
export interface ExportOptions {
  storage: Storage
  /** Version id. Default: `newVersionId()` (`YYYYMMDDTHHMMSSZ-<8 hex>`). */
  version?: string
  /** Creation time. Default: now. */
  now?: Date
  /** Largest shard in bytes. Default 24 MiB (a KV value holds 25 MiB). */
  maxShardBytes?: number
  /** Number of user buckets. Default: enough for about `targetUserShardBytes` per bucket. */
  userBuckets?: number
  /** Target size of one user bucket. Default 2 MiB. */
  targetUserShardBytes?: number
  /** Parallel uploads. Default 4. */
  concurrency?: number
  /** Called after each shard is written. */
  onShard?: (ref: ShardRef) => void
  /**
   * Partitioned retrieval (issue 16): versions with at least `minItems` items (default 100 000) get
   * a `partitions.shard` and `manifest.partitions` with the measured recall@10 at the default nprobe.
   */
  partitions?: PartitionsConfig
  /**
   * Precomputed candidates per trained user in its bucket (issue 16; 0 = none): its best items by
   * x_u, training interactions left out, so the worker answers it without scanning. Default
   * `DEFAULT_CANDIDATES_PER_USER` (50) for partitioned versions, none for exact-scan ones.
   */
  candidates?: number
  /**
   * Progress of the precomputed candidates: trained users done of all, after each bucket (and 0
   * before the first). They take one scan per user, so a large population takes minutes.
   */
  onCandidates?: (done: number, total: number) => void
  /**
   * Worker threads computing the precomputed candidates (default 1: on this thread). With more,
   * each bucket's candidates are computed on one of them, the scan's data shared; the shards are
   * the same for any number.
   */
  threads?: number
}

/** Result of {@link exportModel}. */
export interface ExportResult {
  version: string
  manifest: ModelManifest
  /** Every key written, manifest last. */
  keys: string[]
  /** Total bytes written (shards + manifest). */
  bytes: number
  /**
   * Seconds spent on the precomputed candidates (their recall measurement and every bucket's
   * scans), when the version has them.
   */
  candidateSeconds?: number
}

const MiB = 1024 * 1024
const encoder = new TextEncoder()

/**
 * Bytes a user occupies in a user shard (int8 factors, scale, id, offsets, interactions, and with
 * `candidates` per user their offset and 8 B per candidate: u32 item + f32 score).
 */
function userRowBytes(id: string, dims: number, interactions: number, candidates: number): number {
  const candidateBytes = candidates > 0 ? 4 + 8 * candidates : 0
  return dims + 4 + 4 + encoder.encode(id).length + 4 + 8 * interactions + candidateBytes
}

/**
 * Picks the number of user buckets: expected bucket size ≈ `target` bytes, doubled while the
 * fullest bucket (hashing is uneven) would exceed `maxBytes`.
 */
export function chooseUserBuckets(
  userIds: readonly string[],
  rowBytes: (u: number) => number,
  target = 2 * MiB,
  maxBytes = DEFAULT_MAX_SHARD_BYTES,
): number {
  let total = 0
  for (let u = 0; u < userIds.length; u++) total += rowBytes(u)
  let buckets = Math.max(1, Math.ceil(total / target))
  for (;;) {
    const sizes = new Float64Array(buckets)
    for (let u = 0; u < userIds.length; u++) sizes[userBucket(userIds[u]!, buckets)]! += rowBytes(u)
    let fullest = 0
    for (const s of sizes) fullest = Math.max(fullest, s)
    // 4 KiB of headroom for the header, section table and padding.
    if (fullest + 4096 <= maxBytes || buckets >= userIds.length) return buckets
    buckets *= 2
  }
}

function sliceRows(q: QuantizedMatrix, start: number, end: number): QuantizedMatrix {
  return {
    rows: end - start,
    dims: q.dims,
    values: q.values.subarray(start * q.dims, end * q.dims),
    scales: q.scales.subarray(start, end),
  }
}

/**
 * Items with a positive score, best first, at most `maxEntries` (a popularity shard takes 8 bytes
 * per entry, so one shard holds ≈ 3.1M at the 24 MiB limit: the long tail past it is left out).
 */
function ranked(
  scores: ArrayLike<number>,
  maxEntries: number,
): { itemIndexes: Uint32Array; scores: Float32Array } {
  let order: number[] = []
  for (let i = 0; i < scores.length; i++) if (scores[i]! > 0) order.push(i)
  order.sort((a, b) => scores[b]! - scores[a]! || a - b)
  if (order.length > maxEntries) order = order.slice(0, maxEntries)
  return { itemIndexes: Uint32Array.from(order), scores: Float32Array.from(order, (i) => scores[i]!) }
}

/** Runs `tasks` with at most `limit` in flight; rejects on the first failure after all settle. */
async function runLimited(tasks: (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0
  let failure: unknown
  const worker = async (): Promise<void> => {
    while (next < tasks.length && failure === undefined) {
      const task = tasks[next++]!
      try {
        await task()
      } catch (error) {
        failure ??= error
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker))
  if (failure !== undefined) throw failure
}

/**
 * Encodes and writes every shard, then the manifest. If anything fails, the keys written so far
 * are deleted and a `EXPORT_FAILED` error is thrown: a version without a manifest is never complete.
 *
 * @example
 * ```ts
 * const { version } = await exportModel({ model, data, als, eventWeights, popularity: itemCounts(data.matrix) }, { storage })
 * ```
 */
export async function exportModel(input: ExportInput, options: ExportOptions): Promise<ExportResult> {
  const { model, data } = input
  const { storage } = options
  const dims = model.factors
  const m = data.matrix
  if (
    model.users !== m.rows ||
    model.items !== m.cols ||
    data.userIds.length !== m.rows ||
    data.itemIds.length !== m.cols
  ) {
    throw new TrainerError(
      'EXPORT_FAILED',
      `The model (${model.users} users × ${model.items} items) does not match the data (${m.rows} × ${m.cols}, ${data.userIds.length} user ids, ${data.itemIds.length} item ids). Export the model with the data it was trained on.`,
    )
  }
  const now = options.now ?? new Date()
  const version = options.version ?? newVersionId(now)
  if (!VERSION_PATTERN.test(version)) {
    throw new TrainerError(
      'EXPORT_FAILED',
      `Version ${JSON.stringify(version)} must match ${VERSION_PATTERN}.`,
    )
  }
  const maxBytes = options.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES
  const written: string[] = []
  let bytes = 0
  let pool: CandidatePool | undefined

  const put = async (key: string, body: Uint8Array, contentType: string): Promise<void> => {
    written.push(key)
    await storage.put(key, body, { contentType })
    bytes += body.byteLength
  }

  try {
    if ((await storage.head(manifestKey(version))) !== undefined) {
      throw new TrainerError(
        'EXPORT_FAILED',
        `Version ${version} already exists in ${storage.provider} storage; versions are immutable. Use a new version id.`,
      )
    }
    const refs = { items: [] as ShardRef[], users: [] as ShardRef[] }
    const tasks: (() => Promise<void>)[] = []
    const shardTask =
      (
        key: string,
        build: () => Promise<{ bytes: Uint8Array; sha256: string }>,
        ref: Omit<ShardRef, 'key' | 'bytes' | 'sha256'>,
        collect: (r: ShardRef) => void,
      ) =>
      async (): Promise<void> => {
        const encoded = await build()
        await put(key, encoded.bytes, 'application/octet-stream')
        const full: ShardRef = { key, bytes: encoded.bytes.byteLength, sha256: encoded.sha256, ...ref }
        collect(full)
        options.onShard?.(full)
      }

    // Items: int8 rows split so no shard exceeds maxBytes. A partitioned version's worker reads
    // its item shards only for the ids (the rows come from the lists), one at a time: smaller
    // shards keep its loading peak low.
    const itemQ = quantizeRows(model.itemFactors, model.items, dims)
    const userQ = quantizeRows(model.userFactors, model.users, dims)
    const planned = planPartitions(model.itemFactors, itemQ, userQ, options.partitions)
    const perUser = candidatesPerUser(options.candidates, planned !== undefined)
    const candidates = planCandidates(itemQ, planned, perUser)
    let candidateSeconds = candidates?.seconds ?? 0
    let candidateUsers = 0
    // With threads, buckets' candidates overlap: their time is the span from the first to the last.
    let candidateSpan: { start: number; end: number } | undefined
    const threads = options.threads ?? 1
    if (!Number.isInteger(threads) || threads < 1)
      throw new TrainerError('EXPORT_FAILED', `threads must be a positive integer, got ${threads}.`)
    if (candidates && threads > 1 && m.rows > 0)
      pool = await CandidatePool.start(candidates.share(), Math.min(threads, m.rows))
    if (candidates) options.onCandidates?.(0, m.rows)
    const itemMaxBytes = planned ? Math.min(maxBytes, PARTITIONED_ITEM_SHARD_BYTES) : maxBytes
    const ranges = planItemShards(data.itemIds, dims, itemMaxBytes)
    ranges.forEach(({ start, end }, index) => {
      tasks.push(
        shardTask(
          itemShardKey(version, index),
          () =>
            encodeShard(
              {
                kind: 'items',
                rowOffset: start,
                factors: sliceRows(itemQ, start, end),
                ids: data.itemIds.slice(start, end),
              },
              { maxBytes: itemMaxBytes },
            ),
          { kind: 'items', rows: end - start, rowOffset: start, storage: 'r2' },
          (r) => {
            refs.items[index] = r
          },
        ),
      )
    })

    // Users: bucketed by hash; each row carries its train interactions with c = alpha · r.
    const buckets =
      options.userBuckets ??
      chooseUserBuckets(
        data.userIds,
        (u) => userRowBytes(data.userIds[u]!, dims, m.indptr[u + 1]! - m.indptr[u]!, perUser),
        options.targetUserShardBytes,
        maxBytes,
      )
    if (!Number.isInteger(buckets) || buckets < 1)
      throw new TrainerError('EXPORT_FAILED', `userBuckets must be a positive integer, got ${buckets}.`)
    const members: number[][] = Array.from({ length: buckets }, () => [])
    for (let u = 0; u < m.rows; u++) members[userBucket(data.userIds[u]!, buckets)]!.push(u)
    members.forEach((users, bucket) => {
      tasks.push(
        shardTask(
          userShardKey(version, bucket),
          async () => {
            let total = 0
            for (const u of users) total += m.indptr[u + 1]! - m.indptr[u]!
            const values = new Int8Array(users.length * dims)
            const scales = new Float32Array(users.length)
            const offsets = new Uint32Array(users.length + 1)
            const items = new Uint32Array(total)
            const confidences = new Float32Array(total)
            let q = 0
            users.forEach((u, row) => {
              values.set(userQ.values.subarray(u * dims, (u + 1) * dims), row * dims)
              scales[row] = userQ.scales[u]!
              for (let k = m.indptr[u]!; k < m.indptr[u + 1]!; k++) {
                items[q] = m.indices[k]!
                // Confidence of the reference: c_ui = alpha · r_ui.
                confidences[q] = input.als.alpha * m.values[k]!
                q++
              }
              offsets[row + 1] = q
            })
            const factors = { rows: users.length, dims, values, scales }
            const interactions = { offsets, items, confidences }
            let lists: CandidateLists | undefined
            if (candidates && users.length > 0) {
              // This bucket's users only: no array over the whole population. (An empty bucket
              // has no rows to hold candidates: it is written without the sections.)
              const start = performance.now()
              lists = pool
                ? await pool.build({ factors, interactions: { offsets, items } }, candidates.perUser)
                : buildCandidateLists(factors, interactions, candidates.perUser, candidates.scan)
              const end = performance.now()
              if (pool)
                candidateSpan = {
                  start: Math.min(candidateSpan?.start ?? start, start),
                  end: Math.max(candidateSpan?.end ?? end, end),
                }
              else candidateSeconds += (end - start) / 1000
              candidateUsers += users.length
              options.onCandidates?.(candidateUsers, m.rows)
            }
            return encodeShard(
              {
                kind: 'users',
                factors,
                ids: users.map((u) => data.userIds[u]!),
                interactions,
                ...(lists ? { candidates: lists } : {}),
              },
              { maxBytes },
            )
          },
          { kind: 'users', rows: users.length, rowOffset: 0, storage: 'r2' },
          (r) => {
            refs.users[bucket] = r
          },
        ),
      )
    })

    // Catalog: split like the items (core's splitCatalog), each shard self-contained JSON columns
    // of consecutive rows, so no shard exceeds the limit whatever the catalog's size; the model's
    // items come first in model order (the worker's table is aligned to them).
    const catalogRefs: ShardRef[] = []
    let catalogStats: ModelManifest['catalog']
    const catalogInput = input.catalog
    if (catalogInput) {
      const split = splitCatalog(catalogInput.items, Math.min(maxBytes, CATALOG_SHARD_BYTES), data.itemIds)
      catalogStats = split.manifest
      split.ranges.forEach(({ start, end }, index) => {
        tasks.push(
          shardTask(
            catalogShardKey(version, index),
            () => {
              const columns = CatalogTable.columnsOf(split.items.slice(start, end), catalogInput.updatedUntil)
              return encodeShard(
                { kind: 'catalog', rows: end - start, rowOffset: start, json: encodeCatalogColumns(columns) },
                { maxBytes },
              )
            },
            { kind: 'catalog', rows: end - start, rowOffset: start, storage: 'r2' },
            (r) => {
              catalogRefs[index] = r
            },
          ),
        )
      })
    }

    // Partitions (large versions only): k-means on the float item factors, recall on the int8
    // rows; the lists object holds each partition's rows contiguously (one ranged read each).
    let partitionsRef: ShardRef | undefined
    let partitionListsRef: ShardRef | undefined
    if (planned) {
      const { index } = planned
      const encodedLists = await encodePartitionLists(planned.lists, dims)
      const listsKey = partitionListsKey(version)
      tasks.push(async () => {
        await put(listsKey, encodedLists.bytes, 'application/octet-stream')
        const ref: ShardRef = {
          key: listsKey,
          kind: 'partitionList',
          bytes: encodedLists.bytes.byteLength,
          sha256: encodedLists.sha256,
          rows: index.lists,
          rowOffset: 0,
          storage: 'r2',
        }
        partitionListsRef = ref
        options.onShard?.(ref)
      })
      tasks.push(
        shardTask(
          singleShardKey(version, 'partitions'),
          () =>
            encodeShard(
              {
                kind: 'partitions',
                dims,
                centroids: index.centroids,
                listOffsets: index.listOffsets,
                itemIndexes: index.itemIndexes,
                listBytes: encodedLists.listBytes,
                listDigests: encodedLists.listDigests,
              },
              { maxBytes },
            ),
          { kind: 'partitions', rows: index.lists, rowOffset: 0, storage: 'r2' },
          (r) => {
            partitionsRef = r
          },
        ),
      )
    }

    let popularityRef: ShardRef | undefined
    let trendingRef: ShardRef | undefined
    let gramRef: ShardRef | undefined
    // Header, two section entries, padding and checksum take < 1 KiB; 8 bytes per entry.
    const maxEntries = Math.floor((maxBytes - 1024) / 8)
    const popular = ranked(input.popularity, maxEntries)
    tasks.push(
      shardTask(
        singleShardKey(version, 'popularity'),
        () => encodeShard({ kind: 'popularity', ...popular }, { maxBytes }),
        { kind: 'popularity', rows: popular.itemIndexes.length, rowOffset: 0, storage: 'r2' },
        (r) => {
          popularityRef = r
        },
      ),
    )
    if (input.trending) {
      const trending = ranked(input.trending, maxEntries)
      tasks.push(
        shardTask(
          singleShardKey(version, 'trending'),
          () => encodeShard({ kind: 'popularity', ...trending }, { maxBytes }),
          { kind: 'popularity', rows: trending.itemIndexes.length, rowOffset: 0, storage: 'r2' },
          (r) => {
            trendingRef = r
          },
        ),
      )
    }
    // Gram of the DEQUANTIZED item factors (what the worker scores with): G = ŶᵀŶ + λI in float64, stored float32.
    const gram = gramMatrix(dequantizeRows(itemQ), model.items, dims, input.als.regularization)
    tasks.push(
      shardTask(
        singleShardKey(version, 'gram'),
        () => encodeShard({ kind: 'gram', dims, matrix: Float32Array.from(gram) }, { maxBytes }),
        { kind: 'gram', rows: dims, rowOffset: 0, storage: 'r2' },
        (r) => {
          gramRef = r
        },
      ),
    )

    // Every candidates thread busy: at least as many buckets in flight as threads.
    await runLimited(tasks, Math.max(options.concurrency ?? 4, pool?.threads ?? 0))
    await pool?.close()
    pool = undefined
    if (candidateSpan) candidateSeconds += (candidateSpan.end - candidateSpan.start) / 1000

    const manifest: ModelManifest = {
      formatVersion: MANIFEST_FORMAT_VERSION,
      version,
      createdAt: now.toISOString(),
      dims,
      counts: { users: m.rows, items: m.cols, interactions: m.indptr[m.rows]! },
      als: { ...input.als },
      eventWeights: { ...input.eventWeights },
      trainedUntil: data.trainedUntil,
      userBuckets: buckets,
      shards: { items: refs.items, users: refs.users, popularity: popularityRef!, gram: gramRef! },
    }
    if (trendingRef) manifest.shards.trending = trendingRef
    if (catalogStats) {
      manifest.shards.catalog = catalogRefs
      manifest.catalog = catalogStats
    }
    if (planned && partitionsRef && partitionListsRef) {
      manifest.shards.partitions = partitionsRef
      manifest.shards.partitionLists = partitionListsRef
      manifest.partitions = planned.manifest
    }
    if (candidates) manifest.candidates = candidates.manifest
    if (input.halfLifeDays !== undefined) manifest.halfLifeDays = input.halfLifeDays
    if (input.valueTransform !== undefined && input.valueTransform !== 'none')
      manifest.valueTransform = input.valueTransform
    if (input.evaluation) manifest.evaluation = input.evaluation
    if (input.tuning !== undefined) manifest.tuning = input.tuning
    if (input.gate !== undefined) manifest.gate = input.gate
    const checked = validateManifest(JSON.parse(JSON.stringify(manifest)))
    if (!checked.ok) {
      throw new TrainerError(
        'EXPORT_FAILED',
        `The manifest of ${version} is invalid: ${checked.errors.join(' ')} This is a bug; please report it.`,
      )
    }
    await put(
      manifestKey(version),
      encoder.encode(`${JSON.stringify(manifest, null, 2)}\n`),
      'application/json',
    )
    const result: ExportResult = { version, manifest, keys: written, bytes }
    if (candidates) result.candidateSeconds = candidateSeconds
    return result
  } catch (error) {
    await pool?.close()
    // Remove what was written (the manifest last of all, so nothing half-written looks complete).
    const cleanup = [...written].reverse()
    for (const key of cleanup) await storage.delete(key).catch(() => {})
    if (error instanceof TrainerError) throw error
    throw new TrainerError(
      'EXPORT_FAILED',
      `Writing model version ${version} to ${storage.provider} storage failed after ${written.length} objects (${(error as Error).message}); they were removed. Fix the cause and train again.`,
      { cause: error },
    )
  }
}
