/**
 * Staging memory of a Spark run (issue 14 item 5): the weighted interactions of `--events`
 * generated events (default 5M; the trainer's generator, CSV cached in `--data-dir`, shared with
 * `bench:scale`) written as the Spark job's Parquet input to a local-disk storage, in two modes,
 * each in a fresh process (A/B in the same run, same machine, same matrix):
 *
 * - `single` (before): one `interactions.parquet` of every pair, encoded in memory, then stored;
 * - `parts` (after, what `edgerec-train train` with a Spark compute does): `writeInteractionParts`,
 *   part files of at most `--part-rows` rows uploaded as each is done (`compute.partRows` of the
 *   config; same bounds, checked before anything runs).
 *
 * Each child loads the events as the trainer does, then resets the kernel's peak-RSS mark
 * (`/proc/self/clear_refs`, Linux) after a GC, stages, and reports the peak RSS during staging
 * (`VmHWM`) minus the RSS before it: the memory staging itself adds on top of the matrix (the
 * Parquet encoder is loaded and warmed up on a tiny matrix first, outside the measurement).
 *
 * Usage: npm run bench:spark-staging -w @edgerec/trainer -- [--events 5000000] [--part-rows 1000000]
 *        [--repeat 1] [--data-dir DIR]
 *
 * @module
 */
import { execFile } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import { createEventSource, createStorage, SPARK_PART_ROWS } from '@edgerec/adapters'
import { csrFromTriples, nnz } from '../../src/data/matrix.js'
import { writeGeneratedData } from '../../src/generate/index.js'
import { loadInteractions } from '../../src/input/load.js'
import { interactionsParquet, writeInteractionParts } from '../../src/spark/inputs.js'

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '5000000' },
    'part-rows': { type: 'string', default: '1000000' },
    repeat: { type: 'string', default: '1' },
    'data-dir': { type: 'string', default: join(tmpdir(), 'edgerec-scale-bench') },
    child: { type: 'string' },
    input: { type: 'string' },
  },
})

const partRows = Number(values['part-rows'])
if (!Number.isInteger(partRows) || partRows < SPARK_PART_ROWS.min || partRows > SPARK_PART_ROWS.max) {
  console.error(
    `--part-rows must be a whole number of rows between ${SPARK_PART_ROWS.min} and ${SPARK_PART_ROWS.max} (compute.partRows); got ${values['part-rows']}.`,
  )
  process.exit(2)
}

const MiB = 1048576
/** Kernel's peak RSS of this process since start or the last reset, in bytes. */
const vmHwm = (): number =>
  Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024

interface Result {
  mode: string
  pairs: number
  files: number
  bytes: number
  seconds: number
  rssBeforeMiB: number
  peakMiB: number
  stagingMiB: number
}

async function child(mode: string, input: string): Promise<void> {
  const loaded = await loadInteractions(await createEventSource({ kind: 'file', path: input }))
  const m = loaded.data.matrix
  const dir = await mkdtemp(join(tmpdir(), 'edgerec-staging-bench-'))
  try {
    const storage = await createStorage({ provider: 'local', root: dir })
    // Warm-up outside the measurement: load and compile the Parquet encoder on a tiny matrix, so
    // both modes measure memory that grows with the data, not the module's one-time cost.
    interactionsParquet(csrFromTriples(2, 2, [0, 1], [1, 0], [1, 1]))
    const gc = (globalThis as { gc?: () => void }).gc
    gc?.()
    writeFileSync('/proc/self/clear_refs', '5')
    // The peak mark now equals the RSS at this moment: the baseline staging adds to.
    const before = vmHwm()
    const started = performance.now()
    let files = 0
    let bytes = 0
    if (mode === 'single') {
      const file = interactionsParquet(m)
      await storage.put('input/interactions.parquet', file)
      files = 1
      bytes = file.byteLength
    } else {
      await writeInteractionParts(storage, 'input/interactions/', m, {
        partRows,
        onPart: (part) => {
          files++
          bytes += part.bytes
        },
      })
    }
    const seconds = (performance.now() - started) / 1000
    const peak = vmHwm()
    const result: Result = {
      mode,
      pairs: nnz(m),
      files,
      bytes,
      seconds,
      rssBeforeMiB: before / MiB,
      peakMiB: peak / MiB,
      stagingMiB: Math.max(0, peak - before) / MiB,
    }
    process.stdout.write(`${JSON.stringify(result)}\n`)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function ensureData(events: number): Promise<string> {
  const path = join(values['data-dir'], `events-${events}.csv`)
  if (existsSync(path)) return path
  await mkdir(values['data-dir'], { recursive: true })
  console.log(`generating ${events.toLocaleString('en-US')} events into ${path} (cached for later runs)…`)
  await writeGeneratedData({ events, seed: 42 }, { path: `${path}.tmp.csv` })
  await rename(`${path}.tmp.csv`, path)
  return path
}

async function main(): Promise<void> {
  if (values.child) return child(values.child, values.input!)
  const input = await ensureData(Number(values.events))
  const self = fileURLToPath(import.meta.url)
  const run = async (mode: string): Promise<Result> => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--expose-gc',
        '--import',
        'tsx',
        self,
        '--child',
        mode,
        '--input',
        input,
        '--part-rows',
        values['part-rows'],
      ],
      { maxBuffer: 1 << 20 },
    )
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as Result
  }
  console.log(
    `Spark input staging, ${Number(values.events).toLocaleString('en-US')} generated events, ${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)}`,
  )
  const results: Result[] = []
  for (let r = 0; r < Number(values.repeat); r++) {
    // Alternate the order so neither mode always runs on a warmer machine.
    for (const mode of r % 2 === 0 ? ['single', 'parts'] : ['parts', 'single']) results.push(await run(mode))
  }
  console.log(
    '| mode | pairs | files | Parquet MiB | seconds | RSS before (MiB) | peak during staging (MiB) | added by staging (MiB) |',
  )
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|')
  for (const x of results)
    console.log(
      `| ${x.mode} | ${x.pairs.toLocaleString('en-US')} | ${x.files} | ${(x.bytes / MiB).toFixed(1)} | ${x.seconds.toFixed(2)} | ${x.rssBeforeMiB.toFixed(0)} | ${x.peakMiB.toFixed(0)} | ${x.stagingMiB.toFixed(0)} |`,
    )
  const median = (mode: string) => {
    const xs = results
      .filter((x) => x.mode === mode)
      .map((x) => x.stagingMiB)
      .sort((a, b) => a - b)
    return xs[Math.floor(xs.length / 2)]!
  }
  console.log(
    `staging memory, parts / single (same run): ${(median('parts') / median('single')).toFixed(2)}× (${median('parts').toFixed(0)} vs ${median('single').toFixed(0)} MiB)`,
  )
}

await main()
