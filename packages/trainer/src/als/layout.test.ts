import { describe, expect, it } from 'vitest'
import { balancedChunks, planLayout, ROW_CHUNK, taskChunks } from './layout.js'

describe('balancedChunks', () => {
  it('should cover every row once, in order, with at most ROW_CHUNK rows per chunk', () => {
    const rows = 1000
    const indptr = Uint32Array.from({ length: rows + 1 }, (_, r) => r * 3)
    const starts = balancedChunks(indptr, rows, 16)
    expect(starts[0]).toBe(0)
    expect(starts.at(-1)).toBe(rows)
    for (let c = 0; c + 1 < starts.length; c++) {
      expect(starts[c + 1]! - starts[c]!).toBeGreaterThan(0)
      expect(starts[c + 1]! - starts[c]!).toBeLessThanOrEqual(ROW_CHUNK)
    }
  })

  it('should give a power-law head its own small chunks instead of one giant chunk', () => {
    // Row r has ⌈20000 / (r + 1)⌉ interactions, like items sorted by popularity.
    const rows = 2000
    const indptr = new Uint32Array(rows + 1)
    for (let r = 0; r < rows; r++) indptr[r + 1] = indptr[r]! + Math.ceil(20000 / (r + 1))
    const starts = balancedChunks(indptr, rows, 64)
    const work = (c: number): number =>
      32 * (starts[c + 1]! - starts[c]!) + indptr[starts[c + 1]!]! - indptr[starts[c]!]!
    const total = 32 * rows + indptr[rows]!
    const target = Math.max(32 * ROW_CHUNK, total / 256)
    // A fixed first chunk of 128 rows would hold over half of the work; balanced chunks hold at
    // most the target, except a single row that is heavier than that on its own.
    expect(work(0) / total).toBeLessThan(0.15)
    expect(starts[1]).toBe(1)
    for (let c = 0; c + 1 < starts.length; c++) {
      if (starts[c + 1]! - starts[c]! > 1) expect(work(c)).toBeLessThanOrEqual(target)
    }
  })

  it('should be what the solve tasks count once a layout is rebalanced', () => {
    const layout = planLayout(300, 10, 0, 8, 1)
    expect(taskChunks(layout, { kind: 'solve', side: 'users', solver: 'cg', cgSteps: 3 })).toBe(
      Math.ceil(300 / ROW_CHUNK),
    )
    layout.userChunks = Uint32Array.from([0, 1, 300])
    expect(taskChunks(layout, { kind: 'solve', side: 'users', solver: 'cg', cgSteps: 3 })).toBe(2)
  })
})
