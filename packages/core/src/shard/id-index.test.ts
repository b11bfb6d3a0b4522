import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { IdIndex, IdIndexBuilder, idIndexByteLength } from './id-index.js'
import { encodeIds, IdTable } from './id-table.js'

function table(ids: readonly string[]): IdTable {
  const { offsets, bytes } = encodeIds(ids)
  return new IdTable(offsets, bytes)
}

describe('IdIndex', () => {
  it('should map every id to its index and back, built from parts with or without a byte capacity (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' }), {
          minLength: 1,
          maxLength: 300,
        }),
        fc.integer({ min: 1, max: 7 }),
        (ids, parts) => {
          const builder = new IdIndexBuilder(ids.length, parts % 2 === 0 ? 0 : 64)
          const size = Math.ceil(ids.length / parts)
          for (let start = 0; start < ids.length; start += size)
            builder.add(start, table(ids.slice(start, start + size)))
          const index = builder.build()
          expect(index.size).toBe(ids.length)
          ids.forEach((id, i) => {
            expect(index.indexOf(id)).toBe(i)
            expect(index.get(i)).toBe(id)
          })
          expect(index.indexOf(`${ids[0]}\u0000missing`)).toBe(-1)
        },
      ),
      { numRuns: 60 },
    )
  })

  it('should keep the first occurrence of a duplicated id, like the Map it replaces', () => {
    const builder = new IdIndexBuilder(4)
    builder.add(0, table(['a', 'b', 'a', 'c']))
    const index = builder.build()
    expect(index.indexOf('a')).toBe(0)
    expect(index.get(2)).toBe('a')
  })

  it('should cost the planned bytes, a fraction of a Map of strings', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `sku-${String(i).padStart(6, '0')}`)
    const builder = new IdIndexBuilder(ids.length)
    builder.add(0, table(ids))
    const index = builder.build()
    const idBytes = ids.length * 10
    expect(index.byteLength).toBe(idIndexByteLength(ids.length, idBytes))
    // 10 B of id + 4 B offset + ≤ 16 B of slots per id.
    expect(index.byteLength / ids.length).toBeLessThanOrEqual(30)
  })

  it('should refuse parts that leave a gap, come out of order or fall outside the count', () => {
    const builder = new IdIndexBuilder(4)
    expect(() => builder.add(3, table(['x', 'y']))).toThrow(/row order/)
    builder.add(0, table(['a']))
    expect(() => builder.add(2, table(['c', 'd']))).toThrow(/row order/)
    builder.add(1, table(['b']))
    expect(() => builder.build()).toThrow(/cover 2 of 4/)
  })

  it('should fill a preallocated string table in place when given its capacity', () => {
    const ids = ['α-1', 'b-22', 'c-333']
    const exact = new TextEncoder().encode(ids.join('')).length
    const builder = new IdIndexBuilder(3, exact + 5)
    builder.add(0, table(ids.slice(0, 1)))
    builder.add(1, table(ids.slice(1)))
    const index = builder.build()
    expect(ids.map((id) => index.indexOf(id))).toEqual([0, 1, 2])
    expect(index.byteLength).toBe(idIndexByteLength(3, exact))
  })

  it('should index an existing id table in place, adding only the slots', () => {
    const ids = ['u-1', 'u-2', 'ü-3']
    const index = IdIndex.over(table(ids))
    expect(ids.map((id) => index.indexOf(id))).toEqual([0, 1, 2])
    expect(index.indexOf('u-4')).toBe(-1)
    expect(index.slotBytes).toBe(16 * 4)
  })
})
