import { describe, expect, it } from 'vitest'
import { ByteLru } from './byte-lru.js'

describe('ByteLru', () => {
  it('should evict the least recently used entries above the byte bound', () => {
    const lru = new ByteLru<string, number>(100)
    lru.set('a', 1, 40)
    lru.set('b', 2, 40)
    expect(lru.get('a')).toBe(1) // a is now the most recent
    lru.set('c', 3, 40)
    expect(lru.get('b')).toBeUndefined()
    expect(lru.get('a')).toBe(1)
    expect(lru.get('c')).toBe(3)
    expect(lru.bytes).toBe(80)
    expect(lru.size).toBe(2)
  })

  it('should not store a value larger than the whole budget', () => {
    const lru = new ByteLru<string, number>(10)
    lru.set('a', 1, 5)
    lru.set('huge', 2, 11)
    expect(lru.get('huge')).toBeUndefined()
    expect(lru.get('a')).toBe(1)
    expect(lru.bytes).toBe(5)
  })

  it('should replace an entry and its size', () => {
    const lru = new ByteLru<string, number>(10)
    lru.set('a', 1, 8)
    lru.set('a', 2, 3)
    expect(lru.get('a')).toBe(2)
    expect(lru.bytes).toBe(3)
    lru.clear()
    expect(lru.size).toBe(0)
    expect(lru.bytes).toBe(0)
  })

  it('should drop everything and keep nothing once closed (a replaced version)', () => {
    const lru = new ByteLru<string, number>(100)
    lru.set('a', 1, 40)
    lru.close()
    expect(lru.bytes).toBe(0)
    expect(lru.get('a')).toBeUndefined()
    lru.set('b', 2, 10)
    expect(lru.get('b')).toBeUndefined()
    expect(lru.size).toBe(0)
  })
})
