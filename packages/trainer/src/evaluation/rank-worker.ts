/// <reference path="../als/comlink-node-adapter.d.ts" />
/**
 * Entry point of an evaluation ranking thread: exposes {@link rankChunks} over comlink.
 *
 * @internal
 * @module
 */
import { parentPort } from 'node:worker_threads'
import { expose } from 'comlink'
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs'
import { type RankJob, rankChunks } from './rank.js'

/** What the main thread calls on a ranking worker. */
export const rankWorkerApi = {
  /** Ranks chunks of the job's users until none is left. */
  rank(job: RankJob): void {
    rankChunks(job)
  },
}

/** The worker's remote interface. */
export type RankWorkerApi = typeof rankWorkerApi

if (parentPort) expose(rankWorkerApi, nodeEndpoint(parentPort))
