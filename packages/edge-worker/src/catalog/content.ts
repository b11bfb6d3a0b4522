/**
 * Content vectors of new items (issue 17): an item added through the catalog after training has no
 * factors, so it gets the weighted mean of the trained items sharing its labels,
 *
 *   ŷ_new = Σ_j w_j y_j / Σ_j w_j,   w_j = 2·|categories ∩| + |tags ∩|,
 *
 * over the version's catalog (an inverted index label → items built once per version per isolate).
 * It can then be recommended (score x_uᵀ ŷ) and has similar items (cosine) on the next request;
 * such answers mark the item `source: "content"`.
 *
 * @module
 */
import {
  type CatalogItem,
  dotInt8,
  type IndexFilter,
  type ItemBlock,
  quantizeVector,
  TopK,
} from '@edgerec/core'
import type { LoadedModel } from '../model/loaded-model.js'
import type { CatalogOverlay } from './overlay.js'

/** Newest new items considered per request (the overlay may hold more). */
export const MAX_CONTENT_ITEMS = 500

interface LabelIndex {
  categories: Map<string, number[]>
  tags: Map<string, number[]>
}

/** A new item with its content vector. */
export interface ContentItem {
  itemId: string
  item: CatalogItem
  /** ŷ, float. */
  vector: Float32Array
  norm: number
}

const labelIndexes = new WeakMap<LoadedModel, LabelIndex>()
const vectors = new WeakMap<LoadedModel, WeakMap<CatalogItem, ContentItem | null>>()

function labelIndexOf(model: LoadedModel): LabelIndex {
  let index = labelIndexes.get(model)
  if (index) return index
  index = { categories: new Map(), tags: new Map() }
  const catalog = model.catalog
  if (catalog) {
    for (let i = 0; i < model.itemCount; i++) {
      const row = model.catalogRow(i)
      if (row < 0) continue
      const item = catalog.item(row)
      for (const c of item.categories) {
        const list = index.categories.get(c)
        if (list) list.push(i)
        else index.categories.set(c, [i])
      }
      for (const t of item.tags) {
        const list = index.tags.get(t)
        if (list) list.push(i)
        else index.tags.set(t, [i])
      }
    }
  }
  labelIndexes.set(model, index)
  return index
}

/** The content vector of `item` (null when no trained item shares a label with it). */
export function contentItem(model: LoadedModel, item: CatalogItem): ContentItem | null {
  let cache = vectors.get(model)
  if (!cache) {
    cache = new WeakMap()
    vectors.set(model, cache)
  }
  const cached = cache.get(item)
  if (cached !== undefined) return cached
  const index = labelIndexOf(model)
  const weights = new Map<number, number>()
  for (const c of item.categories)
    for (const i of index.categories.get(c) ?? []) weights.set(i, (weights.get(i) ?? 0) + 2)
  for (const t of item.tags)
    for (const i of index.tags.get(t) ?? []) weights.set(i, (weights.get(i) ?? 0) + 1)
  let result: ContentItem | null = null
  if (weights.size > 0) {
    const dims = model.manifest.dims
    const sum = new Float64Array(dims)
    const y = new Float64Array(dims)
    let total = 0
    for (const [i, w] of weights) {
      if (!model.readItem(i, y)) continue
      for (let d = 0; d < dims; d++) sum[d]! += w * y[d]!
      total += w
    }
    if (total > 0) {
      const vector = Float32Array.from(sum, (v) => v / total)
      let norm = 0
      for (const v of vector) norm += v * v
      result = { itemId: item.itemId, item, vector, norm: Math.sqrt(norm) }
    }
  }
  cache.set(item, result)
  return result
}

/**
 * The new items a request may serve: overlay items the model does not know, not deleted, passing
 * `catalog`'s view of the request filter (`passes`), newest {@link MAX_CONTENT_ITEMS}.
 */
export function newItems(
  model: LoadedModel,
  overlay: CatalogOverlay,
  passes: (itemId: string) => boolean,
  exclude: ReadonlySet<string>,
): ContentItem[] {
  const out: ContentItem[] = []
  const entries = [...overlay.entries()]
  for (let n = entries.length - 1; n >= 0 && out.length < MAX_CONTENT_ITEMS; n--) {
    const [itemId, entry] = entries[n]!
    if (!entry || model.itemIndexOf(itemId) >= 0 || exclude.has(itemId) || !passes(itemId)) continue
    const content = contentItem(model, entry.item)
    if (content) out.push(content)
  }
  return out
}

/** x_u as float from an int8 user vector. */
export function dequantizeUser(user: { values: Int8Array; scale: number }): Float64Array {
  return Float64Array.from(user.values, (v) => v * user.scale)
}

/** x_uᵀ ŷ. */
export function contentScore(user: Float64Array, content: ContentItem): number {
  let s = 0
  for (let d = 0; d < user.length; d++) s += user[d]! * content.vector[d]!
  return s
}

/**
 * Items most similar to a content vector by cosine over the model's int8 rows (norms from the
 * shards), skipping `skip`.
 */
export function similarToVector(
  blocks: readonly ItemBlock[],
  vector: Float32Array,
  k: number,
  skip?: IndexFilter,
): { indices: Uint32Array; scores: Float32Array } {
  const q = quantizeVector(vector)
  let qNorm = 0
  for (const v of q.values) qNorm += v * v
  qNorm = Math.sqrt(qNorm) * q.scale
  const top = new TopK(k)
  for (const block of blocks) {
    for (let r = 0; r < block.rowCount; r++) {
      const j = block.rowOffset + r
      if (skip?.has(j)) continue
      const norm = block.norms ? block.norms[r]! : 0
      const denom = qNorm * norm
      const score =
        denom > 0
          ? (q.scale * block.scales[r]! * dotInt8(q.values, block.factors, r * block.dims, block.dims)) /
            denom
          : 0
      top.push(j, score)
    }
  }
  return top.result()
}

/** Cosine of two float vectors with known norms. */
export function cosineOf(a: Float32Array | Float64Array, aNorm: number, b: ContentItem): number {
  let s = 0
  for (let d = 0; d < a.length; d++) s += a[d]! * b.vector[d]!
  return aNorm > 0 && b.norm > 0 ? s / (aNorm * b.norm) : 0
}
