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
