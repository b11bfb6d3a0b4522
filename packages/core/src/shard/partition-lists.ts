/**
 * The inverted lists object of a partitioned version: one `partitionList` shard per partition,
 * concatenated, so one list is one ranged read. The partitions shard records where each list starts
 * (`listBytes`) and its SHA-256 (`listDigests`).
 *
 * @module
 */
import { CoreError } from '../errors.js'
import { sha256, toHex } from './checksum.js'
import { encodeShard } from './encode.js'
import type { PartitionListShardInput } from './types.js'

/** One list to encode (see {@link encodePartitionLists}). */
export type PartitionListInput = Omit<PartitionListShardInput, 'kind' | 'partition' | 'dims'>

/** The encoded lists object and the table the partitions shard records about it. */
export interface EncodedPartitionLists {
  /** The concatenated lists (each 8-byte aligned, with its own SHA-256 trailer). */
  bytes: Uint8Array
  /** Hex SHA-256 of the whole object (the manifest's `shards.partitionLists.sha256`). */
  sha256: string
  /** `lists + 1` byte offsets: list p is `bytes[listBytes[p] .. listBytes[p + 1])`. */
  listBytes: Uint32Array
  /** The SHA-256 of each list (its trailer), 32 bytes per list. */
  listDigests: Uint8Array
}

/**
 * Encodes list p of `lists` as a `partitionList` shard with `rowOffset` = p and concatenates them.
 *
 * @throws {@link CoreError} `INVALID_ARGUMENT` for a malformed list or an object over 4 GiB
 */
export async function encodePartitionLists(
  lists: readonly PartitionListInput[],
  dims: number,
): Promise<EncodedPartitionLists> {
  const encoded: Uint8Array[] = []
  const listBytes = new Uint32Array(lists.length + 1)
  const listDigests = new Uint8Array(32 * lists.length)
  let total = 0
  for (let p = 0; p < lists.length; p++) {
    const list = lists[p]!
    const { bytes } = await encodeShard(
      {
        kind: 'partitionList',
        partition: p,
        dims,
        factors: list.factors,
        scales: list.scales,
        norms: list.norms,
        itemIndexes: list.itemIndexes,
      },
      { maxBytes: 0xffffffff },
    )
    encoded.push(bytes)
    listDigests.set(bytes.subarray(bytes.length - 32), 32 * p)
    total += bytes.length
    if (total > 0xffffffff)
      throw new CoreError(
        'INVALID_ARGUMENT',
        'The partition lists exceed 4 GiB; split the catalog or use fewer dims.',
      )
    listBytes[p + 1] = total
  }
  const bytes = new Uint8Array(total)
  for (let p = 0; p < encoded.length; p++) bytes.set(encoded[p]!, listBytes[p]!)
  return { bytes, sha256: toHex(await sha256(bytes)), listBytes, listDigests }
}
