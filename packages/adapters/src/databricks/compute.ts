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
import type { DatabricksSparkConfig } from '../config/types.js'
import { AdapterError } from '../errors.js'
import { pysparkJob, sparkResult } from '../spark/job.js'

/** Options of {@link DatabricksCompute}: the `spark` / `databricks` config plus test hooks. */
export type DatabricksComputeOptions = Omit<DatabricksSparkConfig, 'provider' | 'platform'> & {
  /** Environment holding the token variable. Default `process.env`. */
  env?: Record<string, string | undefined>
  /** `fetch` to use. Default: the global one. */
  fetch?: typeof fetch
}

/** The JSON body of `POST /api/2.1/jobs/runs/submit` this adapter sends. */
export interface RunsSubmitRequest {
  run_name: string
  timeout_seconds: number
  tasks: Array<{
    task_key: string
    spark_python_task: { python_file: string; parameters: string[] }
    existing_cluster_id?: string
    new_cluster?: {
      spark_version: string
      node_type_id: string
      num_workers: number
      spark_conf?: Record<string, string>
      aws_attributes?: { instance_profile_arn: string }
      custom_tags: Record<string, string>
    }
  }>
}

/** The parts of `GET /api/2.1/jobs/runs/get` this adapter reads. */
interface RunLike {
  run_id?: number
  run_page_url?: string
  state?: { life_cycle_state?: string; result_state?: string; state_message?: string }
}

/** Maps a Databricks run to a provider-independent status. */
export function databricksStatus(run: RunLike): JobStatus {
  const life = run.state?.life_cycle_state ?? 'UNKNOWN'
  const result = run.state?.result_state
  let state: JobState
  switch (life) {
    case 'TERMINATED':
    case 'SKIPPED':
    case 'INTERNAL_ERROR':
      state =
        result === 'SUCCESS'
          ? 'succeeded'
          : result === 'CANCELED' || result === 'CANCELLED' || life === 'SKIPPED'
            ? 'cancelled'
            : 'failed'
      break
    case 'TERMINATING':
      state = result === 'CANCELED' ? 'cancelling' : 'running'
      break
    case 'RUNNING':
      state = 'running'
      break
    default:
      state = 'pending'
  }
  return providerStatus(
    state,
    result ? `${life}/${result}` : life,
    run.state?.state_message,
    /quota|capacity|instance limit/i,
  )
}

/**
 * Spark on Databricks through the Jobs API 2.1 REST endpoints (`runs/submit`, `runs/get`,
 * `runs/cancel`) with `fetch`: Databricks publishes no official JavaScript SDK for the Jobs API
 * (its SDKs are Python, Java and Go), so this adapter calls the documented REST API directly. The
 * token is read from the env var named by `tokenEnv` (default `DATABRICKS_TOKEN`), never from the
 * config. The run's page is `run_page_url`; the driver's output is in the run's logs there.
 *
 * @example
 * ```ts
 * const compute = new DatabricksCompute({ host: 'https://dbc-1234.cloud.databricks.com', nodeTypeId: 'i3.xlarge' })
 * const job = await compute.submit({ pyspark: { mainPythonFileUri: 's3://b/edgerec_als.py', args: [] } })
 * ```
 */
export class DatabricksCompute implements Compute {
  readonly provider = 'databricks'
  readonly #options: DatabricksComputeOptions

  constructor(options: DatabricksComputeOptions) {
    this.#options = options
  }

  get #host(): string {
    return this.#options.host.replace(/\/+$/, '')
  }

  #token(action: string): string {
    const name = this.#options.tokenEnv ?? 'DATABRICKS_TOKEN'
    const token = (this.#options.env ?? process.env)[name]
    if (!token) {
      throw new AdapterError(
        'CREDENTIALS_MISSING',
        `No Databricks token to ${action}: the env var ${name} is not set. Create a personal access token or a service principal OAuth token in the workspace and export ${name}=<token> (a secret: never put it in edgerec.config.ts).`,
      )
    }
    return token
  }

  async #call(method: 'GET' | 'POST', path: string, action: string, body?: unknown): Promise<unknown> {
    const token = this.#token(action)
    const doFetch = this.#options.fetch ?? fetch
    let response: Response
    try {
      response = await doFetch(`${this.#host}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
    } catch (error) {
      throw new AdapterError(
        'UNAVAILABLE',
        `Databricks could not be reached to ${action}: ${(error as Error).message}. Check compute.host and the network.`,
        { cause: error },
      )
    }
    const text = await response.text()
    let parsed: { error_code?: string; message?: string } = {}
    try {
      parsed = text ? (JSON.parse(text) as typeof parsed) : {}
    } catch {
      // NOTE: a non-JSON body (an HTML error page) is reported by status below.
    }
    if (response.ok) return parsed
    const detail = `${response.status}${parsed.error_code ? ` ${parsed.error_code}` : ''}: ${parsed.message ?? text.slice(0, 200)}`
    if (response.status === 401)
      throw new AdapterError(
        'AUTH',
        `Databricks did not accept the token to ${action} (expired, revoked or malformed) (${detail}). Create a new token and export it in ${this.#options.tokenEnv ?? 'DATABRICKS_TOKEN'}.`,
      )
    if (response.status === 403)
      throw new AdapterError(
        'AUTH',
        `Databricks denied the request to ${action} (${detail}). Give the token's user or service principal permission to create job runs (and to use the cluster or cluster policy).`,
      )
    if (response.status === 429)
      throw new AdapterError(
        'THROTTLED',
        `Databricks throttled the request to ${action} (${detail}). Retry later.`,
      )
    if (response.status === 404 || parsed.error_code === 'RESOURCE_DOES_NOT_EXIST')
      throw new AdapterError(
        'NOT_FOUND',
        `Databricks could not ${action} (${detail}). Check compute.host and the run id.`,
      )
    if (response.status === 400)
      throw new AdapterError(
        'CONFIG_INVALID',
        `Databricks rejected the request to ${action} (${detail}). Fix the compute config (sparkVersion, nodeTypeId, existingClusterId, sparkConf).`,
      )
    throw new AdapterError('UNAVAILABLE', `Databricks failed to ${action} (${detail}).`)
  }

  /** The `runs/submit` body for a run (exposed for inspection and dry runs). */
  buildRequest(run: TrainingRun, name = jobName(run.name ?? 'edgerec-spark')): RunsSubmitRequest {
    const job = pysparkJob(run, this.#options, 'databricks')
    const task: RunsSubmitRequest['tasks'][number] = {
      task_key: 'edgerec_als',
      spark_python_task: { python_file: job.mainPythonFileUri, parameters: job.args },
    }
    if (this.#options.existingClusterId) {
      task.existing_cluster_id = this.#options.existingClusterId
    } else {
      if (!this.#options.nodeTypeId) {
        throw new AdapterError(
          'CONFIG_INVALID',
          "Spark on databricks needs compute.nodeTypeId (e.g. 'i3.xlarge') for a job cluster, or compute.existingClusterId.",
        )
      }
      const cluster: NonNullable<RunsSubmitRequest['tasks'][number]['new_cluster']> = {
        spark_version: this.#options.sparkVersion ?? '15.4.x-scala2.12',
        node_type_id: this.#options.nodeTypeId,
        num_workers: this.#options.numWorkers ?? 2,
        custom_tags: { edgerec: 'train' },
      }
      if (job.sparkConf) cluster.spark_conf = job.sparkConf
      if (this.#options.instanceProfileArn)
        cluster.aws_attributes = { instance_profile_arn: this.#options.instanceProfileArn }
      task.new_cluster = cluster
    }
    return { run_name: name, timeout_seconds: run.maxRuntimeSeconds ?? 4 * 3600, tasks: [task] }
  }

  async submit(run: TrainingRun): Promise<JobHandle> {
    const request = this.buildRequest(run)
    const submittedAt = new Date().toISOString()
    const response = (await this.#call(
      'POST',
      '/api/2.1/jobs/runs/submit',
      `submit run ${request.run_name}`,
      request,
    )) as {
      run_id?: number
    }
    if (typeof response.run_id !== 'number') {
      throw new AdapterError(
        'UNAVAILABLE',
        'Databricks accepted the run but returned no run_id. Check the workspace.',
      )
    }
    const handle: JobHandle = { provider: this.provider, id: String(response.run_id), submittedAt }
    if (run.output) handle.output = run.output
    // The run's page is what runs/get reports as run_page_url ("The URL to the detail page of the
    // run", Jobs API 2.1 reference); the workspace UI's URL scheme is not documented otherwise.
    try {
      const info = (await this.#call(
        'GET',
        `/api/2.1/jobs/runs/get?run_id=${encodeURIComponent(handle.id)}`,
        `get run ${handle.id}`,
      )) as RunLike
      if (typeof info.run_page_url === 'string' && /^https:\/\//.test(info.run_page_url))
        handle.url = info.run_page_url
    } catch {
      // NOTE: the link is a convenience; the run exists and the status polls report any problem.
    }
    return handle
  }

  async status(handle: JobHandle): Promise<JobStatus> {
    const run = (await this.#call(
      'GET',
      `/api/2.1/jobs/runs/get?run_id=${encodeURIComponent(handle.id)}`,
      `get run ${handle.id}`,
    )) as RunLike
    return databricksStatus(run)
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
    await this.#call('POST', '/api/2.1/jobs/runs/cancel', `cancel run ${handle.id}`, {
      run_id: Number(handle.id),
    })
  }
}
