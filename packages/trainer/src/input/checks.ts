/**
 * Whether the loaded data can support what was asked of it: a temporal split needs timestamps,
 * metrics need enough test users. Warnings say so instead of printing meaningless numbers.
 *
 * @module
 */
import type { CsrMatrix } from '../data/matrix.js'
import { TrainerError } from '../errors.js'
import type { SplitKind } from '../evaluation/index.js'

/** Fewer test users than this and the metrics are reported with a warning that they are noise. */
export const MIN_MEANINGFUL_TEST_USERS = 100

/** True when the interactions carry at least two distinct timestamps. */
export function hasTimestamps(matrix: CsrMatrix): boolean {
  const t = matrix.timestamps
  const n = matrix.indptr[matrix.rows] ?? 0
  for (let k = 1; k < n; k++) if (t[k] !== t[0]) return true
  return false
}

/**
 * The split to use: a temporal split on data without timestamps (no time column, or every event
 * at the same instant) would hold out arbitrary interactions (the highest item ids), so it
 * becomes a seeded random split, with a warning.
 */
export function splitFor(matrix: CsrMatrix, split: SplitKind, warn: (message: string) => void): SplitKind {
  if (split !== 'temporal' || hasTimestamps(matrix)) return split
  warn(
    'The temporal split needs timestamps, and this input has none (no time column, or every event at the same time): using a random split instead. Map a time column with --time-col (events.columns.timestamp), or choose --split random|leave-one-out.',
  )
  return 'random'
}

/**
 * Checks the number of test users of an evaluation: none is an error for `evaluate` (`strict`)
 * and a warning for `train` (which then keeps no metrics); fewer than
 * {@link MIN_MEANINGFUL_TEST_USERS} is a warning.
 *
 * @returns whether the metrics are worth keeping
 * @throws TrainerError `EVALUATION_TOO_SMALL` when `strict` and there are no test users
 */
export function checkTestUsers(
  users: number,
  context: { interactions: number; split: SplitKind; strict: boolean },
  warn: (message: string) => void,
): boolean {
  if (users === 0) {
    const message = `The ${context.split} split left no test user (a user needs interactions in both the train and the test part; the input has ${context.interactions.toLocaleString('en-US')} interactions). Use more data, a larger --test-fraction, or --split leave-one-out.`
    if (context.strict) throw new TrainerError('EVALUATION_TOO_SMALL', message)
    warn(`${message} No metrics are kept for this version.`)
    return false
  }
  if (users < MIN_MEANINGFUL_TEST_USERS) {
    warn(
      `Only ${users} test user${users === 1 ? '' : 's'}: metrics this small are mostly noise (under ${MIN_MEANINGFUL_TEST_USERS} users, one user moves ndcg by a percent or more). Use more data before comparing models.`,
    )
  }
  return true
}
