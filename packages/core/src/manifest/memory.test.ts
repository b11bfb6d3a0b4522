import { describe, expect, it } from 'vitest'
import { alignedCatalogBuildBytes, alignedCatalogByteLength } from '../catalog/table.js'
import { wasmFloat32KernelByteLength } from '../scoring/kernel/f32-kernel.js'
import { wasmInt8KernelByteLength } from '../scoring/kernel/int8-kernel.js'
import type { ModelManifest, ShardRef } from './manifest.js'
import { checkSwapMemory, planModelMemory } from './memory.js'

const MiB = 1024 * 1024

function manifest(version: string, items: number, dims: number): ModelManifest {
  const ref = (key: string, bytes: number, rows: number, rowOffset = 0): ShardRef => ({
    key,
    kind: 'items',
    bytes,
    sha256: '0'.repeat(64),
    rows,
    rowOffset,
    storage: 'r2',
  })
  const perShard = Math.ceil(items / 4)
  return {
    formatVersion: 1,
    version,
    createdAt: '2026-12-01T00:00:00.000Z',
    dims,
    counts: { users: 10, items, interactions: 10 },
    als: { factors: dims, regularization: 0.05, alpha: 2, iterations: 10, cgSteps: 3, solver: 'cg', seed: 1 },
    eventWeights: { view: 1 },
    trainedUntil: 0,
    userBuckets: 1,
    shards: {
      // 10-byte ids: dims + 4 + 4 + 4 + 10 bytes per row, plus a 4 KiB header.
      items: [0, 1, 2, 3].map((s) => ref(`i${s}`, perShard * (dims + 22) + 4096, perShard, s * perShard)),
      users: [],
      popularity: { ...ref('p', 8 * items, items), kind: 'popularity' },
      gram: { ...ref('g', 4 * dims * dims, dims), kind: 'gram' },
    },
  } as ModelManifest
}

describe('planModelMemory', () => {
  it('should add up the kernel, rows, ids, lists and user cache, with one item shard in flight while loading', () => {
    const plan = planModelMemory(manifest('v1', 100_000, 64), { userCacheBytes: 16 * MiB })
    expect(plan.kernel).toBe(wasmInt8KernelByteLength(64, 100_000))
    expect(plan.itemRows).toBe(800_000)
    // Id bytes bounded by the shards: 10 B per id plus the header slack, offsets and slots.
    expect(plan.itemIdIndex).toBeGreaterThan(100_000 * 10)
    expect(plan.itemIdIndex).toBeLessThan(100_000 * 32)
    expect(plan.resident).toBe(plan.kernel + plan.itemRows + plan.itemIdIndex + plan.lists + plan.userCache)
    expect(plan.loadingPeak).toBe(plan.resident + 25_000 * 86 + 4096)
    expect(plan.itemIdBytes).toBe(4 * (25_000 * 10 + 4096))
  })
})

describe('checkSwapMemory', () => {
  const settings = { userCacheBytes: 8 * MiB }
  const small = { version: 'small', plan: planModelMemory(manifest('small', 100_000, 64), settings) }
  const large = { version: 'large', plan: planModelMemory(manifest('large', 600_000, 64), settings) }

  it('should accept a version that fits next to the live one', () => {
    const check = checkSwapMemory(small, { ...small, version: 'live' }, 96 * MiB)
    expect(check.fits).toBe(true)
    // While it loads its caches are empty: the live version's full caches are the only ones.
    expect(small.plan.caches).toBe(8 * MiB)
    expect(check.needed).toBe(small.plan.resident + small.plan.loadingPeak - small.plan.caches)
  })

  it("should count one version's caches in a swap: the replaced one's close when the new one is live", () => {
    const p = (caches: number, resident: number, loadingPeak: number) => ({
      ...small.plan,
      caches,
      resident,
      loadingPeak,
    })
    // Loading: 50 + (40 - 10) = 80; once live: (50 - 20) + 40 = 70.
    expect(
      checkSwapMemory({ version: 'n', plan: p(10, 35, 40) }, { version: 'l', plan: p(20, 50, 50) }, 100)
        .needed,
    ).toBe(80)
    // Loading: 50 + (12 - 10) = 52; once live: (50 - 5) + 60 = 105: the new version's caches fill.
    expect(
      checkSwapMemory({ version: 'n', plan: p(10, 60, 12) }, { version: 'l', plan: p(5, 50, 50) }, 100)
        .needed,
    ).toBe(105)
  })

  it('should count the live version only when it is another version', () => {
    expect(checkSwapMemory(large, large, 96 * MiB).needed).toBe(large.plan.loadingPeak)
  })

  it('should refuse a version that fits alone but not during a swap, saying so', () => {
    expect(large.plan.loadingPeak).toBeLessThan(96 * MiB)
    const check = checkSwapMemory(large, { ...large, version: 'live' }, 96 * MiB)
    expect(check.fits).toBe(false)
    expect(check.message).toMatch(/next to .* of the live version live/)
    expect(check.message).toMatch(/fits alone but not during a swap/)
  })

  it('should refuse a version too large even alone', () => {
    const check = checkSwapMemory(large, undefined, 32 * MiB)
    expect(check.fits).toBe(false)
    expect(check.message).toMatch(/does not fit even alone/)
  })
})

describe('planModelMemory for a partitioned version (lists on demand)', () => {
  /** `manifest()` with k-means partitions: 4 MiB item shards, √n lists, the lists object in R2. */
  function partitioned(version: string, items: number, dims: number): ModelManifest {
    const m = manifest(version, items, dims)
    const lists = Math.ceil(Math.sqrt(items))
    const rowsPerShard = Math.floor((4 * MiB - 4096) / (dims + 22))
    const shards = Math.ceil(items / rowsPerShard)
    m.shards.items = Array.from({ length: shards }, (_, s) => {
      const rows = Math.min(rowsPerShard, items - s * rowsPerShard)
      return {
        ...m.shards.items[0]!,
        key: `i${s}`,
        bytes: rows * (dims + 22) + 4096,
        rows,
        rowOffset: s * rowsPerShard,
      }
    })
    const ref = m.shards.gram
    m.shards.partitions = {
      ...ref,
      key: 'parts',
      kind: 'partitions',
      bytes: 4 * lists * dims + 4 * items + 40 * lists,
      rows: lists,
    }
    m.shards.partitionLists = {
      ...ref,
      key: 'lists',
      kind: 'partitionList',
      bytes: items * (dims + 12) + 80 * lists,
      rows: lists,
    }
    m.partitions = { lists, nprobe: 16, recall: { k: 10, value: 0.97, users: 200 } }
    return m
  }

  it('should count centroids, tables, the item → partition map and the cache bound, but no item rows', () => {
    const plan = planModelMemory(partitioned('p', 1_000_000, 64), {
      userCacheBytes: 4 * MiB,
      partitionCacheBytes: 8 * MiB,
    })
    expect(plan.kernel).toBe(wasmInt8KernelByteLength(64, 0))
    expect(plan.itemRows).toBe(0)
    expect(plan.partitionIndex).toBe(
      4 * 1000 * 64 + 8 * 1001 + 32 * 1000 + 2 * 1_000_000 + wasmFloat32KernelByteLength(64, 0, 64),
    )
    expect(plan.partitionCache).toBe(8 * MiB)
    expect(plan.resident).toBe(
      plan.kernel +
        plan.itemIdIndex +
        plan.lists +
        plan.userCache +
        plan.partitionIndex +
        plan.partitionCache,
    )
  })

  it('should let a 1M × 64 version load next to another within the default 96 MiB budget (unpartitioned: not next to it even in 127 MiB)', () => {
    const settings = { userCacheBytes: 4 * MiB, partitionCacheBytes: 8 * MiB }
    const next = { version: 'next', plan: planModelMemory(partitioned('next', 1_000_000, 64), settings) }
    const live = { version: 'live', plan: planModelMemory(partitioned('live', 1_000_000, 64), settings) }
    const swap = checkSwapMemory(next, live, 96 * MiB)
    expect(swap.fits).toBe(true)
    expect(swap.needed).toBeLessThan(96 * MiB)
    const resident = planModelMemory(manifest('resident', 1_000_000, 64), settings)
    expect(checkSwapMemory({ version: 'r', plan: resident }, live, 127 * MiB).fits).toBe(false)
  })
})

describe('planModelMemory with a split catalog', () => {
  const catalogRef = (index: number, bytes: number, rows: number, rowOffset: number): ShardRef => ({
    key: `c${index}`,
    kind: 'catalog',
    bytes,
    sha256: '0'.repeat(64),
    rows,
    rowOffset,
    storage: 'r2',
  })

  it('should count the planned table, the item → row map and one catalog shard in flight while loading', () => {
    const m = manifest('v1', 100_000, 64)
    const without = planModelMemory(m, { userCacheBytes: MiB })
    m.shards.catalog = [catalogRef(0, 4 * MiB, 60_000, 0), catalogRef(1, 2 * MiB, 40_000, 60_000)]
    m.catalog = { rows: 100_000, categoryCodes: 100_000, tagCodes: 150_000, memoryBytes: 4 * MiB }
    const plan = planModelMemory(m, { userCacheBytes: MiB })
    expect(plan.catalog).toBe(4 * MiB)
    expect(plan.resident).toBe(without.resident + plan.catalog)
    expect(plan.loadingPeak).toBe(plan.resident + 4 * 4 * MiB)
    // A compact layout: its price dictionary's map while loading (createdAt: 1 value, also coded).
    m.catalog.layout = {
      categoryLabels: 10,
      maxCategories: 1,
      tagLabels: 10,
      maxTags: 2,
      prices: 1000,
      createdAts: 0,
    }
    const compact = planModelMemory(m, { userCacheBytes: MiB })
    expect(compact.loadingPeak).toBe(
      compact.resident + 4 * 4 * MiB + alignedCatalogBuildBytes(100_000, m.catalog.layout),
    )
    expect(alignedCatalogBuildBytes(100_000, m.catalog.layout)).toBe(64 * (1001 + 1))
  })

  it('should estimate the table of an older version with one catalog shard from its size', () => {
    const m = manifest('v1', 100_000, 64)
    m.shards.catalog = catalogRef(0, 5 * MiB, 100_000, 0)
    const plan = planModelMemory(m, { userCacheBytes: MiB })
    // Codes ≤ half the shard bytes; the wide layout's 25 bytes per item of columns.
    expect(plan.catalog).toBe(alignedCatalogByteLength(100_000, 2.5 * MiB, 0, 0))
  })

  it('should refuse a swap the catalog does not fit in, saying by how much and that it fits without it', () => {
    const settings = { userCacheBytes: MiB }
    const withCatalog = (version: string) => {
      const m = manifest(version, 100_000, 64)
      m.shards.catalog = [catalogRef(0, MiB, 100_000, 0)]
      m.catalog = { rows: 100_000, categoryCodes: 100_000, tagCodes: 0, memoryBytes: 40 * MiB }
      return { version, plan: planModelMemory(m, settings) }
    }
    const next = withCatalog('next')
    const live = withCatalog('live')
    const budget = next.plan.loadingPeak - next.plan.caches + live.plan.resident - 10 * MiB
    const check = checkSwapMemory(next, live, budget)
    expect(check.fits).toBe(false)
    expect(check.message).toContain('10.0 MiB too much')
    expect(check.message).toContain('catalog 40.0 MiB')
    expect(check.message).toContain('Without its catalog')
  })
})
