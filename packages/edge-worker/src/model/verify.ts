/**
 * Completeness check of a model version before it goes live: the manifest is valid and every shard
 * it lists is present with the listed size and SHA-256 (architecture.md, "A version is complete").
 *
 * @module
 */
import { type ModelManifest, type ShardProblem, verifyVersionShards } from '@edgerec/core'
import { type ModelBindings, readManifest, readShardObject } from './storage.js'

export type { ShardProblem }

/** Result of {@link verifyVersion}. */
export interface VersionCheck {
  manifest: ModelManifest
  /** Empty when the version is complete. */
  problems: ShardProblem[]
  /** Shards checked. */
  shards: number
  /** Bytes read and hashed. */
  bytes: number
}

/**
 * Reads every shard of `version` and verifies size, SHA-256, kind and shape with core's
 * `verifyVersionShards`, the check every path that makes a version live shares (the publisher,
 * admin activate and rollback, the demo's flags). At most 4 shards (or partition lists) are in
 * memory at once.
 *
 * @throws {@link ModelLoadError} `MANIFEST_MISSING` / `MANIFEST_INVALID` when the manifest itself is unusable
 */
export async function verifyVersion(bindings: ModelBindings, version: string): Promise<VersionCheck> {
  const manifest = await readManifest(bindings, version)
  const result = await verifyVersionShards(manifest, (ref) => readShardObject(bindings, ref), {
    concurrency: 4,
    // The partition lists object (tens of MiB at 1M items) is checked one list at a time.
    readRange: async (ref, offset, length) => {
      const object = await bindings.MODELS_R2.get(ref.key, { range: { offset, length } })
      return object ? new Uint8Array(await object.arrayBuffer()) : null
    },
  })
  return { manifest, ...result }
}
