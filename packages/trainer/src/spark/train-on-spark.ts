/**
 * `edgerec-train train` with `compute: { provider: 'spark', platform }`: this machine reads and
 * weights the events, writes the weighted interactions (all of them, and the train part of the
 * evaluation split) as directories of bounded Parquet part files with the id maps to the staging
 * bucket, submits the PySpark job shipped in this package (`spark/edgerec_als.py`, Spark MLlib ALS
 * with implicit preferences and the run's hyperparameters), follows it, reads the `userFactors` /
 * `itemFactors` Parquet it saved, and hands both models back to the pipeline: evaluation, int8
 * export, quality gate and publish are those of a local run.
 *
 * @module
 */
import { readFile } from 'node:fs/promises'
import {
  type ComputeConfig,
  createCompute,
  createStorage,
  type JobHandle,
  jobFailureError,
  jobName,
  SPARK_STAGING,
  type SparkComputeConfig,
  type StorageConfig,
  storageUri,
  validateComputeConfig,
} from '@edgerec/adapters'
import type { AlsModel, AlsOptions } from '../als/index.js'
import { consoleUrl } from '../cloud/console-url.js'
import { followJob } from '../cloud/follow.js'
import type { EdgerecConfig } from '../config/config.js'
import { type CsrMatrix, type InteractionMatrix, nnz } from '../data/matrix.js'
import { TrainerError } from '../errors.js'
import { type AlsFitter, hyperparameters, type TrainLogger, weightingFor } from '../train.js'
import { readSparkModel, under } from './import.js'

/** The PySpark job shipped in the package (`packages/trainer/spark/edgerec_als.py`). */
export const SPARK_JOB_FILE = new URL('../../spark/edgerec_als.py', import.meta.url)

/** True when `compute` names Spark. */
export function isSparkCompute(compute: ComputeConfig | undefined): compute is SparkComputeConfig {
  return compute?.provider === 'spark'
}

/** Options of {@link SparkFitter}. */
export interface SparkFitOptions {
  logger: TrainLogger
  /** Status poll interval. Default: `EDGEREC_JOB_POLL_SECONDS` × 1000, else 15 s. */
  pollIntervalMs?: number
  /** Environment (region for console links, poll interval). Default `process.env`. */
  env?: NodeJS.ProcessEnv
}

/** The Spark job of a run, for reports. */
export interface SparkJobReport {
  job: JobHandle
  url?: string
  /** Where the inputs, script and factors are, e.g. `s3://staging/spark/edgerec-spark-2026…/`. */
  staging: string
  seconds: number
}

/**
 * The staging storage of a Spark compute: `compute.staging`, else the model registry.
 *
 * @throws TrainerError `CONFIG_INVALID` when it is on this machine or a storage the job cannot read
 */
export function sparkStaging(config: EdgerecConfig & { compute: SparkComputeConfig }): StorageConfig {
  const staging = config.compute.staging ?? config.storage
  const platform = config.compute.platform
  // The platform's own buckets only: a Dataproc batch cannot read the s3 registry it defaults to.
  const allowed = SPARK_STAGING[platform]
  if (staging === undefined || !allowed.includes(staging.provider)) {
    throw new TrainerError(
      'CONFIG_INVALID',
      `compute 'spark' (${platform}) trains in a Spark job that reads its inputs from a bucket it can reach (${allowed.join(' or ')}), but ${config.compute.staging ? 'compute.staging' : 'the model registry (storage)'} is ${staging ? `'${staging.provider}'` : 'the local default (.edgerec/models)'}. ` +
        'Set compute.staging (or storage) to a bucket the job can read and write (s3 for EMR Serverless, gcs for Dataproc, s3/gcs/azure-blob for Databricks), or train here with --local.',
    )
  }
  storageUri(staging) // throws CONFIG_INVALID for an azure-blob config without accountUrl
  return staging
}

/**
 * An {@link AlsFitter} that trains both models of a run in one Spark job.
 *
 * @example
 * ```ts
 * const fitter = new SparkFitter(config, { logger })
 * const result = await train(config, { fitter })
 * fitter.report?.job.id
 * ```
 */
export class SparkFitter implements AlsFitter {
  readonly #config: EdgerecConfig & { compute: SparkComputeConfig }
  readonly #options: SparkFitOptions
  readonly #staging: StorageConfig
  /** The job of the last {@link fit}, once submitted. */
  report: SparkJobReport | undefined

  constructor(config: EdgerecConfig & { compute: SparkComputeConfig }, options: SparkFitOptions) {
    this.#config = config
    this.#options = options
    this.#staging = sparkStaging(config)
    // The whole compute block (platform fields, partRows) before any event is read, not only
    // when the job is submitted.
    validateComputeConfig(config.compute)
  }

  async fit(
    parts: { all: CsrMatrix; evaluate?: CsrMatrix },
    als: AlsOptions,
    data: InteractionMatrix,
  ): Promise<{ all: AlsModel; evaluate?: AlsModel }> {
    const started = performance.now()
    const { logger } = this.#options
    const compute = this.#config.compute
    const run = jobName('edgerec-spark').toLowerCase()
    const prefix = `spark/${run}/`
    const storage = await createStorage(this.#staging)
    const uri = (key: string) => storageUri(this.#staging, under(prefix, key))
    logger.info(
      `Writing ${nnz(parts.all).toLocaleString('en-US')} weighted interactions${parts.evaluate ? ' and the evaluation train split' : ''} as Parquet part files with id maps to ${uri('input/')}…`,
    )
    const weighting = weightingFor(this.#config)
    let uploaded = 0
    let uploadedTrain = 0
    let files = 0
    let bytes = 0
    // NOTE: loaded here, not when the CLI starts: it brings hyparquet-writer, which a local run never needs.
    const { writeSparkInputs } = await import('./inputs.js')
    const keys = await writeSparkInputs(
      storage,
      under(prefix, 'input/'),
      { ...data, matrix: parts.all },
      {
        als: hyperparameters(als),
        eventWeights: weighting.eventWeights ?? {},
        ...(weighting.halfLifeDays !== undefined ? { halfLifeDays: weighting.halfLifeDays } : {}),
        trainedUntil: data.trainedUntil,
      },
      parts.evaluate,
      {
        ...(compute.partRows !== undefined ? { partRows: compute.partRows } : {}),
        onPart: (part) => {
          const train = part.key.startsWith(under(prefix, 'input/train/'))
          if (train) uploadedTrain += part.rows
          else uploaded += part.rows
          files += 1
          bytes += part.bytes
          logger.progress?.(
            train ? 'Uploading the train split' : 'Uploading interactions',
            train ? uploadedTrain : uploaded,
            nnz(train ? parts.evaluate! : parts.all),
            'rows',
          )
        },
      },
    )
    logger.info(`Uploaded ${files} Parquet part files (${(bytes / 1048576).toFixed(1)} MiB).`)
    // Spark reads each directory of part files as one table.
    const directory = (key: string) => storageUri(this.#staging, key).replace(/\/+$/, '')
    let script = compute.entryPointUri
    if (script === undefined) {
      await storage.put(under(prefix, 'edgerec_als.py'), await readFile(SPARK_JOB_FILE), {
        contentType: 'text/x-python',
      })
      script = uri('edgerec_als.py')
    }
    const args = [
      '--interactions',
      directory(keys.interactions),
      ...(keys.train ? ['--train', directory(keys.train)] : []),
      '--output',
      uri('output'),
      '--rank',
      String(als.factors),
      '--reg-param',
      String(als.regularization),
      '--alpha',
      String(als.alpha),
      '--max-iter',
      String(als.iterations),
      '--seed',
      String(als.seed),
    ]
    const spark = await createCompute(compute)
    try {
      logger.info(
        `Submitting a Spark job on ${compute.platform} (config.compute; --local trains on this machine instead)…`,
      )
      const job = await spark.submit({
        name: 'edgerec-spark',
        pyspark: { mainPythonFileUri: script, args },
        output: this.#staging,
      })
      const url = consoleUrl(compute, job, this.#options.env)
      logger.info(`Job ${job.id} submitted.${url ? ` Console: ${url}` : ''}`)
      this.report = { job, staging: uri(''), seconds: 0, ...(url ? { url } : {}) }
      const status = await followJob(spark, job, this.#options)
      if (status.state !== 'succeeded') throw jobFailureError(job, status)
    } finally {
      await (spark as { close?: () => Promise<void> }).close?.()
    }
    const users = data.userIds.length
    const items = data.itemIds.length
    logger.info(`Reading the factors the job saved under ${uri('output/')}…`)
    const all = await readSparkModel(storage, under(prefix, 'output/all/'), users, items)
    const evaluate = parts.evaluate
      ? await readSparkModel(storage, under(prefix, 'output/evaluate/'), users, items)
      : undefined
    for (const model of [all, evaluate]) {
      if (model && model.factors !== als.factors)
        throw new TrainerError(
          'IMPORT_INVALID',
          `The Spark job saved rank-${model.factors} factors, but the run asked for ${als.factors}. Check compute.entryPointUri runs edgerec's edgerec_als.py.`,
        )
    }
    this.report!.seconds = (performance.now() - started) / 1000
    logger.info(
      `Spark job ${this.report!.job.id} trained ${users.toLocaleString('en-US')} users × ${items.toLocaleString('en-US')} items, rank ${all.factors} (${this.report!.seconds.toFixed(1)} s with upload and read-back).`,
    )
    return evaluate ? { all, evaluate } : { all }
  }
}
