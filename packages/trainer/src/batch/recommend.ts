/**
 * Batch recommendations (issue 17): `edgerec-train recommend --users all|FILE --k N --out FILE`
 * scores users of a model version offline (e-mails, exports) with the worker's scoring: int8 top-K
 * with the user's training items excluded and the same catalog filters, run inside the scan, then
 * the same merchandising rules (boosts, pins, per-category caps, MMR diversity) through core's
 * `rankWithRules`, the function the worker calls. Users the model does not know get the popularity
 * list, filtered and ranked the same way. Output: NDJSON, or Parquet (hyparquet-writer).
 *
 * @module
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { pipeline } from 'node:stream/promises'
import { Worker } from 'node:worker_threads'
import { createStorage, listAll, type Storage, type StorageConfig } from '@edgerec/adapters'
import {
  activeRules,
  CatalogTable,
  type CompiledRules,
  catalogShardRefs,
  compileItemFilter,
  compileRules,
  cosineOfCandidates,
  decodeShard,
  type ItemFilterSpec,
  type ItemShard,
  indexFilterOf,
  itemReaderFromBlocks,
  type MerchandisingRules,
  type ModelManifest,
  manifestKey,
  type PopularityShard,
  parseManifest,
  type RankSource,
  rankedList,
  rankWithRules,
  recommendTopK,
  type TopKResult,
  UNKNOWN_ITEM_VIEW,
  type UserShard,
  userBucket,
} from '@edgerec/core'
import { workerEntry } from '../als/pool.js'
import { TrainerError } from '../errors.js'
import { type BatchLine, type BatchSink, ndjsonSink, parquetSink } from './sink.js'

/** Options of {@link batchRecommend}. */
export interface BatchRecommendOptions {
  storage: Storage
  /** Version to use; default: the newest in the registry (versions sort by time). */
  version?: string
  /** `all` (every user of the model), the ids to score, or a share of the model's users (buckets b ≡ part mod parts). */
  users: 'all' | readonly string[] | { part: number; parts: number }
  k: number
  filter: ItemFilterSpec
  /**
   * Merchandising rules (the document of `PUT /v1/admin/rules`): boosts, pins, `maxPerCategory`,
   * `diversity`, applied as the worker applies them.
   */
  rules?: MerchandisingRules
  /** Overrides of the rules' defaults, like the request parameters `maxPerCategory=`, `diversity=`. */
  maxPerCategory?: number
  diversity?: number
  /** The clock of rule expiry and `newerThanDays` boosts (epoch ms; default: now). */
  now?: number
  /** Output path. */
  out: string
  /** Output format (default: Parquet when `out` ends in `.parquet`, else NDJSON). */
  format?: BatchFormat
  onProgress?: (done: number, total: number) => void
}

/** Output formats of batch recommendations. */
export type BatchFormat = 'ndjson' | 'parquet'

/** The format of `out`: `parquet` for a `.parquet` name, else `ndjson`. */
export function formatOf(out: string, format?: BatchFormat): BatchFormat {
  return format ?? (/\.parquet$/i.test(out) ? 'parquet' : 'ndjson')
}

/** Validates and compiles a rules document like `PUT /v1/admin/rules` (core's `compileRules`). */
export function compileBatchRules(rules: unknown): CompiledRules {
  const compiled = compileRules(rules)
  if (!compiled.ok)
    throw new TrainerError(
      'USAGE',
      `The rules are invalid: ${compiled.errors.map((e) => `${e.field || '(document)'}: ${e.message}`).join('; ')}. Fix them (docs/catalog.md, "Rules and diversity").`,
    )
  return compiled.rules
}

/** What a run wrote. */
export interface BatchRecommendResult {
  version: string
  users: number
  /** Users scored by the model (the rest got the filtered popularity list). */
  modelUsers: number
  out: string
}

async function read(storage: Storage, key: string): Promise<Uint8Array> {
  const bytes = await storage.get(key)
  if (!bytes) throw new TrainerError('CONFIG_INVALID', `${key} is missing from ${storage.provider} storage.`)
  return bytes
}

/** The newest version with a manifest in `storage`. */
export async function newestVersion(storage: Storage): Promise<string> {
  const keys = (await listAll(storage, 'models/'))
    .map((o) => o.key)
    .filter((k) => k.endsWith('/manifest.json'))
  const versions = keys.map((k) => k.slice('models/'.length, -'/manifest.json'.length)).sort()
  const newest = versions.at(-1)
  if (!newest)
    throw new TrainerError(
      'CONFIG_INVALID',
      `No model version in ${storage.provider} storage. Train one first.`,
    )
  return newest
}

/** Reads `users` ids, one per line (blank lines and `#` comments skipped). */
export async function readUserList(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch((cause: unknown) => {
    throw new TrainerError('USAGE', `Cannot read the user list ${path}: ${(cause as Error).message}.`, {
      cause,
    })
  })
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'))
}

/**
 * Scores the users and writes one NDJSON line per user
 * (`{"userId","items":[{"itemId","score"}],"source":"model"|"popular","modelVersion"}`) or the
 * same as Parquet rows (`./sink.ts`).
 */
export async function batchRecommend(options: BatchRecommendOptions): Promise<BatchRecommendResult> {
  const { storage, k } = options
  const version = options.version ?? (await newestVersion(storage))
  const manifest: ModelManifest = parseManifest(
    JSON.parse(new TextDecoder().decode(await read(storage, manifestKey(version)))),
  )
  const decode = async <S>(
    ref: { key: string; sha256: string },
    kind: 'items' | 'users' | 'popularity' | 'catalog',
  ) =>
    (await decodeShard(await read(storage, ref.key), {
      expectedKind: kind,
      expectedSha256: ref.sha256,
      maxBytes: 1 << 30,
    })) as S
  const blocks = await Promise.all(manifest.shards.items.map((ref) => decode<ItemShard>(ref, 'items')))
  const buckets = await Promise.all(manifest.shards.users.map((ref) => decode<UserShard>(ref, 'users')))
  const popularity = await decode<PopularityShard>(manifest.shards.popularity, 'popularity')
  let catalog: CatalogTable | undefined
  const catalogRefs = catalogShardRefs(manifest)
  if (catalogRefs.length > 0) {
    // One shard (older versions) or a split catalog: appended in row order, one shard at a time.
    const builder = CatalogTable.builder(manifest.catalog?.rows ?? 0)
    for (const ref of catalogRefs) builder.add((await decode<{ json: Uint8Array }>(ref, 'catalog')).json)
    catalog = builder.build()
  }
  const itemIds: string[] = []
  for (const block of blocks)
    for (let r = 0; r < block.rowCount; r++) itemIds[block.rowOffset + r] = block.ids.get(r)
  const rows = catalog ? Int32Array.from(itemIds, (id) => catalog.rowOf(id)) : undefined
  const views = {
    viewAt: (i: number) => (catalog && rows && rows[i]! >= 0 ? catalog.view(rows[i]!) : UNKNOWN_ITEM_VIEW),
  }
  const predicate = compileItemFilter(options.filter)
  const itemIndex = new Map(itemIds.map((id, i) => [id, i]))
  const readItem = itemReaderFromBlocks(blocks)
  const now = options.now ?? Date.now()
  const rules = activeRules(options.rules ? compileBatchRules(options.rules) : undefined, now, {
    ...(options.maxPerCategory !== undefined ? { maxPerCategory: options.maxPerCategory } : {}),
    ...(options.diversity !== undefined ? { diversity: options.diversity } : {}),
  })
  /** The worker's pipeline: candidates (filtered scan) → rules → top k. */
  const rank = (fetch: (size: number) => TopKResult, total: number, skip: { has(i: number): boolean }) => {
    if (!rules) return fetch(k)
    const source: RankSource = {
      fetch,
      total,
      view: views.viewAt,
      similarity: cosineOfCandidates(manifest.dims, readItem),
      pinIndex: (itemId) => {
        const index = itemIndex.get(itemId) ?? -1
        return index >= 0 && !skip.has(index) ? index : -1
      },
    }
    return rankWithRules(rules, source, k)
  }
  const popularSkip = indexFilterOf(predicate, views) ?? { has: () => false }

  const share = options.users
  const users =
    share === 'all' || !Array.isArray(share)
      ? buckets.flatMap((shard, b) =>
          share === 'all' || b % (share as { parts: number }).parts === (share as { part: number }).part
            ? Array.from({ length: shard.rowCount }, (_, r) => shard.ids.get(r))
            : [],
        )
      : (share as readonly string[])
  const sink: BatchSink =
    formatOf(options.out, options.format) === 'parquet'
      ? await parquetSink(options.out)
      : ndjsonSink(options.out)
  let modelUsers = 0
  let done = 0
  try {
    for (const userId of users) {
      const shard = buckets[userBucket(userId, manifest.userBuckets)]
      const row = shard ? shard.ids.indexOf(userId) : -1
      let top: TopKResult
      let source: 'model' | 'popular'
      if (shard && row >= 0) {
        const { offsets, items: trained } = shard.interactions
        const seen = new Set<number>()
        for (let p = offsets[row]!; p < offsets[row + 1]!; p++) seen.add(trained[p]!)
        const skip = indexFilterOf(predicate, views, seen) ?? seen
        const vector = {
          values: shard.factors.subarray(row * shard.dims, (row + 1) * shard.dims),
          scale: shard.scales[row]!,
        }
        top = rank((size) => recommendTopK(vector, blocks, size, skip), itemIds.length, skip)
        source = 'model'
        modelUsers++
      } else {
        top = rank((size) => rankedList(popularity, size, popularSkip), popularity.rowCount, popularSkip)
        source = 'popular'
      }
      const items = Array.from(top.indices, (i, r) => ({ itemId: itemIds[i]!, score: top.scores[r]! }))
      const line: BatchLine = { userId, items, source, modelVersion: version }
      await sink.write(line)
      done++
      if (done % 10_000 === 0) options.onProgress?.(done, users.length)
    }
  } finally {
    await sink.close()
  }
  return { version, users: users.length, modelUsers, out: options.out }
}

/**
 * {@link batchRecommend} on `threads` worker threads: each loads the version and scores a share of
 * the users (whole user buckets for `all`, consecutive slices of a list) into a part file; the parts
 * are concatenated into `out` in order.
 */
export async function batchRecommendThreads(
  options: Omit<BatchRecommendOptions, 'storage' | 'onProgress'> & {
    storageConfig: StorageConfig
    threads: number
  },
): Promise<BatchRecommendResult> {
  const storage = await createStorage(options.storageConfig)
  const version = options.version ?? (await newestVersion(storage))
  // One clock for every thread: rule expiry and `newerThanDays` boosts agree across parts.
  const now = options.now ?? Date.now()
  const parts = Math.max(1, Math.floor(options.threads))
  const shares = Array.from({ length: parts }, (_, part) =>
    options.users === 'all' || !Array.isArray(options.users)
      ? { part, parts }
      : (options.users as readonly string[]).slice(
          Math.floor((part * options.users.length) / parts),
          Math.floor(((part + 1) * options.users.length) / parts),
        ),
  )
  const { url, execArgv } = workerEntry('../batch/worker')
  const results = await Promise.all(
    shares.map(
      (users, part) =>
        new Promise<BatchRecommendResult>((done, fail) => {
          const worker = new Worker(url, {
            execArgv,
            workerData: {
              ...options,
              version,
              now,
              users,
              out: `${options.out}.part${part}`,
              format: 'ndjson',
            },
          })
          worker.once('message', done)
          worker.once('error', fail)
          worker.once('exit', (code) => {
            if (code !== 0)
              fail(new TrainerError('EXPORT_FAILED', `A recommend worker exited with code ${code}.`))
          })
        }),
    ),
  )
  // The parts are NDJSON; Parquet is written once from them, in order.
  if (formatOf(options.out, options.format) === 'parquet') {
    const sink = await parquetSink(options.out)
    try {
      for (let part = 0; part < parts; part++) {
        const path = `${options.out}.part${part}`
        for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity }))
          if (line.length > 0) await sink.write(JSON.parse(line) as BatchLine)
        await rm(path)
      }
    } finally {
      await sink.close()
    }
  } else {
    const out = createWriteStream(options.out)
    for (let part = 0; part < parts; part++) {
      const path = `${options.out}.part${part}`
      await pipeline(createReadStream(path), out, { end: false })
      await rm(path)
    }
    await new Promise<void>((done, fail) => out.end((error?: Error | null) => (error ? fail(error) : done())))
  }
  return {
    version,
    users: results.reduce((s, r) => s + r.users, 0),
    modelUsers: results.reduce((s, r) => s + r.modelUsers, 0),
    out: options.out,
  }
}
