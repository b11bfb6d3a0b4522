/// <reference path="./comlink-node-adapter.d.ts" />
/**
 * Executors of ALS tasks: in the calling thread, or on a pool of worker threads (driven with
 * comlink) that share one `WasmMemory`.
 *
 * NOTE on the worker script: from `dist` the pool starts `worker.js` next to this module. When
 * this module runs from TypeScript sources (vitest, tsx) it starts `worker.ts` with tsx's ESM
 * loader (`--import <tsx>`), resolved from this package, so the same code works in both settings.
 *
 * @internal
 * @module
 */
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { type Remote, releaseProxy, wrap } from 'comlink'
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs'
import type { AlsLayout, AlsTask } from './layout.js'
import { type KernelBackend, KernelRunner } from './runner.js'
import type { WasmMemory } from './wasm/runtime.js'
import type { WorkerApi } from './worker.js'

/** Runs each task to completion on all its threads. */
export interface TaskExecutor {
  readonly threads: number
  run(task: AlsTask): Promise<void>
  close(): Promise<void>
}

/** Runs tasks in the calling thread. */
export class InlineExecutor implements TaskExecutor {
  readonly threads = 1
  readonly #runner: KernelRunner
  readonly #counter: Int32Array

  constructor(memory: WasmMemory, layout: AlsLayout, backend: KernelBackend) {
    this.#runner = new KernelRunner(memory, layout, backend, 0)
    this.#counter = new Int32Array(memory.buffer, layout.counter, 1)
  }

  async run(task: AlsTask): Promise<void> {
    Atomics.store(this.#counter, 0, 0)
    this.#runner.run(task)
  }

  async close(): Promise<void> {}
}

/**
 * Where a worker script is and how to start it: `script` is relative to this module, without the
 * extension (default the ALS worker).
 */
export function workerEntry(script = './worker'): { url: URL; execArgv: string[] } {
  const here = import.meta.url
  if (here.endsWith('.ts')) {
    const tsx = createRequire(here).resolve('tsx')
    return { url: new URL(`${script}.ts`, here), execArgv: ['--import', pathToFileURL(tsx).href] }
  }
  return { url: new URL(`${script}.js`, here), execArgv: [] }
}

/**
 * Runs tasks on `threads` threads that share the memory: worker threads, and with `mainThread`
 * the calling thread as one of them (thread 0; `threads − 1` workers), which saves one worker's
 * isolate (about 15 MiB resident) and leaves no thread idle while the task runs. A row's result
 * does not depend on which thread computes it, so both give the same factors.
 */
export class WorkerPoolExecutor implements TaskExecutor {
  readonly threads: number
  readonly #workers: Worker[]
  readonly #remotes: Remote<WorkerApi>[]
  readonly #counter: Int32Array
  readonly #inline: KernelRunner | undefined

  private constructor(
    workers: Worker[],
    remotes: Remote<WorkerApi>[],
    counter: Int32Array,
    inline: KernelRunner | undefined,
  ) {
    this.threads = workers.length + (inline ? 1 : 0)
    this.#workers = workers
    this.#remotes = remotes
    this.#counter = counter
    this.#inline = inline
  }

  /** Starts the workers and attaches them (and the calling thread, with `mainThread`) to the memory. */
  static async create(
    threads: number,
    memory: WasmMemory,
    layout: AlsLayout,
    backend: KernelBackend,
    options: { mainThread?: boolean } = {},
  ): Promise<WorkerPoolExecutor> {
    const { url, execArgv } = workerEntry()
    const inline = options.mainThread ? new KernelRunner(memory, layout, backend, 0) : undefined
    const first = inline ? 1 : 0
    const workers: Worker[] = []
    const remotes: Remote<WorkerApi>[] = []
    try {
      for (let i = first; i < threads; i++) {
        const worker = new Worker(url, { execArgv })
        workers.push(worker)
        remotes.push(wrap<WorkerApi>(nodeEndpoint(worker)))
      }
      await Promise.all(remotes.map((remote, i) => remote.init(memory, layout, backend, first + i)))
    } catch (error) {
      await Promise.all(workers.map((w) => w.terminate()))
      throw error
    }
    return new WorkerPoolExecutor(workers, remotes, new Int32Array(memory.buffer, layout.counter, 1), inline)
  }

  async run(task: AlsTask): Promise<void> {
    Atomics.store(this.#counter, 0, 0)
    const workers = Promise.all(this.#remotes.map((remote) => remote.run(task)))
    if (!this.#inline) {
      await workers
      return
    }
    try {
      this.#inline.run(task)
    } finally {
      // Never return (or throw) while workers still write to the memory.
      await workers
    }
  }

  async close(): Promise<void> {
    for (const remote of this.#remotes) remote[releaseProxy]()
    await Promise.all(this.#workers.map((w) => w.terminate()))
  }
}
