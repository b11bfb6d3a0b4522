import type { protos, v1 } from '@google-cloud/dataproc'
import type { AuthClient } from 'google-auth-library'
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
import { jobName } from '../compute/container.js'
import { pollUntilDone, providerStatus, statusLogLines } from '../compute/wait.js'
import { loadProvider } from '../config/load-provider.js'
import type { DataprocSparkConfig } from '../config/types.js'
import { AdapterError } from '../errors.js'
import { pysparkJob, sparkResult } from '../spark/job.js'

type BatchControllerClient = v1.BatchControllerClient
type ClientOptions = NonNullable<ConstructorParameters<typeof v1.BatchControllerClient>[0]>

/** Options of {@link DataprocCompute}: the `spark` / `dataproc` config plus optional client/auth. */
export type DataprocComputeOptions = Omit<DataprocSparkConfig, 'provider' | 'platform'> & {
  /** A ready client. Default: `new v1.BatchControllerClient({ fallback: true, apiEndpoint })`. */
  client?: BatchControllerClient
  /**
   * Auth client (google-auth-library) used instead of Application Default Credentials. Typed with
   * the workspace's google-auth-library: @google-cloud/dataproc may bundle another major version.
   */
  authClient?: AuthClient
}

/** The JSON shape of the CreateBatch request this adapter sends (REST field names). */
export interface CreateBatchRequest {
  parent: string
  batchId: string
  batch: {
    labels: Record<string, string>
    pysparkBatch: { mainPythonFileUri: string; args: string[] }
    runtimeConfig: { version: string; properties?: Record<string, string> }
    environmentConfig: {
      executionConfig: { serviceAccount?: string; subnetworkUri?: string; ttl: { seconds: number } }
    }
  }
}

/** Dataproc `Batch.State` enum, for responses that carry it as a number. */
const BATCH_STATES = [
  'STATE_UNSPECIFIED',
  'PENDING',
  'RUNNING',
  'CANCELLING',
  'CANCELLED',
  'SUCCEEDED',
  'FAILED',
] as const

/** gRPC status codes used by Google APIs. */
const GRPC = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNAUTHENTICATED: 16,
}

/** HTTP statuses of REST errors → the gRPC codes above. */
const HTTP_TO_GRPC: Record<number, number> = {
  400: GRPC.INVALID_ARGUMENT,
  401: GRPC.UNAUTHENTICATED,
  403: GRPC.PERMISSION_DENIED,
  404: GRPC.NOT_FOUND,
  409: GRPC.ALREADY_EXISTS,
  429: GRPC.RESOURCE_EXHAUSTED,
}

const SDKS = ['@google-cloud/dataproc', 'google-auth-library'] as const
const sdk = () => loadProvider('compute', 'spark', SDKS, () => import('@google-cloud/dataproc'))

/** Maps a google-gax error to an AdapterError with a fix. */
export function dataprocError(error: unknown, action: string): AdapterError {
  let message = error instanceof Error ? error.message : String(error)
  let code = (error as { code?: unknown })?.code
  // NOTE: long-running methods (createBatch) over REST reject with a GaxiosError carrying the HTTP
  // status and the JSON error body as its message; unary ones with a gRPC-coded GoogleError.
  if (typeof code === 'number' && code >= 400) {
    code = HTTP_TO_GRPC[code] ?? code
    try {
      const body = JSON.parse(message) as { error?: { message?: string } }
      if (body.error?.message) message = body.error.message
    } catch {
      // NOTE: not a JSON body; keep the message as it is.
    }
  }
  if (/Could not load the default credentials|Could not refresh access token|invalid_grant/i.test(message)) {
    return new AdapterError(
      'CREDENTIALS_MISSING',
      `No usable Google credentials to ${action} (missing, expired or revoked): ${message}. Run \`gcloud auth application-default login\` (again, if they expired), set GOOGLE_APPLICATION_CREDENTIALS to a valid key, or run on GCP with a service account.`,
      { cause: error },
    )
  }
  if (code === GRPC.UNAUTHENTICATED) {
    return new AdapterError(
      'AUTH',
      `Google did not accept the credentials to ${action} (expired, revoked or malformed): ${message}. Refresh them (\`gcloud auth application-default login\`, or a new key in GOOGLE_APPLICATION_CREDENTIALS) and run again.`,
      { cause: error },
    )
  }
  if (code === GRPC.PERMISSION_DENIED) {
    return new AdapterError(
      'AUTH',
      `Google denied the request to ${action}: ${message}. Grant roles/dataproc.editor to the caller and iam.serviceAccountUser on the batch's service account.`,
      { cause: error },
    )
  }
  if (code === GRPC.RESOURCE_EXHAUSTED) {
    return new AdapterError(
      'QUOTA_EXCEEDED',
      `Dataproc refused to ${action}: ${message}. Request more CPU quota in this region (IAM & Admin → Quotas) or lower spark.executor.instances.`,
      { cause: error },
    )
  }
  if (code === GRPC.INVALID_ARGUMENT || code === GRPC.ALREADY_EXISTS) {
    return new AdapterError(
      'CONFIG_INVALID',
      `Dataproc rejected the request to ${action}: ${message}. Fix the compute config (region, runtimeVersion, serviceAccount, sparkConf).`,
      { cause: error },
    )
  }
  if (code === GRPC.NOT_FOUND) {
    return new AdapterError(
      'NOT_FOUND',
      `Dataproc could not ${action}: ${message}. Check the batch name, project and region.`,
      {
        cause: error,
      },
    )
  }
  return new AdapterError('UNAVAILABLE', `Dataproc failed to ${action}: ${message}.`, { cause: error })
}

interface BatchLike {
  name?: string | null
  state?: string | number | null
  stateMessage?: string | null
  operation?: string | null
}

const QUOTA_REASON = /quota|insufficient .*(cpu|resources)|RESOURCE_EXHAUSTED/i

/** Maps a Batch to a provider-independent status. */
export function dataprocStatus(batch: BatchLike): JobStatus {
  const raw = batch.state
  const providerState =
    typeof raw === 'number' ? (BATCH_STATES[raw] ?? `STATE_${raw}`) : (raw ?? 'STATE_UNSPECIFIED')
  let state: JobState
  switch (providerState) {
    case 'SUCCEEDED':
      state = 'succeeded'
      break
    case 'FAILED':
      state = 'failed'
      break
    case 'CANCELLING':
      state = 'cancelling'
      break
    case 'CANCELLED':
      state = 'cancelled'
      break
    case 'RUNNING':
      state = 'running'
      break
    default:
      state = 'pending'
  }
  return providerStatus(state, providerState, batch.stateMessage ?? undefined, QUOTA_REASON)
}

/**
 * Spark on Dataproc Serverless: `createBatch` with a `pysparkBatch`, polled with `getBatch`, through
 * `@google-cloud/dataproc`'s `v1.BatchControllerClient` over REST (`fallback: true`) with Application
 * Default Credentials unless an `authClient` is given. The driver's output is in Cloud Logging
 * (`resource.type="cloud_dataproc_batch"`).
 *
 * @example
 * ```ts
 * const compute = new DataprocCompute({ projectId: 'my-project', region: 'europe-west1' })
 * const job = await compute.submit({ pyspark: { mainPythonFileUri: 'gs://b/edgerec_als.py', args: [] } })
 * ```
 */
export class DataprocCompute implements Compute {
  readonly provider = 'dataproc'
  readonly #options: DataprocComputeOptions
  #client: BatchControllerClient | undefined

  constructor(options: DataprocComputeOptions) {
    this.#options = options
    this.#client = options.client
  }

  get #parent(): string {
    return `projects/${this.#options.projectId}/locations/${this.#options.region}`
  }

  async #batches(): Promise<BatchControllerClient> {
    if (!this.#client) {
      const dataproc = await sdk()
      let authClient = this.#options.authClient as unknown as ClientOptions['authClient']
      if (!authClient) {
        // NOTE: resolving Application Default Credentials up front turns "no credentials" into one
        // clear error, as the Vertex AI compute does.
        const { GoogleAuth } = await loadProvider(
          'compute',
          'spark',
          SDKS,
          () => import('google-auth-library'),
        )
        try {
          authClient = (await new GoogleAuth({
            scopes: ['https://www.googleapis.com/auth/cloud-platform'],
          }).getClient()) as unknown as ClientOptions['authClient']
        } catch (error) {
          throw dataprocError(error, 'call Dataproc')
        }
      }
      this.#client = new dataproc.v1.BatchControllerClient({
        fallback: true,
        apiEndpoint: this.#options.apiEndpoint ?? `${this.#options.region}-dataproc.googleapis.com`,
        projectId: this.#options.projectId,
        authClient,
      })
    }
    return this.#client
  }

  /** The CreateBatch request for a run (exposed for inspection and dry runs). */
  buildRequest(run: TrainingRun, name = jobName(run.name ?? 'edgerec-spark')): CreateBatchRequest {
    const job = pysparkJob(run, this.#options, 'dataproc')
    // Batch ids are 4-63 lowercase letters, digits and hyphens.
    const batchId = name.toLowerCase()
    const executionConfig: CreateBatchRequest['batch']['environmentConfig']['executionConfig'] = {
      ttl: { seconds: run.maxRuntimeSeconds ?? 4 * 3600 },
    }
    if (this.#options.serviceAccount) executionConfig.serviceAccount = this.#options.serviceAccount
    if (this.#options.subnetworkUri) executionConfig.subnetworkUri = this.#options.subnetworkUri
    const runtimeConfig: CreateBatchRequest['batch']['runtimeConfig'] = {
      version: this.#options.runtimeVersion ?? '2.2',
    }
    if (job.sparkConf) runtimeConfig.properties = job.sparkConf
    return {
      parent: this.#parent,
      batchId,
      batch: {
        labels: { edgerec: 'train' },
        pysparkBatch: { mainPythonFileUri: job.mainPythonFileUri, args: job.args },
        runtimeConfig,
        environmentConfig: { executionConfig },
      },
    }
  }

  async submit(run: TrainingRun): Promise<JobHandle> {
    const request = this.buildRequest(run)
    const client = await this.#batches()
    const submittedAt = new Date().toISOString()
    try {
      await client.createBatch(request as protos.google.cloud.dataproc.v1.ICreateBatchRequest)
    } catch (error) {
      throw dataprocError(error, `create batch ${request.batchId}`)
    }
    const handle: JobHandle = {
      provider: this.provider,
      id: `${request.parent}/batches/${request.batchId}`,
      submittedAt,
    }
    if (run.output) handle.output = run.output
    return handle
  }

  async #batch(handle: JobHandle): Promise<BatchLike> {
    const client = await this.#batches()
    try {
      const [batch] = await client.getBatch({ name: handle.id })
      return batch as BatchLike
    } catch (error) {
      throw dataprocError(error, `get batch ${handle.id}`)
    }
  }

  async status(handle: JobHandle): Promise<JobStatus> {
    return dataprocStatus(await this.#batch(handle))
  }

  logs(handle: JobHandle, options: { follow?: boolean; signal?: AbortSignal } = {}): AsyncIterable<LogLine> {
    return statusLogLines(() => this.status(handle), { ...options, pollIntervalMs: 15_000 })
  }

  wait(handle: JobHandle, options: WaitOptions = {}): Promise<JobStatus> {
    return pollUntilDone(handle, () => this.status(handle), options, 15_000)
  }

  async result(handle: JobHandle): Promise<JobResult> {
    return sparkResult(handle, await this.status(handle))
  }

  /** Cancels the batch's long-running operation (Dataproc has no cancelBatch). */
  async cancel(handle: JobHandle): Promise<void> {
    const batch = await this.#batch(handle)
    if (!batch.operation) {
      throw new AdapterError(
        'NOT_FOUND',
        `Dataproc batch ${handle.id} names no operation to cancel. Cancel it in the console.`,
      )
    }
    const client = await this.#batches()
    try {
      await client.cancelOperation({ name: batch.operation } as Parameters<
        BatchControllerClient['cancelOperation']
      >[0])
    } catch (error) {
      throw dataprocError(error, `cancel batch ${handle.id}`)
    }
  }

  /** Closes the underlying client. */
  async close(): Promise<void> {
    await this.#client?.close().catch(() => undefined)
  }
}
