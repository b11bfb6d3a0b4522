/**
 * Reads model objects (manifests, shards) from the worker's KV namespace and R2 bucket, and turns
 * every storage problem into a {@link ModelLoadError} with a stable code.
 *
 * @module
 */
import {
  checkShard,
  type DecodedShard,
  EdgerecError,
  LIVE_POINTER_KEY,
  type LivePointer,
  type ModelManifest,
  manifestKey,
  type ShardProblemCode,
  type ShardRef,
  VERSION_PATTERN,
  validateManifest,
} from '@edgerec/core'

/** Why a model version could not be loaded or verified. */
export const MODEL_LOAD_ERRORS = {
  POINTER_INVALID: 'POINTER_INVALID',
  MANIFEST_MISSING: 'MANIFEST_MISSING',
  MANIFEST_INVALID: 'MANIFEST_INVALID',
  SHARD_MISSING: 'SHARD_MISSING',
  SHARD_SIZE_MISMATCH: 'SHARD_SIZE_MISMATCH',
  SHARD_INVALID: 'SHARD_INVALID',
  STORAGE_UNAVAILABLE: 'STORAGE_UNAVAILABLE',
  /** The version cannot fit in `MODEL_MEMORY_MIB` next to the live one (planned before loading). */
  MODEL_TOO_LARGE: 'MODEL_TOO_LARGE',
} as const

/** A code of {@link MODEL_LOAD_ERRORS}. */
export type ModelLoadErrorCode = keyof typeof MODEL_LOAD_ERRORS

/** A model version that cannot be served: missing, corrupted or inconsistent objects. */
export class ModelLoadError extends EdgerecError<ModelLoadErrorCode> {
  /** Storage key of the object at fault, when there is one. */
  readonly key: string | undefined

  constructor(code: ModelLoadErrorCode, message: string, options?: { key?: string; cause?: unknown }) {
    super(code, message, options)
    this.name = 'ModelLoadError'
    this.key = options?.key
  }
}

/** The storage bindings a model is read from. */
export interface ModelBindings {
  MODELS_KV: KVNamespace
  MODELS_R2: R2Bucket
}

async function guarded<T>(key: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read()
  } catch (cause) {
    throw new ModelLoadError(
      'STORAGE_UNAVAILABLE',
      `Reading ${key} failed: ${cause instanceof Error ? cause.message : String(cause)}. It is retried after a backoff.`,
      { key, cause },
    )
  }
}

/** Reads and checks the live pointer; `null` when no version was ever activated. */
export async function readLivePointer(bindings: ModelBindings): Promise<LivePointer | null> {
  const raw = await guarded(LIVE_POINTER_KEY, () => bindings.MODELS_KV.get(LIVE_POINTER_KEY, 'text'))
  if (raw === null) return null
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch (cause) {
    throw new ModelLoadError(
      'POINTER_INVALID',
      `${LIVE_POINTER_KEY} is not JSON. Activate a version again.`,
      {
        key: LIVE_POINTER_KEY,
        cause,
      },
    )
  }
  const p = parsed as Partial<LivePointer> | null
  if (!p || typeof p.version !== 'string' || !VERSION_PATTERN.test(p.version)) {
    throw new ModelLoadError(
      'POINTER_INVALID',
      `${LIVE_POINTER_KEY} does not name a valid version. Activate a version again.`,
      {
        key: LIVE_POINTER_KEY,
      },
    )
  }
  const pointer: LivePointer = {
    version: p.version,
    activatedAt: typeof p.activatedAt === 'string' ? p.activatedAt : '',
  }
  if (typeof p.previous === 'string' && VERSION_PATTERN.test(p.previous)) pointer.previous = p.previous
  return pointer
}

/** Writes the live pointer (the last step of publishing or activating). */
export async function writeLivePointer(bindings: ModelBindings, pointer: LivePointer): Promise<void> {
  await guarded(LIVE_POINTER_KEY, () => bindings.MODELS_KV.put(LIVE_POINTER_KEY, JSON.stringify(pointer)))
}

/**
 * Reads and validates the manifest of `version`: from KV first (fast, replicated), from R2 when KV
 * does not hold it.
 *
 * @throws {@link ModelLoadError} `MANIFEST_MISSING` or `MANIFEST_INVALID`
 */
export async function readManifest(bindings: ModelBindings, version: string): Promise<ModelManifest> {
  const key = manifestKey(version)
  let raw = await guarded(key, () => bindings.MODELS_KV.get(key, 'text'))
  if (raw === null) {
    const object = await guarded(key, () => bindings.MODELS_R2.get(key))
    raw = object ? await guarded(key, () => object.text()) : null
  }
  if (raw === null) {
    throw new ModelLoadError(
      'MANIFEST_MISSING',
      `Version ${version} has no manifest at ${key}. Publish the version first.`,
      { key },
    )
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch (cause) {
    throw new ModelLoadError('MANIFEST_INVALID', `${key} is not JSON. Republish the version.`, { key, cause })
  }
  const result = validateManifest(parsed)
  if (!result.ok) {
    throw new ModelLoadError(
      'MANIFEST_INVALID',
      `${key} is not a valid manifest: ${result.errors.join(' ')} Republish the version.`,
      {
        key,
      },
    )
  }
  if (result.manifest.version !== version) {
    throw new ModelLoadError(
      'MANIFEST_INVALID',
      `${key} names version ${result.manifest.version}, not ${version}. Republish the version.`,
      { key },
    )
  }
  return result.manifest
}

/** Reads the raw bytes of one shard from the storage its ref names; `null` when absent. */
export async function readShardObject(bindings: ModelBindings, ref: ShardRef): Promise<Uint8Array | null> {
  if (ref.storage === 'kv') {
    const buffer = await guarded(ref.key, () => bindings.MODELS_KV.get(ref.key, 'arrayBuffer'))
    return buffer === null ? null : new Uint8Array(buffer)
  }
  const object = await guarded(ref.key, () => bindings.MODELS_R2.get(ref.key))
  return object ? new Uint8Array(await guarded(ref.key, () => object.arrayBuffer())) : null
}

/** The load error of a shard problem found by core's `checkShard`. */
const PROBLEM_CODES: Record<ShardProblemCode, ModelLoadErrorCode> = {
  SHARD_MISSING: 'SHARD_MISSING',
  SHARD_UNREADABLE: 'STORAGE_UNAVAILABLE',
  SHARD_SIZE_MISMATCH: 'SHARD_SIZE_MISMATCH',
  SHARD_CHECKSUM_MISMATCH: 'SHARD_INVALID',
  SHARD_INVALID: 'SHARD_INVALID',
}

/**
 * Reads a shard and verifies it with core's `checkShard` (present, size, SHA-256 against the
 * manifest, kind, rows / row offset / dims), the same check admin activation and the publisher run.
 *
 * @throws {@link ModelLoadError} on any mismatch; never returns a partially valid shard
 */
export async function loadShard<K extends DecodedShard['kind']>(
  bindings: ModelBindings,
  ref: ShardRef,
  kind: K,
  dims: number,
): Promise<Extract<DecodedShard, { kind: K }>> {
  const bytes = await readShardObject(bindings, ref)
  const check = await checkShard({ ...ref, kind }, bytes, dims)
  if (!check.ok) {
    throw new ModelLoadError(PROBLEM_CODES[check.problem.code], check.problem.message, { key: ref.key })
  }
  return check.shard as Extract<DecodedShard, { kind: K }>
}
