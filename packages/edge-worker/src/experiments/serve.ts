/**
 * The experiment step of a serving request: which arm serves this person (cached config, one
 * indexed D1 read only while an experiment runs), which model that arm scores with, and the
 * `recId` + served-list record of the answer (written after the response, batched per isolate).
 *
 * With no experiment running this adds no D1 round trip to the request: the running experiments
 * are cached per isolate and the list joins the isolate's next batched write (`ctx.waitUntil`).
 *
 * @module
 */
import type { Context } from 'hono'
import type { OnlineWrites } from '../attribution/online-writes.js'
import { RecIds } from '../attribution/rec-id.js'
import type { ServedList } from '../attribution/rec-lists.js'
import type { WorkerConfig } from '../config.js'
import type { AppEnv } from '../env.js'
import type { LoadedModel } from '../model/loaded-model.js'
import { ModelLoadError } from '../model/storage.js'
import { type ServingDeps, versionLoadOptions, waitUntilOf } from '../serving/context.js'
import { type AssignmentCache, planAssignment } from './assignment.js'
import type { Strategy, Surface } from './definition.js'
import { listOverlap } from './shadow.js'
import type { ExperimentCache } from './store.js'
import type { ExtraVersionOptions, VersionCache } from './versions.js'

/** The name of the variant outside experiments. */
export const LIVE_VARIANT = 'live'

/** Online-evaluation state of one isolate. */
export interface OnlineState {
  experiments: ExperimentCache
  versions: VersionCache
  /** Recent assignments, so repeat visitors need no D1 lookup. */
  assignments: AssignmentCache
  /** Served lists, assignments and shadow overlaps waiting to be written (batched). */
  writes: OnlineWrites
}

/** What serves one request. */
export interface Arm {
  experimentId: string | null
  variant: string
  strategy: Strategy
  version?: string
}

/** The arm outside experiments: the live model. */
export const LIVE_ARM: Arm = { experimentId: null, variant: LIVE_VARIANT, strategy: 'model' }

/** `ctx.waitUntil`, or a detached promise where the harness has no execution context. */
export function deferOf(c: Context<AppEnv>): (promise: Promise<unknown>) => void {
  return waitUntilOf(c) ?? ((promise) => void promise.catch(() => undefined))
}

/**
 * The arm of a request, planned: `arm` when it is known without I/O (no experiment runs, no person,
 * or the isolate remembers the person's variant), else a `lookup` statement whose first row
 * `settle` turns into the arm (the recommendations route sends it in the activity read's batch).
 */
export interface ArmPlan {
  arm?: Arm
  lookup?: D1PreparedStatement
  settle: (row: { variant?: unknown } | null | undefined) => Arm
}

const liveNow: ArmPlan = { arm: LIVE_ARM, settle: () => LIVE_ARM }

/**
 * Plans the arm of `userKey` on `surface`: the live arm when no experiment runs or no person is
 * known; otherwise the person's variant (see {@link ArmPlan}). A failed read settles on the live arm.
 */
export async function planArm(
  c: Context<AppEnv>,
  online: OnlineState,
  config: WorkerConfig,
  surface: Surface,
  userKey: string | null,
  now: number,
): Promise<ArmPlan> {
  const defer = deferOf(c)
  const experiment = await online.experiments.running(c.env.DB, surface, now, config.refreshMs, defer)
  if (!experiment || userKey === null) return liveNow
  const plan = planAssignment(c.env.DB, experiment, userKey, now, {
    cache: online.assignments,
    store: (row) => {
      online.writes.assignment(row)
      online.writes.schedule(c.env.DB, defer, config.recordFlushMs)
    },
    ttlMs: config.refreshMs,
  })
  const armOf = (variant: { name: string; strategy: Strategy; version?: string }): Arm => ({
    experimentId: experiment.id,
    variant: variant.name,
    strategy: variant.strategy,
    ...(variant.version ? { version: variant.version } : {}),
  })
  if (plan.remembered) {
    const arm = armOf(plan.remembered)
    return { arm, settle: () => arm }
  }
  return {
    ...(plan.lookup ? { lookup: plan.lookup } : {}),
    // undefined: the read failed (D1 down): serve the live arm, outside the experiment.
    settle: (row) => (row === undefined ? LIVE_ARM : armOf(plan.settle(row))),
  }
}

/** {@link planArm} with its lookup run on its own. A D1 failure serves the live arm. */
export async function chooseArm(
  c: Context<AppEnv>,
  online: OnlineState,
  config: WorkerConfig,
  surface: Surface,
  userKey: string | null,
  now: number,
): Promise<Arm> {
  const plan = await planArm(c, online, config, surface, userKey, now)
  if (plan.arm) return plan.arm
  try {
    return plan.settle((await plan.lookup?.first<{ variant: string }>()) ?? null)
  } catch (error) {
    console.error('edgerec: experiment assignment failed; serving the live model', error)
    return LIVE_ARM
  }
}

/**
 * How an extra version loads next to `live`: the live store's load options and memory budget, the
 * store's swap in flight, the versions running experiments and shadows name (`VersionCache.get`).
 */
export function extraVersionOptions(
  deps: Pick<ServingDeps, 'online' | 'store' | 'now'>,
  config: WorkerConfig,
  live: LoadedModel | null,
): ExtraVersionOptions {
  return {
    ...versionLoadOptions(config),
    now: deps.now,
    live,
    swapReserveBytes: deps.store.swapReserveBytes,
    inUse: deps.online.experiments.versionsInUse(),
    retryMs: config.refreshMs,
  }
}

/**
 * The model an arm scores with: the live one, or the arm's version (loaded once per isolate, when
 * it fits the memory budget next to the live one: `VersionCache.get`). When that version cannot be
 * loaded (refused for memory, missing, corrupt) the live model serves and the arm leaves the
 * experiment (its lists are recorded outside it), so a broken or oversized variant never takes
 * recommendations down nor skews results.
 */
export async function modelForArm(
  deps: Pick<ServingDeps, 'online' | 'store' | 'now'>,
  c: Context<AppEnv>,
  config: WorkerConfig,
  arm: Arm,
  live: LoadedModel | null,
): Promise<{ model: LoadedModel | null; arm: Arm }> {
  if (!arm.version || arm.version === live?.version) return { model: live, arm }
  try {
    const model = await deps.online.versions.get(c.env, arm.version, extraVersionOptions(deps, config, live))
    return { model, arm }
  } catch (error) {
    // A refusal for memory is logged once by the version cache, not on every request it answers.
    if (!(error instanceof ModelLoadError && error.code === 'MODEL_TOO_LARGE'))
      console.error(`edgerec: variant version ${arm.version} failed to load; serving the live model`, error)
    c.header('x-edgerec-degraded', 'variant-unavailable')
    return { model: live, arm: LIVE_ARM }
  }
}

/**
 * Gives the answer its `recId` (signed with the worker's key, `rec-id.ts`: one HMAC, no I/O) and
 * `variant`, and queues the served list for the isolate's next batched write (unless
 * `RECORD_LISTS` is `off`): the response never waits for D1.
 *
 * @returns the fields to spread into the JSON body
 */
export async function attribute(
  c: Context<AppEnv>,
  online: OnlineState,
  config: WorkerConfig,
  arm: Arm,
  list: Omit<ServedList, 'recId' | 'experimentId' | 'variant'>,
): Promise<{ recId: string; variant: string }> {
  const recId = await RecIds.of(c.env).issue()
  c.set('served', { source: list.source, variant: arm.variant })
  if (!config.recordLists) return { recId, variant: arm.variant }
  online.writes.list({ ...list, recId, experimentId: arm.experimentId, variant: arm.variant })
  online.writes.schedule(c.env.DB, deferOf(c), config.recordFlushMs)
  return { recId, variant: arm.variant }
}

/** What {@link shadowAfter} compares. */
export interface ShadowRequest {
  /** The surface that served the list (the shadow running on it, if any, is compared). */
  surface: Surface
  recId: string
  userKey: string | null
  servedAt: number
  /** The served list. */
  itemIds: readonly string[]
  /** Scores the same request with another model and strategy; returns the item ids in rank order. */
  score: (model: LoadedModel, strategy: Strategy) => Promise<string[]>
}

/**
 * When a shadow runs on the request's surface (and this request falls in its `sample`), scores the
 * candidate after the response (`waitUntil`) and queues the overlap of its list with the served one
 * (`shadow_overlaps`, batched). Nothing here can change or delay the answer: it runs once the
 * answer is built, and any failure (the candidate's version does not load, scoring throws) is
 * logged and dropped.
 */
export function shadowAfter(
  c: Context<AppEnv>,
  deps: Pick<ServingDeps, 'online' | 'store' | 'now'>,
  config: WorkerConfig,
  live: LoadedModel | null,
  request: ShadowRequest,
): void {
  const shadow = deps.online.experiments.shadow(request.surface)
  if (!shadow || !live || request.itemIds.length === 0) return
  if (shadow.sample < 1 && Math.random() >= shadow.sample) return
  const defer = deferOf(c)
  const task = (async () => {
    // Yield first, so the answer leaves before any of the candidate's work starts.
    await new Promise((resolve) => setTimeout(resolve, 0))
    const model =
      shadow.version && shadow.version !== live.version
        ? await deps.online.versions.get(c.env, shadow.version, extraVersionOptions(deps, config, live))
        : live
    const candidate = await request.score(model, shadow.strategy)
    const overlap = listOverlap(request.itemIds, candidate)
    if (!overlap) return
    deps.online.writes.overlap({
      shadowId: shadow.id,
      recId: request.recId,
      userKey: request.userKey,
      at: request.servedAt,
      ...overlap,
    })
    deps.online.writes.schedule(c.env.DB, defer, config.recordFlushMs)
  })().catch((error) => {
    if (!(error instanceof ModelLoadError && error.code === 'MODEL_TOO_LARGE'))
      console.error(`edgerec: shadow ${shadow.id} failed on a request; skipped`, error)
  })
  defer(task)
}
