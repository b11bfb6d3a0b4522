/**
 * The per-isolate model store: notices a new live version within `MODEL_REFRESH_SECONDS`, loads it
 * once (single flight), swaps it in atomically, and keeps serving the last good version when a new
 * one fails to load.
 *
 * @module
 */
import {
  checkSwapMemory,
  DEFAULT_MODEL_MEMORY_BUDGET_BYTES,
  isEdgerecError,
  type ModelManifest,
  planModelMemory,
} from '@edgerec/core'
import type { ScoringKernelSetting } from './kernel.js'
import { type LoadedModel, type LoadModelOptions, loadModel, type UserBucketFailure } from './loaded-model.js'
import { type ModelBindings, ModelLoadError, readLivePointer, readManifest } from './storage.js'

/** Why the store is not serving what the live pointer names. */
export interface ModelLoadFailure {
  /** The version that failed, or null when the pointer itself could not be read. */
  version: string | null
  code: string
  message: string
  /** ISO-8601 time of the failure. */
  at: string
  /** ISO-8601 time of the next attempt. */
  retryAt: string
  /** Consecutive failed attempts for this version. */
  attempts: number
}

/** Options of {@link ModelStore}. */
export interface ModelStoreOptions {
  /** Clock in epoch ms (tests pass a fake one). */
  now?: () => number
  /** First retry delay after a failed load; doubles per attempt up to `maxBackoffMs`. Default 5 s. */
  backoffMs?: number
  /** Longest retry delay. Default 5 min. */
  maxBackoffMs?: number
}

/**
 * How this isolate loads and plans any model version (the live one and the extra ones of
 * experiment variants, canaries and shadows alike), from the worker's config.
 */
export interface VersionLoadOptions {
  userCacheBytes: number
  /** Which int8 kernel a newly loaded version scores with (`SCORING_KERNEL`). Default `auto`. */
  scoringKernel?: ScoringKernelSetting
  /**
   * Bytes the models may hold: the live version plus a version loading during a swap, and the
   * extra versions of experiments, canaries and shadows (`MODEL_MEMORY_MIB`). Default 96 MiB.
   */
  modelMemoryBytes?: number
  /** Partitions probed per query in partitioned versions (`PARTITION_NPROBE`); read when a version loads. */
  partitionNprobe?: number
  /** Bound of a partitioned version's list cache (`PARTITION_CACHE_MIB`); default 8 MiB. */
  partitionCacheBytes?: number
  /** Largest gap between two lists one ranged read covers (`PARTITION_READ_GAP_KIB`); default 256 KiB. */
  partitionReadGapBytes?: number
}

/**
 * The model versions an isolate holds next to the live one (experiment variants, canaries,
 * shadows: `experiments/versions.ts`), as the store sees them during a swap.
 */
export interface ExtraVersionMemory {
  /** Bytes the extra versions reserve now, as planned before each loaded. */
  readonly heldBytes: number
  /** Drops every extra version (caches closed); each reloads on demand, checked against the then-live version. */
  evictAll(): void
}

/** What a request needs to acquire the model. */
export interface AcquireOptions extends VersionLoadOptions {
  refreshMs: number
  /**
   * The extra versions held next to the live one: a swap that fits only without them drops them
   * first (the live version serves everyone; they reload on demand if they still fit).
   */
  extras?: ExtraVersionMemory
  /** Keeps a background refresh alive after the response (`ExecutionContext.waitUntil`). */
  waitUntil?: (promise: Promise<unknown>) => void
}

/** The planner's settings of {@link VersionLoadOptions} (core `planModelMemory`). */
export function memorySettingsOf(options: VersionLoadOptions): {
  userCacheBytes: number
  partitionCacheBytes?: number
} {
  return {
    userCacheBytes: options.userCacheBytes,
    ...(options.partitionCacheBytes !== undefined
      ? { partitionCacheBytes: options.partitionCacheBytes }
      : {}),
  }
}

/** The `loadModel` options of {@link VersionLoadOptions}: every version loads with the same bounds. */
export function loadOptionsOf(options: VersionLoadOptions, now: () => number): LoadModelOptions {
  return {
    userCacheBytes: options.userCacheBytes,
    scoringKernel: options.scoringKernel ?? 'auto',
    ...(options.partitionNprobe !== undefined ? { partitionNprobe: options.partitionNprobe } : {}),
    ...(options.partitionCacheBytes !== undefined
      ? { partitionCacheBytes: options.partitionCacheBytes }
      : {}),
    ...(options.partitionReadGapBytes !== undefined
      ? { partitionReadGapBytes: options.partitionReadGapBytes }
      : {}),
    now,
  }
}

/**
 * Holds the live {@link LoadedModel} of one isolate.
 *
 * @example
 * ```ts
 * const store = new ModelStore()
 * const model = await store.acquire(env, { refreshMs: 30_000, userCacheBytes: 16 << 20 })
 * ```
 */
export class ModelStore {
  readonly #now: () => number
  readonly #backoffMs: number
  readonly #maxBackoffMs: number
  #live: LoadedModel | null = null
  #checkedAt = Number.NEGATIVE_INFINITY
  #refreshing: Promise<void> | undefined
  readonly #loads = new Map<string, Promise<LoadedModel>>()
  readonly #failures = new Map<string, { attempts: number; retryAt: number }>()
  #lastError: ModelLoadFailure | null = null
  /** Versions whose user shard failed its checks in this isolate: never served again here. */
  readonly #corrupt = new Set<string>()
  /** The version `models/live` named at the last refresh. */
  #pointerVersion: string | null = null
  #loadCount = 0
  /** Per version loading as the next live one: the bytes its swap check planned beyond the live version's resident bytes. */
  readonly #swapReserves = new Map<string, number>()

  constructor(options: ModelStoreOptions = {}) {
    this.#now = options.now ?? Date.now
    this.#backoffMs = options.backoffMs ?? 5_000
    this.#maxBackoffMs = options.maxBackoffMs ?? 300_000
  }

  /** The model currently served (null before the first successful load). */
  get live(): LoadedModel | null {
    return this.#live
  }

  /** The last load failure still relevant (cleared when the live version loads). */
  get lastError(): ModelLoadFailure | null {
    return this.#lastError
  }

  /**
   * True when the live pointer names a version this isolate found corrupt (a user shard failed its
   * checks on first use): it then serves the previous good version, or keeps the corrupt one with
   * that bucket's users unknown when there is none. `/v1/health` says `degraded`.
   */
  get degraded(): boolean {
    return this.#pointerVersion !== null && this.#corrupt.has(this.#pointerVersion)
  }

  /**
   * Bytes a swap in flight may add to the live version's resident bytes (0 when no version loads):
   * what the extra versions' memory check reserves for it.
   */
  get swapReserveBytes(): number {
    let bytes = 0
    for (const reserve of this.#swapReserves.values()) bytes += reserve
    return bytes
  }

  /** How many version loads started in this isolate (each version at most once per attempt). */
  get loadCount(): number {
    return this.#loadCount
  }

  /** Makes the next {@link acquire} re-read the live pointer (after an admin flip in this isolate). */
  invalidate(): void {
    this.#checkedAt = Number.NEGATIVE_INFINITY
  }

  /**
   * The model a request should use, captured once at the request's start.
   *
   * Re-reads the live pointer at most every `refreshMs`. While a model is loaded, a newer version
   * loads in the background (the request is served by the current one); only a cold isolate waits
   * for its first load. Returns null when there is nothing to serve.
   */
  async acquire(bindings: ModelBindings, options: AcquireOptions): Promise<LoadedModel | null> {
    const now = this.#now()
    if (!this.#refreshing && now - this.#checkedAt >= options.refreshMs) {
      this.#checkedAt = now
      const refresh = this.#refresh(bindings, options).finally(() => {
        this.#refreshing = undefined
      })
      this.#refreshing = refresh
      options.waitUntil?.(refresh)
    }
    if (this.#live === null && this.#refreshing) await this.#refreshing
    return this.#live
  }

  /** Waits for a refresh in flight, if any (tests and the benchmark use it). */
  async settled(): Promise<void> {
    await this.#refreshing
  }

  async #refresh(bindings: ModelBindings, options: AcquireOptions): Promise<void> {
    let version: string | null = null
    try {
      const pointer = await readLivePointer(bindings)
      // NOTE: a missing pointer keeps whatever is loaded: deleting `models/live` is not a way to
      // unpublish, and an eventually consistent read must not drop a good model.
      if (!pointer) return
      this.#pointerVersion = pointer.version
      let target = pointer.version
      if (this.#corrupt.has(target)) {
        // Roll back in this isolate: serve the pointer's previous version (verified like any load).
        if (!pointer.previous || this.#corrupt.has(pointer.previous)) return
        target = pointer.previous
        if (target === this.#live?.version) return
      } else if (target === this.#live?.version) {
        this.#lastError = null
        return
      }
      version = target
      const failure = this.#failures.get(version)
      if (failure && this.#now() < failure.retryAt) return
      const model = await this.#load(bindings, version, options)
      const replaced = this.#live
      this.#live = model
      // Its reserve ends as it becomes live (same turn): extra versions are then checked against it.
      this.#swapReserves.delete(version)
      // The replaced version's caches go now (the swap's memory check counts one version's caches).
      if (replaced && replaced !== model) replaced.closeCaches()
      this.#failures.delete(version)
      if (!this.#corrupt.has(pointer.version)) this.#lastError = null
    } catch (error) {
      this.#recordFailure(version, error)
    }
  }

  #load(bindings: ModelBindings, version: string, options: AcquireOptions): Promise<LoadedModel> {
    let pending = this.#loads.get(version)
    if (!pending) {
      this.#loadCount++
      pending = readManifest(bindings, version)
        .then((manifest) => {
          this.#checkMemory(manifest, options)
          return loadModel(bindings, manifest, {
            ...loadOptionsOf(options, this.#now),
            onCorruptShard: (failure) => this.#markCorrupt(version, failure),
          })
        })
        .catch((error: unknown) => {
          this.#swapReserves.delete(version)
          throw error
        })
        .finally(() => this.#loads.delete(version))
      this.#loads.set(version, pending)
    }
    return pending
  }

  /**
   * Refuses, before anything loads, a version whose planned peak does not fit next to the live
   * version within the budget (both are in memory until the swap completes).
   *
   * Extra versions (experiment variants, canaries, shadows) come after the live one: when the swap
   * fits alone but not next to them, they are dropped first (`options.extras.evictAll`) and reload
   * on demand, where their own check counts this swap's reserve ({@link swapReserveBytes}) and
   * then the new live version. A swap that does not fit even without them is refused as before.
   */
  #checkMemory(manifest: ModelManifest, options: AcquireOptions): void {
    const settings = memorySettingsOf(options)
    const live = this.#live
    const livePlan = live ? planModelMemory(live.manifest, settings) : undefined
    const budget = options.modelMemoryBytes ?? DEFAULT_MODEL_MEMORY_BUDGET_BYTES
    const check = checkSwapMemory(
      { version: manifest.version, plan: planModelMemory(manifest, settings) },
      live && livePlan ? { version: live.version, plan: livePlan } : undefined,
      budget,
    )
    if (!check.fits) throw new ModelLoadError('MODEL_TOO_LARGE', check.message)
    const extras = options.extras
    if (extras && extras.heldBytes > 0 && check.needed + extras.heldBytes > budget) {
      console.warn(
        `edgerec: version ${manifest.version} fits the memory budget only without the extra versions of experiments, canaries and shadows; dropping them (they reload on demand if they still fit)`,
      )
      extras.evictAll()
    }
    const liveResident = live && live.version !== manifest.version && livePlan ? livePlan.resident : 0
    this.#swapReserves.set(manifest.version, Math.max(0, check.needed - liveResident))
  }

  /**
   * A user bucket of `version` failed its checks on first use: the version is degraded. Record it
   * as `lastError` and make the next request re-read the pointer, which then loads the previous
   * version (the KV pointer itself is not changed: `POST /v1/admin/models/rollback` does that,
   * after verifying the previous version).
   */
  #markCorrupt(version: string, failure: UserBucketFailure): void {
    if (this.#corrupt.has(version)) return
    this.#corrupt.add(version)
    const at = failure.at
    this.#lastError = {
      version,
      code: failure.code,
      message: `${failure.partition !== undefined ? `Partition list ${failure.partition}` : `User bucket ${failure.bucket}`} of version ${version} failed its integrity check (${failure.message}); this isolate serves the previous good version instead. Republish or roll back.`,
      at,
      retryAt: at,
      attempts: 1,
    }
    this.invalidate()
  }

  #recordFailure(version: string | null, error: unknown): void {
    const now = this.#now()
    const key = version ?? ''
    const attempts = (this.#failures.get(key)?.attempts ?? 0) + 1
    const delay = Math.min(this.#maxBackoffMs, this.#backoffMs * 2 ** (attempts - 1))
    this.#failures.set(key, { attempts, retryAt: now + delay })
    this.#lastError = {
      version,
      code: isEdgerecError(error) ? error.code : 'INTERNAL',
      message: error instanceof Error ? error.message : String(error),
      at: new Date(now).toISOString(),
      retryAt: new Date(now + delay).toISOString(),
      attempts,
    }
  }
}
