/**
 * Offline evaluation, kept apart from training: temporal / random / leave-one-out splits, the
 * reference's ranking metrics @K (precision, recall, map, ndcg, auc) plus coverage, always next
 * to the popularity baseline.
 *
 * @example
 * ```ts
 * import { runEvaluation } from '@edgerec/trainer'
 * const report = await runEvaluation(matrix, { split: 'temporal', testFraction: 0.2, k: 10, seed: 42, als: {} })
 * ```
 * @module
 */
export type { EvaluationOptions, EvaluationReport } from './evaluate.js'
export { evaluateModel, popularityMetrics, recommendFloat32, runEvaluation } from './evaluate.js'
export type { FoldInEvaluation, FoldInEvaluationOptions } from './fold-in.js'
export { foldInMetrics, restrictRows } from './fold-in.js'
export type { RankingEvaluation, UserRankingScores } from './metrics.js'
export { rankingMetrics, scoreRanking } from './metrics.js'
export type { Split, SplitKind, SplitOptions } from './split.js'
export { partition, splitBy, splitLeaveOneOut, splitRandom, splitTemporal } from './split.js'
