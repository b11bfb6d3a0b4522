/**
 * ALS hyperparameters, their defaults and their validation.
 *
 * @module
 */
import { CoreError } from '@edgerec/core'

/** Progress of one finished ALS iteration. */
export interface AlsProgress {
  /** 1-based number of the iteration that finished. */
  iteration: number
  iterations: number
  /** Wall-clock seconds of this iteration (without the loss computation). */
  seconds: number
  /** Training loss after the iteration, when `computeLoss` is on. */
  loss?: number
}

/** Which kernels run the row solves: `auto` picks WebAssembly SIMD when the runtime has it. */
export type AlsBackend = 'auto' | 'wasm' | 'js'

/** Hyperparameters and run options of {@link trainAls}. */
export interface AlsOptions {
  /** Number of latent factors k. */
  factors: number
  /** λ, added to the diagonal of every row's normal equations (not scaled by the row's count). */
  regularization: number
  /** Confidence scale: c_ui = alpha · r_ui. */
  alpha: number
  iterations: number
  /** Conjugate-gradient steps per row and half-iteration (solver `cg`). */
  cgSteps: number
  /** `cg`: the reference's warm-started conjugate gradient; `cholesky`: exact solve per row. */
  solver: 'cg' | 'cholesky'
  /** Seed of the initial factors. */
  seed: number
  /**
   * Threads: the calling thread and `threads − 1` workers (see `offMainThread`); 0 = all cores.
   * Results are identical for any value.
   */
  threads: number
  /** Called after each iteration. */
  onIteration?: (progress: AlsProgress) => void
  /** Compute the training loss after each iteration (costs about one extra half-iteration). */
  computeLoss?: boolean
  /** Kernel backend (default `auto`). */
  backend?: AlsBackend
  /**
   * Run the solves in worker threads only, leaving the calling thread free (tuning uses this to
   * run several single-threaded trials at once). By default the calling thread is one of the
   * `threads` (with 1 thread the only one) and is busy while an iteration runs.
   */
  offMainThread?: boolean
  /**
   * Return the factors on shared memory (default `true`): views onto the training's own
   * WebAssembly memory, no copy (they keep that memory, CSR included, alive while referenced);
   * evaluation's ranking threads share them instead of copying them. `false` copies them onto
   * plain ArrayBuffers (transferable; the training's memory can then be collected), at the cost
   * of that copy now and of another when the model is evaluated.
   */
  sharedFactors?: boolean
}

/** The reference configuration (shared/REFERENCE.md) with all cores. */
export const DEFAULT_ALS_OPTIONS: AlsOptions = Object.freeze({
  factors: 64,
  regularization: 0.05,
  alpha: 1,
  iterations: 15,
  cgSteps: 3,
  solver: 'cg',
  seed: 42,
  threads: 0,
}) as AlsOptions

function invalid(message: string): CoreError {
  return new CoreError('INVALID_ARGUMENT', message)
}

/**
 * Merges `options` over {@link DEFAULT_ALS_OPTIONS} and checks every value.
 *
 * @throws CoreError `INVALID_ARGUMENT` naming the bad option and its allowed range
 */
export function resolveAlsOptions(options: Partial<AlsOptions> = {}): AlsOptions {
  const merged: AlsOptions = { ...DEFAULT_ALS_OPTIONS }
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) (merged as unknown as Record<string, unknown>)[key] = value
  }
  const integer = (name: keyof AlsOptions, min: number, max = Number.MAX_SAFE_INTEGER): void => {
    const v = merged[name]
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw invalid(
        `ALS option ${name} must be an integer in [${min}, ${max}], got ${String(v)}. Fix the value.`,
      )
    }
  }
  integer('factors', 1, 1024)
  integer('iterations', 0)
  integer('cgSteps', 1, 1000)
  integer('threads', 0, 256)
  if (!Number.isInteger(merged.seed)) {
    throw invalid(`ALS option seed must be an integer, got ${String(merged.seed)}.`)
  }
  if (!(Number.isFinite(merged.regularization) && merged.regularization >= 0)) {
    throw invalid(`ALS option regularization must be a finite number ≥ 0, got ${merged.regularization}.`)
  }
  if (!(Number.isFinite(merged.alpha) && merged.alpha > 0)) {
    throw invalid(`ALS option alpha must be a finite number > 0, got ${merged.alpha}.`)
  }
  if (merged.solver !== 'cg' && merged.solver !== 'cholesky') {
    throw invalid(`ALS option solver must be 'cg' or 'cholesky', got ${String(merged.solver)}.`)
  }
  const backend = merged.backend ?? 'auto'
  if (backend !== 'auto' && backend !== 'wasm' && backend !== 'js') {
    throw invalid(`ALS option backend must be 'auto', 'wasm' or 'js', got ${String(backend)}.`)
  }
  return merged
}
