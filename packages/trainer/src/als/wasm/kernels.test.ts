import { describe, expect, it } from 'vitest'
import { gramRowsJs } from '../kernels-js.js'
import { createRng } from '../random.js'
import { buildKernelModule, type WasmKernelExports } from './kernels.js'
import { wasmApi } from './runtime.js'

function instantiate(fma = false): { exports: WasmKernelExports; f32: Float32Array; u32: Uint32Array } {
  const memory = new wasmApi.Memory({ initial: 4, maximum: 4, shared: true })
  const instance = new wasmApi.Instance(new wasmApi.Module(buildKernelModule({ fma })), { env: { memory } })
  return {
    exports: instance.exports as WasmKernelExports,
    f32: new Float32Array(memory.buffer),
    u32: new Uint32Array(memory.buffer),
  }
}

describe('WebAssembly kernels', () => {
  it('should emit a valid module', () => {
    expect(wasmApi.validate(buildKernelModule())).toBe(true)
  })

  it('should emit a valid relaxed-SIMD (fused multiply-add) module on this runtime', () => {
    expect(wasmApi.validate(buildKernelModule({ fma: true }))).toBe(true)
  })

  it.each([false, true])('should compute dot products over padded rows (fma %s)', (fma) => {
    const { exports, f32 } = instantiate(fma)
    // a = 0..31, b = all 2: Σ 2i = 2 · 496 = 992
    for (let i = 0; i < 32; i++) {
      f32[i] = i
      f32[32 + i] = 2
    }
    expect(exports.dot(0, 128, 128)).toBe(992)
  })

  it('should compute the same Gram matrix as the TypeScript kernel', () => {
    const { exports, f32, u32 } = instantiate()
    const rng = createRng(3)
    const kp = 16
    const rows = 37
    for (let j = 0; j < rows * kp; j++) f32[j] = rng.next() - 0.5
    const out = rows * kp
    exports.gramRows(0, 0, rows, kp * 4, out * 4)
    const wasm = Array.from(f32.subarray(out, out + kp * kp))
    const jsOut = out + kp * kp
    gramRowsJs({ f32, u32 }, 0, 0, rows, kp, jsOut, new Float64Array(kp * kp))
    const js = Array.from(f32.subarray(jsOut, jsOut + kp * kp))
    for (const [j, v] of wasm.entries()) expect(v).toBeCloseTo(js[j]!, 4)
    // symmetric
    expect(wasm[1 * kp + 5]).toBe(wasm[5 * kp + 1])
  })
})
