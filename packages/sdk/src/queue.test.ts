import { describe, expect, it } from 'vitest'
import { enqueue, removeIds, takeWithin } from './queue.js'

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

describe('takeWithin', () => {
  it('should take the oldest items within both the count and the byte bound, in order', () => {
    const sizes = [10, 10, 10, 50, 10]
    expect(takeWithin(sizes, 2, 100, (n) => n)).toEqual([10, 10])
    // 11 + 11 + 11 = 33 bytes with separators; the next item (51) would pass 60.
    expect(takeWithin(sizes, 10, 60, (n) => n)).toEqual([10, 10, 10])
    expect(takeWithin([70, 1], 10, 60, (n) => n)).toEqual([])
    expect(takeWithin([], 10, 30, (n: number) => n)).toEqual([])
  })
})
