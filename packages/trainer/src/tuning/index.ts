/**
 * Hyperparameter search for ALS (grid or seeded random) that chooses by a ranking metric on a
 * validation split carved from the data it is given: pass the TRAIN part of your evaluation
 * split, never the test part (`tune` has no other input, so it cannot see test data).
 *
 * @example
 * ```ts
 * const { train, test } = splitTemporal(matrix, 0.2)
 * const report = await tune(train, {
 *   space: { factors: [32, 64], regularization: [0.01, 0.05, 0.1], alpha: [1, 5] },
 *   strategy: 'grid', metric: 'ndcg', k: 10, validationFraction: 0.2, seed: 42,
 * })
 * const model = await trainAls(train, { ...report.best })
 * ```
 * @module
 */
import { CoreError, type MetricSet } from '@edgerec/core'
import { type AlsOptions, resolveAlsOptions } from '../als/options.js'
import { createRng, type Rng } from '../als/random.js'
import { resolveThreads, trainAls } from '../als/train.js'
import type { CsrMatrix } from '../data/matrix.js'
import { popularityMetrics, recommendFloat32 } from '../evaluation/evaluate.js'
import { rankingMetrics } from '../evaluation/metrics.js'
import { type SplitKind, splitBy } from '../evaluation/split.js'

/** The hyperparameters a search varies. */
export interface TunedParameters {
  factors: number
  regularization: number
  alpha: number
  iterations: number
}

/** A continuous (or integer) range for random search; `log` samples log-uniformly. */
export interface TuningRange {
  min: number
  max: number
  log?: boolean
  integer?: boolean
}

/** Values to try per hyperparameter; a missing one stays at the base ALS option. */
export type TuningSpace = { [K in keyof TunedParameters]?: number[] | TuningRange }

/** A metric to maximise. */
export type TuningMetric = 'ndcg' | 'map' | 'precision' | 'recall' | 'auc'

/** Options of {@link tune}. */
export interface TuningOptions {
  space: TuningSpace
  strategy: 'grid' | 'random'
  /** Number of random-search trials (default 10); grid search tries every combination. */
  trials?: number
  metric: TuningMetric
  k: number
  /** Share of each user's interactions held out for validation (split `split`). */
  validationFraction: number
  seed: number
  /** How the validation part is carved (default `temporal`). */
  split?: SplitKind
  /**
   * Trials run at once (default 1). Above 1 every trial runs single-threaded in its own worker
   * thread, so trials never start nested thread pools.
   */
  parallel?: number
  /** Fixed ALS options of every trial (threads, cgSteps, solver, seed, …). */
  als?: Partial<AlsOptions>
  /** Called when a trial finishes. */
  onTrial?: (trial: TuningTrial) => void
}

/** One evaluated configuration. */
export interface TuningTrial {
  index: number
  params: TunedParameters
  metrics: MetricSet
  seconds: number
}

/** The search: the winner, its validation metrics and every trial. */
export interface TuningReport {
  metric: TuningMetric
  k: number
  strategy: 'grid' | 'random'
  split: SplitKind
  validationFraction: number
  /** Users with at least one validation interaction. */
  validationUsers: number
  best: TunedParameters
  bestMetrics: MetricSet
  /** Popularity on the same validation split, for scale. */
  popularity: MetricSet
  trials: TuningTrial[]
}

const KEYS = ['factors', 'regularization', 'alpha', 'iterations'] as const

function invalid(message: string): CoreError {
  return new CoreError('INVALID_ARGUMENT', message)
}

/** Every combination of the listed values (grid search). */
export function gridCandidates(space: TuningSpace, base: TunedParameters): TunedParameters[] {
  let out: TunedParameters[] = [{ ...base }]
  for (const key of KEYS) {
    const values = space[key]
    if (values === undefined) continue
    if (!Array.isArray(values) || values.length === 0) {
      throw invalid(
        `Grid search needs a non-empty list of values for ${key}; ranges are for strategy 'random'.`,
      )
    }
    out = out.flatMap((p) => values.map((v) => ({ ...p, [key]: v })))
  }
  return out
}

function sample(spec: number[] | TuningRange, rng: Rng): number {
  if (Array.isArray(spec)) return spec[rng.int(spec.length)]!
  const u = rng.next()
  let v = spec.log
    ? Math.exp(Math.log(spec.min) + u * (Math.log(spec.max) - Math.log(spec.min)))
    : spec.min + u * (spec.max - spec.min)
  if (spec.integer) v = Math.min(spec.max, Math.round(v))
  return v
}

/** `trials` seeded random draws from the space (lists: uniform choice; ranges: (log-)uniform). */
export function randomCandidates(
  space: TuningSpace,
  base: TunedParameters,
  trials: number,
  seed: number,
): TunedParameters[] {
  const rng = createRng(seed)
  return Array.from({ length: trials }, () => {
    const p = { ...base }
    for (const key of KEYS) {
      const spec = space[key]
      if (spec !== undefined) p[key] = sample(spec, rng)
    }
    if (!Number.isInteger(p.factors)) p.factors = Math.round(p.factors)
    if (!Number.isInteger(p.iterations)) p.iterations = Math.round(p.iterations)
    return p
  })
}

/**
 * Searches ALS hyperparameters on a validation split of `train`.
 *
 * @param train - the training interactions only; the validation part is carved out of them
 * @throws CoreError `INVALID_ARGUMENT` on an empty or malformed search space
 */
export async function tune(train: CsrMatrix, options: TuningOptions): Promise<TuningReport> {
  const splitKind = options.split ?? 'temporal'
  const parallel = options.parallel ?? 1
  if (!Number.isInteger(parallel) || parallel < 1)
    throw invalid(`parallel must be a positive integer, got ${parallel}.`)
  const baseAls: Partial<AlsOptions> = { seed: options.seed, ...options.als }
  if (parallel > 1) {
    const requested = resolveThreads(baseAls.threads ?? 0)
    if (requested !== 1) {
      process.emitWarning(
        `edgerec tune: parallel = ${parallel} runs trials in their own threads; using threads = 1 per trial ` +
          `instead of ${requested} to avoid nested thread pools oversubscribing the CPU.`,
        { code: 'EDGEREC_NESTED_POOLS' },
      )
    }
    baseAls.threads = 1
    baseAls.offMainThread = true
  }
  const resolved = resolveAlsOptions(baseAls)
  const base: TunedParameters = {
    factors: resolved.factors,
    regularization: resolved.regularization,
    alpha: resolved.alpha,
    iterations: resolved.iterations,
  }
  const candidates =
    options.strategy === 'grid'
      ? gridCandidates(options.space, base)
      : options.strategy === 'random'
        ? randomCandidates(options.space, base, options.trials ?? 10, options.seed)
        : []
  if (candidates.length === 0)
    throw invalid(`Unknown strategy ${String(options.strategy)}. Use 'grid' or 'random'.`)
  for (const c of candidates) resolveAlsOptions({ ...resolved, ...c })

  const { train: fit, test: validation } = splitBy(train, splitKind, options.validationFraction, options.seed)
  let validationUsers = 0
  for (let u = 0; u < validation.rows; u++)
    if (validation.indptr[u + 1]! > validation.indptr[u]!) validationUsers++
  if (validationUsers === 0) {
    throw invalid(
      'The validation split is empty: no user has enough interactions for the validation fraction. ' +
        'Raise validationFraction or use split "leave-one-out".',
    )
  }
  const mask = new Uint8Array(fit.cols)
  const exclude = { has: (i: number): boolean => mask[i] === 1 }
  const runTrial = async (index: number): Promise<TuningTrial> => {
    const params = candidates[index]!
    const started = performance.now()
    const model = await trainAls(fit, { ...resolved, ...params })
    const metrics = rankingMetrics(validation, options.k, (u) => {
      for (let j = fit.indptr[u]!; j < fit.indptr[u + 1]!; j++) mask[fit.indices[j]!] = 1
      const top = recommendFloat32(model, u, options.k, exclude)
      for (let j = fit.indptr[u]!; j < fit.indptr[u + 1]!; j++) mask[fit.indices[j]!] = 0
      return top
    })
    const { users: _users, ...metricSet } = metrics
    const trial = { index, params, metrics: metricSet, seconds: (performance.now() - started) / 1000 }
    options.onTrial?.(trial)
    return trial
  }
  const trials: TuningTrial[] = new Array(candidates.length)
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < candidates.length) {
      const index = next++
      trials[index] = await runTrial(index)
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallel, candidates.length) }, lane))
  let best = trials[0]!
  for (const t of trials) if (t.metrics[options.metric] > best.metrics[options.metric]) best = t
  return {
    metric: options.metric,
    k: options.k,
    strategy: options.strategy,
    split: splitKind,
    validationFraction: options.validationFraction,
    validationUsers,
    best: best.params,
    bestMetrics: best.metrics,
    popularity: popularityMetrics(fit, validation, options.k),
    trials,
  }
}
