/**
 * Stable 32-bit hash of ids (FNV-1a over UTF-8), used to bucket users into user shards.
 * Every implementation (trainer, worker, other languages) must compute the same value.
 *
 * @module
 */

import { CoreError } from './errors.js'

const encoder = new TextEncoder()

/**
 * FNV-1a, 32-bit, over the UTF-8 bytes of `id`.
 *
 * @example
 * ```ts
 * stableHash32('user-42') % manifest.userBuckets
 * ```
 */
export function stableHash32(id: string): number {
  let hash = 0x811c9dc5
  const bytes = encoder.encode(id)
  for (let i = 0; i < bytes.length; i++) {
    hash ^= bytes[i]!
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

/**
 * The user bucket of `userId` among `bucketCount` buckets: `stableHash32(userId) % bucketCount`.
 *
 * @throws {@link CoreError} `INVALID_ARGUMENT` unless `bucketCount` is a positive integer
 */
export function userBucket(userId: string, bucketCount: number): number {
  if (!Number.isInteger(bucketCount) || bucketCount < 1) {
    throw new CoreError(
      'INVALID_ARGUMENT',
      `bucketCount must be a positive integer, got ${bucketCount}. Check manifest.userBuckets.`,
    )
  }
  return stableHash32(userId) % bucketCount
}
