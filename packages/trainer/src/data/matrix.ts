/**
 * The trainer's in-memory interaction data: a user × item matrix in CSR form, with the dense index
 * maps kept for export. Every stage after input (weighting, ALS, evaluation, export) works on it.
 *
 * @module
 */

/**
 * A sparse user × item matrix in compressed sparse row form.
 *
 * Row u's entries are `indices[indptr[u] .. indptr[u+1])` (item indexes, ascending) with values
 * `values[...]` (summed event weight r_ui, before alpha: confidence is c_ui = alpha · r_ui).
 * `timestamps[...]` hold the newest event time (epoch ms) of each pair, for temporal splits and decay.
 */
export interface CsrMatrix {
  rows: number
  cols: number
  indptr: Uint32Array
  indices: Uint32Array
  values: Float32Array
  timestamps: Float64Array
}

/**
 * Allocates the `indptr` (rows + 1), `indices` and `values` (`pairs` each) of a CSR matrix that
 * its caller then fills, e.g. straight in the memory an ALS training will use (the trainer's
 * `allocateAlsMatrix`), so that training copies nothing. `timestamps` of the result is ignored:
 * the caller allocates its own.
 */
export type CsrAllocator = (rows: number, cols: number, pairs: number) => CsrMatrix

/** Interactions with their id maps: row u is `userIds[u]`, column i is `itemIds[i]`. */
export interface InteractionMatrix {
  /** user × item. */
  matrix: CsrMatrix
  userIds: string[]
  itemIds: string[]
  /** Newest event timestamp (epoch ms) seen in the input. */
  trainedUntil: number
}

/** Number of stored (user, item) pairs. */
export function nnz(m: CsrMatrix): number {
  return m.indptr[m.rows]!
}

/**
 * Builds a CSR matrix from (row, col, value, timestamp) triples; duplicate (row, col) pairs are
 * summed (values) and keep the newest timestamp. Column indexes end up ascending within each row.
 */
export function csrFromTriples(
  rows: number,
  cols: number,
  rowIdx: ArrayLike<number>,
  colIdx: ArrayLike<number>,
  vals: ArrayLike<number>,
  times?: ArrayLike<number>,
): CsrMatrix {
  const n = rowIdx.length
  const counts = new Uint32Array(rows + 1)
  for (let k = 0; k < n; k++) counts[rowIdx[k]! + 1]!++
  for (let r = 0; r < rows; r++) counts[r + 1] = counts[r + 1]! + counts[r]!
  const order = new Uint32Array(n)
  const cursor = counts.slice(0, rows)
  for (let k = 0; k < n; k++) order[cursor[rowIdx[k]!]!++] = k
  const indptr = new Uint32Array(rows + 1)
  // Preallocated for n pairs (duplicates only shrink it); values and stamps accumulate in float64
  // and are rounded to float32 once at the end, as summing in plain numbers did.
  const indices = new Uint32Array(n)
  const values = new Float64Array(n)
  const stamps = new Float64Array(n)
  let m = 0
  for (let r = 0; r < rows; r++) {
    const start = counts[r]!
    const end = counts[r + 1]!
    const ks = Array.from(order.subarray(start, end)).sort((a, b) => colIdx[a]! - colIdx[b]!)
    let last = -1
    for (const k of ks) {
      const c = colIdx[k]!
      const t = times ? times[k]! : 0
      if (c === last) {
        values[m - 1]! += vals[k]!
        if (t > stamps[m - 1]!) stamps[m - 1] = t
      } else {
        indices[m] = c
        values[m] = vals[k]!
        stamps[m] = t
        m++
        last = c
      }
    }
    indptr[r + 1] = m
  }
  return {
    rows,
    cols,
    indptr,
    indices: m === n ? indices : indices.slice(0, m),
    values: Float32Array.from(values.subarray(0, m)),
    timestamps: m === n ? stamps : stamps.slice(0, m),
  }
}

/**
 * The matrix {@link csrFromTriples} builds from float32 ratings without timestamps (same `indptr`,
 * `indices` and `values`, duplicates summed once in float64 in input order, zero `timestamps`),
 * with less memory: the pairs are scattered into their rows (counting sort) and each row is then
 * sorted and merged in place, so the peak is the three input columns plus `indices` and `values`,
 * 20 bytes a pair instead of 40, and the zero `timestamps` array is allocated but never written
 * (the kernel maps no memory for it). For inputs read from files (the Spark import) whose order is
 * unknown; the caller may drop the input columns as soon as this returns.
 */
export function csrFromRatings(
  rows: number,
  cols: number,
  rowIdx: Int32Array | Uint32Array,
  colIdx: Uint32Array,
  vals: Float32Array,
): CsrMatrix {
  const n = rowIdx.length
  const indptr = new Uint32Array(rows + 1)
  for (let k = 0; k < n; k++) indptr[rowIdx[k]! + 1]!++
  for (let r = 0; r < rows; r++) indptr[r + 1] = indptr[r + 1]! + indptr[r]!
  let indices = new Uint32Array(n)
  let values = new Float32Array(n)
  const cursor = indptr.slice(0, rows)
  for (let k = 0; k < n; k++) {
    const at = cursor[rowIdx[k]!]!++
    indices[at] = colIdx[k]!
    values[at] = vals[k]!
  }
  // Each row in column order (stable: duplicates stay in input order), duplicates merged, compacted
  // towards the front (the write position never passes the read position).
  let m = 0
  let start = 0
  for (let r = 0; r < rows; r++) {
    const end = indptr[r + 1]!
    let sorted = true
    for (let k = start + 1; k < end && sorted; k++) sorted = indices[k - 1]! < indices[k]!
    if (!sorted) {
      const order = Array.from({ length: end - start }, (_, j) => start + j).sort(
        (a, b) => indices[a]! - indices[b]!,
      )
      const c = order.map((k) => indices[k]!)
      const v = order.map((k) => values[k]!)
      let last = -1
      let sum = 0
      for (let j = 0; j < c.length; j++) {
        if (c[j] === last) sum += v[j]!
        else {
          if (last >= 0) values[m - 1] = sum
          indices[m] = c[j]!
          sum = v[j]!
          last = c[j]!
          m++
        }
      }
      if (last >= 0) values[m - 1] = sum
    } else if (m !== start) {
      indices.copyWithin(m, start, end)
      values.copyWithin(m, start, end)
      m += end - start
    } else m = end
    indptr[r + 1] = m
    start = end
  }
  if (m < n) {
    indices = indices.slice(0, m)
    values = values.slice(0, m)
  }
  return { rows, cols, indptr, indices, values, timestamps: new Float64Array(m) }
}

/** The transpose (item × user) of a CSR matrix, with values and timestamps carried along. */
export function transpose(m: CsrMatrix): CsrMatrix {
  const total = nnz(m)
  const indptr = new Uint32Array(m.cols + 1)
  for (let k = 0; k < total; k++) indptr[m.indices[k]! + 1]!++
  for (let c = 0; c < m.cols; c++) indptr[c + 1] = indptr[c + 1]! + indptr[c]!
  const cursor = indptr.slice(0, m.cols)
  const indices = new Uint32Array(total)
  const values = new Float32Array(total)
  const timestamps = new Float64Array(total)
  for (let r = 0; r < m.rows; r++) {
    for (let k = m.indptr[r]!; k < m.indptr[r + 1]!; k++) {
      const dest = cursor[m.indices[k]!]!++
      indices[dest] = r
      values[dest] = m.values[k]!
      timestamps[dest] = m.timestamps[k]!
    }
  }
  return { rows: m.cols, cols: m.rows, indptr, indices, values, timestamps }
}
