/**
 * Collects streamed events into compact columns (user, item, weight, time) with dense id maps,
 * then aggregates them into a user × item CSR matrix: repeated events add up, optional time decay,
 * non-positive totals dropped, min-interaction filters applied to a fixed point.
 *
 * @module
 */
import type { IndexedEventSink, SourceEvent } from '@edgerec/adapters'
import { CoreError } from '@edgerec/core'
import type { CsrAllocator, CsrMatrix, InteractionMatrix } from '../data/matrix.js'
import { releaseMemory, scratchArray } from '../data/release.js'
import { TrainerError } from '../errors.js'
import { compareIds } from './ids.js'
import { parseValueTransform, transformFunction, type ValueTransform } from './transform.js'
import { DEFAULT_UNKNOWN_TYPE_WEIGHT, decayFactor, resolveEventWeights } from './weights.js'

/** How events become interaction strengths r_ui. */
export interface WeightingOptions {
  /** Event type → weight, merged over the defaults. */
  eventWeights?: Record<string, number>
  /** Weight of types missing from `eventWeights`. Default 1. */
  unknownTypeWeight?: number
  /** Half-life of time decay in days; omit for no decay. */
  halfLifeDays?: number
  /** Every kept pair gets r = 1 (after dropping non-positive totals). Same as `transform: 'binary'`. */
  binary?: boolean
  /**
   * Applied to each kept pair's total r_ui (after dropping non-positive totals): `none` (default),
   * `log1p` (play counts: ln(1 + r)), `binary` (1), `clip:<max>`.
   */
  transform?: ValueTransform
  /** Users with fewer distinct items are removed (to a fixed point with the item filter). Default 1. */
  minUserInteractions?: number
  /** Items with fewer distinct users are removed. Default 1. */
  minItemInteractions?: number
  /**
   * Clock (epoch ms) that bounds client timestamps: `trainedUntil` and the decay anchor never pass
   * it, so a future-dated event cannot move them. Default `Date.now()` at `build()`.
   */
  now?: number
}

/** Options of {@link InteractionAccumulator.build}. */
export interface BuildOptions {
  /**
   * Allocates the matrix's `indptr`, `indices` and `values` (called once, with the final shape and
   * number of pairs, when at least one pair is kept), e.g. straight in the memory the ALS training
   * of the matrix will use (the trainer's `allocateAlsMatrix`), so that the training copies nothing
   * and the matrix exists once. Default: ordinary typed arrays.
   */
  allocate?: CsrAllocator
}

/** What aggregation did, for logs and the manifest. */
export interface WeightingStats {
  events: number
  /** Events per type (`(none)` for events without a type). */
  types: Record<string, number>
  /** Types that had no configured weight and got `unknownTypeWeight`. */
  unknownTypes: string[]
  /** Distinct (user, item) pairs before dropping and filtering. */
  pairs: number
  /** Pairs whose summed weight was ≤ 0 (e.g. added then removed from cart), dropped. */
  nonPositivePairs: number
  /** Users and items removed by the min-interaction filters. */
  filteredUsers: number
  filteredItems: number
  /** Up to 10 ids of the items the min-interaction filters removed (for the log). */
  filteredItemExamples: string[]
  /** Filter passes until nothing changed. */
  filterPasses: number
  /** Result sizes. */
  users: number
  items: number
  interactions: number
  /** Weight of every type the input used (defaults, overrides and unknown types): goes to the manifest. */
  eventWeights: Record<string, number>
  /** The value transform applied (`binary: true` reads as `binary`). */
  transform: ValueTransform
  /** Every kept value is exactly 1 (binary data, whatever the reason: transform or no value column). */
  binary: boolean
}

const UNTYPED = '(none)'

/**
 * Events per chunk of the growing columns: user, item and weight of a chunk share one 48 MiB
 * buffer; the time column, when the input has more than one timestamp, has its own 32 MiB one.
 *
 * NOTE: at or above glibc's largest mmap threshold (32 MiB), so each chunk is its own mapping: its
 * untouched tail costs no RSS and it goes back to the system when it is released. Chunks of a few
 * MiB landed in malloc's heap once read buffers had raised the dynamic threshold, and stayed in the
 * process's RSS after they were freed (≈ 130 MiB after loading 5M events), under the ALS memory.
 */
const CHUNK_BITS = 22

/**
 * Accumulates events one by one ({@link event}, an `EventSink`) or batch by batch ({@link add}).
 * Memory: 12 bytes per event (user, item, weight), plus 8 for its time once two events have
 * different times (a file without a time column has none), in fixed-size chunks (no doubling, no
 * copies, not even when building) plus the id maps.
 *
 * @example
 * ```ts
 * const acc = new InteractionAccumulator({ halfLifeDays: 30 })
 * for await (const batch of source.read()) acc.add(batch)
 * const { data, stats } = acc.build()
 * ```
 */
export class InteractionAccumulator implements IndexedEventSink {
  #count = 0
  readonly #users = new Map<string, number>()
  readonly #items = new Map<string, number>()
  readonly #userIds: string[] = []
  readonly #itemIds: string[] = []
  readonly #u: Uint32Array[] = []
  readonly #i: Uint32Array[] = []
  readonly #w: Float32Array[] = []
  /** Time chunks: empty while every event so far had the time {@link #firstTime}. */
  readonly #t: Float64Array[] = []
  #firstTime = 0
  // The chunk being written.
  #cu = new Uint32Array(0)
  #ci = new Uint32Array(0)
  #cw = new Float32Array(0)
  #ct = new Float64Array(0)
  readonly #weights: Record<string, number>
  readonly #unknownWeight: number
  readonly #types = new Map<string, number>()
  readonly #unknown = new Set<string>()
  #newest = Number.NEGATIVE_INFINITY
  /** Newest receive time (events from the worker's D1). */
  #newestReceived = Number.NEGATIVE_INFINITY
  /** Newest client time among events without a receive time (file inputs). */
  #newestUnreceived = Number.NEGATIVE_INFINITY
  readonly #options: WeightingOptions
  readonly #transform: ValueTransform
  // NOTE: consecutive events often share a user (exports sorted by user) and always share a
  // handful of types: comparing with the previous string is much cheaper than hashing it.
  #lastUser: string | undefined
  #lastUi = 0
  #lastType: string | undefined
  #lastTypeWeight = 1
  #lastTypeCount = 0

  /** log2 of the events per column chunk. */
  readonly #chunkBits: number

  /**
   * @param chunkBits - `@internal` log2 of the events per column chunk (tests use small chunks to
   *   cross chunk boundaries cheaply)
   */
  constructor(options: WeightingOptions = {}, chunkBits = CHUNK_BITS) {
    this.#chunkBits = chunkBits
    this.#options = options
    this.#transform = options.binary ? 'binary' : parseValueTransform(options.transform ?? 'none')
    this.#weights = resolveEventWeights(options.eventWeights)
    this.#unknownWeight = options.unknownTypeWeight ?? DEFAULT_UNKNOWN_TYPE_WEIGHT
    for (const [name, v] of [
      ['minUserInteractions', options.minUserInteractions],
      ['minItemInteractions', options.minItemInteractions],
    ] as const) {
      if (v !== undefined && !(Number.isInteger(v) && v >= 1)) {
        throw new TrainerError('CONFIG_INVALID', `${name} must be an integer ≥ 1, got ${v}.`)
      }
    }
    if (options.halfLifeDays !== undefined && !(options.halfLifeDays > 0)) {
      throw new TrainerError(
        'CONFIG_INVALID',
        `halfLifeDays must be > 0, got ${options.halfLifeDays}. Omit it for no decay.`,
      )
    }
  }

  /** Events added so far. */
  get size(): number {
    return this.#count
  }

  /** Adds one event (the `EventSink` of `EventSource.readInto`). */
  event(
    userId: string,
    itemId: string,
    type: string | undefined,
    value: number | undefined,
    timestamp: number,
    receivedAt?: number,
  ): void {
    let ui: number
    if (userId === this.#lastUser) ui = this.#lastUi
    else {
      ui = this.userIndex(userId)
      this.#lastUser = userId
      this.#lastUi = ui
    }
    this.indexedEvent(ui, this.itemIndex(itemId), type, value, timestamp, receivedAt)
  }

  /** The index of a user id, added when new (`IndexedEventSink`: a reader that interns ids asks once per id). */
  userIndex(userId: string): number {
    let ui = this.#users.get(userId)
    if (ui === undefined) {
      ui = this.#userIds.length
      this.#users.set(userId, ui)
      this.#userIds.push(userId)
    }
    return ui
  }

  /** The index of an item id, added when new. */
  itemIndex(itemId: string): number {
    let ii = this.#items.get(itemId)
    if (ii === undefined) {
      ii = this.#itemIds.length
      this.#items.set(itemId, ii)
      this.#itemIds.push(itemId)
    }
    return ii
  }

  /**
   * Adds one event whose ids are indexes from {@link userIndex} and {@link itemIndex} (the
   * `IndexedEventSink` of `EventSource.readInto`: no id string per event).
   */
  indexedEvent(
    ui: number,
    ii: number,
    type: string | undefined,
    value: number | undefined,
    timestamp: number,
    receivedAt?: number,
  ): void {
    const k = this.#count
    const size = 1 << this.#chunkBits
    const slot = k & (size - 1)
    if (slot === 0) {
      const buffer = new ArrayBuffer(size * 12)
      this.#cu = new Uint32Array(buffer, 0, size)
      this.#ci = new Uint32Array(buffer, size * 4, size)
      this.#cw = new Float32Array(buffer, size * 8, size)
      this.#u.push(this.#cu)
      this.#i.push(this.#ci)
      this.#w.push(this.#cw)
      if (this.#t.length > 0) {
        this.#ct = new Float64Array(size)
        this.#t.push(this.#ct)
      }
    }
    const typeName = type ?? UNTYPED
    if (typeName !== this.#lastType) {
      this.#flushTypeCount()
      this.#lastType = typeName
      this.#lastTypeWeight = 1
      if (type !== undefined) {
        const configured = this.#weights[type]
        if (configured === undefined) {
          this.#unknown.add(type)
          this.#lastTypeWeight = this.#unknownWeight
        } else this.#lastTypeWeight = configured
      }
    }
    this.#lastTypeCount++
    this.#cu[slot] = ui
    this.#ci[slot] = ii
    this.#cw[slot] = this.#lastTypeWeight * (value ?? 1)
    if (this.#t.length > 0) this.#ct[slot] = timestamp
    else if (k === 0) this.#firstTime = timestamp
    else if (timestamp !== this.#firstTime) {
      this.#startTimeColumn(k)
      this.#ct[slot] = timestamp
    }
    if (timestamp > this.#newest) this.#newest = timestamp
    if (receivedAt !== undefined) {
      if (receivedAt > this.#newestReceived) this.#newestReceived = receivedAt
    } else if (timestamp > this.#newestUnreceived) this.#newestUnreceived = timestamp
    this.#count = k + 1
  }

  /**
   * The first time that differs from the ones before: from now on every event's time is kept.
   * The `k` events so far all had {@link #firstTime}.
   */
  #startTimeColumn(k: number): void {
    const size = 1 << this.#chunkBits
    for (let c = 0; c < this.#u.length; c++) {
      this.#ct = new Float64Array(size)
      // Only the slots written so far are touched: the tail of the last chunk stays unmapped.
      this.#ct.fill(this.#firstTime, 0, Math.min(size, k - c * size))
      this.#t.push(this.#ct)
    }
  }

  /** Adds a batch of events. */
  add(events: readonly SourceEvent[]): void {
    for (let n = 0; n < events.length; n++) {
      const e = events[n]!
      this.event(e.userId, e.itemId, e.type, e.value, e.timestamp, e.receivedAt)
    }
  }

  #flushTypeCount(): void {
    const type = this.#lastType
    if (type !== undefined && this.#lastTypeCount > 0) {
      this.#types.set(type, (this.#types.get(type) ?? 0) + this.#lastTypeCount)
    }
    this.#lastTypeCount = 0
  }

  /**
   * Sorts the events by (user rank, item rank) and sums each pair (with time decay). The event
   * columns live only inside this call, so they are garbage once the pairs exist.
   */
  #aggregate(
    userRank: Uint32Array,
    itemRank: Uint32Array,
    newest: number,
    scratchPairs: boolean,
  ): {
    pairs: number
    userPairStart: Uint32Array
    pi: Uint32Array
    pv: Float64Array
    /** Newest time of each pair; undefined when every event had the same time (`#firstTime`). */
    pt: Float64Array | undefined
  } {
    const n = this.#count
    const nUsers = userRank.length
    const CHUNK_BITS = this.#chunkBits
    const CHUNK = 1 << CHUNK_BITS
    const CHUNK_MASK = CHUNK - 1
    // Event columns stay in their chunks (no joined copy): user and item indexes become ranks in place.
    const uc = this.#u
    const ic = this.#i
    const wc = this.#w
    const tc = this.#t
    for (let c = 0; c < uc.length; c++) {
      const count = Math.min(CHUNK, n - c * CHUNK)
      const u = uc[c]!
      const it = ic[c]!
      for (let j = 0; j < count; j++) {
        u[j] = userRank[u[j]!]!
        it[j] = itemRank[it[j]!]!
      }
    }

    // (user rank, item rank, event) order: a stable counting sort by user rank, then each user's
    // run sorted by item rank (ties in event order, so each pair's weights add up in event order).
    // NOTE: one scatter pass and short in-cache sorts; sorting by item first (LSD radix) cost a
    // second scatter that gathered every event's user at random (≈ 40 % of the build).
    const order = countingSort(n, nUsers, uc, undefined, CHUNK_BITS)
    // The pairs are counted on the way, so the pair arrays get their exact size.
    const pairs = sortRunsByItem(order, nUsers, itemRank.length, uc, ic, CHUNK_BITS)
    const timed = tc.length > 0
    const firstTime = this.#firstTime

    const halfLifeMs =
      this.#options.halfLifeDays === undefined ? undefined : this.#options.halfLifeDays * 86_400_000
    // Pairs in (user rank, item rank) order; userPairStart[r] = first pair of user rank r.
    const userPairStart = new Uint32Array(nUsers + 1)
    // The sums are always scratch; the item indexes are when the matrix goes to an allocator's
    // arrays (otherwise they may become the matrix's own `indices`, an ordinary array).
    const pi = scratchPairs ? scratchArray(Uint32Array, pairs) : new Uint32Array(pairs)
    const pv = scratchArray(Float64Array, pairs)
    const pt = timed ? new Float64Array(pairs) : undefined
    let p = -1
    let lastU = -1
    let lastI = -1
    for (let r = 0; r < n; r++) {
      const k = order[r]!
      const c = k >>> CHUNK_BITS
      const j = k & CHUNK_MASK
      const ur = uc[c]![j]!
      const ir = ic[c]![j]!
      const time = timed ? tc[c]![j]! : firstTime
      const weight = wc[c]![j]! * decayFactor(newest, time, halfLifeMs)
      if (ur === lastU && ir === lastI) {
        pv[p]! += weight
        if (pt && time > pt[p]!) pt[p] = time
      } else {
        p++
        userPairStart[ur + 1]!++
        pi[p] = ir
        pv[p] = weight
        if (pt) pt[p] = time
        lastU = ur
        lastI = ir
      }
    }
    // The event columns and the sort order are no longer needed: the columns' memory goes back
    // now, not at the next garbage collection, so the matrix is built in what they held. (User,
    // item and weight of a chunk share one buffer. A scratch array of a large input, like the
    // order, is not in malloc's heap and goes at the collection after the build: scratchArray.)
    releaseMemory(order)
    for (const chunk of uc) releaseMemory(chunk)
    for (const chunk of tc) releaseMemory(chunk)
    uc.length = 0
    ic.length = 0
    wc.length = 0
    tc.length = 0
    this.#cu = new Uint32Array(0)
    this.#ci = new Uint32Array(0)
    this.#cw = new Float32Array(0)
    this.#ct = new Float64Array(0)
    for (let r = 0; r < nUsers; r++) userPairStart[r + 1] = userPairStart[r + 1]! + userPairStart[r]!
    return { pairs, userPairStart, pi, pv, pt }
  }

  /**
   * Aggregates into the interaction matrix. Add nothing after it: the event columns are released on the way
   * (peak memory ≈ 12 bytes per event (20 with times) + 8 for the sort + 12 per pair (20 with
   * times), then 16 per pair (plus 8 for the times)). With `options.allocate`, indptr, indices
   * and values are the allocator's arrays (the values are the same, bit for bit).
   *
   * Indexes: user (item) index = rank of the raw id among the kept distinct ids, in numeric order
   * when every id is a number, otherwise in UTF-16 code unit order (shared/REFERENCE.md).
   *
   * @throws CoreError `INVALID_ARGUMENT` when `options.allocate` returns arrays of other lengths
   */
  build(options: BuildOptions = {}): { data: InteractionMatrix; stats: WeightingStats } {
    // The event columns are consumed by the first build: later calls return its result.
    if (this.#built) return this.#built
    this.#built = this.#buildOnce(options.allocate)
    return this.#built
  }

  #built: { data: InteractionMatrix; stats: WeightingStats } | undefined

  #buildOnce(allocate: CsrAllocator | undefined): { data: InteractionMatrix; stats: WeightingStats } {
    this.#flushTypeCount()
    const n = this.#count
    const nUsers = this.#userIds.length
    const nItems = this.#itemIds.length

    // Rank of each first-seen index among sorted raw ids.
    const userRank = rankOf(this.#userIds)
    const itemRank = rankOf(this.#itemIds)

    // NOTE: client clocks can run ahead; the decay anchor and the training cut-off never pass `now`.
    const now = this.#options.now ?? Date.now()
    const newest = n > 0 ? Math.min(this.#newest, now) : 0
    // trainedUntil is a receive time (server clock) for events from the worker's D1, which is what
    // the worker compares when it decides which events are new to the model; for file inputs
    // without receive time it is the newest client time, clamped to now.
    const trainedUntil = n > 0 ? Math.max(this.#newestReceived, Math.min(this.#newestUnreceived, now)) : 0
    const { pairs, userPairStart, pi, pv, pt } = this.#aggregate(
      userRank,
      itemRank,
      newest,
      allocate !== undefined,
    )

    // Drop non-positive totals, then filter to a fixed point.
    const keep = scratchArray(Uint8Array, pairs)
    let nonPositive = 0
    for (let q = 0; q < pairs; q++) {
      if (pv[q]! > 0) keep[q] = 1
      else nonPositive++
    }
    const minU = this.#options.minUserInteractions ?? 1
    const minI = this.#options.minItemInteractions ?? 1
    const userAlive = new Uint8Array(nUsers)
    const itemAlive = new Uint8Array(nItems)
    let passes = 0
    for (;;) {
      passes++
      const userCount = new Uint32Array(nUsers)
      const itemCount = new Uint32Array(nItems)
      for (let r = 0; r < nUsers; r++) {
        for (let q = userPairStart[r]!; q < userPairStart[r + 1]!; q++) {
          if (keep[q]) {
            userCount[r]!++
            itemCount[pi[q]!]!++
          }
        }
      }
      let changed = false
      for (let r = 0; r < nUsers; r++) {
        for (let q = userPairStart[r]!; q < userPairStart[r + 1]!; q++) {
          if (keep[q] && (userCount[r]! < minU || itemCount[pi[q]!]! < minI)) {
            keep[q] = 0
            changed = true
          }
        }
      }
      if (!changed) {
        for (let x = 0; x < nUsers; x++) userAlive[x] = userCount[x]! > 0 ? 1 : 0
        for (let x = 0; x < nItems; x++) itemAlive[x] = itemCount[x]! > 0 ? 1 : 0
        break
      }
    }

    // Compact indexes (removing ranks keeps the order).
    const sortedUsers = sortedIds(this.#userIds, userRank)
    const sortedItems = sortedIds(this.#itemIds, itemRank)
    // The id maps (hash tables over every distinct id) are consumed too: the sorted ids are the
    // result's, and the maps' memory can go at the next collection, before the training.
    this.#users.clear()
    this.#items.clear()
    this.#userIds.length = 0
    this.#itemIds.length = 0
    this.#lastUser = undefined
    const userNew = new Int32Array(nUsers).fill(-1)
    const itemNew = new Int32Array(nItems).fill(-1)
    const userIds: string[] = []
    const itemIds: string[] = []
    for (let r = 0; r < nUsers; r++) {
      if (userAlive[r]) {
        userNew[r] = userIds.length
        userIds.push(sortedUsers[r]!)
      }
    }
    for (let r = 0; r < nItems; r++) {
      if (itemAlive[r]) {
        itemNew[r] = itemIds.length
        itemIds.push(sortedItems[r]!)
      }
    }
    let kept = 0
    for (let q = 0; q < pairs; q++) kept += keep[q]!
    const f = transformFunction(this.#transform)
    const allocated =
      kept > 0 && allocate ? allocateChecked(allocate, userIds.length, itemIds.length, kept) : undefined
    const indptr = allocated?.indptr ?? new Uint32Array(userIds.length + 1)
    const values = allocated?.values ?? new Float32Array(kept)
    let allOne = true
    let indices: Uint32Array
    let timestamps: Float64Array | undefined
    if (kept === pairs && userIds.length === nUsers && itemIds.length === nItems) {
      // Nothing removed: the pair arrays are the CSR arrays (ranks are the final indexes), or are
      // copied into the allocated ones.
      if (allocated) {
        allocated.indices.set(pi)
        releaseMemory(pi)
        indices = allocated.indices
      } else indices = pi
      timestamps = pt
      for (let r = 0; r < nUsers; r++) indptr[r + 1] = userPairStart[r + 1]!
      for (let q = 0; q < pairs; q++) {
        values[q] = f(pv[q]!)
        if (values[q] !== 1) allOne = false
      }
    } else {
      indices = allocated?.indices ?? new Uint32Array(kept)
      timestamps = pt && new Float64Array(kept)
      let q = 0
      for (let r = 0; r < nUsers; r++) {
        for (let x = userPairStart[r]!; x < userPairStart[r + 1]!; x++) {
          if (!keep[x]) continue
          indptr[userNew[r]! + 1]!++
          indices[q] = itemNew[pi[x]!]!
          values[q] = f(pv[x]!)
          if (values[q] !== 1) allOne = false
          if (timestamps) timestamps[q] = pt![x]!
          q++
        }
      }
      for (let r = 0; r < userIds.length; r++) indptr[r + 1] = indptr[r + 1]! + indptr[r]!
      releaseMemory(pi)
      if (pt) releaseMemory(pt)
    }
    releaseMemory(pv)
    releaseMemory(keep)
    // Every event had the same time: the column is made now, in the memory the sums held. Time 0
    // (an input without a time column) is the new array's zeros: its pages stay untouched, so the
    // column holds no resident memory (8 bytes per pair less at the ALS fit).
    timestamps ??=
      this.#firstTime === 0 ? new Float64Array(kept) : new Float64Array(kept).fill(this.#firstTime)

    const matrix: CsrMatrix = {
      rows: userIds.length,
      cols: itemIds.length,
      indptr,
      indices,
      values,
      timestamps,
    }
    const eventWeights: Record<string, number> = { ...this.#weights }
    for (const type of this.#unknown) eventWeights[type] = this.#unknownWeight
    const stats: WeightingStats = {
      events: n,
      types: Object.fromEntries([...this.#types].sort((a, b) => b[1] - a[1])),
      unknownTypes: [...this.#unknown].sort(),
      pairs,
      nonPositivePairs: nonPositive,
      filteredUsers: nUsers - userIds.length,
      filteredItems: nItems - itemIds.length,
      filteredItemExamples: droppedItems(sortedItems, itemAlive, 10),
      filterPasses: passes,
      users: userIds.length,
      items: itemIds.length,
      interactions: kept,
      eventWeights,
      transform: this.#transform,
      binary: kept > 0 && allOne,
    }
    return { data: { matrix, userIds, itemIds, trainedUntil }, stats }
  }
}

/** Calls `allocate` and checks the lengths of what it returns; `indptr` is zeroed. */
function allocateChecked(allocate: CsrAllocator, rows: number, cols: number, pairs: number): CsrMatrix {
  const m = allocate(rows, cols, pairs)
  if (m.indptr.length !== rows + 1 || m.indices.length !== pairs || m.values.length !== pairs) {
    throw new CoreError(
      'INVALID_ARGUMENT',
      `The matrix allocator returned indptr/indices/values of lengths ${m.indptr.length}/${m.indices.length}/${m.values.length} for ${rows} rows and ${pairs} pairs; it must return ${rows + 1}/${pairs}/${pairs}.`,
    )
  }
  m.indptr.fill(0)
  return m
}

/** rank[firstSeenIndex] = position of the id in sorted order. */
function rankOf(ids: readonly string[]): Uint32Array {
  const order = Array.from(ids.keys()).sort((a, b) => compareIds(ids, a, b))
  const rank = new Uint32Array(ids.length)
  for (let r = 0; r < order.length; r++) rank[order[r]!] = r
  return rank
}

function sortedIds(ids: readonly string[], rank: Uint32Array): string[] {
  const out = new Array<string>(ids.length)
  for (let x = 0; x < ids.length; x++) out[rank[x]!] = ids[x]!
  return out
}

/** Stable counting sort of `0..n-1` (or of `input`) by the chunked `keys[k]` in `[0, buckets)`. */
function countingSort(
  n: number,
  buckets: number,
  keys: Uint32Array[],
  input: Uint32Array | undefined,
  chunkBits: number,
): Uint32Array {
  const CHUNK = 1 << chunkBits
  const CHUNK_BITS = chunkBits
  const CHUNK_MASK = CHUNK - 1
  const counts = new Uint32Array(buckets + 1)
  for (let c = 0; c < keys.length; c++) {
    const chunk = keys[c]!
    const count = Math.min(CHUNK, n - c * CHUNK)
    for (let j = 0; j < count; j++) counts[chunk[j]! + 1]!++
  }
  for (let b = 0; b < buckets; b++) counts[b + 1] = counts[b + 1]! + counts[b]!
  // Scratch: released by the caller (see scratchArray).
  const out = scratchArray(Uint32Array, n)
  if (input) {
    for (let r = 0; r < n; r++) {
      const k = input[r]!
      out[counts[keys[k >>> CHUNK_BITS]![k & CHUNK_MASK]!]!++] = k
    }
  } else {
    for (let c = 0, k = 0; c < keys.length; c++) {
      const chunk = keys[c]!
      const count = Math.min(CHUNK, n - c * CHUNK)
      for (let j = 0; j < count; j++, k++) out[counts[chunk[j]!]!++] = k
    }
  }
  return out
}

/**
 * Sorts each user's run of `order` (sorted by user rank, events in order within a user) by item
 * rank, stably, and returns the number of distinct (user, item) pairs. A run's items are gathered
 * once into scratch arrays: short runs are sorted by insertion, long ones through packed keys
 * `item × length + position` (exact doubles below 2⁵³) and the native numeric sort.
 */
function sortRunsByItem(
  order: Uint32Array,
  nUsers: number,
  nItems: number,
  uc: Uint32Array[],
  ic: Uint32Array[],
  chunkBits: number,
): number {
  const mask = (1 << chunkBits) - 1
  const n = order.length
  const runLength = new Uint32Array(nUsers)
  for (let c = 0; c < uc.length; c++) {
    const chunk = uc[c]!
    const count = Math.min(1 << chunkBits, n - c * (1 << chunkBits))
    for (let j = 0; j < count; j++) runLength[chunk[j]!]!++
  }
  let items = new Uint32Array(64)
  let events = new Uint32Array(64)
  let keys = new Float64Array(0)
  let pairs = 0
  for (let r = 0, a = 0; r < nUsers; r++) {
    const length = runLength[r]!
    if (length === 0) continue
    if (length > items.length) {
      items = new Uint32Array(length)
      events = new Uint32Array(length)
    }
    for (let x = 0; x < length; x++) {
      const k = order[a + x]!
      events[x] = k
      items[x] = ic[k >>> chunkBits]![k & mask]!
    }
    if (length <= 32 || nItems * length > 2 ** 53) {
      // Insertion sort (a long run only when packed keys would not be exact, which needs billions of items).
      for (let x = 1; x < length; x++) {
        const item = items[x]!
        const k = events[x]!
        let y = x - 1
        for (; y >= 0 && items[y]! > item; y--) {
          items[y + 1] = items[y]!
          events[y + 1] = events[y]!
        }
        items[y + 1] = item
        events[y + 1] = k
      }
      for (let x = 0; x < length; x++) {
        order[a + x] = events[x]!
        if (x === 0 || items[x] !== items[x - 1]) pairs++
      }
    } else {
      if (keys.length < length) keys = new Float64Array(length)
      for (let x = 0; x < length; x++) keys[x] = items[x]! * length + x
      const sorted = keys.subarray(0, length).sort()
      let last = -1
      for (let x = 0; x < length; x++) {
        const key = sorted[x]!
        let item = Math.floor(key / length)
        let position = key - item * length
        // NOTE: the quotient is rounded; a key just below the next item's could round up.
        if (position < 0) {
          item--
          position += length
        }
        order[a + x] = events[position]!
        if (item !== last) pairs++
        last = item
      }
    }
    a += length
  }
  return pairs
}

/** The first `max` ids (in id order) whose item did not survive the filters. */
function droppedItems(sortedItems: readonly string[], alive: Uint8Array, max: number): string[] {
  const out: string[] = []
  for (let r = 0; r < sortedItems.length && out.length < max; r++) if (!alive[r]) out.push(sortedItems[r]!)
  return out
}
