/**
 * Giving a typed array's memory back to the system now rather than at the next garbage collection.
 *
 * @module
 */

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
