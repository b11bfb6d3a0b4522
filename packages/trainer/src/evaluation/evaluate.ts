/**
 * Offline evaluation: split, train on the train part, rank every test user's unseen items and
 * report ALS float32, ALS int8 and popularity side by side (shared/REFERENCE.md protocol).
 *
 * @module
 */
import {
  blockFromQuantized,
  type IndexFilter,
  type MetricSet,
  quantizeRows,
  recommendTopK,
  TopK,
} from '@edgerec/core'
import type { AlsOptions } from '../als/options.js'
import { resolveAlsOptions } from '../als/options.js'
import { type AlsModel, allocateAlsMatrix, resolveThreads, trainAls } from '../als/train.js'
import type { CsrMatrix } from '../data/matrix.js'
import { itemCounts, rankItems } from '../popularity/index.js'
import {
  type ActivityBucket,
  activityBuckets,
  EVALUATION_KS,
  type ExtendedMetrics,
  extendedMetrics,
  normalizedRows,
} from './beyond.js'
import { restrictRows } from './fold-in.js'
import { rankingMetrics } from './metrics.js'
import { rankAll } from './rank.js'
import { type Split, type SplitKind, splitBy } from './split.js'

/** The user's train items as an exclusion filter, reusing one mask across users. */
class TrainMask implements IndexFilter {
  readonly #mask: Uint8Array
  readonly #train: CsrMatrix
  #user = -1

  constructor(train: CsrMatrix) {
    this.#train = train
    this.#mask = new Uint8Array(train.cols)
  }

  /** Switches the mask to `user`'s train items. */
  select(user: number): this {
    const t = this.#train
    if (this.#user >= 0) {
      for (let j = t.indptr[this.#user]!; j < t.indptr[this.#user + 1]!; j++) this.#mask[t.indices[j]!] = 0
    }
    for (let j = t.indptr[user]!; j < t.indptr[user + 1]!; j++) this.#mask[t.indices[j]!] = 1
    this.#user = user
    return this
  }

  has(index: number): boolean {
    return this.#mask[index] === 1
  }
}

function checkShapes(model: AlsModel, train: CsrMatrix, test: CsrMatrix): void {
  if (
    train.rows !== test.rows ||
    train.cols !== test.cols ||
    model.users !== train.rows ||
    model.items !== train.cols
  ) {
    throw new RangeError(
      `Model (${model.users} × ${model.items}), train (${train.rows} × ${train.cols}) and test ` +
        `(${test.rows} × ${test.cols}) must have the same shape. Split one matrix and train on its train part.`,
    )
  }
}

/**
 * Top-K by float32 factors (score = x_uᵀ y_i, train items excluded, ties to the lower index).
 */
export function recommendFloat32(
  model: AlsModel,
  user: number,
  k: number,
  exclude: IndexFilter,
): Uint32Array {
  const dims = model.factors
  const x = model.userFactors.subarray(user * dims, (user + 1) * dims)
  const y = model.itemFactors
  const top = new TopK(k)
  for (let i = 0; i < model.items; i++) {
    if (exclude.has(i)) continue
    const base = i * dims
    let s0 = 0
    let s1 = 0
    let d = 0
    for (; d + 2 <= dims; d += 2) {
      s0 += x[d]! * y[base + d]!
      s1 += x[d + 1]! * y[base + d + 1]!
    }
    if (d < dims) s0 += x[d]! * y[base + d]!
    // Rounded to float32 like the reference's scores, so equal float32 scores tie to the lower index.
    top.push(i, Math.fround(s0 + s1))
  }
  return top.result().indices
}

/**
 * Metrics of a trained model on `test`, as float32 factors and as int8 (both factor matrices
 * quantized per row; score = s_u · s_i · Σ q_u q_i, core's `recommendTopK`).
 */
export function evaluateModel(
  model: AlsModel,
  train: CsrMatrix,
  test: CsrMatrix,
  k: number,
): { als: MetricSet; als_int8: MetricSet } {
  checkShapes(model, train, test)
  const mask = new TrainMask(train)
  const als = rankingMetrics(test, k, (u) => recommendFloat32(model, u, k, mask.select(u)))
  const users = quantizeRows(model.userFactors, model.users, model.factors)
  const items = [blockFromQuantized(quantizeRows(model.itemFactors, model.items, model.factors))]
  const dims = model.factors
  const int8 = rankingMetrics(test, k, (u) => {
    const vector = { values: users.values.subarray(u * dims, (u + 1) * dims), scale: users.scales[u]! }
    return recommendTopK(vector, items, k, mask.select(u)).indices
  })
  return { als: withoutUsers(als), als_int8: withoutUsers(int8) }
}

/** Metrics of the popularity baseline: score(i) = train count of i, train items excluded. */
export function popularityMetrics(train: CsrMatrix, test: CsrMatrix, k: number): MetricSet {
  const order = rankItems(itemCounts(train))
  const mask = new TrainMask(train)
  const out = new Uint32Array(k)
  const metrics = rankingMetrics(test, k, (u) => {
    mask.select(u)
    let n = 0
    for (let j = 0; j < order.length && n < k; j++) if (!mask.has(order[j]!)) out[n++] = order[j]!
    return out.subarray(0, n)
  })
  return withoutUsers(metrics)
}

function withoutUsers(m: MetricSet & { users?: number }): MetricSet {
  return {
    precision: m.precision,
    recall: m.recall,
    map: m.map,
    ndcg: m.ndcg,
    auc: m.auc,
    coverage: m.coverage,
  }
}

/** Everything an evaluation reports (the JSON of `edgerec-train evaluate --json`). */
export interface EvaluationReport {
  /** ALS hyperparameters and evaluation settings used. */
  config: Record<string, unknown>
  k: number
  split: SplitKind
  testFraction: number
  /** Users with at least one test interaction (the ones averaged over). */
  users: number
  models: { als: MetricSet; als_int8: MetricSet; popularity: MetricSet }
  /** Every model at each K of {@link EVALUATION_KS} (and `k`), with MRR, novelty and diversity. */
  atK: Record<string, Record<EvaluatedModel, ExtendedMetrics>>
  /** Metrics @k per user-activity bucket (train interactions: cold ≤ 5 < light ≤ 20 < heavy). */
  buckets: Record<ActivityBucket, { users: number; models: Record<EvaluatedModel, MetricSet> }>
  /** Wall time of each step, seconds, and the ranking threads used. */
  timing: { train: number; rank: number; metrics: number; rankThreads: number }
}

/** The models an evaluation compares. */
export type EvaluatedModel = 'als' | 'als_int8' | 'popularity'

/** Options of {@link runEvaluation}. */
export interface EvaluationOptions {
  split: SplitKind
  testFraction: number
  k: number
  /** Seed of the random split and (unless `als.seed` is set) of the ALS initialisation. */
  seed: number
  als: Partial<AlsOptions>
  /**
   * Ranking threads (default: `als.threads`, 0 = all cores; small problems rank inline). The
   * metrics are identical for any value.
   */
  rankThreads?: number
  /** Progress of long steps (ranking): users done of total, about once a second. */
  onProgress?: (step: 'rank', done: number, total: number) => void
  /**
   * A model already trained on the train part of this split (e.g. by a Spark job): the evaluation
   * ranks it instead of splitting and training. The split must come from `splitBy` with the same
   * kind, test fraction and seed.
   */
  fitted?: { model: AlsModel; split: Split }
  /** Receives the model trained on the train part and the split (e.g. for the quality gate). */
  onModel?: (model: AlsModel, split: { train: CsrMatrix; test: CsrMatrix }) => void | Promise<void>
}

/**
 * Splits `data`, trains ALS on the train part only, and reports ALS float32, ALS int8 and
 * popularity metrics @K on the test part.
 *
 * @example
 * ```ts
 * const report = await runEvaluation(matrix, { split: 'temporal', testFraction: 0.2, k: 10, seed: 42, als: {} })
 * report.models.als.ndcg
 * ```
 */
export async function runEvaluation(data: CsrMatrix, options: EvaluationOptions): Promise<EvaluationReport> {
  if (!Number.isInteger(options.k) || options.k < 1) {
    throw new RangeError(`k must be a positive integer, got ${options.k}.`)
  }
  const als = resolveAlsOptions({ seed: options.seed, ...options.als })
  // The train part is written straight into the memory its ALS training uses (no copy of it there).
  const { train, test } =
    options.fitted?.split ??
    splitBy(data, options.split, options.testFraction, options.seed, {
      allocateTrain: (rows, cols, pairs) => allocateAlsMatrix(rows, cols, pairs, als),
    })
  const t0 = performance.now()
  const model = options.fitted?.model ?? (await trainAls(train, als))
  const t1 = performance.now()
  checkShapes(model, train, test)
  const selected = new Uint8Array(test.rows)
  for (let u = 0; u < test.rows; u++) if (test.indptr[u + 1]! > test.indptr[u]!) selected[u] = 1
  const ks = [...new Set([...EVALUATION_KS, options.k])].sort((a, b) => a - b)
  const maxK = ks[ks.length - 1]!
  // Worker start-up costs ~0.1–0.5 s: rank inline below 5·10⁷ multiply-adds (users × items × dims).
  const rankThreads =
    options.rankThreads ??
    (test.rows * test.cols * model.factors >= 5e7 ? resolveThreads(options.als.threads ?? als.threads) : 1)
  const ranked = await rankAll(model, train, selected, maxK, {
    threads: rankThreads,
    onProgress: (done, total) => options.onProgress?.('rank', done, total),
  })
  const t2 = performance.now()
  const order = rankItems(itemCounts(train))
  const popularMask = new TrainMask(train)
  const popularLists = (u: number): Uint32Array => {
    popularMask.select(u)
    const out = new Uint32Array(maxK)
    let n = 0
    for (let j = 0; j < order.length && n < maxK; j++) if (!popularMask.has(order[j]!)) out[n++] = order[j]!
    return out.subarray(0, n)
  }
  const popularCache = new Map<number, Uint32Array>()
  const lists: Record<EvaluatedModel, (u: number) => Uint32Array> = {
    als: ranked.float32,
    als_int8: ranked.int8,
    popularity: (u) => {
      let list = popularCache.get(u)
      if (!list) {
        list = popularLists(u)
        popularCache.set(u, list)
      }
      return list
    },
  }
  const context = {
    itemUsers: itemCounts(train),
    users: train.rows,
    itemFactors: model.itemFactors,
    dims: model.factors,
  }
  const unit = normalizedRows(model.itemFactors, model.items, model.factors)
  const atK: EvaluationReport['atK'] = {}
  for (const k of ks) {
    atK[k] = {
      als: extendedMetrics(test, k, lists.als, context, unit),
      als_int8: extendedMetrics(test, k, lists.als_int8, context, unit),
      popularity: extendedMetrics(test, k, lists.popularity, context, unit),
    }
  }
  const groups = activityBuckets(train)
  const buckets = {} as EvaluationReport['buckets']
  for (const bucket of ['cold', 'light', 'heavy'] as const) {
    const part = restrictRows(test, groups[bucket])
    let count = 0
    for (let u = 0; u < part.rows; u++) if (part.indptr[u + 1]! > part.indptr[u]!) count++
    const at = (name: EvaluatedModel): MetricSet =>
      withoutUsers(rankingMetrics(part, options.k, (u) => lists[name](u).subarray(0, options.k)))
    buckets[bucket] = {
      users: count,
      models: { als: at('als'), als_int8: at('als_int8'), popularity: at('popularity') },
    }
  }
  const t3 = performance.now()
  await options.onModel?.(model, { train, test })
  const main = atK[options.k]!
  const reference = (m: ExtendedMetrics): MetricSet => ({
    precision: m.precision,
    recall: m.recall,
    map: m.map,
    ndcg: m.ndcg,
    auc: m.auc,
    coverage: m.coverage,
  })
  let users = 0
  for (let u = 0; u < test.rows; u++) if (test.indptr[u + 1]! > test.indptr[u]!) users++
  const { onIteration: _progress, ...hyper } = als
  return {
    config: {
      ...hyper,
      split: options.split,
      testFraction: options.testFraction,
      k: options.k,
      seed: options.seed,
    },
    k: options.k,
    split: options.split,
    testFraction: options.testFraction,
    users,
    models: {
      als: reference(main.als),
      als_int8: reference(main.als_int8),
      popularity: reference(main.popularity),
    },
    atK,
    buckets,
    timing: { train: (t1 - t0) / 1000, rank: (t2 - t1) / 1000, metrics: (t3 - t2) / 1000, rankThreads },
  }
}
