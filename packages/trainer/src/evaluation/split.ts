/**
 * Train/test splits of an interaction matrix. Both halves keep the full shape (every user and
 * item index), so a model trained on `train` scores the users and items of `test` directly.
 *
 * @module
 */
import { CoreError } from '@edgerec/core'
import { createRng } from '../als/random.js'
import type { CsrAllocator, CsrMatrix } from '../data/matrix.js'

/** How test interactions are chosen. */
export type SplitKind = 'temporal' | 'random' | 'leave-one-out'

/** A train/test pair with the same shape as the input. */
export interface Split {
  train: CsrMatrix
  test: CsrMatrix
}

function checkFraction(fraction: number): void {
  if (!(Number.isFinite(fraction) && fraction >= 0 && fraction < 1)) {
    throw new CoreError('INVALID_ARGUMENT', `testFraction must be in [0, 1), got ${fraction}. Use e.g. 0.2.`)
  }
}

/** Options of a split. */
export interface SplitOptions {
  /**
   * Allocates the train part's CSR arrays (`rows`, `cols`, `pairs` stored pairs; timestamps are
   * allocated here), e.g. straight in the ALS memory with the trainer's `allocateAlsMatrix`, so
   * that training on it copies nothing. Default: ordinary typed arrays.
   */
  allocateTrain?: CsrAllocator
}

/** Splits by a per-entry mask (1 = test), keeping each row's order. */
export function partition(data: CsrMatrix, isTest: Uint8Array, options: SplitOptions = {}): Split {
  const total = data.indptr[data.rows]!
  let testCount = 0
  for (let k = 0; k < total; k++) testCount += isTest[k]!
  const make = (count: number, want: number): CsrMatrix => {
    const allocated = want === 0 ? options.allocateTrain?.(data.rows, data.cols, count) : undefined
    const indptr = allocated?.indptr ?? new Uint32Array(data.rows + 1)
    const indices = allocated?.indices ?? new Uint32Array(count)
    const values = allocated?.values ?? new Float32Array(count)
    const timestamps = new Float64Array(count)
    let n = 0
    for (let r = 0; r < data.rows; r++) {
      for (let k = data.indptr[r]!; k < data.indptr[r + 1]!; k++) {
        if (isTest[k] !== want) continue
        indices[n] = data.indices[k]!
        values[n] = data.values[k]!
        timestamps[n] = data.timestamps[k]!
        n++
      }
      indptr[r + 1] = n
    }
    return { rows: data.rows, cols: data.cols, indptr, indices, values, timestamps }
  }
  return { train: make(total - testCount, 0), test: make(testCount, 1) }
}

/** A row's entry positions ordered by (timestamp asc, item index asc). */
function chronological(data: CsrMatrix, row: number): number[] {
  const start = data.indptr[row]!
  const end = data.indptr[row + 1]!
  const order: number[] = []
  for (let k = start; k < end; k++) order.push(k)
  // Entries are stored by ascending item index, so a stable sort on time keeps that as tie-break.
  order.sort((a, b) => data.timestamps[a]! - data.timestamps[b]!)
  return order
}

/**
 * Temporal split (REFERENCE `temporal_last20` for 0.2): per user, sort by (timestamp asc,
 * item index asc) and move the last ⌊n_u · testFraction⌋ interactions to test.
 *
 * @example
 * ```ts
 * const { train, test } = splitTemporal(matrix, 0.2)
 * ```
 */
export function splitTemporal(data: CsrMatrix, testFraction: number, options: SplitOptions = {}): Split {
  checkFraction(testFraction)
  const isTest = new Uint8Array(data.indptr[data.rows]!)
  for (let r = 0; r < data.rows; r++) {
    const n = data.indptr[r + 1]! - data.indptr[r]!
    // The epsilon keeps e.g. 10 · 0.3 = 2.9999999999999996 from flooring to 2.
    const take = Math.floor(n * testFraction + 1e-9)
    if (take === 0) continue
    const order = chronological(data, r)
    for (let j = n - take; j < n; j++) isTest[order[j]!] = 1
  }
  return partition(data, isTest, options)
}

/**
 * Random split per interaction: exactly ⌊nnz · testFraction⌋ interactions, chosen uniformly
 * with a seeded generator, go to test.
 */
export function splitRandom(
  data: CsrMatrix,
  testFraction: number,
  seed: number,
  options: SplitOptions = {},
): Split {
  checkFraction(testFraction)
  const total = data.indptr[data.rows]!
  const take = Math.floor(total * testFraction + 1e-9)
  const order = new Uint32Array(total)
  for (let k = 0; k < total; k++) order[k] = k
  const rng = createRng(seed)
  // Partial Fisher–Yates: the first `take` positions end up a uniform sample.
  for (let j = 0; j < take; j++) {
    const pick = j + rng.int(total - j)
    const tmp = order[j]!
    order[j] = order[pick]!
    order[pick] = tmp
  }
  const isTest = new Uint8Array(total)
  for (let j = 0; j < take; j++) isTest[order[j]!] = 1
  return partition(data, isTest, options)
}

/**
 * Leave-one-out: for every user with at least 2 interactions, the newest one (by timestamp,
 * ties to the higher item index) goes to test. When a user's interactions all share one
 * timestamp (e.g. data without times), the held-out one is picked at random with `seed`.
 */
export function splitLeaveOneOut(data: CsrMatrix, seed = 42, options: SplitOptions = {}): Split {
  const isTest = new Uint8Array(data.indptr[data.rows]!)
  const rng = createRng(seed)
  for (let r = 0; r < data.rows; r++) {
    const start = data.indptr[r]!
    const end = data.indptr[r + 1]!
    if (end - start < 2) continue
    let newest = start
    let allEqual = true
    for (let k = start + 1; k < end; k++) {
      if (data.timestamps[k] !== data.timestamps[start]) allEqual = false
      if (data.timestamps[k]! >= data.timestamps[newest]!) newest = k
    }
    isTest[allEqual ? start + rng.int(end - start) : newest] = 1
  }
  return partition(data, isTest, options)
}

/** Runs the split of `kind` (`testFraction` is ignored by leave-one-out, `seed` by temporal). */
export function splitBy(
  data: CsrMatrix,
  kind: SplitKind,
  testFraction: number,
  seed: number,
  options: SplitOptions = {},
): Split {
  switch (kind) {
    case 'temporal':
      return splitTemporal(data, testFraction, options)
    case 'random':
      return splitRandom(data, testFraction, seed, options)
    case 'leave-one-out':
      return splitLeaveOneOut(data, seed, options)
    default:
      throw new CoreError(
        'INVALID_ARGUMENT',
        `Unknown split ${String(kind)}. Use temporal, random or leave-one-out.`,
      )
  }
}
