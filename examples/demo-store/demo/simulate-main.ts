/**
 * `npm run simulate -w @edgerec/example-demo-store -- [--people N] [--visits N] [--worker URL]`:
 * runs the simulated audience (demo/simulate.ts) against a running `npm run demo` worker and prints
 * CTR per variant with 95 % Wilson intervals and the p-value of model against popular.
 *
 * @module
 */
import { parseArgs } from 'node:util'
import { defaultStateDir, demoLayout } from './layout.js'
import { DEMO_KEYS } from './servers.js'
import { audienceOfDemo, formatResults, simulateAudience } from './simulate.js'

const { values } = parseArgs({
  options: {
    worker: { type: 'string', default: 'http://127.0.0.1:8787' },
    people: { type: 'string', default: '300' },
    visits: { type: 'string', default: '3' },
    'max-seconds': { type: 'string', default: '180' },
    state: { type: 'string', default: defaultStateDir },
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
  })
  if (report.stopped.length > 0)
    console.log(`  stopped the experiment(s) running before: ${report.stopped.join(', ')}`)
  console.log(
    `\n${report.lists} lists served, ${report.shown} reported shown, ${report.clicks} clicks in ${report.seconds.toFixed(1)} s. Experiment ${report.experimentId}:\n`,
  )
  console.log(formatResults(report.results))
} catch (error) {
  console.error(`✗ ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
}
