export type { Float32DotKernel, Float32KernelIsa, Float32KernelOptions } from './f32-kernel.js'
export {
  bundledFloat32KernelBytes,
  createFloat32Kernel,
  jsFloat32Kernel,
  topKFloat32,
  WasmFloat32Kernel,
  wasmFloat32KernelByteLength,
} from './f32-kernel.js'
export type {
  CompiledWasmModule,
  Int8DotKernel,
  Int8KernelIsa,
  Int8KernelModules,
  Int8KernelOptions,
  Int8KernelSource,
} from './int8-kernel.js'
export {
  bundledInt8KernelBytes,
  createInt8Kernel,
  jsInt8Kernel,
  WasmInt8Kernel,
  wasmInt8KernelByteLength,
} from './int8-kernel.js'
