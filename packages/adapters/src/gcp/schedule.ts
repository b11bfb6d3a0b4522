import type { CloudSchedulerClient } from '@google-cloud/scheduler'
import { loadProvider } from '../config/load-provider.js'
import type { VertexAiComputeConfig } from '../config/types.js'
import { AdapterError } from '../errors.js'
import { cronFields, type ScheduleInfo, type Scheduler, type ScheduleSpec } from '../schedule/schedule.js'
import { CLOUD_PLATFORM_SCOPE, googleAuthClient } from './auth.js'
import { type CustomJobRequest, VertexAiCompute } from './compute.js'
import { GRPC, vertexAiError } from './errors.js'

type ClientOptions = NonNullable<ConstructorParameters<typeof CloudSchedulerClient>[0]>

/** Options of {@link CloudSchedulerVertexAi}: the `vertex-ai` compute config plus optional client/auth. */
export type CloudSchedulerVertexAiOptions = Omit<VertexAiComputeConfig, 'provider'> & {
  /** A ready client. Default: `new CloudSchedulerClient({ fallback: true })` (REST). */
  client?: CloudSchedulerClient
  /** Auth client (google-auth-library) used instead of Application Default Credentials. */
  authClient?: ClientOptions['authClient']
}

/** The Cloud Scheduler job this adapter creates (REST field names; `body` is the JSON text). */
export interface CloudSchedulerJobRequest {
  parent: string
  job: {
    name: string
    description: string
    schedule: string
    timeZone: string
    httpTarget: {
      uri: string
      httpMethod: 'POST'
      headers: Record<string, string>
      body: Buffer
      oauthToken: { serviceAccountEmail: string; scope: string }
    }
    retryConfig: { retryCount: number }
    attemptDeadline: { seconds: number }
  }
}

/** The CustomJob in the proto3 JSON Vertex AI's REST API takes (durations as `"<n>s"`). */
export type CustomJobJson = Omit<CustomJobRequest['customJob'], 'jobSpec'> & {
  jobSpec: Omit<CustomJobRequest['customJob']['jobSpec'], 'scheduling'> & {
    scheduling: { timeout: string }
  }
}

const sdk = () =>
  loadProvider(
    'compute',
    'vertex-ai',
    ['@google-cloud/scheduler', 'google-auth-library'],
    () => import('@google-cloud/scheduler'),
  )

/** Label values: lowercase letters, digits, `_` and `-`, at most 63. */
const labelValue = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '-')
    .slice(0, 63)

/** Cloud Scheduler `Job.State`, for responses that carry it as a number. */
const JOB_STATES = ['STATE_UNSPECIFIED', 'ENABLED', 'PAUSED', 'DISABLED', 'UPDATE_FAILED'] as const

const jobState = (state: string | number | null | undefined): string | undefined =>
  typeof state === 'number' ? (JOB_STATES[state] ?? `STATE_${state}`) : (state ?? undefined)

function schedulerError(error: unknown, action: string): AdapterError {
  const code = (error as { code?: unknown })?.code
  const message = error instanceof Error ? error.message : String(error)
  if (code === 6) {
    return new AdapterError(
      'PRECONDITION_FAILED',
      `Cloud Scheduler refused to ${action}: ${message}. A job of that name exists: delete it first (edgerec-train schedule delete <name>) or pick another --name.`,
      { cause: error },
    )
  }
  if (code === GRPC.PERMISSION_DENIED) {
    return new AdapterError(
      'AUTH',
      `Google denied the request to ${action}: ${message}. Grant the caller roles/cloudscheduler.admin (or cloudscheduler.jobs.create/list/get/delete) and roles/iam.serviceAccountUser on compute.schedulerServiceAccount.`,
      { cause: error },
    )
  }
  const mapped = vertexAiError(error, action)
  return mapped.code === 'UNAVAILABLE'
    ? new AdapterError('UNAVAILABLE', `Cloud Scheduler failed to ${action}: ${message}.`, { cause: error })
    : mapped
}

/**
 * Recurring Vertex AI custom jobs in Cloud Scheduler: an HTTP job that POSTs, at each firing, the
 * same CustomJob `edgerec-train train` would create to Vertex AI's `customJobs.create` REST
 * endpoint, with an OAuth access token of `schedulerServiceAccount` (Cloud Scheduler mints it).
 *
 * Cloud Scheduler takes standard 5-field cron (unix-cron) and IANA time zones as they are.
 *
 * @example
 * ```ts
 * const scheduler = new CloudSchedulerVertexAi({ ...vertexConfig, schedulerServiceAccount: 'edgerec-scheduler@p.iam.gserviceaccount.com' })
 * await scheduler.create({ name: 'edgerec-nightly', cron: '17 3 * * *', run: { config: { inline }, output } })
 * ```
 */
export class CloudSchedulerVertexAi implements Scheduler {
  readonly provider = 'vertex-ai'
  readonly #options: CloudSchedulerVertexAiOptions
  #client: CloudSchedulerClient | undefined

  constructor(options: CloudSchedulerVertexAiOptions) {
    this.#options = options
    this.#client = options.client
  }

  /** `projects/<p>/locations/<schedulerLocation or location>`: where the scheduler jobs live. */
  get parent(): string {
    return `projects/${this.#options.projectId}/locations/${this.#options.schedulerLocation ?? this.#options.location}`
  }

  /** The Vertex AI endpoint each firing calls. */
  get targetUri(): string {
    const host = this.#options.apiEndpoint ?? `${this.#options.location}-aiplatform.googleapis.com`
    return `https://${host}/v1/projects/${this.#options.projectId}/locations/${this.#options.location}/customJobs`
  }

  async #scheduler(): Promise<CloudSchedulerClient> {
    if (!this.#client) {
      const { CloudSchedulerClient } = await sdk()
      const authClient =
        this.#options.authClient ??
        ((await googleAuthClient('call Cloud Scheduler')) as ClientOptions['authClient'])
      this.#client = new CloudSchedulerClient({
        fallback: true,
        projectId: this.#options.projectId,
        authClient,
      })
    }
    return this.#client
  }

  /** The CustomJob body of every firing, in Vertex AI's REST JSON. */
  customJob(spec: ScheduleSpec): CustomJobJson {
    const { client: _client, authClient: _auth, ...compute } = this.#options
    const { customJob } = new VertexAiCompute(compute).buildRequest(spec.run, spec.name)
    const { scheduling, ...jobSpec } = customJob.jobSpec
    return {
      ...customJob,
      labels: { ...customJob.labels, 'edgerec-schedule': labelValue(spec.name) },
      jobSpec: { ...jobSpec, scheduling: { timeout: `${scheduling.timeout.seconds}s` } },
    }
  }

  /** The CreateJob request (exposed for inspection and dry runs). */
  buildRequest(spec: ScheduleSpec): CloudSchedulerJobRequest {
    const serviceAccountEmail = this.#options.schedulerServiceAccount
    if (!serviceAccountEmail) {
      throw new AdapterError(
        'CONFIG_INVALID',
        'compute.schedulerServiceAccount is required to schedule Vertex AI jobs: the service account whose OAuth token Cloud Scheduler sends to Vertex AI (roles/aiplatform.user on the project, roles/iam.serviceAccountUser on compute.serviceAccount).',
      )
    }
    cronFields(spec.cron)
    return {
      parent: this.parent,
      job: {
        name: `${this.parent}/jobs/${spec.name}`,
        description: 'edgerec: recurring training job (edgerec-train schedule)',
        schedule: spec.cron.trim().split(/\s+/).join(' '),
        timeZone: spec.timezone ?? 'UTC',
        httpTarget: {
          uri: this.targetUri,
          httpMethod: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: Buffer.from(JSON.stringify(this.customJob(spec))),
          oauthToken: { serviceAccountEmail, scope: CLOUD_PLATFORM_SCOPE },
        },
        // A failed firing is not retried: the next one trains on newer events anyway.
        retryConfig: { retryCount: 0 },
        attemptDeadline: { seconds: 60 },
      },
    }
  }

  async create(spec: ScheduleSpec): Promise<ScheduleInfo> {
    const request = this.buildRequest(spec)
    const client = await this.#scheduler()
    try {
      const [job] = await client.createJob(request)
      const info: ScheduleInfo = {
        name: spec.name,
        expression: job.schedule ?? request.job.schedule,
        timezone: job.timeZone ?? request.job.timeZone,
        state: jobState(job.state) ?? 'ENABLED',
      }
      info.id = job.name ?? request.job.name
      return info
    } catch (error) {
      throw schedulerError(error, `create schedule ${spec.name}`)
    }
  }

  async list(): Promise<ScheduleInfo[]> {
    const client = await this.#scheduler()
    try {
      const [jobs] = await client.listJobs({ parent: this.parent })
      const out: ScheduleInfo[] = []
      for (const job of jobs) {
        const name = job.name?.split('/').at(-1)
        if (!name?.startsWith('edgerec') || job.httpTarget?.uri !== this.targetUri) continue
        const info: ScheduleInfo = {
          name,
          expression: job.schedule ?? '',
          state: jobState(job.state) ?? 'UNKNOWN',
          id: job.name!,
        }
        if (job.timeZone) info.timezone = job.timeZone
        out.push(info)
      }
      return out
    } catch (error) {
      throw schedulerError(error, 'list schedules')
    }
  }

  async delete(name: string): Promise<void> {
    const client = await this.#scheduler()
    try {
      await client.deleteJob({ name: `${this.parent}/jobs/${name}` })
    } catch (error) {
      if ((error as { code?: unknown })?.code === GRPC.NOT_FOUND) {
        throw new AdapterError(
          'NOT_FOUND',
          `No schedule ${name} in ${this.parent}. List them with edgerec-train schedule list.`,
          { cause: error },
        )
      }
      throw schedulerError(error, `delete schedule ${name}`)
    }
  }

  /** Closes the underlying client. */
  async close(): Promise<void> {
    await this.#client?.close().catch(() => undefined)
  }
}
