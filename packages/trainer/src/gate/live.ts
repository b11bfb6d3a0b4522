/**
 * The live model, read back from where the edge worker reads it (the publish target's live
 * pointer, manifest, int8 item shards and Gram shard), for the quality gate's comparison.
 *
 * @module
 */
import type { Storage } from '@edgerec/adapters'
import {
  decodeShard,
  type ItemBlock,
  LIVE_POINTER_KEY,
  type LivePointer,
  type ModelManifest,
  manifestKey,
  parseManifest,
  type UserShard,
  userBucket,
} from '@edgerec/core'
import { TrainerError } from '../errors.js'

/** A live version as the worker serves it. */
export interface LiveModel {
  version: string
  manifest: ModelManifest
  /** int8 item factors, one block per item shard (global row indexes). */
  blocks: ItemBlock[]
  /** G = ŶᵀŶ + λI of the dequantized items, dims × dims (what the worker's fold-in uses). */
  gram: Float32Array
  dims: number
  /** The live model's item index of a raw item id, or -1. */
  itemIndex(id: string): number
  /** Whether the live model trained on the pair (user id, live item index): its user shards say. */
  trainedOn(userId: string, item: number): boolean
}

/** Where a live model is read from: a publish target's `objects` (R2) and `pointers` (KV). */
export interface LiveModelSource {
  objects: Storage
  pointers: Storage
}

const decoder = new TextDecoder()

function invalid(what: string): TrainerError {
  return new TrainerError(
    'LIVE_MODEL_INVALID',
    `${what}, so the quality gate cannot compare against it. Republish or roll back the live version, or pass --force.`,
  )
}

/**
 * Reads the live version from a publish target, or `undefined` when nothing is live.
 *
 * @example
 * ```ts
 * const publisher = await createPublisher(config.publish)
 * const live = await loadLiveModel(publisher.target)
 * ```
 */
export async function loadLiveModel(source: LiveModelSource): Promise<LiveModel | undefined> {
  const pointerBytes = await source.pointers.get(LIVE_POINTER_KEY)
  if (!pointerBytes) return undefined
  let pointer: LivePointer
  let manifest: ModelManifest
  try {
    pointer = JSON.parse(decoder.decode(pointerBytes)) as LivePointer
    const manifestBytes =
      (await source.pointers.get(manifestKey(pointer.version))) ??
      (await source.objects.get(manifestKey(pointer.version)))
    if (!manifestBytes) throw new Error(`the manifest of ${pointer.version} is missing`)
    manifest = parseManifest(JSON.parse(decoder.decode(manifestBytes)))
  } catch (cause) {
    throw invalid(`The live pointer or manifest is unreadable (${(cause as Error).message})`)
  }
  const blocks: ItemBlock[] = []
  const lookups: Array<{ offset: number; indexOf(id: string): number }> = []
  for (const ref of manifest.shards.items) {
    const bytes = await source.objects.get(ref.key)
    if (!bytes) throw invalid(`${ref.key} of the live version ${pointer.version} is missing`)
    const shard = await decodeShard(bytes)
    if (shard.kind !== 'items') throw invalid(`${ref.key} is not an item shard`)
    blocks.push(shard)
    lookups.push({ offset: shard.rowOffset, indexOf: (id) => shard.ids.indexOf(id) })
  }
  const users: UserShard[] = []
  for (const ref of manifest.shards.users) {
    const bytes = await source.objects.get(ref.key)
    if (!bytes) throw invalid(`${ref.key} of the live version ${pointer.version} is missing`)
    const shard = await decodeShard(bytes)
    if (shard.kind !== 'users') throw invalid(`${ref.key} is not a user shard`)
    users.push(shard)
  }
  const gramBytes = await source.objects.get(manifest.shards.gram.key)
  if (!gramBytes)
    throw invalid(`${manifest.shards.gram.key} of the live version ${pointer.version} is missing`)
  const gram = await decodeShard(gramBytes)
  if (gram.kind !== 'gram') throw invalid(`${manifest.shards.gram.key} is not a Gram shard`)
  return {
    version: pointer.version,
    manifest,
    blocks,
    gram: gram.matrix,
    dims: manifest.dims,
    itemIndex(id) {
      for (const lookup of lookups) {
        const row = lookup.indexOf(id)
        if (row >= 0) return lookup.offset + row
      }
      return -1
    },
    trainedOn(userId, item) {
      const shard = users[userBucket(userId, manifest.userBuckets)]
      const row = shard ? shard.ids.indexOf(userId) : -1
      if (!shard || row < 0) return false
      const { offsets, items } = shard.interactions
      for (let j = offsets[row]!; j < offsets[row + 1]!; j++) if (items[j] === item) return true
      return false
    },
  }
}
