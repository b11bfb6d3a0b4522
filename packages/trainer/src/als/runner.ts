/**
 * Executes {@link AlsTask}s on one thread: takes work items from the shared counter until none is
 * left and runs the kernels on them. The same class runs in the main thread (1 thread) and in each
 * worker, so a row's arithmetic never depends on the thread count.
 *
 * @internal
 * @module
 */
import {
  cgRowsJs,
  choleskyRowsJs,
  gramRowsJs,
  lossRowsJs,
  type MemoryViews,
  type RowProblem,
} from './kernels-js.js'
import { type AlsLayout, type AlsTask, GRAM_CHUNK, ROW_CHUNK, sideRegions, taskChunks } from './layout.js'
import { buildKernelModule, type WasmKernelExports } from './wasm/kernels.js'
import { type WasmMemory, type WasmModule, wasmApi } from './wasm/runtime.js'

/** Which kernels do the row solves and Gram sums. */
export type KernelBackend = 'wasm' | 'js'

let compiled: WasmModule | undefined

/**
 * The compiled kernel module (compiled once per thread): with relaxed-SIMD fused multiply-adds
 * when the runtime validates them (Node ≥ 22), else plain SIMD. `EDGEREC_ALS_NO_FMA=1` forces the
 * plain kernels. Every thread of a process makes the same choice, so results stay identical for
 * any thread count.
 */
export function kernelModule(): WasmModule {
  if (compiled === undefined) {
    const fused = process.env.EDGEREC_ALS_NO_FMA === '1' ? undefined : buildKernelModule({ fma: true })
    compiled = new wasmApi.Module(fused && wasmApi.validate(fused) ? fused : buildKernelModule())
  }
  return compiled
}

/** True when this runtime runs the SIMD kernels on shared memory. */
export function wasmKernelsSupported(): boolean {
  try {
    const memory = new wasmApi.Memory({ initial: 1, maximum: 1, shared: true })
    new wasmApi.Instance(kernelModule(), { env: { memory } })
    return true
  } catch {
    return false
  }
}

/** Runs tasks on the shared memory for one thread. */
export class KernelRunner {
  readonly #layout: AlsLayout
  readonly #views: MemoryViews
  readonly #counter: Int32Array
  readonly #wasm: WasmKernelExports | undefined
  readonly #index: number
  // Per-thread buffers, allocated once and reused for every chunk.
  readonly #gramAcc: Float64Array
  readonly #cgScratch: Float64Array
  readonly #cholA: Float64Array
  readonly #cholB: Float64Array
  readonly #lossR: Float64Array

  constructor(memory: WasmMemory, layout: AlsLayout, backend: KernelBackend, threadIndex: number) {
    this.#layout = layout
    const buffer = memory.buffer
    this.#views = { f32: new Float32Array(buffer), u32: new Uint32Array(buffer) }
    this.#counter = new Int32Array(buffer, layout.counter, 1)
    this.#index = threadIndex
    if (backend === 'wasm') {
      const instance = new wasmApi.Instance(kernelModule(), { env: { memory } })
      this.#wasm = instance.exports as unknown as WasmKernelExports
    }
    const kp = layout.stride
    this.#gramAcc = new Float64Array(kp * kp)
    this.#cgScratch = new Float64Array(3 * kp)
    this.#cholA = new Float64Array(layout.factors * layout.factors)
    this.#cholB = new Float64Array(layout.factors)
    this.#lossR = new Float64Array(kp)
  }

  /** Takes work items of `task` until none is left; returns how many this thread did. */
  run(task: AlsTask): number {
    const chunks = taskChunks(this.#layout, task)
    let done = 0
    for (;;) {
      const chunk = Atomics.add(this.#counter, 0, 1)
      if (chunk >= chunks) return done
      this.#runChunk(task, chunk)
      done++
    }
  }

  #runChunk(task: AlsTask, chunk: number): void {
    const layout = this.#layout
    const kp = layout.stride
    const gramBytes = kp * kp * 4
    if (task.kind === 'gram') {
      const rows = task.of === 'users' ? layout.users : layout.items
      const y = task.of === 'users' ? layout.userFactors : layout.itemFactors
      const start = chunk * GRAM_CHUNK
      const end = Math.min(rows, start + GRAM_CHUNK)
      const out = layout.gramPartials + chunk * gramBytes
      if (this.#wasm) this.#wasm.gramRows(y, start, end, kp * 4, out)
      else gramRowsJs(this.#views, y / 4, start, end, kp, out / 4, this.#gramAcc)
      return
    }
    const side = task.kind === 'solve' ? task.side : 'users'
    const regions = sideRegions(layout, side)
    let start = chunk * ROW_CHUNK
    let end = Math.min(regions.rows, start + ROW_CHUNK)
    if (task.kind === 'solve') {
      const bounds = side === 'users' ? layout.userChunks : layout.itemChunks
      start = bounds[chunk]!
      end = bounds[chunk + 1]!
    }
    const problem: RowProblem = {
      indptr: regions.indptr / 4,
      indices: regions.indices / 4,
      conf: regions.conf / 4,
      x: regions.x / 4,
      y: regions.y / 4,
      gram: layout.gram / 4,
      factors: layout.factors,
      stride: kp,
    }
    if (task.kind === 'loss') {
      const [loss, confidence] = lossRowsJs(this.#views, problem, start, end, this.#lossR)
      const slot = new Float64Array(this.#views.f32.buffer, layout.lossPartials + chunk * 16, 2)
      slot[0] = loss
      slot[1] = confidence
      return
    }
    if (task.solver === 'cholesky') {
      choleskyRowsJs(this.#views, problem, start, end, this.#cholA, this.#cholB)
    } else if (this.#wasm) {
      const scratch = layout.scratch + this.#index * layout.scratchBytes
      this.#wasm.cgRows(
        regions.indptr,
        regions.indices,
        regions.conf,
        regions.x,
        regions.y,
        layout.gram,
        kp * 4,
        start,
        end,
        task.cgSteps,
        scratch,
      )
    } else {
      cgRowsJs(this.#views, problem, start, end, task.cgSteps, this.#cgScratch)
    }
  }
}
