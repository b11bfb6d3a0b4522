import { describe, expect, it } from 'vitest'
import { chunkBySize, enqueue, removeIds } from './queue.js'

describe('enqueue', () => {
  it('should drop the oldest items beyond the bound and count them', () => {
    const queue = [1, 2, 3]
    expect(enqueue(queue, 4, 3)).toBe(1)
    expect(queue).toEqual([2, 3, 4])
    expect(enqueue(queue, 5, 10)).toBe(0)
    expect(queue).toEqual([2, 3, 4, 5])
  })
})

describe('removeIds', () => {
  it('should remove the given ids in place and keep the order of the rest', () => {
    const queue = ['a', 'b', 'c', 'd'].map((id) => ({ id }))
    removeIds(queue, new Set(['b', 'd', 'z']))
    expect(queue).toEqual([{ id: 'a' }, { id: 'c' }])
  })
})

describe('chunkBySize', () => {
  it('should respect both the count and the byte bound, giving an oversized item its own chunk', () => {
    const sizes = [10, 10, 10, 50, 10]
    expect(chunkBySize(sizes, 2, 100, (n) => n)).toEqual([[10, 10], [10, 50], [10]])
    expect(chunkBySize(sizes, 10, 30, (n) => n)).toEqual([[10, 10], [10], [50], [10]])
    expect(chunkBySize([], 10, 30, (n: number) => n)).toEqual([])
  })
})
