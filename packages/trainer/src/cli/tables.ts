/**
 * Plain-text tables of an evaluation for the terminal: the reference metrics @K next to MRR,
 * novelty and diversity, the metrics at several K, and per-activity buckets.
 *
 * @module
 */
import type { EvaluationReport } from '../evaluation/index.js'
import type { TuningReport } from '../tuning/index.js'

const MODELS = ['als', 'als_int8', 'popularity'] as const
const f4 = (x: number): string => x.toFixed(4)

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)))
  const line = (cells: string[]): string =>
    cells
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

/** The tables `edgerec-train evaluate` prints. */
export function evaluationTables(report: EvaluationReport): string {
  const k = report.k
  const main = report.atK[k]
  const out: string[] = []
  out.push(
    table(
      [
        'model',
        `precision@${k}`,
        `recall@${k}`,
        `map@${k}`,
        `ndcg@${k}`,
        'auc',
        'coverage',
        'mrr',
        'novelty',
        'diversity',
      ],
      MODELS.map((name) => {
        const m = report.models[name]
        const x = main?.[name]
        return [
          name,
          f4(m.precision),
          f4(m.recall),
          f4(m.map),
          f4(m.ndcg),
          f4(m.auc),
          f4(m.coverage),
          x ? f4(x.mrr) : '',
          x ? x.novelty.toFixed(2) : '',
          x ? f4(x.diversity) : '',
        ]
      }),
    ),
  )
  out.push(`(${report.users} test users, ${report.split} split, test fraction ${report.testFraction})`)
  const ks = Object.keys(report.atK)
    .map(Number)
    .sort((a, b) => a - b)
  out.push('')
  out.push(
    table(
      ['ndcg / recall', ...ks.map((x) => `@${x}`)],
      MODELS.map((name) => [
        name,
        ...ks.map((x) => `${f4(report.atK[x]![name].ndcg)} / ${f4(report.atK[x]![name].recall)}`),
      ]),
    ),
  )
  out.push('')
  out.push(
    table(
      ['bucket (train interactions)', 'users', `als ndcg@${k}`, `als_int8 ndcg@${k}`, `popularity ndcg@${k}`],
      (
        [
          ['cold (≤ 5)', 'cold'],
          ['light (6–20)', 'light'],
          ['heavy (> 20)', 'heavy'],
        ] as const
      ).map(([label, bucket]) => {
        const b = report.buckets[bucket]
        return [
          label,
          String(b.users),
          ...MODELS.map((name) => (b.users > 0 ? f4(b.models[name].ndcg) : '–')),
        ]
      }),
    ),
  )
  out.push(
    `(train ${report.timing.train.toFixed(1)} s, ranking ${report.timing.rank.toFixed(1)} s on ${report.timing.rankThreads} thread${report.timing.rankThreads === 1 ? '' : 's'}, metrics ${report.timing.metrics.toFixed(1)} s)`,
  )
  return `${out.join('\n')}\n`
}

/** Base vs tuned configuration: validation and test metrics. */
export function tuningTable(report: TuningReport): string {
  const m = report.metric
  const k = report.k
  const describe = (p: TuningReport['best']): string =>
    `factors ${p.factors}, λ ${p.regularization}, α ${p.alpha}, ${p.iterations} it${p.transform && p.transform !== 'none' ? `, ${p.transform}` : ''}`
  const rows: string[][] = [
    ['base', describe(report.base), f4(report.baseMetrics[m]), report.test ? f4(report.test.base[m]) : ''],
    ['tuned', describe(report.best), f4(report.bestMetrics[m]), report.test ? f4(report.test.tuned[m]) : ''],
  ]
  return `\n${table(['config', 'hyperparameters', `validation ${m}@${k}`, `test ${m}@${k}`], rows)}\n(${report.trials.length} trainings, ${report.strategy}; popularity on validation ${f4(report.popularity[m])})\n`
}
