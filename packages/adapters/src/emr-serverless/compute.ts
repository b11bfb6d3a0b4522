import type {
  EMRServerlessClient,
  GetJobRunResponse,
  StartJobRunRequest,
} from '@aws-sdk/client-emr-serverless'
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
import type { EmrServerlessSparkConfig } from '../config/types.js'
import { AdapterError } from '../errors.js'
import { pysparkJob, sparkResult, sparkSubmitParameters } from '../spark/job.js'

/** Options of {@link EmrServerlessCompute}: the `spark` / `emr-serverless` config plus an optional client. */
export type EmrServerlessComputeOptions = Omit<EmrServerlessSparkConfig, 'provider' | 'platform'> & {
  /** A ready client (tests, custom credentials). Default: `new EMRServerlessClient({ region })`. */
  client?: EMRServerlessClient
}

const sdk = () =>
  loadProvider(
    'compute',
    'spark',
    ['@aws-sdk/client-emr-serverless'],
    () => import('@aws-sdk/client-emr-serverless'),
  )

/** Maps an EMR Serverless SDK error to an AdapterError with a fix. */
export function emrServerlessError(error: unknown, action: string): AdapterError {
  const name = error instanceof Error ? error.name : ''
  const message = error instanceof Error ? error.message : String(error)
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return new AdapterError(
      'CREDENTIALS_MISSING',
      `No AWS credentials to ${action}: ${message}. Configure the AWS default credential chain (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, SSO or an instance role).`,
      { cause: error },
    )
  }
  if (name === 'ExpiredTokenException' || name === 'ExpiredToken' || /token .*expired/i.test(message)) {
    return new AdapterError(
      'AUTH',
      `AWS refused the request to ${action} because the credentials expired: ${message}. Refresh the AWS credentials (aws sso login, a new session token, or re-assume the role) and run again.`,
      { cause: error },
    )
  }
  if (name === 'AccessDeniedException' || name === 'UnrecognizedClientException') {
    return new AdapterError(
      'AUTH',
      `AWS denied the request to ${action}: ${message}. Grant emr-serverless:StartJobRun/GetJobRun/CancelJobRun on the application and iam:PassRole on the execution role to the caller.`,
      { cause: error },
    )
  }
  if (name === 'ServiceQuotaExceededException') {
    return new AdapterError(
      'QUOTA_EXCEEDED',
      `EMR Serverless refused to ${action}: ${message}. Raise the application's maximum capacity or the account's vCPU quota (Service Quotas → EMR Serverless).`,
      { cause: error },
    )
  }
  if (name === 'ThrottlingException') {
    return new AdapterError(
      'THROTTLED',
      `EMR Serverless throttled the request to ${action}: ${message}. Retry later.`,
      {
        cause: error,
      },
    )
  }
  if (name === 'ResourceNotFoundException') {
    return new AdapterError(
      'NOT_FOUND',
      `EMR Serverless could not ${action}: ${message}. Check compute.applicationId and the region.`,
      { cause: error },
    )
  }
  if (name === 'ValidationException' || name === 'ConflictException') {
    return new AdapterError(
      'CONFIG_INVALID',
      `EMR Serverless rejected the request to ${action}: ${message}. Fix the compute config (applicationId, executionRoleArn, sparkConf) or start the application.`,
      { cause: error },
    )
  }
  return new AdapterError('UNAVAILABLE', `EMR Serverless failed to ${action}: ${message}.`, { cause: error })
}

const QUOTA_REASON = /quota|capacity|maximum (allowed )?(vcpu|capacity)/i

/** Maps GetJobRun to a provider-independent status. */
export function emrServerlessStatus(response: Pick<GetJobRunResponse, 'jobRun'>): JobStatus {
  const run = response.jobRun
  const providerState = run?.state ?? 'UNKNOWN'
  let state: JobState
  switch (providerState) {
    case 'SUCCESS':
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
  return providerStatus(state, providerState, run?.stateDetails, QUOTA_REASON)
}

/**
 * Spark on Amazon EMR Serverless: `StartJobRun` of the run's PySpark script on an existing Spark
 * application, polled with `GetJobRun`. The job runs as `executionRoleArn`; the driver's output is
 * in the application's logs (S3 `logUri`, or the EMR Studio Spark UI).
 *
 * @example
 * ```ts
 * const compute = new EmrServerlessCompute({ region: 'eu-west-1', applicationId: '00fabc…',
 *   executionRoleArn: 'arn:aws:iam::123456789012:role/edgerec-spark' })
 * const job = await compute.submit({ pyspark: { mainPythonFileUri: 's3://b/edgerec_als.py', args: [] } })
 * ```
 */
export class EmrServerlessCompute implements Compute {
  readonly provider = 'emr-serverless'
  readonly #options: EmrServerlessComputeOptions
  #client: EMRServerlessClient | undefined

  constructor(options: EmrServerlessComputeOptions) {
    this.#options = options
    this.#client = options.client
  }

  async #emr(): Promise<EMRServerlessClient> {
    if (!this.#client) {
      const { EMRServerlessClient } = await sdk()
      this.#client = new EMRServerlessClient(this.#options.region ? { region: this.#options.region } : {})
    }
    return this.#client
  }

  /** The StartJobRun request for a run (exposed for inspection and dry runs). */
  buildRequest(run: TrainingRun, name = jobName(run.name ?? 'edgerec-spark')): StartJobRunRequest {
    const job = pysparkJob(run, this.#options, 'emr-serverless')
    const parameters = sparkSubmitParameters(job.sparkConf)
    const request: StartJobRunRequest = {
      applicationId: this.#options.applicationId,
      clientToken: name,
      executionRoleArn: this.#options.executionRoleArn,
      name,
      jobDriver: {
        sparkSubmit: {
          entryPoint: job.mainPythonFileUri,
          entryPointArguments: job.args,
          ...(parameters ? { sparkSubmitParameters: parameters } : {}),
        },
      },
      executionTimeoutMinutes: Math.ceil((run.maxRuntimeSeconds ?? 4 * 3600) / 60),
      tags: { edgerec: 'train' },
    }
    if (this.#options.logUri) {
      request.configurationOverrides = {
        monitoringConfiguration: { s3MonitoringConfiguration: { logUri: this.#options.logUri } },
      }
    }
    return request
  }

  async submit(run: TrainingRun): Promise<JobHandle> {
    const request = this.buildRequest(run)
    const { StartJobRunCommand } = await sdk()
    const client = await this.#emr()
    const submittedAt = new Date().toISOString()
    let jobRunId: string | undefined
    try {
      jobRunId = (await client.send(new StartJobRunCommand(request))).jobRunId
    } catch (error) {
      throw emrServerlessError(error, `start job run ${request.name} on application ${request.applicationId}`)
    }
    if (!jobRunId) {
      throw new AdapterError(
        'UNAVAILABLE',
        'EMR Serverless accepted the job run but returned no jobRunId. Check the console.',
      )
    }
    const handle: JobHandle = { provider: this.provider, id: jobRunId, submittedAt }
    if (run.output) handle.output = run.output
    return handle
  }

  async status(handle: JobHandle): Promise<JobStatus> {
    const { GetJobRunCommand } = await sdk()
    const client = await this.#emr()
    try {
      return emrServerlessStatus(
        await client.send(
          new GetJobRunCommand({ applicationId: this.#options.applicationId, jobRunId: handle.id }),
        ),
      )
    } catch (error) {
      throw emrServerlessError(error, `get job run ${handle.id}`)
    }
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

  async cancel(handle: JobHandle): Promise<void> {
    const { CancelJobRunCommand } = await sdk()
    const client = await this.#emr()
    try {
      await client.send(
        new CancelJobRunCommand({ applicationId: this.#options.applicationId, jobRunId: handle.id }),
      )
    } catch (error) {
      throw emrServerlessError(error, `cancel job run ${handle.id}`)
    }
  }
}
