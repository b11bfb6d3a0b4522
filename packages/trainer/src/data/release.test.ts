import { describe, expect, it } from 'vitest'
import { releaseMemory } from './release.js'

describe('releaseMemory', () => {
  it('should detach the buffer so every view on it reads as empty', () => {
    const buffer = new ArrayBuffer(64)
    const a = new Float64Array(buffer, 0, 4)
    const b = new Uint32Array(buffer, 32, 8)
    a.fill(1)
    releaseMemory(a)
    expect(buffer.byteLength).toBe(0)
    expect(a.length).toBe(0)
    expect(b.length).toBe(0)
  })

  it('should leave shared buffers and already released buffers alone', () => {
    const shared = new Int32Array(new SharedArrayBuffer(16))
    shared[0] = 7
    releaseMemory(shared)
    expect(shared[0]).toBe(7)
    const plain = new Uint8Array(8)
    releaseMemory(plain)
    expect(() => releaseMemory(plain)).not.toThrow()
    expect(plain.length).toBe(0)
  })

  it('should leave a WebAssembly memory attached', () => {
    // NOTE: the trainer's types (ES2023, no DOM) do not declare WebAssembly.
    const { Memory } = (
      globalThis as unknown as {
        WebAssembly: { Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer } }
      }
    ).WebAssembly
    const memory = new Memory({ initial: 1 })
    const view = new Uint8Array(memory.buffer)
    view[0] = 3
    releaseMemory(view)
    expect(new Uint8Array(memory.buffer)[0]).toBe(3)
  })
})
