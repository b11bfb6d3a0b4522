import { describe, expect, it } from 'vitest'
import { spansOf } from './partition-lists.js'

describe('spansOf', () => {
  // Lists of 100 bytes back to back: list p is bytes [100p, 100p + 100).
  const listBytes = Uint32Array.from({ length: 21 }, (_, p) => p * 100)

  it('should read adjacent lists together and keep far ones apart with a gap of 0', () => {
    expect(spansOf([5, 0, 1, 2, 9], listBytes, 0)).toEqual([[0, 1, 2], [5], [9]])
  })

  it('should join lists whose gap is at most gapBytes', () => {
    // 2 → 5 leaves lists 3..4 (200 bytes) between them; 5 → 9 leaves 300.
    expect(spansOf([9, 2, 5], listBytes, 200)).toEqual([[2, 5], [9]])
    expect(spansOf([9, 2, 5], listBytes, 300)).toEqual([[2, 5, 9]])
    expect(spansOf([], listBytes, 300)).toEqual([])
  })

  it('should cap a span at maxSpanBytes (a larger single list is its own span)', () => {
    expect(spansOf([0, 1, 2, 3], listBytes, 1000, 250)).toEqual([
      [0, 1],
      [2, 3],
    ])
    expect(spansOf([0, 4], listBytes, 1000, 50)).toEqual([[0], [4]])
  })
})
