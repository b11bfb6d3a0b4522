import {
  checkShard,
  checkSwapMemory,
  DEFAULT_MODEL_MEMORY_BUDGET_BYTES,
  DEFAULT_USER_CACHE_BYTES,
  LIVE_POINTER_KEY,
  type LivePointer,
  type ModelManifest,
  manifestKey,
  manifestShards,
  parseManifest,
  planModelMemory,
  type ShardProblem,
  type ShardRef,
  type ShardStorage,
  VERSION_PATTERN,
  verifyVersionShards,
  versionPrefix,
} from '@edgerec/core'
import { AdapterError } from '../errors.js'
import { listAll, type Storage } from '../storage/storage.js'
import { type RetryOptions, withRetry } from './retry.js'

/**
 * Where the edge worker reads models from: shard objects (R2, binding `MODELS_R2`) and manifests +
 * the live pointer (KV, binding `MODELS_KV`), under the keys of `docs/architecture.md`.
 */
export interface PublishTarget {
  /** For messages, e.g. `cloudflare` or `local (wrangler dev state at …)`. */
  readonly name: string
  /** Shards and a copy of each manifest (R2). */
  readonly objects: Storage
  /** Manifests and `models/live` (KV). */
  readonly pointers: Storage
  /** What the published manifest's `ShardRef.storage` says. */
  readonly shardStorage: ShardStorage
  /** Releases resources (local Miniflare). */
  close?(): Promise<void>
}

/** Versions kept by default (the live and previous versions are always kept on top). */
export const DEFAULT_KEEP_VERSIONS = 5

/** Options of {@link publishVersion}. */
export interface PublishOptions {
  /** The model registry the trainer wrote the version to. */
  source: Storage
  version: string
  target: PublishTarget
  /** Versions to keep on the target (newest first); older ones are deleted. Default 5. */
  keep?: number
  /** Parallel shard uploads. Default 4. */
  concurrency?: number
  /** Backoff on throttling. */
  retry?: RetryOptions
  /** After each shard upload. */
  onProgress?: (progress: { shardsDone: number; shards: number; bytesDone: number; bytes: number }) => void
  /** Clock (tests). */
  now?: () => Date
  /**
   * Publish even when the version's quality gate failed (manifest `gate.passed` false and not
   * `forced`). Default false: such a version is refused with `GATE_FAILED`.
   */
  force?: boolean
  /**
   * The edge worker's memory: refuse, before uploading, a version that cannot load next to the
   * live one within `budgetBytes` (the worker's `MODEL_MEMORY_MIB`, default 96 MiB) with a user
   * cache of `userCacheBytes` (`USER_CACHE_MIB`, default 16 MiB) and, for partitioned versions, a
   * list cache of `partitionCacheBytes` (`PARTITION_CACHE_MIB`, default 8 MiB). `false` skips it.
   */
  memory?: { budgetBytes?: number; userCacheBytes?: number; partitionCacheBytes?: number } | false
}

/** What {@link publishVersion} did. */
export interface PublishReport {
  version: string
  shards: number
  bytes: number
  pointer: LivePointer
  /** Versions deleted by the keep-last-N rule. */
  pruned: string[]
  /** Non-fatal problems (a prune that failed). */
  warnings: string[]
  durationMs: number
}

const decoder = new TextDecoder()
const encoder = new TextEncoder()

function publishError(message: string, cause?: unknown): AdapterError {
  return new AdapterError('PUBLISH_FAILED', message, cause === undefined ? undefined : { cause })
}

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(decoder.decode(bytes))
  } catch (cause) {
    throw publishError(`${what} is not valid JSON. Re-export the version or restore the key.`, cause)
  }
}

/** Reads `models/live` from a target; `undefined` when nothing was published yet. */
export async function readLivePointer(target: PublishTarget): Promise<LivePointer | undefined> {
  const bytes = await target.pointers.get(LIVE_POINTER_KEY)
  if (!bytes) return undefined
  const value = parseJson(bytes, `${LIVE_POINTER_KEY} on ${target.name}`) as Partial<LivePointer>
  if (typeof value.version !== 'string' || typeof value.activatedAt !== 'string') {
    throw publishError(
      `${LIVE_POINTER_KEY} on ${target.name} is not a LivePointer {version, activatedAt, previous?}. Activate a version to rewrite it.`,
    )
  }
  return value as LivePointer
}

/** Reads a version's manifest from a storage, or `undefined` when the key is absent. */
async function readManifest(
  storage: Storage,
  version: string,
  where: string,
): Promise<ModelManifest | undefined> {
  const bytes = await storage.get(manifestKey(version))
  if (!bytes) return undefined
  try {
    return parseManifest(parseJson(bytes, `${manifestKey(version)} in ${where}`))
  } catch (cause) {
    if (cause instanceof AdapterError) throw cause
    throw publishError(
      `${manifestKey(version)} in ${where} is not a valid manifest: ${(cause as Error).message}`,
      cause,
    )
  }
}

/**
 * Refuses a version whose planned memory (core's `planModelMemory`) cannot fit next to the version
 * live on `target` within the worker's budget: during a swap an isolate holds both.
 *
 * @throws {@link AdapterError} `MODEL_TOO_LARGE`
 */
async function checkMemory(
  manifest: ModelManifest,
  target: PublishTarget,
  memory: { budgetBytes?: number; userCacheBytes?: number; partitionCacheBytes?: number },
): Promise<void> {
  const settings = {
    userCacheBytes: memory.userCacheBytes ?? DEFAULT_USER_CACHE_BYTES,
    ...(memory.partitionCacheBytes !== undefined ? { partitionCacheBytes: memory.partitionCacheBytes } : {}),
  }
  const current = await readLivePointer(target)
  const liveManifest =
    current && current.version !== manifest.version
      ? await readManifest(target.pointers, current.version, target.name)
      : undefined
  const check = checkSwapMemory(
    { version: manifest.version, plan: planModelMemory(manifest, settings) },
    liveManifest
      ? { version: liveManifest.version, plan: planModelMemory(liveManifest, settings) }
      : undefined,
    memory.budgetBytes ?? DEFAULT_MODEL_MEMORY_BUDGET_BYTES,
  )
  if (!check.fits) {
    throw new AdapterError(
      'MODEL_TOO_LARGE',
      `${check.message} Nothing was uploaded; the live pointer is unchanged. (Publish options memoryBudgetMiB / userCacheMiB / partitionCacheMiB must match the worker's MODEL_MEMORY_MIB / USER_CACHE_MIB / PARTITION_CACHE_MIB.)`,
    )
  }
}

/**
 * Verifies a shard's bytes against its manifest entry with core's `checkShard` (size, SHA-256,
 * kind, shape): the same check the worker and every activation path run.
 */
async function verifyShard(ref: ShardRef, bytes: Uint8Array, dims: number, where: string): Promise<void> {
  const check = await checkShard(ref, bytes, dims)
  if (!check.ok) {
    throw publishError(
      `${check.problem.message.replace(/ Republish the version\.$/, '')} (in ${where}). The version is corrupt: re-export it.`,
    )
  }
}

/** Result of {@link verifyPublished}. */
export interface PublishedCheck {
  /** The manifest on the target, or undefined when there is none. */
  manifest: ModelManifest | undefined
  /** Every shard that is missing or wrong on the target (empty: the version may go live). */
  problems: ShardProblem[]
  shards: number
  bytes: number
}

/**
 * Reads every shard of `version` back from the target and verifies it with core's
 * `verifyVersionShards` (present, size, SHA-256, kind, shape). Every path of this package that
 * makes a version live (publish, activate, rollback, and so the demo's flags) calls it first.
 */
export async function verifyPublished(
  target: PublishTarget,
  version: string,
  options: { concurrency?: number } = {},
): Promise<PublishedCheck> {
  const manifest = await readManifest(target.pointers, version, target.name)
  if (!manifest) return { manifest, problems: [], shards: 0, bytes: 0 }
  const result = await verifyVersionShards(
    manifest,
    async (ref) => (await target.objects.get(ref.key)) ?? null,
    options,
  )
  return { manifest, ...result }
}

/** Throws PRECONDITION_FAILED unless {@link verifyPublished} found the version complete and intact. */
async function requireIntact(target: PublishTarget, version: string, action: string): Promise<void> {
  const check = await verifyPublished(target, version)
  if (!check.manifest) {
    throw new AdapterError(
      'PRECONDITION_FAILED',
      `Version ${version} has no manifest on ${target.name}, so it cannot be ${action}. Publish it first.`,
    )
  }
  if (check.problems.length > 0) {
    throw new AdapterError(
      'PRECONDITION_FAILED',
      `Version ${version} on ${target.name} is incomplete or corrupted (${check.problems.length} of ${check.shards} shards failed: ${check.problems.map((p) => `${p.key} ${p.code}`).join(', ')}), so it was not ${action}; the live pointer is unchanged. Publish it again.`,
    )
  }
}

/**
 * True when the target holds the version completely: its manifest is in `pointers` and every
 * shard it lists is in `objects` with the listed size.
 */
export async function isPublished(target: PublishTarget, version: string): Promise<boolean> {
  const manifest = await readManifest(target.pointers, version, target.name)
  if (!manifest) return false
  for (const ref of manifestShards(manifest)) {
    const info = await target.objects.head(ref.key)
    if (!info || info.size !== ref.bytes) return false
  }
  return true
}

async function mapLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0
  let failed = false
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++]!
      try {
        await fn(item)
      } catch (error) {
        failed = true
        throw error
      }
    }
  }
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker))
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (rejected) throw rejected.reason
}

async function writePointer(
  target: PublishTarget,
  pointer: LivePointer,
  retry?: RetryOptions,
): Promise<void> {
  const body = encoder.encode(JSON.stringify(pointer))
  await withRetry(
    () => target.pointers.put(LIVE_POINTER_KEY, body, { contentType: 'application/json' }),
    retry,
  )
}

/**
 * Publishes a trained version from a model registry to where the edge worker reads it.
 *
 * A version whose quality gate failed (manifest `gate`) is refused with `GATE_FAILED` unless
 * `force` is set or the trainer recorded it as forced.
 *
 * Order (docs/architecture.md): every shard (verified against the manifest's size and SHA-256,
 * before and after upload) → the manifest (to R2 and KV) → `models/live` last. A failure before
 * the pointer flip deletes what this call uploaded and leaves the pointer unchanged, so the worker
 * never sees a half-published version. Throttled calls are retried with exponential backoff.
 * Then versions beyond the newest `keep` are deleted (never the live or previous one).
 *
 * @example
 * ```ts
 * const target = await openLocalPublishTarget()            // the wrangler dev state
 * const report = await publishVersion({ source: registry, version, target })
 * await target.close?.()
 * ```
 */
export async function publishVersion(options: PublishOptions): Promise<PublishReport> {
  const started = performance.now()
  const { source, version, target } = options
  const now = options.now ?? (() => new Date())
  if (!VERSION_PATTERN.test(version)) {
    throw new AdapterError(
      'CONFIG_INVALID',
      `Version ${JSON.stringify(version)} is not a valid version id ([A-Za-z0-9][A-Za-z0-9._-]{0,127}).`,
    )
  }
  const manifest = await readManifest(source, version, `source ${source.provider}`)
  if (!manifest) {
    throw new AdapterError(
      'NOT_FOUND',
      `Version ${version} has no manifest in the source ${source.provider} storage, so it is missing or incomplete. Train it again or pick a complete version.`,
    )
  }
  if (manifest.version !== version) {
    throw publishError(`${manifestKey(version)} names version ${manifest.version}. Re-export the version.`)
  }
  if (manifest.gate && !manifest.gate.passed && !manifest.gate.forced && options.force !== true) {
    throw new AdapterError(
      'GATE_FAILED',
      `Version ${version} failed its quality gate (${manifest.gate.reasons.join('; ')}), so it is not published and the live version stays. Train a better model, or publish with force (edgerec-train --force) to override.`,
    )
  }
  if (options.memory !== false) await checkMemory(manifest, target, options.memory ?? {})
  const refs = manifestShards(manifest)
  const totalBytes = refs.reduce((sum, ref) => sum + ref.bytes, 0)
  // Republishing a complete version rewrites identical bytes; it must never be cleaned up on failure.
  const alreadyPublished = await isPublished(target, version)
  const uploaded = new Set<string>()
  let shardsDone = 0
  let bytesDone = 0
  try {
    await mapLimit(refs, options.concurrency ?? 4, async (ref) => {
      const bytes = await withRetry(() => source.get(ref.key), options.retry)
      if (!bytes) {
        throw publishError(
          `${ref.key} is listed in the manifest but missing in the source. Re-export version ${version}.`,
        )
      }
      await verifyShard(ref, bytes, manifest.dims, `source ${source.provider}`)
      uploaded.add(ref.key)
      await withRetry(
        () => target.objects.put(ref.key, bytes, { contentType: 'application/vnd.edgerec.shard' }),
        options.retry,
      )
      const info = await withRetry(() => target.objects.head(ref.key), options.retry)
      if (!info || info.size !== ref.bytes) {
        throw publishError(
          `${ref.key} on ${target.name} has ${info?.size ?? 'no'} bytes after upload, expected ${ref.bytes}. Publish again.`,
        )
      }
      shardsDone++
      bytesDone += ref.bytes
      options.onProgress?.({ shardsDone, shards: refs.length, bytesDone, bytes: totalBytes })
    })
    const published: ModelManifest = {
      ...manifest,
      shards: {
        // Partition refs (and anything else listed) are kept as exported (their lists are R2 objects).
        ...manifest.shards,
        items: manifest.shards.items.map((ref) => ({ ...ref, storage: target.shardStorage })),
        users: manifest.shards.users.map((ref) => ({ ...ref, storage: target.shardStorage })),
        popularity: { ...manifest.shards.popularity, storage: target.shardStorage },
        gram: { ...manifest.shards.gram, storage: target.shardStorage },
      },
    }
    if (manifest.shards.trending)
      published.shards.trending = { ...manifest.shards.trending, storage: target.shardStorage }
    const catalog = manifest.shards.catalog
    if (Array.isArray(catalog))
      published.shards.catalog = catalog.map((ref) => ({ ...ref, storage: target.shardStorage }))
    else if (catalog) published.shards.catalog = { ...catalog, storage: target.shardStorage }
    const manifestBytes = encoder.encode(JSON.stringify(published))
    uploaded.add(manifestKey(version))
    await withRetry(
      () => target.objects.put(manifestKey(version), manifestBytes, { contentType: 'application/json' }),
      options.retry,
    )
    await withRetry(
      () => target.pointers.put(manifestKey(version), manifestBytes, { contentType: 'application/json' }),
      options.retry,
    )
    // Read every shard back from the target and verify it (core's check) before the pointer flips.
    await requireIntact(target, version, 'made live')
  } catch (error) {
    if (!alreadyPublished) await removeKeys(target, [...uploaded])
    throw publishError(
      `Publishing ${version} to ${target.name} failed and was rolled back (the live pointer is unchanged): ${(error as Error).message}. Fix the cause and publish again.`,
      error,
    )
  }

  const current = await readLivePointer(target)
  const pointer: LivePointer = { version, activatedAt: now().toISOString() }
  const previous = current?.version === version ? current.previous : current?.version
  if (previous !== undefined) pointer.previous = previous
  await writePointer(target, pointer, options.retry)

  const warnings: string[] = []
  let pruned: string[] = []
  try {
    pruned = await pruneVersions(target, options.keep ?? DEFAULT_KEEP_VERSIONS, pointer)
  } catch (error) {
    warnings.push(`Pruning old versions on ${target.name} failed: ${(error as Error).message}`)
  }
  return {
    version,
    shards: refs.length,
    bytes: totalBytes,
    pointer,
    pruned,
    warnings,
    durationMs: performance.now() - started,
  }
}

/** Deletes keys, manifests first so a version turns incomplete before its shards vanish. Best effort. */
async function removeKeys(target: PublishTarget, keys: string[]): Promise<void> {
  const manifests = keys.filter((k) => k.endsWith('/manifest.json'))
  for (const key of manifests) {
    await target.pointers.delete(key).catch(() => undefined)
    await target.objects.delete(key).catch(() => undefined)
  }
  for (const key of keys)
    if (!key.endsWith('/manifest.json')) await target.objects.delete(key).catch(() => undefined)
}

/** Complete versions on a target (manifest in `pointers`), oldest first by `createdAt`. */
export async function listPublishedVersions(
  target: PublishTarget,
): Promise<Array<{ version: string; createdAt: string }>> {
  const out: Array<{ version: string; createdAt: string }> = []
  for (const object of await listAll(target.pointers, 'models/')) {
    const match = /^models\/([^/]+)\/manifest\.json$/.exec(object.key)
    if (!match) continue
    const bytes = await target.pointers.get(object.key)
    if (!bytes) continue
    const createdAt = (parseJson(bytes, object.key) as { createdAt?: unknown }).createdAt
    out.push({ version: match[1]!, createdAt: typeof createdAt === 'string' ? createdAt : '' })
  }
  return out.sort(
    (a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || (a.version < b.version ? -1 : 1),
  )
}

/**
 * Deletes every complete version but the newest `keep`, the live one and the previous one.
 * Returns the deleted versions. Incomplete leftovers are not touched (a publish may be running).
 */
export async function pruneVersions(
  target: PublishTarget,
  keep: number,
  pointer?: LivePointer,
): Promise<string[]> {
  if (!Number.isInteger(keep) || keep < 1) {
    throw new AdapterError('CONFIG_INVALID', `keep must be a positive integer; got ${keep}.`)
  }
  const live = pointer ?? (await readLivePointer(target))
  const protectedVersions = new Set(
    [live?.version, live?.previous].filter((v): v is string => v !== undefined),
  )
  const versions = await listPublishedVersions(target)
  const newest = new Set(versions.slice(-keep).map((v) => v.version))
  const doomed = versions.map((v) => v.version).filter((v) => !newest.has(v) && !protectedVersions.has(v))
  for (const version of doomed) {
    await target.pointers.delete(manifestKey(version))
    await target.objects.delete(manifestKey(version))
    for (const object of await listAll(target.objects, versionPrefix(version)))
      await target.objects.delete(object.key)
  }
  return doomed
}

/**
 * Makes a published version live (after checking it is complete on the target), keeping the
 * current one as `previous`.
 */
export async function activateVersion(options: {
  target: PublishTarget
  version: string
  retry?: RetryOptions
  now?: () => Date
}): Promise<LivePointer> {
  const { target, version } = options
  await requireIntact(target, version, 'activated')
  const current = await readLivePointer(target)
  const pointer: LivePointer = { version, activatedAt: (options.now?.() ?? new Date()).toISOString() }
  const previous = current?.version === version ? current.previous : current?.version
  if (previous !== undefined) pointer.previous = previous
  await writePointer(target, pointer, options.retry)
  return pointer
}

/**
 * Flips `models/live` back to the previous version (which must still be complete). The version
 * that was live becomes `previous`, so a second rollback flips forward again.
 */
export async function rollback(options: {
  target: PublishTarget
  retry?: RetryOptions
  now?: () => Date
}): Promise<LivePointer> {
  const { target } = options
  const current = await readLivePointer(target)
  if (!current) {
    throw new AdapterError(
      'NOT_FOUND',
      `Nothing is live on ${target.name}, so there is nothing to roll back. Publish a version first.`,
    )
  }
  if (!current.previous) {
    throw new AdapterError(
      'PRECONDITION_FAILED',
      `${current.version} is live on ${target.name} and no previous version is recorded. Activate a specific version instead.`,
    )
  }
  return activateVersion({ ...options, version: current.previous })
}
