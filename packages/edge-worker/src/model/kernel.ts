/**
 * The int8 scoring kernels bundled with the worker. Workers refuse to compile Wasm at run time, so
 * the modules are imported: wrangler (and the vitest plugin) bundle `.wasm` imports as compiled
 * `WebAssembly.Module`s. core's {@link createInt8Kernel} picks relaxed SIMD, else SIMD128, else JS.
 *
 * @module
 */
import { createInt8Kernel, type Int8DotKernel, jsInt8Kernel } from '@edgerec/core'
import relaxed from '@edgerec/core/wasm/int8-dot-relaxed.wasm'
import simd from '@edgerec/core/wasm/int8-dot-simd.wasm'

/** `SCORING_KERNEL`: `auto` (fastest the runtime validates) or `js` (the plain JS loop). */
export type ScoringKernelSetting = 'auto' | 'js'

/**
 * A kernel for one model version: `residentRows` item rows live in the kernel's memory (copy them
 * into `resident` when the kernel is a {@link WasmInt8Kernel}).
 */
export function modelKernel(
  setting: ScoringKernelSetting,
  dims: number,
  residentRows: number,
): Int8DotKernel {
  if (setting === 'js') return jsInt8Kernel
  return createInt8Kernel({ relaxed, simd }, { dims, residentRows })
}
