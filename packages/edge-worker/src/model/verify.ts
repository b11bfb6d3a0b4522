/**
 * Completeness check of a model version before it goes live: the manifest is valid and every shard
 * it lists is present with the listed size and SHA-256 (architecture.md, "A version is complete").
 *
 * @module
 */
import { type ModelManifest, manifestShards } from '@edgerec/core'
import { loadShard, type ModelBindings, ModelLoadError, readManifest } from './storage.js'

/** One object of a version that is missing or wrong. */
export interface ShardProblem {
  key: string
  code: string
  message: string
}

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

/** Shards verified at once: bounds memory (each is ≤ 24 MiB) while overlapping storage latency. */
const PARALLEL_SHARDS = 4

/**
 * Reads every shard of `version` and verifies size, SHA-256, kind and shape. Each shard is dropped
 * after its check, so at most {@link PARALLEL_SHARDS} are in memory.
 *
 * @throws {@link ModelLoadError} `MANIFEST_MISSING` / `MANIFEST_INVALID` when the manifest itself is unusable
 */
export async function verifyVersion(bindings: ModelBindings, version: string): Promise<VersionCheck> {
  const manifest = await readManifest(bindings, version)
  const refs = manifestShards(manifest)
  const problems: ShardProblem[] = []
  let bytes = 0
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < refs.length) {
      const ref = refs[next++]!
      try {
        const shard = await loadShard(bindings, ref, ref.kind, manifest.dims)
        bytes += shard.byteLength
      } catch (error) {
        if (error instanceof ModelLoadError)
          problems.push({ key: ref.key, code: error.code, message: error.message })
        else throw error
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(PARALLEL_SHARDS, refs.length) }, worker))
  problems.sort((a, b) => a.key.localeCompare(b.key))
  return { manifest, problems, shards: refs.length, bytes }
}
