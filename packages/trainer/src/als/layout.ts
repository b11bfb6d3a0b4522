/**
 * Where everything the ALS threads share lives inside one shared `WebAssembly.Memory`: both CSR
 * orientations of the confidence matrix, both factor matrices (rows padded to a multiple of 16
 * floats), the Gram matrix of the current half-iteration, per-chunk partial sums, the work
 * counter and each thread's scratch space.
 *
 * @internal
 * @module
 */

/** Rows handed out per work item in a row-solve pass. */
export const ROW_CHUNK = 128
/**
 * Rows per partial Gram sum. Fixed (not derived from the thread count) so that the partial sums,
 * and the order in which they are added, are the same for any number of threads.
 */
export const GRAM_CHUNK = 2048

const ALIGN = 64
const PAGE = 65536
const MAX_PAGES = 65536

/** One side of the factorization: the users (rows of the input) or the items (its columns). */
export type Side = 'users' | 'items'

/** Byte offsets of every region; counts and dims. */
export interface AlsLayout {
  users: number
  items: number
  nnz: number
  /** Number of factors k. */
  factors: number
  /** Padded row length kp (floats), a multiple of 16. */
  stride: number
  workers: number
  counter: number
  gram: number
  gramPartials: number
  gramSlots: number
  lossPartials: number
  lossSlots: number
  scratch: number
  scratchBytes: number
  userIndptr: number
  userIndices: number
  /**
   * The input's values r_ui in user order. The same region as {@link AlsLayout.userConf} unless
   * planned with `separateValues` (a matrix allocated in the ALS memory by its caller, trained
   * with alpha ≠ 1: its values stay as the caller wrote them).
   */
  userValues: number
  /** c_ui = alpha · r_ui in user order (what the kernels read). */
  userConf: number
  itemIndptr: number
  itemIndices: number
  itemConf: number
  userFactors: number
  itemFactors: number
  bytes: number
  pages: number
  /**
   * Row boundaries of the work items of a solve pass (`chunks + 1` entries): fixed
   * {@link ROW_CHUNK}-row chunks from {@link planLayout}, rebalanced by work with
   * {@link balanceSolveChunks}. A row's result never depends on the chunking.
   */
  userChunks: Uint32Array
  itemChunks: Uint32Array
}

/** Work for the threads; all of them take chunks of it from one shared counter. */
export type AlsTask =
  | { kind: 'gram'; of: Side }
  | { kind: 'solve'; side: Side; solver: 'cg' | 'cholesky'; cgSteps: number }
  | { kind: 'loss' }

/** The CSR arrays and factor matrices of one side's row solves. */
export interface SideRegions {
  rows: number
  indptr: number
  indices: number
  conf: number
  /** Factors being solved (rows of this side). */
  x: number
  /** Fixed factors of the other side. */
  y: number
  yRows: number
}

/** Regions read and written when solving the rows of `side`. */
export function sideRegions(layout: AlsLayout, side: Side): SideRegions {
  return side === 'users'
    ? {
        rows: layout.users,
        indptr: layout.userIndptr,
        indices: layout.userIndices,
        conf: layout.userConf,
        x: layout.userFactors,
        y: layout.itemFactors,
        yRows: layout.items,
      }
    : {
        rows: layout.items,
        indptr: layout.itemIndptr,
        indices: layout.itemIndices,
        conf: layout.itemConf,
        x: layout.itemFactors,
        y: layout.userFactors,
        yRows: layout.users,
      }
}

/** Number of work items of a task. */
export function taskChunks(layout: AlsLayout, task: AlsTask): number {
  switch (task.kind) {
    case 'gram':
      return Math.ceil((task.of === 'users' ? layout.users : layout.items) / GRAM_CHUNK)
    case 'solve':
      return (task.side === 'users' ? layout.userChunks : layout.itemChunks).length - 1
    case 'loss':
      return Math.ceil(layout.users / ROW_CHUNK)
  }
}

/** Padded row length: k rounded up to a multiple of 16 floats (one 64-byte SIMD step). */
export function paddedStride(factors: number): number {
  return Math.ceil(factors / 16) * 16
}

/**
 * Plans the regions for a problem; throws a RangeError when it cannot fit the 4 GiB of a 32-bit
 * WebAssembly memory. `separateValues` gives the input's values their own region (see
 * {@link AlsLayout.userValues}).
 */
export function planLayout(
  users: number,
  items: number,
  nnz: number,
  factors: number,
  workers: number,
  separateValues = false,
): AlsLayout {
  const stride = paddedStride(factors)
  const rowBytes = stride * 4
  let offset = 0
  const take = (bytes: number): number => {
    const at = offset
    offset += Math.ceil(bytes / ALIGN) * ALIGN
    return at
  }
  const gramBytes = stride * rowBytes
  const gramSlots = Math.max(1, Math.ceil(Math.max(users, items) / GRAM_CHUNK))
  const lossSlots = Math.max(1, Math.ceil(users / ROW_CHUNK))
  // r, p and Ap of the CG solver.
  const scratchBytes = 3 * rowBytes
  const counter = take(ALIGN)
  const gram = take(gramBytes)
  const gramPartials = take(gramSlots * gramBytes)
  const lossPartials = take(lossSlots * 16)
  const scratch = take(Math.max(1, workers) * scratchBytes)
  const userIndptr = take((users + 1) * 4)
  const userIndices = take(nnz * 4)
  const userConf = take(nnz * 4)
  const userValues = separateValues ? take(nnz * 4) : userConf
  const itemIndptr = take((items + 1) * 4)
  const itemIndices = take(nnz * 4)
  const itemConf = take(nnz * 4)
  const userFactors = take(users * rowBytes)
  const itemFactors = take(items * rowBytes)
  const bytes = offset
  const pages = Math.max(1, Math.ceil(bytes / PAGE))
  if (pages > MAX_PAGES) {
    throw new RangeError(
      `The ALS problem needs ${(bytes / 2 ** 30).toFixed(2)} GiB of shared memory, more than the 4 GiB a ` +
        `32-bit WebAssembly memory can hold. Reduce the factors or filter rare users and items.`,
    )
  }
  return {
    users,
    items,
    nnz,
    factors,
    stride,
    workers,
    counter,
    gram,
    gramPartials,
    gramSlots,
    lossPartials,
    lossSlots,
    scratch,
    scratchBytes,
    userIndptr,
    userIndices,
    userValues,
    userConf,
    itemIndptr,
    itemIndices,
    itemConf,
    userChunks: fixedChunks(users),
    itemChunks: fixedChunks(items),
    userFactors,
    itemFactors,
    bytes,
    pages,
  }
}

/** Boundaries of fixed {@link ROW_CHUNK}-row chunks over `rows` rows. */
function fixedChunks(rows: number): Uint32Array {
  const count = Math.ceil(rows / ROW_CHUNK)
  const starts = new Uint32Array(count + 1)
  for (let c = 0; c <= count; c++) starts[c] = Math.min(rows, c * ROW_CHUNK)
  return starts
}

/**
 * Chunk boundaries that give every work item about the same work instead of the same row count:
 * a row costs about `4k²` (the Gram matrix–vector products of its CG steps) plus `8k` per
 * interaction, so with power-law popularity the first item rows would otherwise form one chunk
 * holding a third of the item pass, and the other threads would idle behind it. Chunks hold at
 * most {@link ROW_CHUNK} rows and about `1/256` of the pass's work (at least one row).
 *
 * @param indptr - CSR row pointers of the side (`rows + 1` entries)
 */
export function balancedChunks(indptr: ArrayLike<number>, rows: number, stride: number): Uint32Array {
  const rowCost = stride / 2
  const total = rows * rowCost + (indptr[rows]! - indptr[0]!)
  const target = Math.max(ROW_CHUNK * rowCost, total / 256)
  const starts: number[] = [0]
  let cost = 0
  let count = 0
  for (let r = 0; r < rows; r++) {
    const c = rowCost + (indptr[r + 1]! - indptr[r]!)
    if (count > 0 && (cost + c > target || count >= ROW_CHUNK)) {
      starts.push(r)
      cost = 0
      count = 0
    }
    cost += c
    count++
  }
  if (rows > 0) starts.push(rows)
  return Uint32Array.from(starts)
}

/** Replaces the fixed solve chunks of `layout` by {@link balancedChunks} of both sides. */
export function balanceSolveChunks(
  layout: AlsLayout,
  userIndptr: ArrayLike<number>,
  itemIndptr: ArrayLike<number>,
): void {
  layout.userChunks = balancedChunks(userIndptr, layout.users, layout.stride)
  layout.itemChunks = balancedChunks(itemIndptr, layout.items, layout.stride)
}
