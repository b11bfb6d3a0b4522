/**
 * What the serving routes share inside one app instance (one isolate in production): the model
 * store, the D1 popularity cache, the activity reader and the clock.
 *
 * @module
 */
import type { Context } from 'hono'
import type { FreshPopularity } from '../catalog/fresh-popularity.js'
import type { CatalogOverlay } from '../catalog/overlay.js'
import { type Ranker, rankerFor } from '../catalog/rank.js'
import type { RulesStore } from '../catalog/rules.js'
import { ServingCatalog } from '../catalog/serving.js'
import { readConfig, type WorkerConfig } from '../config.js'
import type { ActivityOptions, UserActivity } from '../db/activity.js'
import type { AppEnv } from '../env.js'
import type { OnlineState } from '../experiments/serve.js'
import type { EventPopularity } from '../model/event-popularity.js'
import type { LoadedModel } from '../model/loaded-model.js'
import type { ModelStore, VersionLoadOptions } from '../model/model-store.js'

/**
 * Reads a user's newest events (identity-merged), newest first, and their deletion-list entry: the
 * data side's `loadUserActivity`.
 */
export type ActivityLoader = (
  db: D1Database,
  userKey: string,
  options: ActivityOptions,
) => Promise<UserActivity>

/** Shared state of the serving routes. */
export interface ServingDeps {
  store: ModelStore
  eventPopularity: EventPopularity
  /** The isolate's catalog overlay (changes since the live version's export). */
  catalog: CatalogOverlay
  /** Event counts since training, blended into popular lists (issue 17). */
  freshPopularity: FreshPopularity
  /** The isolate's copy of the admin rules. */
  rules: RulesStore
  loadActivity: ActivityLoader
  now: () => number
  /** Experiments and extra model versions (issue 15). */
  online: OnlineState
}

/** `ctx.waitUntil` when the request has an execution context (not in every test harness). */
export function waitUntilOf(c: Context<AppEnv>): ((promise: Promise<unknown>) => void) | undefined {
  try {
    const ctx = c.executionCtx
    return (promise) => ctx.waitUntil(promise)
  } catch {
    return undefined
  }
}

/** How this isolate loads every model version (the live one and the extra ones alike), from the config. */
export function versionLoadOptions(config: WorkerConfig): VersionLoadOptions {
  return {
    userCacheBytes: config.userCacheBytes,
    scoringKernel: config.scoringKernel,
    modelMemoryBytes: config.modelMemoryBytes,
    partitionCacheBytes: config.partitionCacheBytes,
    partitionReadGapBytes: config.partitionReadGapBytes,
    ...(config.partitionNprobe !== undefined ? { partitionNprobe: config.partitionNprobe } : {}),
  }
}

/** Captures the model for this request (once, at its start) and the parsed config. */
export async function acquireModel(
  c: Context<AppEnv>,
  deps: ServingDeps,
): Promise<{ model: LoadedModel | null; config: WorkerConfig }> {
  const config = readConfig(c.env)
  const waitUntil = waitUntilOf(c)
  const model = await deps.store.acquire(c.env, {
    refreshMs: config.refreshMs,
    ...versionLoadOptions(config),
    extras: deps.online.versions,
    ...(waitUntil ? { waitUntil } : {}),
  })
  return { model, config }
}

/**
 * The request's catalog: refreshes the isolate's overlay (at most one bounded D1 query per
 * `CATALOG_REFRESH_SECONDS`) and views the version's catalog through it.
 */
export async function acquireCatalog(
  c: Context<AppEnv>,
  deps: ServingDeps,
  model: LoadedModel | null,
): Promise<ServingCatalog> {
  const { catalogRefreshMs } = readConfig(c.env)
  await deps.catalog.refresh(c.env.DB, model?.catalogSince ?? 0, deps.now(), catalogRefreshMs)
  return new ServingCatalog(model, deps.catalog)
}

/** The request's ranking pipeline (candidates → rules and diversity → top k). */
export async function acquireRanker(
  c: Context<AppEnv>,
  deps: ServingDeps,
  model: LoadedModel,
  catalog: ServingCatalog,
  params: { maxPerCategory?: number; diversity?: number },
): Promise<Ranker> {
  const { catalogRefreshMs } = readConfig(c.env)
  const now = deps.now()
  const rules = await deps.rules.current(c.env.MODELS_KV, now, catalogRefreshMs)
  return rankerFor(model, catalog, { rules, now, ...params })
}

/** Cache-Control of answers that depend only on the model version (similar, popular). */
export const MODEL_CACHE_CONTROL = 'public, max-age=60, stale-while-revalidate=300'
/**
 * Cache-Control of personalised answers: they must reflect the user's newest events on the very
 * next request (issue 7), so no cache may keep them.
 */
export const PERSONAL_CACHE_CONTROL = 'private, no-store'
