import { describe, expect, it } from 'vitest'
import { isEdgerecError } from './errors.js'
import { stableHash32, userBucket } from './hash.js'

describe('stableHash32', () => {
  it('should match the published FNV-1a 32-bit test vectors', () => {
    // Vectors from the FNV reference (Fowler/Noll/Vo, draft-eastlake-fnv, test suite).
    expect(stableHash32('')).toBe(0x811c9dc5)
    expect(stableHash32('a')).toBe(0xe40c292c)
    expect(stableHash32('b')).toBe(0xe70c2de5)
    expect(stableHash32('foobar')).toBe(0xbf9cf968)
  })

  it('should hash the UTF-8 bytes of non-ASCII ids', () => {
    // Reference: FNV-1a over the bytes, written out here independently of the implementation.
    const fnv = (bytes: number[]) => bytes.reduce((h, b) => Math.imul(h ^ b, 0x01000193) >>> 0, 0x811c9dc5)
    expect(stableHash32('é')).toBe(fnv([0xc3, 0xa9]))
    expect(stableHash32('€')).toBe(fnv([0xe2, 0x82, 0xac]))
    expect(stableHash32('😀')).toBe(fnv([0xf0, 0x9f, 0x98, 0x80]))
    expect(stableHash32('é')).not.toBe(stableHash32('\u00e9'.normalize('NFD')))
  })

  it('should always return an unsigned 32-bit integer', () => {
    for (const id of ['user-1', 'user-2', 'x'.repeat(1000), '\u0000']) {
      const h = stableHash32(id)
      expect(Number.isInteger(h) && h >= 0 && h <= 0xffffffff).toBe(true)
    }
  })
})

describe('userBucket', () => {
  it('should be the hash modulo the bucket count', () => {
    expect(userBucket('a', 16)).toBe(0xe40c292c % 16)
    expect(userBucket('a', 1)).toBe(0)
  })

  it('should reject a bucket count that is not a positive integer', () => {
    for (const n of [0, -1, 1.5, Number.NaN]) {
      let caught: unknown
      try {
        userBucket('a', n)
      } catch (e) {
        caught = e
      }
      expect(isEdgerecError(caught) && caught.code).toBe('INVALID_ARGUMENT')
    }
  })
})
