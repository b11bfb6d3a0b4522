import { describe, expect, it } from 'vitest'
import type { JobHandle, JobStatus } from './compute.js'
import { jobFailureError, pollUntilDone, QUOTA_FAILURE, statusLogLines } from './wait.js'

const handle: JobHandle = { provider: 'test', id: 'job-7', submittedAt: '2026-11-24T00:00:00Z' }

/** A status source that walks through `statuses`, repeating the last one. */
const sequence = (statuses: JobStatus[]) => {
  let i = 0
  return async () => statuses[Math.min(i++, statuses.length - 1)]!
}

describe('pollUntilDone', () => {
  it('should report each change once and return the terminal status', async () => {
    const seen: string[] = []
    const final = await pollUntilDone(
      handle,
      sequence([
        { state: 'pending', providerState: 'Queued' },
        { state: 'pending', providerState: 'Queued' },
        { state: 'running', providerState: 'Running' },
        { state: 'succeeded', providerState: 'Done' },
      ]),
      { onStatus: (s) => seen.push(s.providerState), pollIntervalMs: 1 },
      1000,
    )
    expect(final.state).toBe('succeeded')
    expect(seen).toEqual(['Queued', 'Running', 'Done'])
  })

  it('should return a failed status when asked not to throw', async () => {
    const final = await pollUntilDone(
      handle,
      sequence([{ state: 'failed', providerState: 'Failed' }]),
      { throwOnFailure: false },
      1,
    )
    expect(final.state).toBe('failed')
  })

  it('should give up after timeoutMs with a message that says the job keeps running', async () => {
    await expect(
      pollUntilDone(
        handle,
        sequence([{ state: 'running', providerState: 'Running' }]),
        { timeoutMs: 20, pollIntervalMs: 5 },
        5,
      ),
    ).rejects.toMatchObject({ code: 'JOB_FAILED', message: expect.stringContaining('The job keeps running') })
  })

  it('should stop waiting on abort', async () => {
    const controller = new AbortController()
    setTimeout(() => controller.abort(new Error('stop')), 10)
    await expect(
      pollUntilDone(
        handle,
        sequence([{ state: 'running', providerState: 'Running' }]),
        { signal: controller.signal },
        1000,
      ),
    ).rejects.toThrow('stop')
  })
})

describe('jobFailureError', () => {
  it('should tell quota failures from other failures', () => {
    expect(
      jobFailureError(handle, { state: 'failed', providerState: 'Failed', failureCode: QUOTA_FAILURE }).code,
    ).toBe('QUOTA_EXCEEDED')
    const failed = jobFailureError(handle, { state: 'failed', providerState: 'Failed', message: 'OOM' })
    expect(failed.code).toBe('JOB_FAILED')
    expect(failed.message).toBe(
      "test job job-7 failed (Failed): OOM. Read the job's logs (compute.logs(handle) or the provider console), fix the cause and submit again.",
    )
    expect(jobFailureError(handle, { state: 'cancelled', providerState: 'Stopped' }).message).toContain(
      'was cancelled',
    )
  })
})

describe('statusLogLines', () => {
  it('should emit one line per change until the job ends', async () => {
    const lines: string[] = []
    for await (const line of statusLogLines(
      sequence([
        { state: 'pending', providerState: 'Queued' },
        { state: 'running', providerState: 'Running', message: 'Downloading image' },
        { state: 'running', providerState: 'Running', message: 'Downloading image' },
        { state: 'succeeded', providerState: 'Completed' },
      ]),
      { pollIntervalMs: 1 },
    )) {
      lines.push(`${line.stream} ${line.message}`)
    }
    expect(lines).toEqual(['status Queued', 'status Running: Downloading image', 'status Completed'])
  })
})
