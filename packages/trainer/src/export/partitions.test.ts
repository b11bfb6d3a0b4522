import { mulberry32, quantizeRows } from '@edgerec/core'
import { describe, expect, it } from 'vitest'
import { planPartitions } from './partitions.js'

/** Items and users around `clusters` random centres (users are near an item: their taste). */
function clustered(items: number, users: number, dims: number, clusters: number, seed: number) {
  const random = mulberry32(seed)
  const centres = Float32Array.from({ length: clusters * dims }, () => random() * 2 - 1)
  const y = new Float32Array(items * dims)
  for (let r = 0; r < items; r++) {
    const c = Math.floor(random() * clusters)
    for (let d = 0; d < dims; d++) y[r * dims + d] = centres[c * dims + d]! + (random() - 0.5) * 0.5
  }
  const x = new Float32Array(users * dims)
  for (let u = 0; u < users; u++) {
    const near = Math.floor(random() * items)
    for (let d = 0; d < dims; d++) x[u * dims + d] = y[near * dims + d]! + (random() - 0.5) * 0.3
  }
  return { y, items: quantizeRows(y, items, dims), users: quantizeRows(x, users, dims) }
}

describe('planPartitions', () => {
  const dims = 16
  const data = clustered(5000, 400, dims, 50, 21)

  it('should stay off below minItems (100 000 by default)', () => {
    expect(planPartitions(data.y, data.items, data.users)).toBeUndefined()
    expect(planPartitions(data.y, data.items, data.users, { minItems: 5001 })).toBeUndefined()
  })

  it('should pick the smallest nprobe whose measured recall@10 reaches 0.95', () => {
    const planned = planPartitions(data.y, data.items, data.users, { minItems: 1000 })!
    expect(planned.manifest.lists).toBe(Math.ceil(Math.sqrt(5000)))
    expect(planned.manifest.recall.k).toBe(10)
    expect(planned.manifest.recall.users).toBe(200)
    expect(planned.manifest.recall.value).toBeGreaterThanOrEqual(0.95)
    const { nprobe } = planned.manifest
    expect(nprobe).toBeLessThan(planned.manifest.lists / 2)
    expect(nprobe).toBeGreaterThan(1)
    const smaller = planPartitions(data.y, data.items, data.users, { minItems: 1000, nprobe: nprobe - 1 })!
    expect(smaller.manifest.recall.value).toBeLessThan(0.95)
  })

  it('should spill border items by default, so the target needs fewer probes than without (spill 0)', () => {
    const spilled = planPartitions(data.y, data.items, data.users, { minItems: 1000 })!
    const plain = planPartitions(data.y, data.items, data.users, { minItems: 1000, spill: 0 })!
    expect(plain.index.itemIndexes.length).toBe(5000)
    expect(spilled.index.itemIndexes.length).toBeGreaterThan(5000)
    expect(spilled.manifest.nprobe).toBeLessThanOrEqual(plain.manifest.nprobe)
    expect(spilled.manifest.recall.value).toBeGreaterThanOrEqual(0.95)
  })

  it('should keep a configured nprobe and lists and report their recall', () => {
    const planned = planPartitions(data.y, data.items, data.users, { minItems: 1, lists: 40, nprobe: 40 })!
    expect(planned.manifest).toMatchObject({ lists: 40, nprobe: 40, recall: { value: 1 } })
    expect(() => planPartitions(data.y, data.items, data.users, { minItems: 1, lists: 0 })).toThrow(/lists/)
  })
})
