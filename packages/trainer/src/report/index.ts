/**
 * The evaluation report: one self-contained HTML page with uPlot charts inlined.
 *
 * @example
 * ```ts
 * import { renderReport } from '@edgerec/trainer'
 * writeFileSync('report.html', renderReport({ title: 'run', createdAt: new Date().toISOString(), facts: [], evaluation }))
 * ```
 * @module
 */
export type { Histogram, ReportData } from './report.js'
export { renderReport, scoreDistributions } from './report.js'
