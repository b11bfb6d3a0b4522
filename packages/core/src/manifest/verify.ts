/**
 * The one integrity check of a model version, shared by every path that makes a version live (the
 * publisher, the worker's admin activate/rollback and its loader, the demo's flags): every shard
 * the manifest lists is present, exactly `bytes` long, has the listed SHA-256, decodes as the
 * listed kind, and holds the listed rows / row offset / dims. The inverted lists of a partitioned
 * version are checked whole ({@link checkShard}) or one list at a time as the worker fetches them
 * ({@link checkPartitionList}).
 *
 * @module
 */
import { isEdgerecError } from '../errors.js'
import { sha256Hex, toHex } from '../shard/checksum.js'
import { decodeShard } from '../shard/decode.js'
import { DEFAULT_MAX_SHARD_BYTES } from '../shard/format.js'
import type { DecodedShard, PartitionListShard, PartitionsShard } from '../shard/types.js'
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
  if (ref.kind === 'partitionList') return checkPartitionLists(ref, bytes, dims)
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
    ((ref.kind === 'items' || ref.kind === 'catalog') && shard.rowOffset !== ref.rowOffset)
  ) {
    return problem(
      'SHARD_INVALID',
      `Shard ${ref.key} holds ${shard.rowCount} rows × ${shard.dims} dims at offset ${shard.rowOffset}, but the manifest says ${ref.rows} rows × ${expectedDims} at ${ref.rowOffset}.`,
    )
  }
  return { ok: true, shard }
}

/**
 * The lists object of a partitioned version, whole (publish-time): its SHA-256 is the manifest's,
 * and it is exactly `ref.rows` `partitionList` shards back to back, list p with `rowOffset` p and
 * the version's dims. On success `shard` is the first list.
 */
async function checkPartitionLists(ref: ShardRef, bytes: Uint8Array, dims: number): Promise<ShardCheck> {
  const problem = (code: ShardProblemCode, message: string): ShardCheck => ({
    ok: false,
    problem: { key: ref.key, code, message: `${message} Republish the version.` },
  })
  const digest = await sha256Hex(bytes)
  if (digest !== ref.sha256)
    return problem(
      'SHARD_CHECKSUM_MISMATCH',
      `Partition lists ${ref.key} do not match the SHA-256 of the manifest (${digest}).`,
    )
  let at = 0
  let first: DecodedShard | undefined
  for (let p = 0; p < ref.rows; p++) {
    const length =
      at + 28 <= bytes.length ? new DataView(bytes.buffer, bytes.byteOffset + at, 28).getUint32(24, true) : 0
    const check = await checkList(ref.key, bytes.subarray(at, at + length), p, dims, undefined)
    if (!check.ok) return { ok: false, problem: check.problem }
    first ??= check.list
    at += length
  }
  if (at !== bytes.length || !first)
    return problem('SHARD_INVALID', `Partition lists ${ref.key} do not hold exactly ${ref.rows} lists.`)
  return { ok: true, shard: first }
}

/** Outcome of {@link checkPartitionList}. */
export type PartitionListCheck = { ok: true; list: PartitionListShard } | { ok: false; problem: ShardProblem }

async function checkList(
  key: string,
  bytes: Uint8Array,
  partition: number,
  dims: number,
  expectedSha256: string | undefined,
): Promise<PartitionListCheck> {
  const problem = (code: ShardProblemCode, message: string): PartitionListCheck => ({
    ok: false,
    problem: { key, code, message: `${message} Republish the version.` },
  })
  let list: DecodedShard
  try {
    list = await decodeShard(bytes, {
      expectedKind: 'partitionList',
      ...(expectedSha256 !== undefined ? { expectedSha256 } : {}),
      maxBytes: Math.max(DEFAULT_MAX_SHARD_BYTES, bytes.byteLength),
    })
  } catch (cause) {
    const code = isEdgerecError(cause) ? cause.code : 'INTERNAL'
    const detail = isEdgerecError(cause) ? `${cause.code}: ${cause.message}` : String(cause)
    return problem(
      code === 'SHARD_CHECKSUM_MISMATCH' ? code : 'SHARD_INVALID',
      `List ${partition} of ${key} failed verification (${detail}).`,
    )
  }
  if (list.kind !== 'partitionList' || list.rowOffset !== partition || list.dims !== dims)
    return problem(
      'SHARD_INVALID',
      `List ${partition} of ${key} is list ${list.rowOffset} with ${list.dims} dims, expected ${dims}.`,
    )
  return { ok: true, list }
}

/**
 * Checks list `partition` of a lists object, read on its own (a ranged read of
 * `[listBytes[p], listBytes[p + 1])`), against the partitions shard's table: exactly that long,
 * the SHA-256 the table records (so a list of another version fails too), partition number, dims
 * and the number of items `listOffsets` gives it. `null` bytes mean the object is missing.
 */
export async function checkPartitionList(
  key: string,
  bytes: Uint8Array | null,
  table: Pick<PartitionsShard, 'listBytes' | 'listDigests' | 'listOffsets' | 'dims'>,
  partition: number,
): Promise<PartitionListCheck> {
  const fail = (code: ShardProblemCode, message: string): PartitionListCheck => ({
    ok: false,
    problem: { key, code, message: `${message} Republish the version.` },
  })
  if (bytes === null) return fail('SHARD_MISSING', `Partition lists ${key} are missing.`)
  const length = table.listBytes[partition + 1]! - table.listBytes[partition]!
  if (bytes.byteLength !== length)
    return fail(
      'SHARD_SIZE_MISMATCH',
      `List ${partition} of ${key} is ${bytes.byteLength} bytes but the partitions table says ${length}.`,
    )
  const expected = toHex(table.listDigests.subarray(32 * partition, 32 * partition + 32))
  const check = await checkList(key, bytes, partition, table.dims, expected)
  if (!check.ok) return check
  const rows = table.listOffsets[partition + 1]! - table.listOffsets[partition]!
  if (check.list.rowCount !== rows)
    return fail(
      'SHARD_INVALID',
      `List ${partition} of ${key} holds ${check.list.rowCount} items, expected ${rows}.`,
    )
  return check
}

/** Reads a shard's bytes; `null` when the object does not exist. May throw on storage errors. */
export type ShardReader = (ref: ShardRef) => Promise<Uint8Array | null>

/** Options of {@link verifyVersionShards}. */
export interface VerifyVersionOptions {
  /** Shards read at once (each is dropped after its check). Default 4. */
  concurrency?: number
  /**
   * Reads `length` bytes at `offset` of an object (`null` when it does not exist). When given, the
   * partition lists object is checked one list at a time ({@link checkPartitionList}, against the
   * verified partitions shard's table) instead of whole, so memory stays at one list (the worker).
   */
  readRange?: (ref: ShardRef, offset: number, length: number) => Promise<Uint8Array | null>
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
  const readRange = options.readRange
  const listsRef = manifest.shards.partitionLists
  const refs = manifestShards(manifest).filter((ref) => !(readRange && ref === listsRef))
  const problems: ShardProblem[] = []
  let bytes = 0
  let next = 0
  let partitions: PartitionsShard | undefined
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
      if (check.ok) {
        bytes += ref.bytes
        if (check.shard.kind === 'partitions') partitions = check.shard
      } else problems.push(check.problem)
    }
  }
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 4))
  await Promise.all(Array.from({ length: Math.min(concurrency, refs.length) }, worker))
  if (readRange && listsRef) {
    const problem = await checkListsByRange(listsRef, partitions, readRange)
    if (problem) problems.push(problem)
    else bytes += listsRef.bytes
  }
  problems.sort((a, b) => a.key.localeCompare(b.key))
  return { problems, shards: refs.length + (readRange && listsRef ? 1 : 0), bytes }
}

/** Checks a lists object one list at a time against a verified partitions shard's table. */
async function checkListsByRange(
  ref: ShardRef,
  partitions: PartitionsShard | undefined,
  readRange: (ref: ShardRef, offset: number, length: number) => Promise<Uint8Array | null>,
): Promise<ShardProblem | undefined> {
  if (!partitions)
    return {
      key: ref.key,
      code: 'SHARD_INVALID',
      message: `Partition lists ${ref.key} cannot be checked without a valid partitions shard. Republish the version.`,
    }
  const { listBytes } = partitions
  if (listBytes[listBytes.length - 1] !== ref.bytes || partitions.rowCount !== ref.rows)
    return {
      key: ref.key,
      code: 'SHARD_SIZE_MISMATCH',
      message: `Partition lists ${ref.key} are ${ref.bytes} bytes in ${ref.rows} lists by the manifest, but the partitions table says ${listBytes[listBytes.length - 1]} in ${partitions.rowCount}. Republish the version.`,
    }
  for (let p = 0; p < partitions.rowCount; p++) {
    let data: Uint8Array | null
    try {
      data = await readRange(ref, listBytes[p]!, listBytes[p + 1]! - listBytes[p]!)
    } catch (cause) {
      return {
        key: ref.key,
        code: 'SHARD_UNREADABLE',
        message: `List ${p} of ${ref.key} could not be read: ${cause instanceof Error ? cause.message : String(cause)}. Retry; if it persists, check the storage.`,
      }
    }
    const check = await checkPartitionList(ref.key, data, partitions, p)
    if (!check.ok) return check.problem
  }
  return undefined
}
