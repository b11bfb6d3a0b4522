/**
 * edgerec's ALS against the reference library `implicit` 0.7.2, built from source
 * (build-implicit.sh), measured in the same run on the same file: the reference's speed-test
 * matrix (shared/REFERENCE.md: 200k users × 50k items, 4,771,749 pairs, values 1/2/4/8) as a
 * `userId,itemId,value` CSV. Each run is a fresh process that loads the CSV the way its users do
 * (edgerec: `loadFromConfig` with `loadedMatrixAllocator`, as `edgerec-train train --input`, so the
 * matrix is built in the ALS memory; implicit: pandas
 * `read_csv` → scipy CSR float32) and fits 64 factors, λ 0.05, alpha 1, CG 3 steps; edgerec and
 * implicit alternate, per thread count and round. Each prints load seconds, seconds and CPU
 * seconds per iteration, and the peak resident memory of the load phase, of the fit phase (peak
 * counter reset in between through /proc/self/clear_refs) and of the whole process.
 *
 * Reached through `npm run bench:als-memory -w @edgerec/trainer -- --reference` and
 * `npm run bench -w @edgerec/trainer -- --reference` (options below after `--reference`). When the
 * built reference is not found it says how to build it and returns: benchmarks never fail for it.
 *
 * Options: [--threads 1,2] [--iterations 3] [--rounds 1] [--data-dir DIR] [--implicit DIR] [--copy-baseline]
 *
 * `--copy-baseline` adds a third process per thread count and round, `edgerec-copy`: edgerec with
 * the loaded matrix in ordinary arrays that `trainAls` copies into its memory (the loader before
 * issue 14's allocator hook), as the same-run baseline of that change.
 *
 * @module
 */
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { cpus, homedir, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import { DEFAULT_DATA_DIR, ensureReferenceRatingsCsv } from '../ratings-csv.js'

const exec = promisify(execFile)

/** One process's figures (edgerec-als.mjs and implicit_als.py print the same fields). */
export interface ReferenceRun {
  library: string
  threads: number
  pairs: number
  /** Resident memory of the runtime and its modules before the load, MiB. */
  modulesMiB: number
  loadSeconds: number
  loadPeakMiB: number
  secondsPerIteration: number
  cpuSecondsPerIteration: number
  iterations: number
  /** Resident memory when the fit started (the loaded matrix and what the load left), MiB. */
  fitStartMiB: number
  fitPeakMiB: number
  peakMiB: number
}

/** Where the built reference lives: `--implicit`, `EDGEREC_IMPLICIT_PATH`, or the build script's default. */
export function implicitPath(explicit?: string): string {
  return (
    explicit ?? process.env.EDGEREC_IMPLICIT_PATH ?? join(homedir(), '.cache', 'edgerec', 'implicit-0.7.2')
  )
}

/** The Python the reference was built for (recorded by build-implicit.sh), if the build is complete. */
export function builtReference(dir: string): { python: string; version: string } | undefined {
  const marker = join(dir, 'implicit', 'cpu', 'als.py')
  if (!existsSync(marker) || !existsSync(join(dir, 'python'))) return undefined
  const python = readFileSync(join(dir, 'python'), 'utf8').trim()
  const version = existsSync(join(dir, 'version')) ? readFileSync(join(dir, 'version'), 'utf8').trim() : '?'
  return { python, version }
}

const here = fileURLToPath(new URL('.', import.meta.url))
const gib = (mib: number): string => `${(mib / 1024).toFixed(2)} GiB`
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Runs the comparison with command-line `args` (those after `--reference`). */
export async function compareWithImplicit(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      reference: { type: 'boolean' },
      threads: { type: 'string', default: '1,2' },
      iterations: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '1' },
      'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
      implicit: { type: 'string' },
      'copy-baseline': { type: 'boolean', default: false },
    },
  })
  const dir = implicitPath(values.implicit)
  const reference = builtReference(dir)
  if (!reference) {
    console.log(
      `reference not built: run packages/trainer/benchmarks/reference/build-implicit.sh <implicit git dir or source tree> v0.7.2 ${dir}` +
        ' (needs: apt-get install -y cython3 g++ python3-dev python3-numpy python3-scipy python3-pandas python3-tqdm python3-threadpoolctl;' +
        ' see packages/trainer/benchmarks/reference/README.md), or point EDGEREC_IMPLICIT_PATH at a build. Nothing was compared.',
    )
    return
  }
  const dist = new URL('../../dist/als/index.js', import.meta.url)
  if (!existsSync(dist)) {
    console.log(
      'the trainer is not built: run npm run build -w @edgerec/trainer first. Nothing was compared.',
    )
    return
  }
  const threads = values.threads.split(',').map(Number)
  const iterations = values.iterations
  const rounds = Number(values.rounds)
  const csv = await ensureReferenceRatingsCsv(values['data-dir'])

  console.log(
    `edgerec vs implicit ${reference.version} (built from source in ${dir}, run with ${reference.python}), same file, same run: ${csv}`,
  )
  console.log(
    `CPU ${cpus()[0]?.model ?? '?'} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, load average at start ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} (other processes slow the wall-time figures; CPU seconds are steadier)`,
  )
  console.log(
    `64 factors, λ 0.05, alpha 1, CG 3 steps, ${iterations} iterations per process, threads ${threads.join(', ')}, ${rounds} round(s), edgerec and implicit alternating`,
  )

  const runEdgerec = async (t: number, copy = false): Promise<ReferenceRun> => {
    const { stdout } = await exec(
      process.execPath,
      [
        join(here, 'edgerec-als.mjs'),
        csv,
        '--threads',
        String(t),
        '--iterations',
        iterations,
        ...(copy ? ['--copy'] : []),
      ],
      { maxBuffer: 1 << 22 },
    )
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as ReferenceRun
  }
  const runImplicit = async (t: number): Promise<ReferenceRun> => {
    const { stdout } = await exec(
      reference.python,
      [join(here, 'implicit_als.py'), csv, '--threads', String(t), '--iterations', iterations],
      {
        maxBuffer: 1 << 22,
        // implicit's own advice: one BLAS thread, the parallelism is its OpenMP loop over rows.
        env: { ...process.env, PYTHONPATH: dir, OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
      },
    )
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as ReferenceRun
  }

  const print = (name: string, r: ReferenceRun, round: number): void =>
    console.log(
      `  ${r.threads} thread(s), round ${round + 1}: ${name.padEnd(14)} load ${r.loadSeconds.toFixed(2)} s (peak ${gib(r.loadPeakMiB)}), ` +
        `ALS ${r.secondsPerIteration.toFixed(2)} s/iteration, ${r.cpuSecondsPerIteration.toFixed(2)} CPU s/iteration, ` +
        `fit peak ${gib(r.fitPeakMiB)} (from ${gib(r.fitStartMiB)} at its start), whole-process peak ${gib(r.peakMiB)}`,
    )
  const names = values['copy-baseline'] ? ['edgerec', 'implicit', 'edgerec-copy'] : ['edgerec', 'implicit']
  const runs = new Map<string, ReferenceRun[]>()
  const libraries: string[] = []
  for (const t of threads) {
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? [...names] : [...names].reverse()
      for (const name of order) {
        const r = name === 'implicit' ? await runImplicit(t) : await runEdgerec(t, name === 'edgerec-copy')
        print(name, r, round)
        if (!libraries.includes(r.library)) libraries.push(r.library)
        const key = `${name}:${t}`
        runs.set(key, [...(runs.get(key) ?? []), r])
      }
    }
  }

  const med = (name: string, t: number, field: keyof ReferenceRun): number =>
    median((runs.get(`${name}:${t}`) ?? []).map((r) => r[field] as number))
  console.log(`\nsummary (medians over rounds; ${libraries.join('; ')})`)
  console.log(
    '| threads | library | load s | load peak | s / iteration | CPU s / iteration | fit peak | whole-process peak |',
  )
  console.log('|---|---|---|---|---|---|---|---|')
  for (const t of threads) {
    for (const name of names) {
      console.log(
        `| ${t} | ${name} | ${med(name, t, 'loadSeconds').toFixed(2)} | ${gib(med(name, t, 'loadPeakMiB'))} | ${med(name, t, 'secondsPerIteration').toFixed(2)} | ${med(name, t, 'cpuSecondsPerIteration').toFixed(2)} | ${gib(med(name, t, 'fitPeakMiB'))} | ${gib(med(name, t, 'peakMiB'))} |`,
      )
    }
    for (const base of names.slice(1)) {
      const ratio = (field: keyof ReferenceRun): string =>
        `${(med('edgerec', t, field) / med(base, t, field)).toFixed(2)}×`
      console.log(
        `| ${t} | edgerec ÷ ${base} | ${ratio('loadSeconds')} | ${ratio('loadPeakMiB')} | ${ratio('secondsPerIteration')} | ${ratio('cpuSecondsPerIteration')} | ${ratio('fitPeakMiB')} | ${ratio('peakMiB')} |`,
      )
    }
  }
  console.log(
    `(ratios < 1 mean edgerec is faster or leaner; load average at the end ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')})`,
  )
}
