import { describe, expect, it } from 'vitest'
import { isEdgerecError, ModelFitError } from '../errors.js'
import { quantizeRows } from '../quantize/quantize.js'
import { mulberry32, randomFloats, randomInt } from '../random.test-support.js'
import { blockFromQuantized } from '../scoring/score.js'
import { choleskyFactor, solveSpd } from './cholesky.js'
import {
  explainScore,
  foldInUser,
  type ItemVectorReader,
  itemReaderFromBlocks,
  type WeightedInteraction,
} from './fold-in.js'

/** Reference solver, independent of the Cholesky code: Gaussian elimination with partial pivoting. */
function gaussSolve(matrix: readonly number[][], rhs: readonly number[]): number[] {
  const n = rhs.length
  const a = matrix.map((row, i) => [...row, rhs[i]!])
  for (let col = 0; col < n; col++) {
    let pivot = col
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r]![col]!) > Math.abs(a[pivot]![col]!)) pivot = r
    ;[a[col], a[pivot]] = [a[pivot]!, a[col]!]
    for (let r = col + 1; r < n; r++) {
      const f = a[r]![col]! / a[col]![col]!
      for (let c = col; c <= n; c++) a[r]![c]! -= f * a[col]![c]!
    }
  }
  const x = new Array<number>(n).fill(0)
  for (let r = n - 1; r >= 0; r--) {
    let s = a[r]![n]!
    for (let c = r + 1; c < n; c++) s -= a[r]![c]! * x[c]!
    x[r] = s / a[r]![r]!
  }
  return x
}

/** Item factors as rows of float64. */
type Rows = number[][]

function rowsOf(flat: ArrayLike<number>, rows: number, dims: number): Rows {
  return Array.from({ length: rows }, (_, r) => Array.from({ length: dims }, (_, d) => flat[r * dims + d]!))
}

/** YᵀY + λI, flattened row-major, as the trainer exports it in the gram shard. */
function gramOf(y: Rows, lambda: number): Float64Array {
  const dims = y[0]!.length
  const g = new Float64Array(dims * dims)
  for (const row of y) {
    for (let i = 0; i < dims; i++)
      for (let j = 0; j < dims; j++) g[i * dims + j] = g[i * dims + j]! + row[i]! * row[j]!
  }
  for (let i = 0; i < dims; i++) g[i * dims + i] = g[i * dims + i]! + lambda
  return g
}

/**
 * The implicit-ALS user problem written out over every item (Hu, Koren & Volinsky 2008, eq. 3):
 * minimise Σ_i c_ui (p_ui − xᵀy_i)² + λ‖x‖², with c_ui = 1, p_ui = 0 for unobserved items.
 * Its normal equations are (Yᵀ C Y + λI) x = Yᵀ C p, built here densely without the YᵀY shortcut.
 */
function denseNormalEquations(y: Rows, confidence: Map<number, number>, lambda: number) {
  const dims = y[0]!.length
  const a = Array.from({ length: dims }, (_, i) =>
    Array.from({ length: dims }, (_, j) => (i === j ? lambda : 0)),
  )
  const b = new Array<number>(dims).fill(0)
  y.forEach((row, item) => {
    const c = confidence.get(item) ?? 1
    const p = confidence.has(item) ? 1 : 0
    for (let i = 0; i < dims; i++) {
      b[i]! += c * p * row[i]!
      for (let j = 0; j < dims; j++) a[i]![j]! += c * row[i]! * row[j]!
    }
  })
  return { a, b }
}

function lossOf(x: readonly number[], y: Rows, confidence: Map<number, number>, lambda: number): number {
  let loss = lambda * x.reduce((s, v) => s + v * v, 0)
  y.forEach((row, item) => {
    const c = confidence.get(item) ?? 1
    const p = confidence.has(item) ? 1 : 0
    const e = p - row.reduce((s, v, d) => s + v * x[d]!, 0)
    loss += c * e * e
  })
  return loss
}

const readerOf =
  (y: Rows): ItemVectorReader =>
  (index, out) => {
    const row = y[index]
    if (!row) return false
    out.set(row)
    return true
  }

function randomInteractions(random: () => number, items: number, n: number): WeightedInteraction[] {
  return Array.from({ length: n }, () => ({ index: randomInt(random, items), confidence: 1 + 39 * random() }))
}

function expectVectorClose(got: ArrayLike<number>, want: readonly number[], relative = 2e-6): void {
  const scale = Math.max(...want.map(Math.abs))
  for (let d = 0; d < want.length; d++)
    expect(Math.abs(got[d]! - want[d]!)).toBeLessThanOrEqual(relative * scale)
}

describe('foldInUser', () => {
  it('should equal an independent dense solve of the same normal equations, on int8 item shards', () => {
    const random = mulberry32(31)
    for (const [items, dims, lambda] of [
      [40, 8, 0.05],
      [120, 32, 1],
      [15, 64, 0.1],
    ] as const) {
      const q = quantizeRows(randomFloats(random, items * dims), items, dims)
      // y_i = s_i · q_i in float64, as the shard reader computes it (dequantizeRows would round to float32).
      const y = rowsOf(
        Array.from(q.values, (v, i) => q.scales[Math.floor(i / dims)]! * v),
        items,
        dims,
      )
      const interactions = randomInteractions(random, items, 10)
      const merged = new Map<number, number>()
      for (const { index, confidence } of interactions)
        merged.set(index, (merged.get(index) ?? 0) + confidence)
      const { a, b } = denseNormalEquations(y, merged, lambda)
      const want = gaussSolve(a, b)
      const got = foldInUser(
        gramOf(y, lambda),
        dims,
        interactions,
        itemReaderFromBlocks([blockFromQuantized(q)]),
      )
      expect(got.vector).toHaveLength(dims)
      expectVectorClose(got.vector, want)
    }
  })

  it('should reproduce the user factors of an ALS run that ends with the user step', () => {
    // A tiny implicit ALS with exact solves (the reference above), 12 users × 30 items × 5 factors.
    const random = mulberry32(32)
    const users = 12
    const items = 30
    const dims = 5
    const lambda = 0.1
    const observed = Array.from({ length: users }, () => {
      const m = new Map<number, number>()
      for (const { index, confidence } of randomInteractions(random, items, 6)) m.set(index, confidence)
      return m
    })
    let y = rowsOf(
      Array.from({ length: items * dims }, () => random() * 0.1),
      items,
      dims,
    )
    let x: Rows = []
    for (let iteration = 0; iteration < 4; iteration++) {
      x = observed.map((m) => {
        const { a, b } = denseNormalEquations(y, m, lambda)
        return gaussSolve(a, b)
      })
      if (iteration === 3) break // end on the user step: x is optimal for the final Y
      y = Array.from({ length: items }, (_, i) => {
        const m = new Map<number, number>()
        observed.forEach((o, u) => {
          if (o.has(i)) m.set(u, o.get(i)!)
        })
        const { a, b } = denseNormalEquations(x, m, lambda)
        return gaussSolve(a, b)
      })
    }
    const gram = gramOf(y, lambda)
    observed.forEach((m, u) => {
      const interactions = [...m].map(([index, confidence]) => ({ index, confidence }))
      const { vector } = foldInUser(gram, dims, interactions, readerOf(y))
      expectVectorClose(vector, x[u]!)
      // x is the minimiser of the ALS loss: nudging it any way does not lower the loss.
      const at = Array.from(vector, Number)
      const base = lossOf(at, y, m, lambda)
      for (let t = 0; t < 10; t++) {
        const nudged = at.map((v) => v + (random() - 0.5) * 1e-3)
        expect(lossOf(nudged, y, m, lambda)).toBeGreaterThanOrEqual(base - 1e-9)
      }
    })
  })

  it('should sum duplicate interactions and drop unknown items, non-finite and non-positive confidences', () => {
    const random = mulberry32(33)
    const y = rowsOf(randomFloats(random, 10 * 4), 10, 4)
    const gram = gramOf(y, 0.5)
    const withDuplicates = foldInUser(
      gram,
      4,
      [
        { index: 3, confidence: 2 },
        { index: 7, confidence: 1 },
        { index: 3, confidence: 1.5 },
        { index: 99, confidence: 5 }, // unknown item
        { index: 5, confidence: Number.NaN },
        { index: 6, confidence: 2 },
        { index: 6, confidence: -2 }, // sums to 0: nothing to fold in
      ],
      readerOf(y),
    )
    const merged = foldInUser(
      gram,
      4,
      [
        { index: 3, confidence: 3.5 },
        { index: 7, confidence: 1 },
      ],
      readerOf(y),
    )
    expect(withDuplicates.used).toEqual([
      { index: 3, confidence: 3.5 },
      { index: 7, confidence: 1 },
    ])
    expect(Array.from(withDuplicates.vector)).toEqual(Array.from(merged.vector))
  })

  it('should count negative feedback against its item: p = 0 with confidence 1 + |c| (dense reference)', () => {
    const random = mulberry32(41)
    const y = rowsOf(randomFloats(random, 12 * 4), 12, 4)
    const gram = gramOf(y, 0.5)
    const positive = [
      { index: 1, confidence: 3 },
      { index: 2, confidence: 2 },
    ]
    const withDislike = foldInUser(gram, 4, [...positive, { index: 5, confidence: -4 }], readerOf(y))
    // Reference: A = G + Σ⁺ (c − 1) y yᵀ + 4 y₅ y₅ᵀ, b = Σ⁺ c y.
    const a = Array.from({ length: 4 }, (_, i) => Array.from({ length: 4 }, (_, j) => gram[i * 4 + j]!))
    const b = [0, 0, 0, 0]
    for (const { index, confidence } of positive) {
      for (let i = 0; i < 4; i++) {
        b[i]! += confidence * y[index]![i]!
        for (let j = 0; j < 4; j++) a[i]![j]! += (confidence - 1) * y[index]![i]! * y[index]![j]!
      }
    }
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) a[i]![j]! += 4 * y[5]![i]! * y[5]![j]!
    const expected = gaussSolve(a, b)
    for (let d = 0; d < 4; d++) expect(withDislike.vector[d]!).toBeCloseTo(expected[d]!, 5)
    expect(withDislike.used.map((u) => u.index)).toEqual([1, 2])
    // The disliked item scores lower than without the dislike.
    const without = foldInUser(gram, 4, positive, readerOf(y))
    const score = (x: Float32Array) => x.reduce((s, v, d) => s + v * y[5]![d]!, 0)
    expect(Math.abs(score(withDislike.vector))).toBeLessThan(Math.abs(score(without.vector)))
  })

  it('should return the zero vector for a user without usable interactions', () => {
    const y = rowsOf([1, 0, 0, 1], 2, 2)
    const { vector, used } = foldInUser(gramOf(y, 0.1), 2, [], readerOf(y))
    expect([Array.from(vector), used]).toEqual([[0, 0], []])
  })

  it('should throw ModelFitError when A_u is not positive definite', () => {
    const y = rowsOf([1, 0, 0, 1], 2, 2)
    const cases: Float64Array[] = [
      new Float64Array(4), // YᵀY + λI with λ = 0 and no items
      Float64Array.from([-1, 0, 0, -1]),
      Float64Array.from([1, 2, 2, 1]), // indefinite
      Float64Array.from([Number.NaN, 0, 0, 1]),
    ]
    for (const gram of cases) {
      let caught: unknown
      try {
        foldInUser(gram, 2, [{ index: 0, confidence: 1 }], readerOf(y))
      } catch (e) {
        caught = e
      }
      expect(caught).toBeInstanceOf(ModelFitError)
      expect((caught as ModelFitError).code).toBe('NOT_POSITIVE_DEFINITE')
    }
  })

  it('should reject a gram matrix of the wrong size with INVALID_ARGUMENT', () => {
    let caught: unknown
    try {
      foldInUser(new Float64Array(5), 2, [], () => false)
    } catch (e) {
      caught = e
    }
    expect(isEdgerecError(caught) && caught.code).toBe('INVALID_ARGUMENT')
  })
})

describe('explainScore', () => {
  it('should split the score xᵀy_i into per-item contributions that sum to it, largest first', () => {
    const random = mulberry32(34)
    const items = 50
    const dims = 16
    const y = rowsOf(randomFloats(random, items * dims), items, dims)
    const fold = foldInUser(gramOf(y, 0.2), dims, randomInteractions(random, items, 12), readerOf(y))
    for (const target of [0, 17, 49]) {
      const score = y[target]!.reduce((s, v, d) => s + v * fold.vector[d]!, 0)
      const all = explainScore(fold, y[target]!, fold.used.length)
      expect(all).toHaveLength(fold.used.length)
      const sum = all.reduce((s, c) => s + c.contribution, 0)
      expect(Math.abs(sum - score)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(score)))
      for (let j = 1; j < all.length; j++)
        expect(all[j - 1]!.contribution).toBeGreaterThanOrEqual(all[j]!.contribution)
      expect(new Set(all.map((c) => c.index))).toEqual(new Set(fold.used.map((u) => u.index)))
      expect(explainScore(fold, y[target]!)).toEqual(all.slice(0, 3))
    }
  })
})

describe('cholesky', () => {
  it('should solve SPD systems like the reference solver', () => {
    const random = mulberry32(35)
    const n = 24
    const m = rowsOf(randomFloats(random, n * n), n, n)
    // A = MᵀM + I is symmetric positive definite.
    const a = Array.from({ length: n }, (_, i) =>
      Array.from({ length: n }, (_, j) => m.reduce((s, row) => s + row[i]! * row[j]!, 0) + (i === j ? 1 : 0)),
    )
    const b = Array.from(randomFloats(random, n))
    const x = solveSpd(a.flat(), n, b)
    expectVectorClose(x, gaussSolve(a, b), 1e-9)
    const l = Float64Array.from(a.flat())
    choleskyFactor(l, n)
    // L Lᵀ reproduces A.
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        let s = 0
        for (let k = 0; k <= j; k++) s += l[i * n + k]! * l[j * n + k]!
        expect(s).toBeCloseTo(a[i]![j]!, 9)
      }
    }
  })
})
