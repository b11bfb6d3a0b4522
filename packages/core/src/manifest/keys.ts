/**
 * Storage keys of model versions, identical on every storage backend.
 *
 * @module
 */

/** The KV key naming the live version (value: JSON `LivePointer`). */
export const LIVE_POINTER_KEY = 'models/live'

/** Prefix of every object of a version. */
export function versionPrefix(version: string): string {
  return `models/${version}/`
}

/** Key of a version's manifest. */
export function manifestKey(version: string): string {
  return `${versionPrefix(version)}manifest.json`
}

/** Key of item shard `index`. */
export function itemShardKey(version: string, index: number): string {
  return `${versionPrefix(version)}items-${String(index).padStart(3, '0')}.shard`
}

/** Key of catalog shard `index` (versions whose catalog is split; older ones have `catalog.shard`). */
export function catalogShardKey(version: string, index: number): string {
  return `${versionPrefix(version)}catalog-${String(index).padStart(3, '0')}.shard`
}

/** Key of user bucket `bucket`. */
export function userShardKey(version: string, bucket: number): string {
  return `${versionPrefix(version)}users-${String(bucket).padStart(4, '0')}.shard`
}

/** Key of the popularity, trending or gram shard. */
export function singleShardKey(
  version: string,
  name: 'popularity' | 'trending' | 'gram' | 'catalog' | 'partitions',
): string {
  return `${versionPrefix(version)}${name}.shard`
}

/** Key of the partition lists object of a partitioned version (one ranged read per list). */
export function partitionListsKey(version: string): string {
  return `${versionPrefix(version)}partition-lists.shards`
}

/**
 * A new version id that sorts by time: `YYYYMMDDTHHMMSSZ-<8 hex>`.
 */
export function newVersionId(now: Date = new Date(), random: () => number = Math.random): string {
  const iso = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
  const suffix = Math.floor(random() * 0xffffffff)
    .toString(16)
    .padStart(8, '0')
  return `${iso}-${suffix}`
}
