/**
 * `npm run bench:ab -w @edgerec/example-demo-store`: the simulated A/B on the demo store, end to
 * end, in a temporary state folder: generate a shop and its history, train and publish a model,
 * train a second version and publish it as a candidate, start `wrangler dev`, then
 * 1. the simulated audience on an experiment `popular` (control) vs `model`: CTR per variant with
 *    95 % Wilson intervals and the two-proportion z-test's p-value;
 * 2. a canary of the candidate against the live version, evaluated after every round of visits:
 *    the decision and the impressions it needed.
 * Prints a Markdown table (docs/benchmarks.md). Flags: `--events N` (30000), `--people N` (400),
 * `--visits N` (3), `--canary-rounds N` (20), `--seed N` (1).
 *
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { applyMigrations } from './d1.js'
import { demoLayout } from './layout.js'
import {
  generateAndLoad,
  generatorOptions,
  publishCandidate,
  publishModel,
  trainModel,
  writeCatalog,
} from './prepare.js'
import { DEMO_KEYS, startWorker } from './servers.js'
import { audienceOfDemo, formatCanary, formatResults, simulateAudience } from './simulate.js'

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '30000' },
    people: { type: 'string', default: '400' },
    visits: { type: 'string', default: '3' },
    'canary-rounds': { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
  },
  strict: true,
})
const int = (name: string, raw: string): number => {
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} must be a positive integer, got ${JSON.stringify(raw)}.`)
    process.exit(2)
  }
  return n
}
const events = int('events', values.events)
const people = int('people', values.people)
const visits = int('visits', values.visits)
const canaryRounds = int('canary-rounds', values['canary-rounds'])
const seed = int('seed', values.seed)

const dir = await mkdtemp(join(tmpdir(), 'edgerec-bench-ab-'))
const layout = demoLayout(dir)
const log = (line: string) => console.log(`  ${line}`)
let stopWorker: (() => Promise<void>) | undefined
try {
  const data = { events, categories: 8, seed: 7 }
  const options = generatorOptions(data)
  const train = { factors: 16, iterations: 10, output: 'pipe' as const }
  console.log(`Preparing: ${events} generated events, ${data.categories} categories (state ${dir})`)
  await writeCatalog(layout, options)
  await applyMigrations(layout)
  await generateAndLoad(layout, options)
  const live = await trainModel(layout, train)
  await publishModel(layout, live)
  const candidate = await trainModel(layout, train)
  await publishCandidate(layout, candidate)
  console.log(`Live ${live}, candidate ${candidate}. Starting wrangler dev.`)
  const worker = await startWorker({ layout, port: 0, refreshSeconds: 1 })
  stopWorker = worker.stop
  const audience = await audienceOfDemo(layout, options)
  const common = {
    workerUrl: worker.url,
    publishableKey: DEMO_KEYS.publishable,
    secretKey: DEMO_KEYS.secret,
    ...audience,
    people,
    seed,
    maxSeconds: 1800,
    log,
  }

  console.log(`\n1. Experiment popular vs model: ${people} people × ${visits} visits, 8 items per list`)
  const ab = await simulateAudience({ ...common, visits })
  console.log(formatResults(ab.results))
  console.log(
    `  ${ab.lists} lists, ${ab.shown} reported shown, ${ab.clicks} clicks in ${ab.seconds.toFixed(1)} s`,
  )

  const thresholds = { share: 0.5, minImpressions: 200, margin: 0.05, maxLatencyRatio: 3 }
  console.log(
    `\n2. Canary ${candidate} against ${live}: ${JSON.stringify(thresholds)}, evaluated after each round of ${people} visits (at most ${canaryRounds})`,
  )
  const canary = await simulateAudience({
    ...common,
    firstUser: people,
    visits: canaryRounds,
    canary: { version: candidate, ...thresholds },
  })
  console.log(formatCanary(canary.canary!))
  console.log(formatResults(canary.results))
} finally {
  await stopWorker?.()
  await rm(dir, { recursive: true, force: true })
}
