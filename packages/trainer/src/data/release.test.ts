import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8'
import { describe, expect, it } from 'vitest'
import { reduceHeap, releaseMemory, scratchArray } from './release.js'

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

describe('scratchArray', () => {
  it('should give a zeroed array of the length asked for, small or large', () => {
    for (const length of [0, 10, 1 << 20]) {
      const a = scratchArray(Uint32Array, length)
      expect(a).toBeInstanceOf(Uint32Array)
      expect(a.length).toBe(length)
      expect(a.every((x) => x === 0)).toBe(true)
    }
  })

  it('should back a large array by a WebAssembly memory of its own, which releaseMemory leaves alone', () => {
    const a = scratchArray(Float64Array, (1 << 17) + 3)
    // A whole number of 64 KiB WebAssembly pages, the array at its start.
    expect(a.buffer.byteLength).toBe(Math.ceil(a.byteLength / 65536) * 65536)
    expect(a.byteOffset).toBe(0)
    expect((a.buffer as ArrayBuffer & { resizable: boolean }).resizable).toBe(false)
    a.fill(2.5)
    releaseMemory(a)
    expect(a.length).toBe((1 << 17) + 3)
    expect(a[a.length - 1]).toBe(2.5)
  })

  it('should keep a small array an ordinary one, which releaseMemory frees', () => {
    const a = scratchArray(Uint8Array, 100)
    expect(a.buffer.byteLength).toBe(100)
    releaseMemory(a)
    expect(a.length).toBe(0)
  })
})

describe('reduceHeap', () => {
  it('should give the pages of a large dead heap back and shrink the young generation', () => {
    let garbage: string[] | undefined = []
    for (let i = 0; i < 2_000_000; i++) garbage.push(`id-${i}`)
    expect(garbage.length).toBe(2_000_000)
    garbage = undefined
    const newSpace = (): number =>
      getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.physical_space_size
    const before = getHeapStatistics()
    expect(before.total_physical_size - before.used_heap_size).toBeGreaterThanOrEqual(32 * 1048576)
    const youngBefore = newSpace()
    expect(reduceHeap()).toBe(true)
    expect(getHeapStatistics().total_physical_size).toBeLessThan(before.total_physical_size)
    expect(newSpace()).toBeLessThanOrEqual(youngBefore)
  })

  it('should do nothing when the heap has little to give back, and expose no gc global', () => {
    reduceHeap({ force: true })
    expect(reduceHeap()).toBe(false)
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined()
  })

  it('should collect after large scratch arrays were made, which the heap statistics do not show', () => {
    reduceHeap({ force: true })
    let scratch: Uint32Array | undefined = scratchArray(Uint32Array, 10 << 20)
    scratch.fill(1)
    expect(scratch[scratch.length - 1]).toBe(1)
    scratch = undefined
    expect(reduceHeap()).toBe(true)
    expect(reduceHeap()).toBe(false)
  })
})
