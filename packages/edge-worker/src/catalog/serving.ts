/**
 * The catalog as one request sees it: the live version's exported catalog, overridden by the
 * isolate's overlay of later changes; and the request's filter turned into the index predicate the
 * top-K scan consults (core's `IndexFilter`), so filtering happens inside the scan.
 *
 * @module
 */
import {
  compileItemFilter,
  type IndexFilter,
  type ItemFilterSpec,
  type ItemPredicate,
  type ItemView,
  UNKNOWN_ITEM_VIEW,
} from '@edgerec/core'
import type { LoadedModel } from '../model/loaded-model.js'
import type { CatalogOverlay } from './overlay.js'

/** Per-request view of the catalog of one model version. */
export class ServingCatalog {
  readonly #model: LoadedModel | null
  readonly #overlay: CatalogOverlay

  constructor(model: LoadedModel | null, overlay: CatalogOverlay) {
    this.#model = model
    this.#overlay = overlay
  }

  /**
   * The view of item `itemId`, or null when it was deleted. Items in neither the version's catalog
   * nor the overlay have no labels and count as available.
   */
  viewOf(itemId: string, modelIndex = this.#model?.itemIndexOf(itemId) ?? -1): ItemView | null {
    if (this.#overlay.size > 0) {
      const entry = this.#overlay.get(itemId)
      if (entry === null) return null
      if (entry) return entry.view
    }
    const model = this.#model
    if (model?.catalog && modelIndex >= 0) {
      const row = model.catalogRow(modelIndex)
      if (row >= 0) return model.catalog.view(row)
    }
    return UNKNOWN_ITEM_VIEW
  }

  /**
   * True when the item is known: in the live model, or in the catalog (rows changed since the
   * export). Popularity from fresh events lists only known items, so a client cannot put an
   * arbitrary id into everyone's list (issue 13).
   */
  known(itemId: string): boolean {
    const entry = this.#overlay.get(itemId)
    if (entry !== undefined) return entry !== null
    return (this.#model?.itemIndexOf(itemId) ?? -1) >= 0
  }

  /** The view of the item at model index `index` (deleted items: null). */
  viewAt(index: number): ItemView | null {
    const model = this.#model
    if (!model) return null
    return this.viewOf(model.itemId(index), index)
  }

  /**
   * The predicate the scan consults (`has` = skip): `excluded` indexes, deleted items, and items
   * failing `predicate`. Undefined when nothing can be skipped.
   */
  indexFilter(predicate: ItemPredicate, excluded?: IndexFilter): IndexFilter | undefined {
    if (predicate.passAll && !this.#overlay.hasDeletions) return excluded
    return {
      has: (index) => {
        if (excluded?.has(index)) return true
        const view = this.viewAt(index)
        return view === null || !predicate.test(view)
      },
    }
  }

  /** Whether item `itemId` passes `predicate` (and is not deleted). */
  passes(predicate: ItemPredicate, itemId: string): boolean {
    const view = this.viewOf(itemId)
    return view !== null && predicate.test(view)
  }
}

/** Compiles a request's filter spec (defaults: unavailable items excluded). */
export function compileRequestFilter(spec: ItemFilterSpec): ItemPredicate {
  return compileItemFilter(spec)
}
