import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
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
import { findVersionSince } from '../compute/result.js'
import { pollUntilDone } from '../compute/wait.js'
import { createStorage } from '../config/create-storage.js'
import type { LocalComputeConfig, StorageConfig } from '../config/types.js'
import { AdapterError } from '../errors.js'

/** Options of {@link LocalCompute}: the `local` compute config without `provider`. */
export type LocalComputeOptions = Omit<LocalComputeConfig, 'provider'> & {
  /** Lines of output kept per job for {@link LocalCompute.logs}. Default 10 000. */
  maxLogLines?: number
}

/** The registry the trainer writes to by default (relative to the working directory). */
export const DEFAULT_LOCAL_OUTPUT: StorageConfig = { provider: 'local', root: '.edgerec/models' }

interface LocalJob {
  child?: ChildProcess
  state: JobState
  providerState: string
  message?: string
  exitCode?: number
  lines: LogLine[]
  dropped: number
  listeners: Set<() => void>
  cwd: string
  tempDir?: string
  timer?: NodeJS.Timeout
}

/** Finds the `edgerec-train` bin of `@edgerec/trainer`. */
function defaultTrainerCommand(): string[] {
  const require = createRequire(import.meta.url)
  let packageJsonPath: string
  try {
    packageJsonPath = require.resolve('@edgerec/trainer/package.json')
  } catch (cause) {
    throw new AdapterError(
      'CONFIG_INVALID',
      "compute.command is not set for provider 'local' and @edgerec/trainer is not installed. " +
        "Install it (npm install @edgerec/trainer) or set compute.command, e.g. ['npx', 'edgerec-train'].",
      { cause },
    )
  }
  const pkg = require(packageJsonPath) as { bin?: string | Record<string, string> }
  const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.['edgerec-train']
  if (!bin) {
    throw new AdapterError(
      'CONFIG_INVALID',
      `@edgerec/trainer at ${dirname(packageJsonPath)} has no edgerec-train bin. Reinstall it or set compute.command.`,
    )
  }
  return [process.execPath, resolve(dirname(packageJsonPath), bin)]
}

/**
 * Runs `edgerec-train train` as a child process on this machine (the default compute). Output is
 * streamed line by line; the state comes from the exit code. Jobs live in this process: a handle
 * cannot be followed from another process (use a cloud compute for that).
 *
 * @example
 * ```ts
 * const compute = new LocalCompute()
 * const job = await compute.submit({ config: { path: 'edgerec.config.ts' } })
 * for await (const line of compute.logs(job)) console.log(line.message)
 * const { version } = await compute.result(job)
 * ```
 */
export class LocalCompute implements Compute {
  readonly provider = 'local'
  readonly #command: string[] | undefined
  readonly #cwd: string
  readonly #maxLogLines: number
  readonly #jobs = new Map<string, LocalJob>()

  constructor(options: LocalComputeOptions = {}) {
    if (options.command !== undefined && options.command.length === 0) {
      throw new AdapterError('CONFIG_INVALID', "compute.command must not be empty for provider 'local'.")
    }
    this.#command = options.command
    this.#cwd = resolve(options.cwd ?? process.cwd())
    this.#maxLogLines = options.maxLogLines ?? 10_000
  }

  async submit(run: TrainingRun): Promise<JobHandle> {
    const command = this.#command ?? defaultTrainerCommand()
    const id = `local-${randomUUID()}`
    const job: LocalJob = {
      state: 'pending',
      providerState: 'starting',
      lines: [],
      dropped: 0,
      listeners: new Set(),
      cwd: this.#cwd,
    }
    const args = [...command.slice(1), 'train']
    const env: Record<string, string | undefined> = { ...process.env, ...run.env }
    if (run.config && 'path' in run.config) {
      args.push('--config', run.config.path)
      env.EDGEREC_CONFIG = run.config.path
    } else if (run.config && 'inline' in run.config) {
      // NOTE: the trainer loads configs with import(); an .mjs module exporting the object works
      // for any loader, unlike JSON, which needs an import attribute.
      job.tempDir = await mkdtemp(join(tmpdir(), 'edgerec-run-'))
      const path = join(job.tempDir, 'edgerec.config.mjs')
      await writeFile(path, `export default ${JSON.stringify(run.config.inline, null, 2)}\n`)
      args.push('--config', path)
      env.EDGEREC_CONFIG = path
    }
    if (run.output) env.EDGEREC_OUTPUT = JSON.stringify(run.output)
    args.push(...(run.args ?? []))

    const submittedAt = new Date().toISOString()
    this.#jobs.set(id, job)
    const child = spawn(command[0]!, args, { cwd: this.#cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    job.child = child
    child.once('spawn', () => {
      job.state = 'running'
      job.providerState = `running (pid ${child.pid})`
      this.#notify(job)
    })
    child.once('error', (error) => {
      this.#finish(job, 'failed', 'spawn error', `Could not start ${command[0]}: ${error.message}`)
    })
    this.#pipe(job, child.stdout, 'stdout')
    this.#pipe(job, child.stderr, 'stderr')
    child.once('close', (code, signal) => {
      if (job.state === 'cancelling' || job.state === 'cancelled') {
        this.#finish(job, 'cancelled', `killed (${signal ?? code})`)
      } else if (code === 0) {
        this.#finish(job, 'succeeded', 'exit 0')
      } else if (job.timer === undefined && run.maxRuntimeSeconds !== undefined) {
        this.#finish(
          job,
          'failed',
          `killed (${signal})`,
          `Stopped after maxRuntimeSeconds=${run.maxRuntimeSeconds}.`,
        )
      } else {
        const lastError = [...job.lines].reverse().find((l) => l.stream === 'stderr')?.message
        const reason = signal ? `killed by ${signal}` : `exit ${code}`
        this.#finish(
          job,
          'failed',
          reason,
          lastError ?? `The trainer ended with ${reason}.`,
          code ?? undefined,
        )
      }
    })
    if (run.maxRuntimeSeconds !== undefined) {
      job.timer = setTimeout(() => {
        job.timer = undefined
        child.kill('SIGTERM')
      }, run.maxRuntimeSeconds * 1000)
      job.timer.unref()
    }
    return { provider: this.provider, id, submittedAt, output: run.output ?? DEFAULT_LOCAL_OUTPUT }
  }

  async status(handle: JobHandle): Promise<JobStatus> {
    const job = this.#job(handle)
    const status: JobStatus = { state: job.state, providerState: job.providerState }
    if (job.message !== undefined) status.message = job.message
    if (job.exitCode !== undefined) status.exitCode = job.exitCode
    return status
  }

  async *logs(
    handle: JobHandle,
    options: { follow?: boolean; signal?: AbortSignal } = {},
  ): AsyncGenerator<LogLine> {
    const job = this.#job(handle)
    let next = 0
    for (;;) {
      // Lines dropped from the front of the buffer shift the indexes.
      const start = Math.max(0, next - job.dropped)
      for (let i = start; i < job.lines.length; i++) yield job.lines[i]!
      next = job.dropped + job.lines.length
      const done = job.state === 'succeeded' || job.state === 'failed' || job.state === 'cancelled'
      if (done || options.follow === false || options.signal?.aborted) return
      await new Promise<void>((resolveWait) => {
        const wake = (): void => {
          job.listeners.delete(wake)
          options.signal?.removeEventListener('abort', wake)
          resolveWait()
        }
        job.listeners.add(wake)
        options.signal?.addEventListener('abort', wake, { once: true })
      })
    }
  }

  wait(handle: JobHandle, options: WaitOptions = {}): Promise<JobStatus> {
    this.#job(handle)
    return pollUntilDone(handle, () => this.status(handle), options, 100)
  }

  async result(handle: JobHandle): Promise<JobResult> {
    const status = await this.status(handle)
    const output = handle.output ?? DEFAULT_LOCAL_OUTPUT
    const result: JobResult = { status, output }
    if (status.state !== 'succeeded') return result
    const job = this.#job(handle)
    const resolved = output.provider === 'local' ? { ...output, root: resolve(job.cwd, output.root) } : output
    const version = await findVersionSince(await createStorage(resolved), Date.parse(handle.submittedAt))
    if (version !== undefined) result.version = version
    return result
  }

  async cancel(handle: JobHandle): Promise<void> {
    const job = this.#job(handle)
    if (job.state === 'succeeded' || job.state === 'failed' || job.state === 'cancelled') return
    job.state = 'cancelling'
    job.providerState = 'cancelling'
    this.#notify(job)
    job.child?.kill('SIGTERM')
  }

  #job(handle: JobHandle): LocalJob {
    const job = handle.provider === this.provider ? this.#jobs.get(handle.id) : undefined
    if (!job) {
      throw new AdapterError(
        'NOT_FOUND',
        `No local job ${handle.id} in this process. Local jobs can only be followed by the LocalCompute that started them; use a cloud compute to follow jobs across processes.`,
      )
    }
    return job
  }

  #pipe(job: LocalJob, stream: NodeJS.ReadableStream | null, name: 'stdout' | 'stderr'): void {
    if (!stream) return
    createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (message) => {
      job.lines.push({ time: Date.now(), stream: name, message })
      if (job.lines.length > this.#maxLogLines) {
        job.lines.shift()
        job.dropped++
      }
      this.#notify(job)
    })
  }

  #finish(job: LocalJob, state: JobState, providerState: string, message?: string, exitCode?: number): void {
    if (job.state === 'succeeded' || job.state === 'failed' || job.state === 'cancelled') return
    if (job.timer) clearTimeout(job.timer)
    job.state = state
    job.providerState = providerState
    if (message !== undefined) job.message = message
    if (exitCode !== undefined) job.exitCode = exitCode
    if (job.tempDir) void rm(job.tempDir, { recursive: true, force: true })
    this.#notify(job)
  }

  #notify(job: LocalJob): void {
    for (const listener of [...job.listeners]) listener()
  }
}
