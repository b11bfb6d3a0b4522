import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isEdgerecError } from '../errors.js'
import { type QuantizedMatrix, quantizeRows, quantizeVector } from '../quantize/quantize.js'
import { mulberry32, randomFloats, randomInt } from '../random.test-support.js'
import {
  blockFromQuantized,
  dotInt8,
  findRow,
  type Int8Vector,
  type ItemBlock,
  recommendTopK,
  recommendTopKFloat32,
  scoreBlockInt8,
} from './score.js'
import { similarItems } from './similar.js'
import { TopK, topK } from './top-k.js'

/** Naive reference: every score in float64 from the same int8 values, full sort, ties → lower index. */
function referenceTopK(scores: readonly number[], k: number, exclude: ReadonlySet<number> = new Set()) {
  const order = scores
    .map((score, index) => ({ score, index }))
    .filter(({ index, score }) => !exclude.has(index) && !Number.isNaN(score))
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, k)
  return { indices: order.map((o) => o.index), scores: order.map((o) => Math.fround(o.score)) }
}

function referenceInt8Scores(user: Int8Vector, m: QuantizedMatrix): number[] {
  const scores: number[] = []
  for (let r = 0; r < m.rows; r++) {
    let dot = 0
    for (let d = 0; d < m.dims; d++) dot += user.values[d]! * m.values[r * m.dims + d]!
    scores.push(user.scale * m.scales[r]! * dot)
  }
  return scores
}

/** Splits a quantized matrix into blocks of the given sizes, as item shards split by rows. */
function splitBlocks(m: QuantizedMatrix, sizes: readonly number[], withNorms = false): ItemBlock[] {
  const blocks: ItemBlock[] = []
  let start = 0
  for (const size of sizes) {
    const end = Math.min(m.rows, start + size)
    const part: QuantizedMatrix = {
      rows: end - start,
      dims: m.dims,
      values: m.values.slice(start * m.dims, end * m.dims),
      scales: m.scales.slice(start, end),
    }
    let norms: Float32Array | undefined
    if (withNorms) {
      norms = new Float32Array(part.rows)
      for (let r = 0; r < part.rows; r++) {
        let sum = 0
        for (let d = 0; d < m.dims; d++) sum += part.values[r * m.dims + d]! ** 2
        norms[r] = part.scales[r]! * Math.sqrt(sum)
      }
    }
    blocks.push(blockFromQuantized(part, start, norms))
    start = end
  }
  return blocks
}

function randomModel(seed: number, rows: number, dims: number) {
  const random = mulberry32(seed)
  const items = quantizeRows(randomFloats(random, rows * dims), rows, dims)
  const userFloat = randomFloats(random, dims)
  return { random, items, user: quantizeVector(userFloat), userFloat }
}

describe('dotInt8', () => {
  it('should equal the naive integer dot product for every length and offset (property)', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 0, max: 70 })
          .chain((n) =>
            fc.tuple(
              fc.array(fc.integer({ min: -127, max: 127 }), { minLength: n, maxLength: n }),
              fc.array(fc.integer({ min: -127, max: 127 }), { minLength: n + 9, maxLength: n + 9 }),
              fc.integer({ min: 0, max: 9 }),
            ),
          ),
        ([a, b, offset]) => {
          let expected = 0
          for (let i = 0; i < a.length; i++) expected += a[i]! * b[offset + i]!
          expect(dotInt8(Int8Array.from(a), Int8Array.from(b), offset, a.length)).toBe(expected)
        },
      ),
      { seed: 1, numRuns: 500 },
    )
  })

  it('should stay exact at the extremes (all ±127, 4096 dims)', () => {
    const a = new Int8Array(4096).fill(-127)
    const b = new Int8Array(4096).fill(-127)
    expect(dotInt8(a, b, 0, 4096)).toBe(4096 * 127 * 127)
  })
})

describe('scoreBlockInt8 and recommendTopK', () => {
  it('should score exactly s_u · s_i · Σ q_u q_i', () => {
    const { items, user } = randomModel(2, 300, 13)
    const out = scoreBlockInt8(user, blockFromQuantized(items), new Float32Array(300))
    expect(Array.from(out)).toEqual(referenceInt8Scores(user, items).map(Math.fround))
  })

  it('should return the same top K as the naive float64 reference (property over sizes, k, exclusions)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 0, max: 30 }),
        (seed, rows, dims, k) => {
          const { random, items, user } = randomModel(seed, rows, dims)
          const exclude = new Set(
            Array.from({ length: randomInt(random, rows) }, () => randomInt(random, rows)),
          )
          const got = recommendTopK(user, [blockFromQuantized(items)], k, exclude)
          const want = referenceTopK(referenceInt8Scores(user, items), k, exclude)
          expect(Array.from(got.indices)).toEqual(want.indices)
          expect(Array.from(got.scores)).toEqual(want.scores)
        },
      ),
      { seed: 3, numRuns: 150 },
    )
  })

  it('should break ties toward the lower item index', () => {
    // Rows 1, 3, 4 and 6 are identical, so they tie exactly.
    const rows = [
      [1, 0],
      [2, 2],
      [0, 1],
      [2, 2],
      [2, 2],
      [-1, -1],
      [2, 2],
    ]
    const items = quantizeRows(rows.flat(), rows.length, 2)
    const user = quantizeVector([1, 1])
    expect(Array.from(recommendTopK(user, [blockFromQuantized(items)], 3).indices)).toEqual([1, 3, 4])
    expect(
      Array.from(recommendTopK(user, splitBlocks(items, [4, 3]).reverse(), 3, new Set([3])).indices),
    ).toEqual([1, 4, 6])
    expect(Array.from(topK([5, 7, 7, 7, 1], 2).indices)).toEqual([1, 2])
  })

  it('should give the same result over several blocks (rowOffset) as over one, in any block order', () => {
    const { items, user } = randomModel(4, 1000, 16)
    const exclude = new Set([3, 250, 999, 500])
    const single = recommendTopK(user, [blockFromQuantized(items)], 25, exclude)
    const blocks = splitBlocks(items, [250, 1, 249, 300, 200])
    for (const order of [blocks, [...blocks].reverse()]) {
      const multi = recommendTopK(user, order, 25, exclude)
      expect(Array.from(multi.indices)).toEqual(Array.from(single.indices))
      expect(Array.from(multi.scores)).toEqual(Array.from(single.scores))
    }
    expect(findRow(blocks, 500)).toEqual({ block: blocks[3], row: 0 })
    expect(findRow(blocks, 1000)).toBeUndefined()
  })

  it('should return every non-excluded item when k > n, and nothing when k = 0', () => {
    const { items, user } = randomModel(5, 7, 4)
    const all = recommendTopK(user, [blockFromQuantized(items)], 50, new Set([2]))
    expect(all.indices).toHaveLength(6)
    expect(Array.from(all.indices).sort()).toEqual([0, 1, 3, 4, 5, 6])
    const none = recommendTopK(user, [blockFromQuantized(items)], 0)
    expect([none.indices.length, none.scores.length]).toEqual([0, 0])
    expect(recommendTopK(user, [], 5).indices).toHaveLength(0)
  })

  it('should quantize a float user (array or Float32Array) exactly like quantizeVector', () => {
    const { items, userFloat } = randomModel(6, 200, 8)
    const expected = recommendTopK(quantizeVector(userFloat), [blockFromQuantized(items)], 10)
    expect(expected.indices).toHaveLength(10)
    for (const user of [Array.from(userFloat), Float32Array.from(userFloat), userFloat]) {
      const got = recommendTopK(user, [blockFromQuantized(items)], 10)
      expect(Array.from(got.indices)).toEqual(Array.from(expected.indices))
    }
  })

  it('should reject a negative or fractional k with INVALID_ARGUMENT', () => {
    for (const k of [-1, 1.5, Number.NaN]) {
      let caught: unknown
      try {
        new TopK(k)
      } catch (e) {
        caught = e
      }
      expect(isEdgerecError(caught) && caught.code).toBe('INVALID_ARGUMENT')
    }
  })
})

describe('recommendTopKFloat32', () => {
  it('should match a float64 reference of the float dot products', () => {
    const random = mulberry32(7)
    const rows = 500
    const dims = 12
    const items = Float32Array.from(randomFloats(random, rows * dims))
    const user = Float32Array.from(randomFloats(random, dims))
    const scores = Array.from({ length: rows }, (_, r) => {
      let s = 0
      for (let d = 0; d < dims; d++) s += user[d]! * items[r * dims + d]!
      return s
    })
    const exclude = new Set([0, 10, 20])
    const got = recommendTopKFloat32(user, items, rows, dims, 15, exclude)
    const want = referenceTopK(scores, 15, exclude)
    expect(Array.from(got.indices)).toEqual(want.indices)
    expect(Array.from(got.scores)).toEqual(want.scores)
  })
})

describe('TopK', () => {
  it('should keep the K best of any stream, best first, ignoring NaN (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: -3, max: 3 }), fc.double({ noNaN: false })), { maxLength: 200 }),
        fc.integer({ min: 0, max: 20 }),
        (scores, k) => {
          const top = new TopK(k)
          scores.forEach((s, i) => {
            top.push(i, s)
          })
          const want = referenceTopK(scores, k)
          const got = top.result()
          expect(top.size).toBe(want.indices.length)
          expect(Array.from(got.indices)).toEqual(want.indices)
          expect(Array.from(got.scores)).toEqual(want.scores)
        },
      ),
      { seed: 8, numRuns: 500 },
    )
  })

  it('should expose the entry threshold once full', () => {
    const top = new TopK(2)
    top.push(0, 1)
    expect(top.threshold).toBe(Number.NEGATIVE_INFINITY)
    top.push(1, 5)
    top.push(2, 3)
    expect(top.threshold).toBe(3)
  })
})

describe('similarItems', () => {
  /** Reference cosine from the dequantized vectors in float64. */
  function referenceCosines(m: QuantizedMatrix, query: number): number[] {
    const vec = (r: number) =>
      Array.from({ length: m.dims }, (_, d) => m.scales[r]! * m.values[r * m.dims + d]!)
    const q = vec(query)
    const qn = Math.hypot(...q)
    return Array.from({ length: m.rows }, (_, r) => {
      const v = vec(r)
      const n = Math.hypot(...v)
      return qn > 0 && n > 0 ? v.reduce((s, x, d) => s + x * q[d]!, 0) / (qn * n) : 0
    })
  }

  it('should rank by float64 cosine and exclude the query item (with and without stored norms)', () => {
    const { items } = randomModel(9, 600, 10)
    for (const withNorms of [false, true]) {
      const blocks = splitBlocks(items, [200, 150, 250], withNorms)
      for (const query of [0, 199, 200, 431, 599]) {
        const got = similarItems(blocks, query, 12)!
        const cosines = referenceCosines(items, query)
        cosines[query] = Number.NaN // the query never comes back
        const want = referenceTopK(cosines, 12)
        expect(got.indices).toHaveLength(12)
        expect(Array.from(got.indices)).not.toContain(query)
        // Scores match the reference to float precision; indices match wherever the reference
        // scores are not within that precision of each other.
        got.scores.forEach((score, r) => {
          expect(score).toBeCloseTo(want.scores[r]!, 6)
          expect(cosines[got.indices[r]!]).toBeCloseTo(want.scores[r]!, 6)
        })
      }
    }
  })

  it('should give zero rows a cosine of 0 and return undefined for an unknown item', () => {
    const items = quantizeRows([1, 0, 0, 0, 0.5, 0.5, -1, 0], 4, 2)
    const blocks = [blockFromQuantized(items)]
    const got = similarItems(blocks, 0, 3)!
    expect(Array.from(got.indices)).toEqual([2, 1, 3])
    expect(got.scores[1]).toBe(0)
    expect(got.scores[0]).toBeCloseTo(Math.SQRT1_2, 6)
    expect(got.scores[2]).toBeCloseTo(-1, 6)
    expect(Array.from(similarItems(blocks, 0, 3, new Set([2]))!.indices)).toEqual([1, 3])
    expect(similarItems(blocks, 4, 3)).toBeUndefined()
  })
})
