/**
 * The catalog in columns: what a model version exports (`catalog.shard`, docs/shard-format.md) and
 * what the worker filters with. Categories and tags are dictionary-coded in CSR form, numbers in
 * typed arrays, so 100k items cost a few MiB and a filter check allocates nothing.
 *
 * @module
 */
import { CoreError } from '../errors.js'
import { DEFAULT_MAX_SHARD_BYTES } from '../shard/format.js'
import { planRowRanges, type RowRange, SINGLE_SECTION_OVERHEAD_BYTES } from '../shard/split.js'
import type { AttributeValue, CatalogItem } from './item.js'

/** Read access to one item's attributes, whatever stores them (columns, an overlay row). */
export interface ItemView {
  hasCategory(label: string): boolean
  hasTag(label: string): boolean
  /** The item's categories, in the order given. */
  categories(): readonly string[]
  readonly price: number | null
  readonly available: boolean
  readonly createdAt: number | null
  attribute(name: string): AttributeValue | undefined
}

/** A view of a plain {@link CatalogItem} (overlay rows, tests). */
export function viewOfItem(item: CatalogItem): ItemView {
  return {
    hasCategory: (label) => item.categories.includes(label),
    hasTag: (label) => item.tags.includes(label),
    categories: () => item.categories,
    price: item.price,
    available: item.available,
    createdAt: item.createdAt,
    attribute: (name) => item.attributes[name],
  }
}

/** What an item without a catalog row looks like to filters: no labels, no price, available. */
export const UNKNOWN_ITEM_VIEW: ItemView = {
  hasCategory: () => false,
  hasTag: () => false,
  categories: () => [],
  price: null,
  available: true,
  createdAt: null,
  attribute: () => undefined,
}

/** The JSON form of a {@link CatalogTable} (the body of a catalog shard). */
export interface CatalogColumns {
  format: 1
  /** Newest `updated_at` (epoch ms) among the rows exported; the worker overlays later changes. */
  updatedUntil: number
  ids: string[]
  categoryLabels: string[]
  tagLabels: string[]
  /** `ids.length + 1` offsets into `categoryCodes`. */
  categoryOffsets: number[]
  categoryCodes: number[]
  tagOffsets: number[]
  tagCodes: number[]
  /** One per row; null for no price. */
  price: (number | null)[]
  /** One per row: 1 available, 0 not. */
  available: number[]
  createdAt: (number | null)[]
  /** Sparse custom attributes: name → parallel row / value lists. */
  attributes: Record<string, { rows: number[]; values: AttributeValue[] }>
}

function csr(lists: readonly (readonly string[])[]): {
  labels: string[]
  offsets: number[]
  codes: number[]
} {
  const labels: string[] = []
  const code = new Map<string, number>()
  const offsets = [0]
  const codes: number[] = []
  for (const list of lists) {
    for (const label of list) {
      let c = code.get(label)
      if (c === undefined) {
        c = labels.length
        labels.push(label)
        code.set(label, c)
      }
      codes.push(c)
    }
    offsets.push(codes.length)
  }
  return { labels, offsets, codes }
}

function invalid(message: string): never {
  throw new CoreError('INVALID_ARGUMENT', `Invalid catalog columns: ${message} Re-export the model version.`)
}

/**
 * A columnar, immutable catalog.
 *
 * @example
 * ```ts
 * const table = CatalogTable.fromItems(items, Date.now())
 * const row = table.rowOf('sku-1')
 * if (row >= 0 && table.view(row).hasCategory('shoes')) …
 * ```
 */
export class CatalogTable {
  readonly updatedUntil: number
  readonly ids: readonly string[]
  readonly #categoryLabels: readonly string[]
  readonly #tagLabels: readonly string[]
  readonly #categoryCode: Map<string, number>
  readonly #tagCode: Map<string, number>
  readonly #categories: LabelColumn
  readonly #tags: LabelColumn
  readonly #price: NumberColumn
  /** Per row: {@link AVAILABLE} | {@link PRESENT} (aligned tables). */
  readonly #flags: Uint8Array
  readonly #createdAt: NumberColumn
  readonly #attributes: Map<string, Map<number, AttributeValue>>
  readonly #rowOf = new Map<string, number>()
  readonly #view: RowView
  readonly #aligned: boolean
  readonly #presentCount: number

  /** @throws {@link CoreError} `INVALID_ARGUMENT` when the columns are inconsistent */
  constructor(columns: CatalogColumns | PackedCatalog) {
    const p = isPacked(columns) ? columns : wideTable(packColumns(columns))
    this.updatedUntil = p.updatedUntil
    this.ids = p.ids
    p.ids.forEach((id, row) => {
      this.#rowOf.set(id, row)
    })
    this.#categoryLabels = p.categoryLabels
    this.#tagLabels = p.tagLabels
    this.#categoryCode = new Map(p.categoryLabels.map((l, i) => [l, i]))
    this.#tagCode = new Map(p.tagLabels.map((l, i) => [l, i]))
    this.#categories = p.categories
    this.#tags = p.tags
    this.#price = p.price
    this.#flags = p.flags
    this.#createdAt = p.createdAt
    this.#attributes = p.attributes
    this.#aligned = p.aligned
    let count = 0
    if (p.aligned) for (let i = 0; i < p.flags.length; i++) count += p.flags[i]! >> 1
    this.#presentCount = count
    this.#view = new RowView(this)
  }

  /**
   * True for a table from {@link CatalogTable.alignedBuilder}: row = the model's item index, no ids
   * held ({@link ids} is empty, {@link rowOf} answers -1; use {@link has}).
   */
  get aligned(): boolean {
    return this.#aligned
  }

  /** Whether row `row` holds an item (aligned tables: whether the model item has a catalog row). */
  has(row: number): boolean {
    return this.#aligned ? (this.#flags[row]! & PRESENT) !== 0 : row >= 0 && row < this.ids.length
  }

  /** Builds the columns of `items` (later duplicates of an id win). */
  static fromItems(items: readonly CatalogItem[], updatedUntil: number): CatalogTable {
    return new CatalogTable(CatalogTable.columnsOf(items, updatedUntil))
  }

  /** The {@link CatalogColumns} of `items`. */
  static columnsOf(items: readonly CatalogItem[], updatedUntil: number): CatalogColumns {
    const byId = new Map<string, CatalogItem>()
    for (const item of items) byId.set(item.itemId, item)
    const list = [...byId.values()]
    const cats = csr(list.map((i) => i.categories))
    const tags = csr(list.map((i) => i.tags))
    const attributes: CatalogColumns['attributes'] = {}
    list.forEach((item, row) => {
      for (const [name, value] of Object.entries(item.attributes)) {
        let column = attributes[name]
        if (!column) {
          column = { rows: [], values: [] }
          attributes[name] = column
        }
        column.rows.push(row)
        column.values.push(value)
      }
    })
    return {
      format: 1,
      updatedUntil,
      ids: list.map((i) => i.itemId),
      categoryLabels: cats.labels,
      tagLabels: tags.labels,
      categoryOffsets: cats.offsets,
      categoryCodes: cats.codes,
      tagOffsets: tags.offsets,
      tagCodes: tags.codes,
      price: list.map((i) => i.price),
      available: list.map((i) => (i.available ? 1 : 0)),
      createdAt: list.map((i) => i.createdAt),
      attributes,
    }
  }

  /** Number of items (aligned tables: rows that hold one). */
  get size(): number {
    return this.#aligned ? this.#presentCount : this.ids.length
  }

  /** Row of `itemId`, or -1. */
  rowOf(itemId: string): number {
    return this.#rowOf.get(itemId) ?? -1
  }

  /**
   * A view of row `row`. NOTE: one view object is reused by every call (no allocation on the
   * scoring path), so read it before asking for another row.
   */
  view(row: number): ItemView {
    this.#view.row = row
    return this.#view
  }

  /** Row `row` as a plain item (`itemId` is empty in an aligned table, which holds no ids). */
  item(row: number): CatalogItem {
    const attributes: Record<string, AttributeValue> = {}
    for (const [name, byRow] of this.#attributes) {
      const value = byRow.get(row)
      if (value !== undefined) attributes[name] = value
    }
    return {
      itemId: this.ids[row] ?? '',
      categories: [...this.categoriesOf(row)],
      tags: this.#labels(this.#tags, this.#tagLabels, row),
      price: this.priceOf(row),
      available: this.availableAt(row),
      createdAt: this.createdAtOf(row),
      attributes,
    }
  }

  /** @internal */
  categoriesOf(row: number): string[] {
    return this.#labels(this.#categories, this.#categoryLabels, row)
  }

  #labels(column: LabelColumn, labels: readonly string[], row: number): string[] {
    return column.codes(row).map((code) => labels[code]!)
  }

  /** @internal */
  hasLabel(kind: 'category' | 'tag', row: number, label: string): boolean {
    const code = (kind === 'category' ? this.#categoryCode : this.#tagCode).get(label)
    if (code === undefined) return false
    return (kind === 'category' ? this.#categories : this.#tags).has(row, code)
  }

  /** @internal */
  priceOf(row: number): number | null {
    const p = this.#price.get(row)
    return Number.isNaN(p) ? null : p
  }

  /** @internal */
  availableAt(row: number): boolean {
    return (this.#flags[row]! & AVAILABLE) !== 0
  }

  /** @internal */
  createdAtOf(row: number): number | null {
    const t = this.#createdAt.get(row)
    return Number.isNaN(t) ? null : t
  }

  /** @internal */
  attributeOf(row: number, name: string): AttributeValue | undefined {
    return this.#attributes.get(name)?.get(row)
  }

  /**
   * Estimated bytes held (typed arrays exactly, strings and maps estimated): what
   * {@link catalogColumnsByteLength} predicts from the columns before they load.
   */
  get byteLength(): number {
    let bytes = this.#categories.byteLength + this.#tags.byteLength
    bytes += this.#price.byteLength + this.#flags.byteLength + this.#createdAt.byteLength
    for (const id of this.ids) bytes += idByteLength(id)
    for (const byRow of this.#attributes.values()) bytes += byRow.size * ATTRIBUTE_ENTRY_BYTES
    return bytes
  }

  /**
   * A builder of a table aligned to a model's items (the edge worker's): row i is the model's item
   * i (`indexOf` maps an id to it, -1 for catalog rows of items the model does not have, which are
   * left out), and no ids are kept, so a table of n items holds {@link alignedCatalogByteLength}
   * bytes. Parts (catalog shards) may come in any order of ids; an id seen twice keeps its first
   * row. Each part is validated alone, as with {@link CatalogTable.builder}. Items without a row
   * view as unknown (no labels, no price, available). `options.categories` / `options.tags` (the
   * manifest's counts) allocate the label codes once instead of growing them; `options.layout`
   * (the manifest's {@link CatalogLayout}) stores the columns compactly: narrow label codes, one
   * code per row where items have at most one label of a kind, dictionary-coded prices and
   * arrival times (a few bytes per item instead of about 25). A part that does not fit the layout
   * is refused whole (`INVALID_ARGUMENT`), like an invalid one.
   */
  static alignedBuilder(
    size: number,
    indexOf: (itemId: string) => number,
    options?: { categories: number; tags: number; layout?: CatalogLayout | undefined },
  ): CatalogTableBuilder {
    const layout = options?.layout
    const flags = new Uint8Array(size).fill(AVAILABLE)
    const price = new NumberColumnBuilder(size, layout?.prices)
    const createdAt = new NumberColumnBuilder(size, layout?.createdAts)
    const cats = labelColumnBuilder(size, options?.categories, layout?.categoryLabels, layout?.maxCategories)
    const tags = labelColumnBuilder(size, options?.tags, layout?.tagLabels, layout?.maxTags)
    let updatedUntil = 0
    let rows = 0
    const categoryLabels: string[] = []
    const tagLabels: string[] = []
    const categoryCode = new Map<string, number>()
    const tagCode = new Map<string, number>()
    const attributes = new Map<string, Map<number, AttributeValue>>()
    return {
      add(part) {
        const p = packColumns(part instanceof Uint8Array ? parseColumns(part) : part)
        const at = new Int32Array(p.ids.length).fill(-1)
        p.ids.forEach((id, r) => {
          const index = indexOf(id)
          if (index < 0 || index >= size || (flags[index]! & (PRESENT | PENDING)) !== 0) return
          at[r] = index
          flags[index] = flags[index]! | PENDING
        })
        if (layout)
          try {
            checkLayout(p, at, layout, { categoryCode, tagCode, price, createdAt })
          } catch (error) {
            for (const index of at) if (index >= 0) flags[index] = flags[index]! & ~PENDING
            throw error
          }
        // Codes of the labels the added rows use (labels of left-out rows take no code).
        const catMap = new Int32Array(p.categoryLabels.length).fill(-1)
        const tagMap = new Int32Array(p.tagLabels.length).fill(-1)
        for (let r = 0; r < at.length; r++) {
          const index = at[r]!
          if (index < 0) continue
          flags[index] = PRESENT | (p.available[r] === 1 ? AVAILABLE : 0)
          rows++
          price.set(index, p.price[r]!)
          createdAt.set(index, p.createdAt[r]!)
          cats.row(index)
          for (let q = p.catOffsets[r]!; q < p.catOffsets[r + 1]!; q++)
            cats.push(recode(p.catCodes[q]!, catMap, p.categoryLabels, categoryCode, categoryLabels))
          tags.row(index)
          for (let q = p.tagOffsets[r]!; q < p.tagOffsets[r + 1]!; q++)
            tags.push(recode(p.tagCodes[q]!, tagMap, p.tagLabels, tagCode, tagLabels))
        }
        for (const [name, byRow] of p.attributes) {
          let merged = attributes.get(name)
          if (!merged) {
            merged = new Map()
            attributes.set(name, merged)
          }
          for (const [row, value] of byRow) if (at[row]! >= 0) merged.set(at[row]!, value)
        }
        updatedUntil = Math.max(updatedUntil, p.updatedUntil)
      },
      get rows() {
        return rows
      },
      build() {
        return new CatalogTable({
          packed: true,
          updatedUntil,
          ids: [],
          categoryLabels,
          tagLabels,
          categories: cats.build(),
          tags: tags.build(),
          price: price.build(),
          createdAt: createdAt.build(),
          flags,
          aligned: true,
          attributes,
        })
      },
    }
  }

  /**
   * A builder that appends the parts of a split catalog (the catalog shards of a version, in
   * order) into one table, one part at a time, so only one part's JSON is alive at once. Each part
   * is validated alone; a part that fails is left out (its rows are absent) and the others still
   * build.
   *
   * @example
   * ```ts
   * const builder = CatalogTable.builder(manifestRows)
   * for (const bytes of parts) builder.add(bytes)
   * const table = builder.build()
   * ```
   */
  static builder(rowsHint = 0): CatalogTableBuilder {
    let n = 0
    let cap = Math.max(16, rowsHint)
    let ids: string[] = []
    let price = new Float64Array(cap)
    let available = new Uint8Array(cap)
    let createdAt = new Float64Array(cap)
    let catOffsets = new Uint32Array(cap + 1)
    let tagOffsets = new Uint32Array(cap + 1)
    let catCodes = new Uint32Array(Math.max(16, rowsHint))
    let tagCodes = new Uint32Array(Math.max(16, rowsHint))
    let catCount = 0
    let tagCount = 0
    let updatedUntil = 0
    const categoryLabels: string[] = []
    const tagLabels: string[] = []
    const categoryCode = new Map<string, number>()
    const tagCode = new Map<string, number>()
    const attributes = new Map<string, Map<number, AttributeValue>>()
    const grow = <T extends Uint32Array | Uint8Array | Float64Array>(a: T, need: number): T => {
      if (a.length >= need) return a
      const next = new (a.constructor as new (length: number) => T)(Math.max(need, a.length * 2))
      next.set(a)
      return next
    }
    return {
      add(part) {
        const p = packColumns(part instanceof Uint8Array ? parseColumns(part) : part)
        const rows = p.ids.length
        if (n + rows > cap) {
          cap = Math.max(n + rows, cap * 2)
          price = grow(price, cap)
          available = grow(available, cap)
          createdAt = grow(createdAt, cap)
          catOffsets = grow(catOffsets, cap + 1)
          tagOffsets = grow(tagOffsets, cap + 1)
        }
        const catMap = recodeLabels(p.categoryLabels, categoryCode, categoryLabels)
        const tagMap = recodeLabels(p.tagLabels, tagCode, tagLabels)
        catCodes = grow(catCodes, catCount + p.catCodes.length)
        tagCodes = grow(tagCodes, tagCount + p.tagCodes.length)
        for (let i = 0; i < p.catCodes.length; i++) catCodes[catCount + i] = catMap[p.catCodes[i]!]!
        for (let i = 0; i < p.tagCodes.length; i++) tagCodes[tagCount + i] = tagMap[p.tagCodes[i]!]!
        for (let r = 1; r <= rows; r++) {
          catOffsets[n + r] = catCount + p.catOffsets[r]!
          tagOffsets[n + r] = tagCount + p.tagOffsets[r]!
        }
        catCount += p.catCodes.length
        tagCount += p.tagCodes.length
        price.set(p.price, n)
        available.set(p.available, n)
        createdAt.set(p.createdAt, n)
        for (const [name, byRow] of p.attributes) {
          let merged = attributes.get(name)
          if (!merged) {
            merged = new Map()
            attributes.set(name, merged)
          }
          for (const [row, value] of byRow) merged.set(n + row, value)
        }
        for (const id of p.ids) ids.push(id)
        n += rows
        updatedUntil = Math.max(updatedUntil, p.updatedUntil)
      },
      get rows() {
        return n
      },
      build() {
        const table = new CatalogTable({
          packed: true,
          updatedUntil,
          ids,
          categoryLabels,
          tagLabels,
          categories: new CsrLabels(catOffsets.slice(0, n + 1), catCodes.slice(0, catCount)),
          tags: new CsrLabels(tagOffsets.slice(0, n + 1), tagCodes.slice(0, tagCount)),
          price: new Float64Column(price.slice(0, n)),
          flags: available.slice(0, n),
          createdAt: new Float64Column(createdAt.slice(0, n)),
          aligned: false,
          attributes,
        })
        ids = []
        return table
      },
    }
  }
}

/** Appends the parts of a split catalog into one {@link CatalogTable} ({@link CatalogTable.builder}). */
export interface CatalogTableBuilder {
  /**
   * Appends one part: the JSON bytes of a catalog shard body, or its parsed columns.
   *
   * @throws {@link CoreError} `INVALID_ARGUMENT` when the part is not valid columns (nothing of it is added)
   */
  add(part: Uint8Array | CatalogColumns): void
  /** Rows appended so far. */
  readonly rows: number
  /** The table of every part added (the builder must not be used afterwards). */
  build(): CatalogTable
}

/** Label codes in the narrowest unsigned width their count needs. */
type Codes = Uint8Array | Uint16Array | Uint32Array

/** Bytes per code for `values` distinct codes (0 .. values − 1). */
function codeWidth(values: number): 1 | 2 | 4 {
  return values <= 0x100 ? 1 : values <= 0x10000 ? 2 : 4
}

function codesOf(width: 1 | 2 | 4, length: number): Codes {
  return width === 1
    ? new Uint8Array(length)
    : width === 2
      ? new Uint16Array(length)
      : new Uint32Array(length)
}

/**
 * One label column (categories or tags) of a table, by label code.
 *
 * @internal
 */
export interface LabelColumn {
  /** Whether `row` holds label `code`. */
  has(row: number, code: number): boolean
  /** The codes of `row`, in the order given. */
  codes(row: number): number[]
  /** Bytes held (typed arrays, exact). */
  readonly byteLength: number
}

/** Labels in CSR form: `offsets[row] .. offsets[row + 1]` index `codes`. */
class CsrLabels implements LabelColumn {
  readonly #offsets: Uint32Array
  readonly #codes: Codes
  constructor(offsets: Uint32Array, codes: Codes) {
    this.#offsets = offsets
    this.#codes = codes
  }
  has(row: number, code: number): boolean {
    const codes = this.#codes
    for (let p = this.#offsets[row]!, end = this.#offsets[row + 1]!; p < end; p++)
      if (codes[p] === code) return true
    return false
  }
  codes(row: number): number[] {
    return Array.from(this.#codes.subarray(this.#offsets[row]!, this.#offsets[row + 1]!))
  }
  get byteLength(): number {
    return this.#offsets.byteLength + this.#codes.byteLength
  }
}

/** At most one label per row: `codes[row]` is the label's code + 1, 0 for none (no offsets). */
class SingleLabels implements LabelColumn {
  readonly #codes: Codes
  constructor(codes: Codes) {
    this.#codes = codes
  }
  has(row: number, code: number): boolean {
    return this.#codes[row] === code + 1
  }
  codes(row: number): number[] {
    const c = this.#codes[row]!
    return c === 0 ? [] : [c - 1]
  }
  get byteLength(): number {
    return this.#codes.byteLength
  }
}

/**
 * One number column (price, arrival time) of a table; NaN is null.
 *
 * @internal
 */
export interface NumberColumn {
  get(row: number): number
  /** Bytes held (typed arrays, exact). */
  readonly byteLength: number
}

class Float64Column implements NumberColumn {
  readonly #values: Float64Array
  constructor(values: Float64Array) {
    this.#values = values
  }
  get(row: number): number {
    return this.#values[row]!
  }
  get byteLength(): number {
    return this.#values.byteLength
  }
}

/** Dictionary-coded numbers: `values[codes[row]]`, code 0 = NaN (null). Exact: values are kept as float64. */
class DictionaryColumn implements NumberColumn {
  readonly #codes: Uint8Array | Uint16Array
  readonly #values: Float64Array
  constructor(codes: Uint8Array | Uint16Array, values: Float64Array) {
    this.#codes = codes
    this.#values = values
  }
  get(row: number): number {
    return this.#values[this.#codes[row]!]!
  }
  get byteLength(): number {
    return this.#codes.byteLength + this.#values.byteLength
  }
}

/**
 * Fills a number column row by row: dictionary-coded when the layout says at most 65,535 distinct
 * values (plus null), else float64.
 */
class NumberColumnBuilder {
  readonly #f64: Float64Array | undefined
  readonly #codes: Uint8Array<ArrayBuffer> | Uint16Array<ArrayBuffer> | undefined
  readonly #capacity: number
  /** Value → code (dictionary mode); code 0 is NaN. */
  readonly #code = new Map<number, number>()
  readonly #values: number[] = [Number.NaN]

  /** `distinct`: the layout's distinct non-null values (undefined: float64). */
  constructor(size: number, distinct: number | undefined) {
    this.#capacity = distinct === undefined ? Number.POSITIVE_INFINITY : distinct + 1
    const width = dictionaryWidth(size, distinct)
    if (width === 0) this.#f64 = new Float64Array(size).fill(Number.NaN)
    else this.#codes = width === 1 ? new Uint8Array(size) : new Uint16Array(size)
  }

  /** Whether `values[r]` (NaN = null) of the rows with `at[r] ≥ 0` fit next to what it holds. */
  fits(values: Float64Array, at: Int32Array): boolean {
    if (!this.#codes) return true
    const added = new Set<number>()
    for (let r = 0; r < at.length; r++) {
      const v = values[r]!
      if (at[r]! >= 0 && !Number.isNaN(v) && !this.#code.has(v)) added.add(v)
    }
    return this.#values.length + added.size <= this.#capacity
  }

  set(row: number, value: number): void {
    if (this.#f64) {
      this.#f64[row] = value
      return
    }
    let code = 0
    if (!Number.isNaN(value)) {
      code = this.#code.get(value) ?? -1
      if (code < 0) {
        code = this.#values.length
        this.#values.push(value)
        this.#code.set(value, code)
      }
    }
    this.#codes![row] = code
  }

  build(): NumberColumn {
    if (this.#f64) return new Float64Column(this.#f64)
    this.#code.clear()
    return new DictionaryColumn(this.#codes!, Float64Array.from(this.#values))
  }
}

/** Fills a label column row by row (each row at most once, then its codes). */
interface LabelColumnBuilder {
  row(row: number): void
  push(code: number): void
  build(): LabelColumn
}

/**
 * A label column builder: one code per row when the layout says no item has more than one label
 * of the kind, else CSR; codes as narrow as the layout's label count allows (4 bytes without one).
 */
function labelColumnBuilder(
  size: number,
  codesHint: number | undefined,
  labels: number | undefined,
  maxPerItem: number | undefined,
): LabelColumnBuilder {
  if (labels === undefined || maxPerItem === undefined || maxPerItem > 1)
    return new CsrAccumulator(size, codesHint, labels === undefined ? 4 : codeWidth(labels))
  const codes = codesOf(codeWidth(labels + 1), size)
  let current = 0
  return {
    row(row) {
      current = row
    },
    push(code) {
      codes[current] = code + 1
    },
    build: () => new SingleLabels(codes),
  }
}

/**
 * Builds the CSR (offsets, codes) of label codes per row when rows arrive in any order: appended
 * in place while row numbers increase (the trainer writes catalog rows in model order, so no extra
 * memory), else switched once to (row, code) pairs sorted by row at the end.
 */
class CsrAccumulator implements LabelColumnBuilder {
  readonly #size: number
  readonly #width: 1 | 2 | 4
  #offsets: Uint32Array
  #codes: Codes
  #count = 0
  #last = -1
  #current = -1
  /** Pairs mode: (row, code) interleaved, or undefined while rows increase. */
  #pairs: Uint32Array<ArrayBuffer> | undefined

  constructor(size: number, codesHint = 0, width: 1 | 2 | 4 = 4) {
    this.#size = size
    this.#width = width
    this.#offsets = new Uint32Array(size + 1)
    this.#codes = codesOf(width, Math.max(16, codesHint))
  }

  /** Starts row `row` (each row at most once); its codes follow with {@link push}. */
  row(row: number): void {
    this.#current = row
    if (this.#pairs) return
    if (row > this.#last) {
      for (let r = this.#last + 1; r <= row; r++) this.#offsets[r] = this.#count
      this.#last = row
      return
    }
    // A row before the last one: keep what was appended as pairs from now on.
    const pairs = new Uint32Array(Math.max(64, 4 * this.#count))
    for (let r = 0; r <= this.#last; r++) {
      const end = r === this.#last ? this.#count : this.#offsets[r + 1]!
      for (let q = this.#offsets[r]!; q < end; q++) {
        pairs[2 * q] = r
        pairs[2 * q + 1] = this.#codes[q]!
      }
    }
    this.#pairs = pairs
    this.#codes = codesOf(this.#width, 0)
  }

  push(code: number): void {
    if (this.#pairs) {
      if (this.#pairs.length < 2 * this.#count + 2) this.#pairs = grown(this.#pairs, 4 * this.#count + 2)
      this.#pairs[2 * this.#count] = this.#current
      this.#pairs[2 * this.#count + 1] = code
    } else {
      if (this.#codes.length <= this.#count) {
        const next = codesOf(this.#width, 2 * this.#count + 1)
        next.set(this.#codes)
        this.#codes = next
      }
      this.#codes[this.#count] = code
    }
    this.#count++
  }

  build(): LabelColumn {
    const size = this.#size
    const offsets = this.#offsets
    const pairs = this.#pairs
    if (!pairs) {
      for (let r = this.#last + 1; r <= size; r++) offsets[r] = this.#count
      const codes = this.#codes
      return new CsrLabels(offsets, codes.length === this.#count ? codes : codes.slice(0, this.#count))
    }
    offsets.fill(0)
    for (let i = 0; i < this.#count; i++) offsets[pairs[2 * i]! + 1]!++
    for (let r = 0; r < size; r++) offsets[r + 1]! += offsets[r]!
    const fill = offsets.slice(0, size)
    const codes = codesOf(this.#width, this.#count)
    for (let i = 0; i < this.#count; i++) codes[fill[pairs[2 * i]!]!++] = pairs[2 * i + 1]!
    this.#pairs = undefined
    return new CsrLabels(offsets, codes)
  }
}

function grown(a: Uint32Array, length: number): Uint32Array<ArrayBuffer> {
  const next = new Uint32Array(length)
  next.set(a)
  return next
}

/** Codes of `labels` in a merged dictionary (`codeOf` / `out`), adding the new ones. */
function recodeLabels(labels: readonly string[], codeOf: Map<string, number>, out: string[]): Uint32Array {
  return Uint32Array.from(labels, (label) => {
    let c = codeOf.get(label)
    if (c === undefined) {
      c = out.length
      out.push(label)
      codeOf.set(label, c)
    }
    return c
  })
}

/** The merged code of a part's label code `code` (`map` caches it, -1 = not yet), adding new labels. */
function recode(
  code: number,
  map: Int32Array,
  partLabels: readonly string[],
  codeOf: Map<string, number>,
  out: string[],
): number {
  let c = map[code]!
  if (c >= 0) return c
  const label = partLabels[code]!
  c = codeOf.get(label) ?? -1
  if (c < 0) {
    c = out.length
    out.push(label)
    codeOf.set(label, c)
  }
  map[code] = c
  return c
}

/**
 * Refuses a part whose added rows (`at[r] ≥ 0`) do not fit `layout` next to what the builder
 * holds: more labels on an item, more distinct labels or numbers than the layout allows.
 */
function checkLayout(
  p: PartColumns,
  at: Int32Array,
  layout: CatalogLayout,
  held: {
    categoryCode: Map<string, number>
    tagCode: Map<string, number>
    price: NumberColumnBuilder
    createdAt: NumberColumnBuilder
  },
): void {
  const kinds = [
    [
      'categories',
      p.catOffsets,
      p.catCodes,
      p.categoryLabels,
      held.categoryCode,
      layout.maxCategories,
      layout.categoryLabels,
    ],
    ['tags', p.tagOffsets, p.tagCodes, p.tagLabels, held.tagCode, layout.maxTags, layout.tagLabels],
  ] as const
  for (const [kind, offsets, codes, labels, codeOf, max, total] of kinds) {
    const added = new Set<string>()
    for (let r = 0; r < at.length; r++) {
      if (at[r]! < 0) continue
      if (offsets[r + 1]! - offsets[r]! > max) invalid(`row ${r} has more ${kind} than the layout's ${max}.`)
      for (let q = offsets[r]!; q < offsets[r + 1]!; q++) {
        const label = labels[codes[q]!]!
        if (!codeOf.has(label)) added.add(label)
      }
    }
    if (codeOf.size + added.size > total) invalid(`its ${kind} exceed the layout's ${total} labels.`)
  }
  if (!held.price.fits(p.price, at)) invalid(`its prices exceed the layout's ${layout.prices} values.`)
  if (!held.createdAt.fits(p.createdAt, at))
    invalid(`its createdAt values exceed the layout's ${layout.createdAts} values.`)
}

/**
 * How the worker's aligned table stores a version's catalog, measured by the exporter over the
 * model's items (`manifest.catalog.layout`; {@link catalogLayoutOf}): with it, label codes take
 * 1–2 bytes instead of 4, a kind of label that no item has twice takes one code per item and no
 * offsets, and prices / arrival times with at most 65,535 distinct values take 1–2 bytes per item
 * (dictionary-coded, values kept exactly as float64) instead of 8. Versions without it load in the
 * wide layout (4-byte codes and offsets, float64 numbers).
 */
export interface CatalogLayout {
  /** Distinct category labels of the model's items. */
  categoryLabels: number
  /** Most categories one model item has. */
  maxCategories: number
  /** Distinct tag labels of the model's items. */
  tagLabels: number
  /** Most tags one model item has. */
  maxTags: number
  /** Distinct non-null prices of the model's items. */
  prices: number
  /** Distinct non-null `createdAt` values of the model's items. */
  createdAts: number
}

/** The {@link CatalogLayout} of the catalog rows of a model's items. */
export function catalogLayoutOf(items: Iterable<CatalogItem>): CatalogLayout {
  const categories = new Set<string>()
  const tags = new Set<string>()
  const prices = new Set<number>()
  const createdAts = new Set<number>()
  let maxCategories = 0
  let maxTags = 0
  for (const item of items) {
    for (const c of item.categories) categories.add(c)
    for (const t of item.tags) tags.add(t)
    maxCategories = Math.max(maxCategories, item.categories.length)
    maxTags = Math.max(maxTags, item.tags.length)
    if (item.price !== null) prices.add(item.price)
    if (item.createdAt !== null) createdAts.add(item.createdAt)
  }
  return {
    categoryLabels: categories.size,
    maxCategories,
    tagLabels: tags.size,
    maxTags,
    prices: prices.size,
    createdAts: createdAts.size,
  }
}

/** Bytes of one label column of `items` rows holding `codes` codes (see {@link labelColumnBuilder}). */
function labelColumnByteLength(items: number, codes: number, labels?: number, maxPerItem?: number): number {
  if (labels === undefined || maxPerItem === undefined) return 4 * (items + 1) + 4 * codes
  if (maxPerItem <= 1) return codeWidth(labels + 1) * items
  return 4 * (items + 1) + codeWidth(labels) * codes
}

/**
 * Bytes per code of a dictionary-coded number column of `items` rows with `distinct` non-null
 * values (code 0 = null), or 0 for float64: without a layout, past 65,535 values, or when the
 * dictionary would not be smaller.
 */
function dictionaryWidth(items: number, distinct?: number): 0 | 1 | 2 {
  if (distinct === undefined || distinct + 1 > 0x10000) return 0
  const width = distinct + 1 <= 0x100 ? 1 : 2
  return width * items + 8 * (distinct + 1) < 8 * items ? width : 0
}

/** Bytes of one number column of `items` rows (see {@link NumberColumnBuilder}). */
function numberColumnByteLength(items: number, distinct?: number): number {
  const width = dictionaryWidth(items, distinct)
  return width === 0 ? 8 * items : width * items + 8 * (distinct! + 1)
}

/**
 * Bytes of an aligned table ({@link CatalogTable.alignedBuilder}) of `items` model items holding
 * `categoryCodes` category and `tagCodes` tag labels and `attributeValues` custom attribute values
 * in all, stored in `layout` (the wide layout without one: 4-byte offsets and codes, float64
 * prices and arrival times, about 25 bytes per item plus 4 per label): the typed arrays exactly,
 * one flag byte per item (availability, presence), and an estimated 64 per attribute value. What
 * the edge worker plans before it loads a catalog.
 */
export function alignedCatalogByteLength(
  items: number,
  categoryCodes: number,
  tagCodes: number,
  attributeValues: number,
  layout?: CatalogLayout,
): number {
  return (
    labelColumnByteLength(items, categoryCodes, layout?.categoryLabels, layout?.maxCategories) +
    labelColumnByteLength(items, tagCodes, layout?.tagLabels, layout?.maxTags) +
    numberColumnByteLength(items, layout?.prices) +
    numberColumnByteLength(items, layout?.createdAts) +
    items +
    ATTRIBUTE_ENTRY_BYTES * attributeValues
  )
}

/**
 * Bytes an aligned table in `layout` holds only while it is built, on top of its final bytes
 * ({@link alignedCatalogByteLength}): the value → code maps of its dictionary-coded number columns,
 * an estimated 64 per value. What the edge worker adds to its catalog loading peak.
 */
export function alignedCatalogBuildBytes(items: number, layout?: CatalogLayout): number {
  let entries = 0
  for (const distinct of [layout?.prices, layout?.createdAts])
    if (dictionaryWidth(items, distinct) > 0) entries += distinct! + 1
  return DICTIONARY_ENTRY_BYTES * entries
}

/** Estimated bytes of one entry of a value → code `Map` while a dictionary column is built. */
const DICTIONARY_ENTRY_BYTES = 64

/** Estimated bytes of one id in a table: the string and its entry in the id → row map. */
function idByteLength(id: string): number {
  return 16 + Math.ceil(id.length / 8) * 8 + 72
}

/** Estimated bytes of one sparse attribute value in a table. */
const ATTRIBUTE_ENTRY_BYTES = 64

/** Row flag: the item is available. */
const AVAILABLE = 1
/** Row flag (aligned tables): the row holds an item. */
const PRESENT = 2
/** Row flag while a part is added: the part has a row for this item (cleared when it is refused). */
const PENDING = 4

/**
 * The bytes a {@link CatalogTable} of `columns` holds, as {@link CatalogTable.byteLength} counts
 * them, computed without building it. The table of several parts holds the sum of the parts' bytes
 * minus 8 per part after the first (each part's offsets have one extra entry).
 */
export function catalogColumnsByteLength(columns: CatalogColumns): number {
  const n = columns.ids.length
  let bytes = 8 * (n + 1) + 4 * (columns.categoryCodes.length + columns.tagCodes.length) + 17 * n
  for (const id of columns.ids) bytes += idByteLength(id)
  for (const { rows } of Object.values(columns.attributes)) bytes += rows.length * ATTRIBUTE_ENTRY_BYTES
  return bytes
}

/**
 * A table's columns in memory (what {@link CatalogTable}'s constructor and builders hold).
 *
 * @internal
 */
export interface PackedCatalog {
  packed: true
  updatedUntil: number
  ids: readonly string[]
  categoryLabels: readonly string[]
  tagLabels: readonly string[]
  categories: LabelColumn
  tags: LabelColumn
  price: NumberColumn
  createdAt: NumberColumn
  /** Per row: 1 available; aligned tables add 2 where the row holds an item. */
  flags: Uint8Array
  /** Row = a model's item index, no ids ({@link CatalogTable.alignedBuilder}). */
  aligned: boolean
  attributes: Map<string, Map<number, AttributeValue>>
}

/** One part's validated columns in typed arrays (wide), as parsed from a catalog shard. */
interface PartColumns {
  updatedUntil: number
  ids: readonly string[]
  categoryLabels: readonly string[]
  tagLabels: readonly string[]
  catOffsets: Uint32Array
  catCodes: Uint32Array
  tagOffsets: Uint32Array
  tagCodes: Uint32Array
  price: Float64Array
  available: Uint8Array
  createdAt: Float64Array
  attributes: Map<string, Map<number, AttributeValue>>
}

/** A part's columns as a table in the wide layout. */
function wideTable(p: PartColumns): PackedCatalog {
  return {
    packed: true,
    updatedUntil: p.updatedUntil,
    ids: p.ids,
    categoryLabels: p.categoryLabels,
    tagLabels: p.tagLabels,
    categories: new CsrLabels(p.catOffsets, p.catCodes),
    tags: new CsrLabels(p.tagOffsets, p.tagCodes),
    price: new Float64Column(p.price),
    createdAt: new Float64Column(p.createdAt),
    flags: p.available,
    aligned: false,
    attributes: p.attributes,
  }
}

function isPacked(columns: CatalogColumns | PackedCatalog): columns is PackedCatalog {
  return (columns as Partial<PackedCatalog>)?.packed === true
}

/** Validates JSON columns and converts them to typed arrays. */
function packColumns(columns: CatalogColumns): PartColumns {
  const n = Array.isArray(columns?.ids) ? columns.ids.length : invalid('ids is missing.')
  if (columns.format !== 1) invalid(`format ${String(columns.format)} is not 1.`)
  const arrays = [
    'categoryLabels',
    'tagLabels',
    'categoryOffsets',
    'categoryCodes',
    'tagOffsets',
    'tagCodes',
    'price',
    'available',
    'createdAt',
  ] as const
  for (const key of arrays) if (!Array.isArray(columns[key])) invalid(`${key} is not an array.`)
  if (columns.categoryOffsets.length !== n + 1 || columns.tagOffsets.length !== n + 1)
    invalid('offsets need one entry per row plus one.')
  if (columns.price.length !== n || columns.available.length !== n || columns.createdAt.length !== n)
    invalid('price, available and createdAt need one entry per row.')
  columns.ids.forEach((id, row) => {
    if (typeof id !== 'string') invalid(`id ${row} is not a string.`)
  })
  const attributes = new Map<string, Map<number, AttributeValue>>()
  for (const [name, { rows, values }] of Object.entries(columns.attributes ?? {})) {
    if (!Array.isArray(rows) || !Array.isArray(values) || rows.length !== values.length)
      invalid(`attribute ${name} needs parallel rows and values.`)
    const byRow = new Map<number, AttributeValue>()
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!
      if (!Number.isInteger(row) || row < 0 || row >= n) invalid(`attribute ${name} names row ${row}.`)
      byRow.set(row, values[i]!)
    }
    attributes.set(name, byRow)
  }
  return {
    updatedUntil: Number.isFinite(columns.updatedUntil) ? columns.updatedUntil : 0,
    ids: columns.ids,
    categoryLabels: columns.categoryLabels,
    tagLabels: columns.tagLabels,
    catOffsets: checkedCsr(columns.categoryOffsets, columns.categoryCodes.length, 'categoryOffsets'),
    catCodes: checkedCodes(columns.categoryCodes, columns.categoryLabels.length, 'categoryCodes'),
    tagOffsets: checkedCsr(columns.tagOffsets, columns.tagCodes.length, 'tagOffsets'),
    tagCodes: checkedCodes(columns.tagCodes, columns.tagLabels.length, 'tagCodes'),
    price: Float64Array.from(columns.price, (p) => (p === null ? Number.NaN : p)),
    available: Uint8Array.from(columns.available, (a) => (a === 1 ? 1 : 0)),
    createdAt: Float64Array.from(columns.createdAt, (t) => (t === null ? Number.NaN : t)),
    attributes,
  }
}

function checkedCsr(offsets: readonly number[], total: number, name: string): Uint32Array {
  const out = Uint32Array.from(offsets)
  if (out[0] !== 0 || out[out.length - 1] !== total) invalid(`${name} must run from 0 to ${total}.`)
  for (let i = 1; i < out.length; i++) if (out[i]! < out[i - 1]!) invalid(`${name} decreases at ${i}.`)
  return out
}

function checkedCodes(codes: readonly number[], labels: number, name: string): Uint32Array {
  const out = Uint32Array.from(codes)
  for (let i = 0; i < out.length; i++) if (out[i]! >= labels) invalid(`${name}[${i}] names no label.`)
  return out
}

/** The reusable flyweight behind {@link CatalogTable.view}. */
class RowView implements ItemView {
  row = 0
  readonly #table: CatalogTable
  constructor(table: CatalogTable) {
    this.#table = table
  }
  hasCategory(label: string): boolean {
    return this.#table.hasLabel('category', this.row, label)
  }
  hasTag(label: string): boolean {
    return this.#table.hasLabel('tag', this.row, label)
  }
  categories(): readonly string[] {
    return this.#table.categoriesOf(this.row)
  }
  get price(): number | null {
    return this.#table.priceOf(this.row)
  }
  get available(): boolean {
    return this.#table.availableAt(this.row)
  }
  get createdAt(): number | null {
    return this.#table.createdAtOf(this.row)
  }
  attribute(name: string): AttributeValue | undefined {
    return this.#table.attributeOf(this.row, name)
  }
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** UTF-8 JSON bytes of a table's columns: the body of a catalog shard. */
export function encodeCatalogColumns(columns: CatalogColumns): Uint8Array {
  return encoder.encode(JSON.stringify(columns))
}

function parseColumns(bytes: Uint8Array): CatalogColumns {
  let parsed: unknown
  try {
    parsed = JSON.parse(decoder.decode(bytes))
  } catch (cause) {
    throw new CoreError(
      'INVALID_ARGUMENT',
      'The catalog shard body is not UTF-8 JSON. Re-export the model version.',
      {
        cause,
      },
    )
  }
  if (!parsed || typeof parsed !== 'object') invalid('not an object.')
  return parsed as CatalogColumns
}

/**
 * Parses the body of a catalog shard.
 *
 * @throws {@link CoreError} `INVALID_ARGUMENT` when it is not valid columns
 */
export function decodeCatalogColumns(bytes: Uint8Array): CatalogTable {
  return new CatalogTable(parseColumns(bytes))
}

/** A catalog split into shard-sized parts ({@link splitCatalog}). */
export interface SplitCatalog {
  /**
   * The items, deduplicated (later duplicates of an id win), in row order: with `modelIds`, the
   * model's items first in model order, then the others.
   */
  items: readonly CatalogItem[]
  /** Consecutive row ranges of `items`, one per catalog shard. */
  ranges: RowRange[]
  /**
   * What the manifest records (`manifest.catalog`): rows, and with `modelIds` the label codes,
   * layout and bytes of the worker's table aligned to those items ({@link alignedCatalogByteLength}).
   */
  manifest: {
    rows: number
    categoryCodes: number
    tagCodes: number
    memoryBytes: number
    /** How the worker stores the model items' rows ({@link CatalogLayout}). */
    layout: CatalogLayout
  }
}

/**
 * Plans the catalog shards of a version: consecutive rows of the deduplicated `items` such that
 * the JSON columns of each range ({@link CatalogTable.columnsOf} of the range, then
 * {@link encodeCatalogColumns}) fit a catalog shard of at most `maxBytes`. Each row is counted at
 * an upper bound of what it adds to its part's JSON (its labels as if new to the part), with core's
 * one splitting rule (`planRowRanges`, as item shards). Each part is self-contained (own label
 * dictionaries, rows from 0), so it decodes alone.
 *
 * @throws {@link CoreError} `INVALID_ARGUMENT` when one item alone cannot fit
 */
export function splitCatalog(
  items: readonly CatalogItem[],
  maxBytes = DEFAULT_MAX_SHARD_BYTES,
  modelIds?: readonly string[],
): SplitCatalog {
  const byId = new Map<string, CatalogItem>()
  for (const item of items) byId.set(item.itemId, item)
  let list = [...byId.values()]
  let categoryCodes = 0
  let tagCodes = 0
  let modelAttributes = 0
  let modelItems: CatalogItem[] = []
  if (modelIds) {
    // Model order first: the worker's aligned table then appends codes in place (no sorting).
    const ordered: CatalogItem[] = []
    for (const id of modelIds) {
      const item = byId.get(id)
      if (!item) continue
      ordered.push(item)
      byId.delete(id)
      categoryCodes += item.categories.length
      tagCodes += item.tags.length
      modelAttributes += Object.keys(item.attributes).length
    }
    modelItems = ordered
    list = [...ordered, ...byId.values()]
  }
  const layout = catalogLayoutOf(modelItems)
  let codes = 0
  const labels = new Set<string>()
  for (const item of list) {
    codes += item.categories.length + item.tags.length
    for (const l of item.categories) labels.add(l)
    for (const l of item.tags) labels.add(l)
  }
  // Largest number of characters a row index, an offset or a code can take, plus its comma.
  const rowDigits = String(list.length).length + 1
  const offsetDigits = String(codes).length + 1
  const codeDigits = String(labels.size).length + 1
  const bytesOf = (value: unknown) => encoder.encode(JSON.stringify(value)).length
  const rowBytes = (r: number): number => {
    const item = list[r]!
    let bytes = bytesOf(item.itemId) + 1 + 2 * offsetDigits
    for (const l of item.categories) bytes += codeDigits + bytesOf(l) + 1
    for (const l of item.tags) bytes += codeDigits + bytesOf(l) + 1
    bytes += bytesOf(item.price) + 1 + 2 + bytesOf(item.createdAt) + 1
    for (const [name, value] of Object.entries(item.attributes))
      bytes += rowDigits + bytesOf(value) + 1 + bytesOf(name) + JSON_ATTRIBUTE_SKELETON_BYTES
    return bytes
  }
  const overhead = SINGLE_SECTION_OVERHEAD_BYTES + JSON_SKELETON_BYTES
  return {
    items: list,
    ranges: planRowRanges(list.length, rowBytes, overhead, maxBytes, 'catalog item'),
    manifest: {
      rows: list.length,
      categoryCodes,
      tagCodes,
      memoryBytes: alignedCatalogByteLength(
        modelIds?.length ?? 0,
        categoryCodes,
        tagCodes,
        modelAttributes,
        layout,
      ),
      layout,
    },
  }
}

/** Upper bound of the JSON of a part without rows (keys, brackets, `updatedUntil`). */
const JSON_SKELETON_BYTES = 512
/** Upper bound of the JSON of one attribute's column without its rows (`:{"rows":[],"values":[]},`). */
const JSON_ATTRIBUTE_SKELETON_BYTES = 32
