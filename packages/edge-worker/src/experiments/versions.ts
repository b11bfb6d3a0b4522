/**
 * Model versions other than the live one, loaded on demand for experiment variants and canaries.
 * At most {@link MAX_EXTRA_VERSIONS} stay loaded per isolate (the oldest loaded goes first), so
 * memory stays within two extra models next to the live one.
 *
 * @module
 */
import { type LoadedModel, loadModel } from '../model/loaded-model.js'
import { type ModelBindings, readManifest } from '../model/storage.js'

/** Extra versions kept loaded in one isolate. */
export const MAX_EXTRA_VERSIONS = 2

/** The per-isolate cache of extra versions. */
export class VersionCache {
  readonly #models = new Map<string, Promise<LoadedModel>>()

  /** The loaded version (single flight per version); a failed load is forgotten so the next request retries. */
  get(
    bindings: ModelBindings,
    version: string,
    options: { userCacheBytes: number; now: () => number },
  ): Promise<LoadedModel> {
    let pending = this.#models.get(version)
    if (!pending) {
      pending = readManifest(bindings, version).then((manifest) => loadModel(bindings, manifest, options))
      pending.catch(() => this.#models.get(version) === pending && this.#models.delete(version))
      this.#models.set(version, pending)
      if (this.#models.size > MAX_EXTRA_VERSIONS)
        this.#models.delete(this.#models.keys().next().value as string)
    }
    return pending
  }
}
