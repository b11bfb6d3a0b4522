/**
 * The quality gate: a version goes live only when it beats popularity on the held-out split by a
 * margin and is not worse than the live version served the same way on the newest test data.
 *
 * @example
 * ```ts
 * import { decideGate } from '@edgerec/trainer'
 * const gate = decideGate({ k: 10, candidate: report.models.als_int8, popularity: report.models.popularity })
 * if (!gate.passed) console.error(gate.reasons.join('; '))
 * ```
 * @module
 */
export type { GateConfig, GateInput, GateMetric, LiveComparison, LiveComparisonInput } from './gate.js'
export {
  compareWithLive,
  decideGate,
  GATE_DEFAULTS,
  GATE_HINT,
  servedCandidate,
  servedLive,
  servedMetrics,
} from './gate.js'
export type { LiveModel, LiveModelSource } from './live.js'
export { loadLiveModel } from './live.js'
