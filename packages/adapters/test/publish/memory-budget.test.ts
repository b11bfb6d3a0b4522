/**
 * The publisher's memory check: a version that cannot load in the edge worker next to the live one
 * is refused before anything is uploaded (in-memory target: the check reads only the live pointer
 * and manifests).
 */
import {
  catalogShardRefs,
  checkSwapMemory,
  LIVE_POINTER_KEY,
  type ModelManifest,
  manifestKey,
  parseManifest,
  planModelMemory,
} from '@edgerec/core'
import { beforeAll, describe, expect, it } from 'vitest'
import { AdapterError } from '../../src/errors.js'
import { publishVersion } from '../../src/publish/publisher.js'
import { listAll } from '../../src/storage/storage.js'
import { MemoryStorage } from './memory-storage.js'
import { writeSyntheticVersion } from './synthetic-model.js'

const source = new MemoryStorage()
const userCacheBytes = 64 * 1024
const MiB = 1024 * 1024

async function manifestOf(version: string): Promise<ModelManifest> {
  const bytes = await source.get(manifestKey(version))
  return parseManifest(JSON.parse(new TextDecoder().decode(bytes!)))
}

function newTarget() {
  return {
    name: 'memory',
    objects: new MemoryStorage(),
    pointers: new MemoryStorage(),
    shardStorage: 'r2' as const,
  }
}

beforeAll(async () => {
  for (const version of ['small', 'large'])
    await writeSyntheticVersion(source, {
      version,
      items: version === 'small' ? 2_000 : 40_000,
      users: 50,
      dims: 32,
      itemPrefix: version,
    })
})

describe('publishVersion memory check', () => {
  it('should refuse a version that fits alone but not next to the live one, uploading nothing', async () => {
    const target = newTarget()
    const large = planModelMemory(await manifestOf('large'), { userCacheBytes })
    // Room for the large version alone, not for two of them.
    const budgetBytes = large.loadingPeak + MiB
    expect(large.resident + large.loadingPeak).toBeGreaterThan(budgetBytes)
    const memory = { budgetBytes, userCacheBytes }
    await publishVersion({ source, version: 'large', target, memory })
    const keysBefore = (await listAll(target.objects, '')).length

    await writeSyntheticVersion(source, {
      version: 'large2',
      items: 40_000,
      users: 50,
      dims: 32,
      itemPrefix: 'l2',
    })
    const error = await publishVersion({ source, version: 'large2', target, memory }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AdapterError)
    expect((error as AdapterError).code).toBe('MODEL_TOO_LARGE')
    expect((error as Error).message).toMatch(/next to .* of the live version large/)
    expect((error as Error).message).toMatch(/Nothing was uploaded/)
    expect((await listAll(target.objects, '')).length).toBe(keysBefore)
    const pointer = JSON.parse(new TextDecoder().decode((await target.pointers.get(LIVE_POINTER_KEY))!))
    expect(pointer.version).toBe('large')

    // A small version fits next to it; republishing the live version counts it once.
    await publishVersion({ source, version: 'small', target, memory })
    await publishVersion({ source, version: 'large', target, memory })
  })

  it('should use the worker defaults (96 MiB budget, 16 MiB user cache) unless told otherwise, and skip with memory: false', async () => {
    const target = newTarget()
    const plan = planModelMemory(await manifestOf('large'), { userCacheBytes: 16 * MiB })
    expect(checkSwapMemory({ version: 'large', plan }, undefined, 96 * MiB).fits).toBe(true)
    await publishVersion({ source, version: 'large', target })
    const error = await publishVersion({
      source,
      version: 'small',
      target,
      memory: { budgetBytes: 8 * MiB },
    }).catch((e: unknown) => e)
    expect((error as AdapterError).code).toBe('MODEL_TOO_LARGE')
    await publishVersion({ source, version: 'small', target, memory: false })
  })

  it('should refuse a version whose split catalog does not fit, saying by how much, and publish every catalog shard when it fits', async () => {
    await writeSyntheticVersion(source, {
      version: 'catalog',
      items: 20_000,
      users: 50,
      dims: 32,
      itemPrefix: 'cat',
      catalogShardBytes: 64 * 1024,
    })
    const manifest = await manifestOf('catalog')
    const refs = catalogShardRefs(manifest)
    expect(refs.length).toBeGreaterThan(3)
    const plan = planModelMemory(manifest, { userCacheBytes })
    expect(plan.catalog).toBe(manifest.catalog!.memoryBytes)
    expect(manifest.catalog).toMatchObject({ categoryCodes: 20_000, tagCodes: 0 })
    const target = newTarget()
    const error = await publishVersion({
      source,
      version: 'catalog',
      target,
      memory: { budgetBytes: plan.loadingPeak - Math.round(plan.catalog / 2), userCacheBytes },
    }).catch((e: unknown) => e)
    expect((error as AdapterError).code).toBe('MODEL_TOO_LARGE')
    expect((error as Error).message).toMatch(/catalog \d+\.\d MiB/)
    expect((error as Error).message).toMatch(/MiB too much/)
    expect((error as Error).message).toMatch(/Without its catalog/)
    expect((await listAll(target.objects, '')).length).toBe(0)

    await publishVersion({
      source,
      version: 'catalog',
      target,
      memory: { budgetBytes: plan.loadingPeak, userCacheBytes },
    })
    const published = parseManifest(
      JSON.parse(new TextDecoder().decode((await target.pointers.get(manifestKey('catalog')))!)),
    )
    expect(catalogShardRefs(published).map((r) => [r.key, r.storage])).toEqual(refs.map((r) => [r.key, 'r2']))
    for (const ref of refs) expect((await target.objects.get(ref.key))?.byteLength).toBe(ref.bytes)
  })
})
