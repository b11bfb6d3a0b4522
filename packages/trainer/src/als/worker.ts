/// <reference path="./comlink-node-adapter.d.ts" />
/**
 * Entry point of an ALS worker thread: exposes a {@link KernelRunner} over comlink.
 *
 * @internal
 * @module
 */
import { parentPort } from 'node:worker_threads'
import { expose } from 'comlink'
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs'
import type { AlsLayout, AlsTask } from './layout.js'
import { type KernelBackend, KernelRunner } from './runner.js'
import type { WasmMemory } from './wasm/runtime.js'

let runner: KernelRunner | undefined

/** What the main thread calls on a worker. */
export const workerApi = {
  /** Attaches the worker to the shared memory of one training run. */
  init(memory: WasmMemory, layout: AlsLayout, backend: KernelBackend, threadIndex: number): void {
    runner = new KernelRunner(memory, layout, backend, threadIndex)
  },
  /** Runs work items of `task` until none is left; returns how many this worker did. */
  run(task: AlsTask): number {
    if (!runner) throw new Error('ALS worker used before init(). This is a bug in @edgerec/trainer.')
    return runner.run(task)
  },
}

/** The worker's remote interface. */
export type WorkerApi = typeof workerApi

if (parentPort) expose(workerApi, nodeEndpoint(parentPort))
