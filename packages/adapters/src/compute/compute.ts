/**
 * The compute contract: submit a training run somewhere (a local child process, a SageMaker training
 * job, a Vertex AI custom job, an Azure ML command job, or a PySpark job on EMR Serverless, Dataproc
 * or Databricks), follow its status and logs, and find the model version it wrote.
 *
 * @module
 */
import type { StorageConfig } from '../config/types.js'

/** The trainer configuration a run uses. */
export type TrainingRunConfig =
  /** A config file path, as seen by the process that runs the trainer (inside the image for cloud jobs). */
  | { path: string }
  /** An inline config object; it must be JSON (it travels in the `EDGEREC_CONFIG_JSON` env var). */
  | { inline: Record<string, unknown> }

/** Machine shape of a run. Each provider reads the fields it knows. */
export interface MachineSpec {
  /** `ml.m5.xlarge` (SageMaker), `n1-standard-8` (Vertex AI), `Standard_D4s_v3` (Azure ML). */
  instanceType?: string
  /** Default 1: edgerec trains on one machine. */
  instanceCount?: number
  /** Vertex AI accelerator, e.g. `NVIDIA_TESLA_T4` (ALS runs on CPU; rarely useful). */
  acceleratorType?: string
  acceleratorCount?: number
  /** Disk size (SageMaker `VolumeSizeInGB`, Vertex AI boot disk). Default 30. */
  diskGb?: number
}

/**
 * A PySpark job (compute provider `spark`): the trainer writes the inputs, the job writes factors.
 * Container computes ignore it; Spark computes require it.
 */
export interface PySparkJob {
  /** URI of the main `.py` file (`s3://`, `gs://`, `abfss://`, `dbfs:/`). */
  mainPythonFileUri: string
  /** Arguments of the script. */
  args: string[]
  /** Spark properties for this job (merged over the config's `sparkConf`). */
  sparkConf?: Record<string, string>
}

/** Everything a training run needs. */
export interface TrainingRun {
  /** The PySpark job of a Spark compute. */
  pyspark?: PySparkJob
  /** Trainer config; when absent the trainer runs its embedded default. */
  config?: TrainingRunConfig
  /** Extra arguments after `edgerec-train train` (e.g. `['--factors', '64']`). */
  args?: string[]
  /** Container image of the trainer (cloud jobs; see `packages/trainer/Dockerfile`). */
  image?: string
  machine?: MachineSpec
  /** Environment variables for the trainer. Names only of secrets: never put a secret value here. */
  env?: Record<string, string>
  /**
   * Where the trainer writes model versions (the model registry). {@link Compute.result} looks
   * there for the version the run produced; it is also passed to the trainer as `EDGEREC_OUTPUT`.
   */
  output?: StorageConfig
  /** Job name prefix (letters, digits, `-`); a time stamp is appended. Default `edgerec-train`. */
  name?: string
  /** Stop the job after this many seconds. Default 4 h for cloud jobs, none locally. */
  maxRuntimeSeconds?: number
}

/** Provider-independent job state. */
export type JobState = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelling' | 'cancelled'

/** True when a job in this state will not change any more. */
export function isTerminal(state: JobState): boolean {
  return state === 'succeeded' || state === 'failed' || state === 'cancelled'
}

/**
 * A reference to a submitted job. Plain JSON, so another process can pick it up
 * (`status`/`wait`/`result` of a cloud job work from any machine with credentials).
 */
export interface JobHandle {
  /** `local`, `sagemaker`, `vertex-ai`, `azure-ml`, `emr-serverless`, `dataproc`, `databricks`. */
  provider: string
  /**
   * Provider id: child pid key, TrainingJobName, CustomJob resource name, Azure ML job name, EMR
   * Serverless job run id, Dataproc batch resource name, Databricks run id.
   */
  id: string
  /** ISO-8601 time of submission. */
  submittedAt: string
  /** The run's output storage, for {@link Compute.result}. */
  output?: StorageConfig
  /**
   * The job's page as the provider's API reports it, when it reports one (Databricks `runs/get`
   * `run_page_url`); otherwise links are built from the id.
   */
  url?: string
}

/** Status of a job at one moment. */
export interface JobStatus {
  state: JobState
  /** The provider's own state string (`InProgress`, `JOB_STATE_RUNNING`, `Running`, `exit 0`). */
  providerState: string
  /** Human-readable detail: a secondary status, a failure reason. */
  message?: string
  /** Process exit code (local compute). */
  exitCode?: number
  /** Provider error code when the job failed (Vertex AI `error.code`, SageMaker FailureReason kind). */
  failureCode?: string
}

/** One line of job output. */
export interface LogLine {
  /** Epoch ms. */
  time: number
  stream: 'stdout' | 'stderr' | 'status'
  message: string
}

/** Options of {@link Compute.wait}. */
export interface WaitOptions {
  /** Called on every change of state or message. */
  onStatus?: (status: JobStatus) => void
  /** Poll interval of cloud jobs. Default 15 s (cloud), 0.1 s (local). */
  pollIntervalMs?: number
  /** Give up (with a `JOB_TIMEOUT`-style `JOB_FAILED` error) after this long. Default: no limit. */
  timeoutMs?: number
  /** Throw a `JOB_FAILED` (or `QUOTA_EXCEEDED`) AdapterError when the job did not succeed. Default true. */
  throwOnFailure?: boolean
  /** Abort waiting (the job keeps running). */
  signal?: AbortSignal
}

/** Where a finished run wrote its model. */
export interface JobResult {
  /** The model version the run produced, when one was found in the output storage. */
  version?: string
  /** The output storage searched. */
  output?: StorageConfig
  status: JobStatus
}

/**
 * Runs training somewhere.
 *
 * @example
 * ```ts
 * const compute = await createCompute({ provider: 'local' })
 * const job = await compute.submit({ config: { path: 'edgerec.config.ts' } })
 * await compute.wait(job, { onStatus: (s) => console.log(s.state) })
 * const { version } = await compute.result(job)
 * ```
 */
export interface Compute {
  /** `local`, `sagemaker`, `vertex-ai`, `azure-ml`, `emr-serverless`, `dataproc`, `databricks`. */
  readonly provider: string
  /** Starts a run and returns at once. */
  submit(run: TrainingRun): Promise<JobHandle>
  /** Current status. */
  status(handle: JobHandle): Promise<JobStatus>
  /**
   * Output of the job, following it until the job ends (local: stdout/stderr lines; cloud: status
   * transitions the provider reports, see docs/cloud.md for where the full logs live).
   */
  logs(handle: JobHandle, options?: { follow?: boolean; signal?: AbortSignal }): AsyncIterable<LogLine>
  /** Waits until the job ends. */
  wait(handle: JobHandle, options?: WaitOptions): Promise<JobStatus>
  /** The version the job wrote (the newest complete version created after submission). */
  result(handle: JobHandle): Promise<JobResult>
  /** Requests cancellation; resolves when the provider accepted it. */
  cancel(handle: JobHandle): Promise<void>
}
