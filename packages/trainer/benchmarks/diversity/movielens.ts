/**
 * Diversity offline on MovieLens (issue 17): ALS as in the reference protocol (64 factors, λ 0.05,
 * α 1, 15 iterations, CG 3, temporal last-20 % split, K = 10), movies.csv genres as categories. Each
 * user's best 50 (train items excluded) are reranked with core's `rerank` (the worker's rules code):
 * diversity off (the plain top 10, the same-run baseline), at most 2 per genre, MMR 0.3 and 0.6.
 * Reports ndcg@10, the mean number of distinct genres per list, and genre coverage (share of the
 * catalog's genres appearing in any list).
 *
 *   npm run bench:diversity -w @edgerec/trainer -- /work/shared/data/ml-latest-small
 *
 * Data: MovieLens ml-latest-small (F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens
 * Datasets: History and Context. ACM TiiS 5, 4, Article 19). Not committed.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { rerank, TopK } from '@edgerec/core'
import { trainAls } from '../../src/als/train.js'
import { rankingMetrics } from '../../src/evaluation/metrics.js'
import { splitTemporal } from '../../src/evaluation/split.js'
import { loadRatings } from '../load-ratings.js'

const dir = resolve(
  process.env.INIT_CWD ?? process.cwd(),
  process.argv[2] ?? '/work/shared/data/ml-latest-small',
)
if (!existsSync(join(dir, 'ratings.csv')) || !existsSync(join(dir, 'movies.csv'))) {
  console.error(`${dir} must hold ratings.csv and movies.csv (MovieLens ml-latest-small).`)
  process.exit(2)
}
const K = 10
const POOL = 50

// Item index = rank of the numeric movieId among rated movies (as loadRatings does).
const ratings = readFileSync(join(dir, 'ratings.csv'), 'utf8').split(/\r?\n/).slice(1)
const rated = [...new Set(ratings.filter((l) => l).map((l) => Number(l.split(',')[1])))].sort((a, b) => a - b)
const genresByMovie = new Map<number, string[]>()
for (const line of readFileSync(join(dir, 'movies.csv'), 'utf8').split(/\r?\n/).slice(1)) {
  if (!line) continue
  const id = Number(line.slice(0, line.indexOf(',')))
  const genres = line.slice(line.lastIndexOf(',') + 1).trim()
  genresByMovie.set(id, genres === '(no genres listed)' ? [] : genres.split('|'))
}
const genres = rated.map((id) => genresByMovie.get(id) ?? [])
const allGenres = new Set(genres.flat())

const data = loadRatings(join(dir, 'ratings.csv'))
const { train, test } = splitTemporal(data, 0.2)
const started = performance.now()
const model = await trainAls(train, {
  factors: 64,
  regularization: 0.05,
  alpha: 1,
  iterations: 15,
  cgSteps: 3,
  seed: 42,
})
const trainSeconds = (performance.now() - started) / 1000
const dims = model.factors
const y = model.itemFactors
const norms = Float64Array.from({ length: model.items }, (_, i) => {
  let s = 0
  for (let d = 0; d < dims; d++) s += y[i * dims + d]! ** 2
  return Math.sqrt(s)
})
const cosine = (a: number, b: number): number => {
  let s = 0
  for (let d = 0; d < dims; d++) s += y[a * dims + d]! * y[b * dims + d]!
  return norms[a]! > 0 && norms[b]! > 0 ? s / (norms[a]! * norms[b]!) : 0
}

/** The user's best POOL items by float32 score, train items excluded. */
function pool(u: number): { index: number; score: number }[] {
  const seen = new Set<number>()
  for (let j = train.indptr[u]!; j < train.indptr[u + 1]!; j++) seen.add(train.indices[j]!)
  const top = new TopK(POOL)
  const x = model.userFactors.subarray(u * dims, (u + 1) * dims)
  for (let i = 0; i < model.items; i++) {
    if (seen.has(i)) continue
    let s = 0
    for (let d = 0; d < dims; d++) s += x[d]! * y[i * dims + d]!
    top.push(i, s)
  }
  const r = top.result()
  return Array.from(r.indices, (index, n) => ({ index, score: r.scores[n]! }))
}

const pools = new Map<number, { index: number; score: number }[]>()
const poolOf = (u: number) => {
  let p = pools.get(u)
  if (!p) {
    p = pool(u)
    pools.set(u, p)
  }
  return p
}
const categories = (i: number) => genres[i]!

const variants: [string, (u: number) => number[]][] = [
  [
    'diversity off (baseline)',
    (u) =>
      poolOf(u)
        .slice(0, K)
        .map((c) => c.index),
  ],
  ['≤ 2 per genre', (u) => rerank(poolOf(u), K, { categories, maxPerCategory: 2 }).picks.map((c) => c.index)],
  [
    'MMR diversity 0.3',
    (u) => rerank(poolOf(u), K, { diversity: 0.3, similarity: cosine }).picks.map((c) => c.index),
  ],
  [
    'MMR diversity 0.6',
    (u) => rerank(poolOf(u), K, { diversity: 0.6, similarity: cosine }).picks.map((c) => c.index),
  ],
]

console.log(
  `# MovieLens ml-latest-small: ${data.rows} users × ${data.cols} movies, temporal last 20 %, K = ${K}, pool ${POOL}; ALS 64 factors trained in ${trainSeconds.toFixed(1)} s\n`,
)
console.log('| list | ndcg@10 | distinct genres per list | genre coverage | item coverage |')
console.log('| --- | ---: | ---: | ---: | ---: |')
for (const [name, list] of variants) {
  let distinct = 0
  let lists = 0
  const covered = new Set<string>()
  const metrics = rankingMetrics(test, K, (u) => {
    const items = list(u)
    const g = new Set(items.flatMap(categories))
    distinct += g.size
    lists++
    for (const x of g) covered.add(x)
    return items
  })
  console.log(
    `| ${name} | ${metrics.ndcg.toFixed(4)} | ${(distinct / lists).toFixed(2)} | ${covered.size}/${allGenres.size} | ${metrics.coverage.toFixed(4)} |`,
  )
}
