import { describe, expect, it } from 'vitest'
import { ShardFormatError } from '../errors.js'
import { quantizeRows } from '../quantize/quantize.js'
import { mulberry32, randomFloats } from '../random.test-support.js'
import { decodeShard } from '../shard/decode.js'
import { encodeShard } from '../shard/encode.js'
import {
  SectionType,
  SHARD_CHECKSUM_BYTES,
  SHARD_HEADER_BYTES,
  SHARD_SECTION_ENTRY_BYTES,
} from '../shard/format.js'
import { userInput } from '../shard/shard.test-support.js'
import type { UserShard } from '../shard/types.js'
import { buildCandidateLists, topKFromCandidates } from './candidates.js'
import { blockFromQuantized, type Int8Vector, recommendTopK } from './score.js'
import type { IndexFilter } from './top-k.js'

const ITEMS = 300
const DIMS = 16
const items = quantizeRows(randomFloats(mulberry32(3), ITEMS * DIMS), ITEMS, DIMS)
const blocks = [blockFromQuantized(items)]
const exactScan = (user: Int8Vector, n: number, exclude: IndexFilter) =>
  recommendTopK(user, blocks, n, exclude)

describe('buildCandidateLists', () => {
  it("should store each user's best n items by the exact scan, training interactions left out", () => {
    const input = userInput(40, DIMS, 5, ITEMS)
    const lists = buildCandidateLists(input.factors, input.interactions, 20, exactScan)
    expect(lists.offsets.length).toBe(41)
    for (let r = 0; r < 40; r++) {
      const row = lists.items.subarray(lists.offsets[r]!, lists.offsets[r + 1]!)
      const trained = new Set(
        input.interactions.items.subarray(input.interactions.offsets[r]!, input.interactions.offsets[r + 1]!),
      )
      const user = {
        values: input.factors.values.subarray(r * DIMS, (r + 1) * DIMS),
        scale: input.factors.scales[r]!,
      }
      const want = recommendTopK(user, blocks, 20, trained)
      expect([...row]).toEqual([...want.indices])
      expect([...lists.scores.subarray(lists.offsets[r]!, lists.offsets[r + 1]!)]).toEqual([...want.scores])
      for (const item of row) expect(trained.has(item)).toBe(false)
    }
  })
})

describe('topKFromCandidates', () => {
  it('should answer the exact scan of the version for any skip that leaves enough candidates', () => {
    const input = userInput(12, DIMS, 9, ITEMS)
    const lists = buildCandidateLists(input.factors, input.interactions, 50, exactScan)
    const random = mulberry32(17)
    for (let r = 0; r < 12; r++) {
      const trained = new Set(
        input.interactions.items.subarray(input.interactions.offsets[r]!, input.interactions.offsets[r + 1]!),
      )
      const skipped = new Set([...trained, ...Array.from({ length: 30 }, () => Math.floor(random() * ITEMS))])
      const user = {
        values: input.factors.values.subarray(r * DIMS, (r + 1) * DIMS),
        scale: input.factors.scales[r]!,
      }
      const row = (a: Uint32Array | Float32Array) => a.subarray(lists.offsets[r]!, lists.offsets[r + 1]!)
      const got = topKFromCandidates(
        row(lists.items) as Uint32Array,
        row(lists.scores) as Float32Array,
        10,
        skipped,
      )
      const want = recommendTopK(user, blocks, 10, skipped)
      expect(got).not.toBeNull()
      expect([...got!.indices]).toEqual([...want.indices])
      expect([...got!.scores]).toEqual([...want.scores])
    }
  })

  it('should answer null when fewer than size candidates pass, so the caller scans', () => {
    const itemsRow = Uint32Array.from([4, 9, 2])
    const scores = Float32Array.from([3, 2, 1])
    expect(topKFromCandidates(itemsRow, scores, 3, new Set([9]))).toBeNull()
    expect(topKFromCandidates(itemsRow, scores, 2, new Set([9]))).toEqual({
      indices: Uint32Array.from([4, 2]),
      scores: Float32Array.from([3, 1]),
    })
  })
})

describe('user shards with candidates', () => {
  it('should round-trip the candidates, and decode a bucket without them as before', async () => {
    const input = userInput(25, DIMS, 11, ITEMS)
    const candidates = buildCandidateLists(input.factors, input.interactions, 8, exactScan)
    const decoded = (await decodeShard((await encodeShard({ ...input, candidates })).bytes)) as UserShard
    expect([...decoded.candidates!.offsets]).toEqual([...candidates.offsets])
    expect([...decoded.candidates!.items]).toEqual([...candidates.items])
    expect([...decoded.candidates!.scores]).toEqual([...candidates.scores])
    const without = (await decodeShard((await encodeShard(input)).bytes)) as UserShard
    expect(without.candidates).toBeUndefined()
  })

  it('should refuse candidates that are not best first, list an item twice or miss offsets', async () => {
    const input = userInput(3, DIMS, 13, ITEMS)
    const offsets = Uint32Array.from([0, 2, 2, 3])
    const bad = [
      { offsets, items: Uint32Array.from([1, 2, 3]), scores: Float32Array.from([1, 2, 0]) },
      { offsets, items: Uint32Array.from([1, 1, 3]), scores: Float32Array.from([2, 1, 0]) },
      {
        offsets: Uint32Array.from([0, 2, 3]),
        items: Uint32Array.from([1, 2, 3]),
        scores: Float32Array.from([2, 1, 0]),
      },
      { offsets, items: Uint32Array.from([1, 2, 3]), scores: Float32Array.from([2, Number.NaN, 0]) },
    ]
    for (const candidates of bad)
      await expect(encodeShard({ ...input, candidates })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
  })

  it('should reject a bucket holding only part of the candidate sections with SHARD_MALFORMED', async () => {
    const input = userInput(4, DIMS, 15, ITEMS)
    const candidates = buildCandidateLists(input.factors, input.interactions, 5, exactScan)
    const bytes = (await encodeShard({ ...input, candidates })).bytes.slice()
    // Retype the candidateScores entry as an unknown section, then reseal: the structure, not the
    // checksum, must refuse it.
    const view = new DataView(bytes.buffer)
    const sections = view.getUint32(20, true)
    for (let i = 0; i < sections; i++) {
      const entry = SHARD_HEADER_BYTES + i * SHARD_SECTION_ENTRY_BYTES
      if (view.getUint32(entry, true) === SectionType.candidateScores)
        view.setUint32(entry, SectionType.interactionConfidences, true)
    }
    const end = bytes.length - SHARD_CHECKSUM_BYTES
    bytes.set(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes.slice(0, end))), end)
    const error = await decodeShard(bytes).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ShardFormatError)
    expect((error as ShardFormatError).code).toBe('SHARD_MALFORMED')
  })
})
