/**
 * What a cloud training job receives: the trainer config without the parts that only make sense
 * on the submitting machine, checked for things a job in someone's cloud account cannot reach.
 *
 * @module
 */
import type { ComputeConfig, StorageConfig } from '@edgerec/adapters'
import type { EdgerecConfig } from '../config/config.js'
import { TrainerError } from '../errors.js'

/** Compute providers that run the trainer container in a cloud account. */
export type CloudComputeConfig = Exclude<ComputeConfig, { provider: 'local' } | { provider: 'spark' }>

/**
 * True when `compute` names a provider that runs the trainer container (`sagemaker`, `vertex-ai`,
 * `azure-ml`). Spark (`provider: 'spark'`) trains ALS in a PySpark job while this machine does the
 * rest: see `../spark/train-on-spark.ts`.
 */
export function isCloudCompute(compute: ComputeConfig | undefined): compute is CloudComputeConfig {
  return compute !== undefined && compute.provider !== 'local' && compute.provider !== 'spark'
}

/** Storage providers a cloud job can write to and this machine can read back. */
const REMOTE_STORAGE = new Set<StorageConfig['provider']>(['s3', 'r2', 'gcs', 'azure-blob', 'kv'])

/** The inline config and the model registry of a cloud job. */
export interface CloudJobConfig {
  /**
   * The config the container trains with (`EDGEREC_CONFIG_JSON`): the config minus `compute` (the
   * job trains where it runs), `storage` (passed as `EDGEREC_OUTPUT`) and `publish` (the CLI
   * publishes from this machine once the job succeeded).
   */
  inline: Record<string, unknown>
  /** The model registry the job writes to and the CLI reads the new version from. */
  output: StorageConfig
}

/**
 * Splits a config into what a cloud job needs.
 *
 * @throws TrainerError `CONFIG_INVALID` when the events or the registry are on this machine (a
 *   job cannot read a local file or write to a local folder), or the config is not plain JSON
 */
export function cloudJobConfig(config: EdgerecConfig, provider: string): CloudJobConfig {
  const storage = config.storage
  if (storage === undefined || !REMOTE_STORAGE.has(storage.provider)) {
    throw new TrainerError(
      'CONFIG_INVALID',
      `compute '${provider}' trains in the cloud, but the model registry is ${storage ? `'${storage.provider}'` : 'the local default (.edgerec/models)'}: a job cannot write to this machine. ` +
        "Set storage to a bucket the job's role can write (s3, gcs, azure-blob, r2), or train here with --local.",
    )
  }
  const events = config.events
  if (events === undefined) {
    throw new TrainerError(
      'CONFIG_INVALID',
      `compute '${provider}' trains in the cloud, but the config names no events (the demo data is generated on the local machine). ` +
        'Set events to a file in a bucket (events: { kind, path, storage }) or a D1 database, or train here with --local.',
    )
  }
  const eventStorage = 'storage' in events ? events.storage : undefined
  const remote =
    events.kind === 'd1' ||
    (events.kind !== 'sqlite' &&
      eventStorage !== undefined &&
      !('provider' in eventStorage && eventStorage.provider === 'local'))
  if (!remote) {
    const where = 'path' in events ? `events.path ${JSON.stringify(events.path)}` : 'events.storage'
    throw new TrainerError(
      'CONFIG_INVALID',
      `compute '${provider}' trains in the cloud, but ${where} is a file on this machine, which the job cannot read. ` +
        'Upload it to a bucket and set events.storage (e.g. { provider: "s3", bucket: "my-events" }), or train here with --local.',
    )
  }
  const { compute: _compute, storage: _storage, publish: _publish, ...rest } = config
  assertJson(rest, 'config')
  return { inline: JSON.parse(JSON.stringify(rest)) as Record<string, unknown>, output: storage }
}

/** Throws when a value holds something JSON cannot carry (a function, a class instance, NaN). */
function assertJson(value: unknown, path: string): void {
  if (value === null || value === undefined || typeof value === 'string' || typeof value === 'boolean') return
  if (typeof value === 'number' && Number.isFinite(value)) return
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) assertJson(item, `${path}[${i}]`)
    return
  }
  const proto = typeof value === 'object' ? Object.getPrototypeOf(value) : undefined
  if (proto === Object.prototype || proto === null) {
    for (const [key, item] of Object.entries(value as object)) assertJson(item, `${path}.${key}`)
    return
  }
  throw new TrainerError(
    'CONFIG_INVALID',
    `${path} is not plain JSON (${typeof value === 'object' ? 'an object of a class' : typeof value}), so it cannot travel to a cloud job. Use plain values (provider configs, not ready-made clients) in edgerec.config.ts.`,
  )
}
