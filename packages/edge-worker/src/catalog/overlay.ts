/**
 * The per-isolate catalog overlay: rows of the D1 catalog changed since the live version's export
 * (`catalog.updatedUntil`), so catalog changes reach answers without a retrain and without D1 on
 * the scoring path. One bounded query (`readChangedItems`, at most {@link OVERLAY_PAGE} rows) per
 * isolate per `CATALOG_REFRESH_SECONDS`, never one per request; `PUT /v1/items` also writes through
 * to the overlay of the isolate that served it.
 *
 * @module
 */
import { type CatalogItem, type ItemView, viewOfItem } from '@edgerec/core'
import { type CatalogChange, readChangedItems } from './db.js'

/** Rows read per refresh. */
export const OVERLAY_PAGE = 2000
/** Most overlay entries one isolate keeps (about 20 MiB at worst); later new ids wait for a retrain. */
export const MAX_OVERLAY_ENTRIES = 50_000

/** One overlay entry: the item and its view, or `null` for a deleted item. */
export type OverlayEntry = { item: CatalogItem; view: ItemView } | null

/** What `/v1/model` reports about the overlay. */
export interface OverlayStats {
  /** The export time the overlay starts from (0: the version has no catalog, or no model). */
  since: number
  entries: number
  /** Newest `updated_at` read. */
  cursor: number
  /** ISO time of the last successful refresh. */
  refreshedAt: string | null
  /** New ids dropped because the overlay was full (retrain to fold them into the version). */
  dropped: number
  lastError: string | null
}

/** The overlay of one isolate. */
export class CatalogOverlay {
  #since = Number.NaN
  #cursor = 0
  #checkedAt = Number.NEGATIVE_INFINITY
  #refreshedAt: number | null = null
  #pending: Promise<void> | undefined
  #dropped = 0
  #deletions = 0
  #lastError: string | null = null
  readonly #entries = new Map<string, OverlayEntry>()

  /**
   * Brings the overlay up to date for a version whose catalog was exported up to `since` (0 when it
   * has none: then the whole D1 catalog overlays it). Re-reads D1 at most every `refreshMs`;
   * concurrent requests share one query. A D1 failure keeps the last overlay and is reported.
   */
  async refresh(db: D1Database, since: number, now: number, refreshMs: number): Promise<void> {
    if (since !== this.#since) {
      this.#since = since
      this.#cursor = since
      this.#entries.clear()
      this.#dropped = 0
      this.#deletions = 0
      this.#checkedAt = Number.NEGATIVE_INFINITY
    }
    if (this.#pending) return this.#pending
    if (now - this.#checkedAt < refreshMs) return
    this.#checkedAt = now
    const forSince = since
    this.#pending = readChangedItems(db, this.#cursor, OVERLAY_PAGE)
      .then(
        (changes) => {
          if (forSince !== this.#since) return
          this.apply(changes)
          this.#refreshedAt = now
          this.#lastError = null
        },
        (error: unknown) => {
          this.#lastError = error instanceof Error ? error.message : String(error)
          console.error('edgerec: reading catalog changes failed', error)
        },
      )
      .finally(() => {
        this.#pending = undefined
      })
    return this.#pending
  }

  /** Applies changes (from D1, or written through by `PUT /v1/items` in this isolate). */
  apply(changes: readonly CatalogChange[]): void {
    for (const change of changes) {
      if (change.updatedAt < this.#since) continue
      if (change.updatedAt > this.#cursor) this.#cursor = change.updatedAt
      if (!this.#entries.has(change.itemId) && this.#entries.size >= MAX_OVERLAY_ENTRIES) {
        this.#dropped++
        continue
      }
      const before = this.#entries.get(change.itemId)
      if (before === null) this.#deletions--
      if (change.item === null) this.#deletions++
      this.#entries.set(
        change.itemId,
        change.item ? { item: change.item, view: viewOfItem(change.item) } : null,
      )
    }
  }

  /** The overlay entry of `itemId`: undefined when unchanged since the export, null when deleted. */
  get(itemId: string): OverlayEntry | undefined {
    return this.#entries.get(itemId)
  }

  /** Number of entries. */
  get size(): number {
    return this.#entries.size
  }

  /** True when some entry is a deletion. */
  get hasDeletions(): boolean {
    return this.#deletions > 0
  }

  /** Every entry (new items, deletions) — for items the model does not know. */
  entries(): IterableIterator<[string, OverlayEntry]> {
    return this.#entries.entries()
  }

  get stats(): OverlayStats {
    return {
      since: Number.isNaN(this.#since) ? 0 : this.#since,
      entries: this.#entries.size,
      cursor: this.#cursor,
      refreshedAt: this.#refreshedAt === null ? null : new Date(this.#refreshedAt).toISOString(),
      dropped: this.#dropped,
      lastError: this.#lastError,
    }
  }
}
