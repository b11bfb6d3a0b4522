/**
 * Test helper for the Spark import tests: the inputs a run staged (interactions as Parquet parts,
 * id maps `u0…`/`i0…`, params), written by the trainer's own {@link writeSparkInputs}.
 */
import type { Storage } from '@edgerec/adapters'
import type { CsrMatrix } from '../data/matrix.js'
import { type SparkInputOptions, writeSparkInputs } from './inputs.js'

/** What {@link writeTestSparkInputs} stages. */
export interface TestSparkRun {
  matrix: CsrMatrix
  rank: number
  regularization: number
  trainedUntil: number
  /** Rows per part file and per row group. */
  layout: SparkInputOptions
}

/** Stages `run` under the root of `storage` as `edgerec-train` does before a Spark job. */
export async function writeTestSparkInputs(storage: Storage, run: TestSparkRun): Promise<void> {
  const { matrix, rank, regularization, trainedUntil } = run
  await writeSparkInputs(
    storage,
    '',
    {
      matrix,
      userIds: Array.from({ length: matrix.rows }, (_, k) => `u${k}`),
      itemIds: Array.from({ length: matrix.cols }, (_, k) => `i${k}`),
      trainedUntil,
    },
    {
      als: { factors: rank, regularization, alpha: 2, iterations: 3, cgSteps: 3, solver: 'cg', seed: 1 },
      eventWeights: {},
      trainedUntil,
    },
    undefined,
    run.layout,
  )
}
