import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isEdgerecError } from '../errors.js'
import {
  dequantizeRowInto,
  dequantizeRows,
  quantizeRowInto,
  quantizeRows,
  quantizeVector,
  roundHalfAwayFromZero,
} from './quantize.js'

const SEED = 20261124
const MIN_NORMAL_FLOAT32 = 2 ** -126

/** Rows of finite doubles of any magnitude that float32 factors can have. */
const row = (minLength = 1, maxLength = 128) =>
  fc.array(fc.double({ min: -1e30, max: 1e30, noNaN: true }), { minLength, maxLength })

/** Rows of float32 values, including subnormals and both zeros. */
const float32Row = fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), {
  minLength: 1,
  maxLength: 96,
})

/** Pairs of same-length rows with factor-like magnitudes. */
const rowPair = fc
  .integer({ min: 1, max: 128 })
  .chain((n) =>
    fc.tuple(
      fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: n, maxLength: n }),
      fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: n, maxLength: n }),
    ),
  )

function maxAbs(x: readonly number[]): number {
  return x.reduce((m, v) => Math.max(m, Math.abs(v)), 0)
}

describe('roundHalfAwayFromZero', () => {
  it('should round halves away from zero on both sides', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5].map(roundHalfAwayFromZero)).toEqual([1, 2, 3, -1, -2, -3])
    expect([0.49999999999999994, -0.49999999999999994, 1.4, -1.6, 0, -0].map(roundHalfAwayFromZero)).toEqual([
      0, -0, 1, -2, 0, -0,
    ])
  })
})

describe('quantizeRowInto / quantizeVector', () => {
  it('should use s = max|x| / 127 (as float32) and map the largest element to ±127', () => {
    fc.assert(
      fc.property(row(), (x) => {
        const { values, scale } = quantizeVector(x)
        const m = maxAbs(x)
        if (Math.fround(m / 127) < MIN_NORMAL_FLOAT32) {
          expect(scale).toBe(0)
          expect(Array.from(values).every((q) => q === 0)).toBe(true)
          return
        }
        expect(scale).toBe(Math.fround(m / 127))
        expect(Math.max(...Array.from(values, Math.abs))).toBe(127)
      }),
      { seed: SEED, numRuns: 500 },
    )
  })

  it('should reconstruct every element within scale / 2 (property)', () => {
    for (const arb of [row(), float32Row]) {
      fc.assert(
        fc.property(arb, (x) => {
          const { values, scale } = quantizeVector(x)
          for (let i = 0; i < x.length; i++) {
            expect(values[i]! >= -127 && values[i]! <= 127).toBe(true)
            const error = Math.abs(x[i]! - scale * values[i]!)
            if (scale > 0) {
              // x / s is computed in float64: allow its rounding (≤ 127 · 2⁻⁵³ relative to s).
              expect(error).toBeLessThanOrEqual((scale / 2) * (1 + 1e-12))
            } else {
              // s would be subnormal in float32 (too coarse for the s/2 bound): the row is flushed to zero.
              expect(values[i]).toBe(0)
              expect(Math.abs(x[i]!)).toBeLessThan(127 * MIN_NORMAL_FLOAT32)
            }
          }
        }),
        { seed: SEED, numRuns: 1000 },
      )
    }
  })

  it('should bound the int8 dot-product error (property)', () => {
    // Write x = x̂ + e and y = ŷ + f with x̂ = s_x q_x, ŷ = s_y q_y, |e_i| ≤ s_x/2, |f_i| ≤ s_y/2. Then
    //   x·y − x̂·ŷ = x·f + e·y − e·f
    // so  |x·y − s_x s_y Σ q_x q_y| ≤ (s_y/2)‖x‖₁ + (s_x/2)‖y‖₁ + n s_x s_y / 4.
    fc.assert(
      fc.property(rowPair, ([x, y]) => {
        const qx = quantizeVector(x)
        const qy = quantizeVector(y)
        let exact = 0
        let intDot = 0
        let l1x = 0
        let l1y = 0
        for (let i = 0; i < x.length; i++) {
          exact += x[i]! * y[i]!
          intDot += qx.values[i]! * qy.values[i]!
          l1x += Math.abs(x[i]!)
          l1y += Math.abs(y[i]!)
        }
        const approx = qx.scale * qy.scale * intDot
        const bound = (qy.scale / 2) * l1x + (qx.scale / 2) * l1y + (x.length * qx.scale * qy.scale) / 4
        expect(Math.abs(exact - approx)).toBeLessThanOrEqual(bound * (1 + 1e-9) + 1e-12)
      }),
      { seed: SEED, numRuns: 1000 },
    )
  })

  it('should round x/s = ±0.5 and ±1.5 away from zero', () => {
    // max|x| = 127 makes s exactly 1, so x/s is exactly the value written.
    const { values, scale } = quantizeVector([127, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49, -0.49])
    expect(scale).toBe(1)
    expect(Array.from(values)).toEqual([127, 1, -1, 2, -2, 3, -3, 0, 0])
  })

  it('should clip to ±127 and never write −128', () => {
    const { values } = quantizeVector([-2, 1, 2, -1])
    expect(Array.from(values)).toEqual([-127, 64, 127, -64])
    // Values of max|x| for which fround(max|x| / 127) rounds down, so max|x| / s lands just above 127.
    let roundedDown = 0
    for (let i = 1; i < 2000; i++) {
      const m = 1 + i * 1e-4
      const s = Math.fround(m / 127)
      if (m / s > 127) {
        roundedDown++
        const q = quantizeVector([m, -m]).values
        expect(Array.from(q)).toEqual([127, -127])
      }
    }
    expect(roundedDown).toBeGreaterThan(0)
    fc.assert(
      fc.property(row(), (x) => {
        for (const q of quantizeVector(x).values) expect(q).toBeGreaterThanOrEqual(-127)
      }),
      { seed: SEED, numRuns: 300 },
    )
  })

  it('should give zero rows a zero scale and zero values', () => {
    const out = new Int8Array([9, 9, 9, 9, 9])
    expect(quantizeRowInto([1, 0, 0, -0, 7], 1, 3, out, 1)).toBe(0)
    expect(Array.from(out)).toEqual([9, 0, 0, 0, 9])
  })

  it('should flush rows whose float32 scale would be subnormal to zero', () => {
    expect(quantizeVector([2e-42, -1e-42])).toEqual({ values: new Int8Array(2), scale: 0 })
    const smallestNormalRow = quantizeVector([127 * MIN_NORMAL_FLOAT32])
    expect(smallestNormalRow.scale).toBe(MIN_NORMAL_FLOAT32)
    expect(Array.from(smallestNormalRow.values)).toEqual([127])
  })

  it('should reject NaN and Infinity with INVALID_ARGUMENT instead of writing zeros', () => {
    for (const x of [
      [1, Number.NaN],
      [Number.NaN, 1],
      [Number.POSITIVE_INFINITY],
      [1, Number.NEGATIVE_INFINITY],
    ]) {
      let caught: unknown
      try {
        quantizeVector(x)
      } catch (e) {
        caught = e
      }
      expect(isEdgerecError(caught) && caught.code).toBe('INVALID_ARGUMENT')
    }
  })
})

describe('quantizeRows / dequantizeRows', () => {
  it('should quantize each row on its own scale, including zero rows', () => {
    const m = quantizeRows([1, -2, 0, 0, 0.5, 0.25], 3, 2)
    expect(m.rows).toBe(3)
    expect(m.dims).toBe(2)
    expect(Array.from(m.scales)).toEqual([Math.fround(2 / 127), 0, Math.fround(0.5 / 127)])
    expect(Array.from(m.values)).toEqual([64, -127, 0, 0, 127, 64])
  })

  it('should dequantize to s · q exactly (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 16 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (rows, dims, seed) => {
          const x = Array.from({ length: rows * dims }, (_, i) => Math.sin(seed + i) * (i % 3 === 0 ? 0 : 3))
          const m = quantizeRows(x, rows, dims)
          const all = dequantizeRows(m)
          const one = new Float64Array(dims)
          for (let r = 0; r < rows; r++) {
            dequantizeRowInto(m, r, one)
            for (let d = 0; d < dims; d++) {
              const expected = m.scales[r]! * m.values[r * dims + d]!
              expect(one[d]).toBe(expected)
              expect(all[r * dims + d]).toBe(Math.fround(expected))
            }
          }
        },
      ),
      { seed: SEED, numRuns: 200 },
    )
  })

  it('should reject input shorter than rows × dims', () => {
    let caught: unknown
    try {
      quantizeRows([1, 2, 3], 2, 2)
    } catch (e) {
      caught = e
    }
    expect(isEdgerecError(caught) && caught.code).toBe('INVALID_ARGUMENT')
  })
})
