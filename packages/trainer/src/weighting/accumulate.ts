/**
 * Collects streamed events into compact columns (user, item, weight, time) with dense id maps,
 * then aggregates them into a user × item CSR matrix: repeated events add up, optional time decay,
 * non-positive totals dropped, min-interaction filters applied to a fixed point.
 *
 * @module
 */
import type { SourceEvent } from '@edgerec/adapters'
import type { CsrMatrix, InteractionMatrix } from '../data/matrix.js'
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

/** Growable typed column. */
class Column<T extends Float32Array | Float64Array | Uint32Array> {
  data: T
  constructor(private readonly make: (n: number) => T) {
    this.data = make(1 << 16)
  }
  ensure(n: number): void {
    if (n <= this.data.length) return
    let size = this.data.length
    while (size < n) size *= 2
    const next = this.make(size)
    next.set(this.data)
    this.data = next
  }
}

/**
 * Accumulates events batch by batch. Memory: 20 bytes per event plus the id maps.
 *
 * @example
 * ```ts
 * const acc = new InteractionAccumulator({ halfLifeDays: 30 })
 * for await (const batch of source.read()) acc.add(batch)
 * const { data, stats } = acc.build()
 * ```
 */
export class InteractionAccumulator {
  #count = 0
  readonly #users = new Map<string, number>()
  readonly #items = new Map<string, number>()
  readonly #userIds: string[] = []
  readonly #itemIds: string[] = []
  readonly #u = new Column((n) => new Uint32Array(n))
  readonly #i = new Column((n) => new Uint32Array(n))
  readonly #w = new Column((n) => new Float32Array(n))
  readonly #t = new Column((n) => new Float64Array(n))
  readonly #weights: Record<string, number>
  readonly #unknownWeight: number
  readonly #types = new Map<string, number>()
  readonly #unknown = new Set<string>()
  #newest = Number.NEGATIVE_INFINITY
  readonly #options: WeightingOptions
  readonly #transform: ValueTransform

  constructor(options: WeightingOptions = {}) {
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

  /** Adds a batch of events. */
  add(events: readonly SourceEvent[]): void {
    const n = this.#count + events.length
    this.#u.ensure(n)
    this.#i.ensure(n)
    this.#w.ensure(n)
    this.#t.ensure(n)
    const u = this.#u.data
    const it = this.#i.data
    const w = this.#w.data
    const t = this.#t.data
    let k = this.#count
    for (const e of events) {
      let ui = this.#users.get(e.userId)
      if (ui === undefined) {
        ui = this.#userIds.length
        this.#users.set(e.userId, ui)
        this.#userIds.push(e.userId)
      }
      let ii = this.#items.get(e.itemId)
      if (ii === undefined) {
        ii = this.#itemIds.length
        this.#items.set(e.itemId, ii)
        this.#itemIds.push(e.itemId)
      }
      let typeWeight = 1
      const type = e.type ?? UNTYPED
      if (e.type !== undefined) {
        const configured = this.#weights[e.type]
        if (configured === undefined) {
          this.#unknown.add(e.type)
          typeWeight = this.#unknownWeight
        } else typeWeight = configured
      }
      this.#types.set(type, (this.#types.get(type) ?? 0) + 1)
      u[k] = ui
      it[k] = ii
      w[k] = typeWeight * (e.value ?? 1)
      t[k] = e.timestamp
      if (e.timestamp > this.#newest) this.#newest = e.timestamp
      k++
    }
    this.#count = k
  }

  /**
   * Aggregates into the interaction matrix.
   *
   * Indexes: user (item) index = rank of the raw id among the kept distinct ids, in numeric order
   * when every id is a number, otherwise in UTF-16 code unit order (shared/REFERENCE.md).
   */
  build(): { data: InteractionMatrix; stats: WeightingStats } {
    const n = this.#count
    const u = this.#u.data
    const it = this.#i.data
    const w = this.#w.data
    const t = this.#t.data
    const nUsers = this.#userIds.length
    const nItems = this.#itemIds.length

    // Rank of each first-seen index among sorted raw ids.
    const userRank = rankOf(this.#userIds)
    const itemRank = rankOf(this.#itemIds)

    // LSD radix: stable counting sort by item rank, then by user rank → (user, item) order.
    const byItem = countingSort(n, nItems, (k) => itemRank[it[k]!]!, undefined)
    const order = countingSort(n, nUsers, (k) => userRank[u[k]!]!, byItem)

    const halfLifeMs =
      this.#options.halfLifeDays === undefined ? undefined : this.#options.halfLifeDays * 86_400_000
    const newest = n > 0 ? this.#newest : 0
    // Pairs, in (user rank, item rank) order.
    const pu = new Uint32Array(n)
    const pi = new Uint32Array(n)
    const pv = new Float64Array(n)
    const pt = new Float64Array(n)
    let pairs = 0
    let lastU = -1
    let lastI = -1
    for (let r = 0; r < n; r++) {
      const k = order[r]!
      const ur = userRank[u[k]!]!
      const ir = itemRank[it[k]!]!
      const weight = w[k]! * decayFactor(newest, t[k]!, halfLifeMs)
      if (ur === lastU && ir === lastI) {
        pv[pairs - 1]! += weight
        if (t[k]! > pt[pairs - 1]!) pt[pairs - 1] = t[k]!
      } else {
        pu[pairs] = ur
        pi[pairs] = ir
        pv[pairs] = weight
        pt[pairs] = t[k]!
        pairs++
        lastU = ur
        lastI = ir
      }
    }

    // Drop non-positive totals, then filter to a fixed point.
    const keep = new Uint8Array(pairs)
    let nonPositive = 0
    for (let p = 0; p < pairs; p++) {
      if (pv[p]! > 0) keep[p] = 1
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
      for (let p = 0; p < pairs; p++) {
        if (keep[p]) {
          userCount[pu[p]!]!++
          itemCount[pi[p]!]!++
        }
      }
      let changed = false
      for (let p = 0; p < pairs; p++) {
        if (keep[p] && (userCount[pu[p]!]! < minU || itemCount[pi[p]!]! < minI)) {
          keep[p] = 0
          changed = true
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
    for (let p = 0; p < pairs; p++) kept += keep[p]!
    const indptr = new Uint32Array(userIds.length + 1)
    const indices = new Uint32Array(kept)
    const values = new Float32Array(kept)
    const timestamps = new Float64Array(kept)
    const f = transformFunction(this.#transform)
    let allOne = true
    let q = 0
    for (let p = 0; p < pairs; p++) {
      if (!keep[p]) continue
      const row = userNew[pu[p]!]!
      indptr[row + 1]!++
      indices[q] = itemNew[pi[p]!]!
      values[q] = f(pv[p]!)
      if (values[q] !== 1) allOne = false
      timestamps[q] = pt[p]!
      q++
    }
    for (let r = 0; r < userIds.length; r++) indptr[r + 1] = indptr[r + 1]! + indptr[r]!

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
      filterPasses: passes,
      users: userIds.length,
      items: itemIds.length,
      interactions: kept,
      eventWeights,
      transform: this.#transform,
      binary: kept > 0 && allOne,
    }
    return { data: { matrix, userIds, itemIds, trainedUntil: newest }, stats }
  }
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

/** Stable counting sort of `0..n-1` (or of `input`) by `key(k)` in `[0, buckets)`. */
function countingSort(
  n: number,
  buckets: number,
  key: (k: number) => number,
  input: Uint32Array | undefined,
): Uint32Array {
  const counts = new Uint32Array(buckets + 1)
  for (let r = 0; r < n; r++) counts[key(input ? input[r]! : r) + 1]!++
  for (let b = 0; b < buckets; b++) counts[b + 1] = counts[b + 1]! + counts[b]!
  const out = new Uint32Array(n)
  for (let r = 0; r < n; r++) {
    const k = input ? input[r]! : r
    out[counts[key(k)]!++] = k
  }
  return out
}
