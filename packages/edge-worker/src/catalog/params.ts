/**
 * Filter parameters of `recommendations`, `similar` and `popular` (docs/edge-worker.md, "Filters"):
 * `category`, `tag` (comma-separated, any of), `minPrice`, `maxPrice`, `available`
 * (`true` default, `false`, `any`) and `filter` (an expression).
 *
 * @module
 */
import { CATALOG_LIMITS, type ItemFilterSpec, LABEL_PATTERN, parseFilterExpression } from '@edgerec/core'
import type { ParamErrors } from '../params.js'

/** Most labels in one `category=` or `tag=`. */
export const MAX_FILTER_LABELS = 50

function labels(errors: ParamErrors, field: string, raw: string | undefined): string[] | undefined {
  if (raw === undefined || raw === '') return undefined
  const list = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
  if (list.length > MAX_FILTER_LABELS) {
    errors.add(field, 'too_many', `${field} lists ${list.length} labels; at most ${MAX_FILTER_LABELS}.`)
    return undefined
  }
  for (const label of list) {
    if (label.length > CATALOG_LIMITS.maxLabelLength || !LABEL_PATTERN.test(label)) {
      errors.add(field, 'pattern', `${field} holds an invalid label "${label.slice(0, 32)}".`)
      return undefined
    }
  }
  return list
}

function price(errors: ParamErrors, field: string, raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined
  const n = Number(raw)
  if (!Number.isFinite(n) || n < 0) {
    errors.add(field, 'range', `${field} must be a number ≥ 0; got "${raw.slice(0, 32)}".`)
    return undefined
  }
  return n
}

/** `maxPerCategory=` (integer ≥ 1) and `diversity=` (0..1) of a request. */
export function parseRankParams(
  errors: ParamErrors,
  query: (name: string) => string | undefined,
): { maxPerCategory?: number; diversity?: number } {
  const out: { maxPerCategory?: number; diversity?: number } = {}
  const cap = query('maxPerCategory')
  if (cap !== undefined && cap !== '') {
    const n = Number(cap)
    if (!Number.isInteger(n) || n < 1 || n > 100)
      errors.add('maxPerCategory', 'range', 'maxPerCategory must be an integer in 1..100.')
    else out.maxPerCategory = n
  }
  const diversity = query('diversity')
  if (diversity !== undefined && diversity !== '') {
    const d = Number(diversity)
    if (!Number.isFinite(d) || d < 0 || d > 1)
      errors.add('diversity', 'range', 'diversity must be a number in 0..1.')
    else out.diversity = d
  }
  return out
}

/** Reads the filter parameters of a request into a spec; errors go to `errors`. */
export function parseFilterParams(
  errors: ParamErrors,
  query: (name: string) => string | undefined,
): ItemFilterSpec {
  const spec: ItemFilterSpec = {}
  const categories = labels(errors, 'category', query('category'))
  if (categories) spec.categories = categories
  const tags = labels(errors, 'tag', query('tag'))
  if (tags) spec.tags = tags
  const min = price(errors, 'minPrice', query('minPrice'))
  if (min !== undefined) spec.minPrice = min
  const max = price(errors, 'maxPrice', query('maxPrice'))
  if (max !== undefined) spec.maxPrice = max
  if (min !== undefined && max !== undefined && min > max)
    errors.add('minPrice', 'range', `minPrice (${min}) is above maxPrice (${max}).`)
  const available = query('available')
  if (available !== undefined && available !== '') {
    if (available === 'true' || available === '1') spec.available = true
    else if (available === 'false' || available === '0') spec.available = false
    else if (available === 'any') spec.available = 'any'
    else errors.add('available', 'pattern', 'available must be true, false or any.')
  }
  const expression = query('filter')
  if (expression !== undefined && expression !== '') {
    const parsed = parseFilterExpression(expression)
    if (parsed.ok) spec.expression = parsed.node
    else errors.add('filter', 'pattern', parsed.message)
  }
  return spec
}
