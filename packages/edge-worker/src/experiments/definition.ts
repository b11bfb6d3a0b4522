/**
 * Experiment definitions: the types, and the validation of `POST /v1/admin/experiments` bodies.
 *
 * @module
 */
import { VERSION_PATTERN } from '@edgerec/core'
import type { ParamErrors } from '../params.js'

/** The surfaces an experiment can split (one running experiment per surface). */
export const SURFACES = ['recommendations', 'similar'] as const
/** A surface of {@link SURFACES}. */
export type Surface = (typeof SURFACES)[number]

/**
 * How a variant serves:
 * - `model`: the model (the live version, or `version`), with fold-in of fresh events;
 * - `model-no-fold-in`: the trained vectors only; users the model does not know get the fallback list;
 * - `popular`, `trending`: the model version's list, without the user's consumed items.
 */
export const STRATEGIES = ['model', 'model-no-fold-in', 'popular', 'trending'] as const
/** A strategy of {@link STRATEGIES}. */
export type Strategy = (typeof STRATEGIES)[number]

/** The strategies each surface can serve (`similar` has no user to fold in). */
export const SURFACE_STRATEGIES: Record<Surface, readonly Strategy[]> = {
  recommendations: STRATEGIES,
  similar: ['model', 'popular', 'trending'],
}

/** One arm of an experiment. */
export interface Variant {
  /** `[a-z0-9][a-z0-9_-]{0,31}`, unique in the experiment; the first variant is the control. */
  name: string
  /** Relative traffic weight, > 0 (the shares are weight / Σ weights). */
  weight: number
  strategy: Strategy
  /** A published model version to score with; absent: whatever version is live. */
  version?: string
}

/** Lifecycle: `draft` → `running` ⇄ `paused` → `stopped` (final). */
export type ExperimentStatus = 'draft' | 'running' | 'paused' | 'stopped'

/** A stored experiment. */
export interface Experiment {
  id: string
  name: string
  surface: Surface
  status: ExperimentStatus
  variants: Variant[]
  createdAt: number
  startedAt: number | null
  stoppedAt: number | null
  /** `ab`, or `canary` (variants `live` and `canary`, decided by `experiments/canary.ts`). */
  kind: 'ab' | 'canary'
  /** A canary's thresholds (`CanaryConfig`); null for `ab`. */
  config: Record<string, number> | null
  /** A canary's final decision; null until made. */
  outcome: Record<string, unknown> | null
}

/** The body of `POST /v1/admin/experiments`. */
export interface ExperimentInput {
  name: string
  surface: Surface
  variants: Variant[]
}

/** A variant's name. */
export const VARIANT_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/
/** Longest experiment name. */
export const MAX_EXPERIMENT_NAME_LENGTH = 128
/** Largest variant weight. */
export const MAX_VARIANT_WEIGHT = 1e6
/** Most variants of one experiment. */
export const MAX_VARIANTS = 8

/**
 * Checks the shape of a definition; the versions it names are checked against storage by the
 * route. Every problem is added to `errors` (field paths like `variants[1].weight`).
 */
export function parseExperimentInput(errors: ParamErrors, raw: unknown): ExperimentInput | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    errors.add('body', 'type', 'The body must be a JSON object { name, surface, variants }.')
    return null
  }
  const body = raw as Record<string, unknown>
  for (const key of Object.keys(body))
    if (!['name', 'surface', 'variants'].includes(key))
      errors.add(
        key,
        'unknown_field',
        `Unknown field "${key.slice(0, 32)}"; allowed: name, surface, variants.`,
      )
  const name = body.name
  if (typeof name !== 'string' || name.trim().length === 0 || name.length > MAX_EXPERIMENT_NAME_LENGTH)
    errors.add(
      'name',
      'required',
      `name must be a non-empty string of at most ${MAX_EXPERIMENT_NAME_LENGTH} characters.`,
    )
  const surface = body.surface
  if (!SURFACES.includes(surface as Surface))
    errors.add('surface', 'pattern', `surface must be one of ${SURFACES.join(', ')}.`)
  const variants: Variant[] = []
  if (!Array.isArray(body.variants) || body.variants.length < 2 || body.variants.length > MAX_VARIANTS) {
    errors.add('variants', 'range', `variants must be an array of 2 to ${MAX_VARIANTS} variants.`)
    return null
  }
  const names = new Set<string>()
  body.variants.forEach((item: unknown, i) => {
    const field = `variants[${i}]`
    if (typeof item !== 'object' || item === null) {
      errors.add(field, 'type', `${field} must be an object { name, weight, strategy, version? }.`)
      return
    }
    const v = item as Record<string, unknown>
    for (const key of Object.keys(v))
      if (!['name', 'weight', 'strategy', 'version'].includes(key))
        errors.add(
          `${field}.${key.slice(0, 32)}`,
          'unknown_field',
          'Allowed: name, weight, strategy, version.',
        )
    if (typeof v.name !== 'string' || !VARIANT_NAME_PATTERN.test(v.name))
      errors.add(`${field}.name`, 'pattern', 'name must match [a-z0-9][a-z0-9_-]{0,31}.')
    else if (names.has(v.name))
      errors.add(`${field}.name`, 'pattern', `Variant name "${v.name}" is repeated.`)
    else names.add(v.name)
    if (
      typeof v.weight !== 'number' ||
      !Number.isFinite(v.weight) ||
      v.weight <= 0 ||
      v.weight > MAX_VARIANT_WEIGHT
    )
      errors.add(
        `${field}.weight`,
        'range',
        `weight must be a number > 0 and ≤ ${MAX_VARIANT_WEIGHT} (shares are weight / sum).`,
      )
    const allowed = SURFACE_STRATEGIES[surface as Surface] ?? STRATEGIES
    if (!allowed.includes(v.strategy as Strategy))
      errors.add(
        `${field}.strategy`,
        'pattern',
        `strategy must be one of ${allowed.join(', ')} on this surface.`,
      )
    if (v.version !== undefined && (typeof v.version !== 'string' || !VERSION_PATTERN.test(v.version)))
      errors.add(`${field}.version`, 'pattern', 'version must match [A-Za-z0-9][A-Za-z0-9._-]{0,127}.')
    variants.push({
      name: String(v.name),
      weight: Number(v.weight),
      strategy: v.strategy as Strategy,
      ...(typeof v.version === 'string' ? { version: v.version } : {}),
    })
  })
  if (errors.errors.length > 0) return null
  return { name: (name as string).trim(), surface: surface as Surface, variants }
}
