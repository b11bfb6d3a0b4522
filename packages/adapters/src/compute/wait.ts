import { AdapterError } from '../errors.js'
import {
  isTerminal,
  type JobHandle,
  type JobState,
  type JobStatus,
  type LogLine,
  type WaitOptions,
} from './compute.js'

/** `failureCode` a provider mapping sets when a job failed for lack of quota or capacity. */
export const QUOTA_FAILURE = 'QUOTA_EXCEEDED'

/**
 * A job's status from its provider's: `message` as the detail, and {@link QUOTA_FAILURE} as the
 * failure code when a failed job's message matches `quotaReason` (each provider words it its own way).
 */
export function providerStatus(
  state: JobState,
  providerState: string,
  message: string | undefined,
  quotaReason: RegExp,
): JobStatus {
  const status: JobStatus = { state, providerState }
  if (message) {
    status.message = message
    if (state === 'failed' && quotaReason.test(message)) status.failureCode = QUOTA_FAILURE
  }
  return status
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })

/**
 * The error for a job that ended without success: `QUOTA_EXCEEDED` when the provider said so,
 * `JOB_FAILED` otherwise. The message names the job and says where to look.
 */
export function jobFailureError(handle: JobHandle, status: JobStatus): AdapterError {
  const detail = status.message ? `: ${status.message}` : ''
  if (status.failureCode === QUOTA_FAILURE) {
    return new AdapterError(
      'QUOTA_EXCEEDED',
      `${handle.provider} job ${handle.id} could not run because a quota or capacity limit was hit${detail}. ` +
        'Request a quota increase for the instance type in this region, or choose another instance type or region.',
    )
  }
  const what = status.state === 'cancelled' ? 'was cancelled' : `failed (${status.providerState})`
  return new AdapterError(
    'JOB_FAILED',
    `${handle.provider} job ${handle.id} ${what}${detail}. Read the job's logs (compute.logs(handle) or the provider console), fix the cause and submit again.`,
  )
}

const sameStatus = (a: JobStatus | undefined, b: JobStatus): boolean =>
  a !== undefined && a.state === b.state && a.providerState === b.providerState && a.message === b.message

/**
 * Polls `getStatus` until the job reaches a terminal state. Shared by every {@link Compute}.
 *
 * @internal
 */
export async function pollUntilDone(
  handle: JobHandle,
  getStatus: () => Promise<JobStatus>,
  options: WaitOptions,
  defaultPollMs: number,
): Promise<JobStatus> {
  const interval = options.pollIntervalMs ?? defaultPollMs
  const deadline = options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeoutMs
  let last: JobStatus | undefined
  for (;;) {
    const status = await getStatus()
    if (!sameStatus(last, status)) options.onStatus?.(status)
    last = status
    if (isTerminal(status.state)) {
      if (status.state !== 'succeeded' && options.throwOnFailure !== false)
        throw jobFailureError(handle, status)
      return status
    }
    if (Date.now() + interval > deadline) {
      throw new AdapterError(
        'JOB_FAILED',
        `Gave up waiting for ${handle.provider} job ${handle.id} after ${options.timeoutMs} ms (still ${status.providerState}). ` +
          'The job keeps running: wait again with a longer timeoutMs, or cancel it.',
      )
    }
    await sleep(interval, options.signal)
  }
}

/**
 * Log lines made of status transitions, for providers whose full logs live in their own log service.
 *
 * @internal
 */
export async function* statusLogLines(
  getStatus: () => Promise<JobStatus>,
  options: { follow?: boolean; signal?: AbortSignal; pollIntervalMs: number },
): AsyncGenerator<LogLine> {
  let last: JobStatus | undefined
  for (;;) {
    const status = await getStatus()
    if (!sameStatus(last, status)) {
      yield {
        time: Date.now(),
        stream: 'status',
        message: status.message ? `${status.providerState}: ${status.message}` : status.providerState,
      }
    }
    last = status
    if (isTerminal(status.state) || options.follow === false) return
    await sleep(options.pollIntervalMs, options.signal)
  }
}
