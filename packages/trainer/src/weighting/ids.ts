/**
 * Order of raw ids when they become dense indexes (shared/REFERENCE.md): numeric order when every
 * id is a number, otherwise UTF-16 code unit order.
 *
 * @module
 */

const NUMERIC = /^-?\d+(\.\d+)?$/

/** Compares two ids of `ids` by position; builds a cached numeric view on first use. */
const numericCache = new WeakMap<readonly string[], Float64Array | null>()

function numericView(ids: readonly string[]): Float64Array | null {
  let view = numericCache.get(ids)
  if (view !== undefined) return view
  view = new Float64Array(ids.length)
  for (let x = 0; x < ids.length; x++) {
    const id = ids[x]!
    if (!NUMERIC.test(id)) {
      view = null
      break
    }
    view[x] = Number(id)
  }
  numericCache.set(ids, view)
  return view
}

/**
 * Compares `ids[a]` and `ids[b]`: numerically when all ids are numbers (ties such as `7` and `07`
 * broken by the string), otherwise by code units.
 */
export function compareIds(ids: readonly string[], a: number, b: number): number {
  const numbers = numericView(ids)
  if (numbers) {
    const d = numbers[a]! - numbers[b]!
    if (d !== 0) return d
  }
  const x = ids[a]!
  const y = ids[b]!
  return x < y ? -1 : x > y ? 1 : 0
}

/** The ids sorted in index order (a copy). */
export function sortIds(ids: readonly string[]): string[] {
  const order = Array.from(ids.keys()).sort((a, b) => compareIds(ids, a, b))
  return order.map((x) => ids[x]!)
}
