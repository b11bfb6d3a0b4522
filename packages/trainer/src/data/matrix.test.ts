import { mulberry32 } from '@edgerec/core'
import { describe, expect, it } from 'vitest'
import { csrFromRatings, csrFromTriples, nnz } from './matrix.js'

describe('csrFromTriples', () => {
  it('should sort columns within rows, sum duplicates once in float64 and keep the newest timestamp', () => {
    // Row 0 has (0, 2) three times: 0.1 + 0.2 + 0.3 summed as doubles, then rounded to float32 once.
    const m = csrFromTriples(
      3,
      4,
      [0, 2, 0, 0, 2, 0],
      [2, 1, 0, 2, 3, 2],
      [0.1, 5, 7, 0.2, 6, 0.3],
      [10, 1, 3, 30, 2, 20],
    )
    expect(Array.from(m.indptr)).toEqual([0, 2, 2, 4])
    expect(Array.from(m.indices)).toEqual([0, 2, 1, 3])
    expect(Array.from(m.values)).toEqual([7, Math.fround(0.1 + 0.2 + 0.3), 5, 6])
    expect(Array.from(m.timestamps!)).toEqual([3, 30, 1, 2])
    expect(nnz(m)).toBe(4)
    expect(m.indices).toBeInstanceOf(Uint32Array)
    expect(m.values).toBeInstanceOf(Float32Array)
    expect(m.timestamps).toBeInstanceOf(Float64Array)
    expect(m.indices.length).toBe(4)
    expect(m.timestamps!.length).toBe(4)
  })

  it('should give zero timestamps without times and handle an empty input', () => {
    const m = csrFromTriples(2, 2, [1, 0], [0, 1], [1, 2])
    expect(Array.from(m.timestamps!)).toEqual([0, 0])
    const empty = csrFromTriples(2, 2, [], [], [])
    expect(Array.from(empty.indptr)).toEqual([0, 0, 0])
    expect(empty.indices.length).toBe(0)
  })
})

describe('csrFromRatings', () => {
  it('should build exactly what csrFromTriples builds from float32 ratings, duplicates and empty rows included', () => {
    const random = mulberry32(3)
    for (const [rows, cols, n] of [
      [50, 30, 2_000],
      [400, 5, 3_000],
      [7, 1_000, 500],
      [3, 3, 0],
    ] as const) {
      const u = Int32Array.from({ length: n }, () => Math.floor(random() * rows * 0.8))
      const i = Uint32Array.from({ length: n }, () => Math.floor(random() * cols))
      const r = Float32Array.from({ length: n }, () => random() * 3 + 0.1)
      const lean = csrFromRatings(rows, cols, u, i, r)
      expect(lean).toEqual(csrFromTriples(rows, cols, u, i, r))
      expect(lean.values).toBeInstanceOf(Float32Array)
      expect(lean.indices).toBeInstanceOf(Uint32Array)
    }
  })

  it('should sum duplicates once in float64, in input order', () => {
    const m = csrFromRatings(
      2,
      4,
      Int32Array.from([1, 0, 1, 1, 0]),
      Uint32Array.from([2, 3, 2, 0, 3]),
      Float32Array.from([0.1, 5, 0.2, 7, 6]),
    )
    expect(Array.from(m.indptr)).toEqual([0, 1, 3])
    expect(Array.from(m.indices)).toEqual([3, 0, 2])
    expect(Array.from(m.values)).toEqual([11, 7, Math.fround(Math.fround(0.1) + Math.fround(0.2))])
    expect(Array.from(m.timestamps)).toEqual([0, 0, 0])
  })
})
