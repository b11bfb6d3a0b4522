/**
 * `npm run demo`: generate a shop and its event history, load the events into the edge worker's
 * local D1, train ALS with `turbo run train` on local threads, print the metrics next to
 * popularity, publish into the local KV/R2, start the worker and the store page on 127.0.0.1 and
 * print what to open. Ctrl-C stops everything.
 *
 * Flags: `--fresh` (start over), `--no-serve` (prepare and exit), `--retrain` (train on the events
 * now in D1, including those the store sent, and publish a new version; a running demo picks it up
 * without a restart; with `--candidate` it is published but not made live, for a canary:
 * `npm run simulate -w @edgerec/example-demo-store -- --canary VERSION`), `--rollback` (make the previous version live again), `--simulate N` (once serving, run N simulated
 * people against an experiment model vs popular: demo/simulate.ts), `--events N`, `--factors N`, `--iterations N`, `--port N`, `--store-port N`,
 * `--state DIR`.
 *
 * @module
 */
import { rm } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import type { ModelManifest } from '@edgerec/core'
import { generatedUserId } from '@edgerec/trainer'
import { applyMigrations, pendingMigrations } from './d1.js'
import { type DemoLayout, defaultStateDir, demoLayout } from './layout.js'
import {
  type DemoDataOptions,
  type DemoTrainOptions,
  generateAndLoad,
  generatorOptions,
  listVersions,
  publishCandidate,
  publishModel,
  readManifest,
  readPrepared,
  rollbackModel,
  trainModel,
  writeCatalog,
  writePrepared,
} from './prepare.js'
import { DEMO_KEYS, type RunningServer, startStore, startWorker } from './servers.js'
import { audienceOfDemo, formatResults, simulateAudience } from './simulate.js'

// NOTE: `npm run demo` (scripts/demo.mjs) builds first and passes its start time, so "Ready in" counts the build.
const started = Number(process.env.EDGEREC_DEMO_STARTED_AT) || Date.now()
const tty = process.stdout.isTTY === true
const bold = (s: string) => (tty ? `\x1b[1m${s}\x1b[0m` : s)
const dim = (s: string) => (tty ? `\x1b[2m${s}\x1b[0m` : s)
const green = (s: string) => (tty ? `\x1b[32m${s}\x1b[0m` : s)
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`

async function step<T>(label: string, work: () => Promise<T>): Promise<T> {
  const t0 = performance.now()
  console.log(`${bold('▶')} ${label}`)
  const result = await work()
  console.log(`  ${green('✓')} ${dim(`${((performance.now() - t0) / 1000).toFixed(1)} s`)}`)
  return result
}

function usage(): never {
  console.log(`Usage: npm run demo -- [--fresh] [--no-serve] [--retrain [--candidate]] [--rollback] [--simulate N] [--events N] [--factors N] [--iterations N]
                       [--port N] [--store-port N] [--state DIR]`)
  process.exit(0)
}

/** Prints the evaluation the trainer recorded in the manifest: ALS, ALS int8 and popularity. */
function printMetrics(manifest: ModelManifest): void {
  const evaluation = manifest.evaluation
  if (!evaluation) {
    console.log('  (the trainer recorded no evaluation)')
    return
  }
  const names = Object.keys(evaluation.models)
  const metrics = ['precision', 'recall', 'map', 'ndcg', 'auc', 'coverage'] as const
  console.log(
    `  ${bold(`held-out evaluation`)}: ${evaluation.split} split, K = ${evaluation.k}, ${evaluation.users} test users`,
  )
  console.log(`  ${'model'.padEnd(12)}${metrics.map((m) => `${m}@${evaluation.k}`.padStart(14)).join('')}`)
  for (const name of names) {
    const m = evaluation.models[name]!
    console.log(`  ${name.padEnd(12)}${metrics.map((k) => m[k].toFixed(4).padStart(14)).join('')}`)
  }
  const als = evaluation.models.als
  const pop = evaluation.models.popularity
  if (als && pop && pop.ndcg > 0) {
    console.log(
      `  ALS vs popularity: ndcg × ${(als.ndcg / pop.ndcg).toFixed(2)}, precision × ${(als.precision / Math.max(pop.precision, 1e-12)).toFixed(2)}`,
    )
  }
}

async function trainAndPublish(layout: DemoLayout, train: DemoTrainOptions): Promise<string> {
  const version = await step(
    'Training ALS with `turbo run train` (local worker threads, reading the local D1)',
    () => trainModel(layout, train),
  )
  const manifest = await readManifest(layout, version)
  console.log(
    `  model ${bold(version)}: ${manifest.counts.users} users × ${manifest.counts.items} items, ${manifest.counts.interactions} interactions, ${manifest.dims} factors`,
  )
  printMetrics(manifest)
  await step('Publishing into the local KV/R2 that `wrangler dev` serves', async () => {
    const report = await publishModel(layout, version)
    console.log(
      `  ${report.shards} shards, ${(report.bytes / 1024).toFixed(0)} KiB; live pointer → ${report.pointer.version}${report.pointer.previous ? ` (previous ${report.pointer.previous})` : ''}`,
    )
  })
  return version
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      fresh: { type: 'boolean', default: false },
      'no-serve': { type: 'boolean', default: false },
      retrain: { type: 'boolean', default: false },
      candidate: { type: 'boolean', default: false },
      rollback: { type: 'boolean', default: false },
      simulate: { type: 'string', default: '0' },
      events: { type: 'string', default: '100000' },
      factors: { type: 'string', default: '32' },
      iterations: { type: 'string', default: '12' },
      port: { type: 'string', default: '8787' },
      'store-port': { type: 'string', default: '5173' },
      state: { type: 'string', default: defaultStateDir },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  })
  if (values.help) usage()
  const int = (name: string, raw: string, min: number): number => {
    const n = Number(raw)
    if (!Number.isInteger(n) || n < min) {
      console.error(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}.`)
      process.exit(2)
    }
    return n
  }
  const layout = demoLayout(values.state)
  const data: DemoDataOptions = { events: int('events', values.events, 1000) }
  const train: DemoTrainOptions = {
    factors: int('factors', values.factors, 2),
    iterations: int('iterations', values.iterations, 1),
  }

  if (values.rollback) {
    if (!(await readPrepared(layout))) {
      console.error(`No prepared demo in ${layout.dir}. Run \`npm run demo\` first.`)
      process.exit(1)
    }
    const pointer = await rollbackModel(layout)
    console.log(
      `\n${green('✓')} ${bold(pointer.version)} is live again (rolled back from ${pointer.previous ?? 'none'}). A running worker switches within 5 s; --rollback again flips forward.`,
    )
    return
  }

  if (values.retrain) {
    const prepared = await readPrepared(layout)
    if (!prepared) {
      console.error(`No prepared demo in ${layout.dir}. Run \`npm run demo\` first.`)
      process.exit(1)
    }
    const previous = listVersions(layout).at(-1)
    if (values.candidate) {
      const version = await step(
        'Training ALS with `turbo run train` (local worker threads, reading the local D1)',
        () => trainModel(layout, train),
      )
      printMetrics(await readManifest(layout, version))
      await step('Publishing as a candidate (the live version stays live)', () =>
        publishCandidate(layout, version),
      )
      console.log(
        `\n${green('✓')} ${bold(version)} is published, not live. Canary it with the simulated audience (a running demo):\n  npm run simulate -w @edgerec/example-demo-store -- --canary ${version}`,
      )
      return
    }
    const version = await trainAndPublish(layout, train)
    console.log(
      `\n${green('✓')} ${bold(version)} is live (was ${previous ?? 'none'}). A running \`npm run demo\` worker switches to it within 5 s, without a restart: check GET /v1/model. (${elapsed()})`,
    )
    return
  }

  if (values.fresh) await rm(layout.dir, { recursive: true, force: true })
  let prepared = await readPrepared(layout)
  if (prepared && prepared.data.events !== data.events) {
    console.log(
      `The state in ${layout.dir} was prepared with ${prepared.data.events} events; rebuilding it with ${data.events}.`,
    )
    await rm(layout.dir, { recursive: true, force: true })
    prepared = undefined
  }
  if (prepared) {
    console.log(
      `Reusing the demo prepared at ${prepared.preparedAt} in ${layout.dir} (model ${listVersions(layout).at(-1) ?? prepared.version}). Use --fresh to start over.`,
    )
  } else {
    await rm(layout.dir, { recursive: true, force: true })
    const options = generatorOptions(data)
    const catalog = await step(`Generating a shop with the trainer's generator (seed ${options.seed})`, () =>
      writeCatalog(layout, options),
    )
    console.log(
      `  ${catalog.catalogItems} products in ${catalog.categories.length} categories: ${catalog.categories.join(', ')}`,
    )
    await step('Creating the worker’s local D1 (`wrangler d1 migrations apply edgerec --local`)', () =>
      applyMigrations(layout),
    )
    const rows = await step(
      `Loading ${data.events.toLocaleString('en-US')} generated events into the local D1`,
      () =>
        generateAndLoad(layout, options, (n) => {
          if (tty) process.stdout.write(`\r  ${n.toLocaleString('en-US')} events loaded`)
        }).finally(() => {
          if (tty) process.stdout.write('\r\x1b[2K')
        }),
    )
    console.log(`  D1 events table: ${rows.toLocaleString('en-US')} rows`)
    const version = await trainAndPublish(layout, train)
    prepared = {
      data,
      events: rows,
      version,
      preparedAt: new Date().toISOString(),
      sampleUser: generatedUserId(0),
    }
    await writePrepared(layout, prepared)
  }

  // A state prepared by an older checkout lacks the worker's newer tables: apply what is missing.
  const pending = await pendingMigrations(layout)
  if (pending.length > 0)
    await step(`Applying ${pending.length} new D1 migration(s) (${pending.join(', ')})`, () =>
      applyMigrations(layout),
    )

  if (values['no-serve']) {
    console.log(`\n${green('✓')} Prepared in ${elapsed()}. Start it with \`npm run demo\`.`)
    return
  }

  const servers: RunningServer[] = []
  let stopping = false
  const stopAll = async (code: number) => {
    if (stopping) return
    stopping = true
    console.log('\nStopping the worker and the store page…')
    await Promise.allSettled(servers.reverse().map((s) => s.stop()))
    process.exit(code)
  }
  process.on('SIGINT', () => void stopAll(0))
  process.on('SIGTERM', () => void stopAll(0))

  try {
    const worker = await step('Starting the edge worker (`wrangler dev --ip 127.0.0.1`)', () =>
      startWorker({ layout, port: int('port', values.port, 0) }),
    )
    servers.push(worker)
    const store = await step('Starting the store page (Vite)', () =>
      startStore({ layout, endpoint: worker.url, port: int('store-port', values['store-port'], 0) }),
    )
    servers.push(store)
    const user = prepared.sampleUser
    const dashboard = `${store.url}/dashboard.html#key=${DEMO_KEYS.secret}`
    const check = await fetch(`${worker.url}/v1/users/${user}/recommendations?k=3`, {
      headers: { authorization: `Bearer ${DEMO_KEYS.publishable}` },
    })
    const body = (await check.json()) as { source?: string; modelVersion?: string | null }
    console.log(`
${green('✓')} Ready in ${elapsed()}${process.env.EDGEREC_DEMO_STARTED_AT ? ' (build included)' : ''}. The worker answers ${user} from ${bold(String(body.source))} (model ${body.modelVersion ?? 'none'}).

  Store page   ${bold(store.url)}
  Dashboard    ${bold(dashboard)}
               (the URL carries the demo's secret key for this local page only; in production put the dashboard behind your own auth)
  Worker       ${worker.url}   (log: ${worker.logFile})
  Health       ${worker.url}/v1/health   (no key needed: opens in a browser)
  Model        curl -H 'Authorization: Bearer ${DEMO_KEYS.publishable}' ${worker.url}/v1/model

  Try:
    curl -H 'Authorization: Bearer ${DEMO_KEYS.publishable}' '${worker.url}/v1/users/${user}/recommendations?k=5'
    curl -H 'Authorization: Bearer ${DEMO_KEYS.secret}' '${worker.url}/v1/users/${user}/recommendations?k=5&explain=1'
      (explanations need the secret key or the person's user token: docs/privacy.md)
    curl -H 'Authorization: Bearer ${DEMO_KEYS.publishable}' '${worker.url}/v1/popular?k=5'

  Click products in the store: "Recommended for you" follows your clicks (fold-in).
  Retrain on everything in D1, including your clicks, while this runs:  npm run demo -- --retrain
    (or: EDGEREC_CONFIG=${layout.trainerConfig} npx turbo run train --filter=@edgerec/trainer -- --publish)
  Simulated audience (an A/B test model vs popular the dashboard shows):  npm run demo -- --simulate 300
    (or, against this running demo: npm run simulate -w @edgerec/example-demo-store -- --worker ${worker.url}${layout.dir === defaultStateDir ? '' : ` --state ${layout.dir}`} --people 300)
  Ctrl-C stops everything.`)
    const people = int('simulate', values.simulate, 0)
    if (people > 0) {
      const report = await step(
        `Simulated audience: ${people} people of the generated history, 3 visits each`,
        async () =>
          simulateAudience({
            workerUrl: worker.url,
            publishableKey: DEMO_KEYS.publishable,
            secretKey: DEMO_KEYS.secret,
            ...(await audienceOfDemo(layout)),
            people,
            log: (line) => console.log(`  ${dim(line)}`),
          }),
      )
      console.log(
        `  ${report.lists} lists, ${report.shown} shown, ${report.clicks} clicks; experiment ${report.experimentId}:`,
      )
      console.log(formatResults(report.results))
      console.log(`  The dashboard shows it: ${dashboard}`)
    }
  } catch (error) {
    console.error(error instanceof Error ? error.message : error)
    await stopAll(1)
  }
}

main().catch((error: unknown) => {
  console.error(`\n✗ ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
})
