/**
 * Typed access to the WebAssembly JS API. The package compiles with `lib: ES2023` and no DOM
 * types, where the `WebAssembly` global is untyped; this declares the few members used.
 *
 * @internal
 * @module
 */

/** A (shared) linear memory. */
export interface WasmMemory {
  readonly buffer: SharedArrayBuffer
}

/** A compiled module (structured-cloneable to workers). */
export type WasmModule = object

/** The subset of the `WebAssembly` namespace the trainer uses. */
export interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: true }) => WasmMemory
  Module: new (bytes: Uint8Array) => WasmModule
  Instance: new (module: WasmModule, imports: { env: { memory: WasmMemory } }) => { exports: unknown }
  validate(bytes: Uint8Array): boolean
}

/** The runtime's `WebAssembly` global, typed. */
export const wasmApi: WasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly
