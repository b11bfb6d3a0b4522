import type { AzureMachineLearningWorkspaces, CommandJob, Schedule } from '@azure/arm-machinelearning'
import type { TokenCredential } from '@azure/identity'
import { loadProvider } from '../config/load-provider.js'
import type { AzureMlComputeConfig } from '../config/types.js'
import { AdapterError } from '../errors.js'
import { cronFields, type ScheduleInfo, type Scheduler, type ScheduleSpec } from '../schedule/schedule.js'
import { AzureMlCompute, azureMlError, workspaceClient } from './compute.js'

/** Options of {@link AzureMlScheduler}: the `azure-ml` compute config plus optional client/credential. */
export type AzureMlSchedulerOptions = Omit<AzureMlComputeConfig, 'provider'> & {
  /** Credential. Default `new DefaultAzureCredential()`. */
  credential?: TokenCredential
  /** A ready client. */
  client?: AzureMachineLearningWorkspaces
}

const timeZoneSdk = () => loadProvider('compute', 'azure-ml', ['windows-iana'], () => import('windows-iana'))

/**
 * IANA (`Europe/Berlin`) or Windows (`W. Europe Standard Time`) time zone → the Windows name
 * Azure ML schedules take.
 *
 * @throws AdapterError `CONFIG_INVALID` for a name that is neither
 */
export async function windowsTimeZone(timezone: string): Promise<string> {
  const { findIana, findWindows } = await timeZoneSdk()
  if (findIana(timezone).length > 0) return timezone
  const [windows] = findWindows(timezone)
  if (!windows) {
    throw new AdapterError(
      'CONFIG_INVALID',
      `${JSON.stringify(timezone)} is not a time zone Azure ML knows: use an IANA name such as "Europe/Berlin" or a Windows one such as "W. Europe Standard Time".`,
    )
  }
  return windows
}

/**
 * Recurring Azure ML command jobs in the workspace's own schedules (`Microsoft.MachineLearningServices/
 * workspaces/schedules`, a `Cron` trigger and a `CreateJob` action): each firing creates the same
 * command job `edgerec-train train` would, running as the compute cluster's managed identity (a
 * schedule has no user to act for).
 *
 * Azure ML takes standard 5-field cron (NCronTab) as is, and Windows time zone names: IANA names
 * are converted (CLDR's `windowsZones`, through `windows-iana`).
 *
 * @example
 * ```ts
 * const scheduler = new AzureMlScheduler({ subscriptionId, resourceGroup: 'rg', workspace: 'ml',
 *   computeName: 'cpu-cluster', environmentId: 'azureml:edgerec-trainer:1' })
 * await scheduler.create({ name: 'edgerec-nightly', cron: '17 3 * * *', run })
 * ```
 */
export class AzureMlScheduler implements Scheduler {
  readonly provider = 'azure-ml'
  readonly #options: AzureMlSchedulerOptions
  #client: AzureMachineLearningWorkspaces | undefined

  constructor(options: AzureMlSchedulerOptions) {
    this.#options = options
    this.#client = options.client
  }

  async #arm(): Promise<AzureMachineLearningWorkspaces> {
    this.#client ??= await workspaceClient(this.#options)
    return this.#client
  }

  /** The schedule resource (exposed for inspection and dry runs). */
  async buildSchedule(spec: ScheduleSpec): Promise<Schedule> {
    cronFields(spec.cron)
    const { client: _client, credential: _credential, ...compute } = this.#options
    const job = new AzureMlCompute(compute).buildJob(spec.run, spec.name).properties as CommandJob
    const jobDefinition: CommandJob = {
      ...job,
      identity: { identityType: 'Managed' },
      tags: { ...job.tags, 'edgerec-schedule': spec.name },
    }
    return {
      properties: {
        displayName: spec.name,
        description: 'edgerec: recurring training job (edgerec-train schedule)',
        isEnabled: true,
        tags: { edgerec: 'schedule' },
        trigger: {
          triggerType: 'Cron',
          expression: spec.cron.trim().split(/\s+/).join(' '),
          timeZone: await windowsTimeZone(spec.timezone ?? 'UTC'),
        },
        action: { actionType: 'CreateJob', jobDefinition },
      },
    }
  }

  async create(spec: ScheduleSpec): Promise<ScheduleInfo> {
    const body = await this.buildSchedule(spec)
    const client = await this.#arm()
    const { resourceGroup, workspace } = this.#options
    try {
      const out = await client.schedules.beginCreateOrUpdateAndWait(resourceGroup, workspace, spec.name, body)
      return scheduleInfo({ ...body, ...out, name: spec.name })
    } catch (error) {
      throw azureMlError(error, `create schedule ${spec.name}`)
    }
  }

  async list(): Promise<ScheduleInfo[]> {
    const client = await this.#arm()
    const out: ScheduleInfo[] = []
    try {
      const { resourceGroup, workspace } = this.#options
      for await (const schedule of client.schedules.list(resourceGroup, workspace, { listViewType: 'All' })) {
        if (!schedule.name?.startsWith('edgerec') || schedule.properties.action.actionType !== 'CreateJob')
          continue
        out.push(scheduleInfo(schedule))
      }
    } catch (error) {
      throw azureMlError(error, 'list schedules')
    }
    return out
  }

  async delete(name: string): Promise<void> {
    const client = await this.#arm()
    const { resourceGroup, workspace } = this.#options
    try {
      await client.schedules.beginDeleteAndWait(resourceGroup, workspace, name)
    } catch (error) {
      if ((error as { statusCode?: unknown })?.statusCode === 404) {
        throw new AdapterError(
          'NOT_FOUND',
          `No schedule ${name} in workspace ${workspace}. List them with edgerec-train schedule list.`,
          { cause: error },
        )
      }
      throw azureMlError(error, `delete schedule ${name}`)
    }
  }
}

function scheduleInfo(schedule: Schedule): ScheduleInfo {
  const { trigger, isEnabled } = schedule.properties
  const info: ScheduleInfo = {
    name: schedule.name ?? '',
    expression: trigger.triggerType === 'Cron' ? (trigger as { expression: string }).expression : '',
    state: isEnabled === false ? 'Disabled' : 'Enabled',
  }
  if (trigger.timeZone) info.timezone = trigger.timeZone
  if (schedule.id) info.id = schedule.id
  return info
}
