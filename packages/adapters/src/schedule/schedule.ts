/**
 * The schedule contract: a recurring training run kept in the cloud account's own scheduler
 * (EventBridge Scheduler → SageMaker, Cloud Scheduler → Vertex AI, Azure ML schedules), created, listed and deleted by
 * `edgerec-train schedule`.
 *
 * @module
 */
import type { TrainingRun } from '../compute/compute.js'
import { AdapterError } from '../errors.js'

/** What to schedule. */
export interface ScheduleSpec {
  /** Schedule name (letters, digits, `-`, `_`, `.`; at most 64). */
  name: string
  /** Standard 5-field cron: minute hour day-of-month month day-of-week, e.g. `17 3 * * *`. */
  cron: string
  /** IANA time zone of `cron`. Default `UTC`. */
  timezone?: string
  /** The run each firing starts (the same as `Compute.submit` takes). */
  run: TrainingRun
}

/** A schedule as the provider reports it. */
export interface ScheduleInfo {
  name: string
  /** The provider's expression, e.g. `cron(17 3 * * ? *)`. */
  expression: string
  timezone?: string
  state: string
  /** Provider id (an ARN, a resource name). */
  id?: string
}

/** Creates, lists and deletes recurring training runs. */
export interface Scheduler {
  readonly provider: string
  create(spec: ScheduleSpec): Promise<ScheduleInfo>
  /** Schedules edgerec created (its group / name prefix). */
  list(): Promise<ScheduleInfo[]>
  delete(name: string): Promise<void>
  /** Releases the provider's client, when it holds one. */
  close?(): Promise<void>
}

/** The five fields of a standard cron expression, validated loosely (the provider validates fully). */
export function cronFields(cron: string): [string, string, string, string, string] {
  const fields = cron.trim().split(/\s+/)
  if (fields.length !== 5 || fields.some((f) => !/^[\d*/,?LW#A-Za-z-]+$/.test(f))) {
    throw new AdapterError(
      'CONFIG_INVALID',
      `${JSON.stringify(cron)} is not a 5-field cron expression (minute hour day-of-month month day-of-week), e.g. "17 3 * * *" for 03:17 every day.`,
    )
  }
  return fields as [string, string, string, string, string]
}
