/**
 * Giving memory back to the system now rather than at the next garbage collection: a typed
 * array's buffer ({@link releaseMemory}), scratch arrays that never sit in malloc's heap
 * ({@link scratchArray}), and the JavaScript heap's free pages and dead arrays between two phases
 * of a run ({@link reduceHeap}).
 *
 * @module
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/** `ArrayBuffer.prototype.transfer` (ES2024; Node ≥ 21), not in the ES2023 library types. */
type Transferable = ArrayBuffer & { transfer?: (newLength?: number) => ArrayBuffer; detached?: boolean }

/**
 * Frees the backing memory of `view`'s `ArrayBuffer` at once by transferring it to a zero-length
 * buffer: the old buffer is detached (every view on it, not only `view`, reads as length 0) and V8
 * releases its memory immediately, where dropping the last reference would keep it resident until
 * a garbage collection, which a loop of typed-array work may not trigger for a long time.
 * Call it only on arrays nothing reads any more. Shared buffers, WebAssembly memories and runtimes
 * without `transfer` are left alone (the memory then goes at the next collection).
 *
 * @example
 * ```ts
 * const order = new Uint32Array(n)
 * // … last use of order …
 * releaseMemory(order)
 * ```
 */
export function releaseMemory(view: ArrayBufferView): void {
  const buffer = view.buffer as Transferable
  if (!(buffer instanceof ArrayBuffer) || typeof buffer.transfer !== 'function' || buffer.detached === true)
    return
  try {
    buffer.transfer(0)
  } catch {
    // Not transferable (e.g. a WebAssembly.Memory buffer): left to the garbage collector.
  }
}

/** Typed array constructors {@link scratchArray} makes. */
type ScratchConstructor<T> = new (buffer: ArrayBuffer, byteOffset: number, length: number) => T

/** A non-shared WebAssembly memory: its `buffer` is an ordinary, fixed-length `ArrayBuffer`. */
type ScratchMemory = new (descriptor: { initial: number; maximum: number }) => { buffer: ArrayBuffer }

// NOTE: the trainer's types (ES2023, no DOM) do not declare WebAssembly.
const WasmMemory = (globalThis as unknown as { WebAssembly?: { Memory: ScratchMemory } }).WebAssembly?.Memory

/**
 * Below this size a scratch array is an ordinary one: malloc's own mappings start at 32 MiB at
 * most, and what a few small arrays leave in its heap does not matter.
 */
const SCRATCH_MIN_BYTES = 1 << 20

/**
 * Bytes of WebAssembly-backed scratch arrays made since the last {@link reduceHeap} collection:
 * memory outside the heap that the heap's statistics do not show.
 */
let scratchBytes = 0
const WASM_PAGE = 65536
const WASM_MAX_PAGES = 65536

/**
 * A zeroed typed array of `length` elements for scratch work, backed by pages of its own rather
 * than by malloc's heap, that go back to the system once the array is collected (after a build,
 * {@link reduceHeap} collects it at once).
 *
 * NOTE: why. V8 gives an ordinary `ArrayBuffer` memory from malloc. glibc serves a request below
 * its mmap threshold from its heap, and that threshold grows (up to 32 MiB) each time a larger
 * mapped block is freed, so once the first big arrays are gone, later arrays of a few to 32 MiB
 * (sort orders, pair sums: 4–8 bytes per event or pair) land in the heap, and when they are freed
 * their pages stay resident (a hole below the heap's top is not returned), under the ALS memory:
 * 15–45 MiB more after loading 4.77M pairs. A WebAssembly memory is mapped by V8 itself and
 * unmapped when it is collected (checked in `/proc/self/smaps`, Node 24), and typed arrays on its
 * buffer are as fast as on any buffer. A resizable `ArrayBuffer` (`maxByteLength`) is mapped the
 * same way and {@link releaseMemory} could unmap it at once, but the radix sort's loops ran about
 * twice as slow on views of one. {@link releaseMemory} cannot detach a WebAssembly memory's buffer:
 * such an array stays until the next collection. Past 4 GiB, or without WebAssembly, an ordinary
 * array.
 */
export function scratchArray<T extends ArrayBufferView>(
  Ctor: ScratchConstructor<T> & { BYTES_PER_ELEMENT: number },
  length: number,
): T {
  const bytes = length * Ctor.BYTES_PER_ELEMENT
  const pages = Math.ceil(bytes / WASM_PAGE)
  if (bytes >= SCRATCH_MIN_BYTES && pages <= WASM_MAX_PAGES && WasmMemory) {
    try {
      const array = new Ctor(new WasmMemory({ initial: pages, maximum: pages }).buffer, 0, length)
      scratchBytes += pages * WASM_PAGE
      return array
    } catch {
      // Address space exhausted (e.g. a ulimit -v): an ordinary array below.
    }
  }
  return new Ctor(new ArrayBuffer(bytes), 0, length)
}

/** V8's `gc()` with its options (the `--expose-gc` extension). */
type GcFunction = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void

let gcFunction: GcFunction | undefined

/**
 * V8's `gc` function without starting Node with `--expose-gc`: the flag is set for one new context
 * (V8 installs the extension in contexts created while it is set) and cleared again, so no other
 * code sees a `gc` global.
 */
function exposedGc(): GcFunction | undefined {
  if (gcFunction) return gcFunction
  // Started with --expose-gc: use that one and leave the flag as it is.
  const global = (globalThis as { gc?: unknown }).gc
  if (typeof global === 'function') {
    gcFunction = global as GcFunction
    return gcFunction
  }
  try {
    setFlagsFromString('--expose-gc')
    const gc: unknown = runInNewContext('typeof gc === "function" ? gc : undefined')
    if (typeof gc === 'function') gcFunction = gc as GcFunction
  } catch {
    // Not V8, or flags cannot be set: nothing to do.
  } finally {
    try {
      setFlagsFromString('--no-expose-gc')
    } catch {}
  }
  return gcFunction
}

/** Below this much reclaimable heap (and scratch), {@link reduceHeap} does nothing. */
const REDUCE_MIN_BYTES = 32 * 1048576

/** Options of {@link reduceHeap}. */
export interface ReduceHeapOptions {
  /**
   * Collect even when the heap's own pages look nearly all used: dead objects may hold memory
   * outside the heap that its statistics do not show (an earlier training's WebAssembly memory,
   * typed arrays of a split), e.g. before the final training of a run that evaluated first.
   */
  force?: boolean
}

/**
 * Between two phases of a run (the load and the training): when the JavaScript heap holds at
 * least 32 MiB of pages it does not use, or at least 32 MiB of {@link scratchArray} arrays were
 * made since the last time (or with `force`), runs V8's memory-reducing full collection (the one
 * it runs under memory pressure), which frees the dead objects and gives their pages back to the
 * system, young generation included, and with them the memory outside the heap that only they
 * held (dead scratch arrays). Returns whether it collected.
 *
 * NOTE: why. Parsing millions of rows allocates strings at a high rate, so V8 grows the young
 * generation to its maximum (two 32 MiB semi-spaces on 64-bit Node 24) and keeps it, and an
 * ordinary collection neither shrinks it nor releases the old generation's pooled pages:
 * ≈ 60–110 MiB of resident heap for ≈ 15 MiB of live id maps after loading 4.77M pairs, still
 * resident while ALS runs. A full collection costs tens of milliseconds here, against seconds of
 * loading.
 *
 * @example
 * ```ts
 * const loaded = await loadInteractions(source)
 * reduceHeap() // the parse's garbage does not sit under the training's memory
 * ```
 */
export function reduceHeap(options: ReduceHeapOptions = {}): boolean {
  const heap = getHeapStatistics()
  const unused = heap.total_physical_size - heap.used_heap_size
  if (!options.force && unused < REDUCE_MIN_BYTES && scratchBytes < REDUCE_MIN_BYTES) return false
  const gc = exposedGc()
  if (!gc) return false
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' })
  scratchBytes = 0
  return true
}
