/// <reference path="../als/comlink-node-adapter.d.ts" />
/**
 * Entry point of a candidates thread: exposes {@link candidatesWorkerApi} over comlink.
 *
 * @internal
 * @module
 */
import { parentPort } from 'node:worker_threads'
import { buildCandidateLists, type CandidateLists, type CandidateScan } from '@edgerec/core'
import { expose, transfer } from 'comlink'
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs'
import { type BucketRows, type CandidateScanData, scanOf } from './candidate-threads.js'

let scan: CandidateScan | undefined

/** What the main thread calls on a candidates thread. */
export const candidatesWorkerApi = {
  /** Builds this thread's scan (its own Wasm kernel) over the shared data. */
  init(data: CandidateScanData): void {
    scan = scanOf(data)
  },
  /** The candidates of one bucket's rows; their buffers are moved back, not copied. */
  build(bucket: BucketRows, n: number): CandidateLists {
    if (!scan) throw new Error('The candidates thread was not initialised.')
    const lists = buildCandidateLists(bucket.factors, bucket.interactions, n, scan)
    return transfer(lists, [lists.offsets.buffer, lists.items.buffer, lists.scores.buffer])
  },
}

/** The worker's remote interface. */
export type CandidatesWorkerApi = typeof candidatesWorkerApi

if (parentPort) expose(candidatesWorkerApi, nodeEndpoint(parentPort))
