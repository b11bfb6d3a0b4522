/**
 * `edgerec-train train` with a cloud `compute`: submits ONE training job running the trainer
 * container (`packages/trainer/Dockerfile`) through `@edgerec/adapters`' compute, follows it until
 * it ends, and reads the version it wrote back from the model registry.
 *
 * @module
 */
import {
  createCompute,
  createStorage,
  type JobHandle,
  type JobStatus,
  jobFailureError,
  listCompleteVersions,
  type Storage,
  type StorageConfig,
  type TrainingRun,
} from '@edgerec/adapters'
import { type ModelManifest, manifestKey, parseManifest } from '@edgerec/core'
import type { EdgerecConfig } from '../config/config.js'
import { TrainerError } from '../errors.js'
import { GATE_HINT } from '../gate/index.js'
import type { TrainLogger } from '../train.js'
import { consoleUrl } from './console-url.js'
import { followJob } from './follow.js'
import { type CloudComputeConfig, cloudJobConfig } from './job-config.js'

/** Options of {@link trainInCloud}. */
export interface CloudTrainOptions {
  logger: TrainLogger
  /** `--version-id`: passed to the job's `edgerec-train train`. */
  version?: string
  /** The version live on the publish target: the job's quality gate compares with it (`--gate-live-version`). */
  liveVersion?: string
  /** `--force`: the job records a failing quality gate as forced (the version may be published). */
  force?: boolean
  /** Status poll interval. Default: `EDGEREC_JOB_POLL_SECONDS` × 1000, else 15 s. */
  pollIntervalMs?: number
  /** Environment (region for console links, poll interval). Default `process.env`. */
  env?: NodeJS.ProcessEnv
}

/** What a cloud run produced. */
export interface CloudTrainResult {
  /** The submitted job (plain JSON: `status`/`wait`/`result` work from any machine). */
  job: JobHandle
  /** The job's page in the provider's web console. */
  url?: string
  /** The final status (succeeded). */
  status: JobStatus
  version: string
  manifest: ModelManifest
  /** The model registry the job wrote to (publish from it). */
  storage: Storage
  /** Where the version is, e.g. `s3:acme-models`. */
  location: string
  seconds: number
}

function describeRegistry(config: StorageConfig): string {
  if ('bucket' in config) return `${config.provider}:${config.bucket}`
  if ('container' in config) return `${config.provider}:${config.container}`
  if (config.provider === 'kv') return `kv:${config.namespaceId}`
  return config.provider
}

/**
 * The version a job wrote: the newest complete version in the registry that was not there before
 * submission and was created after it (minus clock skew, see `findVersionSince`).
 */
async function newVersion(
  storage: Storage,
  before: ReadonlySet<string>,
  handle: JobHandle,
): Promise<string | undefined> {
  const since = Date.parse(handle.submittedAt) - 120_000
  const fresh = (await listCompleteVersions(storage)).filter(
    (v) => !before.has(v.version) && v.createdAt >= since,
  )
  return fresh.at(-1)?.version
}

async function readManifest(storage: Storage, version: string): Promise<ModelManifest | undefined> {
  const bytes = await storage.get(manifestKey(version))
  return bytes ? parseManifest(JSON.parse(new TextDecoder().decode(bytes)) as unknown) : undefined
}

/** Throws GATE_FAILED when a failed job left a version whose quality gate failed. */
async function throwIfGateRejected(
  storage: Storage,
  before: ReadonlySet<string>,
  handle: JobHandle,
  logger: TrainLogger,
): Promise<void> {
  let manifest: ModelManifest | undefined
  try {
    const version = await newVersion(storage, before, handle)
    manifest = version === undefined ? undefined : await readManifest(storage, version)
  } catch (error) {
    logger.warn(`Could not look for the failed job's version in the registry: ${(error as Error).message}`)
    return
  }
  const gate = manifest?.gate
  if (!manifest || !gate || gate.passed) return
  throw new TrainerError(
    'GATE_FAILED',
    `${handle.provider} job ${handle.id} wrote version ${manifest.version}, but the quality gate rejected it: ${gate.reasons.join('; ')}. ` +
      `It is recorded in the registry (manifest "gate") and was not published. ${GATE_HINT}`,
  )
}

/**
 * Submits one training job for `config` (whose `compute` names a cloud provider), waits for it and
 * returns the version it wrote.
 *
 * @throws TrainerError `CONFIG_INVALID` when the job could not reach the events or the registry;
 *   AdapterError `JOB_FAILED` (failed or stopped job), `QUOTA_EXCEEDED`, `AUTH`,
 *   `CREDENTIALS_MISSING`; TrainerError `JOB_NO_VERSION` when the job succeeded but wrote nothing
 *
 * @example
 * ```ts
 * const { version, url } = await trainInCloud(config, { logger: consoleLogger() })
 * ```
 */
export async function trainInCloud(
  config: EdgerecConfig & { compute: CloudComputeConfig },
  options: CloudTrainOptions,
): Promise<CloudTrainResult> {
  const started = performance.now()
  const { logger } = options
  const provider = config.compute.provider
  const job = cloudJobConfig(config, provider)
  const compute = await createCompute(config.compute)
  try {
    const run: TrainingRun = { config: { inline: job.inline }, output: job.output, name: 'edgerec-train' }
    const args = [
      ...(options.version !== undefined ? ['--version-id', options.version] : []),
      ...(options.force ? ['--force'] : []),
      ...(options.liveVersion !== undefined ? ['--gate-live-version', options.liveVersion] : []),
    ]
    if (args.length > 0) run.args = args

    // Versions already in the registry are not the job's, whatever their time stamps.
    const storage = await createStorage(job.output)
    const before = new Set((await listCompleteVersions(storage)).map((v) => v.version))
    logger.info(
      `Submitting a ${provider} training job (config.compute; --local trains on this machine instead)…`,
    )
    const handle = await compute.submit(run)
    const url = consoleUrl(config.compute, handle, options.env)
    logger.info(`Job ${handle.id} submitted.${url ? ` Console: ${url}` : ''}`)
    const status = await followJob(compute, handle, options)
    if (status.state !== 'succeeded') {
      // The trainer exits non-zero when the quality gate rejects its version, which fails the job
      // although the version (with its verdict) was written: say so instead of "job failed".
      if (status.state === 'failed') await throwIfGateRejected(storage, before, handle, logger)
      throw jobFailureError(handle, status)
    }
    const version = await newVersion(storage, before, handle)
    const manifest = version === undefined ? undefined : await readManifest(storage, version)
    if (version === undefined || manifest === undefined) {
      throw new TrainerError(
        'JOB_NO_VERSION',
        `${provider} job ${handle.id} succeeded but no new complete model version is in ${describeRegistry(job.output)}. ` +
          "Read the job's logs; check that the job's role can write to the registry and that its clock is right.",
      )
    }
    const location = describeRegistry(job.output)
    logger.info(`Job ${handle.id} wrote model version ${version} to ${location}.`)
    const evaluation = manifest.evaluation
    const { als, als_int8: q, popularity: p } = evaluation?.models ?? {}
    if (evaluation && als && q && p) {
      logger.info(
        `  ndcg@${evaluation.k}: ALS ${als.ndcg.toFixed(4)}, ALS int8 ${q.ndcg.toFixed(4)}, popularity ${p.ndcg.toFixed(4)}; precision@${evaluation.k}: ALS ${als.precision.toFixed(4)}, popularity ${p.precision.toFixed(4)} (${evaluation.users} test users).`,
      )
    }
    const out: CloudTrainResult = {
      job: handle,
      status,
      version,
      manifest,
      storage,
      location,
      seconds: (performance.now() - started) / 1000,
    }
    if (url) out.url = url
    return out
  } finally {
    // NOTE: the Vertex AI client holds an HTTP agent; close what the compute opened so the CLI exits.
    await (compute as { close?: () => Promise<void> }).close?.()
  }
}
