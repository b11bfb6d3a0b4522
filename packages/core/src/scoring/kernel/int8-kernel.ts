/**
 * Int8 dot-product kernels of the request path: WebAssembly SIMD (relaxed-SIMD `i8x16·i7x16` dot
 * where the runtime validates it, SIMD128 `i32x4.dot_i16x8_s` otherwise) with the JS loop as
 * fallback. Every kernel returns the exact integer sums Σ q_u q_i, so rankings are identical
 * whichever one runs.
 *
 * The kernels live in `wasm/*.wat` (built by `scripts/build-wasm.mjs`). Runtimes that forbid
 * compiling Wasm at run time (Cloudflare Workers) import `@edgerec/core/wasm/*.wasm` so the bundler
 * ships them compiled, and pass the `WebAssembly.Module`s; Node passes the bytes
 * ({@link bundledInt8KernelBytes}).
 *
 * @module
 */
import { CoreError } from '../../errors.js'
import { dotsInt8 } from '../dots.js'
import { INT8_DOT_RELAXED_WASM, INT8_DOT_SIMD_WASM } from './modules.generated.js'
import { align, type CompiledWasmModule, PAGE, wasmApi } from './wasm-runtime.js'

/** Which instruction set a kernel runs. */
export type Int8KernelIsa = 'relaxed-simd' | 'simd' | 'js'

/**
 * Computes int8 dot products of one query with consecutive rows of a row-major int8 matrix.
 * Scans call it per chunk of at most {@link Int8DotKernel.chunkRows} rows and filter/rank in JS,
 * so a candidate filter (exclusions, catalog rules) runs inside the scan on the rows that can
 * enter the top K.
 */
export interface Int8DotKernel {
  readonly isa: Int8KernelIsa
  /** Largest `rowCount` one {@link Int8DotKernel.dots} call accepts. */
  readonly chunkRows: number
  /**
   * Σ_d query[d] · factors[(rowStart + r) · dims + d] for r in [0, rowCount), exact.
   * The returned array is owned by the kernel and valid until its next call.
   */
  dots(query: Int8Array, factors: Int8Array, dims: number, rowStart: number, rowCount: number): Int32Array
}

const JS_CHUNK_ROWS = 512

/** The plain JS kernel ({@link dotsInt8}): always available, the reference of the Wasm ones. */
export const jsInt8Kernel: Int8DotKernel = (() => {
  const out = new Int32Array(JS_CHUNK_ROWS)
  return {
    isa: 'js',
    chunkRows: JS_CHUNK_ROWS,
    dots(query, factors, dims, rowStart, rowCount) {
      return dotsInt8(query, factors, dims, rowStart, rowCount, out)
    },
  }
})()

export type { CompiledWasmModule } from './wasm-runtime.js'

/** A kernel module: compiled (bundled), or its bytes where the runtime may compile them. */
export type Int8KernelSource = CompiledWasmModule | Uint8Array

/** The kernel modules to choose from; absent ones are skipped. */
export interface Int8KernelModules {
  relaxed?: Int8KernelSource
  simd?: Int8KernelSource
}

/** Options of {@link createInt8Kernel}. */
export interface Int8KernelOptions {
  /** Vector length every call uses. */
  dims: number
  /**
   * Rows of a matrix that lives inside the kernel's memory ({@link WasmInt8Kernel.resident}); the
   * caller copies its factors there once, and scans of those rows read them in place. Rows of
   * any other array are copied into a scratch area chunk by chunk. Default 0.
   */
  residentRows?: number
  /** Rows per call (default 4096). */
  chunkRows?: number
  /** Skip the Wasm kernels and use {@link jsInt8Kernel}. */
  forceJs?: boolean
}

type DotsExport = (q: number, x: number, stride: number, chunks: number, rows: number, out: number) => void

const DEFAULT_CHUNK_ROWS = 4096

/** Byte offsets of a kernel memory: query, results, scratch, resident rows, and the total. */
function kernelLayout(dims: number, residentRows: number, chunkRows: number) {
  const chunks = Math.ceil(dims / 16)
  // Rows are read four at a time and 16 bytes at a time: 3 rows + 16 bytes of slack after a matrix.
  const slack = 3 * dims + 16
  const outPtr = align(chunks * 32, 64)
  const scratchPtr = align(outPtr + (chunkRows + 4) * 4, 64)
  const residentPtr = align(scratchPtr + chunkRows * dims + slack, 64)
  const pages = Math.max(1, Math.ceil((residentPtr + residentRows * dims + slack) / PAGE))
  return { chunks, outPtr, scratchPtr, residentPtr, pages }
}

/**
 * Bytes of the linear memory of a {@link WasmInt8Kernel} (exact): plan a model's memory before
 * loading it.
 */
export function wasmInt8KernelByteLength(
  dims: number,
  residentRows: number,
  chunkRows: number = DEFAULT_CHUNK_ROWS,
): number {
  return kernelLayout(dims, residentRows, chunkRows).pages * PAGE
}

/**
 * A Wasm kernel instance with its own fixed-size linear memory (never grown, so views into it
 * stay valid): the prepared query, the results, a scratch area for foreign rows, and the resident
 * matrix. Create with {@link createInt8Kernel}.
 */
export class WasmInt8Kernel implements Int8DotKernel {
  readonly isa: 'relaxed-simd' | 'simd'
  readonly chunkRows: number
  readonly dims: number
  /** The resident matrix (`residentRows × dims`), a view into the kernel memory: fill it once. */
  readonly resident: Int8Array
  /** Bytes of the kernel's linear memory (what it adds to the isolate). */
  readonly byteLength: number
  readonly #buffer: ArrayBuffer
  readonly #dots: DotsExport
  readonly #chunks: number
  readonly #qPtr: number
  readonly #outPtr: number
  readonly #scratchPtr: number
  readonly #residentPtr: number
  readonly #query: Int8Array
  readonly #query16: Int16Array
  readonly #out: Int32Array
  readonly #scratch: Int8Array

  /** @internal use {@link createInt8Kernel} */
  constructor(
    module: CompiledWasmModule,
    isa: 'relaxed-simd' | 'simd',
    dims: number,
    residentRows: number,
    chunkRows: number,
  ) {
    const api = wasmApi()!
    this.isa = isa
    this.dims = dims
    this.chunkRows = chunkRows
    const layout = kernelLayout(dims, residentRows, chunkRows)
    const pages = layout.pages
    this.#chunks = layout.chunks
    this.#qPtr = 0
    this.#outPtr = layout.outPtr
    this.#scratchPtr = layout.scratchPtr
    this.#residentPtr = layout.residentPtr
    const memory = new api.Memory({ initial: pages, maximum: pages })
    const instance = new api.Instance(module, { env: { memory } })
    this.#dots = instance.exports.dots as DotsExport
    this.#buffer = memory.buffer
    this.byteLength = pages * PAGE
    this.resident = new Int8Array(this.#buffer, this.#residentPtr, residentRows * dims)
    this.#query = new Int8Array(this.#buffer, this.#qPtr, this.#chunks * 32)
    this.#query16 = new Int16Array(this.#buffer, this.#qPtr, this.#chunks * 16)
    this.#out = new Int32Array(this.#buffer, this.#outPtr, chunkRows + 4)
    this.#scratch = new Int8Array(this.#buffer, this.#scratchPtr, chunkRows * dims)
  }

  dots(query: Int8Array, factors: Int8Array, dims: number, rowStart: number, rowCount: number): Int32Array {
    if (dims !== this.dims || rowCount > this.chunkRows || query.length < dims) {
      throw new CoreError(
        'INVALID_ARGUMENT',
        `Kernel built for ${this.dims} dims and ≤ ${this.chunkRows} rows was called with ${dims} dims, ${rowCount} rows, a query of ${query.length}. Create one kernel per model (dims) and chunk scans by chunkRows.`,
      )
    }
    if (rowCount <= 0) return this.#out.subarray(0, 0)
    this.#prepare(query)
    let x: number
    if (factors.buffer === this.#buffer) {
      x = factors.byteOffset + rowStart * dims
    } else {
      this.#scratch.set(factors.subarray(rowStart * dims, (rowStart + rowCount) * dims))
      x = this.#scratchPtr
    }
    this.#dots(this.#qPtr, x, dims, this.#chunks, rowCount, this.#outPtr)
    return this.#out.subarray(0, rowCount)
  }

  /**
   * Lays the query out as the module expects (see the .wat headers): relaxed: q⁺ = max(q, 0) and
   * q⁻ = max(−q, 0) per 16-dim chunk (both in [0, 127], the exact range of the i7 operand);
   * simd: the query widened to i16. Zero past `dims`. O(dims) per call, negligible next to a chunk.
   */
  #prepare(query: Int8Array): void {
    const dims = this.dims
    if (this.isa === 'relaxed-simd') {
      const q = this.#query
      q.fill(0)
      for (let d = 0; d < dims; d++) {
        const v = query[d]!
        const at = ((d >> 4) << 5) + (d & 15)
        if (v > 0) q[at] = v
        else q[at + 16] = -v
      }
    } else {
      const q = this.#query16
      q.fill(0)
      for (let d = 0; d < dims; d++) q[d] = query[d]!
    }
  }
}

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text)
  const out = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i)
  return out
}

/**
 * The kernel bytes built from `wasm/*.wat`, for runtimes that may compile Wasm at run time (Node,
 * browsers). Cloudflare Workers may not: import `@edgerec/core/wasm/int8-dot-relaxed.wasm` and
 * `…/int8-dot-simd.wasm` instead.
 */
export function bundledInt8KernelBytes(): { relaxed: Uint8Array; simd: Uint8Array } {
  return { relaxed: decodeBase64(INT8_DOT_RELAXED_WASM), simd: decodeBase64(INT8_DOT_SIMD_WASM) }
}

const compiled = new WeakMap<Uint8Array, CompiledWasmModule | null>()
const verified = new WeakMap<CompiledWasmModule, boolean>()

function compile(source: Int8KernelSource): CompiledWasmModule | null {
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
 * Runs a module once on known vectors (extremes ±127, odd dims, every lane position) and compares
 * with the JS kernel; a runtime that instantiates the module but computes differently is refused.
 */
function selfTest(module: CompiledWasmModule, isa: 'relaxed-simd' | 'simd'): boolean {
  const cached = verified.get(module)
  if (cached !== undefined) return cached
  let ok = false
  try {
    const dims = 37
    const rows = 9
    const kernel = new WasmInt8Kernel(module, isa, dims, 0, 16)
    const query = new Int8Array(dims)
    const factors = new Int8Array(rows * dims)
    for (let d = 0; d < dims; d++) query[d] = d % 3 === 0 ? 127 : d % 3 === 1 ? -127 : ((d * 37) % 255) - 127
    for (let i = 0; i < factors.length; i++)
      factors[i] = i % 5 === 0 ? -127 : i % 5 === 1 ? 127 : ((i * 91) % 255) - 127
    const got = kernel.dots(query, factors, dims, 0, rows)
    const want = dotsInt8(query, factors, dims, 0, rows, new Int32Array(rows))
    ok = want.every((v, i) => got[i] === v)
  } catch {
    ok = false
  }
  verified.set(module, ok)
  return ok
}

/**
 * The fastest kernel the runtime runs correctly: relaxed SIMD, else SIMD128, else JS. A module
 * that does not validate, compile, instantiate or pass a self-test on known vectors is skipped.
 * A Wasm kernel is a {@link WasmInt8Kernel} (copy resident rows into `resident`); the JS kernel
 * has no memory of its own (scan the caller's arrays).
 *
 * @example
 * ```ts
 * // Node
 * const kernel = createInt8Kernel(bundledInt8KernelBytes(), { dims: 64 })
 * // Cloudflare Workers (modules bundled by wrangler)
 * import relaxed from '@edgerec/core/wasm/int8-dot-relaxed.wasm'
 * import simd from '@edgerec/core/wasm/int8-dot-simd.wasm'
 * const kernel = createInt8Kernel({ relaxed, simd }, { dims: 64, residentRows: items })
 * ```
 * @throws {@link CoreError} `INVALID_ARGUMENT` on dims < 1 or a negative row count
 */
export function createInt8Kernel(modules: Int8KernelModules, options: Int8KernelOptions): Int8DotKernel {
  const { dims, residentRows = 0, chunkRows = DEFAULT_CHUNK_ROWS } = options
  if (!Number.isInteger(dims) || dims < 1 || !Number.isInteger(residentRows) || residentRows < 0) {
    throw new CoreError(
      'INVALID_ARGUMENT',
      `Kernel needs integer dims ≥ 1 and residentRows ≥ 0, got ${dims} and ${residentRows}.`,
    )
  }
  if (!options.forceJs && wasmApi()) {
    for (const [isa, source] of [
      ['relaxed-simd', modules.relaxed],
      ['simd', modules.simd],
    ] as const) {
      if (!source) continue
      const module = compile(source)
      if (module && selfTest(module, isa))
        return new WasmInt8Kernel(module, isa, dims, residentRows, chunkRows)
    }
  }
  return jsInt8Kernel
}
