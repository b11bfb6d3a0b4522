/**
 * Model versions other than the live one, loaded on demand for experiment variants, canaries and
 * shadows. At most {@link MAX_EXTRA_VERSIONS} stay loaded per isolate, and each loads only when
 * its planned memory fits `MODEL_MEMORY_MIB` next to the live version and the extra versions
 * already held (see {@link VersionCache.get}); otherwise it is refused with `MODEL_TOO_LARGE` and
 * its requests are served by the live model.
 *
 * @module
 */
import { DEFAULT_MODEL_MEMORY_BUDGET_BYTES, planModelMemory } from '@edgerec/core'
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
      const settings = memorySettingsOf(options)
      const plan = planModelMemory(manifest, settings)
      const own = Math.max(plan.resident, plan.loadingPeak - plan.caches)
      const live = options.live && options.live.version !== version ? options.live : null
      const liveBytes = live ? planModelMemory(live.manifest, settings).resident : 0
      const budget = options.modelMemoryBytes ?? DEFAULT_MODEL_MEMORY_BUDGET_BYTES
      const swap = options.swapReserveBytes ?? 0
      // `entry.bytes` is still 0: the held bytes are the other versions'.
      const needed = () => liveBytes + swap + this.heldBytes + own
      if (needed() > budget) {
        for (const other of [...this.#held.keys()])
          if (other !== version && options.inUse && !options.inUse.has(other)) this.#evict(other)
      }
      if (needed() > budget) {
        const error = this.#refuse(version, needed(), budget, now, options, {
          own,
          resident: plan.resident,
          live: live ? `${live.version} (${mib(liveBytes)})` : null,
          swap,
        })
        if (this.#held.get(version) === entry) this.#held.delete(version)
        throw error
      }
      entry.bytes = own
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
    needed: number,
    budget: number,
    now: number,
    options: ExtraVersionOptions,
    parts: { own: number; resident: number; live: string | null; swap: number },
  ): ModelLoadError {
    const others = [...this.#held]
      .filter(([other, entry]) => other !== version && entry.bytes > 0)
      .map(([other, entry]) => `${other} (${mib(entry.bytes)})`)
    const message =
      `Model version ${version} (an experiment variant, canary or shadow) needs ${mib(parts.own)} ` +
      `(resident ${mib(parts.resident)}) next to ` +
      [
        parts.live ? `the live version ${parts.live}` : 'no live version',
        ...(parts.swap > 0 ? [`a version loading as the next live one (${mib(parts.swap)})`] : []),
        ...(others.length > 0 ? [`the extra versions ${others.join(', ')}`] : []),
      ].join(' and ') +
      `: ${mib(needed)} in all, over the memory budget of ${mib(budget)} (MODEL_MEMORY_MIB). ` +
      'Its requests are served by the live model. Use a smaller model for it (fewer factors or items, or a partitioned export), ' +
      'raise MODEL_MEMORY_MIB (at most 127 of the 128 MB isolate), lower USER_CACHE_MIB or PARTITION_CACHE_MIB, ' +
      'or run fewer experiments, canaries and shadows with their own version at once.'
    const error = new ModelLoadError('MODEL_TOO_LARGE', message)
    console.warn(`edgerec: ${message}`)
    this.#refused.set(version, { error, retryAt: now + (options.retryMs ?? 0) })
    this.#lastRefusal = {
      version,
      code: 'MODEL_TOO_LARGE',
      neededBytes: needed,
      budgetBytes: budget,
      message,
      at: new Date(now).toISOString(),
    }
    return error
  }
}
