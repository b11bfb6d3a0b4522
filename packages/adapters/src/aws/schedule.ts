import type { SchedulerClient } from '@aws-sdk/client-scheduler'
import { loadProvider } from '../config/load-provider.js'
import type { SageMakerComputeConfig } from '../config/types.js'
import { AdapterError } from '../errors.js'
import { cronFields, type ScheduleInfo, type Scheduler, type ScheduleSpec } from '../schedule/schedule.js'
import { SageMakerCompute, sageMakerError } from './compute.js'

/** Options of {@link EventBridgeScheduler}: the `sagemaker` compute config plus an optional client. */
export type EventBridgeSchedulerOptions = Omit<SageMakerComputeConfig, 'provider'> & {
  /** Schedule group. Default `default`; names are prefixed `edgerec-` by the CLI. */
  groupName?: string
  /** A ready client (tests, custom credentials). Default: `new SchedulerClient({ region })`. */
  client?: SchedulerClient
}

/** EventBridge Scheduler's universal target for SageMaker `CreateTrainingJob`. */
export const SAGEMAKER_CREATE_TRAINING_JOB_TARGET = 'arn:aws:scheduler:::aws-sdk:sagemaker:createTrainingJob'

/**
 * The training job name of every firing: EventBridge Scheduler replaces the context attribute
 * with the firing's execution id (a UUID), so each job name is new.
 */
export const SCHEDULED_JOB_NAME = 'edgerec-<aws.scheduler.execution-id>'

const sdk = () =>
  loadProvider(
    'compute',
    'sagemaker',
    ['@aws-sdk/client-scheduler'],
    () => import('@aws-sdk/client-scheduler'),
  )

/**
 * Standard cron → EventBridge `cron(min hour dom month dow year)`: one of day-of-month and
 * day-of-week must be `?`, and day-of-week counts 1–7 from Sunday (standard: 0–6).
 */
export function eventBridgeCron(cron: string): string {
  const [minute, hour, dom, month, dow] = cronFields(cron)
  const restricted = (field: string): boolean => field !== '*' && field !== '?'
  if (restricted(dom) && restricted(dow)) {
    throw new AdapterError(
      'CONFIG_INVALID',
      `${JSON.stringify(cron)} restricts both the day of the month and the day of the week; EventBridge Scheduler needs one of them to be "*" (its "?"). Create two schedules instead.`,
    )
  }
  const weekday = dow.replace(/\d/g, (d) => String((Number(d) % 7) + 1))
  const [day, week] = dow === '*' || dow === '?' ? [dom === '*' ? '*' : dom, '?'] : ['?', weekday]
  return `cron(${minute} ${hour} ${day} ${month} ${week} *)`
}

function schedulerError(error: unknown, action: string): AdapterError {
  const name = error instanceof Error ? error.name : ''
  const message = error instanceof Error ? error.message : String(error)
  if (name === 'ConflictException') {
    return new AdapterError(
      'PRECONDITION_FAILED',
      `EventBridge Scheduler refused to ${action}: ${message}. A schedule of that name exists: delete it first (edgerec-train schedule delete <name>) or pick another --name.`,
      { cause: error },
    )
  }
  const mapped = sageMakerError(error, action)
  if (mapped.code === 'AUTH' && !/expired/.test(mapped.message)) {
    return new AdapterError(
      'AUTH',
      `AWS denied the request to ${action}: ${message}. Grant scheduler:CreateSchedule/ListSchedules/GetSchedule/DeleteSchedule and iam:PassRole on the scheduler role to the caller.`,
      { cause: error },
    )
  }
  return mapped
}

/**
 * Recurring SageMaker training jobs in EventBridge Scheduler: each firing calls
 * `sagemaker:CreateTrainingJob` (universal target) with the same request `edgerec-train train`
 * would send, named `edgerec-<execution id>`, as `schedulerRoleArn`.
 *
 * @example
 * ```ts
 * const scheduler = new EventBridgeScheduler({ ...sagemakerConfig, schedulerRoleArn })
 * await scheduler.create({ name: 'edgerec-nightly', cron: '17 3 * * *', run: { config: { inline }, output } })
 * ```
 */
export class EventBridgeScheduler implements Scheduler {
  readonly provider = 'sagemaker'
  readonly #options: EventBridgeSchedulerOptions
  #client: SchedulerClient | undefined

  constructor(options: EventBridgeSchedulerOptions) {
    this.#options = options
    this.#client = options.client
  }

  async #scheduler(): Promise<SchedulerClient> {
    if (!this.#client) {
      const { SchedulerClient } = await sdk()
      this.#client = new SchedulerClient(this.#options.region ? { region: this.#options.region } : {})
    }
    return this.#client
  }

  get #group(): string {
    return this.#options.groupName ?? 'default'
  }

  /** The CreateSchedule request (exposed for inspection and dry runs). */
  buildRequest(spec: ScheduleSpec) {
    const roleArn = this.#options.schedulerRoleArn
    if (!roleArn) {
      throw new AdapterError(
        'CONFIG_INVALID',
        'compute.schedulerRoleArn is required to schedule SageMaker jobs: the role EventBridge Scheduler assumes (trusted by scheduler.amazonaws.com, allowed sagemaker:CreateTrainingJob and iam:PassRole of compute.roleArn).',
      )
    }
    const { client: _client, groupName: _group, ...compute } = this.#options
    const request = new SageMakerCompute(compute).buildRequest(spec.run, SCHEDULED_JOB_NAME)
    return {
      Name: spec.name,
      GroupName: this.#group,
      ScheduleExpression: eventBridgeCron(spec.cron),
      ScheduleExpressionTimezone: spec.timezone ?? 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' as const },
      State: 'ENABLED' as const,
      Description: 'edgerec: recurring training job (edgerec-train schedule)',
      Target: {
        Arn: SAGEMAKER_CREATE_TRAINING_JOB_TARGET,
        RoleArn: roleArn,
        Input: JSON.stringify(request),
        RetryPolicy: { MaximumRetryAttempts: 0 },
      },
    }
  }

  async create(spec: ScheduleSpec): Promise<ScheduleInfo> {
    const request = this.buildRequest(spec)
    const { CreateScheduleCommand } = await sdk()
    const client = await this.#scheduler()
    try {
      const out = await client.send(new CreateScheduleCommand(request))
      const info: ScheduleInfo = {
        name: spec.name,
        expression: request.ScheduleExpression,
        timezone: request.ScheduleExpressionTimezone,
        state: request.State,
      }
      if (out.ScheduleArn) info.id = out.ScheduleArn
      return info
    } catch (error) {
      throw schedulerError(error, `create schedule ${spec.name}`)
    }
  }

  async list(): Promise<ScheduleInfo[]> {
    const { ListSchedulesCommand, GetScheduleCommand } = await sdk()
    const client = await this.#scheduler()
    const out: ScheduleInfo[] = []
    try {
      let token: string | undefined
      do {
        const page = await client.send(
          new ListSchedulesCommand({
            GroupName: this.#group,
            NamePrefix: 'edgerec',
            ...(token ? { NextToken: token } : {}),
          }),
        )
        for (const summary of page.Schedules ?? []) {
          if (summary.Target?.Arn !== SAGEMAKER_CREATE_TRAINING_JOB_TARGET || !summary.Name) continue
          const detail = await client.send(
            new GetScheduleCommand({ Name: summary.Name, GroupName: this.#group }),
          )
          const info: ScheduleInfo = {
            name: summary.Name,
            expression: detail.ScheduleExpression ?? '',
            state: detail.State ?? summary.State ?? 'UNKNOWN',
          }
          if (detail.ScheduleExpressionTimezone) info.timezone = detail.ScheduleExpressionTimezone
          if (summary.Arn) info.id = summary.Arn
          out.push(info)
        }
        token = page.NextToken
      } while (token)
    } catch (error) {
      throw schedulerError(error, 'list schedules')
    }
    return out
  }

  async delete(name: string): Promise<void> {
    const { DeleteScheduleCommand } = await sdk()
    const client = await this.#scheduler()
    try {
      await client.send(new DeleteScheduleCommand({ Name: name, GroupName: this.#group }))
    } catch (error) {
      if (error instanceof Error && error.name === 'ResourceNotFoundException') {
        throw new AdapterError(
          'NOT_FOUND',
          `No schedule ${name} in group ${this.#group}. List them with edgerec-train schedule list.`,
          { cause: error },
        )
      }
      throw schedulerError(error, `delete schedule ${name}`)
    }
  }
}
