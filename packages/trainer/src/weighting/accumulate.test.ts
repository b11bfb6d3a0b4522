import type { SourceEvent } from '@edgerec/adapters'
import { describe, expect, it } from 'vitest'
import { type CsrMatrix, csrFromTriples, type InteractionMatrix } from '../data/matrix.js'
import { InteractionAccumulator, type WeightingOptions } from './accumulate.js'

const DAY = 86_400_000
const ev = (
  userId: string,
  itemId: string,
  type: string | undefined,
  timestamp = 0,
  value?: number,
): SourceEvent => ({
  userId,
  itemId,
  type,
  value,
  timestamp,
})

function build(events: SourceEvent[], options: WeightingOptions = {}) {
  const acc = new InteractionAccumulator(options)
  // Two batches, to check accumulation across batches.
  acc.add(events.slice(0, Math.floor(events.length / 2)))
  acc.add(events.slice(Math.floor(events.length / 2)))
  return acc.build()
}

/** The matrix as { user: { item: value } } for readable assertions. */
function dense(data: InteractionMatrix): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {}
  const m = data.matrix
  for (let u = 0; u < m.rows; u++) {
    const row: Record<string, number> = {}
    for (let k = m.indptr[u]!; k < m.indptr[u + 1]!; k++) row[data.itemIds[m.indices[k]!]!] = m.values[k]!
    out[data.userIds[u]!] = row
  }
  return out
}

describe('InteractionAccumulator', () => {
  it('should weight types, sum repeats, and drop non-positive totals', () => {
    const { data, stats } = build([
      ev('alice', 'tent', 'view', 1),
      ev('alice', 'tent', 'view', 2),
      ev('alice', 'tent', 'add_to_cart', 3),
      ev('alice', 'tent', 'purchase', 4), // 1 + 1 + 4 + 8 = 14
      ev('alice', 'stove', 'add_to_cart', 5),
      ev('alice', 'stove', 'remove_from_cart', 6),
      ev('alice', 'stove', 'remove_from_cart', 7), // 4 − 2 − 2 = 0 → dropped
      ev('bob', 'stove', 'rating', 8, 3.5), // 1 · 3.5
      ev('bob', 'tent', 'dislike', 9), // −4 → dropped
      ev('bob', 'lamp', undefined, 10, 2), // untyped: value
      ev('bob', 'mug', 'wishlist', 11), // unknown type: weight 1
    ])
    expect(dense(data)).toEqual({ alice: { tent: 14 }, bob: { lamp: 2, mug: 1, stove: 3.5 } })
    expect(stats.nonPositivePairs).toBe(2)
    expect(stats.unknownTypes).toEqual(['wishlist'])
    expect(stats.eventWeights.wishlist).toBe(1)
    expect(stats.types.view).toBe(2)
    expect(stats.types['(none)']).toBe(1)
    expect(data.trainedUntil).toBe(11)
    // Newest event time per pair.
    const m = data.matrix
    expect(m.timestamps[m.indptr[0]!]).toBe(4)
  })

  it('should take trainedUntil from receive times, not from a future-dated client timestamp (issue 13)', () => {
    const now = Date.UTC(2026, 11, 1)
    const received = (e: SourceEvent, receivedAt: number): SourceEvent => ({ ...e, receivedAt })
    const { data } = build(
      [
        received(ev('a', 'x', 'view', now - DAY), now - DAY + 5),
        received(ev('b', 'y', 'view', now - 2 * DAY), now - 60_000),
        // A client clock a day ahead: stored a minute ago.
        received(ev('c', 'x', 'view', now + DAY), now - 60_000 + 1),
      ],
      { now },
    )
    expect(data.trainedUntil).toBe(now - 60_000 + 1)
  })

  it('should clamp trainedUntil to now for inputs without receive time (files)', () => {
    const now = Date.UTC(2026, 11, 1)
    const { data } = build([ev('a', 'x', 'view', now - DAY), ev('b', 'y', 'view', now + 7 * DAY)], {
      now,
      halfLifeDays: 1,
    })
    expect(data.trainedUntil).toBe(now)
    // The decay anchor is clamped too: the past event keeps half its weight, not 1/256.
    expect(dense(data).a!.x).toBeCloseTo(0.5, 6)
  })

  it('should apply configured weights and binary values', () => {
    const events = [
      ev('u', 'a', 'view'),
      ev('u', 'a', 'view'),
      ev('u', 'b', 'purchase'),
      ev('v', 'a', 'click'),
    ]
    expect(dense(build(events, { eventWeights: { view: 0.5, purchase: 10 } }).data)).toEqual({
      u: { a: 1, b: 10 },
      v: { a: 2 },
    })
    expect(dense(build(events, { binary: true }).data)).toEqual({ u: { a: 1, b: 1 }, v: { a: 1 } })
  })

  it('should decay weights by half-life relative to the newest event', () => {
    const now = 100 * DAY
    const { data } = build(
      [
        ev('u', 'old', 'purchase', now - 20 * DAY), // 8 · 0.5^(20/10) = 2
        ev('u', 'new', 'purchase', now), // 8
        ev('u', 'mixed', 'view', now - 10 * DAY), // 1 · 0.5 = 0.5
        ev('u', 'mixed', 'view', now - 30 * DAY), // 1 · 0.125
      ],
      { halfLifeDays: 10 },
    )
    const row = dense(data).u!
    expect(row.old).toBeCloseTo(2, 6)
    expect(row.new).toBeCloseTo(8, 6)
    expect(row.mixed).toBeCloseTo(0.625, 6)
  })

  it('should order indexes numerically when every id is a number, lexicographically otherwise', () => {
    const numeric = build([ev('10', '100', 'view'), ev('9', '20', 'view'), ev('1', '3', 'view')]).data
    expect(numeric.userIds).toEqual(['1', '9', '10'])
    expect(numeric.itemIds).toEqual(['3', '20', '100'])
    const mixed = build([ev('10', 'b', 'view'), ev('9', 'a', 'view'), ev('x', 'B', 'view')]).data
    expect(mixed.userIds).toEqual(['10', '9', 'x'])
    expect(mixed.itemIds).toEqual(['B', 'a', 'b'])
    // Column indexes ascend within each row.
    const m = build([ev('u', 'c', 'view'), ev('u', 'a', 'view'), ev('u', 'b', 'view')]).data.matrix
    expect(Array.from(m.indices)).toEqual([0, 1, 2])
  })

  it('should apply min-interaction filters until nothing changes', () => {
    // u1 has 3 items; u2 has 2; u3 has 1 (i4). With min 2 per user and 2 per item:
    // pass 1 removes u3 (1 item) and i3, i4 (1 user each); then u2 is left with i1 only → removed;
    // then i2 (only u1) → removed … until a fixed point.
    const events = [
      ev('u1', 'i1', 'view'),
      ev('u1', 'i2', 'view'),
      ev('u1', 'i3', 'view'),
      ev('u2', 'i1', 'view'),
      ev('u2', 'i4', 'view'),
      ev('u3', 'i5', 'view'),
      ev('u4', 'i1', 'view'),
      ev('u4', 'i2', 'view'),
    ]
    const { data, stats } = build(events, { minUserInteractions: 2, minItemInteractions: 2 })
    expect(dense(data)).toEqual({ u1: { i1: 1, i2: 1 }, u4: { i1: 1, i2: 1 } })
    expect(stats.filteredUsers).toBe(2)
    expect(stats.filteredItems).toBe(3)
    expect(stats.filterPasses).toBeGreaterThanOrEqual(2)
    // The result satisfies both minimums.
    const m = data.matrix
    for (let u = 0; u < m.rows; u++) expect(m.indptr[u + 1]! - m.indptr[u]!).toBeGreaterThanOrEqual(2)
  })

  it('should reject bad options with a clear message', () => {
    expect(() => new InteractionAccumulator({ minUserInteractions: 0 })).toThrow(
      /minUserInteractions must be an integer ≥ 1/,
    )
    expect(() => new InteractionAccumulator({ halfLifeDays: -1 })).toThrow(/halfLifeDays/)
    expect(() => new InteractionAccumulator({ eventWeights: { 'Bad Type': 1 } })).toThrow(/not an event type/)
  })
})

describe('InteractionAccumulator as an IndexedEventSink', () => {
  it('should build the same matrix from indexed events as from events with id strings', () => {
    const byId = new InteractionAccumulator({ now: 2_000_000 }, 4)
    const byIndex = new InteractionAccumulator({ now: 2_000_000 }, 4)
    for (let n = 0; n < 200; n++) {
      const user = `u${(n * 7) % 23}`
      const item = `${(n * 5) % 31}`
      const type = n % 5 ? 'view' : 'purchase'
      byId.event(user, item, type, n % 3, 1_000_000 + n)
      byIndex.indexedEvent(byIndex.userIndex(user), byIndex.itemIndex(item), type, n % 3, 1_000_000 + n)
    }
    expect(byIndex.userIndex('u3')).toBe(byIndex.userIndex('u3'))
    expect(byIndex.build()).toEqual(byId.build())
  })
})

describe('InteractionAccumulator at chunk scale', () => {
  it('should aggregate more events than one column chunk exactly like a plain map (sums, newest time, order)', () => {
    // Chunks of 2^16 events (the default is 2^22) so that 150,000 events fill three.
    const acc = new InteractionAccumulator({}, 16)
    const expected = new Map<string, { value: number; time: number }>()
    const types = ['view', 'click', 'purchase', 'remove_from_cart']
    const weights: Record<string, number> = { view: 1, click: 2, purchase: 8, remove_from_cart: -2 }
    const n = 150_000 // 3 chunks of 2^16, the last one partly filled
    let seed = 12345
    const next = (m: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return seed % m
    }
    for (let k = 0; k < n; k++) {
      const user = `u${next(997)}`
      const item = `${next(503)}x`
      const type = types[next(4)]!
      const time = 1_700_000_000_000 + next(1_000_000)
      acc.event(user, item, type, undefined, time)
      const key = `${user}\u0000${item}`
      const e = expected.get(key) ?? { value: 0, time: Number.NEGATIVE_INFINITY }
      e.value += weights[type]!
      e.time = Math.max(e.time, time)
      expected.set(key, e)
    }
    const { data, stats } = acc.build()
    expect(stats.events).toBe(n)
    expect(stats.pairs).toBe(expected.size)
    const kept = [...expected].filter(([, e]) => e.value > 0)
    expect(stats.interactions).toBe(kept.length)
    const { matrix, userIds, itemIds } = data
    let checked = 0
    for (let u = 0; u < matrix.rows; u++) {
      for (let k = matrix.indptr[u]!; k < matrix.indptr[u + 1]!; k++) {
        if (k > matrix.indptr[u]!) expect(matrix.indices[k]!).toBeGreaterThan(matrix.indices[k - 1]!)
        const e = expected.get(`${userIds[u]}\u0000${itemIds[matrix.indices[k]!]}`)!
        expect(matrix.values[k]).toBe(Math.fround(e.value))
        expect(matrix.timestamps[k]).toBe(e.time)
        checked++
      }
    }
    expect(checked).toBe(kept.length)
    expect([...userIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(userIds)
  })
})

/**
 * Feeds `n` pseudo-random events through chunks of 2^16 and checks the matrix against a plain map:
 * sums, newest time per pair, order, and that every array of the result is intact (the build
 * releases its scratch memory, never the result's).
 */
function checkAgainstMap(n: number, time: (k: number) => number, options: WeightingOptions = {}): void {
  const acc = new InteractionAccumulator(options, 16)
  const expected = new Map<string, { value: number; time: number; user: string; item: string }>()
  let seed = 777
  const next = (m: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
    return seed % m
  }
  for (let k = 0; k < n; k++) {
    const user = `u${next(991)}`
    const item = `i${next(499)}`
    const value = 1 + next(3)
    const t = time(k)
    acc.event(user, item, undefined, value, t)
    const key = `${user}\u0000${item}`
    const e = expected.get(key) ?? { value: 0, time: Number.NEGATIVE_INFINITY, user, item }
    e.value += value
    e.time = Math.max(e.time, t)
    expected.set(key, e)
  }
  const { data, stats } = acc.build()
  const min = options.minUserInteractions ?? 1
  const perUser = new Map<string, number>()
  for (const e of expected.values()) perUser.set(e.user, (perUser.get(e.user) ?? 0) + 1)
  const kept = [...expected.values()].filter((e) => perUser.get(e.user)! >= min)
  expect(stats.interactions).toBe(kept.length)
  const { matrix, userIds, itemIds } = data
  expect(matrix.indices.length).toBe(kept.length)
  expect(matrix.values.length).toBe(kept.length)
  expect(matrix.timestamps.length).toBe(kept.length)
  expect(matrix.indptr.length).toBe(matrix.rows + 1)
  const wrong: string[] = []
  for (let u = 0; u < matrix.rows; u++) {
    for (let k = matrix.indptr[u]!; k < matrix.indptr[u + 1]!; k++) {
      const key = `${userIds[u]}\u0000${itemIds[matrix.indices[k]!]}`
      const e = expected.get(key)
      if (e === undefined || e.value !== matrix.values[k] || e.time !== matrix.timestamps[k]) wrong.push(key)
    }
  }
  expect(wrong).toEqual([])
  if (options.minUserInteractions !== undefined) expect(kept.length).toBeLessThan(expected.size)
}

describe('InteractionAccumulator time column', () => {
  it('should give every pair the one time of an input whose events all share it (a file without times)', () => {
    checkAgainstMap(70_000, () => 0)
    checkAgainstMap(70_000, () => 1_700_000_000_000)
  })

  it('should keep every time once they differ, also when the first difference comes after a full chunk', () => {
    // The first 66,000 events (more than one chunk of 2^16) share a time, then times vary.
    checkAgainstMap(140_000, (k) => (k < 66_000 ? 1_600_000_000_000 : 1_600_000_000_000 + (k % 977) * 1000))
    // Times differ from the second event on.
    checkAgainstMap(70_000, (k) => 1_600_000_000_000 + k)
  })

  it('should build the same matrix when filters remove pairs, with and without times', () => {
    checkAgainstMap(70_000, () => 5, { minUserInteractions: 66 })
    checkAgainstMap(70_000, (k) => k * 3, { minUserInteractions: 66 })
  })
})

describe('InteractionAccumulator.build', () => {
  it('should return the same result when called again (the event columns are consumed once)', () => {
    const acc = new InteractionAccumulator()
    acc.add([ev('u1', 'i1', 'view'), ev('u2', 'i1', 'purchase')])
    const first = acc.build()
    expect(acc.build()).toBe(first)
    expect(Array.from(first.data.matrix.values)).toEqual([1, 8])
  })
})

describe('InteractionAccumulator.build allocate', () => {
  /** An allocator recording what it was asked and what it returned. */
  function recording() {
    const calls: { rows: number; cols: number; pairs: number; matrix: CsrMatrix }[] = []
    const allocate = (rows: number, cols: number, pairs: number): CsrMatrix => {
      const matrix: CsrMatrix = {
        rows,
        cols,
        // Dirty memory: build must not rely on zeroed arrays.
        indptr: new Uint32Array(rows + 1).fill(7),
        indices: new Uint32Array(pairs),
        values: new Float32Array(pairs),
        timestamps: new Float64Array(0),
      }
      calls.push({ rows, cols, pairs, matrix })
      return matrix
    }
    return { calls, allocate }
  }
  const events = (negative = true): SourceEvent[] => [
    ev('u2', 'i1', 'view', 1 * DAY, 3),
    ev('u1', 'i2', 'purchase', 2 * DAY),
    ev('u1', 'i1', 'view', 3 * DAY),
    ev('u1', 'i1', 'view', 4 * DAY, 0.5),
    ev('u3', 'i3', 'view', 5 * DAY),
    ev('u2', 'i3', 'cart', 6 * DAY),
    ...(negative ? [ev('u3', 'i2', 'view', 7 * DAY, -2)] : []),
  ]

  it.each<[string, boolean, WeightingOptions]>([
    ['nothing removed', false, {}],
    ['a non-positive pair removed', true, {}],
    ['pairs and users removed', true, { minUserInteractions: 2 }],
    ['with decay and a transform', false, { halfLifeDays: 2, transform: 'log1p', now: 10 * DAY }],
  ])('should fill the allocated arrays with the same matrix, bit for bit (%s)', (_, negative, options) => {
    const plain = build(events(negative), options)
    const { calls, allocate } = recording()
    const acc = new InteractionAccumulator(options)
    acc.add(events(negative))
    const placed = acc.build({ allocate })
    expect(calls).toHaveLength(1)
    const m = placed.data.matrix
    const p = plain.data.matrix
    expect(calls[0]).toMatchObject({ rows: p.rows, cols: p.cols, pairs: p.indices.length })
    expect(m.indptr).toBe(calls[0]!.matrix.indptr)
    expect(m.indices).toBe(calls[0]!.matrix.indices)
    expect(m.values).toBe(calls[0]!.matrix.values)
    expect([...m.indptr]).toEqual([...p.indptr])
    expect([...m.indices]).toEqual([...p.indices])
    expect([...new Uint32Array(m.values.buffer)]).toEqual([...new Uint32Array(p.values.buffer)])
    expect([...m.timestamps]).toEqual([...p.timestamps])
    expect(placed.data.userIds).toEqual(plain.data.userIds)
    expect(placed.data.itemIds).toEqual(plain.data.itemIds)
    expect(placed.stats).toEqual(plain.stats)
  })

  it('should build the same matrix as csrFromTriples when its scratch arrays are large enough for buffers of their own', () => {
    // 300k events: the sort orders (1.2 MiB) and the sums (≈ 2.3 MiB) are past scratchArray's
    // 1 MiB, so they are WebAssembly memories (and the allocator path's item indexes too).
    const n = 300_000
    const users = 3_001
    const items = 997
    const rows: number[] = []
    const cols: number[] = []
    const vals: number[] = []
    let x = 12345
    const next = (m: number): number => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0
      return (x >>> 8) % m
    }
    const acc = new InteractionAccumulator()
    for (let e = 0; e < n; e++) {
      // Numeric ids, so the id rank is the number itself (users 0..3000, items 0..996).
      const u = next(users)
      const i = next(items)
      const v = 1 + next(4)
      rows.push(u)
      cols.push(i)
      vals.push(v)
      acc.event(String(u), String(i), undefined, v, 0)
    }
    const { calls, allocate } = recording()
    const m = acc.build({ allocate }).data.matrix
    expect(calls).toHaveLength(1)
    const expected = csrFromTriples(users, items, rows, cols, vals)
    expect(m.rows).toBe(expected.rows)
    expect(m.cols).toBe(expected.cols)
    expect([...m.indptr]).toEqual([...expected.indptr])
    expect([...m.indices]).toEqual([...expected.indices])
    expect([...m.values]).toEqual([...expected.values])
  })

  it('should not call the allocator when no pair is kept', () => {
    const { calls, allocate } = recording()
    const acc = new InteractionAccumulator({ minUserInteractions: 5 })
    acc.add(events())
    expect(acc.build({ allocate }).data.matrix.indices).toHaveLength(0)
    expect(calls).toHaveLength(0)
  })

  it('should reject an allocator that returns arrays of the wrong length, saying which', () => {
    const acc = new InteractionAccumulator()
    acc.add(events())
    const short = (rows: number, cols: number, pairs: number): CsrMatrix => ({
      rows,
      cols,
      indptr: new Uint32Array(rows + 1),
      indices: new Uint32Array(pairs - 1),
      values: new Float32Array(pairs),
      timestamps: new Float64Array(0),
    })
    expect(() => acc.build({ allocate: short })).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/must return 4\/5\/5/),
      }),
    )
  })
})
