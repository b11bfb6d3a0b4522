import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isEdgerecError } from '../../errors.js'
import { mulberry32 } from '../../random.test-support.js'
import {
  bundledFloat32KernelBytes,
  createFloat32Kernel,
  jsFloat32Kernel,
  topKFloat32,
  WasmFloat32Kernel,
} from './f32-kernel.js'

const bytes = bundledFloat32KernelBytes()

/** The scalar reference: Σ in float64, rounded once to float32. */
function reference(query: Float32Array, factors: Float32Array, dims: number, row: number): number {
  let s = 0
  for (let d = 0; d < dims; d++) s += query[d]! * factors[row * dims + d]!
  return Math.fround(s)
}

/** Brute-force top k (score desc, index asc) with exclusions, on reference scores. */
function referenceTopK(
  query: Float32Array,
  factors: Float32Array,
  rows: number,
  dims: number,
  k: number,
  exclude: Set<number>,
) {
  const all: [number, number][] = []
  for (let r = 0; r < rows; r++) if (!exclude.has(r)) all.push([r, reference(query, factors, dims, r)])
  all.sort((a, b) => b[1] - a[1] || a[0] - b[0])
  return all.slice(0, k).map(([r]) => r)
}

function wasmKernel(dims: number, residentRows = 0, chunkRows = 64): WasmFloat32Kernel {
  const kernel = createFloat32Kernel(bytes, { dims, residentRows, chunkRows })
  if (!(kernel instanceof WasmFloat32Kernel))
    throw new Error('Node 24 validates SIMD128: expected the Wasm kernel')
  return kernel
}

function randomMatrix(seed: number, length: number): Float32Array {
  const random = mulberry32(seed)
  return Float32Array.from({ length }, () => random() * 2 - 1)
}

describe('createFloat32Kernel', () => {
  it('should run the SIMD128 module in this runtime (Node 24 validates it)', () => {
    expect(createFloat32Kernel(bytes, { dims: 64 }).isa).toBe('simd')
  })

  it('should fall back to the JS kernel when forced, when no module is given or when it does not validate', () => {
    expect(createFloat32Kernel(bytes, { dims: 64, forceJs: true }).isa).toBe('js')
    expect(createFloat32Kernel({}, { dims: 64 }).isa).toBe('js')
    const broken = bytes.simd.slice()
    broken[broken.length - 3] = 0xff
    expect(createFloat32Kernel({ simd: broken }, { dims: 8 }).isa).toBe('js')
  })

  it('should reject dims < 1 with INVALID_ARGUMENT', () => {
    try {
      createFloat32Kernel(bytes, { dims: 0 })
      expect.unreachable()
    } catch (error) {
      expect(isEdgerecError(error) && error.code).toBe('INVALID_ARGUMENT')
    }
  })
})

describe('WasmFloat32Kernel.dots', () => {
  it('should equal the JS kernel exactly on small integers for any dims and row range (property)', () => {
    const small = fc.integer({ min: -20, max: 20 })
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 70 }).chain((dims) =>
          fc.record({
            dims: fc.constant(dims),
            query: fc.array(small, { minLength: dims, maxLength: dims }),
            rows: fc
              .integer({ min: 1, max: 70 })
              .chain((rows) => fc.array(small, { minLength: rows * dims, maxLength: rows * dims })),
            start: fc.nat(),
          }),
        ),
        ({ dims, query, rows, start }) => {
          const q = Float32Array.from(query)
          const factors = Float32Array.from(rows)
          const total = factors.length / dims
          const rowStart = start % total
          const count = Math.min(64, total - rowStart)
          const want = jsFloat32Kernel().dots(q, factors, dims, rowStart, count)
          expect(Array.from(wasmKernel(dims).dots(q, factors, dims, rowStart, count))).toEqual(
            Array.from(want),
          )
        },
      ),
      { numRuns: 150 },
    )
  })

  it('should match the scalar float64 reference within float32 rounding on random data (dims 1–67)', () => {
    for (const dims of [1, 2, 3, 4, 5, 7, 16, 31, 64, 67]) {
      const rows = 300
      const factors = randomMatrix(dims, rows * dims)
      const query = randomMatrix(dims + 1000, dims)
      const kernel = wasmKernel(dims, rows, 128)
      kernel.resident.set(factors)
      for (let start = 0; start < rows; start += 128) {
        const count = Math.min(128, rows - start)
        const got = kernel.dots(query, kernel.resident, dims, start, count)
        for (let r = 0; r < count; r++) {
          const want = reference(query, factors, dims, start + r)
          // |Σ| ≤ dims here; float32 accumulation error ≤ dims · 2⁻²³ · Σ|x y| ≤ dims² · 2⁻²³.
          expect(Math.abs(got[r]! - want), `dims ${dims} row ${start + r}`).toBeLessThanOrEqual(
            dims * dims * 2 ** -23 + 1e-7,
          )
        }
      }
    }
  })

  it('should read resident rows in place and foreign rows through the scratch area alike', () => {
    const dims = 13
    const rows = 50
    const factors = randomMatrix(3, rows * dims)
    const query = randomMatrix(4, dims)
    const kernel = wasmKernel(dims, rows, 64)
    kernel.resident.set(factors)
    const inPlace = Array.from(kernel.dots(query, kernel.resident, dims, 5, 40))
    expect(Array.from(kernel.dots(query, factors, dims, 5, 40))).toEqual(inPlace)
  })

  it('should return an empty array for zero rows and reject wrong dims or too many rows', () => {
    const kernel = wasmKernel(8, 0, 16)
    expect(kernel.dots(new Float32Array(8), new Float32Array(0), 8, 0, 0)).toHaveLength(0)
    expect(() => kernel.dots(new Float32Array(8), new Float32Array(80), 7, 0, 1)).toThrow(/8 dims/)
    expect(() => kernel.dots(new Float32Array(8), new Float32Array(8 * 17), 8, 0, 17)).toThrow(/≤ 16 rows/)
  })
})

describe('topKFloat32', () => {
  it('should return the scalar reference top k with exclusions (overlap ≥ 0.99 on random data)', () => {
    const dims = 64
    const rows = 5000
    const k = 20
    const factors = randomMatrix(11, rows * dims)
    const kernel = wasmKernel(dims, rows, 512)
    kernel.resident.set(factors)
    let shared = 0
    let total = 0
    for (let u = 0; u < 20; u++) {
      const query = randomMatrix(100 + u, dims)
      const exclude = new Set(Array.from({ length: 30 }, (_, i) => (i * 97 + u) % rows))
      const got = topKFloat32(kernel, query, kernel.resident, rows, dims, k, exclude)
      const want = referenceTopK(query, factors, rows, dims, k, exclude)
      for (const i of got.indices) expect(exclude.has(i)).toBe(false)
      const wanted = new Set(want)
      for (const i of got.indices) if (wanted.has(i)) shared++
      total += k
      // The JS kernel rounds like the reference: identical lists.
      expect(
        Array.from(topKFloat32(jsFloat32Kernel(), query, factors, rows, dims, k, exclude).indices),
      ).toEqual(want)
    }
    expect(shared / total).toBeGreaterThanOrEqual(0.99)
  })

  it('should return every non-excluded row when k > rows, and nothing for no rows or k = 0', () => {
    const dims = 6
    const factors = randomMatrix(5, 10 * dims)
    const query = randomMatrix(6, dims)
    const kernel = wasmKernel(dims, 10, 4)
    kernel.resident.set(factors)
    const all = topKFloat32(kernel, query, kernel.resident, 10, dims, 50, new Set([2, 3]))
    expect(all.indices).toHaveLength(8)
    expect(Array.from(all.indices).sort((a, b) => a - b)).toEqual([0, 1, 4, 5, 6, 7, 8, 9])
    for (let r = 1; r < all.scores.length; r++)
      expect(all.scores[r - 1]!).toBeGreaterThanOrEqual(all.scores[r]!)
    expect(topKFloat32(kernel, query, kernel.resident, 0, dims, 5).indices).toHaveLength(0)
    expect(topKFloat32(kernel, query, kernel.resident, 10, dims, 0).indices).toHaveLength(0)
  })

  it('should break exact ties to the lower index', () => {
    const dims = 4
    const factors = new Float32Array([1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0])
    const kernel = wasmKernel(dims, 4, 2)
    kernel.resident.set(factors)
    const top = topKFloat32(kernel, new Float32Array([1, 0, 0, 0]), kernel.resident, 4, dims, 3)
    expect(Array.from(top.indices)).toEqual([1, 3, 0])
  })
})
