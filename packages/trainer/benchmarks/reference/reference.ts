/**
 * Reference comparison (shared/REFERENCE.md): ml-latest-small, split temporal_last20, 64 factors,
 * λ 0.05, 15 iterations, 3 CG steps, K = 10, averaged over several seeds, for rating and binary
 * confidence at alpha 1 and 40, printed next to the `implicit` library's figures; then the
 * offline fold-in check of issue 7 (rating, alpha 1).
 *
 * Usage: npm run reference -w @edgerec/trainer -- <ml-latest-small dir | ratings.csv> [--seeds 5] [--threads 0] [--implicit]
 * (relative paths are resolved from the directory npm was started in).
 *
 * `--implicit` then runs the same protocol on the reference library itself, built from source
 * (build-implicit.sh; quality_implicit.py, seeds 0…n−1), in the same run, and prints its rows.
 *
 * @module
 */
import { execFile } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import type { MetricSet } from '@edgerec/core'
import { createRng } from '../../src/als/random.js'
import { trainAls } from '../../src/als/train.js'
import type { CsrMatrix } from '../../src/data/matrix.js'
import { type EvaluationReport, popularityMetrics, runEvaluation } from '../../src/evaluation/evaluate.js'
import { foldInMetrics, restrictRows } from '../../src/evaluation/fold-in.js'
import { splitTemporal } from '../../src/evaluation/split.js'
import { loadRatings } from '../load-ratings.js'

interface ReferenceRow {
  confidence: 'rating' | 'binary' | '–'
  alpha: number | undefined
  model: 'ALS float32' | 'ALS int8' | 'popularity'
  precision: number
  map: number
  ndcg: number
  auc: number
  recall: number
  ndcgMean?: number
  ndcgSd?: number
}

/** shared/REFERENCE.md, verbatim. */
const REFERENCE: ReferenceRow[] = [
  {
    confidence: 'rating',
    alpha: 1,
    model: 'ALS float32',
    precision: 0.1121,
    map: 0.0475,
    ndcg: 0.1069,
    auc: 0.5323,
    recall: 0.0655,
    ndcgMean: 0.1065,
    ndcgSd: 0.0028,
  },
  {
    confidence: 'rating',
    alpha: 1,
    model: 'ALS int8',
    precision: 0.1112,
    map: 0.0475,
    ndcg: 0.1066,
    auc: 0.532,
    recall: 0.065,
  },
  {
    confidence: 'rating',
    alpha: 40,
    model: 'ALS float32',
    precision: 0.0986,
    map: 0.0406,
    ndcg: 0.094,
    auc: 0.5295,
    recall: 0.06,
    ndcgMean: 0.0865,
    ndcgSd: 0.0049,
  },
  {
    confidence: 'binary',
    alpha: 1,
    model: 'ALS float32',
    precision: 0.1119,
    map: 0.048,
    ndcg: 0.1073,
    auc: 0.5314,
    recall: 0.0637,
    ndcgMean: 0.1078,
    ndcgSd: 0.0019,
  },
  {
    confidence: 'binary',
    alpha: 40,
    model: 'ALS float32',
    precision: 0.0992,
    map: 0.0434,
    ndcg: 0.0965,
    auc: 0.5296,
    recall: 0.0601,
    ndcgMean: 0.0908,
    ndcgSd: 0.0038,
  },
  {
    confidence: '–',
    alpha: undefined,
    model: 'popularity',
    precision: 0.0853,
    map: 0.0424,
    ndcg: 0.0867,
    auc: 0.5194,
    recall: 0.0398,
  },
]

const { values, positionals } = parseArgs({
  options: {
    seeds: { type: 'string', default: '5' },
    threads: { type: 'string', default: '0' },
    implicit: { type: 'boolean' },
  },
  allowPositionals: true,
})
const given = positionals[0]
if (!given) {
  console.error(
    'usage: npm run reference -w @edgerec/trainer -- <ml-latest-small dir | ratings.csv> [--seeds 5] [--threads 0]',
  )
  process.exit(2)
}
let path = resolve(process.env.INIT_CWD ?? process.cwd(), given)
if (existsSync(path) && statSync(path).isDirectory()) path = join(path, 'ratings.csv')
if (!existsSync(path)) {
  console.error(`${path} does not exist. Pass the ml-latest-small folder or its ratings.csv.`)
  process.exit(2)
}
const seedCount = Number(values.seeds)
const threads = Number(values.threads)
const seeds = Array.from({ length: seedCount }, (_, j) => 42 + j)

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
const sd = (xs: number[]): number => {
  const m = mean(xs)
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1))
}
const f4 = (x: number): string => x.toFixed(4)
const KEYS = ['precision', 'map', 'ndcg', 'auc', 'recall'] as const

const als = { factors: 64, regularization: 0.05, iterations: 15, cgSteps: 3, threads }
const lines: string[] = []
const out = (line = ''): void => {
  lines.push(line)
  console.log(line)
}

out(
  `# ml-latest-small, temporal_last20, K = 10, ${seeds.length} seeds (${seeds.join(', ')}), 64 factors, λ 0.05, 15 iterations, CG 3 steps`,
)
out()
out(
  'Each edgerec cell: mean over seeds (reference figure in parentheses). ndcg over seeds: mean ± sd over the seeds.',
)
out()
out(
  '| confidence | alpha | model | precision | map | ndcg | auc | recall | ndcg over seeds (edgerec) | ndcg over seeds (reference) | inside ref. mean ± 3 sd |',
)
out('|---|---|---|---|---|---|---|---|---|---|---|')

const data: Record<'rating' | 'binary', CsrMatrix> = {
  rating: loadRatings(path, false),
  binary: loadRatings(path, true),
}
const runs = new Map<string, EvaluationReport[]>()
let allInside = true
let worstInt8 = 0
let worstInt8Map = 0
for (const ref of REFERENCE) {
  if (ref.model === 'popularity') {
    const p = runs.get('rating 1')![0]!.models.popularity
    out(
      `| – | – | popularity | ${KEYS.map((key) => `${f4(p[key])} (${f4(ref[key])})`).join(' | ')} | – | – | ${KEYS.every((key) => Math.abs(p[key] - ref[key]) < 5e-5) ? 'identical to the reference' : 'DIFFERS'} |`,
    )
    continue
  }
  const id = `${ref.confidence} ${ref.alpha}`
  if (!runs.has(id)) {
    const started = performance.now()
    const reports: EvaluationReport[] = []
    for (const seed of seeds) {
      reports.push(
        await runEvaluation(data[ref.confidence as 'rating' | 'binary'], {
          split: 'temporal',
          testFraction: 0.2,
          k: 10,
          seed,
          als: { ...als, alpha: ref.alpha!, seed },
        }),
      )
    }
    runs.set(id, reports)
    console.error(`${id}: ${seeds.length} seeds in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  }
  const reports = runs.get(id)!
  const which = ref.model === 'ALS int8' ? 'als_int8' : 'als'
  const pick = (key: (typeof KEYS)[number]): number => mean(reports.map((r) => r.models[which][key]))
  const ndcgs = reports.map((r) => r.models[which].ndcg)
  let verdict = ''
  if (ref.ndcgMean !== undefined && ref.ndcgSd !== undefined) {
    const inside = ndcgs.every((x) => Math.abs(x - ref.ndcgMean!) <= 3 * ref.ndcgSd!)
    allInside &&= inside
    verdict = `${inside ? 'yes' : 'NO'} (every seed)`
  } else {
    verdict = `largest Δ ndcg int8 vs float32: ${f4(Math.max(...reports.map((r) => Math.abs(r.models.als_int8.ndcg - r.models.als.ndcg))))}`
  }
  const spread = `${f4(mean(ndcgs))} ± ${f4(sd(ndcgs))} | ${ref.ndcgMean === undefined ? '–' : `${f4(ref.ndcgMean)} ± ${f4(ref.ndcgSd!)}`}`
  out(
    `| ${ref.confidence} | ${ref.alpha} | ${ref.model} | ${KEYS.map((key) => `${f4(pick(key))} (${f4(ref[key])})`).join(' | ')} | ${spread} | ${verdict} |`,
  )
}
for (const reports of runs.values()) {
  for (const r of reports) {
    worstInt8 = Math.max(worstInt8, Math.abs(r.models.als_int8.ndcg - r.models.als.ndcg))
    worstInt8Map = Math.max(worstInt8Map, Math.abs(r.models.als_int8.map - r.models.als.map))
  }
}
out()
out('int8 vs float32 on every configuration and seed above:')
out()
out(
  '| confidence | alpha | ndcg float32 | ndcg int8 | worst \\|Δ ndcg\\| | map float32 | map int8 | worst \\|Δ map\\| | map over seeds (edgerec) | map (reference, one run) |',
)
out('|---|---|---|---|---|---|---|---|---|---|')
for (const [id, reports] of runs) {
  const [confidence, alpha] = id.split(' ')
  const f = (m: 'als' | 'als_int8', key: 'ndcg' | 'map'): number => mean(reports.map((r) => r.models[m][key]))
  const worst = (key: 'ndcg' | 'map'): number =>
    Math.max(...reports.map((r) => Math.abs(r.models.als_int8[key] - r.models.als[key])))
  const maps = reports.map((r) => r.models.als.map)
  const ref = REFERENCE.find(
    (x) => x.confidence === confidence && x.alpha === Number(alpha) && x.model === 'ALS float32',
  )!
  out(
    `| ${confidence} | ${alpha} | ${f4(f('als', 'ndcg'))} | ${f4(f('als_int8', 'ndcg'))} | ${f4(worst('ndcg'))} | ${f4(f('als', 'map'))} | ${f4(f('als_int8', 'map'))} | ${f4(worst('map'))} | ${f4(mean(maps))} ± ${f4(sd(maps))} | ${f4(ref.map)} |`,
  )
}
out()
out(
  `All ALS float32 ndcg@10 (every seed, every configuration) inside the reference mean ± 3 sd: ${allInside ? 'yes' : 'NO'}.`,
)
out(
  `Worst |int8 − float32| over all runs: ndcg ${f4(worstInt8)}, map ${f4(worstInt8Map)} (reference: ≤ 0.0008).`,
)

// Issue 7, offline: fold-in vs trained vs popularity on the same split (rating, alpha 1).
out()
out('## Fold-in (issue 7), rating confidence, alpha 1, same split')
out()
out(
  "A: every test user's trained vector is replaced by a fold-in from their train interactions (items trained with all users).",
)
out(
  'B: a seeded half of the users is left out of training entirely (their rows removed), then folded in from their train interactions;',
)
out(
  '   compared with the model trained on everyone, on the same users. Fold-in uses the exported int8 items and YᵀY + λI of the',
)
out(
  '   dequantized items, solved exactly (core foldInUser), ranked with int8 scores, as the edge worker does.',
)
out()
out(
  '| variant | users | fold-in ndcg | trained ndcg | popularity ndcg | fold-in map | trained map | popularity map | cosine(fold-in, trained) |',
)
out('|---|---|---|---|---|---|---|---|---|')
const { train, test } = splitTemporal(data.rating, 0.2)
const variantA: { f: MetricSet; t: MetricSet; p: MetricSet; users: number; cos: number }[] = []
const variantB: typeof variantA = []
for (const seed of seeds) {
  const model = await trainAls(train, { ...als, alpha: 1, seed })
  const a = foldInMetrics(model, train, test, { k: 10, regularization: 0.05, alpha: 1 })
  variantA.push({
    f: a.foldIn,
    t: a.trained,
    p: popularityMetrics(train, test, 10),
    users: a.users,
    cos: a.meanCosine,
  })
  const rng = createRng(seed)
  const cold = new Uint8Array(train.rows)
  for (let u = 0; u < train.rows; u++) cold[u] = rng.next() < 0.5 ? 1 : 0
  const coldTrain = restrictRows(
    train,
    Uint8Array.from(cold, (c) => 1 - c),
  )
  const coldModel = await trainAls(coldTrain, { ...als, alpha: 1, seed })
  // The cold model has zero vectors for the cold users; fold them in from their train rows.
  const b = foldInMetrics(coldModel, train, test, { k: 10, regularization: 0.05, alpha: 1, users: cold })
  const full = foldInMetrics(model, train, test, { k: 10, regularization: 0.05, alpha: 1, users: cold })
  variantB.push({
    f: b.foldIn,
    t: full.trained,
    p: popularityMetrics(train, restrictRows(test, cold), 10),
    users: b.users,
    cos: full.meanCosine,
  })
}
for (const [name, rows] of [
  ['A: test users folded in', variantA],
  ['B: half the users unseen in training', variantB],
] as const) {
  const m = (get: (r: (typeof rows)[number]) => number): string => f4(mean(rows.map(get)))
  out(
    `| ${name} | ${mean(rows.map((r) => r.users)).toFixed(1)} | ${m((r) => r.f.ndcg)} | ${m((r) => r.t.ndcg)} | ${m((r) => r.p.ndcg)} | ${m((r) => r.f.map)} | ${m((r) => r.t.map)} | ${m((r) => r.p.map)} | ${name.startsWith('A') ? m((r) => r.cos) : '–'} |`,
  )
}

if (values.implicit) {
  // The reference library on the same file, same protocol, same run (benchmarks/reference/README.md).
  const { builtReference, implicitPath } = await import('./compare.js')
  const dir = implicitPath()
  const reference = builtReference(dir)
  out()
  if (!reference) {
    out(
      `reference not built: run packages/trainer/benchmarks/reference/build-implicit.sh <implicit git dir or source tree> v0.7.2 ${dir} (see packages/trainer/benchmarks/reference/README.md); no implicit rows in this run.`,
    )
  } else {
    out(
      `## implicit ${reference.version} (built from source in ${dir}), same protocol, same run, seeds 0–${seedCount - 1}`,
    )
    out()
    out('| confidence | alpha | model | seed 0: precision | map | ndcg | auc | recall | ndcg over seeds |')
    out('|---|---|---|---|---|---|---|---|---|')
    const script = fileURLToPath(new URL('./quality_implicit.py', import.meta.url))
    const { stdout } = await promisify(execFile)(
      reference.python,
      [script, path, '--seeds', String(seedCount)],
      {
        env: { ...process.env, PYTHONPATH: dir, OPENBLAS_NUM_THREADS: '1' },
        maxBuffer: 1 << 22,
      },
    )
    for (const line of stdout.split('\n')) {
      if (!line.startsWith('{')) continue
      const r = JSON.parse(line) as {
        confidence: string
        alpha: number
        model: string
        seed0: Record<(typeof KEYS)[number], number>
        ndcgMean: number
        ndcgSd: number
      }
      out(
        `| ${r.confidence} | ${r.alpha} | ${r.model} | ${KEYS.map((k) => f4(r.seed0[k])).join(' | ')} | ${f4(r.ndcgMean)} ± ${f4(r.ndcgSd)} |`,
      )
    }
  }
}
