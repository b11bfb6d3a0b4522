/**
 * Errors of `@edgerec/trainer`: one `as const` code map and {@link TrainerError}.
 *
 * @module
 */
import { EdgerecError } from '@edgerec/core'

/** Stable error codes of the trainer. */
export const TRAINER_ERROR_CODES = {
  /** A command-line flag or argument is wrong. */
  USAGE: 'USAGE',
  /** `edgerec.config.ts` is missing, fails to load or holds a bad value. */
  CONFIG_INVALID: 'CONFIG_INVALID',
  /** No interactions are left to train on (empty input, everything filtered). */
  NO_INTERACTIONS: 'NO_INTERACTIONS',
  /** Writing a model version failed; what was written has been removed. */
  EXPORT_FAILED: 'EXPORT_FAILED',
  /** The evaluation split left no test user (too little data for metrics). */
  EVALUATION_TOO_SMALL: 'EVALUATION_TOO_SMALL',
  /** The catalog (file or `items` table) cannot be read. */
  CATALOG_INVALID: 'CATALOG_INVALID',
  /** A generator option is out of range. */
  GENERATOR_INVALID: 'GENERATOR_INVALID',
  /** The quality gate rejected the version (not better than popularity or the live version). */
  GATE_FAILED: 'GATE_FAILED',
  /** The live version on the publish target cannot be read for the quality gate's comparison. */
  LIVE_MODEL_INVALID: 'LIVE_MODEL_INVALID',
  /** A cloud training job succeeded but no new complete model version is in the registry. */
  JOB_NO_VERSION: 'JOB_NO_VERSION',
  /** Spark factors, id maps or interactions given to `import-factors` are missing or malformed. */
  IMPORT_INVALID: 'IMPORT_INVALID',
} as const

/** A code from {@link TRAINER_ERROR_CODES}. */
export type TrainerErrorCode = keyof typeof TRAINER_ERROR_CODES

/** Any error the trainer throws on purpose. */
export class TrainerError extends EdgerecError<TrainerErrorCode> {
  constructor(code: TrainerErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
    this.name = 'TrainerError'
  }
}
