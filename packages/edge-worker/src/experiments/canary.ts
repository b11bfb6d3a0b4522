/**
 * Canary decisions: a new version serves a share of traffic as variant `canary` next to `live`;
 * once the canary has `minImpressions` impressions it is promoted when a one-sided non-inferiority
 * test says its CTR is not worse than live's by more than `margin`, and rolled back when it is
 * shown worse, when the guardrails (error rate, p99 latency) fail, or when `maxImpressions` pass
 * without a verdict.
 *
 * Test (Wald, unpooled; p̂ = lists with ≥ 1 attributed click / shown lists):
 *   d̂ = p̂_c − p̂_l,  se = √(p̂_c(1−p̂_c)/n_c + p̂_l(1−p̂_l)/n_l),  z = (d̂ + δ) / se
 *   H₀: p_c − p_l ≤ −δ (the canary is worse by δ or more)  vs  H₁: p_c − p_l > −δ.
 *   Promote when p = 1 − Φ(z) < α. Roll back when z < −z₁₋α, i.e. the one-sided (1−α) upper
 *   bound of d̂ is below −δ (the canary is worse by more than δ with confidence 1−α).
 *
 * @module
 */
import type { ParamErrors } from '../params.js'
import { normalCdf, Z_95 } from './stats.js'

/** Thresholds of a canary. */
export interface CanaryConfig {
  /** Share of people served by the canary, (0, 0.5]. */
  share: number
  /** Canary impressions before any CTR decision. */
  minImpressions: number
  /** Canary impressions after which an undecided canary is rolled back. */
  maxImpressions: number
  /** Non-inferiority margin δ, absolute CTR (0.01 = one percentage point). */
  margin: number
  /** One-sided significance level α. */
  alpha: number
  /** Guardrail: canary 5xx rate may exceed live's by at most this (absolute). */
  maxErrorRateIncrease: number
  /** Guardrail: canary p99 latency may be at most this multiple of live's. */
  maxLatencyRatio: number
}

/** Defaults of {@link CanaryConfig}. */
export const CANARY_DEFAULTS: CanaryConfig = {
  share: 0.1,
  minImpressions: 1000,
  maxImpressions: 20_000,
  margin: 0.01,
  alpha: 0.05,
  maxErrorRateIncrease: 0.01,
  maxLatencyRatio: 1.5,
}

/** Bounds `[min, max]` (inclusive) of each threshold of a canary body. */
export const CANARY_BOUNDS: Readonly<Record<keyof CanaryConfig, readonly [min: number, max: number]>> = {
  share: [0.001, 0.5],
  minImpressions: [10, 1e9],
  maxImpressions: [10, 1e9],
  margin: [0, 0.5],
  alpha: [0.0001, 0.5],
  maxErrorRateIncrease: [0, 1],
  maxLatencyRatio: [1, 100],
}

/** The thresholds that count impressions: whole numbers. */
export const CANARY_INTEGER_FIELDS: readonly (keyof CanaryConfig)[] = ['minImpressions', 'maxImpressions']

/** The fields of a canary body, in {@link CANARY_BOUNDS} order. */
export const CANARY_FIELDS = Object.keys(CANARY_BOUNDS) as (keyof CanaryConfig)[]

/**
 * Checks the body of `POST /v1/admin/models/:version/canary`: a JSON object of optional thresholds
 * (`undefined`, an empty body, means all defaults), each a number within {@link CANARY_BOUNDS}
 * (impression counts whole). Every problem is added to `errors`. Returns the thresholds with the
 * defaults filled in, or null. One check spans two fields and is left to the route, like the
 * experiment definition's cross-field checks: `maxImpressions ≥ minImpressions`.
 */
export function parseCanaryInput(errors: ParamErrors, raw: unknown): CanaryConfig | null {
  if (raw === undefined) return { ...CANARY_DEFAULTS }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    errors.add(
      'body',
      'type',
      `The body must be a JSON object of thresholds (${CANARY_FIELDS.join(', ')}) or empty.`,
    )
    return null
  }
  const before = errors.errors.length
  const config: CanaryConfig = { ...CANARY_DEFAULTS }
  for (const [key, value] of Object.entries(raw)) {
    const bounds = CANARY_BOUNDS[key as keyof CanaryConfig] as readonly [number, number] | undefined
    if (!bounds)
      errors.add(
        key.slice(0, 32),
        'unknown_field',
        `Unknown threshold; allowed: ${CANARY_FIELDS.join(', ')}.`,
      )
    else if (typeof value !== 'number' || !(value >= bounds[0] && value <= bounds[1]))
      errors.add(key, 'range', `${key} must be a number from ${bounds[0]} to ${bounds[1]}.`)
    else if (CANARY_INTEGER_FIELDS.includes(key as keyof CanaryConfig) && !Number.isInteger(value))
      errors.add(key, 'type', `${key} counts impressions: a whole number from ${bounds[0]} to ${bounds[1]}.`)
    else config[key as keyof CanaryConfig] = value
  }
  return errors.errors.length > before ? null : config
}

/** Impressions and clicked impressions of one arm. */
export interface ArmCounts {
  impressions: number
  clicked: number
}

/** Runtime figures of one arm (from the runtime metrics). */
export interface ArmRuntime {
  requests: number
  errors: number
  p99: number
}

/** A canary verdict. */
export interface CanaryDecision {
  action: 'wait' | 'promote' | 'rollback'
  reason: string
  test: 'one-sided non-inferiority z-test (Wald, unpooled)'
  /** d̂ = p̂_canary − p̂_live. */
  difference: number
  z: number | null
  pValue: number | null
  live: ArmCounts
  canary: ArmCounts
}

/** Φ⁻¹(1 − α) by bisection on {@link normalCdf} (α in (0, 0.5)). */
export function zOneSided(alpha: number): number {
  if (Math.abs(alpha - 0.025) < 1e-12) return Z_95
  let lo = 0
  let hi = 10
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2
    if (normalCdf(mid) < 1 - alpha) lo = mid
    else hi = mid
  }
  return (lo + hi) / 2
}

/** Decides a canary from counts and (optional) runtime figures. Pure. */
export function decideCanary(
  live: ArmCounts,
  canary: ArmCounts,
  config: CanaryConfig,
  runtime?: { live: ArmRuntime; canary: ArmRuntime },
): CanaryDecision {
  const test = 'one-sided non-inferiority z-test (Wald, unpooled)' as const
  const pl = live.impressions > 0 ? live.clicked / live.impressions : 0
  const pc = canary.impressions > 0 ? canary.clicked / canary.impressions : 0
  const base = { test, difference: pc - pl, live, canary }
  if (runtime && runtime.canary.requests > 0) {
    const rate = (r: ArmRuntime) => (r.requests > 0 ? r.errors / r.requests : 0)
    if (rate(runtime.canary) > rate(runtime.live) + config.maxErrorRateIncrease)
      return {
        ...base,
        action: 'rollback',
        reason: `guardrail: canary error rate ${rate(runtime.canary).toFixed(4)} exceeds live ${rate(runtime.live).toFixed(4)} + ${config.maxErrorRateIncrease}`,
        z: null,
        pValue: null,
      }
    if (runtime.live.p99 > 0 && runtime.canary.p99 > runtime.live.p99 * config.maxLatencyRatio)
      return {
        ...base,
        action: 'rollback',
        reason: `guardrail: canary p99 ${runtime.canary.p99.toFixed(1)} ms exceeds ${config.maxLatencyRatio} × live p99 ${runtime.live.p99.toFixed(1)} ms`,
        z: null,
        pValue: null,
      }
  }
  if (canary.impressions < config.minImpressions || live.impressions === 0)
    return {
      ...base,
      action: 'wait',
      reason: `${canary.impressions} of ${config.minImpressions} canary impressions`,
      z: null,
      pValue: null,
    }
  const se = Math.sqrt((pc * (1 - pc)) / canary.impressions + (pl * (1 - pl)) / live.impressions)
  // NOTE: no variance at all (both CTRs 0 or 1): the observed difference is the whole story.
  if (!(se > 0)) {
    const ok = pc - pl > -config.margin
    return {
      ...base,
      action: ok ? 'promote' : 'rollback',
      reason: ok
        ? 'no variance; observed difference within the margin'
        : 'no variance; observed difference beyond the margin',
      z: null,
      pValue: null,
    }
  }
  const z = (pc - pl + config.margin) / se
  const pValue = 1 - normalCdf(z)
  if (pValue < config.alpha)
    return {
      ...base,
      action: 'promote',
      reason: `non-inferior: p = ${pValue.toPrecision(3)} < α = ${config.alpha}`,
      z,
      pValue,
    }
  if (z < -zOneSided(config.alpha))
    return {
      ...base,
      action: 'rollback',
      reason: `worse than live by more than the margin ${config.margin}`,
      z,
      pValue,
    }
  if (canary.impressions >= config.maxImpressions)
    return {
      ...base,
      action: 'rollback',
      reason: `no verdict after ${config.maxImpressions} canary impressions`,
      z,
      pValue,
    }
  return { ...base, action: 'wait', reason: `undecided: p = ${pValue.toPrecision(3)}`, z, pValue }
}
