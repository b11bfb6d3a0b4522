/**
 * `GET /v1/health` (no key needed) and `GET /v1/model`.
 *
 * @module
 */
import { catalogShardRefs } from '@edgerec/core'
import { Hono } from 'hono'
import type { AppEnv } from '../env.js'
import { MAX_EXTRA_VERSIONS } from '../experiments/versions.js'
import { OPERATIONS } from '../openapi/operations.js'
import { acquireModel, type ServingDeps } from '../serving/context.js'

/** `GET /v1/health`: liveness, and which version this isolate serves. */
export function healthRoutes(deps: ServingDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.get('/', OPERATIONS.health, async (c) => {
    const { model } = await acquireModel(c, deps)
    c.header('Cache-Control', 'no-store')
    // `degraded`: the live version failed an integrity check in this isolate and an older one
    // serves, or a catalog shard of the served version failed and its rows are left out.
    const reasons: string[] = []
    if (deps.store.degraded) reasons.push('model')
    if ((model?.catalogFailures.length ?? 0) > 0) reasons.push('catalog')
    const status: 'ok' | 'degraded' = reasons.length > 0 ? 'degraded' : 'ok'
    return c.json({
      status,
      modelVersion: model?.version ?? null,
      ...(reasons.length > 0 ? { reasons } : {}),
    })
  })
  return app
}

/** `GET /v1/model`: what this isolate serves, and the last load failure. */
export function modelRoutes(deps: ServingDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.get('/', OPERATIONS.model, async (c) => {
    const { model } = await acquireModel(c, deps)
    c.header('Cache-Control', 'no-store')
    const bucketFailure = model?.lastBucketFailure
    return c.json({
      version: model?.version ?? null,
      loadedAt: model?.loadedAt ?? null,
      loadMs: model?.loadMs ?? null,
      createdAt: model?.manifest.createdAt ?? null,
      trainedUntil: model?.manifest.trainedUntil ?? null,
      dims: model?.manifest.dims ?? null,
      counts: model?.manifest.counts ?? null,
      metrics: model?.manifest.evaluation ?? null,
      memory: model?.memory() ?? null,
      // Which int8 kernel scores: relaxed-simd, simd or js (SCORING_KERNEL).
      scoringKernel: model?.kernel.isa ?? null,
      degraded: deps.store.degraded,
      lastError: deps.store.lastError,
      lastUserBucketError: bucketFailure ?? null,
      // Precomputed candidates (issue 16): what the trainer stored, and how many answers used them.
      candidates: model?.manifest.candidates
        ? { ...model.manifest.candidates, answered: model.candidateAnswers }
        : null,
      // Partitioned versions (issue 16): lists fetched on demand with ranged reads into a cache.
      partitions: model?.partitions
        ? {
            lists: model.partitions.lists,
            nprobe: model.partitions.nprobe,
            recall: model.manifest.partitions?.recall ?? null,
            cachedLists: model.partitions.cachedLists,
            cacheBytes: model.partitions.cacheBytes,
            cacheBound: model.partitions.cacheBound,
            fetches: model.partitions.fetches,
            fetchedBytes: model.partitions.fetchedBytes,
            lastError: model.partitions.lastFailure ?? null,
          }
        : null,
      // Versions of experiment variants, canaries and shadows held next to the live one, and the
      // last one refused because it did not fit MODEL_MEMORY_MIB (its requests got the live model).
      extraVersions: {
        max: MAX_EXTRA_VERSIONS,
        held: deps.online.versions.held,
        plannedBytes: deps.online.versions.heldBytes,
        lastRefusal: deps.online.versions.lastRefusal,
      },
      catalog: {
        rows: model?.catalog?.size ?? null,
        // Split catalogs (issue 16): shards listed, and those left out after failing their checks.
        shards: model ? catalogShardRefs(model.manifest).length : null,
        failedShards: model?.catalogFailures ?? [],
        overlay: deps.catalog.stats,
      },
    })
  })
  return app
}
