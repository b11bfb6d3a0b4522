/**
 * Hyperparameter search for ALS (grid, seeded random without repeats, or successive halving) that
 * chooses by a ranking metric on a validation split carved from the data it is given: pass the
 * TRAIN part of your evaluation split, never the test part (`tune` has no other input, so it
 * cannot see test data). The base configuration is always the first trial, so the winner is never
 * worse than the base on validation. {@link adaptiveSpace} sizes the default space to the data.
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
import { type CsrMatrix, nnz } from '../data/matrix.js'
import { popularityMetrics, recommendFloat32 } from '../evaluation/evaluate.js'
import { rankingMetrics } from '../evaluation/metrics.js'
import { type SplitKind, splitBy } from '../evaluation/split.js'
import { transformMatrix, type ValueTransform } from '../weighting/transform.js'

/** The hyperparameters a search varies. */
export interface TunedParameters {
  factors: number
  regularization: number
  alpha: number
  iterations: number
  /** Value transform applied to the (untransformed) values before ALS; absent = `none`. */
  transform?: ValueTransform
}

/** A continuous (or integer) range for random search; `log` samples log-uniformly. */
export interface TuningRange {
  min: number
  max: number
  log?: boolean
  integer?: boolean
}

/** Values to try per hyperparameter; a missing one stays at the base ALS option. */
export type TuningSpace = {
  [K in Exclude<keyof TunedParameters, 'transform'>]?: number[] | TuningRange
} & {
  /** Value transforms to try (only when the data was loaded untransformed). */
  transform?: ValueTransform[]
}

/** How candidates are chosen and run. */
export type TuningStrategy = 'grid' | 'random' | 'halving'

/** The default strategy of `tune` and `--tune`: successive halving. */
export const DEFAULT_TUNING_STRATEGY: TuningStrategy = 'halving'

/**
 * Default number of candidates (the base included) for a strategy: 27 for `halving` (27 at 2
 * iterations, 9 at 5, 3 + the base at 15: about the ALS work of 10 full trials, with 2.7× the
 * candidates), 10 for `random` (and for `grid`, which ignores it).
 */
export function defaultTrials(strategy: TuningStrategy): number {
  return strategy === 'halving' ? 27 : 10
}

/** A metric to maximise. */
export type TuningMetric = 'ndcg' | 'map' | 'precision' | 'recall' | 'auc'

/** Options of {@link tune}. */
export interface TuningOptions {
  space: TuningSpace
  /**
   * `grid`: every combination; `random`: `trials` distinct seeded draws; `halving`: `trials`
   * distinct draws run by successive halving (all at a third of the iterations, the best third
   * again with more, …, the survivors at full iterations; the base always survives).
   */
  strategy: TuningStrategy
  /** Candidates including the base configuration (halving, random; default {@link defaultTrials}); grid tries every combination plus the base. */
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
  /** Successive-halving rung (0 = fewest iterations); absent for grid / random. */
  rung?: number
}

/** The search: the winner, its validation metrics and every trial. */
export interface TuningReport {
  metric: TuningMetric
  k: number
  strategy: TuningStrategy
  split: SplitKind
  validationFraction: number
  /** Users with at least one validation interaction. */
  validationUsers: number
  best: TunedParameters
  bestMetrics: MetricSet
  /** The base configuration (always trial 0) and its validation metrics. */
  base: TunedParameters
  baseMetrics: MetricSet
  /** Popularity on the same validation split, for scale. */
  popularity: MetricSet
  trials: TuningTrial[]
  /** ALS float32 metrics of the base and the tuned configuration on the held-out TEST split (set by the pipeline). */
  test?: { base: MetricSet; tuned: MetricSet }
}

const KEYS = ['factors', 'regularization', 'alpha', 'iterations'] as const

/** A stable identity of a candidate, for removing repeats. */
export function candidateKey(p: TunedParameters): string {
  return `${p.factors}|${p.regularization.toPrecision(3)}|${p.alpha.toPrecision(3)}|${p.iterations}|${p.transform ?? 'none'}`
}

/** `candidates` without repeats (first occurrence kept), the base first. */
function unique(base: TunedParameters, candidates: TunedParameters[]): TunedParameters[] {
  const seen = new Set<string>()
  const out: TunedParameters[] = []
  for (const c of [base, ...candidates]) {
    const key = candidateKey(c)
    if (!seen.has(key)) {
      seen.add(key)
      out.push(c)
    }
  }
  return out
}

/**
 * A search space sized to the data: factors up to about a quarter of the catalog (8 … 128; few
 * items → few factors); regularization λ log-uniform from 0.01 up to 10 on small or sparse
 * catalogs (more shrinkage where each item has few interactions), else 1, and at least half the
 * mean interactions per user (λ competes with the data term Σ c·y·yᵀ of a user's normal
 * equations, which grows with the user's interactions: on ml-latest-small, 165 per user, the
 * best λ are 5 … 20); α log-uniform from 0.25 to 40; and the value transforms `none` / `log1p` /
 * `binary` when the values are not all 1 and were loaded untransformed.
 */
export function adaptiveSpace(data: CsrMatrix, options: { transforms?: boolean } = {}): TuningSpace {
  const items = data.cols
  const perItem = items > 0 ? nnz(data) / items : 0
  const factors = [8, 16, 32, 64, 128].filter((f) => f <= Math.max(8, items / 4))
  const perUser = data.rows > 0 ? nnz(data) / data.rows : 0
  const maxRegularization = Math.max(
    items < 1000 || perItem < 10 ? 10 : 1,
    Number((perUser / 2).toPrecision(2)),
  )
  const space: TuningSpace = {
    factors,
    regularization: { min: 0.01, max: maxRegularization, log: true },
    alpha: { min: 0.25, max: 40, log: true },
  }
  let varied = false
  for (let j = 0; j < data.values.length && !varied; j++) varied = data.values[j] !== 1
  if (options.transforms !== false && varied) space.transform = ['none', 'log1p', 'binary']
  return space
}

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
  if (space.transform && space.transform.length > 0) {
    const transforms = space.transform
    out = out.flatMap((p) => transforms.map((transform) => ({ ...p, transform })))
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

/**
 * Up to `trials` distinct seeded draws from the space (lists: uniform choice; ranges:
 * (log-)uniform, rounded to 3 significant digits); fewer when the space has fewer points.
 */
export function randomCandidates(
  space: TuningSpace,
  base: TunedParameters,
  trials: number,
  seed: number,
): TunedParameters[] {
  const rng = createRng(seed)
  const seen = new Set<string>()
  const out: TunedParameters[] = []
  for (let attempt = 0; out.length < trials && attempt < trials * 50; attempt++) {
    const p = { ...base }
    for (const key of KEYS) {
      const spec = space[key]
      if (spec !== undefined) p[key] = sample(spec, rng)
    }
    if (space.transform && space.transform.length > 0)
      p.transform = space.transform[rng.int(space.transform.length)]!
    p.factors = Math.round(p.factors)
    p.iterations = Math.round(p.iterations)
    p.regularization = Number(p.regularization.toPrecision(3))
    p.alpha = Number(p.alpha.toPrecision(3))
    const key = candidateKey(p)
    if (seen.has(key)) continue
    seen.add(key)
    out.push(p)
  }
  return out
}

/**
 * Iteration budgets of the successive-halving rungs for `candidates` candidates and a full budget
 * of `iterations` (η = 3): `iterations · 3^(r − R)` for r = 0 … R, with R = ⌈log₃ candidates⌉ − 1
 * (so the last rung holds about 3 candidates), each at least 2 iterations, and a rung whose
 * budget equals the one below it dropped (it would rank the same models again). Ascending; the
 * last is always `iterations`.
 */
export function halvingBudgets(candidates: number, iterations: number): number[] {
  const rungs = Math.max(0, Math.ceil(Math.log(Math.max(1, candidates)) / Math.log(3) - 1e-9) - 1)
  const out: number[] = []
  for (let r = 0; r <= rungs; r++) {
    const budget = Math.min(iterations, Math.max(2, Math.round(iterations * 3 ** (r - rungs))))
    if (out.length === 0 || budget > out[out.length - 1]!) out.push(budget)
  }
  if (out[out.length - 1] !== iterations) out.push(iterations)
  return out
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
  const trials = options.trials ?? defaultTrials(options.strategy)
  if (!Number.isInteger(trials) || trials < 1)
    throw invalid(`trials must be a positive integer, got ${trials}.`)
  const drawn =
    options.strategy === 'grid'
      ? gridCandidates(options.space, base)
      : options.strategy === 'random' || options.strategy === 'halving'
        ? randomCandidates(options.space, base, trials, options.seed)
        : undefined
  if (!drawn)
    throw invalid(`Unknown strategy ${String(options.strategy)}. Use 'grid', 'random' or 'halving'.`)
  // The base is always trial 0; grid keeps every point, random / halving keep `trials` in all.
  const all = unique(base, drawn)
  const candidates = options.strategy === 'grid' ? all : all.slice(0, trials)
  for (const c of candidates) {
    const { transform: _t, ...als } = c
    resolveAlsOptions({ ...resolved, ...als })
  }

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
  const fits = new Map<string, CsrMatrix>()
  const fitFor = (transform: ValueTransform | undefined): CsrMatrix => {
    const key = transform ?? 'none'
    let m = fits.get(key)
    if (!m) {
      m = transformMatrix(fit, key)
      fits.set(key, m)
    }
    return m
  }
  const mask = new Uint8Array(fit.cols)
  const exclude = { has: (i: number): boolean => mask[i] === 1 }
  let counter = 0
  const runTrial = async (params: TunedParameters, rung?: number): Promise<TuningTrial> => {
    const index = counter++
    const started = performance.now()
    const { transform, ...als } = params
    const model = await trainAls(fitFor(transform), { ...resolved, ...als })
    const metrics = rankingMetrics(validation, options.k, (u) => {
      for (let j = fit.indptr[u]!; j < fit.indptr[u + 1]!; j++) mask[fit.indices[j]!] = 1
      const top = recommendFloat32(model, u, options.k, exclude)
      for (let j = fit.indptr[u]!; j < fit.indptr[u + 1]!; j++) mask[fit.indices[j]!] = 0
      return top
    })
    const { users: _users, ...metricSet } = metrics
    const trial: TuningTrial = {
      index,
      params,
      metrics: metricSet,
      seconds: (performance.now() - started) / 1000,
    }
    if (rung !== undefined) trial.rung = rung
    options.onTrial?.(trial)
    return trial
  }
  /** Runs `batch` with `parallel` lanes, results in batch order. */
  const runBatch = async (batch: TunedParameters[], rung?: number): Promise<TuningTrial[]> => {
    const out: TuningTrial[] = new Array(batch.length)
    let next = 0
    const lane = async (): Promise<void> => {
      while (next < batch.length) {
        const i = next++
        out[i] = await runTrial(batch[i]!, rung)
      }
    }
    await Promise.all(Array.from({ length: Math.min(parallel, batch.length) }, lane))
    return out
  }
  const metric = options.metric
  const better = (a: TuningTrial, b: TuningTrial): boolean => a.metrics[metric] > b.metrics[metric]
  let finals: TuningTrial[]
  const history: TuningTrial[] = []
  if (options.strategy === 'halving' && candidates.length > 2) {
    // Successive halving (η = 3): rung r trains with the r-th of the distinct iteration budgets
    // (see halvingBudgets), the best third moves up; the base always moves up, so it is always
    // measured at full iterations.
    const budgets = halvingBudgets(candidates.length, resolved.iterations)
    let alive = candidates
    for (let r = 0; r < budgets.length - 1; r++) {
      const scale = budgets[r]! / resolved.iterations
      const batch = alive.map((c) => ({ ...c, iterations: Math.max(2, Math.round(c.iterations * scale)) }))
      const results = await runBatch(batch, r)
      history.push(...results)
      const order = results
        .map((t, i) => ({ t, i }))
        .sort((x, y) => y.t.metrics[metric] - x.t.metrics[metric] || x.i - y.i)
      const keep = Math.max(1, Math.ceil(alive.length / 3))
      const chosen = new Set(order.slice(0, keep).map((o) => o.i))
      chosen.add(0) // the base (index 0) always survives and stays first
      alive = alive.filter((_, i) => chosen.has(i))
    }
    finals = await runBatch(alive, budgets.length - 1)
    history.push(...finals)
  } else {
    finals = await runBatch(candidates)
    history.push(...finals)
  }
  let best = finals[0]!
  for (const t of finals) if (better(t, best)) best = t
  return {
    metric,
    k: options.k,
    strategy: options.strategy,
    split: splitKind,
    validationFraction: options.validationFraction,
    validationUsers,
    best: best.params,
    bestMetrics: best.metrics,
    base: finals[0]!.params,
    baseMetrics: finals[0]!.metrics,
    popularity: popularityMetrics(fit, validation, options.k),
    trials: history,
  }
}
