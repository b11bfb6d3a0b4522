/**
 * The evaluation report: ONE self-contained HTML page (no network) with plots drawn by uPlot,
 * whose script and stylesheet are inlined into the file: metrics@K curves for ALS, int8 and
 * popularity, tuning trials, training loss (or time) per iteration, score distributions of held-out
 * vs other items, and per-bucket results.
 *
 * @module
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { AlsModel, AlsProgress } from '../als/index.js'
import type { CsrMatrix } from '../data/matrix.js'
import type { EvaluationReport } from '../evaluation/index.js'
import type { TuningReport } from '../tuning/index.js'

/** A histogram: bin edges (`counts.length + 1`) and the share of values per bin. */
export interface Histogram {
  edges: number[]
  shares: number[]
}

/** What the page shows. */
export interface ReportData {
  title: string
  /** ISO-8601. */
  createdAt: string
  /** Free-form lines under the title (input, split, version). */
  facts: string[]
  evaluation: EvaluationReport
  /** Progress of the evaluation model's training, one entry per iteration. */
  iterations?: AlsProgress[]
  tuning?: TuningReport
  /** Scores x_uᵀy_i of held-out test items vs of random unseen items. */
  scores?: { positives: Histogram; negatives: Histogram }
}

/**
 * Score distributions of the float32 model: for up to `users` evenly spaced test users, the
 * scores of their test items (positives) and of as many random items outside train and test
 * (negatives), as histograms over shared bins.
 */
export function scoreDistributions(
  model: AlsModel,
  train: CsrMatrix,
  test: CsrMatrix,
  options: { users?: number; bins?: number; seed?: number } = {},
): { positives: Histogram; negatives: Histogram } {
  const dims = model.factors
  const evaluated: number[] = []
  for (let u = 0; u < test.rows; u++) if (test.indptr[u + 1]! > test.indptr[u]!) evaluated.push(u)
  const sample = Math.min(evaluated.length, options.users ?? 500)
  const score = (u: number, i: number): number => {
    let s = 0
    for (let d = 0; d < dims; d++) s += model.userFactors[u * dims + d]! * model.itemFactors[i * dims + d]!
    return s
  }
  // A small LCG: the negatives only need to be spread, and the page reproducible.
  let state = (options.seed ?? 42) >>> 0
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
  const positives: number[] = []
  const negatives: number[] = []
  const seen = new Uint8Array(model.items)
  for (let n = 0; n < sample; n++) {
    const u = evaluated[Math.floor((n * evaluated.length) / sample)]!
    for (const m of [train, test])
      for (let j = m.indptr[u]!; j < m.indptr[u + 1]!; j++) seen[m.indices[j]!] = 1
    for (let j = test.indptr[u]!; j < test.indptr[u + 1]!; j++) {
      positives.push(score(u, test.indices[j]!))
      for (let tries = 0; tries < 20; tries++) {
        const i = Math.floor(next() * model.items)
        if (seen[i] !== 1) {
          negatives.push(score(u, i))
          break
        }
      }
    }
    for (const m of [train, test])
      for (let j = m.indptr[u]!; j < m.indptr[u + 1]!; j++) seen[m.indices[j]!] = 0
  }
  const all = [...positives, ...negatives]
  const bins = options.bins ?? 40
  let lo = Math.min(...all)
  let hi = Math.max(...all)
  if (!(hi > lo)) {
    lo = (lo || 0) - 0.5
    hi = lo + 1
  }
  const width = (hi - lo) / bins
  const edges = Array.from({ length: bins + 1 }, (_, b) => lo + b * width)
  const histogram = (values: number[]): Histogram => {
    const counts = new Array<number>(bins).fill(0)
    for (const v of values) counts[Math.min(bins - 1, Math.floor((v - lo) / width))]!++
    return { edges, shares: counts.map((c) => (values.length > 0 ? c / values.length : 0)) }
  }
  return { positives: histogram(positives), negatives: histogram(negatives) }
}

function uplotAssets(): { js: string; css: string } {
  const require = createRequire(import.meta.url)
  const dir = require.resolve('uplot/dist/uPlot.iife.min.js')
  return {
    js: readFileSync(dir, 'utf8'),
    css: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  }
}

/** Escapes text for HTML. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** JSON safe inside a `<script>` element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c')
}

const f4 = (x: number): string => x.toFixed(4)

/** The page's own drawing code (runs in the browser, uses the inlined uPlot). */
const CLIENT = `
const data = JSON.parse(document.getElementById('report-data').textContent);
const colours = { als: '#2563eb', als_int8: '#16a34a', popularity: '#dc2626', base: '#9333ea' };
const width = () => Math.min(720, document.body.clientWidth - 32);
function chart(id, opts, rows) {
  const el = document.getElementById(id);
  if (!el) return;
  new uPlot(Object.assign({ width: width(), height: 260 }, opts), rows, el);
  el.dataset.rendered = 'true';
}
const ev = data.evaluation;
const ks = Object.keys(ev.atK).map(Number).sort((a, b) => a - b);
const models = ['als', 'als_int8', 'popularity'];
for (const metric of ['ndcg', 'recall', 'precision']) {
  chart('chart-' + metric, {
    title: metric + '@K',
    scales: { x: { time: false } },
    axes: [{ label: 'K' }, { label: metric }],
    series: [{ label: 'K' }].concat(models.map((m) => ({ label: m, stroke: colours[m], width: 2, points: { show: true } }))),
  }, [ks].concat(models.map((m) => ks.map((k) => ev.atK[k][m][metric]))));
}
const buckets = ['cold', 'light', 'heavy'];
chart('chart-buckets', {
  title: 'ndcg@' + ev.k + ' per user-activity bucket (0 = cold, 1 = light, 2 = heavy)',
  scales: { x: { time: false } },
  axes: [{ label: 'bucket', values: (u, vals) => vals.map((v) => buckets[v] || '') }, { label: 'ndcg' }],
  series: [{ label: 'bucket' }].concat(models.map((m) => ({ label: m, stroke: colours[m], width: 2, points: { show: true, size: 8 } }))),
}, [[0, 1, 2]].concat(models.map((m) => buckets.map((b) => ev.buckets[b].models[m].ndcg))));
if (data.iterations && data.iterations.length > 0) {
  const hasLoss = data.iterations.every((p) => typeof p.loss === 'number');
  chart('chart-iterations', {
    title: hasLoss ? 'training loss per iteration' : 'seconds per iteration (run with --loss for the loss)',
    scales: { x: { time: false } },
    axes: [{ label: 'iteration' }, { label: hasLoss ? 'loss' : 'seconds' }],
    series: [{ label: 'iteration' }, { label: hasLoss ? 'loss' : 'seconds', stroke: colours.als, width: 2, points: { show: true } }],
  }, [data.iterations.map((p) => p.iteration), data.iterations.map((p) => (hasLoss ? p.loss : p.seconds))]);
}
if (data.tuning) {
  const t = data.tuning;
  const xs = t.trials.map((_, i) => i + 1);
  chart('chart-tuning', {
    title: 'tuning trials: validation ' + t.metric + '@' + t.k + ' (trial 1 = base)',
    scales: { x: { time: false } },
    axes: [{ label: 'trial' }, { label: t.metric }],
    series: [{ label: 'trial' },
      { label: 'trial', stroke: colours.als, width: 0, points: { show: true, size: 8 } },
      { label: 'popularity', stroke: colours.popularity, width: 1, dash: [4, 4] }],
  }, [xs, t.trials.map((x) => x.metrics[t.metric]), xs.map(() => t.popularity[t.metric])]);
}
if (data.scores) {
  const s = data.scores;
  const mids = s.positives.edges.slice(0, -1).map((e, i) => (e + s.positives.edges[i + 1]) / 2);
  chart('chart-scores', {
    title: 'ALS score distribution: held-out test items vs random unseen items',
    scales: { x: { time: false } },
    axes: [{ label: 'score' }, { label: 'share' }],
    series: [{ label: 'score' },
      { label: 'test items', stroke: colours.als, fill: 'rgba(37,99,235,0.15)', width: 2 },
      { label: 'random items', stroke: colours.popularity, fill: 'rgba(220,38,38,0.15)', width: 2 }],
  }, [mids, s.positives.shares, s.negatives.shares]);
}
document.body.dataset.charts = String(document.querySelectorAll('[data-rendered="true"]').length);
`

/**
 * The report page. Everything it needs is inside the string (uPlot inlined): it opens from disk,
 * offline.
 *
 * @example
 * ```ts
 * writeFileSync('report.html', renderReport({ title: 'ml-latest-small', createdAt: new Date().toISOString(), facts: [], evaluation }))
 * ```
 */
export function renderReport(data: ReportData): string {
  const { js, css } = uplotAssets()
  const ev = data.evaluation
  const rows = (['als', 'als_int8', 'popularity'] as const)
    .map((m) => {
      const x = ev.atK[ev.k]?.[m]
      const base = ev.models[m]
      return `<tr><td>${m}</td><td>${f4(base.precision)}</td><td>${f4(base.recall)}</td><td>${f4(base.map)}</td><td>${f4(base.ndcg)}</td><td>${f4(base.auc)}</td><td>${f4(base.coverage)}</td><td>${x ? f4(x.mrr) : ''}</td><td>${x ? x.novelty.toFixed(2) : ''}</td><td>${x ? f4(x.diversity) : ''}</td></tr>`
    })
    .join('')
  const tuning = data.tuning
  const tuningRows = tuning
    ? `<h2>Tuning</h2><table><tr><th>config</th><th>hyperparameters</th><th>validation ${tuning.metric}@${tuning.k}</th><th>test ${tuning.metric}@${tuning.k}</th></tr>
<tr><td>base</td><td>${escapeHtml(JSON.stringify(tuning.base))}</td><td>${f4(tuning.baseMetrics[tuning.metric])}</td><td>${tuning.test ? f4(tuning.test.base[tuning.metric]) : ''}</td></tr>
<tr><td>tuned</td><td>${escapeHtml(JSON.stringify(tuning.best))}</td><td>${f4(tuning.bestMetrics[tuning.metric])}</td><td>${tuning.test ? f4(tuning.test.tuned[tuning.metric]) : ''}</td></tr></table>
<div id="chart-tuning" class="chart"></div>`
    : ''
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(data.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${css}</style>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:16px;color:#111}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}.chart{margin:16px 0}</style>
</head><body>
<h1>${escapeHtml(data.title)}</h1>
<p>${escapeHtml(data.createdAt)}</p>
<ul>${data.facts.map((f) => `<li>${escapeHtml(f)}</li>`).join('')}</ul>
<h2>Metrics @${ev.k}</h2>
<table><tr><th>model</th><th>precision</th><th>recall</th><th>map</th><th>ndcg</th><th>auc</th><th>coverage</th><th>mrr</th><th>novelty</th><th>diversity</th></tr>${rows}</table>
<p>${ev.users} test users, ${escapeHtml(ev.split)} split, test fraction ${ev.testFraction}.</p>
<h2>Metrics at K</h2>
<div id="chart-ndcg" class="chart"></div><div id="chart-recall" class="chart"></div><div id="chart-precision" class="chart"></div>
<h2>Per user-activity bucket</h2>
<p>${(['cold', 'light', 'heavy'] as const).map((b) => `${b}: ${ev.buckets[b].users} users`).join(', ')} (train interactions: cold ≤ 5, light 6–20, heavy &gt; 20).</p>
<div id="chart-buckets" class="chart"></div>
<h2>Training</h2>
<div id="chart-iterations" class="chart"></div>
${tuningRows}
<h2>Scores</h2>
<div id="chart-scores" class="chart"></div>
<script id="report-data" type="application/json">${scriptJson(data)}</script>
<script>${js}</script>
<script>${CLIENT}</script>
</body></html>
`
}
