import type { JobHandle, JobResult, JobStatus, PySparkJob, TrainingRun } from '../compute/compute.js'
import type { SparkComputeBase, StorageConfig } from '../config/types.js'
import { AdapterError } from '../errors.js'

/**
 * The PySpark job of a run, with the config's `sparkConf` under the run's own properties.
 *
 * @throws AdapterError `CONFIG_INVALID` when the run has no `pyspark` job (a Spark compute runs a
 *   PySpark script, not the trainer image)
 * @internal
 */
export function pysparkJob(
  run: TrainingRun,
  config: Pick<SparkComputeBase, 'sparkConf'>,
  platform: string,
): PySparkJob {
  const job = run.pyspark
  if (!job) {
    throw new AdapterError(
      'CONFIG_INVALID',
      `Spark on ${platform} runs a PySpark script, and the run has no pyspark job. Submit it through edgerec-train train (it writes the inputs and sets run.pyspark), or set run.pyspark yourself.`,
    )
  }
  const sparkConf = { ...config.sparkConf, ...job.sparkConf }
  return Object.keys(sparkConf).length > 0 ? { ...job, sparkConf } : { ...job }
}

const joinKey = (prefix: string | undefined, key: string): string => {
  const base = prefix ? (prefix.endsWith('/') ? prefix : `${prefix}/`) : ''
  return `${base}${key}`
}

/**
 * The URI a Spark job uses for `key` of a storage (`s3://bucket/prefix/key`,
 * `gs://bucket/prefix/key`, `abfss://container@account.dfs.core.windows.net/prefix/key`): the same
 * object the storage adapter reads and writes as `key`.
 *
 * @throws AdapterError `CONFIG_INVALID` for storage a Spark job cannot address (local, kv, r2) or an
 *   azure-blob config without `accountUrl`
 *
 * @example
 * ```ts
 * storageUri({ provider: 's3', bucket: 'models', prefix: 'edgerec' }, 'spark/run/input')
 * // s3://models/edgerec/spark/run/input
 * ```
 */
export function storageUri(storage: StorageConfig, key = ''): string {
  switch (storage.provider) {
    case 's3':
      return `s3://${storage.bucket}/${joinKey(storage.prefix, key)}`
    case 'gcs':
      return `gs://${storage.bucket}/${joinKey(storage.prefix, key)}`
    case 'azure-blob': {
      const account = storage.accountUrl ? /^https?:\/\/([^./]+)\./.exec(storage.accountUrl)?.[1] : undefined
      if (!account) {
        throw new AdapterError(
          'CONFIG_INVALID',
          'A Spark job reads Azure Blob Storage as abfss://<container>@<account>.dfs.core.windows.net, so the staging storage needs accountUrl (https://<account>.blob.core.windows.net).',
        )
      }
      return `abfss://${storage.container}@${account}.dfs.core.windows.net/${joinKey(storage.prefix, key)}`
    }
    default:
      throw new AdapterError(
        'CONFIG_INVALID',
        `A Spark job cannot read '${storage.provider}' storage. Set compute.staging (or storage) to an s3, gcs or azure-blob bucket the job can read and write.`,
      )
  }
}

/**
 * `result()` of a Spark compute: a Spark job writes factors, not a model version (the trainer turns
 * them into one), so only the status and output storage are reported.
 *
 * @internal
 */
export function sparkResult(handle: JobHandle, status: JobStatus): JobResult {
  const result: JobResult = { status }
  if (handle.output) result.output = handle.output
  return result
}

/** `--conf k=v` pairs of spark-submit. @internal */
export function sparkSubmitParameters(conf: Record<string, string> | undefined): string | undefined {
  const entries = Object.entries(conf ?? {})
  if (entries.length === 0) return undefined
  for (const [key, value] of entries) {
    if (/\s/.test(key) || /\s/.test(value)) {
      throw new AdapterError(
        'CONFIG_INVALID',
        `sparkConf ${key}=${JSON.stringify(value)} holds whitespace, which spark-submit parameters cannot carry. Remove it.`,
      )
    }
  }
  return entries.map(([key, value]) => `--conf ${key}=${value}`).join(' ')
}
