import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isEdgerecError } from '../../errors.js'
import { quantizeRows, quantizeVector } from '../../quantize/quantize.js'
import { mulberry32 } from '../../random.test-support.js'
import { dotsInt8 } from '../dots.js'
import { blockFromQuantized, type ItemBlock, recommendTopK } from '../score.js'
import { similarItems } from '../similar.js'
import {
  bundledInt8KernelBytes,
  createInt8Kernel,
  type Int8DotKernel,
  jsInt8Kernel,
  WasmInt8Kernel,
} from './int8-kernel.js'

const bytes = bundledInt8KernelBytes()

/** Each Wasm kernel on its own, so both ISAs are tested even where relaxed SIMD would win. */
function wasmKernels(dims: number, residentRows = 0, chunkRows = 64): WasmInt8Kernel[] {
  const relaxed = createInt8Kernel({ relaxed: bytes.relaxed }, { dims, residentRows, chunkRows })
  const simd = createInt8Kernel({ simd: bytes.simd }, { dims, residentRows, chunkRows })
  return [relaxed, simd].filter((k): k is WasmInt8Kernel => k instanceof WasmInt8Kernel)
}

const int8 = fc.integer({ min: -127, max: 127 })

describe('createInt8Kernel', () => {
  it('should run both the relaxed-SIMD and the SIMD128 module in this runtime (Node 24 validates both)', () => {
    expect(wasmKernels(64).map((k) => k.isa)).toEqual(['relaxed-simd', 'simd'])
    expect(createInt8Kernel(bytes, { dims: 64 }).isa).toBe('relaxed-simd')
  })

  it('should fall back to the JS kernel when forced or when no module is given', () => {
    expect(createInt8Kernel(bytes, { dims: 64, forceJs: true })).toBe(jsInt8Kernel)
    expect(createInt8Kernel({}, { dims: 64 })).toBe(jsInt8Kernel)
  })

  it('should skip a module that does not validate and take the next one', () => {
    const broken = bytes.relaxed.slice()
    broken[broken.length - 3] = 0xff
    expect(createInt8Kernel({ relaxed: broken, simd: bytes.simd }, { dims: 8 }).isa).toBe('simd')
  })

  it('should reject dims < 1 with INVALID_ARGUMENT', () => {
    try {
      createInt8Kernel(bytes, { dims: 0 })
      expect.unreachable()
    } catch (error) {
      expect(isEdgerecError(error) && error.code).toBe('INVALID_ARGUMENT')
    }
  })
})

describe('WasmInt8Kernel.dots', () => {
  it('should equal the JS kernel exactly for any int8 values, dims and row ranges (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 80 }).chain((dims) =>
          fc.record({
            dims: fc.constant(dims),
            query: fc.array(int8, { minLength: dims, maxLength: dims }),
            rows: fc
              .integer({ min: 1, max: 70 })
              .chain((rows) => fc.array(int8, { minLength: rows * dims, maxLength: rows * dims })),
            start: fc.nat(),
          }),
        ),
        ({ dims, query, rows, start }) => {
          const q = Int8Array.from(query)
          const factors = Int8Array.from(rows)
          const total = factors.length / dims
          const rowStart = start % total
          const count = Math.min(64, total - rowStart)
          const want = dotsInt8(q, factors, dims, rowStart, count, new Int32Array(count))
          for (const kernel of wasmKernels(dims)) {
            expect(Array.from(kernel.dots(q, factors, dims, rowStart, count)), kernel.isa).toEqual(
              Array.from(want),
            )
          }
        },
      ),
      { numRuns: 200 },
    )
  })

  it('should be exact at the extremes (every product ±127², the i7 operand at its limits)', () => {
    const dims = 64
    for (const [qv, xv] of [
      [127, 127],
      [-127, 127],
      [127, -127],
      [-127, -127],
    ] as const) {
      const q = new Int8Array(dims).fill(qv)
      const factors = new Int8Array(5 * dims).fill(xv)
      for (const kernel of wasmKernels(dims)) {
        expect(Array.from(kernel.dots(q, factors, dims, 0, 5)), `${kernel.isa} ${qv}·${xv}`).toEqual(
          new Array(5).fill(qv * xv * dims),
        )
      }
    }
  })

  it('should read resident rows in place and give the same sums as a copy of them', () => {
    const dims = 24
    const rows = 203
    const random = mulberry32(11)
    const factors = Int8Array.from({ length: rows * dims }, () => Math.floor(random() * 255) - 127)
    const q = Int8Array.from({ length: dims }, () => Math.floor(random() * 255) - 127)
    for (const kernel of wasmKernels(dims, rows, 32)) {
      kernel.resident.set(factors)
      for (let start = 0; start < rows; start += 32) {
        const count = Math.min(32, rows - start)
        const want = dotsInt8(q, factors, dims, start, count, new Int32Array(count))
        expect(Array.from(kernel.dots(q, kernel.resident, dims, start, count))).toEqual(Array.from(want))
      }
    }
  })

  it('should refuse a call with other dims or more rows than chunkRows', () => {
    const [kernel] = wasmKernels(16, 0, 8)
    expect(() => kernel!.dots(new Int8Array(8), new Int8Array(64), 8, 0, 1)).toThrow(/16 dims/)
    expect(() => kernel!.dots(new Int8Array(16), new Int8Array(16 * 9), 16, 0, 9)).toThrow(/chunkRows/)
  })
})

describe('recommendTopK and similarItems with a Wasm kernel', () => {
  function model(rows: number, dims: number, seed: number): { blocks: ItemBlock[]; users: Float32Array[] } {
    const random = mulberry32(seed)
    const factors = Float32Array.from({ length: rows * dims }, () => random() - 0.5)
    const blocks: ItemBlock[] = []
    for (let start = 0; start < rows; start += 997) {
      const end = Math.min(rows, start + 997)
      const m = quantizeRows(factors.subarray(start * dims, end * dims), end - start, dims)
      blocks.push(blockFromQuantized(m, start))
    }
    const users = Array.from({ length: 6 }, () => Float32Array.from({ length: dims }, () => random() - 0.5))
    return { blocks, users }
  }

  it('should rank exactly as the JS scorer (indices and scores), exclusions included (property)', () => {
    const { blocks, users } = model(5000, 64, 3)
    const kernels: Int8DotKernel[] = wasmKernels(64, 0, 512)
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: users.length - 1 }),
        fc.integer({ min: 1, max: 40 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 4999 }), { maxLength: 30 }),
        (u, k, excluded) => {
          const user = quantizeVector(users[u]!)
          const exclude = new Set(excluded)
          const want = recommendTopK(user, blocks, k, exclude)
          for (const kernel of kernels) {
            const got = recommendTopK(user, blocks, k, exclude, kernel)
            expect(Array.from(got.indices)).toEqual(Array.from(want.indices))
            expect(Array.from(got.scores)).toEqual(Array.from(want.scores))
          }
        },
      ),
      { numRuns: 40 },
    )
  })

  it('should find the same similar items as the JS scorer', () => {
    const { blocks } = model(3000, 40, 5)
    for (const kernel of wasmKernels(40, 0, 256)) {
      for (const index of [0, 996, 997, 2999]) {
        const want = similarItems(blocks, index, 12, new Set([1, 2, 3]))!
        const got = similarItems(blocks, index, 12, new Set([1, 2, 3]), kernel)!
        expect(Array.from(got.indices)).toEqual(Array.from(want.indices))
        expect(Array.from(got.scores)).toEqual(Array.from(want.scores))
        expect(Array.from(got.indices)).not.toContain(index)
      }
    }
  })
})
