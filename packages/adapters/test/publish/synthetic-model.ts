/**
 * Builds a complete model version with core's shard encoder (random factors, deterministic by seed)
 * and writes it to a Storage the way the trainer's export does: shards first, manifest last.
 * Used by the publisher tests and benchmark until they switch to the trainer's export.
 */
import {
  CatalogTable,
  catalogShardKey,
  encodeCatalogColumns,
  encodeShard,
  itemShardKey,
  type ModelManifest,
  manifestKey,
  planItemShards,
  quantizeRows,
  type ShardRef,
  singleShardKey,
  splitCatalog,
  userBucket,
  userShardKey,
} from '@edgerec/core'
import type { Storage } from '../../src/storage/storage.js'

/** What to build. */
export interface SyntheticModelOptions {
  version: string
  items: number
  users: number
  dims: number
  userBuckets?: number
  /** Prefix of item ids, so two versions can be told apart (`<prefix>-<n>`). */
  itemPrefix?: string
  createdAt?: Date
  seed?: number
  /** Max bytes per item shard (default: core's 24 MiB). */
  maxShardBytes?: number
  /** Splits the catalog as the trainer does, in shards of at most this many bytes (default: one `catalog.shard`). */
  catalogShardBytes?: number
}

/** A small deterministic PRNG (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Encodes a version and writes it to `storage`; returns its manifest. */
export async function writeSyntheticVersion(
  storage: Storage,
  options: SyntheticModelOptions,
): Promise<ModelManifest> {
  const { version, items, users, dims } = options
  const rand = random(options.seed ?? 1)
  const buckets = options.userBuckets ?? 2
  const itemIds = Array.from({ length: items }, (_, i) => `${options.itemPrefix ?? 'item'}-${i}`)
  const itemFactors = new Float32Array(items * dims).map(() => rand() * 2 - 1)
  const refs: { items: ShardRef[]; users: ShardRef[] } = { items: [], users: [] }
  const put = async (
    key: string,
    kind: ShardRef['kind'],
    bytes: Uint8Array,
    sha256: string,
    rows: number,
    rowOffset: number,
  ) => {
    await storage.put(key, bytes)
    return { key, kind, bytes: bytes.length, sha256, rows, rowOffset, storage: 'r2' } satisfies ShardRef
  }
  const ranges = planItemShards(itemIds, dims, options.maxShardBytes)
  for (const [index, { start, end }] of ranges.entries()) {
    const factors = quantizeRows(itemFactors.subarray(start * dims, end * dims), end - start, dims)
    const shard = await encodeShard({
      kind: 'items',
      rowOffset: start,
      factors,
      ids: itemIds.slice(start, end),
    })
    refs.items.push(
      await put(itemShardKey(version, index), 'items', shard.bytes, shard.sha256, end - start, start),
    )
  }
  const userIds = Array.from({ length: users }, (_, u) => `user-${u}`)
  for (let bucket = 0; bucket < buckets; bucket++) {
    const ids = userIds.filter((id) => userBucket(id, buckets) === bucket)
    const factors = quantizeRows(
      new Float32Array(ids.length * dims).map(() => rand() * 2 - 1),
      ids.length,
      dims,
    )
    const offsets = new Uint32Array(ids.length + 1)
    const seen: number[] = []
    for (let r = 0; r < ids.length; r++) {
      seen.push(Math.floor(rand() * items), Math.floor(rand() * items))
      offsets[r + 1] = seen.length
    }
    const shard = await encodeShard({
      kind: 'users',
      factors,
      ids,
      interactions: {
        offsets,
        items: Uint32Array.from(seen),
        confidences: new Float32Array(seen.length).fill(1),
      },
    })
    refs.users.push(
      await put(userShardKey(version, bucket), 'users', shard.bytes, shard.sha256, ids.length, 0),
    )
  }
  const order = Uint32Array.from({ length: items }, (_, i) => i)
  const popularity = await encodeShard({
    kind: 'popularity',
    itemIndexes: order,
    scores: Float32Array.from(order, (i) => items - i),
  })
  const gramMatrix = new Float32Array(dims * dims)
  for (let d = 0; d < dims; d++) gramMatrix[d * dims + d] = 1
  const gram = await encodeShard({ kind: 'gram', dims, matrix: gramMatrix })
  // A catalog (issue 17): every item in category `c<i mod 3>`.
  const catalogItems = itemIds.map((itemId, i) => ({
    itemId,
    categories: [`c${i % 3}`],
    tags: [],
    price: i,
    available: true,
    createdAt: null,
    attributes: {},
  }))
  const catalogColumns = CatalogTable.columnsOf(catalogItems, 0)
  const catalog = await encodeShard({
    kind: 'catalog',
    rows: items,
    json: encodeCatalogColumns(catalogColumns),
  })
  let split: { refs: ShardRef[]; manifest: NonNullable<ModelManifest['catalog']> } | undefined
  if (options.catalogShardBytes !== undefined) {
    const plan = splitCatalog(catalogItems, options.catalogShardBytes, itemIds)
    split = { refs: [], manifest: plan.manifest }
    for (const [index, { start, end }] of plan.ranges.entries()) {
      const columns = CatalogTable.columnsOf(plan.items.slice(start, end), 0)
      const part = await encodeShard({
        kind: 'catalog',
        rows: end - start,
        rowOffset: start,
        json: encodeCatalogColumns(columns),
      })
      split.refs.push(
        await put(catalogShardKey(version, index), 'catalog', part.bytes, part.sha256, end - start, start),
      )
    }
  }
  const manifest: ModelManifest = {
    formatVersion: 1,
    version,
    createdAt: (options.createdAt ?? new Date()).toISOString(),
    dims,
    counts: { users, items, interactions: users * 2 },
    als: {
      factors: dims,
      regularization: 0.05,
      alpha: 1,
      iterations: 1,
      cgSteps: 3,
      solver: 'cg',
      seed: options.seed ?? 1,
    },
    eventWeights: { view: 1, purchase: 8 },
    trainedUntil: Date.now(),
    userBuckets: buckets,
    shards: {
      items: refs.items,
      users: refs.users,
      popularity: await put(
        singleShardKey(version, 'popularity'),
        'popularity',
        popularity.bytes,
        popularity.sha256,
        items,
        0,
      ),
      gram: await put(singleShardKey(version, 'gram'), 'gram', gram.bytes, gram.sha256, dims, 0),
      catalog:
        split?.refs ??
        (await put(singleShardKey(version, 'catalog'), 'catalog', catalog.bytes, catalog.sha256, items, 0)),
    },
  }
  if (split) manifest.catalog = split.manifest
  await storage.put(manifestKey(version), new TextEncoder().encode(JSON.stringify(manifest)))
  return manifest
}
