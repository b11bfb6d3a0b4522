/**
 * Merchandising rules (issue 17): admin-defined boosts and pins, and diversity (at most N per
 * category, or maximal marginal relevance with a `diversity` knob), applied to a candidate pool
 * that the filtered top-K scan produced.
 *
 * @module
 */
import type { FieldError } from '../events/event.js'
import { type FilterNode, matchesNode, parseFilterExpression } from './filter.js'
import type { ItemView } from './table.js'

/** A boost: items matching `filter` (and, when given, created in the last `newerThanDays`) get ×`factor`. */
export interface BoostRule {
  /** A filter expression (docs/catalog.md); omitted: every item. */
  filter?: string
  /** Only items whose `createdAt` is at most this many days old. */
  newerThanDays?: number
  /** Multiplier in (0, 10]; > 1 promotes, < 1 demotes. */
  factor: number
  /** The rule stops applying after this time (epoch ms or ISO-8601). */
  until?: number | string
}

/** A pin: `itemId` is placed at `position` (1-based) of every list it may appear in. */
export interface PinRule {
  itemId: string
  position: number
  until?: number | string
}

/** The rules document of `PUT /v1/admin/rules`. */
export interface MerchandisingRules {
  boosts?: BoostRule[]
  pins?: PinRule[]
  /** Default for requests that do not say: at most this many items per category. */
  maxPerCategory?: number
  /** Default MMR knob in [0, 1] (0: off). */
  diversity?: number
}

/** A boost ready to evaluate. */
export interface CompiledBoost {
  node: FilterNode | undefined
  newerThanMs: number | undefined
  factor: number
  until: number
}

/** Validated, compiled rules. */
export interface CompiledRules {
  source: MerchandisingRules
  boosts: CompiledBoost[]
  pins: { itemId: string; position: number; until: number }[]
  maxPerCategory: number | undefined
  diversity: number
}

/** Limits of a rules document. */
export const RULE_LIMITS = {
  maxBoosts: 32,
  maxPins: 20,
  maxPosition: 100,
  maxFactor: 10,
  maxItemIdLength: 256,
} as const

function untilOf(value: unknown, field: string, errors: FieldError[]): number {
  if (value === undefined) return Number.POSITIVE_INFINITY
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : Number.NaN
  if (!Number.isFinite(ms))
    errors.push({ field, code: 'type', message: `${field} must be epoch ms or ISO-8601.` })
  return ms
}

/** Validates and compiles a rules document; never throws. */
export function compileRules(
  input: unknown,
): { ok: true; rules: CompiledRules } | { ok: false; errors: FieldError[] } {
  const errors: FieldError[] = []
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    return { ok: false, errors: [{ field: '', code: 'type', message: 'Rules must be a JSON object.' }] }
  const raw = input as Record<string, unknown>
  for (const key of Object.keys(raw)) {
    if (!['boosts', 'pins', 'maxPerCategory', 'diversity'].includes(key))
      errors.push({ field: key, code: 'unknown_field', message: `Unknown field "${key.slice(0, 64)}".` })
  }
  const boosts: CompiledBoost[] = []
  const rawBoosts = raw.boosts ?? []
  if (!Array.isArray(rawBoosts) || rawBoosts.length > RULE_LIMITS.maxBoosts) {
    errors.push({
      field: 'boosts',
      code: 'type',
      message: `boosts must be an array of at most ${RULE_LIMITS.maxBoosts}.`,
    })
  } else {
    rawBoosts.forEach((b: unknown, i) => {
      const field = `boosts.${i}`
      if (b === null || typeof b !== 'object') {
        errors.push({ field, code: 'type', message: `${field} must be an object.` })
        return
      }
      const boost = b as Record<string, unknown>
      const factor = boost.factor
      if (typeof factor !== 'number' || !(factor > 0 && factor <= RULE_LIMITS.maxFactor))
        errors.push({
          field: `${field}.factor`,
          code: 'range',
          message: `factor must be in (0, ${RULE_LIMITS.maxFactor}].`,
        })
      let node: FilterNode | undefined
      if (boost.filter !== undefined) {
        const parsed = typeof boost.filter === 'string' ? parseFilterExpression(boost.filter) : undefined
        if (parsed?.ok) node = parsed.node
        else
          errors.push({
            field: `${field}.filter`,
            code: 'pattern',
            message: parsed && !parsed.ok ? parsed.message : 'filter must be an expression string.',
          })
      }
      let newerThanMs: number | undefined
      if (boost.newerThanDays !== undefined) {
        if (typeof boost.newerThanDays !== 'number' || !(boost.newerThanDays > 0))
          errors.push({
            field: `${field}.newerThanDays`,
            code: 'range',
            message: 'newerThanDays must be > 0.',
          })
        else newerThanMs = boost.newerThanDays * 86_400_000
      }
      boosts.push({
        node,
        newerThanMs,
        factor: factor as number,
        until: untilOf(boost.until, `${field}.until`, errors),
      })
    })
  }
  const pins: CompiledRules['pins'] = []
  const rawPins = raw.pins ?? []
  if (!Array.isArray(rawPins) || rawPins.length > RULE_LIMITS.maxPins) {
    errors.push({
      field: 'pins',
      code: 'type',
      message: `pins must be an array of at most ${RULE_LIMITS.maxPins}.`,
    })
  } else {
    rawPins.forEach((p: unknown, i) => {
      const pin = (p ?? {}) as Record<string, unknown>
      const field = `pins.${i}`
      if (
        typeof pin.itemId !== 'string' ||
        pin.itemId.length === 0 ||
        pin.itemId.length > RULE_LIMITS.maxItemIdLength
      )
        errors.push({ field: `${field}.itemId`, code: 'required', message: 'itemId is required.' })
      const position = pin.position
      if (
        typeof position !== 'number' ||
        !Number.isInteger(position) ||
        position < 1 ||
        position > RULE_LIMITS.maxPosition
      )
        errors.push({
          field: `${field}.position`,
          code: 'range',
          message: `position must be an integer in 1..${RULE_LIMITS.maxPosition}.`,
        })
      pins.push({
        itemId: String(pin.itemId),
        position: position as number,
        until: untilOf(pin.until, `${field}.until`, errors),
      })
    })
  }
  const maxPerCategory = raw.maxPerCategory
  if (
    maxPerCategory !== undefined &&
    (typeof maxPerCategory !== 'number' || !Number.isInteger(maxPerCategory) || maxPerCategory < 1)
  )
    errors.push({ field: 'maxPerCategory', code: 'range', message: 'maxPerCategory must be an integer ≥ 1.' })
  const diversity = raw.diversity ?? 0
  if (typeof diversity !== 'number' || !(diversity >= 0 && diversity <= 1))
    errors.push({ field: 'diversity', code: 'range', message: 'diversity must be in [0, 1].' })
  if (errors.length > 0) return { ok: false, errors }
  return {
    ok: true,
    rules: {
      source: input as MerchandisingRules,
      boosts,
      pins: [...pins].sort((a, b) => a.position - b.position),
      maxPerCategory: maxPerCategory as number | undefined,
      diversity: diversity as number,
    },
  }
}

/** The product of the factors of every boost `item` matches at `now` (1 when none). */
export function boostFactor(boosts: readonly CompiledBoost[], item: ItemView, now: number): number {
  let factor = 1
  for (const b of boosts) {
    if (now > b.until) continue
    if (b.newerThanMs !== undefined && (item.createdAt === null || now - item.createdAt > b.newerThanMs))
      continue
    if (b.node && !matchesNode(b.node, item)) continue
    factor *= b.factor
  }
  return factor
}

/** A scored candidate. */
export interface Candidate {
  index: number
  score: number
}

/** How to rerank a pool. */
export interface RerankOptions {
  /** Boost multiplier of a candidate (1: none). A score s becomes s·f when s ≥ 0, s/f otherwise. */
  boost?: (index: number) => number
  /** Categories of a candidate (for `maxPerCategory`). */
  categories?: (index: number) => readonly string[]
  /** At most this many items per category; an item counts toward each of its categories. */
  maxPerCategory?: number
  /** MMR knob in [0, 1]; > 0 needs `similarity`. */
  diversity?: number
  /** Cosine similarity of two candidates' factors. */
  similarity?: (a: number, b: number) => number
}

/**
 * Reranks a pool of candidates (best first) into at most `k`:
 *
 * 1. boosts: s′ = s·f (s ≥ 0) or s/f (s < 0), then order by s′ (ties to the lower index);
 * 2. diversity > 0: maximal marginal relevance (Carbonell & Goldstein 1998) — pick
 *    argmax_i λ·r̂_i − (1 − λ)·max_{j ∈ S} sim(i, j) with λ = 1 − diversity and r̂ the boosted
 *    scores min-max scaled to [0, 1] over the pool;
 * 3. `maxPerCategory`: skip a candidate once any of its categories holds that many picks.
 *
 * Returns the picks with their boosted scores, and whether the pool ran out before `k` (the caller
 * may then retry with a larger pool).
 */
export function rerank(
  pool: readonly Candidate[],
  k: number,
  options: RerankOptions,
): { picks: Candidate[]; exhausted: boolean } {
  const boosted = pool.map(({ index, score }) => {
    const f = options.boost ? options.boost(index) : 1
    return { index, score: f === 1 ? score : score >= 0 ? score * f : score / f }
  })
  boosted.sort((a, b) => b.score - a.score || a.index - b.index)
  const cap = options.maxPerCategory
  const counts = new Map<string, number>()
  const allowed = (c: Candidate): boolean => {
    if (cap === undefined || !options.categories) return true
    for (const category of options.categories(c.index)) if ((counts.get(category) ?? 0) >= cap) return false
    return true
  }
  const take = (c: Candidate): void => {
    if (cap === undefined || !options.categories) return
    for (const category of options.categories(c.index)) counts.set(category, (counts.get(category) ?? 0) + 1)
  }
  const picks: Candidate[] = []
  const diversity = options.diversity ?? 0
  if (diversity > 0 && options.similarity && boosted.length > 0) {
    const lambda = 1 - diversity
    const hi = boosted[0]!.score
    const lo = boosted[boosted.length - 1]!.score
    const span = hi - lo > 0 ? hi - lo : 1
    const left = boosted.filter(allowed)
    const maxSim = new Float64Array(left.length).fill(Number.NEGATIVE_INFINITY)
    const used = new Uint8Array(left.length)
    while (picks.length < k) {
      let best = -1
      let bestValue = Number.NEGATIVE_INFINITY
      for (let i = 0; i < left.length; i++) {
        if (used[i] || !allowed(left[i]!)) continue
        const relevance = (left[i]!.score - lo) / span
        const value = lambda * relevance - (1 - lambda) * (picks.length === 0 ? 0 : maxSim[i]!)
        if (value > bestValue) {
          bestValue = value
          best = i
        }
      }
      if (best < 0) break
      used[best] = 1
      const chosen = left[best]!
      picks.push(chosen)
      take(chosen)
      for (let i = 0; i < left.length; i++) {
        if (used[i]) continue
        const s = options.similarity(left[i]!.index, chosen.index)
        if (s > maxSim[i]!) maxSim[i] = s
      }
    }
  } else {
    for (const c of boosted) {
      if (picks.length >= k) break
      if (!allowed(c)) continue
      picks.push(c)
      take(c)
    }
  }
  return { picks, exhausted: picks.length < k }
}
