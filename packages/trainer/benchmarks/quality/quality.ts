/**
 * Tuning benchmark (issue 18, "Measured outcomes"), everything measured in this run: base vs tuned
 * ndcg@10 on the held-out test split, and the tuning time, with what a user gets by default
 * (`--tune`: successive halving over 27 candidates, `adaptiveSpace`) unless `--strategy` /
 * `--trials` say otherwise, on
 * - ml-latest-small (`--movielens DIR`, skipped when absent; MovieLens data is never committed),
 * - generated data with known structure (`--tune-events`, users with category tastes), and
 * - generated data where popularity dominates (`--popular-events`, `taste: 0`): tuning must not hurt.
 * The evaluation ranking time (main thread vs worker threads) is `benchmarks/quality/evaluation.ts`.
 *
 * Usage: tsx benchmarks/quality/quality.ts [--movielens ../../../shared/data/ml-latest-small]
 *        [--tune-events 100000] [--popular-events 100000] [--trials N] [--threads N] [--strategy halving|random]
 *
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { resolveAlsOptions } from '../../src/als/index.js'
import type { EdgerecConfig } from '../../src/config/config.js'
import type { CsrMatrix } from '../../src/data/matrix.js'
import { runEvaluation } from '../../src/evaluation/index.js'
import { writeGeneratedData } from '../../src/generate/index.js'
import { loadFromConfig } from '../../src/train.js'
import { DEFAULT_TUNING_STRATEGY, defaultTrials, type TuningStrategy } from '../../src/tuning/index.js'
import { tuneInPipeline } from '../../src/tuning/pipeline.js'

const { values } = parseArgs({
  options: {
    movielens: { type: 'string' },
    'tune-events': { type: 'string', default: '100000' },
    'popular-events': { type: 'string', default: '100000' },
    trials: { type: 'string' },
    threads: { type: 'string' },
    strategy: { type: 'string' },
  },
})
const threads = Number(values.threads ?? availableParallelism())
const strategy = (values.strategy ?? DEFAULT_TUNING_STRATEGY) as TuningStrategy
const trials = values.trials === undefined ? defaultTrials(strategy) : Number(values.trials)
const quiet = { info: () => {}, warn: () => {} }

console.log(
  `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, Node ${process.version}, load average at start ${loadavg()[0]!.toFixed(2)}`,
)

async function baseVsTuned(label: string, data: CsrMatrix): Promise<void> {
  const evaluation = { split: 'temporal' as const, testFraction: 0.2, k: 10 }
  const als = resolveAlsOptions({ threads })
  const base = await runEvaluation(data, { ...evaluation, seed: als.seed, als: { ...als } })
  const started = performance.now()
  const tuned = await tuneInPipeline(data, { trials, strategy }, als, evaluation, 'none', quiet)
  const tuningSeconds = (performance.now() - started) / 1000
  const after = tuned.changed
    ? await runEvaluation(tuned.data, { ...evaluation, seed: als.seed, als: { ...tuned.als } })
    : base
  const b = base.models.als.ndcg
  const a = after.models.als.ndcg
  const { report } = tuned
  console.log(
    `| ${label} | ${b.toFixed(4)} | ${a.toFixed(4)} | ${a >= b ? '+' : ''}${(((a - b) / b) * 100).toFixed(1)} % | ${base.models.popularity.ndcg.toFixed(4)} | ` +
      `${report.baseMetrics.ndcg.toFixed(4)} → ${report.bestMetrics.ndcg.toFixed(4)} | ${tuningSeconds.toFixed(1)} s (${trials} candidates, ${strategy}, ${report.trials.length} trainings, load ${loadavg()[0]!.toFixed(1)}) | ` +
      `${tuned.changed ? JSON.stringify(report.best) : 'base kept'} |`,
  )
}

const dir = await mkdtemp(join(tmpdir(), 'edgerec-quality-bench-'))
try {
  console.log(
    '\n| data | base ndcg@10 (test) | tuned ndcg@10 (test) | change | popularity (test) | validation ndcg@10 base → chosen | tuning time | tuned configuration |',
  )
  console.log('|---|---|---|---|---|---|---|---|')
  if (values.movielens) {
    const path = resolve(values.movielens, 'ratings.csv')
    const config: EdgerecConfig = {
      events: {
        kind: 'csv',
        path,
        columns: { user: 'userId', item: 'movieId', value: 'rating', timestamp: 'timestamp' },
      },
    }
    const loaded = await loadFromConfig(config)
    await baseVsTuned('ml-latest-small (ratings as values)', loaded.data.matrix)
  }
  for (const [flag, label, taste] of [
    ['tune-events', 'generated, category tastes', 1],
    ['popular-events', 'generated, popularity dominates (taste 0)', 0],
  ] as const) {
    const events = Number(values[flag])
    if (!(events > 0)) continue
    const path = join(dir, `${flag}.ndjson`)
    await writeGeneratedData({ events, seed: 11, taste }, { path })
    const loaded = await loadFromConfig({ events: { kind: 'ndjson', path } })
    await baseVsTuned(`${label}, ${events.toLocaleString('en-US')} events`, loaded.data.matrix)
  }
} finally {
  await rm(dir, { recursive: true, force: true })
}
console.log(`load average at the end ${loadavg()[0]!.toFixed(2)} (other processes slow every figure down)`)
