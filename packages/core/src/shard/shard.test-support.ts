/**
 * Builders of valid shard inputs for tests (not part of the published package).
 *
 * @internal
 */
import { quantizeRows } from '../quantize/quantize.js'
import { mulberry32, randomFloats, randomInt } from '../random.test-support.js'
import type { GramShardInput, ItemShardInput, PopularityShardInput, UserShardInput } from './types.js'

/** Ids with ASCII, multi-byte UTF-8 and a leading BOM, so the id table is exercised. */
export function sampleIds(prefix: string, n: number): string[] {
  const flavours = ['', 'é', '商品', '😀', '\ufeff']
  return Array.from({ length: n }, (_, i) => `${flavours[i % flavours.length]}${prefix}-${i}`)
}

export function itemInput(rows: number, dims: number, seed: number, rowOffset = 0): ItemShardInput {
  const random = mulberry32(seed)
  const x = randomFloats(random, rows * dims)
  if (rows > 2) x.fill(0, dims, 2 * dims) // one zero row
  return {
    kind: 'items',
    rowOffset,
    factors: quantizeRows(x, rows, dims),
    ids: sampleIds(`item${rowOffset}`, rows),
  }
}

export function userInput(rows: number, dims: number, seed: number, itemCount = 50): UserShardInput {
  const random = mulberry32(seed)
  const offsets = new Uint32Array(rows + 1)
  const items: number[] = []
  const confidences: number[] = []
  for (let r = 0; r < rows; r++) {
    const n = r % 4 === 3 ? 0 : 1 + randomInt(random, 6) // some users have no interactions
    for (let j = 0; j < n; j++) {
      items.push(randomInt(random, itemCount))
      confidences.push(1 + randomInt(random, 8))
    }
    offsets[r + 1] = items.length
  }
  return {
    kind: 'users',
    factors: quantizeRows(randomFloats(random, rows * dims), rows, dims),
    ids: sampleIds('user', rows),
    interactions: { offsets, items: Uint32Array.from(items), confidences: Float32Array.from(confidences) },
  }
}

export function popularityInput(rows: number, seed: number): PopularityShardInput {
  const random = mulberry32(seed)
  const itemIndexes = Uint32Array.from({ length: rows }, () => randomInt(random, 1000))
  const scores = Float32Array.from({ length: rows }, (_, i) => rows - i)
  return { kind: 'popularity', itemIndexes, scores }
}

export function gramInput(dims: number, seed: number): GramShardInput {
  const random = mulberry32(seed)
  const matrix = new Float32Array(dims * dims)
  for (let i = 0; i < dims; i++) {
    for (let j = 0; j <= i; j++) {
      const v = i === j ? dims + random() : random() - 0.5
      matrix[i * dims + j] = v
      matrix[j * dims + i] = v
    }
  }
  return { kind: 'gram', dims, matrix }
}
