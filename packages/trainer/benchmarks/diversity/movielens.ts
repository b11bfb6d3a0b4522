/**
 * Diversity offline on MovieLens (issue 17): ALS as in the reference protocol (64 factors, λ 0.05,
 * α 1, 15 iterations, CG 3, temporal last-20 % split, K = 10), movies.csv genres as categories. Each
 * user's list goes through core's `rankWithRules` (the worker's and the batch's ranking pipeline: a
 * pool of the best 50, train items excluded, grown when a cap needs more): diversity off (the plain
 * top 10, the same-run baseline), at most 2 per genre, MMR 0.3 and 0.6.
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
import {
  activeRules,
  cosineOfCandidates,
  type ItemView,
  MIN_RULE_POOL,
  rankWithRules,
  TopK,
  type TopKResult,
  viewOfItem,
} from '@edgerec/core'
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
/** The user's best `size` items by float32 score, train items excluded. */
function scan(u: number, size: number): TopKResult {
  const seen = new Set<number>()
  for (let j = train.indptr[u]!; j < train.indptr[u + 1]!; j++) seen.add(train.indices[j]!)
  const top = new TopK(size)
  const x = model.userFactors.subarray(u * dims, (u + 1) * dims)
  for (let i = 0; i < model.items; i++) {
    if (seen.has(i)) continue
    let s = 0
    for (let d = 0; d < dims; d++) s += x[d]! * y[i * dims + d]!
    top.push(i, s)
  }
  return top.result()
}

/** The largest scan per user so far, sliced for smaller sizes (the same top, best first). */
const scans = new Map<number, TopKResult>()
const fetchOf = (u: number) => (size: number) => {
  let r = scans.get(u)
  if (!r || r.indices.length < Math.min(size, model.items)) {
    r = scan(u, size)
    scans.set(u, r)
  }
  return { indices: r.indices.subarray(0, size), scores: r.scores.subarray(0, size) }
}
const views: ItemView[] = Array.from({ length: model.items }, (_, i) =>
  viewOfItem({
    itemId: String(i),
    categories: genres[i]!,
    tags: [],
    price: null,
    available: true,
    createdAt: null,
    attributes: {},
  }),
)
const categories = (i: number) => genres[i]!

/** The pipeline with `overrides` as the request's `maxPerCategory=` / `diversity=`. */
const ranked =
  (overrides: { maxPerCategory?: number; diversity?: number }) =>
  (u: number): number[] => {
    const top = rankWithRules(
      activeRules(undefined, 0, overrides)!,
      {
        fetch: fetchOf(u),
        total: model.items,
        view: (i) => views[i]!,
        similarity: cosineOfCandidates(dims, (i, out) => {
          out.set(y.subarray(i * dims, (i + 1) * dims))
          return true
        }),
        pinIndex: () => -1,
      },
      K,
    )
    return Array.from(top.indices)
  }

const variants: [string, (u: number) => number[]][] = [
  ['diversity off (baseline)', (u) => Array.from(fetchOf(u)(K).indices)],
  ['≤ 2 per genre', ranked({ maxPerCategory: 2 })],
  ['MMR diversity 0.3', ranked({ diversity: 0.3 })],
  ['MMR diversity 0.6', ranked({ diversity: 0.6 })],
]

console.log(
  `# MovieLens ml-latest-small: ${data.rows} users × ${data.cols} movies, temporal last 20 %, K = ${K}, pool ${MIN_RULE_POOL} (grown when a cap needs more); ALS 64 factors trained in ${trainSeconds.toFixed(1)} s\n`,
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
