/**
 * Item filters: the query form (`category=`, `tag=`, `minPrice=`, `maxPrice=`, `available=`) and a
 * small expression language for combinations (`filter=`), compiled to a predicate over an
 * {@link ItemView}. The grammar (docs/edge-worker.md, "Filters"):
 *
 * ```
 * expr  := or
 * or    := and ( "OR" and )*
 * and   := unary ( ["AND"] unary )*        adjacent terms are ANDed
 * unary := "NOT" unary | "(" expr ")" | term
 * term  := "category:" label | "tag:" label | "available:" ("true"|"false")
 *        | ("price" | "createdAt" | attr) op number      op: < <= > >= =
 *        | attr ":" value                                  equality on a custom attribute
 * ```
 *
 * Keywords are case-insensitive; values with spaces are double-quoted. `createdAt` takes epoch ms
 * or an ISO-8601 date.
 *
 * @module
 */
import type { AttributeValue } from './item.js'
import { ATTRIBUTE_NAME_PATTERN } from './item.js'
import type { ItemView } from './table.js'

/** A comparison operator. */
export type CompareOp = '<' | '<=' | '>' | '>=' | '='

/** A parsed filter expression. */
export type FilterNode =
  | { op: 'and' | 'or'; nodes: FilterNode[] }
  | { op: 'not'; node: FilterNode }
  | { op: 'category' | 'tag'; label: string }
  | { op: 'available'; value: boolean }
  | { op: 'compare'; field: string; cmp: CompareOp; value: number }
  | { op: 'equals'; field: string; value: string }

/** What a request asks to filter by. Every part is ANDed. */
export interface ItemFilterSpec {
  /** Any of these categories. */
  categories?: readonly string[]
  /** Any of these tags. */
  tags?: readonly string[]
  /** Price ≥ this (items without a price fail). */
  minPrice?: number
  /** Price ≤ this (items without a price fail). */
  maxPrice?: number
  /** `true` (default): available items only; `false`: unavailable only; `'any'`: both. */
  available?: boolean | 'any'
  /** An expression (grammar in the module comment). */
  expression?: FilterNode
}

/** Limits of filter expressions. */
export const FILTER_LIMITS = { maxLength: 1024, maxTerms: 32, maxDepth: 8 } as const

/** Result of {@link parseFilterExpression}. */
export type FilterParseResult = { ok: true; node: FilterNode } | { ok: false; message: string }

type Token = { kind: 'lparen' } | { kind: 'rparen' } | { kind: 'word'; text: string }

class ParseError extends Error {}

function tokenize(text: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < text.length) {
    const ch = text[i]!
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      i++
    } else if (ch === '(') {
      tokens.push({ kind: 'lparen' })
      i++
    } else if (ch === ')') {
      tokens.push({ kind: 'rparen' })
      i++
    } else {
      let word = ''
      while (i < text.length) {
        const c = text[i]!
        if (c === '"') {
          const end = text.indexOf('"', i + 1)
          if (end < 0) throw new ParseError('a quoted value is not closed.')
          word += `\u0000${text.slice(i + 1, end)}`
          i = end + 1
          continue
        }
        if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '(' || c === ')') break
        word += c
        i++
      }
      tokens.push({ kind: 'word', text: word })
    }
  }
  return tokens
}

const TERM = /^([A-Za-z_][A-Za-z0-9_]*)(<=|>=|<|>|=|:)(.*)$/s

function parseNumber(field: string, raw: string): number {
  if (field === 'createdAt' && /^\d{4}-\d{2}-\d{2}/.test(raw)) {
    const ms = Date.parse(/T/.test(raw) && !/(?:Z|[+-]\d{2}:?\d{2})$/i.test(raw) ? `${raw}Z` : raw)
    if (Number.isFinite(ms)) return ms
  }
  const n = raw.trim() === '' ? Number.NaN : Number(raw)
  if (!Number.isFinite(n)) throw new ParseError(`${field} needs a number, got "${raw.slice(0, 32)}".`)
  return n
}

function parseTerm(word: string): FilterNode {
  const m = TERM.exec(word)
  if (!m)
    throw new ParseError(
      `"${word.replaceAll('\u0000', '').slice(0, 40)}" is not a term (e.g. category:shoes, price<50).`,
    )
  const field = m[1]!
  const op = m[2]!
  const value = m[3]!.replaceAll('\u0000', '')
  if (value.length === 0) throw new ParseError(`${field}${op} needs a value.`)
  if (field === 'category' || field === 'tag') {
    if (op !== ':' && op !== '=') throw new ParseError(`${field} takes ":" (e.g. ${field}:shoes).`)
    return { op: field, label: value }
  }
  if (field === 'available') {
    if (value !== 'true' && value !== 'false') throw new ParseError('available takes true or false.')
    return { op: 'available', value: value === 'true' }
  }
  if (!ATTRIBUTE_NAME_PATTERN.test(field)) throw new ParseError(`"${field}" is not an attribute name.`)
  if (op === ':') {
    if (field === 'price' || field === 'createdAt')
      return { op: 'compare', field, cmp: '=', value: parseNumber(field, value) }
    return { op: 'equals', field, value }
  }
  return { op: 'compare', field, cmp: op as CompareOp, value: parseNumber(field, value) }
}

/**
 * Parses a filter expression; never throws.
 *
 * @example
 * ```ts
 * parseFilterExpression('category:shoes AND (tag:red OR tag:blue) AND price<50 AND NOT tag:sale')
 * ```
 */
export function parseFilterExpression(text: string): FilterParseResult {
  if (text.length > FILTER_LIMITS.maxLength)
    return { ok: false, message: `The filter is longer than ${FILTER_LIMITS.maxLength} characters.` }
  try {
    const tokens = tokenize(text)
    let pos = 0
    let terms = 0
    const peekWord = (): string | undefined => {
      const t = tokens[pos]
      return t?.kind === 'word' ? t.text.toUpperCase() : undefined
    }
    const parseOr = (depth: number): FilterNode => {
      const nodes = [parseAnd(depth)]
      while (peekWord() === 'OR') {
        pos++
        nodes.push(parseAnd(depth))
      }
      return nodes.length === 1 ? nodes[0]! : { op: 'or', nodes }
    }
    const parseAnd = (depth: number): FilterNode => {
      const nodes = [parseUnary(depth)]
      for (;;) {
        const t = tokens[pos]
        if (!t || t.kind === 'rparen' || peekWord() === 'OR') break
        if (peekWord() === 'AND') pos++
        nodes.push(parseUnary(depth))
      }
      return nodes.length === 1 ? nodes[0]! : { op: 'and', nodes }
    }
    const parseUnary = (depth: number): FilterNode => {
      if (depth > FILTER_LIMITS.maxDepth)
        throw new ParseError(`nesting is deeper than ${FILTER_LIMITS.maxDepth}.`)
      const t = tokens[pos]
      if (!t) throw new ParseError('the expression ends too early.')
      if (t.kind === 'rparen') throw new ParseError('unexpected ")".')
      if (t.kind === 'lparen') {
        pos++
        const node = parseOr(depth + 1)
        if (tokens[pos]?.kind !== 'rparen') throw new ParseError('a "(" is not closed.')
        pos++
        return node
      }
      const upper = t.text.toUpperCase()
      if (upper === 'NOT') {
        pos++
        return { op: 'not', node: parseUnary(depth + 1) }
      }
      if (upper === 'AND' || upper === 'OR') throw new ParseError(`unexpected ${upper}.`)
      pos++
      if (++terms > FILTER_LIMITS.maxTerms) throw new ParseError(`more than ${FILTER_LIMITS.maxTerms} terms.`)
      return parseTerm(t.text)
    }
    if (tokens.length === 0) return { ok: false, message: 'The filter is empty.' }
    const node = parseOr(0)
    if (pos < tokens.length) throw new ParseError('unexpected ")".')
    return { ok: true, node }
  } catch (error) {
    if (error instanceof ParseError) return { ok: false, message: `Invalid filter: ${error.message}` }
    throw error
  }
}

function compare(a: number, cmp: CompareOp, b: number): boolean {
  switch (cmp) {
    case '<':
      return a < b
    case '<=':
      return a <= b
    case '>':
      return a > b
    case '>=':
      return a >= b
    case '=':
      return a === b
  }
}

function attributeEquals(actual: AttributeValue | undefined, expected: string): boolean {
  if (actual === undefined) return false
  if (typeof actual === 'string') return actual === expected
  if (typeof actual === 'boolean') return String(actual) === expected
  return actual === Number(expected)
}

/** Evaluates a node against one item. */
export function matchesNode(node: FilterNode, item: ItemView): boolean {
  switch (node.op) {
    case 'and':
      return node.nodes.every((n) => matchesNode(n, item))
    case 'or':
      return node.nodes.some((n) => matchesNode(n, item))
    case 'not':
      return !matchesNode(node.node, item)
    case 'category':
      return item.hasCategory(node.label)
    case 'tag':
      return item.hasTag(node.label)
    case 'available':
      return item.available === node.value
    case 'compare': {
      const v =
        node.field === 'price'
          ? item.price
          : node.field === 'createdAt'
            ? item.createdAt
            : item.attribute(node.field)
      return typeof v === 'number' && compare(v, node.cmp, node.value)
    }
    case 'equals':
      return attributeEquals(item.attribute(node.field), node.value)
  }
}

function mentionsAvailable(node: FilterNode): boolean {
  switch (node.op) {
    case 'and':
    case 'or':
      return node.nodes.some(mentionsAvailable)
    case 'not':
      return mentionsAvailable(node.node)
    default:
      return node.op === 'available'
  }
}

/** A compiled filter: `test` says whether an item passes. */
export interface ItemPredicate {
  test(item: ItemView): boolean
  /** True when the filter lets every item through (nothing to check). */
  readonly passAll: boolean
}

/**
 * Compiles a request's filter. Unavailable items are excluded unless `available` is `false` or
 * `'any'`, or the expression itself tests `available:`.
 */
export function compileItemFilter(spec: ItemFilterSpec = {}): ItemPredicate {
  const checks: ((item: ItemView) => boolean)[] = []
  const available = spec.available ?? (spec.expression && mentionsAvailable(spec.expression) ? 'any' : true)
  if (available !== 'any') checks.push((item) => item.available === available)
  if (spec.categories && spec.categories.length > 0) {
    const labels = spec.categories
    checks.push((item) => labels.some((l) => item.hasCategory(l)))
  }
  if (spec.tags && spec.tags.length > 0) {
    const labels = spec.tags
    checks.push((item) => labels.some((l) => item.hasTag(l)))
  }
  if (spec.minPrice !== undefined) {
    const min = spec.minPrice
    checks.push((item) => item.price !== null && item.price >= min)
  }
  if (spec.maxPrice !== undefined) {
    const max = spec.maxPrice
    checks.push((item) => item.price !== null && item.price <= max)
  }
  if (spec.expression) {
    const node = spec.expression
    checks.push((item) => matchesNode(node, item))
  }
  return {
    passAll: checks.length === 0,
    test: (item) => {
      for (const check of checks) if (!check(item)) return false
      return true
    },
  }
}

/** Where a scan finds the attributes of the item at a global model index. */
export interface ItemViewSource {
  viewAt(index: number): ItemView
}

/**
 * The index predicate a top-K scan consults (core's `IndexFilter`: `has` = skip): an index is
 * skipped when `exclude` has it or its item fails `predicate`. The scan asks only for rows whose
 * score could enter the top K, so a filter costs nothing for the rows that never could, and a
 * selective filter still fills K slots when K items match.
 */
export function indexFilterOf(
  predicate: ItemPredicate,
  views: ItemViewSource,
  exclude?: { has(index: number): boolean },
): { has(index: number): boolean } | undefined {
  if (predicate.passAll) return exclude
  return {
    has: (index) => (exclude?.has(index) ?? false) || !predicate.test(views.viewAt(index)),
  }
}
