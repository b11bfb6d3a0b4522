/**
 * The one integrity check of a model version, shared by every path that makes a version live (the
 * publisher, the worker's admin activate/rollback and its loader, the demo's flags): every shard
 * the manifest lists is present, exactly `bytes` long, has the listed SHA-256, decodes as the
 * listed kind, and holds the listed rows / row offset / dims.
 *
 * @module
 */
import { isEdgerecError } from '../errors.js'
import { decodeShard } from '../shard/decode.js'
import { DEFAULT_MAX_SHARD_BYTES } from '../shard/format.js'
import type { DecodedShard } from '../shard/types.js'
import { type ModelManifest, manifestShards, type ShardRef } from './manifest.js'

/** Why one shard of a version cannot be served. */
export type ShardProblemCode =
  | 'SHARD_MISSING'
  | 'SHARD_UNREADABLE'
  | 'SHARD_SIZE_MISMATCH'
  | 'SHARD_CHECKSUM_MISMATCH'
  | 'SHARD_INVALID'

/** One object of a version that is missing or wrong. */
export interface ShardProblem {
  key: string
  code: ShardProblemCode
  message: string
}

/** Outcome of {@link checkShard}. */
export type ShardCheck = { ok: true; shard: DecodedShard } | { ok: false; problem: ShardProblem }

/**
 * Checks one shard's bytes against its manifest entry: size, SHA-256 (of the bytes before the
 * trailer, which must equal the trailer), kind, and rows / row offset / dims (`dims` is the
 * manifest's; popularity shards have 0). `null` bytes mean the object is missing.
 *
 * @example
 * ```ts
 * const check = await checkShard(ref, await storage.get(ref.key), manifest.dims)
 * if (!check.ok) console.error(check.problem.message)
 * ```
 */
export async function checkShard(ref: ShardRef, bytes: Uint8Array | null, dims: number): Promise<ShardCheck> {
  const problem = (code: ShardProblemCode, message: string): ShardCheck => ({
    ok: false,
    problem: { key: ref.key, code, message: `${message} Republish the version.` },
  })
  if (bytes === null) return problem('SHARD_MISSING', `Shard ${ref.key} is missing.`)
  if (bytes.byteLength !== ref.bytes) {
    return problem(
      'SHARD_SIZE_MISMATCH',
      `Shard ${ref.key} is ${bytes.byteLength} bytes but the manifest says ${ref.bytes}.`,
    )
  }
  let shard: DecodedShard
  try {
    shard = await decodeShard(bytes, {
      expectedKind: ref.kind,
      expectedSha256: ref.sha256,
      maxBytes: Math.max(DEFAULT_MAX_SHARD_BYTES, ref.bytes),
    })
  } catch (cause) {
    const code = isEdgerecError(cause) ? cause.code : 'INTERNAL'
    const detail = isEdgerecError(cause) ? `${cause.code}: ${cause.message}` : String(cause)
    if (code === 'SHARD_CHECKSUM_MISMATCH')
      return problem(code, `Shard ${ref.key} does not match the SHA-256 of the manifest (${detail}).`)
    return problem('SHARD_INVALID', `Shard ${ref.key} failed verification (${detail}).`)
  }
  const expectedDims = ref.kind === 'popularity' || ref.kind === 'catalog' ? 0 : dims
  if (
    shard.rowCount !== ref.rows ||
    shard.dims !== expectedDims ||
    (ref.kind === 'items' && shard.rowOffset !== ref.rowOffset)
  ) {
    return problem(
      'SHARD_INVALID',
      `Shard ${ref.key} holds ${shard.rowCount} rows × ${shard.dims} dims at offset ${shard.rowOffset}, but the manifest says ${ref.rows} rows × ${expectedDims} at ${ref.rowOffset}.`,
    )
  }
  return { ok: true, shard }
}

/** Reads a shard's bytes; `null` when the object does not exist. May throw on storage errors. */
export type ShardReader = (ref: ShardRef) => Promise<Uint8Array | null>

/** Options of {@link verifyVersionShards}. */
export interface VerifyVersionOptions {
  /** Shards read at once (each is dropped after its check). Default 4. */
  concurrency?: number
}

/** Result of {@link verifyVersionShards}. */
export interface VersionVerification {
  /** Empty when the version is complete and intact; sorted by key. */
  problems: ShardProblem[]
  /** Shards checked. */
  shards: number
  /** Bytes read and hashed. */
  bytes: number
}

/**
 * Verifies every shard of `manifest` with {@link checkShard}, reading through `read` at most
 * `concurrency` at a time. A reader that throws is reported as `SHARD_UNREADABLE` (not thrown), so
 * the caller gets every problem at once. A version may go live only when `problems` is empty.
 *
 * @example
 * ```ts
 * const result = await verifyVersionShards(manifest, async (ref) => (await storage.get(ref.key)) ?? null)
 * if (result.problems.length > 0) throw new Error(result.problems.map((p) => p.message).join(' '))
 * ```
 */
export async function verifyVersionShards(
  manifest: ModelManifest,
  read: ShardReader,
  options: VerifyVersionOptions = {},
): Promise<VersionVerification> {
  const refs = manifestShards(manifest)
  const problems: ShardProblem[] = []
  let bytes = 0
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < refs.length) {
      const ref = refs[next++]!
      let data: Uint8Array | null
      try {
        data = await read(ref)
      } catch (cause) {
        problems.push({
          key: ref.key,
          code: 'SHARD_UNREADABLE',
          message: `Shard ${ref.key} could not be read: ${cause instanceof Error ? cause.message : String(cause)}. Retry; if it persists, check the storage.`,
        })
        continue
      }
      const check = await checkShard(ref, data, manifest.dims)
      if (check.ok) bytes += ref.bytes
      else problems.push(check.problem)
    }
  }
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 4))
  await Promise.all(Array.from({ length: Math.min(concurrency, refs.length) }, worker))
  problems.sort((a, b) => a.key.localeCompare(b.key))
  return { problems, shards: refs.length, bytes }
}
