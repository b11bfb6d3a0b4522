/**
 * Tuning inside the pipelines of `train` and `evaluate --tune`: search on a validation split
 * carved from the evaluation's train part, then report the base and the tuned configuration on
 * the held-out test split, side by side.
 *
 * @module
 */
import type { MetricSet } from '@edgerec/core'
import { type AlsOptions, resolveAlsOptions } from '../als/options.js'
import { resolveThreads } from '../als/train.js'
import type { TuningConfig } from '../config/config.js'
import type { CsrMatrix } from '../data/matrix.js'
import { type SplitKind, splitBy } from '../evaluation/split.js'
import { transformMatrix, type ValueTransform } from '../weighting/transform.js'
import { adaptiveSpace, DEFAULT_TUNING_STRATEGY, defaultTrials, type TuningReport, tune } from './index.js'

/** The search's outcome as the pipeline uses it. */
export interface PipelineTuning {
  report: TuningReport
  /** ALS options of the winner (the base's when it won). */
  als: AlsOptions
  /** The data with the winner's value transform applied. */
  data: CsrMatrix
  /** True when the winner is not the base configuration. */
  changed: boolean
}

/** Where the pipeline logs. */
interface Log {
  info(message: string): void
}

/**
 * Tunes on the train part of the evaluation split of `data`.
 *
 * @param loadedTransform - the transform the data was loaded with; transforms are searched only
 *   when it is `none` (the values are then the raw summed weights)
 */
export async function tuneInPipeline(
  data: CsrMatrix,
  config: TuningConfig,
  als: AlsOptions,
  evaluation: { split: SplitKind; testFraction: number; k: number },
  loadedTransform: ValueTransform,
  logger: Log,
): Promise<PipelineTuning> {
  const { train: trainPart } = splitBy(data, evaluation.split, evaluation.testFraction, als.seed)
  const strategy = config.strategy ?? DEFAULT_TUNING_STRATEGY
  const trials = config.trials ?? defaultTrials(strategy)
  const parallel = config.parallel ?? Math.max(1, Math.min(resolveThreads(als.threads), trials))
  const space = config.space ?? adaptiveSpace(trainPart, { transforms: loadedTransform === 'none' })
  const metric = config.metric ?? 'ndcg'
  logger.info(
    `Tuning (${strategy}, ${trials} candidates including the base, ${parallel} at a time) on a validation split carved from the train split; space ${JSON.stringify(space)}…`,
  )
  const started = performance.now()
  const report = await tune(trainPart, {
    space,
    strategy,
    trials,
    metric,
    k: evaluation.k,
    validationFraction: config.validationFraction ?? 0.2,
    seed: als.seed,
    split: evaluation.split,
    parallel,
    // Parallel trials run single-threaded each (no nested pools).
    als: { ...als, ...(parallel > 1 ? { threads: 1 } : {}) },
    onTrial: (trial) =>
      logger.info(
        `  trial ${trial.index + 1}${trial.rung === undefined ? '' : ` (rung ${trial.rung})`}: ${JSON.stringify(trial.params)} → ${metric}@${evaluation.k} ${trial.metrics[metric].toFixed(4)} (${trial.seconds.toFixed(1)} s)`,
      ),
  })
  const { transform, ...best } = report.best
  const changed = JSON.stringify(report.best) !== JSON.stringify(report.base)
  logger.info(
    `Tuning took ${((performance.now() - started) / 1000).toFixed(1)} s. Best on validation: ${JSON.stringify(report.best)} (${metric}@${evaluation.k} ${report.bestMetrics[metric].toFixed(4)}; base ${report.baseMetrics[metric].toFixed(4)}; popularity ${report.popularity[metric].toFixed(4)}).`,
  )
  return {
    report,
    als: resolveAlsOptions({ ...als, ...best }),
    data: transform && transform !== 'none' ? transformMatrix(data, transform) : data,
    changed,
  }
}

/** Test metrics of the base and the tuned configuration (stored in the tuning report). */
export interface TuningTestComparison {
  base: MetricSet
  tuned: MetricSet
}
