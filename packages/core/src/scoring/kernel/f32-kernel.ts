/**
 * Float32 dot-product kernel of offline ranking (evaluation): WebAssembly SIMD128 `f32x4` multiply-add
 * over rows resident in the kernel's memory, with a JS loop as fallback, and top-K selection in JS
 * per chunk of scores (as the int8 kernel does it), so exclusions run inside the scan.
 *
 * NOTE (exactness): unlike the int8 kernels, float32 sums depend on the order of accumulation. The
 * Wasm kernel sums four lanes in float32 (lane l: dims d ≡ l mod 4, then (l0 + l2) + (l1 + l3));
 * the JS kernel sums in float64 and rounds once. Scores may differ in the last bits, so exact ties
 * and near-ties can rank differently; everything else ranks the same.
 *
 * The kernel lives in `wasm/f32-dot-simd.wat` (built by `scripts/build-wasm.mjs`); Node passes the
 * bytes ({@link bundledFloat32KernelBytes}), bundlers may import `@edgerec/core/wasm/f32-dot-simd.wasm`.
 *
 * @module
 */
import { CoreError } from '../../errors.js'
import { type IndexFilter, TopK, type TopKResult } from '../top-k.js'
import { F32_DOT_SIMD_WASM } from './modules.generated.js'
import { align, type CompiledWasmModule, PAGE, wasmApi } from './wasm-runtime.js'

/** Which instruction set a float32 kernel runs. */
export type Float32KernelIsa = 'simd' | 'js'

/**
 * Computes float32 dot products of one query with consecutive rows of a row-major float32 matrix,
 * per chunk of at most {@link Float32DotKernel.chunkRows} rows.
 */
export interface Float32DotKernel {
  readonly isa: Float32KernelIsa
  /** Largest `rowCount` one {@link Float32DotKernel.dots} call accepts. */
  readonly chunkRows: number
  /**
   * Σ_d query[d] · factors[(rowStart + r) · dims + d] for r in [0, rowCount), as float32.
   * The returned array is owned by the kernel and valid until its next call.
   */
  dots(
    query: Float32Array,
    factors: Float32Array,
    dims: number,
    rowStart: number,
    rowCount: number,
  ): Float32Array
}

const JS_CHUNK_ROWS = 512

/**
 * The plain JS kernel: Σ in float64 with two accumulators (even and odd dims), rounded once to
 * float32. Always available; the reference of the Wasm kernel.
 */
export function jsFloat32Kernel(): Float32DotKernel {
  const out = new Float32Array(JS_CHUNK_ROWS)
  return {
    isa: 'js',
    chunkRows: JS_CHUNK_ROWS,
    dots(query, factors, dims, rowStart, rowCount) {
      if (rowCount > JS_CHUNK_ROWS) {
        throw new CoreError(
          'INVALID_ARGUMENT',
          `The JS float32 kernel takes ≤ ${JS_CHUNK_ROWS} rows per call, got ${rowCount}. Chunk scans by chunkRows.`,
        )
      }
      for (let r = 0; r < rowCount; r++) {
        const base = (rowStart + r) * dims
        let s0 = 0
        let s1 = 0
        let d = 0
        for (; d + 2 <= dims; d += 2) {
          s0 += query[d]! * factors[base + d]!
          s1 += query[d + 1]! * factors[base + d + 1]!
        }
        if (d < dims) s0 += query[d]! * factors[base + d]!
        out[r] = s0 + s1
      }
      return out.subarray(0, Math.max(0, rowCount))
    },
  }
}

/** Options of {@link createFloat32Kernel}. */
export interface Float32KernelOptions {
  /** Vector length every call uses. */
  dims: number
  /**
   * Rows of a matrix that lives inside the kernel's memory ({@link WasmFloat32Kernel.resident});
   * the caller copies its factors there once. Rows of any other array are copied into a scratch
   * area chunk by chunk. Default 0.
   */
  residentRows?: number
  /** Rows per call (default 4096). */
  chunkRows?: number
  /** Skip the Wasm kernel and use {@link jsFloat32Kernel}. */
  forceJs?: boolean
}

type DotsExport = (q: number, x: number, stride: number, quads: number, rows: number, out: number) => void

const MAX_PAGES = 65_536
const DEFAULT_CHUNK_ROWS = 4096

/** Byte offsets of a float32 kernel memory: query, results, scratch, resident rows, and the total. */
function kernelLayout(dims: number, residentRows: number, chunkRows: number) {
  const quads = Math.ceil(dims / 4)
  // Rows are read 16 bytes at a time: 16 bytes of slack (zeros) after a matrix.
  const slack = 16
  const outPtr = align(quads * 16, 64)
  const scratchPtr = align(outPtr + chunkRows * 4, 64)
  const residentPtr = align(scratchPtr + chunkRows * dims * 4 + slack, 64)
  const pages = Math.max(1, Math.ceil((residentPtr + residentRows * dims * 4 + slack) / PAGE))
  return { quads, outPtr, scratchPtr, residentPtr, pages }
}

/** Bytes of the linear memory of a {@link WasmFloat32Kernel} (exact). */
export function wasmFloat32KernelByteLength(
  dims: number,
  residentRows: number,
  chunkRows: number = DEFAULT_CHUNK_ROWS,
): number {
  return kernelLayout(dims, residentRows, chunkRows).pages * PAGE
}

/**
 * A float32 Wasm kernel instance with its own fixed-size linear memory (never grown, so views
 * stay valid): the query, the results, a scratch area for foreign rows, and the resident matrix.
 * Create with {@link createFloat32Kernel}.
 */
export class WasmFloat32Kernel implements Float32DotKernel {
  readonly isa = 'simd' as const
  readonly chunkRows: number
  readonly dims: number
  /** The resident matrix (`residentRows × dims`), a view into the kernel memory: fill it once. */
  readonly resident: Float32Array
  /** Bytes of the kernel's linear memory. */
  readonly byteLength: number
  readonly #buffer: ArrayBuffer
  readonly #dots: DotsExport
  readonly #quads: number
  readonly #outPtr: number
  readonly #scratchPtr: number
  readonly #query: Float32Array
  readonly #out: Float32Array
  readonly #scratch: Float32Array

  /** @internal use {@link createFloat32Kernel} */
  constructor(module: CompiledWasmModule, dims: number, residentRows: number, chunkRows: number) {
    const api = wasmApi()!
    this.dims = dims
    this.chunkRows = chunkRows
    const layout = kernelLayout(dims, residentRows, chunkRows)
    if (layout.pages > MAX_PAGES) {
      throw new CoreError(
        'INVALID_ARGUMENT',
        `A float32 kernel for ${residentRows} rows × ${dims} dims needs ${layout.pages} pages of 64 KiB, more than the 4 GiB of a Wasm memory. Keep fewer rows resident.`,
      )
    }
    this.#quads = layout.quads
    this.#outPtr = layout.outPtr
    this.#scratchPtr = layout.scratchPtr
    const memory = new api.Memory({ initial: layout.pages, maximum: layout.pages })
    const instance = new api.Instance(module, { env: { memory } })
    this.#dots = instance.exports.dots as DotsExport
    this.#buffer = memory.buffer
    this.byteLength = layout.pages * PAGE
    this.resident = new Float32Array(this.#buffer, layout.residentPtr, residentRows * dims)
    this.#query = new Float32Array(this.#buffer, 0, layout.quads * 4)
    this.#out = new Float32Array(this.#buffer, this.#outPtr, chunkRows)
    this.#scratch = new Float32Array(this.#buffer, this.#scratchPtr, chunkRows * dims)
  }

  dots(
    query: Float32Array,
    factors: Float32Array,
    dims: number,
    rowStart: number,
    rowCount: number,
  ): Float32Array {
    if (dims !== this.dims || rowCount > this.chunkRows || query.length < dims) {
      throw new CoreError(
        'INVALID_ARGUMENT',
        `Float32 kernel built for ${this.dims} dims and ≤ ${this.chunkRows} rows was called with ${dims} dims, ${rowCount} rows, a query of ${query.length}. Create one kernel per model (dims) and chunk scans by chunkRows.`,
      )
    }
    if (rowCount <= 0) return this.#out.subarray(0, 0)
    // Zero past dims: reads past a row's end multiply by 0.
    this.#query.fill(0)
    this.#query.set(query.subarray(0, dims))
    let x: number
    if (factors.buffer === this.#buffer) {
      x = factors.byteOffset + rowStart * dims * 4
    } else {
      this.#scratch.set(factors.subarray(rowStart * dims, (rowStart + rowCount) * dims))
      x = this.#scratchPtr
    }
    this.#dots(0, x, dims * 4, this.#quads, rowCount, this.#outPtr)
    return this.#out.subarray(0, rowCount)
  }
}

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text)
  const out = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i)
  return out
}

/** The float32 kernel bytes built from `wasm/f32-dot-simd.wat`, for runtimes that compile Wasm at run time. */
export function bundledFloat32KernelBytes(): { simd: Uint8Array } {
  return { simd: decodeBase64(F32_DOT_SIMD_WASM) }
}

const compiled = new WeakMap<Uint8Array, CompiledWasmModule | null>()
const verified = new WeakMap<CompiledWasmModule, boolean>()

function compile(source: CompiledWasmModule | Uint8Array): CompiledWasmModule | null {
  if (!(source instanceof Uint8Array)) return source
  if (compiled.has(source)) return compiled.get(source)!
  const api = wasmApi()!
  let module: CompiledWasmModule | null = null
  try {
    if (api.validate(source)) module = new api.Module(source)
  } catch {
    module = null
  }
  compiled.set(source, module)
  return module
}

/**
 * Runs the module once on small integers (exact in float32 whatever the order: odd dims, every
 * lane position, negative values) and compares with the JS kernel.
 */
function selfTest(module: CompiledWasmModule): boolean {
  const cached = verified.get(module)
  if (cached !== undefined) return cached
  let ok = false
  try {
    const dims = 37
    const rows = 9
    const kernel = new WasmFloat32Kernel(module, dims, 0, 16)
    const query = Float32Array.from({ length: dims }, (_, d) => ((d * 37) % 31) - 15)
    const factors = Float32Array.from({ length: rows * dims }, (_, i) => ((i * 91) % 29) - 14)
    const got = kernel.dots(query, factors, dims, 0, rows)
    const want = jsFloat32Kernel().dots(query, factors, dims, 0, rows)
    ok = want.every((v, i) => got[i] === v)
  } catch {
    ok = false
  }
  verified.set(module, ok)
  return ok
}

/**
 * The Wasm SIMD128 float32 kernel where the runtime validates, instantiates and self-tests it,
 * else the JS kernel. A Wasm kernel is a {@link WasmFloat32Kernel} (copy resident rows into
 * `resident`).
 *
 * @example
 * ```ts
 * const kernel = createFloat32Kernel(bundledFloat32KernelBytes(), { dims: 64, residentRows: items })
 * if (kernel instanceof WasmFloat32Kernel) kernel.resident.set(itemFactors)
 * ```
 * @throws {@link CoreError} `INVALID_ARGUMENT` on dims < 1 or a negative row count
 */
export function createFloat32Kernel(
  modules: { simd?: CompiledWasmModule | Uint8Array },
  options: Float32KernelOptions,
): Float32DotKernel {
  const { dims, residentRows = 0, chunkRows = DEFAULT_CHUNK_ROWS } = options
  if (
    !Number.isInteger(dims) ||
    dims < 1 ||
    !Number.isInteger(residentRows) ||
    residentRows < 0 ||
    !Number.isInteger(chunkRows) ||
    chunkRows < 1
  ) {
    throw new CoreError(
      'INVALID_ARGUMENT',
      `Float32 kernel needs integer dims ≥ 1, residentRows ≥ 0 and chunkRows ≥ 1, got ${dims}, ${residentRows} and ${chunkRows}.`,
    )
  }
  if (!options.forceJs && wasmApi() && modules.simd) {
    const module = compile(modules.simd)
    if (module && selfTest(module)) return new WasmFloat32Kernel(module, dims, residentRows, chunkRows)
  }
  return jsFloat32Kernel()
}

/**
 * Top `k` rows `[0, rows)` of `factors` by float32 score x_uᵀ y_i computed by `kernel`, chunk by
 * chunk; rows in `exclude` skipped; ties to the lower index (core's {@link TopK}).
 */
export function topKFloat32(
  kernel: Float32DotKernel,
  query: Float32Array,
  factors: Float32Array,
  rows: number,
  dims: number,
  k: number,
  exclude?: IndexFilter,
): TopKResult {
  const top = new TopK(k)
  let threshold = top.threshold
  for (let start = 0; start < rows; start += kernel.chunkRows) {
    const count = Math.min(kernel.chunkRows, rows - start)
    const scores = kernel.dots(query, factors, dims, start, count)
    for (let r = 0; r < count; r++) {
      const s = scores[r]!
      if (s < threshold) continue
      const i = start + r
      if (exclude?.has(i)) continue
      top.push(i, s)
      threshold = top.threshold
    }
  }
  return top.result()
}
