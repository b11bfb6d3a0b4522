import type {
  CreateTrainingJobRequest,
  DescribeTrainingJobResponse,
  SageMakerClient,
  TrainingInstanceType,
} from '@aws-sdk/client-sagemaker'
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
import type { SageMakerComputeConfig } from '../config/types.js'
import { AdapterError } from '../errors.js'

/** Options of {@link SageMakerCompute}: the `sagemaker` compute config plus an optional client. */
export type SageMakerComputeOptions = Omit<SageMakerComputeConfig, 'provider'> & {
  /** A ready client (tests, custom credentials). Default: `new SageMakerClient({ region })`. */
  client?: SageMakerClient
}

const sdk = () =>
  loadProvider(
    'compute',
    'sagemaker',
    ['@aws-sdk/client-sagemaker'],
    () => import('@aws-sdk/client-sagemaker'),
  )

/** SageMaker allows at most 512 characters per environment value. */
const MAX_ENV_VALUE = 512

/** Maps an SDK error to an AdapterError with a fix. */
export function sageMakerError(error: unknown, action: string): AdapterError {
  const name = error instanceof Error ? error.name : ''
  const message = error instanceof Error ? error.message : String(error)
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return new AdapterError(
      'CREDENTIALS_MISSING',
      `No AWS credentials to ${action}: ${message}. Configure the AWS default credential chain (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, SSO or an instance role).`,
      { cause: error },
    )
  }
  if (name === 'ResourceLimitExceeded') {
    return new AdapterError(
      'QUOTA_EXCEEDED',
      `SageMaker refused to ${action}: ${message}. Request a quota increase (Service Quotas → SageMaker → training job usage for the instance type) or use another instance type.`,
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
      `AWS denied the request to ${action}: ${message}. Grant sagemaker:CreateTrainingJob/DescribeTrainingJob/StopTrainingJob and iam:PassRole on the role to the caller.`,
      { cause: error },
    )
  }
  if (name === 'ThrottlingException') {
    return new AdapterError(
      'THROTTLED',
      `SageMaker throttled the request to ${action}: ${message}. Retry later.`,
      {
        cause: error,
      },
    )
  }
  if (name === 'ResourceNotFound') {
    return new AdapterError(
      'NOT_FOUND',
      `SageMaker could not ${action}: ${message}. Check the job name and region.`,
      {
        cause: error,
      },
    )
  }
  if (name === 'ValidationException') {
    return new AdapterError(
      'CONFIG_INVALID',
      `SageMaker rejected the request to ${action}: ${message}. Fix the compute config (image, roleArn, instanceType, outputS3Uri).`,
      { cause: error },
    )
  }
  return new AdapterError('UNAVAILABLE', `SageMaker failed to ${action}: ${message}.`, { cause: error })
}

const QUOTA_REASON = /ResourceLimitExceeded|CapacityError|InsufficientCapacity|quota/i

/** Maps DescribeTrainingJob to a provider-independent status. */
export function sageMakerStatus(job: DescribeTrainingJobResponse): JobStatus {
  const providerState = job.TrainingJobStatus ?? 'Unknown'
  const secondary = job.SecondaryStatus
  let state: JobState
  switch (providerState) {
    case 'Completed':
      state = 'succeeded'
      break
    case 'Failed':
      state = 'failed'
      break
    case 'Stopping':
      state = 'cancelling'
      break
    case 'Stopped':
      state = 'cancelled'
      break
    default:
      state = secondary === 'Starting' || secondary === 'Pending' ? 'pending' : 'running'
  }
  const lastTransition = job.SecondaryStatusTransitions?.at(-1)
  const parts = [secondary, job.FailureReason ?? lastTransition?.StatusMessage].filter(Boolean)
  const status: JobStatus = { state, providerState }
  if (parts.length > 0) status.message = parts.join(': ')
  if (state === 'failed' && job.FailureReason && QUOTA_REASON.test(job.FailureReason))
    status.failureCode = QUOTA_FAILURE
  return status
}

/**
 * Trains on Amazon SageMaker: a training job running the trainer image
 * (`packages/trainer/Dockerfile`) with `edgerec-train train`.
 *
 * The job reads its config from `EDGEREC_CONFIG` (a path inside the image) or
 * `EDGEREC_CONFIG_JSON`, and writes versions to the model registry named by `EDGEREC_OUTPUT`
 * using the job role's credentials. `logs()` reports SageMaker's status transitions; the trainer's
 * own output is in CloudWatch Logs (`/aws/sagemaker/TrainingJobs`, stream `<job name>/…`).
 *
 * @example
 * ```ts
 * const compute = new SageMakerCompute({
 *   region: 'eu-west-1',
 *   roleArn: 'arn:aws:iam::123456789012:role/edgerec-training',
 *   image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/edgerec-trainer:latest',
 *   outputS3Uri: 's3://my-models/sagemaker/',
 * })
 * const job = await compute.submit({ config: { path: '/app/edgerec.config.ts' }, output: { provider: 's3', bucket: 'my-models' } })
 * await compute.wait(job, { onStatus: (s) => console.log(s.providerState, s.message) })
 * ```
 */
export class SageMakerCompute implements Compute {
  readonly provider = 'sagemaker'
  readonly #options: SageMakerComputeOptions
  #client: SageMakerClient | undefined

  constructor(options: SageMakerComputeOptions) {
    this.#options = options
    this.#client = options.client
  }

  async #sagemaker(): Promise<SageMakerClient> {
    if (!this.#client) {
      const { SageMakerClient } = await sdk()
      this.#client = new SageMakerClient(this.#options.region ? { region: this.#options.region } : {})
    }
    return this.#client
  }

  /** The CreateTrainingJob request for a run (exposed for inspection and dry runs). */
  buildRequest(run: TrainingRun, name = jobName(run.name)): CreateTrainingJobRequest {
    const invocation = containerInvocation(run)
    for (const [key, value] of Object.entries(invocation.env)) {
      if (value.length > MAX_ENV_VALUE) {
        throw new AdapterError(
          'CONFIG_INVALID',
          `Environment variable ${key} is ${value.length} characters; SageMaker allows ${MAX_ENV_VALUE}. ` +
            'Bake the config into the image and pass config: { path } instead of an inline config.',
        )
      }
    }
    return {
      TrainingJobName: name,
      RoleArn: this.#options.roleArn,
      AlgorithmSpecification: {
        TrainingImage: run.image ?? this.#options.image,
        TrainingInputMode: 'File',
        ContainerEntrypoint: invocation.entrypoint,
        ContainerArguments: invocation.args,
      },
      ResourceConfig: {
        InstanceType: (run.machine?.instanceType ??
          this.#options.instanceType ??
          'ml.m5.xlarge') as TrainingInstanceType,
        InstanceCount: run.machine?.instanceCount ?? 1,
        VolumeSizeInGB: run.machine?.diskGb ?? 30,
      },
      OutputDataConfig: { S3OutputPath: this.#options.outputS3Uri },
      StoppingCondition: { MaxRuntimeInSeconds: run.maxRuntimeSeconds ?? 4 * 3600 },
      Environment: invocation.env,
      Tags: [{ Key: 'edgerec', Value: 'train' }],
    }
  }

  async submit(run: TrainingRun): Promise<JobHandle> {
    const request = this.buildRequest(run)
    const { CreateTrainingJobCommand } = await sdk()
    const client = await this.#sagemaker()
    const submittedAt = new Date().toISOString()
    try {
      await client.send(new CreateTrainingJobCommand(request))
    } catch (error) {
      throw sageMakerError(error, `create training job ${request.TrainingJobName}`)
    }
    const handle: JobHandle = { provider: this.provider, id: request.TrainingJobName!, submittedAt }
    if (run.output) handle.output = run.output
    return handle
  }

  async status(handle: JobHandle): Promise<JobStatus> {
    const { DescribeTrainingJobCommand } = await sdk()
    const client = await this.#sagemaker()
    try {
      return sageMakerStatus(
        await client.send(new DescribeTrainingJobCommand({ TrainingJobName: handle.id })),
      )
    } catch (error) {
      throw sageMakerError(error, `describe training job ${handle.id}`)
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
    const { StopTrainingJobCommand } = await sdk()
    const client = await this.#sagemaker()
    try {
      await client.send(new StopTrainingJobCommand({ TrainingJobName: handle.id }))
    } catch (error) {
      throw sageMakerError(error, `stop training job ${handle.id}`)
    }
  }
}
