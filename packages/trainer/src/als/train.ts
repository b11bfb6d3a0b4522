/**
 * Implicit-feedback ALS training (Hu, Koren & Volinsky 2008) with the conjugate-gradient row
 * updates of Takács, Pilászy & Tikk 2011, matching the `implicit` library's CPU solver:
 * c_ui = alpha · r_ui on observed pairs (p_ui = 1), c = 1 and p = 0 elsewhere, λ not scaled,
 * users then items in every iteration, initial factors uniform in [0, 0.01).
 *
 * @module
 */
import { availableParallelism } from 'node:os'
import { CoreError, foldInUser, ModelFitError, type WeightedInteraction } from '@edgerec/core'
import { type CsrMatrix, nnz } from '../data/matrix.js'
import {
  type AlsLayout,
  type AlsTask,
  balanceSolveChunks,
  planLayout,
  ROW_CHUNK,
  type Side,
  taskChunks,
} from './layout.js'
import { type AlsOptions, resolveAlsOptions } from './options.js'
import { InlineExecutor, type TaskExecutor, WorkerPoolExecutor } from './pool.js'
import { createRng } from './random.js'
import { type KernelBackend, wasmKernelsSupported } from './runner.js'
import { type WasmMemory, wasmApi } from './wasm/runtime.js'

/**
 * A trained factorization: user and item factors, row-major float32. From {@link trainAls}: views
 * onto the training's shared WebAssembly memory (no copy out of it; `byteOffset` is not 0 and the
 * SharedArrayBuffer is larger than the matrix), shared with worker threads without a copy. Every
 * training has its own memory, so a later training never changes an earlier model's factors.
 */
export interface AlsModel {
  users: number
  items: number
  factors: number
  /** `users × factors`, row-major: x_u. */
  userFactors: Float32Array
  /** `items × factors`, row-major: y_i. */
  itemFactors: Float32Array
}

let wasmSupport: boolean | undefined

/** Picks the kernel backend; warns once when WebAssembly SIMD is off. */
export function selectBackend(requested: AlsOptions['backend']): KernelBackend {
  if (requested === 'js') return 'js'
  wasmSupport ??= wasmKernelsSupported()
  if (wasmSupport) return 'wasm'
  if (requested === 'wasm') {
    throw new CoreError(
      'INVALID_ARGUMENT',
      'The WebAssembly SIMD kernels cannot run here (no SIMD128 or shared memory). Use backend "auto" or "js".',
    )
  }
  process.emitWarning(
    'edgerec ALS: WebAssembly SIMD with shared memory is unavailable in this runtime; using the slower ' +
      'TypeScript kernels. Upgrade to Node.js ≥ 22 for the fast path.',
    { code: 'EDGEREC_ALS_NO_SIMD' },
  )
  return 'js'
}

/** Resolves `threads` (0 = all cores). */
export function resolveThreads(threads: number): number {
  return threads === 0 ? Math.max(1, availableParallelism()) : threads
}

function validateMatrix(data: CsrMatrix): void {
  const { rows, cols, indptr, indices, values } = data
  const bad = (what: string): CoreError =>
    new CoreError(
      'INVALID_ARGUMENT',
      `Interaction matrix is malformed: ${what}. Build it with csrFromTriples().`,
    )
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) throw bad('bad shape')
  if (indptr.length !== rows + 1 || indptr[0] !== 0)
    throw bad(`indptr must have rows + 1 = ${rows + 1} entries`)
  const total = indptr[rows]!
  if (indices.length < total || values.length < total) throw bad('indices/values shorter than indptr says')
  for (let r = 0; r < rows; r++) if (indptr[r + 1]! < indptr[r]!) throw bad(`indptr decreases at row ${r}`)
  for (let k = 0; k < total; k++) {
    if (indices[k]! >= cols) throw bad(`column ${indices[k]} at entry ${k} is ≥ cols = ${cols}`)
    if (!Number.isFinite(values[k]!)) throw bad(`value ${values[k]} at entry ${k} is not finite`)
  }
}

/**
 * A matrix {@link allocateAlsMatrix} placed in an ALS memory, keyed by its `indices` array, until
 * a training claims that memory.
 */
const allocatedMatrices = new WeakMap<Uint32Array, { memory: WasmMemory; layout: AlsLayout }>()

/**
 * Allocates a user × item CSR matrix with `pairs` stored pairs straight inside the memory a
 * training of it with the same `factors` and `threads` (and alpha 1, or any alpha when `alpha`
 * is given here ≠ 1) will use: the caller fills `indptr`, `indices` and `values` (the usual CSR
 * contract, {@link CsrMatrix}) and {@link trainAls} then trains without copying the matrix into
 * its memory, so the input is held once instead of twice (8 bytes per pair less at the peak).
 * The arrays stay valid and unchanged after training, and the matrix can be trained again (later
 * trainings copy it, as for any matrix). `timestamps` is empty: set it when a split needs it.
 *
 * @throws CoreError `INVALID_ARGUMENT` on a bad shape or option; RangeError when the problem does
 *   not fit a 4 GiB WebAssembly memory
 * @example
 * ```ts
 * const m = allocateAlsMatrix(users, items, pairs, { factors: 64, threads: 2 })
 * m.indptr.set(myIndptr); m.indices.set(myIndices); m.values.set(myValues)
 * const model = await trainAls(m, { factors: 64, threads: 2 })
 * ```
 */
export function allocateAlsMatrix(
  rows: number,
  cols: number,
  pairs: number,
  options: Partial<AlsOptions> = {},
): CsrMatrix {
  const opts = resolveAlsOptions(options)
  for (const [name, value] of [
    ['rows', rows],
    ['cols', cols],
    ['pairs', pairs],
  ] as const) {
    if (!Number.isInteger(value) || value < 0) {
      throw new CoreError(
        'INVALID_ARGUMENT',
        `allocateAlsMatrix: ${name} must be an integer ≥ 0, got ${value}. Pass the matrix's rows, columns and number of stored pairs.`,
      )
    }
  }
  const layout = planLayout(
    rows,
    cols,
    pairs,
    opts.factors,
    resolveThreads(opts.threads),
    Math.fround(opts.alpha) !== 1,
  )
  const memory = new wasmApi.Memory({ initial: layout.pages, maximum: layout.pages, shared: true })
  const buffer = memory.buffer
  const matrix: CsrMatrix = {
    rows,
    cols,
    indptr: new Uint32Array(buffer, layout.userIndptr, rows + 1),
    indices: new Uint32Array(buffer, layout.userIndices, pairs),
    values: new Float32Array(buffer, layout.userValues, pairs),
    timestamps: new Float64Array(0),
  }
  allocatedMatrices.set(matrix.indices, { memory, layout })
  return matrix
}

/**
 * The memory {@link allocateAlsMatrix} placed `data` in, when this training can use it: same
 * shape and number of pairs, factors, at most as many threads, alpha 1 unless the values have
 * their own region, and not used by an earlier training (which wrote its factors there). Claiming
 * it is final.
 */
function claimAllocated(
  data: CsrMatrix,
  opts: AlsOptions,
  threads: number,
): { memory: WasmMemory; layout: AlsLayout } | undefined {
  const entry = allocatedMatrices.get(data.indices)
  if (!entry) return undefined
  const { memory, layout } = entry
  const buffer = memory.buffer
  const inPlace = (array: Uint32Array | Float32Array, offset: number, length: number): boolean =>
    array.buffer === buffer && array.byteOffset === offset && array.length === length
  const usable =
    data.rows === layout.users &&
    data.cols === layout.items &&
    data.indptr[data.rows] === layout.nnz &&
    inPlace(data.indptr, layout.userIndptr, layout.users + 1) &&
    inPlace(data.indices, layout.userIndices, layout.nnz) &&
    inPlace(data.values, layout.userValues, layout.nnz) &&
    opts.factors === layout.factors &&
    threads <= layout.workers &&
    (layout.userValues !== layout.userConf || Math.fround(opts.alpha) === 1)
  if (!usable) return undefined
  allocatedMatrices.delete(data.indices)
  return entry
}

/**
 * Writes the confidence matrix (both orientations) into the shared memory: the user orientation
 * copied from `data` unless `data` already lives there ({@link allocateAlsMatrix}), then its
 * transpose.
 */
function loadInteractions(
  memory: WasmMemory,
  layout: AlsLayout,
  data: CsrMatrix,
  alpha: number,
  inPlace: boolean,
): void {
  const buffer = memory.buffer
  const total = layout.nnz
  const userIndptr = new Uint32Array(buffer, layout.userIndptr, layout.users + 1)
  const userIndices = new Uint32Array(buffer, layout.userIndices, total)
  const userConf = new Float32Array(buffer, layout.userConf, total)
  if (!inPlace) {
    userIndptr.set(data.indptr.subarray(0, layout.users + 1))
    userIndices.set(data.indices.subarray(0, total))
  }
  // implicit scales the float32 matrix: c_ui = float32(alpha · r_ui). In place with alpha 1, the
  // values already are the confidences (1 · r = r exactly).
  if (!inPlace || layout.userValues !== layout.userConf) {
    const a = Math.fround(alpha)
    const values = inPlace ? new Float32Array(buffer, layout.userValues, total) : data.values
    for (let k = 0; k < total; k++) userConf[k] = a * values[k]!
  }
  const itemIndptr = new Uint32Array(buffer, layout.itemIndptr, layout.items + 1)
  const itemIndices = new Uint32Array(buffer, layout.itemIndices, total)
  const itemConf = new Float32Array(buffer, layout.itemConf, total)
  itemIndptr.fill(0)
  for (let k = 0; k < total; k++) itemIndptr[userIndices[k]! + 1]!++
  for (let i = 0; i < layout.items; i++) itemIndptr[i + 1]! += itemIndptr[i]!
  const cursor = itemIndptr.slice(0, layout.items)
  for (let u = 0; u < layout.users; u++) {
    for (let k = userIndptr[u]!; k < userIndptr[u + 1]!; k++) {
      const dest = cursor[userIndices[k]!]!++
      itemIndices[dest] = u
      itemConf[dest] = userConf[k]!
    }
  }
}

/** Fills both factor matrices with uniform [0, 0.01) values, users first (as implicit does). */
function initialiseFactors(memory: WasmMemory, layout: AlsLayout, seed: number): void {
  const rng = createRng(seed)
  const f32 = new Float32Array(memory.buffer)
  const fill = (offset: number, rows: number): void => {
    const base = offset / 4
    for (let r = 0; r < rows; r++) {
      const row = base + r * layout.stride
      for (let d = 0; d < layout.factors; d++) f32[row + d] = rng.next() * 0.01
    }
  }
  fill(layout.userFactors, layout.users)
  fill(layout.itemFactors, layout.items)
}

/** Runs the Gram task of `of` and sums its partials, in chunk order, into A₀ = FᵀF + λI. */
async function computeGram(
  exec: TaskExecutor,
  memory: WasmMemory,
  layout: AlsLayout,
  of: Side,
  lambda: number,
): Promise<void> {
  const task: AlsTask = { kind: 'gram', of }
  await exec.run(task)
  const kp = layout.stride
  const size = kp * kp
  const sum = new Float64Array(size)
  const chunks = taskChunks(layout, task)
  const partials = new Float32Array(memory.buffer, layout.gramPartials, chunks * size)
  for (let c = 0; c < chunks; c++) {
    const base = c * size
    for (let j = 0; j < size; j++) sum[j]! += partials[base + j]!
  }
  for (let d = 0; d < layout.factors; d++) sum[d * kp + d]! += lambda
  new Float32Array(memory.buffer, layout.gram, size).set(sum)
}

/** Sum of squares of a padded factor matrix. */
function squaredNorm(memory: WasmMemory, offset: number, rows: number, stride: number): number {
  const f = new Float32Array(memory.buffer, offset, rows * stride)
  let s = 0
  for (let j = 0; j < f.length; j++) s += f[j]! * f[j]!
  return s
}

/** The reference's normalised training loss (implicit `calculate_loss`). */
async function computeLoss(
  exec: TaskExecutor,
  memory: WasmMemory,
  layout: AlsLayout,
  lambda: number,
): Promise<number> {
  await computeGram(exec, memory, layout, 'items', 0)
  await exec.run({ kind: 'loss' })
  const slots = Math.ceil(layout.users / ROW_CHUNK)
  const partials = new Float64Array(memory.buffer, layout.lossPartials, slots * 2)
  let loss = 0
  let confidence = 0
  for (let s = 0; s < slots; s++) {
    loss += partials[2 * s]!
    confidence += partials[2 * s + 1]!
  }
  const norms =
    squaredNorm(memory, layout.userFactors, layout.users, layout.stride) +
    squaredNorm(memory, layout.itemFactors, layout.items, layout.stride)
  loss += lambda * norms
  return loss / (confidence + layout.users * layout.items - layout.nnz)
}

/**
 * One factor matrix as a `rows × k` Float32Array. By default a view onto the ALS memory itself
 * (no copy: the rows are compacted in place when the padded stride exceeds k), so the factors stay
 * on that memory's SharedArrayBuffer and the ranking threads of the evaluation share them
 * (`evaluation/rank.ts`); the view keeps the whole memory (both CSR orientations included) alive
 * for as long as it is referenced. With `shared` false: a copy on a plain ArrayBuffer.
 */
function factorMatrix(
  memory: WasmMemory,
  offset: number,
  rows: number,
  layout: AlsLayout,
  shared: boolean,
): Float32Array {
  const k = layout.factors
  const stride = layout.stride
  if (!shared) {
    const src = new Float32Array(memory.buffer, offset, rows * stride)
    const out = new Float32Array(rows * k)
    for (let r = 0; r < rows; r++) out.set(src.subarray(r * stride, r * stride + k), r * k)
    return out
  }
  const view = new Float32Array(memory.buffer, offset, rows * k)
  if (stride !== k) {
    // Row r moves from r·stride to r·k ≤ r·stride: front to back never overwrites a row not yet moved.
    const all = new Float32Array(memory.buffer, offset, rows * stride)
    for (let r = 1; r < rows; r++) all.copyWithin(r * k, r * stride, r * stride + k)
  }
  return view
}

function checkFinite(factors: Float32Array, dims: number, what: string): void {
  for (let j = 0; j < factors.length; j++) {
    if (!Number.isFinite(factors[j]!)) {
      throw new ModelFitError(
        `ALS produced a non-finite ${what} factor (row ${Math.floor(j / dims)}). Increase regularization, ` +
          'lower alpha, or check the input values.',
      )
    }
  }
}

function rethrow(error: unknown): never {
  // Errors thrown inside worker threads arrive as plain Errors; restore the class callers check.
  if (error instanceof Error && error.name === 'ModelFitError' && !(error instanceof ModelFitError)) {
    throw new ModelFitError(error.message, { cause: error })
  }
  throw error
}

/**
 * Trains an implicit-feedback ALS model.
 *
 * Per half-iteration, with the other side's factors Y fixed and A₀ = YᵀY + λI computed once, each
 * row u solves (A₀ + Σ_i (c_ui − 1) y_i y_iᵀ) x_u = Σ_i c_ui y_i approximately with `cgSteps`
 * conjugate-gradient steps warm-started from x_u (or exactly, solver `cholesky`). Rows are
 * spread over worker threads; each row's arithmetic is independent of the partition, so the result
 * is bit-identical for any `threads`.
 *
 * @param data - user × item matrix; values are r_ui (negative values mean "disliked": p = 0, c = |alpha·r|).
 *   One from {@link allocateAlsMatrix} is trained where it lies, without a copy.
 * @throws CoreError `INVALID_ARGUMENT` on bad options or a malformed matrix; ModelFitError on a numeric failure
 * @example
 * ```ts
 * const model = await trainAls(matrix, { factors: 64, regularization: 0.05, iterations: 15 })
 * model.itemFactors // items × 64
 * ```
 */
export async function trainAls(data: CsrMatrix, options: Partial<AlsOptions> = {}): Promise<AlsModel> {
  const opts = resolveAlsOptions(options)
  validateMatrix(data)
  const backend = selectBackend(opts.backend)
  const threads = resolveThreads(opts.threads)
  const claimed = claimAllocated(data, opts, threads)
  const layout = claimed?.layout ?? planLayout(data.rows, data.cols, nnz(data), opts.factors, threads)
  const memory =
    claimed?.memory ?? new wasmApi.Memory({ initial: layout.pages, maximum: layout.pages, shared: true })
  loadInteractions(memory, layout, data, opts.alpha, claimed !== undefined)
  balanceSolveChunks(
    layout,
    new Uint32Array(memory.buffer, layout.userIndptr, layout.users + 1),
    new Uint32Array(memory.buffer, layout.itemIndptr, layout.items + 1),
  )
  initialiseFactors(memory, layout, opts.seed)
  const exec: TaskExecutor =
    threads === 1 && !opts.offMainThread
      ? new InlineExecutor(memory, layout, backend)
      : await WorkerPoolExecutor.create(threads, memory, layout, backend, { mainThread: !opts.offMainThread })
  const lambda = opts.regularization
  try {
    for (let iteration = 1; iteration <= opts.iterations; iteration++) {
      const started = performance.now()
      await computeGram(exec, memory, layout, 'items', lambda)
      await exec.run({ kind: 'solve', side: 'users', solver: opts.solver, cgSteps: opts.cgSteps })
      await computeGram(exec, memory, layout, 'users', lambda)
      await exec.run({ kind: 'solve', side: 'items', solver: opts.solver, cgSteps: opts.cgSteps })
      const seconds = (performance.now() - started) / 1000
      if (opts.onIteration || opts.computeLoss) {
        const loss = opts.computeLoss ? await computeLoss(exec, memory, layout, lambda) : undefined
        opts.onIteration?.(
          loss === undefined
            ? { iteration, iterations: opts.iterations, seconds }
            : { iteration, iterations: opts.iterations, seconds, loss },
        )
      }
    }
  } catch (error) {
    rethrow(error)
  } finally {
    await exec.close()
  }
  const model: AlsModel = {
    users: layout.users,
    items: layout.items,
    factors: layout.factors,
    userFactors: factorMatrix(memory, layout.userFactors, layout.users, layout, opts.sharedFactors !== false),
    itemFactors: factorMatrix(memory, layout.itemFactors, layout.items, layout, opts.sharedFactors !== false),
  }
  checkFinite(model.userFactors, model.factors, 'user')
  checkFinite(model.itemFactors, model.factors, 'item')
  return model
}

/**
 * Gram matrix FᵀF + λI (float64, `dims × dims`, row-major) of a row-major factor matrix: the
 * A₀ of the ALS normal equations, and what the export stores for fold-in.
 */
export function gramMatrix(factors: ArrayLike<number>, rows: number, dims: number, lambda = 0): Float64Array {
  const g = new Float64Array(dims * dims)
  for (let r = 0; r < rows; r++) {
    const base = r * dims
    for (let a = 0; a < dims; a++) {
      const fa = factors[base + a]!
      if (fa === 0) continue
      for (let b = 0; b <= a; b++) g[a * dims + b]! += fa * factors[base + b]!
    }
  }
  for (let a = 0; a < dims; a++) {
    g[a * dims + a]! += lambda
    for (let b = 0; b < a; b++) g[b * dims + a] = g[a * dims + b]!
  }
  return g
}

/**
 * Solves one user's vector exactly from their interactions against fixed item factors
 * (implicit `recalculate_user`): x_u = (YᵀY + λI + Σ (c−1) y yᵀ)⁻¹ Σ c y with c = alpha · value.
 *
 * @param gram - YᵀY + λI from {@link gramMatrix}; computed when omitted (pass it for many users)
 * @example
 * ```ts
 * const x = recalculateUser(model, [{ index: 3, value: 1 }], { regularization: 0.05, alpha: 1 })
 * ```
 */
export function recalculateUser(
  model: AlsModel,
  interactions: readonly { index: number; value: number }[],
  options: { regularization: number; alpha: number },
  gram: Float64Array = gramMatrix(model.itemFactors, model.items, model.factors, options.regularization),
): Float32Array {
  const k = model.factors
  const weighted: WeightedInteraction[] = interactions.map(({ index, value }) => ({
    index,
    confidence: options.alpha * value,
  }))
  const read = (index: number, out: Float64Array): boolean => {
    if (index < 0 || index >= model.items) return false
    for (let d = 0; d < k; d++) out[d] = model.itemFactors[index * k + d]!
    return true
  }
  return foldInUser(gram, k, weighted, read).vector
}
