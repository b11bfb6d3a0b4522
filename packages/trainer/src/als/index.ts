/**
 * Implicit-feedback alternating least squares: the reference's conjugate-gradient solver (and an
 * exact Cholesky option), multi-threaded over shared memory, deterministic for a seed.
 *
 * @example
 * ```ts
 * import { trainAls } from '@edgerec/trainer'
 * const model = await trainAls(matrix, { factors: 64, iterations: 15, threads: 0 })
 * ```
 * @module
 */
export type { AlsBackend, AlsOptions, AlsProgress } from './options.js'
export { DEFAULT_ALS_OPTIONS, resolveAlsOptions } from './options.js'
export type { Rng } from './random.js'
export { createRng, shuffleInPlace } from './random.js'
export type { AlsModel } from './train.js'
export { allocateAlsMatrix, gramMatrix, recalculateUser, resolveThreads, trainAls } from './train.js'
