/**
 * Filters and diversity inside the top-K scan (issue 17), 100k items × 64 dims, K = 10: p50/p99
 * per recommendation with no filter (the same-run baseline), a 10 %-selective and a 1 %-selective
 * catalog filter, and diversity on (MMR 0.3 with at most 3 per category through `rankWithRules`,
 * the worker's ranking pipeline: a pool of 50 from the scan, grown when the cap needs more), alone
 * and with 500 new items (content vectors) among the candidates.
 *
 *   npm run bench:filters -w @edgerec/core
 *
 * Synthetic data, fixed seeds; prints a Markdown table.
 *
 * @module
 */
import {
  activeRules,
  blockFromQuantized,
  CatalogTable,
  compileItemFilter,
  cosineOfCandidates,
  indexFilterOf,
  itemReaderFromBlocks,
  mergeCandidates,
  quantizeRows,
  quantizeVector,
  rankWithRules,
  recommendTopK,
} from '../src/index.js'
import { mulberry32 } from '../src/random.test-support.js'

const ITEMS = 100_000
const DIMS = 64
const K = 10
const USERS = 300
const random = mulberry32(17)

const factors = new Float32Array(ITEMS * DIMS)
for (let i = 0; i < factors.length; i++) factors[i] = random() * 2 - 1
const q = quantizeRows(factors, ITEMS, DIMS)
const blocks = [blockFromQuantized(q, 0)]
const table = CatalogTable.fromItems(
  Array.from({ length: ITEMS }, (_, i) => ({
    itemId: `item-${i}`,
    categories: [`c${i % 10}`], // 10 categories: one is 10 % of the catalog
    tags: [`t${(i * 7) % 100}`], // 100 tags: one is 1 %
    price: i % 200,
    available: true,
    createdAt: null,
    attributes: {},
  })),
  0,
)
const views = { viewAt: (i: number) => table.view(i) }
const users = Array.from({ length: USERS }, () => {
  const u = new Float32Array(DIMS)
  for (let d = 0; d < DIMS; d++) u[d] = random() * 2 - 1
  return quantizeVector(u)
})
const readItem = itemReaderFromBlocks(blocks)
const diversityRules = activeRules(undefined, 0, { diversity: 0.3, maxPerCategory: 3 })!
/** 500 new items: content vectors (means of 8 random trained rows), category c<j % 10>. */
const NEW_ITEMS = 500
const newVectors = Array.from({ length: NEW_ITEMS }, () => {
  const v = new Float32Array(DIMS)
  const row = new Float64Array(DIMS)
  for (let n = 0; n < 8; n++) {
    readItem(Math.floor(random() * ITEMS), row)
    for (let d = 0; d < DIMS; d++) v[d]! += row[d]! / 8
  }
  return v
})
const newViews = Array.from({ length: NEW_ITEMS }, (_, j) =>
  CatalogTable.fromItems(
    [
      {
        itemId: `new-${j}`,
        categories: [`c${j % 10}`],
        tags: [],
        price: null,
        available: true,
        createdAt: null,
        attributes: {},
      },
    ],
    0,
  ).view(0),
)

/** The worker's pipeline: candidates (scan ∪ new items) → MMR + cap → top K. */
function diverse(u: (typeof users)[number], withNew: boolean) {
  const fetch = (size: number) => recommendTopK(u, blocks, size)
  let extras: { score: number }[] = []
  if (withNew) {
    const x = Float64Array.from(u.values, (v) => v * u.scale)
    extras = newVectors.map((v) => {
      let s = 0
      for (let d = 0; d < DIMS; d++) s += x[d]! * v[d]!
      return { score: s }
    })
  }
  return rankWithRules(
    diversityRules,
    {
      fetch: mergeCandidates(fetch, extras, ITEMS),
      total: ITEMS + extras.length,
      view: (i) => (i < ITEMS ? table.view(i) : newViews[i - ITEMS]!),
      similarity: cosineOfCandidates(DIMS, (i, out) => {
        if (i < ITEMS) return readItem(i, out)
        out.set(newVectors[i - ITEMS]!)
        return true
      }),
      pinIndex: () => -1,
    },
    K,
  )
}

const tenPercent = indexFilterOf(compileItemFilter({ categories: ['c3'] }), views)
const onePercent = indexFilterOf(compileItemFilter({ tags: ['t42'] }), views)

const scenarios: [string, (u: (typeof users)[number]) => unknown][] = [
  ['no filter (baseline)', (u) => recommendTopK(u, blocks, K)],
  ['10 %-selective filter (category)', (u) => recommendTopK(u, blocks, K, tenPercent)],
  ['1 %-selective filter (tag)', (u) => recommendTopK(u, blocks, K, onePercent)],
  ['diversity on (MMR 0.3, ≤ 3 per category)', (u) => diverse(u, false)],
  ['diversity on + 500 new items among the candidates', (u) => diverse(u, true)],
]

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
}

const rows: string[] = []
let baseline = 0
for (const [name, run] of scenarios) {
  for (const u of users.slice(0, 20)) run(u) // warm-up
  const times: number[] = []
  for (const u of users) {
    const start = performance.now()
    run(u)
    times.push(performance.now() - start)
  }
  times.sort((a, b) => a - b)
  const p50 = percentile(times, 0.5)
  if (baseline === 0) baseline = p50
  rows.push(
    `| ${name} | ${p50.toFixed(2)} | ${percentile(times, 0.99).toFixed(2)} | ${(p50 / baseline).toFixed(2)}× |`,
  )
}
console.log(
  `Filters in the scan: ${ITEMS.toLocaleString('en-US')} items × ${DIMS}, K = ${K}, ${USERS} users (Node ${process.version})\n`,
)
console.log('| recommendation | p50 ms | p99 ms | p50 vs baseline |')
console.log('| --- | ---: | ---: | ---: |')
for (const row of rows) console.log(row)
