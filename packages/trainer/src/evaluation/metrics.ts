/**
 * Ranking metrics at K, exactly as shared/REFERENCE.md (and the `implicit` library's
 * `ranking_metrics_at_k`) define them, plus catalog coverage.
 *
 * For a user with test set T_u and a ranked list of K items, h_r = 1 when the item at rank r
 * (0-based) is in T_u, H = Σ h_r and k_u = min(K, |T_u|):
 * - precision = Σ_u H / Σ_u k_u (micro-averaged, capped denominator)
 * - recall = mean_u H / |T_u|
 * - map = mean_u [ Σ_r h_r · (hits up to and including r) / (r + 1) ] / k_u
 * - ndcg = mean_u [ Σ_r h_r / log2(r + 2) ] / [ Σ_{j < k_u} 1 / log2(j + 2) ]
 * - auc = mean_u [ Σ_{r: miss} (hits before r) + ((H + |T_u|) / 2) · (n_neg − misses) ] / (|T_u| · n_neg),
 *   n_neg = n_items − |T_u|, misses = (list length) − H
 * - coverage = distinct items recommended to the evaluated users / n_items
 *
 * @module
 */
import type { MetricSet } from '@edgerec/core'
import type { CsrMatrix } from '../data/matrix.js'

/** Metrics and how many users they average over. */
export interface RankingEvaluation extends MetricSet {
  /** Users with at least one test item. */
  users: number
}

/** One user's contributions, before averaging. */
export interface UserRankingScores {
  hits: number
  /** k_u = min(K, |T_u|). */
  cappedRelevant: number
  recall: number
  ap: number
  ndcg: number
  auc: number
}

/**
 * Scores one ranked list against a user's relevant set.
 *
 * @param ranked - recommended item indexes, best first (at most K of them)
 * @param isRelevant - whether an item is in T_u
 * @param relevantCount - |T_u| (≥ 1)
 * @param items - n_items of the catalog
 */
export function scoreRanking(
  ranked: ArrayLike<number>,
  isRelevant: (item: number) => boolean,
  relevantCount: number,
  k: number,
  items: number,
): UserRankingScores {
  const length = Math.min(k, ranked.length)
  const capped = Math.min(k, relevantCount)
  let hits = 0
  let ap = 0
  let dcg = 0
  let aucSum = 0
  let misses = 0
  for (let r = 0; r < length; r++) {
    if (isRelevant(ranked[r]!)) {
      hits++
      ap += hits / (r + 1)
      dcg += 1 / Math.log2(r + 2)
    } else {
      aucSum += hits
      misses++
    }
  }
  let idcg = 0
  for (let j = 0; j < capped; j++) idcg += 1 / Math.log2(j + 2)
  const negatives = items - relevantCount
  aucSum += ((hits + relevantCount) / 2) * (negatives - misses)
  return {
    hits,
    cappedRelevant: capped,
    recall: hits / relevantCount,
    ap: ap / capped,
    ndcg: dcg / idcg,
    auc: negatives > 0 ? aucSum / (relevantCount * negatives) : 0,
  }
}

/**
 * Averages {@link scoreRanking} over every user with at least one test item.
 *
 * @param test - user × item test interactions (every stored pair is relevant)
 * @param recommend - the user's top-K list (train items already excluded), best first
 * @example
 * ```ts
 * const m = rankingMetrics(test, 10, (u) => topTenFor(u))
 * m.ndcg
 * ```
 */
export function rankingMetrics(
  test: CsrMatrix,
  k: number,
  recommend: (user: number) => ArrayLike<number>,
): RankingEvaluation {
  const relevant = new Uint8Array(test.cols)
  const recommended = new Uint8Array(test.cols)
  const isRelevant = (item: number): boolean => relevant[item] === 1
  let users = 0
  let hits = 0
  let capped = 0
  let recall = 0
  let map = 0
  let ndcg = 0
  let auc = 0
  for (let u = 0; u < test.rows; u++) {
    const start = test.indptr[u]!
    const end = test.indptr[u + 1]!
    if (start === end) continue
    for (let j = start; j < end; j++) relevant[test.indices[j]!] = 1
    const ranked = recommend(u)
    const s = scoreRanking(ranked, isRelevant, end - start, k, test.cols)
    for (let r = 0; r < Math.min(k, ranked.length); r++) recommended[ranked[r]!] = 1
    for (let j = start; j < end; j++) relevant[test.indices[j]!] = 0
    users++
    hits += s.hits
    capped += s.cappedRelevant
    recall += s.recall
    map += s.ap
    ndcg += s.ndcg
    auc += s.auc
  }
  let distinct = 0
  for (let i = 0; i < recommended.length; i++) distinct += recommended[i]!
  const mean = (x: number): number => (users > 0 ? x / users : 0)
  return {
    users,
    precision: capped > 0 ? hits / capped : 0,
    recall: mean(recall),
    map: mean(map),
    ndcg: mean(ndcg),
    auc: mean(auc),
    coverage: test.cols > 0 ? distinct / test.cols : 0,
  }
}
