import type { protos, v1 } from '@google-cloud/aiplatform'
import type {
  Compute,
  JobHandle,
  JobResult,
  JobState,
  JobStatus,
  LogLine,
  TrainingRun,
  WaitOptions,
} from '../compute/compute.js'
import { containerInvocation, jobName } from '../compute/container.js'
import { findVersionSince } from '../compute/result.js'
import { pollUntilDone, QUOTA_FAILURE, statusLogLines } from '../compute/wait.js'
import { createStorage } from '../config/create-storage.js'
import { loadProvider } from '../config/load-provider.js'
import type { VertexAiComputeConfig } from '../config/types.js'
import { AdapterError } from '../errors.js'
import { googleAuthClient } from './auth.js'
import { GRPC, vertexAiError } from './errors.js'

export { vertexAiError } from './errors.js'

type JobServiceClient = v1.JobServiceClient
type ClientOptions = NonNullable<ConstructorParameters<typeof v1.JobServiceClient>[0]>

/** Options of {@link VertexAiCompute}: the `vertex-ai` compute config plus optional client/auth. */
export type VertexAiComputeOptions = Omit<VertexAiComputeConfig, 'provider'> & {
  /** A ready client. Default: `new v1.JobServiceClient({ fallback: true, apiEndpoint })`. */
  client?: JobServiceClient
  /** Auth client (google-auth-library) used instead of Application Default Credentials. */
  authClient?: ClientOptions['authClient']
}

/** The JSON shape of a CustomJob this adapter sends (REST field names). */
export interface CustomJobRequest {
  parent: string
  customJob: {
    displayName: string
    labels: Record<string, string>
    jobSpec: {
      workerPoolSpecs: Array<{
        machineSpec: { machineType: string; acceleratorType?: string; acceleratorCount?: number }
        replicaCount: number
        diskSpec: { bootDiskType: string; bootDiskSizeGb: number }
        containerSpec: {
          imageUri: string
          command: string[]
          args: string[]
          env: Array<{ name: string; value: string }>
        }
      }>
      baseOutputDirectory?: { outputUriPrefix: string }
      serviceAccount?: string
      scheduling: { timeout: { seconds: number } }
    }
  }
}

/** Vertex AI `JobState` enum, for responses that carry it as a number. */
const JOB_STATES = [
  'JOB_STATE_UNSPECIFIED',
  'JOB_STATE_QUEUED',
  'JOB_STATE_PENDING',
  'JOB_STATE_RUNNING',
  'JOB_STATE_SUCCEEDED',
  'JOB_STATE_FAILED',
  'JOB_STATE_CANCELLING',
  'JOB_STATE_CANCELLED',
  'JOB_STATE_PAUSED',
  'JOB_STATE_EXPIRED',
  'JOB_STATE_UPDATING',
  'JOB_STATE_PARTIALLY_SUCCEEDED',
] as const

const sdk = () =>
  loadProvider(
    'compute',
    'vertex-ai',
    ['@google-cloud/aiplatform', 'google-auth-library'],
    () => import('@google-cloud/aiplatform'),
  )

interface CustomJobLike {
  name?: string | null
  state?: string | number | null
  error?: { code?: number | null; message?: string | null } | null
}

/** Maps a CustomJob to a provider-independent status. */
export function vertexAiStatus(job: CustomJobLike): JobStatus {
  const raw = job.state
  const providerState =
    typeof raw === 'number' ? (JOB_STATES[raw] ?? `JOB_STATE_${raw}`) : (raw ?? 'JOB_STATE_UNSPECIFIED')
  let state: JobState
  switch (providerState) {
    case 'JOB_STATE_SUCCEEDED':
      state = 'succeeded'
      break
    case 'JOB_STATE_FAILED':
    case 'JOB_STATE_EXPIRED':
    case 'JOB_STATE_PARTIALLY_SUCCEEDED':
      state = 'failed'
      break
    case 'JOB_STATE_CANCELLING':
      state = 'cancelling'
      break
    case 'JOB_STATE_CANCELLED':
      state = 'cancelled'
      break
    case 'JOB_STATE_RUNNING':
    case 'JOB_STATE_UPDATING':
      state = 'running'
      break
    default:
      state = 'pending'
  }
  const status: JobStatus = { state, providerState }
  if (job.error?.message) status.message = job.error.message
  if (job.error?.code)
    status.failureCode = job.error.code === GRPC.RESOURCE_EXHAUSTED ? QUOTA_FAILURE : String(job.error.code)
  return status
}

/**
 * Trains on Vertex AI: a custom job running the trainer image with `edgerec-train train`.
 *
 * Uses `@google-cloud/aiplatform`'s `v1.JobServiceClient` over REST (`fallback: true`), with
 * Application Default Credentials unless an `authClient` is given. Inside the job, Vertex AI sets
 * `AIP_MODEL_DIR` under `baseOutputUri`; the trainer writes versions to `EDGEREC_OUTPUT`.
 * `logs()` reports state changes; the trainer's output is in Cloud Logging
 * (`resource.type="ml_job"`, `resource.labels.job_id=<id>`).
 *
 * @example
 * ```ts
 * const compute = new VertexAiCompute({ projectId: 'my-project', location: 'us-central1',
 *   image: 'us-docker.pkg.dev/my-project/edgerec/trainer:latest' })
 * const job = await compute.submit({ config: { path: '/app/edgerec.config.ts' }, output: { provider: 'gcs', bucket: 'my-models' } })
 * ```
 */
export class VertexAiCompute implements Compute {
  readonly provider = 'vertex-ai'
  readonly #options: VertexAiComputeOptions
  #client: JobServiceClient | undefined

  constructor(options: VertexAiComputeOptions) {
    this.#options = options
    this.#client = options.client
  }

  get #parent(): string {
    return `projects/${this.#options.projectId}/locations/${this.#options.location}`
  }

  async #jobs(): Promise<JobServiceClient> {
    if (!this.#client) {
      const aiplatform = await sdk()
      const authClient =
        this.#options.authClient ??
        ((await googleAuthClient('call Vertex AI')) as ClientOptions['authClient'])
      this.#client = new aiplatform.v1.JobServiceClient({
        fallback: true,
        apiEndpoint: this.#options.apiEndpoint ?? `${this.#options.location}-aiplatform.googleapis.com`,
        projectId: this.#options.projectId,
        authClient,
      })
    }
    return this.#client
  }

  /** The CreateCustomJob request for a run (exposed for inspection and dry runs). */
  buildRequest(run: TrainingRun, name = jobName(run.name)): CustomJobRequest {
    const invocation = containerInvocation(run)
    const machineSpec: CustomJobRequest['customJob']['jobSpec']['workerPoolSpecs'][number]['machineSpec'] = {
      machineType: run.machine?.instanceType ?? this.#options.machineType ?? 'n1-standard-8',
    }
    if (run.machine?.acceleratorType) {
      machineSpec.acceleratorType = run.machine.acceleratorType
      machineSpec.acceleratorCount = run.machine.acceleratorCount ?? 1
    }
    const request: CustomJobRequest = {
      parent: this.#parent,
      customJob: {
        displayName: name,
        labels: { edgerec: 'train' },
        jobSpec: {
          workerPoolSpecs: [
            {
              machineSpec,
              replicaCount: run.machine?.instanceCount ?? 1,
              diskSpec: { bootDiskType: 'pd-ssd', bootDiskSizeGb: run.machine?.diskGb ?? 100 },
              containerSpec: {
                imageUri: run.image ?? this.#options.image,
                command: invocation.entrypoint,
                args: invocation.args,
                env: Object.entries(invocation.env).map(([envName, value]) => ({ name: envName, value })),
              },
            },
          ],
          scheduling: { timeout: { seconds: run.maxRuntimeSeconds ?? 4 * 3600 } },
        },
      },
    }
    if (this.#options.baseOutputUri) {
      request.customJob.jobSpec.baseOutputDirectory = { outputUriPrefix: this.#options.baseOutputUri }
    }
    if (this.#options.serviceAccount) request.customJob.jobSpec.serviceAccount = this.#options.serviceAccount
    return request
  }

  async submit(run: TrainingRun): Promise<JobHandle> {
    const request = this.buildRequest(run)
    const client = await this.#jobs()
    const submittedAt = new Date().toISOString()
    let job: CustomJobLike
    try {
      const response = await client.createCustomJob(
        request as protos.google.cloud.aiplatform.v1.ICreateCustomJobRequest,
        {},
      )
      job = response[0] as CustomJobLike
    } catch (error) {
      throw vertexAiError(error, `create custom job ${request.customJob.displayName}`)
    }
    if (!job.name) {
      throw new AdapterError(
        'UNAVAILABLE',
        'Vertex AI accepted the custom job but returned no job name. Check the console.',
      )
    }
    const handle: JobHandle = { provider: this.provider, id: job.name, submittedAt }
    if (run.output) handle.output = run.output
    return handle
  }

  async status(handle: JobHandle): Promise<JobStatus> {
    const client = await this.#jobs()
    try {
      const [job] = await client.getCustomJob({ name: handle.id })
      return vertexAiStatus(job as CustomJobLike)
    } catch (error) {
      throw vertexAiError(error, `get custom job ${handle.id}`)
    }
  }

  logs(handle: JobHandle, options: { follow?: boolean; signal?: AbortSignal } = {}): AsyncIterable<LogLine> {
    return statusLogLines(() => this.status(handle), { ...options, pollIntervalMs: 15_000 })
  }

  wait(handle: JobHandle, options: WaitOptions = {}): Promise<JobStatus> {
    return pollUntilDone(handle, () => this.status(handle), options, 15_000)
  }

  async result(handle: JobHandle): Promise<JobResult> {
    const status = await this.status(handle)
    const result: JobResult = { status }
    if (handle.output) result.output = handle.output
    if (status.state !== 'succeeded' || !handle.output) return result
    const version = await findVersionSince(await createStorage(handle.output), Date.parse(handle.submittedAt))
    if (version !== undefined) result.version = version
    return result
  }

  async cancel(handle: JobHandle): Promise<void> {
    const client = await this.#jobs()
    try {
      await client.cancelCustomJob({ name: handle.id })
    } catch (error) {
      throw vertexAiError(error, `cancel custom job ${handle.id}`)
    }
  }

  /** Closes the underlying client. */
  async close(): Promise<void> {
    // NOTE: close() awaits the client's lazy initialization, which rejects again when credentials
    // were missing; that failure was already reported by the call that hit it.
    await this.#client?.close().catch(() => undefined)
  }
}
