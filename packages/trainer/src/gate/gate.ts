/**
 * The quality gate: a version may go live only when it beats popularity on the held-out split by
 * a margin and is not worse than the live version on the same newest test interactions.
 *
 * The live comparison is served the way the worker serves: every compared user is folded in from
 * the split's train part, x_u = (G + Σ_i (c_ui − 1) y_i y_iᵀ)⁻¹ Σ_i c_ui y_i (Hu, Koren & Volinsky
 * 2008, eq. 4), with each model's own int8 items Ŷ, its G = ŶᵀŶ + λI and its α, and ranked by
 * int8 scores with the user's train items excluded. Only test pairs the live version never
 * trained on count (its user shards list what it trained on: a pair seen before, even if its
 * newest event is recent, would leak into the live model's item factors); when too few users have
 * such pairs the whole test split is used, which can only favour the live version.
 *
 * @module
 */
import {
  blockFromQuantized,
  dequantizeRows,
  foldInUser,
  type ItemBlock,
  itemReaderFromBlocks,
  type MetricSet,
  type ModelGate,
  type ModelGateLive,
  quantizeRows,
  recommendTopK,
  type WeightedInteraction,
} from '@edgerec/core'
import type { AlsModel } from '../als/train.js'
import { gramMatrix } from '../als/train.js'
import type { CsrMatrix } from '../data/matrix.js'
import { rankingMetrics, scoreRanking } from '../evaluation/metrics.js'
import { itemCounts, rankItems } from '../popularity/index.js'
import type { LiveModel } from './live.js'

/** The metric the gate compares. */
export type GateMetric = keyof Omit<MetricSet, 'coverage'>

/** Quality gate settings (`gate` in `edgerec.config.ts`). */
export interface GateConfig {
  /** Default true. A disabled gate records nothing and lets every version through. */
  enabled?: boolean
  /** Default `ndcg`. */
  metric?: GateMetric
  /** Required relative lift over popularity: ALS int8 ≥ popularity · (1 + lift). Default 0.05. */
  minLiftOverPopularity?: number
  /** Allowed relative drop against the live version: candidate ≥ live · (1 − drop). Default 0.02. */
  maxDropVsLive?: number
  /** Users compared with the live version at most (evenly sampled). Default 5000. */
  maxUsers?: number
  /** Fewest users with test pairs unseen by the live version before the whole test split is used. Default 20. */
  minUnseenUsers?: number
}

/** Gate defaults. */
export const GATE_DEFAULTS = {
  enabled: true,
  metric: 'ndcg',
  minLiftOverPopularity: 0.05,
  maxDropVsLive: 0.02,
  maxUsers: 5000,
  minUnseenUsers: 20,
} as const satisfies Required<GateConfig>

/** What to try when the gate fails (printed with the error). */
export const GATE_HINT =
  'Try a value transform (--binary, or a log/clip transform of the values), fewer factors (e.g. --factors 16), ' +
  'more regularization (e.g. --regularization 1), --tune, or --force to accept the version anyway.'

/** A ranking model served by fold-in: int8 item blocks, their Gram matrix and α. */
interface ServedModel {
  blocks: ItemBlock[]
  gram: ArrayLike<number>
  dims: number
  alpha: number
  /** Model item index of the data's item `i`, or -1 when the model does not know it. */
  toModel(item: number): number
  /** The data's item index of model item `m`, or -1. */
  fromModel(item: number): number
}

/** The candidate (trained on the split's train part) as the worker would serve it. */
export function servedCandidate(model: AlsModel, regularization: number, alpha: number): ServedModel {
  const dims = model.factors
  const q = quantizeRows(model.itemFactors, model.items, dims)
  return {
    blocks: [blockFromQuantized(q)],
    gram: gramMatrix(dequantizeRows(q), model.items, dims, regularization),
    dims,
    alpha,
    toModel: (i) => i,
    fromModel: (m) => m,
  }
}

/** The live version mapped onto the data's item indexes by raw item id. */
export function servedLive(live: LiveModel, itemIds: readonly string[]): ServedModel {
  const toModel = new Int32Array(itemIds.length)
  const fromModel = new Int32Array(live.manifest.counts.items).fill(-1)
  for (let i = 0; i < itemIds.length; i++) {
    const m = live.itemIndex(itemIds[i]!)
    toModel[i] = m
    if (m >= 0) fromModel[m] = i
  }
  return {
    blocks: live.blocks,
    gram: live.gram,
    dims: live.dims,
    alpha: live.manifest.als.alpha,
    toModel: (i) => toModel[i]!,
    fromModel: (m) => fromModel[m]!,
  }
}

/**
 * Metrics @K of a model served by fold-in for the users with test items: each user is folded in
 * from their `train` row (items the model does not know are skipped) and ranked by int8 score,
 * train items excluded. Items the model ranks that the data lacks count as misses. A user with no
 * item the model knows gets the train part's popularity list (the worker's fallback).
 */
export function servedMetrics(
  served: ServedModel,
  train: CsrMatrix,
  test: CsrMatrix,
  k: number,
  onList?: (user: number, ranked: readonly number[]) => void,
): MetricSet {
  const modelItems = served.blocks.reduce((n, b) => Math.max(n, b.rowOffset + b.rowCount), 0)
  const mask = new Uint8Array(modelItems)
  const exclude = { has: (m: number): boolean => mask[m] === 1 }
  const read = itemReaderFromBlocks(served.blocks)
  const popular = rankItems(itemCounts(train))
  const trainMask = new Uint8Array(train.cols)
  const m = rankingMetrics(test, k, (u) => {
    const start = train.indptr[u]!
    const end = train.indptr[u + 1]!
    const interactions: WeightedInteraction[] = []
    for (let j = start; j < end; j++) {
      const index = served.toModel(train.indices[j]!)
      if (index < 0) continue
      mask[index] = 1
      interactions.push({ index, confidence: served.alpha * train.values[j]! })
    }
    let out: number[]
    if (interactions.length === 0) {
      for (let j = start; j < end; j++) trainMask[train.indices[j]!] = 1
      out = []
      for (let r = 0; r < popular.length && out.length < k; r++)
        if (trainMask[popular[r]!] !== 1) out.push(popular[r]!)
      for (let j = start; j < end; j++) trainMask[train.indices[j]!] = 0
    } else {
      const { vector } = foldInUser(served.gram, served.dims, interactions, read)
      const top = recommendTopK(vector, served.blocks, k, exclude).indices
      // An item the data lacks can never be relevant: index `test.cols` is outside every mask, so
      // rankingMetrics counts it as a miss (and not in coverage).
      out = Array.from(top, (index) => {
        const i = served.fromModel(index)
        return i < 0 ? test.cols : i
      })
    }
    for (const { index } of interactions) mask[index] = 0
    onList?.(u, out)
    return out
  })
  return {
    precision: m.precision,
    recall: m.recall,
    map: m.map,
    ndcg: m.ndcg,
    auc: m.auc,
    coverage: m.coverage,
  }
}

/** `test` keeping only the entries `accept(user, entry)` accepts. */
function selectTest(test: CsrMatrix, accept: (user: number, entry: number) => boolean): CsrMatrix {
  const indptr = new Uint32Array(test.rows + 1)
  const keep: number[] = []
  for (let u = 0; u < test.rows; u++) {
    for (let j = test.indptr[u]!; j < test.indptr[u + 1]!; j++) if (accept(u, j)) keep.push(j)
    indptr[u + 1] = keep.length
  }
  return {
    rows: test.rows,
    cols: test.cols,
    indptr,
    indices: Uint32Array.from(keep, (j) => test.indices[j]!),
    values: Float32Array.from(keep, (j) => test.values[j]!),
    timestamps: Float64Array.from(keep, (j) => test.timestamps[j]!),
  }
}

function usersWithRows(m: CsrMatrix): number[] {
  const out: number[] = []
  for (let u = 0; u < m.rows; u++) if (m.indptr[u + 1]! > m.indptr[u]!) out.push(u)
  return out
}

/** Inputs of {@link compareWithLive}. */
export interface LiveComparisonInput {
  live: LiveModel
  /** The candidate trained on `train` (the evaluation's model). */
  candidate: AlsModel
  regularization: number
  alpha: number
  train: CsrMatrix
  test: CsrMatrix
  /** Raw item id of each column of `train` / `test`. */
  itemIds: readonly string[]
  /** Raw user id of each row. */
  userIds: readonly string[]
  k: number
}

/**
 * Candidate vs live version on the same users and test interactions, both served by fold-in.
 *
 * @example
 * ```ts
 * const result = compareWithLive({ live, candidate, regularization: 0.05, alpha: 1, train, test, itemIds, k: 10 }, {})
 * result.candidate.ndcg >= result.live.ndcg
 * ```
 */
export function compareWithLive(input: LiveComparisonInput, config: GateConfig = {}): LiveComparison {
  const maxUsers = config.maxUsers ?? GATE_DEFAULTS.maxUsers
  const minUnseen = config.minUnseenUsers ?? GATE_DEFAULTS.minUnseenUsers
  const { live, itemIds, userIds } = input
  let testInteractions: 'unseen' | 'all' = 'unseen'
  let test = selectTest(input.test, (u, j) => {
    const item = live.itemIndex(itemIds[input.test.indices[j]!]!)
    return item < 0 || !live.trainedOn(userIds[u]!, item)
  })
  let users = usersWithRows(test)
  if (users.length < minUnseen) {
    testInteractions = 'all'
    test = input.test
    users = usersWithRows(test)
  }
  if (users.length > maxUsers) {
    // Evenly spaced users: deterministic and spread over the whole index range.
    const chosen = new Uint8Array(test.rows)
    for (let n = 0; n < maxUsers; n++) chosen[users[Math.floor((n * users.length) / maxUsers)]!] = 1
    test = selectTest(test, (u) => chosen[u] === 1)
    users = usersWithRows(test)
  }
  const metric = config.metric ?? GATE_DEFAULTS.metric
  // Per-user values of the gate metric, for the paired noise estimate.
  const perUser = (lists: Map<number, readonly number[]>): Float64Array => {
    const relevant = new Uint8Array(test.cols + 1)
    const out = new Float64Array(users.length)
    users.forEach((u, n) => {
      const start = test.indptr[u]!
      const end = test.indptr[u + 1]!
      for (let j = start; j < end; j++) relevant[test.indices[j]!] = 1
      const s = scoreRanking(lists.get(u) ?? [], (i) => relevant[i] === 1, end - start, input.k, test.cols)
      out[n] = metric === 'map' ? s.ap : metric === 'precision' ? s.hits / s.cappedRelevant : s[metric]
      for (let j = start; j < end; j++) relevant[test.indices[j]!] = 0
    })
    return out
  }
  const candidateLists = new Map<number, readonly number[]>()
  const liveLists = new Map<number, readonly number[]>()
  const candidate = servedMetrics(
    servedCandidate(input.candidate, input.regularization, input.alpha),
    input.train,
    test,
    input.k,
    (u, list) => candidateLists.set(u, list),
  )
  const liveMetrics = servedMetrics(
    servedLive(input.live, input.itemIds),
    input.train,
    test,
    input.k,
    (u, list) => liveLists.set(u, list),
  )
  return {
    candidate,
    live: liveMetrics,
    users: users.length,
    testInteractions,
    perUser: { candidate: perUser(candidateLists), live: perUser(liveLists) },
  }
}

/** Candidate vs live version on the same users (see {@link compareWithLive}). */
export interface LiveComparison {
  candidate: MetricSet
  live: MetricSet
  users: number
  testInteractions: 'unseen' | 'all'
  /** The gate metric of each compared user, same order for both models. */
  perUser?: { candidate: Float64Array; live: Float64Array }
}

/** Inputs of {@link decideGate}. */
export interface GateInput {
  k: number
  /** Held-out metrics of the candidate (int8, as served) and popularity. */
  candidate: MetricSet
  popularity: MetricSet
  /** The live comparison, when a version is live. */
  live?: LiveComparison & { version: string }
  /** Accept a failing version anyway (recorded as `forced`). */
  force?: boolean
}

const f4 = (x: number): string => x.toFixed(4)

/** sd(d) / √n of d_u = candidate_u − factor · live_u; 0 without per-user values. */
function pairedStandardError(perUser: LiveComparison['perUser'], factor: number): number {
  if (!perUser || perUser.candidate.length < 2) return 0
  const n = perUser.candidate.length
  let mean = 0
  for (let u = 0; u < n; u++) mean += perUser.candidate[u]! - factor * perUser.live[u]!
  mean /= n
  let squares = 0
  for (let u = 0; u < n; u++) squares += (perUser.candidate[u]! - factor * perUser.live[u]! - mean) ** 2
  return Math.sqrt(squares / (n - 1) / n)
}

/**
 * The verdict: passes when candidate ≥ popularity · (1 + lift) and candidate > popularity, and
 * (with a live version) candidate ≥ live · (1 − drop) on the compared users — or the shortfall is
 * within noise: with d_u = m_u(candidate) − (1 − drop) · m_u(live) per user, the gate fails only
 * when mean(d) < −1.96 · sd(d) / √n (a one-sided paired test at 97.5 %).
 */
export function decideGate(input: GateInput, config: GateConfig = {}): ModelGate {
  const metric = config.metric ?? GATE_DEFAULTS.metric
  const lift = config.minLiftOverPopularity ?? GATE_DEFAULTS.minLiftOverPopularity
  const drop = config.maxDropVsLive ?? GATE_DEFAULTS.maxDropVsLive
  const c = input.candidate[metric]
  const p = input.popularity[metric]
  const reasons: string[] = []
  const needed = p * (1 + lift)
  if (!(c >= needed && c > p)) {
    reasons.push(
      `ALS ${metric}@${input.k} ${f4(c)} does not beat popularity ${f4(p)} by the required ${(lift * 100).toFixed(1)}% (needs ≥ ${f4(needed)})`,
    )
  }
  let live: ModelGateLive | undefined
  if (input.live) {
    const lc = input.live.candidate[metric]
    const ll = input.live.live[metric]
    const standardError = pairedStandardError(input.live.perUser, 1 - drop)
    live = {
      version: input.live.version,
      candidate: lc,
      live: ll,
      users: input.live.users,
      testInteractions: input.live.testInteractions,
      maxDropVsLive: drop,
      standardError,
    }
    if (lc - ll * (1 - drop) < -1.96 * standardError) {
      reasons.push(
        `it is worse than the live version ${input.live.version}: ${metric}@${input.k} ${f4(lc)} vs ${f4(ll)} on ${input.live.users} users served by fold-in (allowed drop ${(drop * 100).toFixed(1)}% plus noise, standard error ${f4(standardError)})`,
      )
    }
  }
  const gate: ModelGate = {
    passed: reasons.length === 0,
    metric,
    k: input.k,
    candidate: c,
    popularity: p,
    minLiftOverPopularity: lift,
    reasons,
  }
  if (live) gate.live = live
  if (!gate.passed && input.force) gate.forced = true
  return gate
}
