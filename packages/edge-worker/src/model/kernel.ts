/**
 * The int8 scoring kernels bundled with the worker. Workers refuse to compile Wasm at run time, so
 * the modules are imported: wrangler (and the vitest plugin) bundle `.wasm` imports as compiled
 * `WebAssembly.Module`s. core's {@link createInt8Kernel} picks relaxed SIMD, else SIMD128, else JS.
 *
 * @module
 */
import {
  createFloat32Kernel,
  createInt8Kernel,
  type Float32DotKernel,
  type Int8DotKernel,
  jsInt8Kernel,
  PROBE_KERNEL_CHUNK_ROWS,
  WasmFloat32Kernel,
} from '@edgerec/core'
import f32simd from '@edgerec/core/wasm/f32-dot-simd.wasm'
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

/**
 * The float32 Wasm SIMD kernel a partitioned version scores queries against its centroids with
 * (`PROBE_KERNEL_CHUNK_ROWS` centroids per call, copied into its scratch): ≈ 1 ms of JS per
 * request at 1,000 × 64 before (issue 16). Undefined for `js` or where Wasm SIMD does not run
 * (probing then uses core's JS loop).
 */
export function probeKernel(setting: ScoringKernelSetting, dims: number): WasmFloat32Kernel | undefined {
  if (setting === 'js') return undefined
  const kernel: Float32DotKernel = createFloat32Kernel(
    { simd: f32simd },
    { dims, chunkRows: PROBE_KERNEL_CHUNK_ROWS },
  )
  return kernel instanceof WasmFloat32Kernel ? kernel : undefined
}
