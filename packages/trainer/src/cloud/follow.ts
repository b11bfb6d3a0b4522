import type { Compute, JobHandle, JobStatus } from '@edgerec/adapters'
import type { TrainLogger } from '../train.js'

/** Status poll interval: `pollIntervalMs`, else `EDGEREC_JOB_POLL_SECONDS` × 1000, else 15 s. */
export function pollInterval(options: { pollIntervalMs?: number; env?: NodeJS.ProcessEnv }): number {
  if (options.pollIntervalMs !== undefined) return options.pollIntervalMs
  const seconds = Number((options.env ?? process.env).EDGEREC_JOB_POLL_SECONDS)
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 15_000
}

const clock = (): string => new Date().toISOString().slice(11, 19)

/**
 * Follows a submitted job until it ends, logging one status line per change
 * (`  12:00:01 running (InProgress): Training`). Returns the final status, failed or not.
 */
export function followJob(
  compute: Compute,
  handle: JobHandle,
  options: { logger: TrainLogger; pollIntervalMs?: number; env?: NodeJS.ProcessEnv },
): Promise<JobStatus> {
  return compute.wait(handle, {
    pollIntervalMs: pollInterval(options),
    throwOnFailure: false,
    onStatus: (s) =>
      options.logger.info(`  ${clock()} ${s.state} (${s.providerState})${s.message ? `: ${s.message}` : ''}`),
  })
}
