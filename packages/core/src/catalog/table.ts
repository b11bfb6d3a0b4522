/**
 * The catalog in columns: what a model version exports (`catalog.shard`, docs/shard-format.md) and
 * what the worker filters with. Categories and tags are dictionary-coded in CSR form, numbers in
 * typed arrays, so 100k items cost a few MiB and a filter check allocates nothing.
 *
 * @module
 */
import { CoreError } from '../errors.js'
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
  readonly #catOffsets: Uint32Array
  readonly #catCodes: Uint32Array
  readonly #tagOffsets: Uint32Array
  readonly #tagCodes: Uint32Array
  readonly #price: Float64Array
  readonly #available: Uint8Array
  readonly #createdAt: Float64Array
  readonly #attributes: Map<string, Map<number, AttributeValue>>
  readonly #rowOf = new Map<string, number>()
  readonly #view: RowView

  /** @throws {@link CoreError} `INVALID_ARGUMENT` when the columns are inconsistent */
  constructor(columns: CatalogColumns) {
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
    this.updatedUntil = Number.isFinite(columns.updatedUntil) ? columns.updatedUntil : 0
    this.ids = columns.ids
    columns.ids.forEach((id, row) => {
      if (typeof id !== 'string') invalid(`id ${row} is not a string.`)
      this.#rowOf.set(id, row)
    })
    this.#categoryLabels = columns.categoryLabels
    this.#tagLabels = columns.tagLabels
    this.#categoryCode = new Map(columns.categoryLabels.map((l, i) => [l, i]))
    this.#tagCode = new Map(columns.tagLabels.map((l, i) => [l, i]))
    this.#catOffsets = checkedCsr(columns.categoryOffsets, columns.categoryCodes.length, 'categoryOffsets')
    this.#catCodes = checkedCodes(columns.categoryCodes, columns.categoryLabels.length, 'categoryCodes')
    this.#tagOffsets = checkedCsr(columns.tagOffsets, columns.tagCodes.length, 'tagOffsets')
    this.#tagCodes = checkedCodes(columns.tagCodes, columns.tagLabels.length, 'tagCodes')
    this.#price = Float64Array.from(columns.price, (p) => (p === null ? Number.NaN : p))
    this.#available = Uint8Array.from(columns.available)
    this.#createdAt = Float64Array.from(columns.createdAt, (t) => (t === null ? Number.NaN : t))
    this.#attributes = new Map()
    for (const [name, { rows, values }] of Object.entries(columns.attributes ?? {})) {
      if (!Array.isArray(rows) || !Array.isArray(values) || rows.length !== values.length)
        invalid(`attribute ${name} needs parallel rows and values.`)
      const byRow = new Map<number, AttributeValue>()
      for (let i = 0; i < rows.length; i++) byRow.set(rows[i]!, values[i]!)
      this.#attributes.set(name, byRow)
    }
    this.#view = new RowView(this)
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

  /** Number of rows. */
  get size(): number {
    return this.ids.length
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

  /** Row `row` as a plain item. */
  item(row: number): CatalogItem {
    const attributes: Record<string, AttributeValue> = {}
    for (const [name, byRow] of this.#attributes) {
      const value = byRow.get(row)
      if (value !== undefined) attributes[name] = value
    }
    return {
      itemId: this.ids[row]!,
      categories: [...this.categoriesOf(row)],
      tags: this.#labels(this.#tagOffsets, this.#tagCodes, this.#tagLabels, row),
      price: this.priceOf(row),
      available: this.#available[row] === 1,
      createdAt: this.createdAtOf(row),
      attributes,
    }
  }

  /** @internal */
  categoriesOf(row: number): string[] {
    return this.#labels(this.#catOffsets, this.#catCodes, this.#categoryLabels, row)
  }

  #labels(offsets: Uint32Array, codes: Uint32Array, labels: readonly string[], row: number): string[] {
    const out: string[] = []
    for (let p = offsets[row]!; p < offsets[row + 1]!; p++) out.push(labels[codes[p]!]!)
    return out
  }

  /** @internal */
  hasLabel(kind: 'category' | 'tag', row: number, label: string): boolean {
    const code = (kind === 'category' ? this.#categoryCode : this.#tagCode).get(label)
    if (code === undefined) return false
    const offsets = kind === 'category' ? this.#catOffsets : this.#tagOffsets
    const codes = kind === 'category' ? this.#catCodes : this.#tagCodes
    for (let p = offsets[row]!; p < offsets[row + 1]!; p++) if (codes[p] === code) return true
    return false
  }

  /** @internal */
  priceOf(row: number): number | null {
    const p = this.#price[row]!
    return Number.isNaN(p) ? null : p
  }

  /** @internal */
  availableAt(row: number): boolean {
    return this.#available[row] === 1
  }

  /** @internal */
  createdAtOf(row: number): number | null {
    const t = this.#createdAt[row]!
    return Number.isNaN(t) ? null : t
  }

  /** @internal */
  attributeOf(row: number, name: string): AttributeValue | undefined {
    return this.#attributes.get(name)?.get(row)
  }

  /** Estimated bytes held (typed arrays exactly, strings and maps estimated). */
  get byteLength(): number {
    let bytes = this.#catOffsets.byteLength + this.#catCodes.byteLength + this.#tagOffsets.byteLength
    bytes +=
      this.#tagCodes.byteLength +
      this.#price.byteLength +
      this.#available.byteLength +
      this.#createdAt.byteLength
    for (const id of this.ids) bytes += 16 + Math.ceil(id.length / 8) * 8 + 72
    for (const byRow of this.#attributes.values()) bytes += byRow.size * 64
    return bytes
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

/**
 * Parses the body of a catalog shard.
 *
 * @throws {@link CoreError} `INVALID_ARGUMENT` when it is not valid columns
 */
export function decodeCatalogColumns(bytes: Uint8Array): CatalogTable {
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
  return new CatalogTable(parsed as CatalogColumns)
}
