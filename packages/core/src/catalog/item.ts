/**
 * Catalog items: what `PUT /v1/items` accepts, and its validator. Mirrors the event validator
 * (`../events/validate.ts`): one item at a time, field-level errors, never throws for bad input.
 *
 * @module
 */
import type { FieldError } from '../events/event.js'
import { EVENT_LIMITS, ID_PATTERN } from '../events/limits.js'

/** A custom attribute value: a flat scalar. */
export type AttributeValue = string | number | boolean

/** An item as clients send it to `PUT /v1/items`. */
export interface CatalogItemInput {
  itemId: string
  /** Category labels (e.g. `shoes`, `shoes/running`). */
  categories?: string[]
  /** Free labels (e.g. `red`, `sale`). */
  tags?: string[]
  /** Price in the shop's currency; `null` for none. */
  price?: number | null
  /** False takes the item out of every answer unless a request asks for unavailable items. Default true. */
  available?: boolean
  /** When the item was added to the shop: epoch ms or ISO-8601. */
  createdAt?: number | string
  /** Custom flat attributes (`brand`, `size`…), usable in filter expressions. */
  attributes?: Record<string, AttributeValue>
}

/** A validated item: labels deduplicated, `createdAt` in epoch ms. */
export interface CatalogItem {
  itemId: string
  categories: string[]
  tags: string[]
  price: number | null
  available: boolean
  createdAt: number | null
  attributes: Record<string, AttributeValue>
}

/** Limits every edgerec component enforces on catalog items. */
export const CATALOG_LIMITS = {
  /** Most items in one `PUT /v1/items`. */
  maxBatchSize: 500,
  /** Most categories per item. */
  maxCategories: 16,
  /** Most tags per item. */
  maxTags: 32,
  /** Longest category or tag. */
  maxLabelLength: 64,
  /** Most custom attributes per item. */
  maxAttributes: 32,
  /** Longest attribute name. */
  maxAttributeNameLength: 64,
  /** Longest string attribute value. */
  maxAttributeValueLength: 256,
  /** Largest price. */
  maxPrice: 1e12,
} as const

/** Characters of a category or tag: printable ASCII without spaces, quotes, parentheses or `:`. */
export const LABEL_PATTERN = /^[A-Za-z0-9_.@+=~|/#$%&!*,;?[\]{}^-]+$/
/** Pattern of a custom attribute name. */
export const ATTRIBUTE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/
/** Names filter expressions reserve; custom attributes may not use them. */
export const RESERVED_ATTRIBUTE_NAMES = new Set([
  'category',
  'tag',
  'price',
  'available',
  'createdAt',
  'itemId',
])

const KNOWN_FIELDS = new Set([
  'itemId',
  'categories',
  'tags',
  'price',
  'available',
  'createdAt',
  'attributes',
])

/** Result of validating one item. */
export type ItemValidationResult = { ok: true; item: CatalogItem } | { ok: false; errors: FieldError[] }

function checkLabels(value: unknown, field: string, max: number, errors: FieldError[]): string[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) {
    errors.push({ field, code: 'type', message: `${field} must be an array of strings.` })
    return []
  }
  if (value.length > max) {
    errors.push({
      field,
      code: 'too_many',
      message: `${field} holds ${value.length} labels; at most ${max}.`,
    })
    return []
  }
  const out = new Set<string>()
  value.forEach((label, i) => {
    if (typeof label !== 'string' || label.length === 0) {
      errors.push({
        field: `${field}.${i}`,
        code: 'type',
        message: `${field}[${i}] must be a non-empty string.`,
      })
    } else if (label.length > CATALOG_LIMITS.maxLabelLength) {
      errors.push({
        field: `${field}.${i}`,
        code: 'too_long',
        message: `${field}[${i}] is longer than ${CATALOG_LIMITS.maxLabelLength} characters.`,
      })
    } else if (!LABEL_PATTERN.test(label)) {
      errors.push({
        field: `${field}.${i}`,
        code: 'pattern',
        message: `${field}[${i}] may only hold printable ASCII without spaces, quotes, parentheses, ':' or '<>'.`,
      })
    } else out.add(label)
  })
  return [...out]
}

function toEpochMs(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) ? value : Number.NaN
  if (typeof value === 'string' && value.length <= 40 && /^\d{4}-\d{2}-\d{2}/.test(value)) {
    return Date.parse(/T/.test(value) && !/(?:Z|[+-]\d{2}:?\d{2})$/i.test(value) ? `${value}Z` : value)
  }
  return Number.NaN
}

/**
 * Validates one catalog item. Unknown top-level fields are rejected (a typo must not silently
 * drop a value); labels are deduplicated in order.
 *
 * @example
 * ```ts
 * const r = validateItem({ itemId: 'sku-1', categories: ['shoes'], price: 49.9 })
 * if (r.ok) save(r.item)
 * ```
 */
export function validateItem(input: unknown): ItemValidationResult {
  const errors: FieldError[] = []
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, errors: [{ field: '', code: 'type', message: 'An item must be a JSON object.' }] }
  }
  const raw = input as Record<string, unknown>
  for (const key of Object.keys(raw)) {
    if (!KNOWN_FIELDS.has(key)) {
      errors.push({
        field: key,
        code: 'unknown_field',
        message: `Unknown field "${key.slice(0, 64)}"; put custom values under "attributes".`,
      })
    }
  }
  const itemId = raw.itemId
  if (typeof itemId !== 'string' || itemId.length === 0) {
    errors.push({ field: 'itemId', code: 'required', message: 'itemId is required (a non-empty string).' })
  } else if (itemId.length > EVENT_LIMITS.maxEntityIdLength) {
    errors.push({
      field: 'itemId',
      code: 'too_long',
      message: `itemId is longer than ${EVENT_LIMITS.maxEntityIdLength} characters.`,
    })
  } else if (!ID_PATTERN.test(itemId)) {
    errors.push({
      field: 'itemId',
      code: 'pattern',
      message: 'itemId may only hold printable ASCII without spaces, quotes, < > \\ or `.',
    })
  }
  const categories = checkLabels(raw.categories, 'categories', CATALOG_LIMITS.maxCategories, errors)
  const tags = checkLabels(raw.tags, 'tags', CATALOG_LIMITS.maxTags, errors)
  let price: number | null = null
  if (raw.price !== undefined && raw.price !== null) {
    if (typeof raw.price !== 'number' || !Number.isFinite(raw.price)) {
      errors.push({ field: 'price', code: 'type', message: 'price must be a finite number or null.' })
    } else if (raw.price < 0 || raw.price > CATALOG_LIMITS.maxPrice) {
      errors.push({
        field: 'price',
        code: 'range',
        message: `price must be in 0..${CATALOG_LIMITS.maxPrice}.`,
      })
    } else price = raw.price
  }
  let available = true
  if (raw.available !== undefined) {
    if (typeof raw.available !== 'boolean') {
      errors.push({ field: 'available', code: 'type', message: 'available must be true or false.' })
    } else available = raw.available
  }
  let createdAt: number | null = null
  if (raw.createdAt !== undefined && raw.createdAt !== null) {
    const ms = toEpochMs(raw.createdAt)
    if (Number.isNaN(ms) || ms < EVENT_LIMITS.minTimestamp) {
      errors.push({
        field: 'createdAt',
        code: 'type',
        message: 'createdAt must be epoch ms or an ISO-8601 date after 2000-01-01.',
      })
    } else createdAt = Math.round(ms)
  }
  const attributes: Record<string, AttributeValue> = {}
  if (raw.attributes !== undefined && raw.attributes !== null) {
    const attrs = raw.attributes
    if (typeof attrs !== 'object' || Array.isArray(attrs)) {
      errors.push({ field: 'attributes', code: 'type', message: 'attributes must be a flat object.' })
    } else {
      const entries = Object.entries(attrs as Record<string, unknown>)
      if (entries.length > CATALOG_LIMITS.maxAttributes) {
        errors.push({
          field: 'attributes',
          code: 'too_many',
          message: `attributes holds ${entries.length} keys; at most ${CATALOG_LIMITS.maxAttributes}.`,
        })
      } else {
        for (const [name, value] of entries) {
          const field = `attributes.${name.slice(0, 64)}`
          if (
            name.length > CATALOG_LIMITS.maxAttributeNameLength ||
            !ATTRIBUTE_NAME_PATTERN.test(name) ||
            RESERVED_ATTRIBUTE_NAMES.has(name)
          ) {
            errors.push({
              field,
              code: 'pattern',
              message: `Attribute names match [A-Za-z_][A-Za-z0-9_]* (≤ ${CATALOG_LIMITS.maxAttributeNameLength} chars) and are not one of ${[...RESERVED_ATTRIBUTE_NAMES].join(', ')}.`,
            })
          } else if (typeof value === 'string') {
            if (value.length > CATALOG_LIMITS.maxAttributeValueLength) {
              errors.push({
                field,
                code: 'too_long',
                message: `${field} is longer than ${CATALOG_LIMITS.maxAttributeValueLength} characters.`,
              })
            } else attributes[name] = value
          } else if (typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) {
            attributes[name] = value
          } else {
            errors.push({
              field,
              code: 'type',
              message: `${field} must be a string, a finite number or a boolean.`,
            })
          }
        }
      }
    }
  }
  if (errors.length > 0) return { ok: false, errors }
  return {
    ok: true,
    item: { itemId: itemId as string, categories, tags, price, available, createdAt, attributes },
  }
}

/** One item's outcome in a batch. */
export type ItemBatchResult = { index: number } & ItemValidationResult

/** Result of {@link validateItemBatch}. */
export type ItemBatchValidationResult =
  | { ok: true; valid: CatalogItem[]; results: ItemBatchResult[] }
  | { ok: false; error: FieldError }

/**
 * Validates `{ "items": [...] }` (or a bare array) item by item: a bad item is rejected alone.
 * The whole batch fails only when it is not a list, is empty or too long.
 */
export function validateItemBatch(
  input: unknown,
  maxBatchSize: number = CATALOG_LIMITS.maxBatchSize,
): ItemBatchValidationResult {
  const list = Array.isArray(input) ? input : (input as { items?: unknown } | null)?.items
  if (!Array.isArray(list)) {
    return { ok: false, error: { field: 'items', code: 'required', message: 'Send { "items": [ ... ] }.' } }
  }
  if (list.length === 0)
    return { ok: false, error: { field: 'items', code: 'required', message: 'The batch is empty.' } }
  if (list.length > maxBatchSize) {
    return {
      ok: false,
      error: {
        field: 'items',
        code: 'too_many',
        message: `A batch holds at most ${maxBatchSize} items; got ${list.length}. Split it.`,
      },
    }
  }
  const results: ItemBatchResult[] = []
  const valid: CatalogItem[] = []
  for (let i = 0; i < list.length; i++) {
    const r = validateItem(list[i])
    results.push({ index: i, ...r })
    if (r.ok) valid.push(r.item)
  }
  return { ok: true, valid, results }
}
