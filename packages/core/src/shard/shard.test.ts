import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isEdgerecError, ShardFormatError } from '../errors.js'
import { quantizeRows } from '../quantize/quantize.js'
import { mulberry32, randomInt } from '../random.test-support.js'
import { sha256Hex } from './checksum.js'
import { decodeShard } from './decode.js'
import { encodeShard, shardByteLength } from './encode.js'
import {
  SectionType,
  SHARD_CHECKSUM_BYTES,
  SHARD_FORMAT_VERSION,
  SHARD_HEADER_BYTES,
  SHARD_SECTION_ENTRY_BYTES,
  ShardKind,
} from './format.js'
import { encodeIds } from './id-table.js'
import { gramInput, itemInput, popularityInput, sampleIds, userInput } from './shard.test-support.js'
import { planItemShards } from './split.js'
import type { DecodedShard, ShardInput } from './types.js'

/** Writes a fresh SHA-256 trailer, so a mutation reaches the structural checks behind the checksum. */
async function resealed(bytes: Uint8Array): Promise<Uint8Array> {
  if (bytes.length < SHARD_CHECKSUM_BYTES) return bytes
  const end = bytes.length - SHARD_CHECKSUM_BYTES
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes.slice(0, end)))
  bytes.set(digest, end)
  return bytes
}

async function rejection(promise: Promise<unknown>): Promise<ShardFormatError> {
  try {
    await promise
  } catch (e) {
    expect(e).toBeInstanceOf(ShardFormatError)
    return e as ShardFormatError
  }
  throw new Error('expected decodeShard to reject')
}

function u32(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(offset, value, true)
  return bytes
}

function sectionEntry(bytes: Uint8Array, type: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset)
  const count = view.getUint32(20, true)
  for (let i = 0; i < count; i++) {
    const entry = SHARD_HEADER_BYTES + i * SHARD_SECTION_ENTRY_BYTES
    if (view.getUint32(entry, true) === type) return entry
  }
  throw new Error(`no section ${type}`)
}

/**
 * Independent consistency check of a decoded shard against the bytes it came from: every view lies
 * inside the body [header end, total − 32) of those bytes, lengths agree with the header, and
 * everything a consumer reads (ids, interaction ranges, scales) is usable.
 */
function expectConsistent(shard: DecodedShard, bytes: Uint8Array): void {
  const bodyStart = bytes.byteOffset + SHARD_HEADER_BYTES
  const bodyEnd = bytes.byteOffset + bytes.length - SHARD_CHECKSUM_BYTES
  const inBody = (view: ArrayBufferView) => {
    expect(view.buffer).toBe(bytes.buffer)
    expect(view.byteOffset).toBeGreaterThanOrEqual(bodyStart)
    expect(view.byteOffset + view.byteLength).toBeLessThanOrEqual(bodyEnd)
  }
  expect(shard.byteLength).toBe(bytes.length)
  expect(shard.formatVersion).toBe(SHARD_FORMAT_VERSION)
  switch (shard.kind) {
    case 'items':
    case 'users': {
      for (const v of [shard.factors, shard.scales]) inBody(v)
      expect(shard.dims).toBeGreaterThan(0)
      expect(shard.factors.length).toBe(shard.rowCount * shard.dims)
      expect(shard.scales.length).toBe(shard.rowCount)
      expect(shard.ids.size).toBe(shard.rowCount)
      let idBytes = 0
      for (let r = 0; r < shard.rowCount; r++) {
        idBytes += new TextEncoder().encode(shard.ids.get(r)).length
        expect(Number.isFinite(shard.scales[r]!) && shard.scales[r]! >= 0).toBe(true)
      }
      // The ids, re-encoded, fill exactly the idBytes section (read straight from the section table).
      expect(idBytes).toBe(
        new DataView(bytes.buffer, bytes.byteOffset).getUint32(
          sectionEntry(bytes, SectionType.idBytes) + 12,
          true,
        ),
      )
      if (shard.kind === 'items') {
        inBody(shard.norms)
        expect(shard.norms.length).toBe(shard.rowCount)
        for (const n of shard.norms) expect(Number.isFinite(n) && n >= 0).toBe(true)
      } else {
        const { offsets, items, confidences } = shard.interactions
        for (const v of [offsets, items, confidences]) inBody(v)
        expect(shard.rowOffset).toBe(0)
        expect(offsets.length).toBe(shard.rowCount + 1)
        expect(offsets[0]).toBe(0)
        expect(offsets[shard.rowCount]).toBe(items.length)
        expect(confidences.length).toBe(items.length)
        for (let r = 0; r < shard.rowCount; r++) expect(offsets[r + 1]! >= offsets[r]!).toBe(true)
        for (const c of confidences) expect(Number.isFinite(c)).toBe(true)
      }
      break
    }
    case 'popularity':
      inBody(shard.itemIndexes)
      inBody(shard.scores)
      expect(shard.itemIndexes.length).toBe(shard.rowCount)
      expect(shard.scores.length).toBe(shard.rowCount)
      for (const s of shard.scores) expect(Number.isFinite(s)).toBe(true)
      break
    case 'gram':
      inBody(shard.matrix)
      expect(shard.rowCount).toBe(shard.dims)
      expect(shard.matrix.length).toBe(shard.dims * shard.dims)
      for (const v of shard.matrix) expect(Number.isFinite(v)).toBe(true)
      break
  }
}

describe('encodeShard / decodeShard round trip', () => {
  it('should round-trip an item shard with a rowOffset as zero-copy views', async () => {
    const input = itemInput(37, 24, 1, 1000)
    const encoded = await encodeShard(input)
    const shard = await decodeShard(encoded.bytes, { expectedKind: 'items', expectedSha256: encoded.sha256 })
    expect(shard.kind).toBe('items')
    if (shard.kind !== 'items') return
    expect([shard.rowCount, shard.dims, shard.rowOffset]).toEqual([37, 24, 1000])
    expect(shard.factors).toEqual(input.factors.values)
    expect(shard.scales).toEqual(input.factors.scales)
    expect(shard.ids.toArray()).toEqual(input.ids)
    expect(shard.ids.indexOf(input.ids[5]!)).toBe(5)
    expect(shard.ids.indexOf('nope')).toBe(-1)
    expect(shard.ids.get(4)!.startsWith('\ufeff')).toBe(true)
    for (const view of [shard.factors, shard.scales, shard.norms])
      expect(view.buffer).toBe(encoded.bytes.buffer)
    // Norms are ‖y_i‖ of the dequantized rows, computed at encode time.
    for (let r = 0; r < 37; r++) {
      let sum = 0
      for (let d = 0; d < 24; d++) sum += (input.factors.scales[r]! * input.factors.values[r * 24 + d]!) ** 2
      expect(shard.norms[r]).toBeCloseTo(Math.sqrt(sum), 6)
    }
    expect(shard.norms[1]).toBe(0)
    expect(shard.sha256).toBe(encoded.sha256)
    expect(encoded.sha256).toBe(await sha256Hex(encoded.bytes.subarray(0, encoded.bytes.length - 32)))
    expect(encoded.bytes.length).toBe(shard.byteLength)
    expectConsistent(shard, encoded.bytes)
  })

  it('should round-trip a user shard with its interactions (including users with none)', async () => {
    const input = userInput(21, 8, 2)
    const encoded = await encodeShard(input)
    const shard = await decodeShard(encoded.bytes, { expectedKind: 'users' })
    if (shard.kind !== 'users') throw new Error('kind')
    expect(shard.factors).toEqual(input.factors.values)
    expect(shard.scales).toEqual(input.factors.scales)
    expect(shard.ids.toArray()).toEqual(input.ids)
    expect(shard.interactions.offsets).toEqual(input.interactions.offsets)
    expect(shard.interactions.items).toEqual(input.interactions.items)
    expect(shard.interactions.confidences).toEqual(input.interactions.confidences)
    expect(shard.interactions.offsets[4]).toBe(shard.interactions.offsets[3]) // user 3 has none
    for (const view of [shard.factors, shard.interactions.items, shard.interactions.confidences]) {
      expect(view.buffer).toBe(encoded.bytes.buffer)
    }
    expectConsistent(shard, encoded.bytes)
  })

  it('should round-trip popularity and gram shards', async () => {
    const pop = popularityInput(13, 3)
    const popBytes = (await encodeShard(pop)).bytes
    const popShard = await decodeShard(popBytes, { expectedKind: 'popularity' })
    if (popShard.kind !== 'popularity') throw new Error('kind')
    expect(popShard.itemIndexes).toEqual(pop.itemIndexes)
    expect(popShard.scores).toEqual(pop.scores)
    expect(popShard.scores.buffer).toBe(popBytes.buffer)
    expectConsistent(popShard, popBytes)

    const gram = gramInput(6, 4)
    const gramBytes = (await encodeShard(gram)).bytes
    const gramShard = await decodeShard(gramBytes.buffer as ArrayBuffer, { expectedKind: 'gram' })
    if (gramShard.kind !== 'gram') throw new Error('kind')
    expect(gramShard.matrix).toEqual(gram.matrix)
    expect(gramShard.matrix.buffer).toBe(gramBytes.buffer)
    expectConsistent(gramShard, gramBytes)
  })

  it('should round-trip empty shards', async () => {
    const items = await decodeShard((await encodeShard(itemInput(0, 4, 5))).bytes)
    expect([items.kind, items.rowCount]).toEqual(['items', 0])
    const pop = await decodeShard((await encodeShard(popularityInput(0, 5))).bytes)
    expect([pop.kind, pop.rowCount]).toEqual(['popularity', 0])
  })

  it('should copy once to align input that does not start on an 8-byte boundary', async () => {
    const { bytes } = await encodeShard(itemInput(5, 3, 6))
    const misaligned = new Uint8Array(bytes.length + 4).subarray(4)
    misaligned.set(bytes)
    const shard = await decodeShard(misaligned)
    if (shard.kind !== 'items') throw new Error('kind')
    expect(shard.factors.buffer).not.toBe(misaligned.buffer)
    expect(Array.from(shard.factors)).toEqual(Array.from(new Int8Array(bytes.buffer, 128, 15)))
  })

  it('should lay out the header, the 8-byte aligned sections and the trailer as specified', async () => {
    const input = itemInput(3, 5, 7, 9)
    const { bytes } = await encodeShard(input)
    const view = new DataView(bytes.buffer)
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('ERSH')
    expect([view.getUint16(4, true), view.getUint16(6, true)]).toEqual([1, ShardKind.items])
    expect([3, 5, 9, 5, bytes.length].map((_, i) => view.getUint32(8 + i * 4, true))).toEqual([
      3,
      5,
      9,
      5,
      bytes.length,
    ])
    const ids = encodeIds(input.ids)
    const expectedSections = [
      [SectionType.factors, 15, 15],
      [SectionType.scales, 3, 12],
      [SectionType.norms, 3, 12],
      [SectionType.idOffsets, 4, 16],
      [SectionType.idBytes, ids.bytes.length, ids.bytes.length],
    ]
    let cursor = 128 // 48-byte header + 5 × 16-byte entries = 128, already aligned
    expectedSections.forEach(([type, count, length], i) => {
      const entry = 48 + i * 16
      expect(view.getUint32(entry, true)).toBe(type)
      expect(view.getUint32(entry + 4, true)).toBe(count)
      expect(view.getUint32(entry + 8, true)).toBe(cursor)
      expect(view.getUint32(entry + 12, true)).toBe(length)
      cursor = Math.ceil((cursor + length!) / 8) * 8
    })
    expect(bytes.length).toBe(cursor + 32)
    expect(shardByteLength(expectedSections.map(([, , length]) => length!))).toBe(bytes.length)
  })
})

describe('decodeShard rejections', () => {
  it('should reject truncated input with SHARD_TRUNCATED', async () => {
    const { bytes } = await encodeShard(itemInput(4, 4, 8))
    for (const length of [
      0,
      3,
      40,
      SHARD_HEADER_BYTES + SHARD_CHECKSUM_BYTES - 1,
      bytes.length - 1,
      bytes.length - 33,
    ]) {
      expect((await rejection(decodeShard(bytes.slice(0, length)))).code).toBe('SHARD_TRUNCATED')
    }
  })

  it('should reject a bad magic with SHARD_BAD_MAGIC', async () => {
    const { bytes } = await encodeShard(itemInput(4, 4, 8))
    bytes[0] = 0x50
    const error = await rejection(decodeShard(bytes))
    expect(error.code).toBe('SHARD_BAD_MAGIC')
    expect(error.message).toMatch(/magic/)
  })

  it('should reject another format version with SHARD_UNSUPPORTED_VERSION', async () => {
    const { bytes } = await encodeShard(itemInput(4, 4, 8))
    new DataView(bytes.buffer).setUint16(4, 2, true)
    const error = await rejection(decodeShard(await resealed(bytes)))
    expect(error.code).toBe('SHARD_UNSUPPORTED_VERSION')
    expect(error.message).toMatch(/Upgrade/)
  })

  it('should reject input over maxBytes with SHARD_TOO_LARGE before reading it', async () => {
    const { bytes } = await encodeShard(itemInput(40, 16, 8))
    expect((await rejection(decodeShard(bytes, { maxBytes: bytes.length - 1 }))).code).toBe('SHARD_TOO_LARGE')
    expect((await decodeShard(bytes, { maxBytes: bytes.length })).rowCount).toBe(40)
  })

  it('should reject a shard of another kind with SHARD_WRONG_KIND', async () => {
    const { bytes } = await encodeShard(popularityInput(3, 8))
    const error = await rejection(decodeShard(bytes, { expectedKind: 'items' }))
    expect(error.code).toBe('SHARD_WRONG_KIND')
  })

  it('should reject corrupted bytes with SHARD_CHECKSUM_MISMATCH', async () => {
    const { bytes } = await encodeShard(itemInput(4, 4, 8))
    for (const at of [130, bytes.length - 33, bytes.length - 1]) {
      const copy = bytes.slice()
      copy[at]! ^= 0x01
      expect((await rejection(decodeShard(copy))).code).toBe('SHARD_CHECKSUM_MISMATCH')
    }
  })

  it('should reject a checksum that differs from the manifest with SHARD_CHECKSUM_MISMATCH', async () => {
    const { bytes, sha256 } = await encodeShard(itemInput(4, 4, 8))
    const other = `${sha256.slice(0, 63)}${sha256[63] === '0' ? '1' : '0'}`
    expect((await rejection(decodeShard(bytes, { expectedSha256: other }))).code).toBe(
      'SHARD_CHECKSUM_MISMATCH',
    )
    expect((await decodeShard(bytes, { expectedSha256: sha256.toUpperCase() })).sha256).toBe(sha256)
  })

  it('should skip hashing only when asked, still checking the manifest checksum against the trailer', async () => {
    const { bytes, sha256 } = await encodeShard(itemInput(4, 4, 8))
    const copy = bytes.slice()
    copy[130]! ^= 0x01
    expect((await decodeShard(copy, { verifyChecksum: false, expectedSha256: sha256 })).rowCount).toBe(4)
    copy[copy.length - 1]! ^= 0x01
    const error = await rejection(decodeShard(copy, { verifyChecksum: false, expectedSha256: sha256 }))
    expect(error.code).toBe('SHARD_CHECKSUM_MISMATCH')
  })

  it('should reject trailing bytes beyond the declared total with SHARD_MALFORMED', async () => {
    const { bytes } = await encodeShard(itemInput(4, 4, 8))
    const longer = new Uint8Array(bytes.length + 8)
    longer.set(bytes)
    expect((await rejection(decodeShard(longer))).code).toBe('SHARD_MALFORMED')
  })

  it('should reject structural damage behind a valid checksum with SHARD_MALFORMED or SHARD_TRUNCATED', async () => {
    const items = (await encodeShard(itemInput(4, 4, 8))).bytes
    const users = (await encodeShard(userInput(4, 4, 8))).bytes
    const scales = sectionEntry(items, SectionType.scales)
    const idOffsets = sectionEntry(items, SectionType.idOffsets)
    const idBytesAt = new DataView(items.buffer).getUint32(sectionEntry(items, SectionType.idBytes) + 8, true)
    const scalesAt = new DataView(items.buffer).getUint32(scales + 8, true)
    const cases: [string, Uint8Array, string][] = [
      ['unknown kind', u32(items.slice(), 4, 0x00090001), 'SHARD_MALFORMED'],
      ['reserved byte set', u32(items.slice(), 28, 1), 'SHARD_MALFORMED'],
      ['rowCount off by one', u32(items.slice(), 8, 5), 'SHARD_MALFORMED'],
      ['dims zero', u32(items.slice(), 12, 0), 'SHARD_MALFORMED'],
      ['users with a rowOffset', u32(users.slice(), 16, 3), 'SHARD_MALFORMED'],
      ['section count huge', u32(items.slice(), 20, 0xffffffff), 'SHARD_MALFORMED'],
      ['section count too small', u32(items.slice(), 20, 4), 'SHARD_MALFORMED'],
      ['unknown section type', u32(items.slice(), scales, 99), 'SHARD_MALFORMED'],
      ['duplicate section', u32(items.slice(), scales, SectionType.factors), 'SHARD_MALFORMED'],
      ['section of another kind', u32(items.slice(), scales, SectionType.matrix), 'SHARD_MALFORMED'],
      ['misaligned section', u32(items.slice(), scales + 8, scalesAt + 4), 'SHARD_MALFORMED'],
      ['overlapping sections', u32(items.slice(), scales + 8, scalesAt - 8), 'SHARD_MALFORMED'],
      ['section past the end', u32(items.slice(), scales + 8, items.length), 'SHARD_TRUNCATED'],
      ['count disagrees with length', u32(items.slice(), scales + 4, 2), 'SHARD_MALFORMED'],
      [
        'id offsets decrease',
        u32(items.slice(), new DataView(items.buffer).getUint32(idOffsets + 8, true) + 4, 99),
        'SHARD_MALFORMED',
      ],
      ['NaN scale', u32(items.slice(), scalesAt, 0x7fc00000), 'SHARD_MALFORMED'],
      ['negative scale', u32(items.slice(), scalesAt, 0xbf800000), 'SHARD_MALFORMED'],
    ]
    const badUtf8 = items.slice()
    badUtf8[idBytesAt] = 0xff
    cases.push(['invalid UTF-8 id', badUtf8, 'SHARD_MALFORMED'])
    const splitChar = items.slice() // id 1 starts with "é" (2 bytes): make id 0 end in its middle
    const offsetsAt = new DataView(items.buffer).getUint32(idOffsets + 8, true)
    u32(splitChar, offsetsAt + 4, new DataView(items.buffer).getUint32(offsetsAt + 4, true) + 1)
    cases.push(['id boundary inside a character', splitChar, 'SHARD_MALFORMED'])
    for (const [name, bytes, code] of cases) {
      const error = await rejection(decodeShard(await resealed(bytes)))
      expect(`${name}: ${error.code}`).toBe(`${name}: ${code}`)
      expect(error.message.length).toBeGreaterThan(10)
    }
  })
})

describe('encodeShard input checks', () => {
  it('should refuse inconsistent input with INVALID_ARGUMENT', async () => {
    const good = itemInput(3, 4, 9)
    const user = userInput(3, 4, 9)
    const bad: ShardInput[] = [
      { ...good, ids: ['a', 'b'] },
      { ...good, ids: ['a', 'b', 'a'] },
      { ...good, rowOffset: -1 },
      { ...good, norms: new Float32Array(2) },
      { ...good, factors: { ...good.factors, scales: Float32Array.from([1, Number.NaN, 1]) } },
      { ...good, factors: { ...good.factors, dims: 0, values: new Int8Array(0) } },
      { ...good, factors: { ...good.factors, values: new Int8Array(5) } },
      { ...user, interactions: { ...user.interactions, offsets: new Uint32Array(3) } },
      {
        ...user,
        interactions: {
          ...user.interactions,
          offsets: Uint32Array.from([0, 5, 2, user.interactions.items.length]),
        },
      },
      { ...user, interactions: { ...user.interactions, confidences: new Float32Array(1) } },
      { kind: 'popularity', itemIndexes: new Uint32Array(2), scores: new Float32Array(3) },
      {
        kind: 'popularity',
        itemIndexes: new Uint32Array(1),
        scores: Float32Array.from([Number.POSITIVE_INFINITY]),
      },
      { kind: 'gram', dims: 3, matrix: new Float32Array(8) },
    ]
    for (const input of bad) {
      let caught: unknown
      try {
        await encodeShard(input)
      } catch (e) {
        caught = e
      }
      expect(isEdgerecError(caught) && caught.code).toBe('INVALID_ARGUMENT')
    }
  })

  it('should refuse to write a shard over maxBytes', async () => {
    const input = itemInput(100, 64, 10)
    await expect(encodeShard(input, { maxBytes: 4096 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
  })
})

describe('planItemShards', () => {
  it('should tile all rows with shards that each encode under maxBytes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: 'binary', minLength: 0, maxLength: 12 }), {
          minLength: 0,
          maxLength: 300,
        }),
        fc.integer({ min: 1, max: 96 }),
        fc.integer({ min: 1024, max: 16384 }),
        async (rawIds, dims, maxBytes) => {
          const ids = rawIds.map((id, i) => `${i}:${id}`)
          const ranges = planItemShards(ids, dims, maxBytes)
          let next = 0
          for (const { start, end } of ranges) {
            expect(start).toBe(next)
            expect(end > start || ids.length === 0).toBe(true)
            next = end
            const factors = quantizeRows(new Float64Array((end - start) * dims).fill(0.5), end - start, dims)
            const { bytes } = await encodeShard(
              { kind: 'items', rowOffset: start, factors, ids: ids.slice(start, end) },
              { maxBytes },
            )
            expect(bytes.length).toBeLessThanOrEqual(maxBytes)
          }
          expect(next).toBe(ids.length)
        },
      ),
      { seed: 11, numRuns: 60 },
    )
  })

  it('should fill shards well: each shard but the last is within one row and the padding slack of maxBytes', async () => {
    const ids = sampleIds('item', 2000)
    const maxBytes = 20_000
    const ranges = planItemShards(ids, 32, maxBytes)
    expect(ranges.length).toBeGreaterThan(3)
    for (const { start, end } of ranges.slice(0, -1)) {
      const factors = quantizeRows(new Float64Array((end - start) * 32), end - start, 32)
      const { bytes } = await encodeShard({
        kind: 'items',
        rowOffset: start,
        factors,
        ids: ids.slice(start, end),
      })
      expect(bytes.length).toBeGreaterThan(maxBytes - 2 * (32 + 12 + 16) - 40)
    }
  })

  it('should refuse a row that cannot fit in any shard', () => {
    expect(() => planItemShards(['a'], 4096, 4096)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    )
  })
})

/**
 * Random mutation of a valid shard: bit flips, byte writes, truncation, extension, header and
 * section-table field rewrites; most mutants get a fresh checksum so the structural checks run.
 */
async function mutate(base: Uint8Array, random: () => number): Promise<Uint8Array> {
  let bytes = base.slice()
  const steps = 1 + randomInt(random, 3)
  const interesting = () => {
    const choices = [
      0, 1, 2, 3, 4, 7, 8, 16, 32, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
    ]
    return choices[randomInt(random, choices.length)]!
  }
  for (let s = 0; s < steps; s++) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const op = randomInt(random, 10)
    if (op === 0 && bytes.length > 0) {
      const at = randomInt(random, bytes.length)
      bytes[at]! ^= 1 << randomInt(random, 8)
    } else if (op === 1 && bytes.length > 0) {
      bytes[randomInt(random, bytes.length)] = randomInt(random, 256)
    } else if (op === 2) {
      bytes = bytes.slice(0, randomInt(random, bytes.length + 1))
    } else if (op === 3) {
      const longer = new Uint8Array(bytes.length + 1 + randomInt(random, 40))
      longer.set(bytes)
      for (let i = bytes.length; i < longer.length; i++) longer[i] = randomInt(random, 256)
      bytes = longer
    } else if (op === 4 && bytes.length >= 32) {
      const field = 4 + 4 * randomInt(random, 7) // version+kind, rowCount, dims, rowOffset, sections, total, reserved
      const old = view.getUint32(field, true)
      const value = random() < 0.5 ? interesting() : (old + randomInt(random, 17) - 8) >>> 0
      view.setUint32(field, value, true)
    } else if (op === 5 && bytes.length >= SHARD_HEADER_BYTES + SHARD_SECTION_ENTRY_BYTES) {
      const sections = Math.min(
        view.getUint32(20, true),
        Math.floor((bytes.length - SHARD_HEADER_BYTES) / 16),
      )
      if (sections > 0) {
        const field = SHARD_HEADER_BYTES + 16 * randomInt(random, sections) + 4 * randomInt(random, 4)
        const old = view.getUint32(field, true)
        const value = random() < 0.4 ? interesting() : (old + randomInt(random, 17) - 8) >>> 0
        view.setUint32(field, value, true)
      }
    } else if (op === 6 && bytes.length >= 28) {
      view.setUint32(24, bytes.length, true) // keep the total consistent after a resize
    } else if (op === 7 && bytes.length >= SHARD_HEADER_BYTES + SHARD_SECTION_ENTRY_BYTES) {
      // Resize a section consistently (count and byteLength agree), shifting nothing else.
      const sections = Math.min(
        view.getUint32(20, true),
        Math.floor((bytes.length - SHARD_HEADER_BYTES) / 16),
      )
      if (sections > 0) {
        const entry = SHARD_HEADER_BYTES + 16 * randomInt(random, sections)
        const elementBytes = [1, 4][randomInt(random, 2)]!
        const count = Math.max(0, view.getUint32(entry + 4, true) + randomInt(random, 9) - 4)
        view.setUint32(entry + 4, count, true)
        view.setUint32(entry + 12, count * elementBytes, true)
      }
    } else if (op === 8 && bytes.length >= 4) {
      const specials = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, -0, 1e38, 3.4e38]
      view.setFloat32(
        4 * randomInt(random, bytes.length >> 2),
        specials[randomInt(random, specials.length)]!,
        true,
      )
    } else if (bytes.length >= 4) {
      view.setUint32(4 * randomInt(random, bytes.length >> 2), interesting(), true) // any aligned word
    }
  }
  return random() < 0.85 ? resealed(bytes) : bytes
}

describe('decodeShard fuzzing', () => {
  it('should either decode a consistent shard or throw ShardFormatError for thousands of mutants', async () => {
    const bases = [
      (await encodeShard(itemInput(6, 5, 21, 40))).bytes,
      (await encodeShard(itemInput(1, 1, 22))).bytes,
      (await encodeShard(userInput(7, 3, 23))).bytes,
      (await encodeShard(popularityInput(5, 24))).bytes,
      (await encodeShard(gramInput(3, 25))).bytes,
    ]
    const random = mulberry32(0xedc0de)
    const outcomes = new Map<string, number>()
    const iterations = 6000
    for (let i = 0; i < iterations; i++) {
      const mutant = await mutate(bases[i % bases.length]!, random)
      let shard: DecodedShard
      try {
        shard = await decodeShard(mutant)
      } catch (e) {
        if (!(e instanceof ShardFormatError)) {
          throw new Error(`mutant ${i} threw ${String(e)} instead of a ShardFormatError`, { cause: e })
        }
        outcomes.set(e.code, (outcomes.get(e.code) ?? 0) + 1)
        continue
      }
      // Outside the try: a lazy error (or a wrong view) in an accepted shard must fail the test.
      expectConsistent(shard, mutant)
      outcomes.set(`decoded ${shard.kind}`, (outcomes.get(`decoded ${shard.kind}`) ?? 0) + 1)
    }
    const total = [...outcomes.values()].reduce((a, b) => a + b, 0)
    expect(total).toBe(iterations)
    // The mutants reach every layer of the decoder, not only the checksum.
    for (const code of [
      'SHARD_TRUNCATED',
      'SHARD_BAD_MAGIC',
      'SHARD_UNSUPPORTED_VERSION',
      'SHARD_MALFORMED',
      'SHARD_CHECKSUM_MISMATCH',
    ]) {
      expect(outcomes.get(code) ?? 0, `${code} in ${JSON.stringify([...outcomes])}`).toBeGreaterThan(20)
    }
    const decoded = [...outcomes].filter(([k]) => k.startsWith('decoded')).reduce((a, [, n]) => a + n, 0)
    expect(decoded).toBeGreaterThan(0)
  }, 60_000)
})
