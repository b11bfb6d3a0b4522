/**
 * The few WebAssembly runtime pieces the scoring kernels share: the typed view of the global
 * `WebAssembly` (core is typed without the DOM/Node libs), the page size, and alignment.
 *
 * @module
 */

/** A compiled WebAssembly module (opaque). */
export type CompiledWasmModule = object

/** A kernel's linear memory. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer
}

/** The part of the global `WebAssembly` the kernels use. */
export interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemory
  Module: new (bytes: Uint8Array) => CompiledWasmModule
  Instance: new (
    module: CompiledWasmModule,
    imports: { env: { memory: WasmMemory } },
  ) => { exports: Record<string, unknown> }
  validate(bytes: Uint8Array): boolean
}

/** Bytes per WebAssembly memory page. */
export const PAGE = 65_536

/** The runtime's `WebAssembly`, or undefined where there is none. */
export function wasmApi(): WasmApi | undefined {
  return (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly
}

/** `n` rounded up to a multiple of `to`. */
export const align = (n: number, to: number): number => Math.ceil(n / to) * to
