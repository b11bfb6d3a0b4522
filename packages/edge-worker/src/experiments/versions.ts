/**
 * Model versions other than the live one, loaded on demand for experiment variants, canaries and
 * shadows. At most {@link MAX_EXTRA_VERSIONS} stay loaded per isolate, and each loads only when
 * its planned memory fits `MODEL_MEMORY_MIB` next to the live version and the extra versions
 * already held (see {@link VersionCache.get}); otherwise it is refused with `MODEL_TOO_LARGE` and
 * its requests are served by the live model.
 *
 * @module
 */
import { DEFAULT_MODEL_MEMORY_BUDGET_BYTES, type ModelManifest, planModelMemory } from '@edgerec/core'
import { type LoadedModel, loadModel } from '../model/loaded-model.js'
import {
  type ExtraVersionMemory,
  loadOptionsOf,
  memorySettingsOf,
  type VersionLoadOptions,
} from '../model/model-store.js'
import { type ModelBindings, ModelLoadError, readManifest } from '../model/storage.js'

/** Extra versions kept loaded in one isolate. */
export const MAX_EXTRA_VERSIONS = 2

/** What {@link VersionCache.get} needs besides the version. */
export interface ExtraVersionOptions extends VersionLoadOptions {
  /** Clock in epoch ms. */
  now: () => number
  /** The live version serving next to the extra ones (null before the first load). */
  live: LoadedModel | null
  /** Bytes a swap in flight adds to the live version (`ModelStore.swapReserveBytes`); default 0. */
  swapReserveBytes?: number
  /**
   * Versions the running experiments, canaries and shadows name (`ExperimentCache.versionsInUse`):
   * a held version outside it is evicted first. Default: every held version counts as in use.
   */
  inUse?: ReadonlySet<string>
  /** How long a version refused for memory is refused again without re-reading its manifest. Default 0. */
  retryMs?: number
}

/** The last extra version refused for memory (`GET /v1/model`, `extraVersions.lastRefusal`). */
export interface ExtraVersionRefusal {
  version: string
  code: 'MODEL_TOO_LARGE'
  /** Bytes it would have needed in all (live + extra versions held + its own), planned. */
  neededBytes: number
  /** `MODEL_MEMORY_MIB` in bytes. */
  budgetBytes: number
  message: string
  /** ISO-8601 time of the refusal. */
  at: string
}

/** An extra version held by the cache (`GET /v1/model`, `extraVersions.held`). */
export interface HeldVersion {
  version: string
  /** Bytes it reserves: its planned resident bytes once loaded, its loading need before; 0 until its manifest is read. */
  plannedBytes: number
  loaded: boolean
}

interface Entry {
  model: Promise<LoadedModel>
  bytes: number
  loaded?: LoadedModel
}

const MiB = 1024 * 1024
const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`

/** What an extra version needs next to the live one, planned from the manifests (core `planModelMemory`). */
export interface ExtraVersionPlan {
  /** Its need: max(resident, loadingPeak − caches), see {@link VersionCache.get}. */
  own: number
  /** Its resident bytes once loaded, caches full. */
  resident: number
  /** The live version's resident bytes (0 when none, or when it is the same version). */
  liveBytes: number
  /** `MODEL_MEMORY_MIB` in bytes. */
  budget: number
}

/** Plans `manifest` as an extra version next to `live` with the isolate's options (the rule of {@link VersionCache.get}). */
export function planExtraVersion(
  manifest: ModelManifest,
  live: ModelManifest | null,
  options: VersionLoadOptions,
): ExtraVersionPlan {
  const settings = memorySettingsOf(options)
  const plan = planModelMemory(manifest, settings)
  return {
    own: Math.max(plan.resident, plan.loadingPeak - plan.caches),
    resident: plan.resident,
    liveBytes: live && live.version !== manifest.version ? planModelMemory(live, settings).resident : 0,
    budget: options.modelMemoryBytes ?? DEFAULT_MODEL_MEMORY_BUDGET_BYTES,
  }
}

/** Why an extra version does not fit and what to change (the `MODEL_TOO_LARGE` message). */
export function extraVersionTooLargeMessage(
  version: string,
  plan: ExtraVersionPlan,
  needed: number,
  next: { live: string | null; swap?: number; others?: string[]; consequence?: string },
): string {
  return (
    `Model version ${version} (an experiment variant, canary or shadow) needs ${mib(plan.own)} ` +
    `(resident ${mib(plan.resident)}) next to ` +
    [
      next.live ? `the live version ${next.live} (${mib(plan.liveBytes)})` : 'no live version',
      ...((next.swap ?? 0) > 0 ? [`a version loading as the next live one (${mib(next.swap ?? 0)})`] : []),
      ...((next.others ?? []).length > 0 ? [`the extra versions ${(next.others ?? []).join(', ')}`] : []),
    ].join(' and ') +
    `: ${mib(needed)} in all, over the memory budget of ${mib(plan.budget)} (MODEL_MEMORY_MIB). ` +
    `${next.consequence ?? 'Its requests are served by the live model.'} ` +
    'Use a smaller model for it (fewer factors or items, or a partitioned export), ' +
    'raise MODEL_MEMORY_MIB (at most 127 of the 128 MB isolate), lower USER_CACHE_MIB or PARTITION_CACHE_MIB, ' +
    'or run fewer experiments, canaries and shadows with their own version at once.'
  )
}

/** The per-isolate cache of extra versions. */
export class VersionCache implements ExtraVersionMemory {
  readonly #held = new Map<string, Entry>()
  readonly #refused = new Map<string, { error: ModelLoadError; retryAt: number }>()
  #lastRefusal: ExtraVersionRefusal | null = null

  /** Bytes the held versions reserve (see {@link HeldVersion.plannedBytes}). */
  get heldBytes(): number {
    let bytes = 0
    for (const entry of this.#held.values()) bytes += entry.bytes
    return bytes
  }

  /** The held versions, oldest first. */
  get held(): HeldVersion[] {
    return [...this.#held].map(([version, entry]) => ({
      version,
      plannedBytes: entry.bytes,
      loaded: entry.loaded !== undefined,
    }))
  }

  /** The last version refused for memory, until it loads (null when none). */
  get lastRefusal(): ExtraVersionRefusal | null {
    return this.#lastRefusal
  }

  /** Drops every held version and closes its caches (a swap of the live version needs the room). */
  evictAll(): void {
    for (const version of [...this.#held.keys()]) this.#evict(version)
  }

  /**
   * The loaded version (single flight per version); a failed load is forgotten so the next request
   * retries, a version refused for memory is refused again until `retryMs` has passed.
   *
   * The memory rule: every version loads with the live store's options (`loadOptionsOf`: user and
   * partition cache bounds, read gap, kernel, nprobe) and is planned with core's `planModelMemory`
   * from its manifest, before anything of it loads. It loads only when
   *
   *   live.resident + swap reserve + Σ held.reserved + max(resident, loadingPeak − caches) ≤ budget
   *
   * - `live.resident`: the live version with its caches full (they are: it serves every request).
   * - swap reserve: what the store's own check (core `checkSwapMemory`) planned beyond the live
   *   version for a version loading as the next live one, if one is loading now.
   * - `held.reserved`: each extra version already held, its `resident` once loaded (caches full),
   *   its own loading figure while it still loads.
   * - this version: while it loads, its `loadingPeak` without its caches (empty until it serves);
   *   once loaded, its `resident` (caches full). Unlike a swap nothing is closed when it is ready,
   *   so it needs the larger of the two, never less than `resident`.
   *
   * The store's swap check counts the held extra versions in turn, and drops them when the next
   * live version fits only without them. When this version does not fit, held versions no running
   * experiment, canary or shadow names (`inUse`) are evicted first; if it still does not fit it is
   * refused with {@link ModelLoadError} `MODEL_TOO_LARGE` (recorded as {@link lastRefusal}).
   *
   * @throws {@link ModelLoadError} through the returned promise
   */
  get(bindings: ModelBindings, version: string, options: ExtraVersionOptions): Promise<LoadedModel> {
    const held = this.#held.get(version)
    if (held) return held.model
    const now = options.now()
    const refused = this.#refused.get(version)
    if (refused && now < refused.retryAt) return Promise.reject(refused.error)
    this.#refused.delete(version)
    const entry = { bytes: 0 } as Entry
    entry.model = readManifest(bindings, version).then((manifest) => {
      // Synchronous from here to the reservation: concurrent checks of other versions see it.
      const live = options.live && options.live.version !== version ? options.live : null
      const plan = planExtraVersion(manifest, live?.manifest ?? null, options)
      const swap = options.swapReserveBytes ?? 0
      // `entry.bytes` is still 0: the held bytes are the other versions'.
      const needed = () => plan.liveBytes + swap + this.heldBytes + plan.own
      if (needed() > plan.budget) {
        for (const other of [...this.#held.keys()])
          if (other !== version && options.inUse && !options.inUse.has(other)) this.#evict(other)
      }
      if (needed() > plan.budget) {
        const error = this.#refuse(version, plan, needed(), now, options, {
          live: live?.version ?? null,
          swap,
        })
        if (this.#held.get(version) === entry) this.#held.delete(version)
        throw error
      }
      entry.bytes = plan.own
      return loadModel(bindings, manifest, loadOptionsOf(options, options.now)).then((model) => {
        entry.loaded = model
        if (this.#held.get(version) === entry) entry.bytes = plan.resident
        if (this.#lastRefusal?.version === version) this.#lastRefusal = null
        return model
      })
    })
    entry.model.catch(() => this.#held.get(version) === entry && this.#held.delete(version))
    this.#held.set(version, entry)
    if (this.#held.size > MAX_EXTRA_VERSIONS) {
      // The oldest version no running experiment names goes first, else the oldest.
      const names = [...this.#held.keys()].filter((other) => other !== version)
      this.#evict(names.find((other) => options.inUse && !options.inUse.has(other)) ?? (names[0] as string))
    }
    return entry.model
  }

  #evict(version: string): void {
    const entry = this.#held.get(version)
    if (!entry) return
    this.#held.delete(version)
    // Requests still holding it finish with what they load, keeping nothing (as a replaced live version).
    entry.loaded?.closeCaches()
  }

  #refuse(
    version: string,
    plan: ExtraVersionPlan,
    needed: number,
    now: number,
    options: ExtraVersionOptions,
    next: { live: string | null; swap: number },
  ): ModelLoadError {
    const others = [...this.#held]
      .filter(([other, entry]) => other !== version && entry.bytes > 0)
      .map(([other, entry]) => `${other} (${mib(entry.bytes)})`)
    const message = extraVersionTooLargeMessage(version, plan, needed, { ...next, others })
    const error = new ModelLoadError('MODEL_TOO_LARGE', message)
    console.warn(`edgerec: ${message}`)
    this.#refused.set(version, { error, retryAt: now + (options.retryMs ?? 0) })
    this.#lastRefusal = {
      version,
      code: 'MODEL_TOO_LARGE',
      neededBytes: needed,
      budgetBytes: plan.budget,
      message,
      at: new Date(now).toISOString(),
    }
    return error
  }
}
