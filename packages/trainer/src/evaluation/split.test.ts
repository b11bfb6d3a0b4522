import { describe, expect, it } from 'vitest'
import { type CsrMatrix, csrFromTriples, nnz } from '../data/matrix.js'
import { plantedClusters } from './planted.js'
import { splitBy, splitLeaveOneOut, splitRandom, splitTemporal } from './split.js'

function pairs(m: CsrMatrix): string[] {
  const out: string[] = []
  for (let u = 0; u < m.rows; u++) {
    for (let j = m.indptr[u]!; j < m.indptr[u + 1]!; j++) out.push(`${u}:${m.indices[j]}`)
  }
  return out
}

const data = plantedClusters({ users: 50, items: 40, clusters: 4, perUser: 9, noise: 0.2, seed: 3 })

describe('splitTemporal', () => {
  it('should move the newest floor(n_u / 5) interactions of each user to test, ties to the higher item', () => {
    // user 0: 5 items; item 4 and item 1 share the newest time → order by (t, item): ..., 1, 4 → test {4}
    // user 1: 4 items → floor(4/5) = 0 test
    // user 2: 10 items at times 10 − i → the two newest are items 0 and 1
    const rows = [0, 0, 0, 0, 0, 1, 1, 1, 1, ...Array(10).fill(2)]
    const cols = [0, 1, 2, 3, 4, 0, 1, 2, 3, ...Array.from({ length: 10 }, (_, i) => i)]
    const times = [1, 9, 3, 2, 9, 1, 2, 3, 4, ...Array.from({ length: 10 }, (_, i) => 10 - i)]
    const m = csrFromTriples(3, 10, rows, cols, Array(rows.length).fill(1), times)
    const { train, test } = splitTemporal(m, 0.2)
    expect(pairs(test)).toEqual(['0:4', '2:0', '2:1'])
    expect(nnz(train)).toBe(rows.length - 3)
  })

  it('should be deterministic and partition the input', () => {
    const a = splitTemporal(data, 0.2)
    const b = splitTemporal(data, 0.2)
    expect(pairs(a.test)).toEqual(pairs(b.test))
    expect([...pairs(a.train), ...pairs(a.test)].sort()).toEqual(pairs(data).sort())
    for (let u = 0; u < data.rows; u++) {
      const n = data.indptr[u + 1]! - data.indptr[u]!
      expect(a.test.indptr[u + 1]! - a.test.indptr[u]!).toBe(Math.floor(n / 5))
    }
  })

  it('should floor fractions without float error (10 · 0.3 = 3)', () => {
    const m = csrFromTriples(1, 10, Array(10).fill(0), [...Array(10).keys()], Array(10).fill(1))
    expect(nnz(splitTemporal(m, 0.3).test)).toBe(3)
  })

  it('should reject fractions outside [0, 1)', () => {
    expect(() => splitTemporal(data, 1)).toThrow(/testFraction/)
    expect(() => splitRandom(data, -0.1, 1)).toThrow(/testFraction/)
  })
})

describe('splitRandom', () => {
  it('should hold out exactly floor(nnz · fraction) pairs, reproducibly per seed', () => {
    const a = splitRandom(data, 0.25, 7)
    const b = splitRandom(data, 0.25, 7)
    const c = splitRandom(data, 0.25, 8)
    expect(nnz(a.test)).toBe(Math.floor(nnz(data) * 0.25))
    expect(pairs(a.test)).toEqual(pairs(b.test))
    expect(pairs(a.test)).not.toEqual(pairs(c.test))
    expect([...pairs(a.train), ...pairs(a.test)].sort()).toEqual(pairs(data).sort())
  })
})

describe('splitLeaveOneOut', () => {
  it('should hold out the newest interaction of users with at least two', () => {
    const m = csrFromTriples(
      3,
      5,
      [0, 0, 0, 1, 2, 2],
      [0, 3, 4, 2, 1, 2],
      [1, 1, 1, 1, 1, 1],
      [5, 7, 6, 1, 3, 3],
    )
    const { train, test } = splitLeaveOneOut(m, 1)
    expect(pairs(test)[0]).toBe('0:3')
    // user 1 has one interaction: kept in train; user 2 has two with equal times: one picked by the seed
    expect(pairs(train)).toContain('1:2')
    expect(test.indptr[3]! - test.indptr[2]!).toBe(1)
    expect(pairs(splitLeaveOneOut(m, 1).test)).toEqual(pairs(test))
  })

  it('should be reachable through splitBy', () => {
    expect(pairs(splitBy(data, 'leave-one-out', 0, 1).test)).toHaveLength(data.rows)
  })
})

describe('splitBy allocateTrain', () => {
  it.each(['temporal', 'random', 'leave-one-out'] as const)(
    'should write the train part into the arrays the allocator gives, the same split as without it (%s)',
    (kind) => {
      const plain = splitBy(data, kind, 0.2, 5)
      const calls: number[][] = []
      const placed = splitBy(data, kind, 0.2, 5, {
        allocateTrain: (rows, cols, count) => {
          calls.push([rows, cols, count])
          const buffer = new SharedArrayBuffer(8 * (rows + 1 + 2 * count))
          return {
            rows,
            cols,
            indptr: new Uint32Array(buffer, 8, rows + 1),
            indices: new Uint32Array(buffer, 8 + 4 * (rows + 1), count),
            values: new Float32Array(buffer, 8 + 4 * (rows + 1 + count), count),
            timestamps: new Float64Array(0),
          }
        },
      })
      expect(calls).toEqual([[data.rows, data.cols, nnz(plain.train)]])
      expect(placed.train.indices.buffer).toBeInstanceOf(SharedArrayBuffer)
      expect([...placed.train.indptr]).toEqual([...plain.train.indptr])
      expect([...placed.train.indices]).toEqual([...plain.train.indices])
      expect([...placed.train.values]).toEqual([...plain.train.values])
      expect([...placed.train.timestamps]).toEqual([...plain.train.timestamps])
      expect(pairs(placed.test)).toEqual(pairs(plain.test))
    },
  )
})
