/**
 * The local trainer at scale: for each size, events from the trainer's generator (CSV, cached in
 * `--data-dir`), then in a fresh process per size: load seconds, ALS seconds per iteration,
 * evaluation ranking seconds and peak RSS. When a python3 with pandas + scipy is found, the same
 * file is also loaded the usual pandas way in the same run, and the load is compared to it.
 *
 * With `--ratings`, also the reference's speed-test matrix (4.77M pairs, shared/REFERENCE.md) written
 * as a ratings CSV (`userId,itemId,value`), the file shape of the "4.77M-row CSV".
 *
 * With `--compare`, each size runs twice in the same session: first with the factors on plain
 * ArrayBuffers (`--plain-factors`, how the trainer returned them before they were shared with the
 * ranking threads), then as the trainer runs now; both peaks are printed side by side.
 *
 * Usage: npm run bench:scale -w @edgerec/trainer -- [--sizes 5M,20M,50M] [--ratings] [--threads 2]
 *        [--iterations 3] [--factors 64] [--eval-users 20000] [--data-dir DIR] [--python CMD] [--no-pandas]
 *        [--compare]
 *
 * @module
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { rename } from 'node:fs/promises'
import { cpus, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import { writeGeneratedData } from '../../src/generate/index.js'
import { DEFAULT_DATA_DIR, ensureReferenceRatingsCsv } from '../ratings-csv.js'

const exec = promisify(execFile)
const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '5M' },
    threads: { type: 'string', default: '2' },
    iterations: { type: 'string', default: '3' },
    factors: { type: 'string', default: '64' },
    'eval-users': { type: 'string', default: '20000' },
    'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
    python: { type: 'string' },
    'no-pandas': { type: 'boolean' },
    ratings: { type: 'boolean' },
    compare: { type: 'boolean' },
  },
})

const parseSize = (text: string): number => {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(text.trim())
  if (!m) throw new Error(`--sizes takes numbers like 5M,20M,50M or 500k; got ${JSON.stringify(text)}`)
  return Math.round(Number(m[1]) * ({ k: 1e3, K: 1e3, m: 1e6, M: 1e6 }[m[2]!] ?? 1))
}
const sizes = values.sizes === '' ? [] : values.sizes.split(',').map(parseSize)

async function findPython(): Promise<string | undefined> {
  if (values['no-pandas']) return undefined
  for (const candidate of values.python ? [values.python] : ['python3', '/usr/bin/python3']) {
    try {
      await exec(candidate, ['-c', 'import pandas, scipy'])
      return candidate
    } catch {
      // not this one
    }
  }
  return undefined
}

async function ensureData(events: number): Promise<string> {
  const path = join(values['data-dir'], `events-${events}.csv`)
  if (existsSync(path)) return path
  const started = performance.now()
  console.log(`generating ${events.toLocaleString('en-US')} events into ${path} (cached for later runs)…`)
  await writeGeneratedData({ events, seed: 42 }, { path: `${path}.tmp.csv` })
  await rename(`${path}.tmp.csv`, path)
  console.log(`  ${((performance.now() - started) / 1000).toFixed(0)} s`)
  return path
}

interface EdgerecRun {
  events: number
  pairs: number
  users: number
  items: number
  loadSeconds: number
  loadCpuSeconds: number
  loadPeakMiB: number
  alsSecondsPerIteration: number
  alsPeakMiB: number
  splitSeconds: number
  splitPeakMiB: number
  rankSeconds: number
  rankThreads: number
  progressReports: number
  sharedFactors: boolean
  rankedUsers: number
  testUsers: number
  peakMiB: number
}

const python = await findPython()
const here = fileURLToPath(new URL('.', import.meta.url))
console.log(
  `CPU ${cpus()[0]?.model ?? '?'} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}, load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
)
console.log(
  python
    ? `baseline: pandas + scipy via ${python}`
    : 'baseline: none (no python3 with pandas + scipy; install python3-pandas python3-scipy for one)',
)
const gib = (mib: number): string => `${(mib / 1024).toFixed(2)} GiB`
const jobs: { label: string; path: () => Promise<string> }[] = sizes.map((events) => ({
  label: `${events.toLocaleString('en-US')} events`,
  path: () => ensureData(events),
}))
if (values.ratings)
  jobs.push({
    label: 'reference ratings CSV (4,771,749 rows)',
    path: () => ensureReferenceRatingsCsv(values['data-dir']),
  })
async function runOne(path: string, extra: string[]): Promise<EdgerecRun> {
  const { stdout } = await exec(
    process.execPath,
    [
      '--import',
      'tsx',
      join(here, 'run-one.ts'),
      ...['--input', path, '--threads', values.threads, '--iterations', values.iterations],
      ...['--factors', values.factors, '--eval-users', values['eval-users']],
      ...extra,
    ],
    { maxBuffer: 1 << 24 },
  )
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as EdgerecRun
}

function printRun(run: EdgerecRun, label: string): void {
  console.log(`  ${label}`)
  console.log(
    `    load             ${run.loadSeconds.toFixed(2)} s (${run.loadCpuSeconds.toFixed(2)} CPU s), peak RSS ${gib(run.loadPeakMiB)}`,
  )
  console.log(
    `    ALS              ${run.alsSecondsPerIteration.toFixed(2)} s/iteration (median of ${values.iterations}), peak RSS so far ${gib(run.alsPeakMiB)}`,
  )
  console.log(
    `    evaluation       split ${run.splitSeconds.toFixed(2)} s (peak RSS so far ${gib(run.splitPeakMiB)}), ranking ${run.rankSeconds.toFixed(2)} s on ${run.rankThreads} threads for ${run.rankedUsers.toLocaleString('en-US')} of ${run.testUsers.toLocaleString('en-US')} test users (${run.progressReports} progress reports)`,
  )
  console.log(`    peak RSS         ${gib(run.peakMiB)}`)
}

for (const job of jobs) {
  const path = await job.path()
  const before = values.compare ? await runOne(path, ['--plain-factors']) : undefined
  const run = await runOne(path, [])
  console.log(
    `\n${job.label} → ${run.pairs.toLocaleString('en-US')} pairs (${run.users.toLocaleString('en-US')} users × ${run.items.toLocaleString('en-US')} items), ${values.threads} threads, ${values.factors} factors, load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  )
  if (before)
    printRun(
      before,
      'before: factors on plain ArrayBuffers, copied for the ranking threads (--plain-factors)',
    )
  printRun(run, before ? 'now: factors on SharedArrayBuffers, shared with the ranking threads' : 'edgerec')
  if (before) {
    console.log(
      `  same-run comparison: peak RSS ${gib(before.peakMiB)} → ${gib(run.peakMiB)} (${((run.peakMiB / before.peakMiB - 1) * 100).toFixed(1)} %)`,
    )
  }
  if (python) {
    const baseline = await exec(python, [join(here, 'pandas_load.py'), path], { maxBuffer: 1 << 20 })
    const p = JSON.parse(baseline.stdout.trim().split('\n').at(-1)!) as {
      loadSeconds: number
      cpuSeconds: number
      peakMiB: number
      pairs: number
      pandas: string
      scipy: string
    }
    console.log(
      `  pandas ${p.pandas} + scipy ${p.scipy} load (same file, same run): ${p.loadSeconds.toFixed(2)} s (${p.cpuSeconds.toFixed(2)} CPU s), peak RSS ${gib(p.peakMiB)}, ${p.pairs.toLocaleString('en-US')} pairs` +
        ` → edgerec load ${(run.loadSeconds / p.loadSeconds).toFixed(2)}× the time (${(run.loadCpuSeconds / p.cpuSeconds).toFixed(2)}× the CPU time), ${(run.loadPeakMiB / p.peakMiB).toFixed(2)}× the memory`,
    )
  }
}
console.log(
  `\nload average at the end ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
)
