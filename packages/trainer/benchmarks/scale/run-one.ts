/**
 * One size of the scale benchmark, in its own process so its peak RSS is its own: loads a CSV of
 * events the way `edgerec-train` does, trains ALS on every pair, ranks a sample of test users on
 * the worker threads (`rankAll`, what `edgerec-train evaluate` runs), and prints one JSON line with
 * seconds and peak RSS after each phase.
 *
 * `--plain-factors` trains with `sharedFactors: false`: the factors come back on plain
 * ArrayBuffers and the ranking copies them into shared memory, as before factors were shared
 * (the "before" of the same-run comparison, `scale.ts --compare`).
 *
 * Usage: node --import tsx benchmarks/scale/run-one.ts --input events.csv [--threads 2] [--iterations 3]
 *        [--factors 64] [--eval-users 20000] [--plain-factors]
 *
 * @module
 */
import { parseArgs } from 'node:util'
import { createEventSource } from '@edgerec/adapters'
import { trainAls } from '../../src/als/index.js'
import { splitBy } from '../../src/evaluation/index.js'
import { rankAll } from '../../src/evaluation/rank.js'
import { loadInteractions } from '../../src/input/load.js'

const { values } = parseArgs({
  options: {
    input: { type: 'string' },
    threads: { type: 'string', default: '2' },
    iterations: { type: 'string', default: '3' },
    factors: { type: 'string', default: '64' },
    'eval-users': { type: 'string', default: '20000' },
    'plain-factors': { type: 'boolean', default: false },
  },
})
if (!values.input) throw new Error('--input is required')
const peakMiB = (): number => process.resourceUsage().maxRSS / 1024
const rssMiB = (): number => process.memoryUsage.rss() / 1048576
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const cpuSeconds = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e6
}
let started = performance.now()
const loadCpuStart = cpuSeconds()
const loaded = await loadInteractions(await createEventSource({ kind: 'file', path: values.input }))
const loadSeconds = (performance.now() - started) / 1000
// CPU seconds (every thread, garbage collector included): far steadier than wall time on a busy machine.
const loadCpuSeconds = cpuSeconds() - loadCpuStart
const loadPeakMiB = peakMiB()
const matrix = loaded.data.matrix

const seconds: number[] = []
started = performance.now()
const model = await trainAls(matrix, {
  factors: Number(values.factors),
  regularization: 0.05,
  alpha: 1,
  cgSteps: 3,
  iterations: Number(values.iterations),
  threads: Number(values.threads),
  seed: 1,
  sharedFactors: !values['plain-factors'],
  onIteration: (p) => seconds.push(p.seconds),
})
const alsSeconds = (performance.now() - started) / 1000
const alsPeakMiB = peakMiB()

// Ranking cost of evaluation: the test part of a temporal split, for a fixed sample of users
// (every k-th user), ranked (float32 and int8 lists, train items excluded) with the model above
// on the worker threads, as `edgerec-train evaluate` does. Timing only: no metrics, the model saw
// the test pairs.
started = performance.now()
const { train, test } = splitBy(matrix, 'temporal', 0.2, 1)
const splitSeconds = (performance.now() - started) / 1000
const wanted = Number(values['eval-users'])
let testUsers = 0
for (let u = 0; u < test.rows; u++) if (test.indptr[u + 1]! > test.indptr[u]!) testUsers++
const stride = wanted > 0 && testUsers > wanted ? testUsers / wanted : 1
const sample = new Uint8Array(test.rows)
let seen = 0
let taken = 0
for (let u = 0; u < test.rows; u++) {
  if (test.indptr[u + 1]! === test.indptr[u]!) continue
  if (seen >= taken * stride) {
    sample[u] = 1
    taken++
  }
  seen++
}
const splitPeakMiB = peakMiB()
let progressReports = 0
started = performance.now()
await rankAll(model, train, sample, 10, {
  threads: Number(values.threads),
  onProgress: () => {
    progressReports++
  },
})
const rankSeconds = (performance.now() - started) / 1000

console.log(
  JSON.stringify({
    events: loaded.stats.events,
    pairs: matrix.indices.length,
    users: matrix.rows,
    items: matrix.cols,
    loadSeconds,
    loadCpuSeconds,
    loadPeakMiB,
    alsSecondsPerIteration: median(seconds),
    alsSeconds,
    alsPeakMiB,
    splitSeconds,
    splitPeakMiB,
    rankSeconds,
    rankThreads: Number(values.threads),
    progressReports,
    sharedFactors: !values['plain-factors'],
    rankedUsers: taken,
    testUsers,
    peakMiB: peakMiB(),
    finalRssMiB: rssMiB(),
    threads: Number(values.threads),
  }),
)
