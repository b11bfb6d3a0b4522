/**
 * Quality and evaluation-speed benchmark (issue 18, "Measured outcomes"), everything measured in
 * this run:
 * - base vs tuned ndcg@10 on the held-out test split, and the tuning time, on ml-latest-small
 *   (`--movielens DIR`, skipped when absent; MovieLens data is never committed) and on generated
 *   data (`--tune-events`);
 * - evaluation ranking time of the same model on generated data (`--events`, default 1M), inline
 *   on the main thread (what evaluation did before) vs on worker threads, with identical metrics.
 *
 * Usage: tsx benchmarks/quality/quality.ts [--movielens ../../../shared/data/ml-latest-small]
 *        [--tune-events 200000] [--events 1000000] [--trials 10] [--threads N] [--strategy random]
 *
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { resolveAlsOptions, trainAls } from '../../src/als/index.js'
import type { EdgerecConfig } from '../../src/config/config.js'
import type { CsrMatrix } from '../../src/data/matrix.js'
import { rankingMetrics, runEvaluation, splitTemporal } from '../../src/evaluation/index.js'
import { rankAll } from '../../src/evaluation/rank.js'
import { writeGeneratedData } from '../../src/generate/index.js'
import { loadFromConfig } from '../../src/train.js'
import type { TuningStrategy } from '../../src/tuning/index.js'
import { tuneInPipeline } from '../../src/tuning/pipeline.js'

const { values } = parseArgs({
  options: {
    movielens: { type: 'string' },
    'tune-events': { type: 'string', default: '200000' },
    events: { type: 'string', default: '1000000' },
    trials: { type: 'string', default: '10' },
    threads: { type: 'string' },
    strategy: { type: 'string', default: 'random' },
  },
})
const threads = Number(values.threads ?? availableParallelism())
const trials = Number(values.trials)
const quiet = { info: () => {}, warn: () => {} }
const rows: string[] = []

console.log(
  `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, Node ${process.version}, load average at start ${loadavg()[0]!.toFixed(2)}`,
)

async function baseVsTuned(label: string, data: CsrMatrix, transform: 'none'): Promise<void> {
  const evaluation = { split: 'temporal' as const, testFraction: 0.2, k: 10 }
  const als = resolveAlsOptions({ threads })
  const base = await runEvaluation(data, { ...evaluation, seed: als.seed, als: { ...als } })
  const started = performance.now()
  const tuned = await tuneInPipeline(
    data,
    { trials, strategy: values.strategy as TuningStrategy },
    als,
    evaluation,
    transform,
    quiet,
  )
  const tuningSeconds = (performance.now() - started) / 1000
  const after = await runEvaluation(tuned.data, { ...evaluation, seed: als.seed, als: { ...tuned.als } })
  const line = `| ${label} | ${base.models.als.ndcg.toFixed(4)} | ${after.models.als.ndcg.toFixed(4)} | ${(((after.models.als.ndcg - base.models.als.ndcg) / base.models.als.ndcg) * 100).toFixed(1)} % | ${base.models.popularity.ndcg.toFixed(4)} | ${tuningSeconds.toFixed(1)} s (${trials} trials, ${values.strategy}, ${Math.min(threads, trials)} at a time) | ${JSON.stringify(tuned.report.best)} |`
  console.log(line)
  rows.push(line)
}

const dir = await mkdtemp(join(tmpdir(), 'edgerec-quality-bench-'))
try {
  console.log(
    '\n| data | base ndcg@10 (test) | tuned ndcg@10 (test) | change | popularity | tuning time | tuned configuration |',
  )
  console.log('|---|---|---|---|---|---|---|')
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
    await baseVsTuned('ml-latest-small (ratings as values)', loaded.data.matrix, 'none')
  }
  const tuneEvents = Number(values['tune-events'])
  if (tuneEvents > 0) {
    const path = join(dir, 'tune.ndjson')
    await writeGeneratedData({ events: tuneEvents, seed: 11 }, { path })
    const loaded = await loadFromConfig({ events: { kind: 'ndjson', path } })
    await baseVsTuned(`generated, ${tuneEvents.toLocaleString('en-US')} events`, loaded.data.matrix, 'none')
  }

  const events = Number(values.events)
  if (events > 0) {
    const path = join(dir, 'events.ndjson')
    await writeGeneratedData({ events, seed: 12 }, { path })
    const loaded = await loadFromConfig({ events: { kind: 'ndjson', path } })
    const data = loaded.data.matrix
    const { train, test } = splitTemporal(data, 0.2)
    const model = await trainAls(train, { threads, iterations: 15 })
    const selected = new Uint8Array(test.rows)
    for (let u = 0; u < test.rows; u++) if (test.indptr[u + 1]! > test.indptr[u]!) selected[u] = 1
    const timed = async (n: number): Promise<{ seconds: number; ndcg: number }> => {
      const started = performance.now()
      const lists = await rankAll(model, train, selected, 10, { threads: n })
      const seconds = (performance.now() - started) / 1000
      return { seconds, ndcg: rankingMetrics(test, 10, lists.float32).ndcg }
    }
    const inline = await timed(1)
    const pooled = await timed(threads)
    console.log(
      `\nevaluation ranking, ${events.toLocaleString('en-US')} events (${data.rows.toLocaleString('en-US')} users × ${data.cols.toLocaleString('en-US')} items, ${selected.reduce((a, b) => a + b, 0).toLocaleString('en-US')} test users, 64 factors, float32 + int8 top-10):`,
    )
    console.log('| ranking | seconds | ndcg@10 (float32) |')
    console.log('|---|---|---|')
    console.log(`| main thread (before) | ${inline.seconds.toFixed(1)} | ${inline.ndcg.toFixed(4)} |`)
    console.log(
      `| ${threads} worker threads (now) | ${pooled.seconds.toFixed(1)} | ${pooled.ndcg.toFixed(4)} |`,
    )
    console.log(
      `speed-up ${(inline.seconds / pooled.seconds).toFixed(2)}× (same run, same model; identical metrics: ${inline.ndcg === pooled.ndcg})`,
    )
  }
} finally {
  await rm(dir, { recursive: true, force: true })
}
console.log(`load average at the end ${loadavg()[0]!.toFixed(2)} (other processes slow every figure down)`)
