import { describe, expect, it } from 'vitest'
import { encodeShard } from '../shard/encode.js'
import { gramInput, itemInput, popularityInput, userInput } from '../shard/shard.test-support.js'
import type { ShardInput } from '../shard/types.js'
import { itemShardKey, singleShardKey, userShardKey } from './keys.js'
import type { ModelManifest, ShardRef } from './manifest.js'
import { checkShard, verifyVersionShards } from './verify.js'

const VERSION = 'verify-v1'
const DIMS = 4

/** A small complete version: 2 item shards, 2 user buckets, popularity, gram. */
async function version(): Promise<{ manifest: ModelManifest; objects: Map<string, Uint8Array> }> {
  const objects = new Map<string, Uint8Array>()
  const put = async (key: string, input: ShardInput, rows: number, rowOffset = 0): Promise<ShardRef> => {
    const { bytes, sha256 } = await encodeShard(input)
    objects.set(key, bytes)
    return { key, kind: input.kind, bytes: bytes.length, sha256, rows, rowOffset, storage: 'r2' }
  }
  const manifest: ModelManifest = {
    formatVersion: 1,
    version: VERSION,
    createdAt: '2026-12-01T00:00:00.000Z',
    dims: DIMS,
    counts: { users: 20, items: 20, interactions: 40 },
    als: { factors: DIMS, regularization: 0.1, alpha: 1, iterations: 5, cgSteps: 3, solver: 'cg', seed: 1 },
    eventWeights: { view: 1 },
    trainedUntil: Date.UTC(2026, 11, 1),
    userBuckets: 2,
    shards: {
      items: [
        await put(itemShardKey(VERSION, 0), itemInput(10, DIMS, 1, 0), 10, 0),
        await put(itemShardKey(VERSION, 1), itemInput(10, DIMS, 2, 10), 10, 10),
      ],
      users: [
        await put(userShardKey(VERSION, 0), userInput(10, DIMS, 3, 20), 10),
        await put(userShardKey(VERSION, 1), userInput(10, DIMS, 4, 20), 10),
      ],
      popularity: await put(singleShardKey(VERSION, 'popularity'), popularityInput(20, 5), 20),
      gram: await put(singleShardKey(VERSION, 'gram'), gramInput(DIMS, 6), DIMS),
    },
  }
  return { manifest, objects }
}

const reader = (objects: Map<string, Uint8Array>) => async (ref: ShardRef) => objects.get(ref.key) ?? null

describe('verifyVersionShards', () => {
  it('should pass an intact version and count every byte it hashed', async () => {
    const { manifest, objects } = await version()
    const result = await verifyVersionShards(manifest, reader(objects))
    const total = [...objects.values()].reduce((s, b) => s + b.length, 0)
    expect(result).toEqual({ problems: [], shards: 6, bytes: total })
  })

  it('should catch a same-size corruption of a user shard by its checksum (what a size check misses)', async () => {
    const { manifest, objects } = await version()
    const key = userShardKey(VERSION, 1)
    const bytes = objects.get(key)!.slice()
    bytes[100]! ^= 0xff
    objects.set(key, bytes)
    const { problems } = await verifyVersionShards(manifest, reader(objects))
    expect(problems).toEqual([expect.objectContaining({ key, code: 'SHARD_CHECKSUM_MISMATCH' })])
  })

  it('should report missing, truncated, unreadable and mis-shaped shards together', async () => {
    const { manifest, objects } = await version()
    objects.delete(itemShardKey(VERSION, 0))
    objects.set(userShardKey(VERSION, 0), objects.get(userShardKey(VERSION, 0))!.subarray(10))
    manifest.shards.gram = { ...manifest.shards.gram, rows: DIMS + 1 }
    const { problems } = await verifyVersionShards(manifest, async (ref) => {
      if (ref.kind === 'popularity') throw new Error('R2 timed out')
      return objects.get(ref.key) ?? null
    })
    expect(problems.map((p) => [p.key.split('/').pop(), p.code])).toEqual([
      ['gram.shard', 'SHARD_INVALID'],
      ['items-000.shard', 'SHARD_MISSING'],
      ['popularity.shard', 'SHARD_UNREADABLE'],
      ['users-0000.shard', 'SHARD_SIZE_MISMATCH'],
    ])
  })
})

describe('checkShard', () => {
  it('should reject a shard of another kind under a ref', async () => {
    const { manifest, objects } = await version()
    const gram = objects.get(manifest.shards.gram.key)!
    const check = await checkShard({ ...manifest.shards.popularity, bytes: gram.length }, gram, DIMS)
    expect(check.ok).toBe(false)
    if (!check.ok) expect(check.problem.code).toBe('SHARD_INVALID')
  })
})
