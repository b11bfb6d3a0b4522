import type { AzureMachineLearningWorkspaces, CommandJob, JobBase } from '@azure/arm-machinelearning'
import type { TokenCredential } from '@azure/identity'
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
import { pollUntilDone, providerStatus, statusLogLines } from '../compute/wait.js'
import { createStorage } from '../config/create-storage.js'
import { loadProvider } from '../config/load-provider.js'
import type { AzureMlComputeConfig } from '../config/types.js'
import { AdapterError } from '../errors.js'

/** Options of {@link AzureMlCompute}: the `azure-ml` compute config plus optional client/credential. */
export type AzureMlComputeOptions = Omit<AzureMlComputeConfig, 'provider'> & {
  /** Credential. Default `new DefaultAzureCredential()`. */
  credential?: TokenCredential
  /** A ready client. */
  client?: AzureMachineLearningWorkspaces
}

const armSdk = () =>
  loadProvider(
    'compute',
    'azure-ml',
    ['@azure/arm-machinelearning', '@azure/identity'],
    () => import('@azure/arm-machinelearning'),
  )
const identitySdk = () =>
  loadProvider(
    'compute',
    'azure-ml',
    ['@azure/arm-machinelearning', '@azure/identity'],
    () => import('@azure/identity'),
  )

/**
 * The Azure ML workspace client of a compute config (`credential` or `DefaultAzureCredential`),
 * loading the optional SDKs on first use. Shared by {@link AzureMlCompute} and the schedules.
 */
export async function workspaceClient(options: {
  subscriptionId: string
  endpoint?: string
  credential?: TokenCredential
}): Promise<AzureMachineLearningWorkspaces> {
  const { AzureMachineLearningWorkspaces } = await armSdk()
  const credential = options.credential ?? new (await identitySdk()).DefaultAzureCredential()
  return new AzureMachineLearningWorkspaces(
    credential,
    options.subscriptionId,
    options.endpoint ? { endpoint: options.endpoint } : {},
  )
}

const shellQuote = (arg: string): string =>
  /^[A-Za-z0-9_./:=@-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`

/** ISO-8601 duration of whole seconds, e.g. `PT14400S`. */
const isoDuration = (seconds: number): string => `PT${Math.round(seconds)}S`

/** Maps an Azure SDK / identity error to an AdapterError with a fix. */
export function azureMlError(error: unknown, action: string): AdapterError {
  const name = error instanceof Error ? error.name : ''
  const message = error instanceof Error ? error.message : String(error)
  const statusCode = (error as { statusCode?: unknown })?.statusCode
  const code = String((error as { code?: unknown })?.code ?? '')
  if (name === 'CredentialUnavailableError' || name === 'AggregateAuthenticationError') {
    return new AdapterError(
      'CREDENTIALS_MISSING',
      `No Azure credentials to ${action}: ${message}. Run \`az login\`, set AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, or use a managed identity (DefaultAzureCredential).`,
      { cause: error },
    )
  }
  if (/quota/i.test(code) || /quota/i.test(message)) {
    return new AdapterError(
      'QUOTA_EXCEEDED',
      `Azure ML refused to ${action}: ${message}. Request a quota increase for the VM family in this region (Azure ML studio → Quotas) or choose another instance type.`,
      { cause: error },
    )
  }
  if (name === 'AuthenticationError' && /expired|AADSTS7000222|AADSTS700082|AADSTS50173/i.test(message)) {
    return new AdapterError(
      'AUTH',
      `Azure did not accept the credentials to ${action} because they expired or were revoked: ${message}. Create a new client secret (AZURE_CLIENT_SECRET), run \`az login\` again, or check the managed identity.`,
      { cause: error },
    )
  }
  if (name === 'AuthenticationError' || statusCode === 401 || statusCode === 403) {
    return new AdapterError(
      'AUTH',
      `Azure denied the request to ${action}: ${message}. Give the identity the AzureML Data Scientist role on the workspace.`,
      { cause: error },
    )
  }
  if (statusCode === 429) {
    return new AdapterError(
      'THROTTLED',
      `Azure ML throttled the request to ${action}: ${message}. Retry later.`,
      {
        cause: error,
      },
    )
  }
  if (statusCode === 404) {
    return new AdapterError(
      'NOT_FOUND',
      `Azure ML could not ${action}: ${message}. Check subscriptionId, resourceGroup, workspace and the job name.`,
      { cause: error },
    )
  }
  if (statusCode === 400) {
    return new AdapterError(
      'CONFIG_INVALID',
      `Azure ML rejected the request to ${action}: ${message}. Fix the compute config (computeName, environmentId, instanceType).`,
      { cause: error },
    )
  }
  return new AdapterError('UNAVAILABLE', `Azure ML failed to ${action}: ${message}.`, { cause: error })
}

/** Maps an Azure ML job to a provider-independent status. */
export function azureMlStatus(job: JobBase): JobStatus {
  const providerState = job.properties.status ?? 'Unknown'
  let state: JobState
  switch (providerState) {
    case 'Completed':
      state = 'succeeded'
      break
    case 'Failed':
    case 'NotResponding':
      state = 'failed'
      break
    case 'CancelRequested':
      state = 'cancelling'
      break
    case 'Canceled':
      state = 'cancelled'
      break
    case 'Running':
    case 'Finalizing':
      state = 'running'
      break
    default:
      state = 'pending'
  }
  // NOTE: the 2022-10-01 job resource carries no error object; failure details live in the run's
  // logs. A job stuck for quota reports it through `properties.statusMessage` on newer API versions.
  const detail = (job.properties as { statusMessage?: unknown }).statusMessage
  return providerStatus(state, providerState, typeof detail === 'string' ? detail : undefined, /quota/i)
}

/**
 * Trains on Azure Machine Learning: a command job on a compute cluster, in an environment whose
 * image is the trainer (`packages/trainer/Dockerfile`).
 *
 * Uses `@azure/arm-machinelearning` with `DefaultAzureCredential`. The job has one `uri_folder`
 * output named `model` (Azure ML exposes it as `AZURE_ML_OUTPUT_model`); the trainer writes
 * versions to `EDGEREC_OUTPUT`. `logs()` reports state changes; the trainer's output is in the
 * job's `user_logs/std_log.txt` (Azure ML studio).
 *
 * @example
 * ```ts
 * const compute = new AzureMlCompute({ subscriptionId, resourceGroup: 'rg', workspace: 'ml',
 *   computeName: 'cpu-cluster', environmentId: 'azureml:edgerec-trainer:1' })
 * ```
 */
export class AzureMlCompute implements Compute {
  readonly provider = 'azure-ml'
  readonly #options: AzureMlComputeOptions
  #client: AzureMachineLearningWorkspaces | undefined

  constructor(options: AzureMlComputeOptions) {
    this.#options = options
    this.#client = options.client
  }

  async #arm(): Promise<AzureMachineLearningWorkspaces> {
    this.#client ??= await workspaceClient(this.#options)
    return this.#client
  }

  /** The ARM id of the compute cluster. */
  get computeId(): string {
    const o = this.#options
    return `/subscriptions/${o.subscriptionId}/resourceGroups/${o.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${o.workspace}/computes/${o.computeName}`
  }

  /** The command job body for a run (exposed for inspection and dry runs). */
  buildJob(run: TrainingRun, name = jobName(run.name)): JobBase {
    const invocation = containerInvocation(run)
    const properties: CommandJob = {
      jobType: 'Command',
      displayName: name,
      experimentName: this.#options.experimentName ?? 'edgerec',
      computeId: this.computeId,
      environmentId: run.image ? run.image : this.#options.environmentId,
      command: [...invocation.entrypoint, ...invocation.args].map(shellQuote).join(' '),
      environmentVariables: invocation.env,
      // NOTE: no `mode`: the 2.1.1 serializer drops it (AssetJobOutput has no discriminator) and the
      // service default for a uri_folder output is ReadWriteMount, which is what the trainer needs.
      outputs: { model: { jobOutputType: 'uri_folder' } },
      limits: { jobLimitsType: 'Command', timeout: isoDuration(run.maxRuntimeSeconds ?? 4 * 3600) },
      tags: { edgerec: 'train' },
    }
    const instanceType = run.machine?.instanceType ?? this.#options.instanceType
    properties.resources = { instanceCount: run.machine?.instanceCount ?? 1 }
    if (instanceType) properties.resources.instanceType = instanceType
    return { properties }
  }

  async submit(run: TrainingRun): Promise<JobHandle> {
    const name = jobName(run.name)
    const body = this.buildJob(run, name)
    const client = await this.#arm()
    const submittedAt = new Date().toISOString()
    try {
      await client.jobs.createOrUpdate(this.#options.resourceGroup, this.#options.workspace, name, body)
    } catch (error) {
      throw azureMlError(error, `create command job ${name}`)
    }
    const handle: JobHandle = { provider: this.provider, id: name, submittedAt }
    if (run.output) handle.output = run.output
    return handle
  }

  async status(handle: JobHandle): Promise<JobStatus> {
    const client = await this.#arm()
    try {
      return azureMlStatus(
        await client.jobs.get(this.#options.resourceGroup, this.#options.workspace, handle.id),
      )
    } catch (error) {
      throw azureMlError(error, `get job ${handle.id}`)
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
    const client = await this.#arm()
    try {
      // Resolves once Azure ML accepted the request (202); the job then moves to CancelRequested.
      await client.jobs.beginCancel(this.#options.resourceGroup, this.#options.workspace, handle.id)
    } catch (error) {
      throw azureMlError(error, `cancel job ${handle.id}`)
    }
  }
}
