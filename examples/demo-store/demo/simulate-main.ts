/**
 * `npm run simulate -w @edgerec/example-demo-store -- [--people N] [--visits N] [--worker URL]`:
 * runs the simulated audience (demo/simulate.ts) against a running `npm run demo` worker and prints
 * CTR per variant with 95 % Wilson intervals and the p-value of model against popular.
 *
 * `--canary VERSION [--share 0.5] [--min-impressions 200] [--margin 0.05]`: a canary of a published
 * version (`npm run demo -- --retrain --candidate` publishes one without making it live) instead,
 * evaluated after each round of visits until promoted or rolled back.
 *
 * @module
 */
import { parseArgs } from 'node:util'
import { defaultStateDir, demoLayout } from './layout.js'
import { DEMO_KEYS } from './servers.js'
import { audienceOfDemo, formatCanary, formatResults, simulateAudience } from './simulate.js'

const { values } = parseArgs({
  options: {
    worker: { type: 'string', default: 'http://127.0.0.1:8787' },
    people: { type: 'string', default: '300' },
    visits: { type: 'string', default: '3' },
    'max-seconds': { type: 'string', default: '180' },
    state: { type: 'string', default: defaultStateDir },
    canary: { type: 'string' },
    share: { type: 'string', default: '0.5' },
    'min-impressions': { type: 'string', default: '200' },
    margin: { type: 'string', default: '0.05' },
    'max-latency-ratio': { type: 'string', default: '3' },
  },
  strict: true,
})
const int = (name: string, raw: string, min: number, max: number): number => {
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`--${name} must be an integer in ${min}..${max}, got ${JSON.stringify(raw)}.`)
    process.exit(2)
  }
  return n
}

const real = (name: string, raw: string, min: number, max: number): number => {
  const n = Number(raw)
  if (!(n >= min && n <= max)) {
    console.error(`--${name} must be a number in ${min}..${max}, got ${JSON.stringify(raw)}.`)
    process.exit(2)
  }
  return n
}

try {
  const audience = await audienceOfDemo(demoLayout(values.state))
  const report = await simulateAudience({
    workerUrl: values.worker,
    publishableKey: DEMO_KEYS.publishable,
    secretKey: DEMO_KEYS.secret,
    ...audience,
    people: int('people', values.people, 1, 10_000),
    visits: int('visits', values.visits, 1, 50),
    maxSeconds: int('max-seconds', values['max-seconds'], 1, 3600),
    log: (line) => console.log(`  ${line}`),
    ...(values.canary
      ? {
          canary: {
            version: values.canary,
            share: real('share', values.share, 0.001, 0.5),
            minImpressions: int('min-impressions', values['min-impressions'], 10, 1e9),
            margin: real('margin', values.margin, 0, 0.5),
            maxLatencyRatio: real('max-latency-ratio', values['max-latency-ratio'], 1, 100),
          },
        }
      : {}),
  })
  if (report.stopped.length > 0)
    console.log(`  stopped the experiment(s) running before: ${report.stopped.join(', ')}`)
  console.log(
    `\n${report.lists} lists served, ${report.shown} reported shown, ${report.clicks} clicks in ${report.seconds.toFixed(1)} s. Experiment ${report.experimentId}:\n`,
  )
  console.log(formatResults(report.results))
  if (report.canary) console.log(`\n${formatCanary(report.canary)}`)
} catch (error) {
  console.error(`✗ ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
}
