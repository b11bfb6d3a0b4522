/**
 * Serving benchmark of the edge worker under `wrangler dev` (issue 4 and 7 measured outcomes).
 *
 * 1. Builds a 100k-item × 64-dim model (random factors, 20k users in 8 buckets) with core's encoder.
 * 2. Publishes it into a fresh local persistence directory with wrangler's own commands
 *    (`wrangler kv bulk put --local`, `wrangler r2 object put --local`) and applies the D1
 *    migrations (`wrangler d1 migrations apply --local`).
 * 3. Starts `wrangler dev --ip 127.0.0.1 --port <any free port> --persist-to <dir>` as a
 *    child process and measures from this (separate) process:
 *    - cold start: first recommendation request of a fresh `wrangler dev` (model not loaded), 3 runs;
 *    - ingestion: `POST /v1/events` with 500-event batches, and the same batches retried;
 *    - memory: the isolate's heap (inspector `Runtime.getHeapUsage`) before and after the model loads;
 *    - sequential latency (one request at a time, `performance.now()`, routes interleaved): health (the
 *      framework's floor), recommendations for model users, fold-in users (20 new events each),
 *      unknown users, and heavy fold-in users (2000 events each, of which the newest 200 are read);
 *    - autocannon at a fixed rate and at full speed: p50/p99 and requests/s.
 *
 * Run: `npm run bench -w @edgerec/edge-worker` (options: `--duration <s>`, `--rate <req/s>`,
 * `--sequential <requests per route>`, `--no-rate-limits` to leave the limiter bindings out,
 * `--items <n>` for another catalog size, `--no-catalog` to publish versions without their catalog,
 * which is otherwise split into catalog shards as the trainer exports it, at any size).
 *
 * `npm run bench -w @edgerec/edge-worker -- --memory [--items 1000000] [--budget 127]` (issue 16)
 * measures the isolate heap with a version loaded and during a swap to a second one.
 *
 * `--partitions` (issue 16, with `--scoring` or `--memory`): a partitioned version whose lists the
 * worker fetches on demand (ranged R2 reads into `PARTITION_CACHE_MIB`, `--partition-cache <MiB>`;
 * lists up to `--read-gap <KiB>` apart in one read, `PARTITION_READ_GAP_KIB`), partitioned by the
 * trainer's k-means (`--generator-partitions`: by the generating clusters instead). With
 * `--scoring`, `--read-gap 256,1024` and `--partition-cache 8,32` run one `wrangler dev` per
 * combination on the same version; `SERVER_TIMING=on` makes the model route's phases printed.
 *
 * `npm run bench -w @edgerec/edge-worker -- --catalog` (issue 17): filters, diversity and PUT → first
 * appearance of a new item (see `catalogBenchmark`).
 *
 * `npm run bench -w @edgerec/edge-worker -- --scoring` (issue 16) runs only the scoring comparison:
 * one `wrangler dev` per `SCORING_KERNEL` (`auto` = Wasm SIMD, `js`), each measuring the trivial
 * route (health) and the model route interleaved, then autocannon at full speed on both.
 *
 * `npm run bench -w @edgerec/edge-worker -- --openapi [--baseline <git ref>]` (issue 19) compares this
 * worker with the one of the baseline ref (default: before the OpenAPI layer): p50/p99 of GET
 * recommendations and POST /v1/events, interleaved, and the bundle sizes (see `openApiComparison`).
 *
 * `npm run bench -w @edgerec/edge-worker -- --rec-ids [--baseline <git ref>]` compares the worker
 * before signed recIds with this one: GET recommendations, POST /v1/impressions and POST /v1/events
 * carrying the recId, interleaved (see `recIdComparison`).
 *
 * `npm run bench -w @edgerec/edge-worker -- --experiment` (issue 15) runs only the experiment-path
 * comparison: three `wrangler dev` at once on copies of the same state — `RECORD_LISTS=off` and no
 * experiment (the baseline), served lists recorded and no experiment, served lists recorded and a
 * running two-variant experiment (both variants score with the live model, so the only difference is
 * assignment + recId + list logging) — measured interleaved, then autocannon at full speed on each.
 *
 * `npm run bench -w @edgerec/edge-worker -- --shadow` (issue 15) runs only the shadow-mode cost: two
 * `wrangler dev` at once on copies of the same state, without a shadow (the baseline) and with a
 * shadow at sample 1.0 on recommendations and one on similar (the live model as its own candidate, so
 * every request is scored twice: once served, once after the answer), GET recommendations and GET
 * similar measured interleaved over both (p50/p99, paired median), then autocannon on each.
 *
 * @module
 */
import { execFile } from 'node:child_process'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import {
  alignedCatalogByteLength,
  blockFromQuantized,
  buildCandidateLists,
  bundledInt8KernelBytes,
  CatalogTable,
  candidateNprobe,
  catalogShardKey,
  catalogShardRefs,
  checkSwapMemory,
  chooseNprobe,
  createInt8Kernel,
  encodeCatalogColumns,
  encodePartitionLists,
  encodeShard,
  type Int8Vector,
  itemShardKey,
  LIVE_POINTER_KEY,
  layoutPartitionLists,
  MANIFEST_FORMAT_VERSION,
  type ModelManifest,
  manifestKey,
  mulberry32,
  type PartitionIndex,
  partitionListsKey,
  planItemShards,
  planModelMemory,
  planPartitionIndex,
  type QuantizedMatrix,
  quantizeRows,
  quantizeVector,
  recommendTopKProbed,
  type ShardRef,
  singleShardKey,
  splitCatalog,
  userBucket,
  userShardKey,
} from '@edgerec/core'
import autocannon from 'autocannon'
import {
  type DevServer,
  freePort,
  packageDir,
  startWranglerDev,
  stopWranglerDev,
  wranglerBin,
} from './support/wrangler-dev.js'

const run = promisify(execFile)
const KEY = 'pk_bench_publishable'
const SECRET = 'sk_bench_secret'

const args = process.argv.slice(2)
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? Number(args[i + 1]) : fallback
}
/** `--name 256,1024`: several values (each run in turn, same data), else `[fallback]`. */
const options = (name: string, fallback: number): number[] => {
  const i = args.indexOf(`--${name}`)
  return i >= 0
    ? String(args[i + 1])
        .split(',')
        .map(Number)
    : [fallback]
}
const DURATION_S = option('duration', 10)
const RATE = option('rate', 100)
const SEQUENTIAL = option('sequential', 1000)

const ITEMS = option('items', 100_000)
const DIMS = 64
const USERS = option('users', 20_000)
/** Training interactions per user (kept in the user's bucket row). */
const USER_ITEMS = option('user-items', 30)
/**
 * `--partitions`: each user's best items stored in the bucket (issue 16; the trainer's
 * `export.candidates`, default 50 for partitioned versions), probed at 4 × the default nprobe as
 * the trainer does. `--candidates 0` (or `--no-candidates`) publishes buckets without them.
 */
const CANDIDATES = args.includes('--no-candidates') ? 0 : option('candidates', 50)
/**
 * User rows ≈ 64 B factors + 4 B scale + 12 B id + 8 B offsets + 8 B per interaction, and with
 * `--partitions` 4 B offset + 8 B per candidate.
 */
const USER_ROW_BYTES =
  DIMS + 24 + 8 * USER_ITEMS + (args.includes('--partitions') && CANDIDATES > 0 ? 4 + 8 * CANDIDATES : 0)
/** Buckets of about 2 MiB, the trainer's default target (`targetUserShardBytes`), at least 8. */
const BUCKETS = option('buckets', Math.max(8, Math.ceil((USERS * USER_ROW_BYTES) / 2 ** 21)))
/** Large user sets go to R2 (one bulk put) instead of one KV bulk JSON. */
const USER_STORAGE: ShardRef['storage'] = USERS > 100_000 ? 'r2' : 'kv'
const VERSION_1 = '20261124T120000Z-bench000'
const VERSION_2 = '20261124T130000Z-bench001'
const VERSION = VERSION_1
const TRAINED_UNTIL = Date.UTC(2026, 9, 1)
/**
 * `--partitions` (issue 16): clustered item factors (⌈√items⌉ centres), users near an item, and a
 * partitioned version (⌈√items⌉ lists, lists object in R2, nprobe chosen as the trainer does: the
 * smallest power of two reaching recall@10 ≥ 0.95 on 200 sampled users).
 */
const PARTITIONED = args.includes('--partitions')

interface Published {
  kv: { key: string; value: string; base64?: boolean }[]
  r2: { key: string; bytes: Uint8Array }[]
  itemIds: string[]
  manifest: ModelManifest
}

/** Encodes the whole version: items in R2 (large), everything else in KV. */
async function buildModel(VERSION = VERSION_1, seed = 2026, live = true): Promise<Published> {
  const random = mulberry32(seed)
  const itemIds = Array.from({ length: ITEMS }, (_, i) => `sku-${String(i).padStart(6, '0')}`)
  const factors = PARTITIONED
    ? clusteredFactors(mulberry32(2026))
    : Float32Array.from({ length: ITEMS * DIMS }, () => (random() - 0.5) * 0.2)
  const q = quantizeRows(factors, ITEMS, DIMS)
  const out: Published = { kv: [], r2: [], itemIds, manifest: undefined as unknown as ModelManifest }
  const ref = (
    key: string,
    kind: ShardRef['kind'],
    storage: ShardRef['storage'],
    rows: number,
    rowOffset: number,
    e: { bytes: Uint8Array; sha256: string },
  ): ShardRef => {
    if (storage === 'r2') out.r2.push({ key, bytes: e.bytes })
    else out.kv.push({ key, value: Buffer.from(e.bytes).toString('base64'), base64: true })
    return { key, kind, bytes: e.bytes.byteLength, sha256: e.sha256, rows, rowOffset, storage }
  }
  const items: ShardRef[] = []
  // A partitioned version's item shards are ≤ 4 MiB, as the trainer writes them.
  for (const [i, { start, end }] of planItemShards(
    itemIds,
    DIMS,
    PARTITIONED ? 4 << 20 : undefined,
  ).entries()) {
    const part = {
      rows: end - start,
      dims: DIMS,
      values: q.values.subarray(start * DIMS, end * DIMS),
      scales: q.scales.subarray(start, end),
    }
    items.push(
      ref(
        itemShardKey(VERSION, i),
        'items',
        'r2',
        end - start,
        start,
        await encodeShard({ kind: 'items', rowOffset: start, factors: part, ids: itemIds.slice(start, end) }),
      ),
    )
  }
  const buckets: number[][] = Array.from({ length: BUCKETS }, () => [])
  const userIds = Array.from({ length: USERS }, (_, u) => `user-${u}`)
  userIds.forEach((id, u) => {
    buckets[userBucket(id, BUCKETS)]!.push(u)
  })
  const users: ShardRef[] = []
  const counts = new Float32Array(ITEMS)
  // Partitioned: plan the partitions first, so each bucket's candidates can be probed from them.
  const planned = PARTITIONED ? partitionsOf(factors, q, mulberry32(77)) : undefined
  const plannedLists = planned ? layoutPartitionLists(planned.index, [blockFromQuantized(q)]) : undefined
  const candidateKernel = createInt8Kernel(bundledInt8KernelBytes(), { dims: DIMS })
  let candidateMs = 0
  for (const [b, members] of buckets.entries()) {
    const vectors = PARTITIONED
      ? usersNear(factors, members.length, random)
      : Float32Array.from({ length: members.length * DIMS }, () => (random() - 0.5) * 0.2)
    const offsets = new Uint32Array(members.length + 1)
    const itemsOf: number[] = []
    members.forEach((_, r) => {
      for (let j = 0; j < USER_ITEMS; j++) {
        const item = Math.floor(random() ** 2 * ITEMS)
        itemsOf.push(item)
        counts[item] = counts[item]! + 1
      }
      offsets[r + 1] = itemsOf.length
    })
    users.push(
      ref(
        userShardKey(VERSION, b),
        'users',
        USER_STORAGE,
        members.length,
        0,
        await (async () => {
          const userFactors = quantizeRows(vectors, members.length, DIMS)
          const interactions = {
            offsets,
            items: Uint32Array.from(itemsOf),
            confidences: new Float32Array(itemsOf.length).fill(2),
          }
          const started = performance.now()
          const candidates =
            planned && plannedLists && CANDIDATES > 0
              ? buildCandidateLists(userFactors, interactions, CANDIDATES, (user, n, exclude) =>
                  recommendTopKProbed(
                    user,
                    planned.index,
                    plannedLists,
                    candidateNprobe(planned.index.lists, planned.nprobe),
                    n,
                    exclude,
                    candidateKernel,
                  ),
                )
              : undefined
          candidateMs += performance.now() - started
          return encodeShard({
            kind: 'users',
            factors: userFactors,
            ids: members.map((u) => userIds[u]!),
            interactions,
            ...(candidates ? { candidates } : {}),
          })
        })(),
      ),
    )
  }
  const order = Uint32Array.from(itemIds.keys()).sort((a, b) => counts[b]! - counts[a]! || a - b)
  const popularity = ref(
    singleShardKey(VERSION, 'popularity'),
    'popularity',
    'kv',
    ITEMS,
    0,
    await encodeShard({
      kind: 'popularity',
      itemIndexes: order,
      scores: Float32Array.from(order, (i) => counts[i]!),
    }),
  )
  // YᵀY + λI of the dequantized items.
  const gram = new Float64Array(DIMS * DIMS)
  const y = new Float64Array(DIMS)
  for (let r = 0; r < ITEMS; r++) {
    for (let d = 0; d < DIMS; d++) y[d] = q.scales[r]! * q.values[r * DIMS + d]!
    for (let i = 0; i < DIMS; i++) for (let j = 0; j <= i; j++) gram[i * DIMS + j]! += y[i]! * y[j]!
  }
  for (let i = 0; i < DIMS; i++) {
    gram[i * DIMS + i]! += 0.05
    for (let j = 0; j < i; j++) gram[j * DIMS + i] = gram[i * DIMS + j]!
  }
  const gramRef = ref(
    singleShardKey(VERSION, 'gram'),
    'gram',
    'kv',
    DIMS,
    0,
    await encodeShard({ kind: 'gram', dims: DIMS, matrix: Float32Array.from(gram) }),
  )
  // Catalog (issue 17): 10 categories (one is 10 % of the items), 100 tags (one is 1 %), split as
  // the trainer exports it (core's splitCatalog, shards of ≤ 2 MiB = the trainer's
  // CATALOG_SHARD_BYTES), so it is kept at any size (issue 16). `--no-catalog` leaves it out.
  const catalog = args.includes('--no-catalog') ? undefined : await catalogShards()
  async function catalogShards(): Promise<{ refs: ShardRef[]; manifest: ModelManifest['catalog'] }> {
    const split = splitCatalog(
      itemIds.map((itemId, i) => ({
        itemId,
        categories: [`c${i % 10}`],
        tags: [`t${(i * 7) % 100}`],
        price: i % 200,
        available: true,
        createdAt: null,
        attributes: {},
      })),
      2 << 20,
      itemIds,
    )
    // `--wide-catalog`: the manifest without its layout, so the worker holds the catalog in the wide
    // layout of versions exported before it (the same-run baseline of the compact one).
    const { layout, ...wide } = split.manifest
    const manifest: ModelManifest['catalog'] = args.includes('--wide-catalog')
      ? { ...wide, memoryBytes: alignedCatalogByteLength(ITEMS, wide.categoryCodes, wide.tagCodes, 0) }
      : { ...wide, layout }
    const refs: ShardRef[] = []
    for (const [index, { start, end }] of split.ranges.entries()) {
      const columns = CatalogTable.columnsOf(split.items.slice(start, end), TRAINED_UNTIL)
      const json = encodeCatalogColumns(columns)
      const shard = await encodeShard({ kind: 'catalog', rows: end - start, rowOffset: start, json })
      refs.push(ref(catalogShardKey(VERSION, index), 'catalog', 'r2', end - start, start, shard))
    }
    return { refs, manifest }
  }
  const manifest: ModelManifest = {
    formatVersion: MANIFEST_FORMAT_VERSION,
    version: VERSION,
    createdAt: new Date(TRAINED_UNTIL + 3_600_000).toISOString(),
    dims: DIMS,
    counts: { users: USERS, items: ITEMS, interactions: USERS * USER_ITEMS },
    als: { factors: DIMS, regularization: 0.05, alpha: 2, iterations: 15, cgSteps: 3, solver: 'cg', seed: 1 },
    eventWeights: { view: 1, click: 1, add_to_cart: 2, purchase: 4 },
    trainedUntil: TRAINED_UNTIL,
    userBuckets: BUCKETS,
    shards: { items, users, popularity, gram: gramRef, ...(catalog ? { catalog: catalog.refs } : {}) },
    ...(catalog ? { catalog: catalog.manifest } : {}),
  }
  if (planned && plannedLists) {
    const t = performance.now()
    const { index, nprobe, recall, how } = planned
    const encoded = await encodePartitionLists(plannedLists, DIMS)
    manifest.shards.partitions = ref(
      singleShardKey(VERSION, 'partitions'),
      'partitions',
      'r2',
      index.lists,
      0,
      await encodeShard(
        {
          kind: 'partitions',
          dims: DIMS,
          centroids: index.centroids,
          listOffsets: index.listOffsets,
          itemIndexes: index.itemIndexes,
          listBytes: encoded.listBytes,
          listDigests: encoded.listDigests,
        },
        { maxBytes: 1 << 30 },
      ),
    )
    manifest.shards.partitionLists = ref(
      partitionListsKey(VERSION),
      'partitionList',
      'r2',
      index.lists,
      0,
      encoded,
    )
    manifest.partitions = { lists: index.lists, nprobe, recall: { k: 10, value: recall, users: 200 } }
    if (CANDIDATES > 0) {
      // As the trainer records them: the candidates' recall@10 at their nprobe, same 200 users.
      const candidatesNprobe = candidateNprobe(index.lists, nprobe)
      const measured = chooseNprobe(index, plannedLists, [blockFromQuantized(q)], planned.queries, {
        nprobe: candidatesNprobe,
        kernel: candidateKernel,
      })
      manifest.candidates = {
        perUser: CANDIDATES,
        nprobe: candidatesNprobe,
        recall: { k: 10, value: measured.recall, users: planned.queries.length },
      }
    }
    console.log(
      `${VERSION}: ${index.lists} partitions (${how}), default nprobe ${nprobe}, recall@10 ${recall.toFixed(3)} vs the exact scan (200 users), lists object ${(encoded.bytes.byteLength / 2 ** 20).toFixed(1)} MiB, built in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    )
    console.log(
      CANDIDATES > 0
        ? `${VERSION}: ${CANDIDATES} candidates per user in the buckets (probed at nprobe ${candidateNprobe(index.lists, nprobe)}, recall@10 ${manifest.candidates?.recall?.value.toFixed(3)} vs the exact scan), ${(candidateMs / 1000).toFixed(1)} s for ${USERS.toLocaleString('en-US')} users; buckets ${(users.reduce((sum, r) => sum + r.bytes, 0) / 2 ** 20).toFixed(1)} MiB in ${BUCKETS}`
        : `${VERSION}: no candidates in the buckets (--no-candidates); buckets ${(users.reduce((sum, r) => sum + r.bytes, 0) / 2 ** 20).toFixed(1)} MiB in ${BUCKETS}`,
    )
  }
  out.manifest = manifest
  out.kv.push({ key: manifestKey(VERSION), value: JSON.stringify(manifest) })
  if (live) {
    out.kv.push({
      key: LIVE_POINTER_KEY,
      value: JSON.stringify({ version: VERSION, activatedAt: new Date().toISOString() }),
    })
  }
  return out
}

/** Clusters of `--partitions` items: ⌈√items⌉, the number of partitions the trainer uses. */
const CLUSTERS = Math.ceil(Math.sqrt(ITEMS))
/** The generating cluster of each item (`--partitions`). */
const clusterOf = new Uint32Array(ITEMS)

/**
 * Items around ⌈√items⌉ random centres, clusters overlapping (noise wider than the spread of the
 * centres, so probing one partition is not enough), fixed seed.
 */
function clusteredFactors(random: () => number): Float32Array {
  const centres = Float32Array.from({ length: CLUSTERS * DIMS }, () => (random() - 0.5) * 0.4)
  const out = new Float32Array(ITEMS * DIMS)
  for (let i = 0; i < ITEMS; i++) {
    const c = Math.floor(random() * CLUSTERS)
    clusterOf[i] = c
    for (let d = 0; d < DIMS; d++) out[i * DIMS + d] = centres[c * DIMS + d]! + (random() - 0.5) * 0.5
  }
  return out
}

/** `n` user vectors, each near a random item (a taste). */
function usersNear(factors: Float32Array, n: number, random: () => number): Float32Array {
  const out = new Float32Array(n * DIMS)
  for (let u = 0; u < n; u++) {
    const near = Math.floor(random() * ITEMS)
    for (let d = 0; d < DIMS; d++) out[u * DIMS + d] = factors[near * DIMS + d]! + (random() - 0.5) * 0.3
  }
  return out
}

let partitionsCache:
  | { index: PartitionIndex; nprobe: number; recall: number; how: string; queries: Int8Vector[] }
  | undefined

/**
 * `--generator-partitions`: the generating clusters with their member means as centroids (what
 * the worker benchmark used before the trainer's k-means ran at 1M in minutes), for comparison.
 */
const GENERATOR_PARTITIONS = args.includes('--generator-partitions')

/**
 * The partitions of `--partitions`: the trainer's own partitioning (core's `planPartitionIndex`,
 * what `planPartitions` runs at export: k-means++ and Lloyd on a sample on the float32 Wasm kernel,
 * partitions ordered by recursive bisection, ⌈√items⌉ lists), and the default nprobe as the
 * trainer picks it: the smallest whose MEASURED recall@10 against the exact scan (200 users near an
 * item) reaches 0.95. With `--generator-partitions`, the generating clusters instead (same nprobe
 * rule). Both versions of `--memory` share the item factors, so they share this.
 */
function partitionsOf(
  factors: Float32Array,
  q: QuantizedMatrix,
  random: () => number,
): { index: PartitionIndex; nprobe: number; recall: number; how: string; queries: Int8Vector[] } {
  if (partitionsCache) return partitionsCache
  const kernel = createInt8Kernel(bundledInt8KernelBytes(), { dims: DIMS })
  const queries = Array.from({ length: 200 }, () => quantizeVector(usersNear(factors, 1, random)))
  const started = performance.now()
  if (!GENERATOR_PARTITIONS) {
    const planned = planPartitionIndex(factors, q, queries, { kernel })
    const seconds = (performance.now() - started) / 1000
    partitionsCache = {
      index: planned.index,
      nprobe: planned.nprobe,
      recall: planned.recall,
      how: `trainer k-means + nprobe choice ${seconds.toFixed(1)} s`,
      queries,
    }
    return partitionsCache
  }
  const lists = CLUSTERS
  const sizes = new Uint32Array(lists)
  const sums = new Float64Array(lists * DIMS)
  for (let i = 0; i < ITEMS; i++) {
    const c = clusterOf[i]!
    sizes[c]!++
    for (let d = 0; d < DIMS; d++) sums[c * DIMS + d]! += factors[i * DIMS + d]!
  }
  const listOffsets = new Uint32Array(lists + 1)
  for (let c = 0; c < lists; c++) listOffsets[c + 1] = listOffsets[c]! + sizes[c]!
  const cursor = listOffsets.slice(0, lists)
  const itemIndexes = new Uint32Array(ITEMS)
  for (let i = 0; i < ITEMS; i++) itemIndexes[cursor[clusterOf[i]!]!++] = i
  const centroids = Float32Array.from(sums, (v, j) => v / Math.max(1, sizes[Math.floor(j / DIMS)]!))
  const index: PartitionIndex = { lists, dims: DIMS, centroids, listOffsets, itemIndexes }
  const blocks = [blockFromQuantized(q)]
  const { nprobe, recall } = chooseNprobe(index, layoutPartitionLists(index, blocks), blocks, queries, {
    kernel,
  })
  partitionsCache = { index, nprobe, recall, how: 'generator clusters', queries }
  return partitionsCache
}

async function wrangler(argv: string[]): Promise<void> {
  await run(wranglerBin, argv, {
    cwd: packageDir,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1' },
    maxBuffer: 1 << 24,
  })
}

async function publish(persist: string, published: Published, scratch: string): Promise<void> {
  const bulk = join(scratch, 'kv.json')
  await writeFile(bulk, JSON.stringify(published.kv))
  await wrangler(['kv', 'bulk', 'put', bulk, '--binding', 'MODELS_KV', '--local', '--persist-to', persist])
  // One `wrangler r2 bulk put` for every R2 object (hundreds of user buckets at 10M users).
  const pairs: { key: string; file: string }[] = []
  for (const [i, { key, bytes }] of published.r2.entries()) {
    const file = join(scratch, `object-${i}.bin`)
    await writeFile(file, bytes)
    pairs.push({ key, file })
  }
  if (pairs.length > 0) {
    const list = join(scratch, 'r2.json')
    await writeFile(list, JSON.stringify(pairs))
    await wrangler([
      'r2',
      'bulk',
      'put',
      'edgerec-models',
      '--filename',
      list,
      '--local',
      '--persist-to',
      persist,
    ])
    for (const { file } of pairs) await rm(file)
  }
  await wrangler(['d1', 'migrations', 'apply', 'edgerec', '--local', '--persist-to', persist])
}

/**
 * `wrangler.jsonc` with the rate limits raised out of reach: the benchmark drives thousands of
 * requests from one address, and measures serving (the limiter's own call stays in the path).
 */
// NOTE: one file per run, so two benchmark runs at once do not delete each other's config.
const BENCH_CONFIG = join(packageDir, `wrangler.bench.${process.pid}.jsonc`)

function writeBenchConfig(): void {
  let raised = 0
  let text = readFileSync(join(packageDir, 'wrangler.jsonc'), 'utf8').replace(
    /("limit":\s*)\d+/g,
    (_match, head: string) => {
      raised++
      return `${head}1000000000`
    },
  )
  if (raised !== 4) throw new Error(`Expected the four ratelimits of wrangler.jsonc, found ${raised}.`)
  // `--no-rate-limits`: no limiter bindings at all, to measure what the limiter call costs.
  if (args.includes('--no-rate-limits')) text = text.replace(/"ratelimits":\s*\[[^\]]*\],/, '')
  writeFileSync(BENCH_CONFIG, text)
}

function startDev(
  persist: string,
  port: number,
  inspectorPort: number,
  vars: Record<string, string> = {},
): Promise<DevServer> {
  return startWranglerDev({
    config: BENCH_CONFIG,
    persist,
    port,
    inspectorPort,
    vars: { PUBLISHABLE_KEY: KEY, SECRET_KEY: SECRET, ...vars },
  })
}

interface HeapUsage {
  /** V8 JS heap in use (no GC is forced: workerd's inspector does not answer `collectGarbage`). */
  usedSize: number
  /** ArrayBuffer backing stores (shard buffers live here, outside the JS heap). */
  backingStorageSize?: number
  embedderHeapUsedSize?: number
}

/**
 * Reads the worker isolate's heap through `wrangler dev`'s inspector (Chrome DevTools protocol
 * `Runtime.getHeapUsage`): the real allocation of workerd, to check the store's own byte accounting.
 * With `collect`, a full GC first (`HeapProfiler.collectGarbage`): what is live, garbage left out.
 */
async function heapUsage(inspectorPort: number, collect = false): Promise<HeapUsage> {
  const Socket = WebSocket as unknown as new (
    url: string,
    init: { headers: Record<string, string> },
  ) => WebSocket
  const ws = new Socket(`ws://127.0.0.1:${inspectorPort}/ws`, { headers: { origin: 'http://127.0.0.1' } })
  const usage = () => ws.send(JSON.stringify({ id: 1, method: 'Runtime.getHeapUsage' }))
  try {
    return await new Promise<HeapUsage>((done, fail) => {
      // NOTE: 60 s: a forced GC of a 1M-item isolate on a loaded 2-core machine can take > 10 s.
      const timer = setTimeout(
        () => fail(new Error('the inspector did not answer Runtime.getHeapUsage within 60 s')),
        60_000,
      )
      ws.addEventListener('error', () =>
        fail(new Error(`cannot connect to the inspector on port ${inspectorPort}`)),
      )
      ws.addEventListener('message', (m) => {
        const data = JSON.parse(String(m.data)) as { id?: number; result?: HeapUsage }
        if (data.id === 2) usage()
        if (data.id === 1 && data.result) {
          clearTimeout(timer)
          done(data.result)
        }
      })
      ws.addEventListener('open', () =>
        collect ? ws.send(JSON.stringify({ id: 2, method: 'HeapProfiler.collectGarbage' })) : usage(),
      )
    })
  } finally {
    ws.close()
  }
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`

const headers = { authorization: `Bearer ${KEY}` }

async function timed(
  url: string,
): Promise<{ ms: number; status: number; body: Record<string, unknown>; serverTiming: string | null }> {
  const t0 = performance.now()
  const response = await fetch(url, { headers })
  const body = (await response.json()) as Record<string, unknown>
  return {
    ms: performance.now() - t0,
    status: response.status,
    body,
    serverTiming: response.headers.get('server-timing'),
  }
}

/** `name;dur=1.2, …` (`SERVER_TIMING=on`) into `phases[name]`. */
function collectPhases(header: string | null, phases: Map<string, number[]>): void {
  if (!header) return
  for (const part of header.split(',')) {
    const [name, dur] = part.trim().split(';dur=')
    if (!name || dur === undefined) continue
    const list = phases.get(name) ?? []
    list.push(Number(dur))
    phases.set(name, list)
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

interface Stats {
  p50: number
  p99: number
  mean: number
  n: number
  /** Every timing, in the order measured (round i of every route is measured back to back). */
  raw: number[]
  /** The route's `Server-Timing` phases (`SERVER_TIMING=on`), one value per request that had them. */
  phases: Map<string, number[]>
}

interface Route {
  name: string
  url: (i: number) => string
  expectSource?: string
}

/**
 * Sequential latency (one request in flight), routes interleaved round-robin so that every route
 * sees the same machine load: on a shared machine a load spike then hits all routes alike and the
 * ratios between them stay meaningful. The first 50 rounds warm the isolate's caches.
 */
async function sequential(routes: Route[]): Promise<Record<string, Stats>> {
  const times = routes.map(() => [] as number[])
  const phases = routes.map(() => new Map<string, number[]>())
  for (let i = 0; i < SEQUENTIAL + 50; i++) {
    for (const [r, route] of routes.entries()) {
      const answer = await timed(route.url(i))
      if (answer.status !== 200)
        throw new Error(`${route.name}: HTTP ${answer.status} ${JSON.stringify(answer.body)}`)
      if (route.expectSource && answer.body.source !== route.expectSource)
        throw new Error(`${route.name}: source ${String(answer.body.source)}, expected ${route.expectSource}`)
      if (i >= 50) {
        times[r]!.push(answer.ms)
        collectPhases(answer.serverTiming, phases[r]!)
      }
    }
  }
  const out: Record<string, Stats> = {}
  for (const [r, route] of routes.entries()) {
    const raw = [...times[r]!]
    const sorted = times[r]!.sort((a, b) => a - b)
    out[route.name] = {
      raw,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      mean: sorted.reduce((sum, t) => sum + t, 0) / sorted.length,
      n: sorted.length,
      phases: phases[r]!,
    }
  }
  return out
}

async function cannon(
  base: string,
  paths: (i: number) => string,
  rate: number | undefined,
): Promise<{ p50: number; p99: number; rps: number; errors: number; non2xx: number }> {
  let i = 0
  const result = await autocannon({
    url: base,
    connections: 8,
    duration: DURATION_S,
    headers,
    ...(rate ? { overallRate: rate } : {}),
    requests: [
      {
        setupRequest: (request: { path: string }) => {
          request.path = paths(i++)
          return request
        },
      },
    ],
  })
  if (result.errors > 0 || result.non2xx > 0) {
    // What the failures were: connection errors and timeouts, or answers by status code.
    console.log(
      `  autocannon on ${base}: ${result.errors} errors (${result.timeouts} timeouts), ${result.non2xx} non-2xx, status codes ${JSON.stringify(result.statusCodeStats)}`,
    )
  }
  return {
    p50: result.latency.p50,
    p99: result.latency.p99,
    rps: result.requests.average,
    errors: result.errors,
    non2xx: result.non2xx,
  }
}

/** Two distinct free ports (any free port: a fixed range can reach another checkout's `wrangler dev`). */
async function twoFreePorts(): Promise<[number, number]> {
  const first = await freePort()
  let second = await freePort()
  while (second === first) second = await freePort()
  return [first, second]
}

async function main(): Promise<void> {
  if (!existsSync(join(packageDir, 'drizzle'))) {
    throw new Error(
      'packages/edge-worker/drizzle (D1 migrations) is missing: the benchmark applies them to local D1 first.',
    )
  }
  const scratch = await mkdtemp(join(tmpdir(), 'edgerec-bench-'))
  const persist = join(scratch, 'state')
  writeBenchConfig()
  // NOTE: any free port (not the first of a fixed range): benchmarks of other checkouts running at
  // the same time would otherwise race for the same port, and a request could reach their server.
  const [port, inspectorPort] = await twoFreePorts()
  console.log(
    `node ${process.version}, ${(await import('node:os')).cpus().length} cores; wrangler dev on 127.0.0.1:${port}; persistence ${persist}`,
  )
  try {
    let t = performance.now()
    const published = await buildModel()
    let secondManifest: ModelManifest | undefined
    if (args.includes('--memory')) {
      // A second version to swap to, published next to the first (not live).
      const second = await buildModel(VERSION_2, 2027, false)
      published.kv.push(...second.kv)
      published.r2.push(...second.r2)
      secondManifest = second.manifest
    }
    const bytes = [
      ...published.kv.map((o) => (o.base64 ? (o.value.length * 3) / 4 : o.value.length)),
      ...published.r2.map((o) => o.bytes.byteLength),
    ].reduce((s, b) => s + b, 0)
    console.log(
      `built ${ITEMS} × ${DIMS} model (${USERS} users, ${BUCKETS} buckets): ${(bytes / 2 ** 20).toFixed(1)} MiB in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    )
    t = performance.now()
    await publish(persist, published, scratch)
    console.log(
      `published into local KV/R2/D1 with wrangler in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    )

    if (args.includes('--memory')) {
      await memorySwap(persist, port, inspectorPort, [published.manifest, secondManifest!])
      return
    }
    if (args.includes('--people')) {
      await knownUsers(persist, port, inspectorPort, published)
      return
    }
    if (args.includes('--scoring')) {
      await scoringComparison(persist, port, inspectorPort)
      return
    }
    if (args.includes('--catalog')) {
      await catalogBenchmark(persist, port, inspectorPort)
      return
    }
    if (args.includes('--experiment')) {
      await experimentComparison(persist, scratch, port, inspectorPort)
      return
    }
    if (args.includes('--shadow')) {
      await shadowComparison(persist, scratch, port, inspectorPort)
      return
    }
    if (args.includes('--openapi')) {
      await openApiComparison(persist, scratch, port, inspectorPort)
      return
    }
    if (args.includes('--rec-ids')) {
      await recIdComparison(persist, scratch, port, inspectorPort)
      return
    }

    const cold: number[] = []
    const afterCold: number[] = []
    for (let run = 0; run < 3; run++) {
      const server = await startDev(persist, port, inspectorPort)
      try {
        const first = await timed(`${server.base}/v1/users/user-${run}/recommendations?k=10`)
        if (first.status !== 200 || first.body.modelVersion !== VERSION)
          throw new Error(`cold request failed: ${JSON.stringify(first.body)}`)
        cold.push(first.ms)
        afterCold.push((await timed(`${server.base}/v1/users/user-${run + 100}/recommendations?k=10`)).ms)
      } finally {
        await stopWranglerDev(server)
      }
    }
    console.log(
      `cold start (first request, model not loaded): ${cold.map((ms) => ms.toFixed(0)).join(', ')} ms; the next request: ${afterCold.map((ms) => ms.toFixed(1)).join(', ')} ms`,
    )

    const server = await startDev(persist, port, inspectorPort)
    try {
      const { base } = server
      // Memory: the isolate's heap before the model loads and after it is loaded with every user
      // bucket cached, next to the store's own accounting (GET /v1/model).
      const heapBefore = await heapUsage(inspectorPort)
      for (let u = 0; u < 200; u++) await timed(`${base}/v1/users/user-${u}/recommendations?k=10`)
      const heapAfter = await heapUsage(inspectorPort)
      const accounted = (await timed(`${base}/v1/model`)).body.memory as Record<string, number>
      const total = (h: HeapUsage) => h.usedSize + (h.backingStorageSize ?? 0)
      console.log(
        `\nmemory (workerd inspector, Runtime.getHeapUsage, no forced GC): before load ${mib(heapBefore.usedSize)} JS heap + ${mib(heapBefore.backingStorageSize ?? 0)} array buffers; ` +
          `after load with all ${BUCKETS} user buckets cached ${mib(heapAfter.usedSize)} + ${mib(heapAfter.backingStorageSize ?? 0)}; ` +
          `growth ${mib(total(heapAfter) - total(heapBefore))} vs the store's accounting ${mib(accounted.total ?? 0)} ` +
          `(shards ${mib(accounted.shards ?? 0)}, id index ${mib(accounted.itemIdIndex ?? 0)}, user cache ${mib(accounted.userCache ?? 0)}); ` +
          `ratio measured/accounted ${((total(heapAfter) - total(heapBefore)) / (accounted.total ?? 1)).toFixed(2)}`,
      )
      // 200 new users with 20 view events each, sent through POST /v1/events.
      const foldUsers = 200
      const events = []
      const random = mulberry32(7)
      for (let u = 0; u < foldUsers; u++) {
        for (let e = 0; e < 20; e++) {
          events.push({
            id: crypto.randomUUID(),
            userId: `fresh-${u}`,
            itemId: `sku-${String(Math.floor(random() * ITEMS)).padStart(6, '0')}`,
            type: 'view',
            timestamp: Date.now() - e * 1000,
          })
        }
      }
      const post = async (batch: unknown[]): Promise<{ ms: number; body: Record<string, number> }> => {
        const t0 = performance.now()
        const r = await fetch(`${base}/v1/events`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({ events: batch }),
        })
        if (r.status !== 200) throw new Error(`POST /v1/events: ${r.status} ${await r.text()}`)
        const body = (await r.json()) as Record<string, number>
        return { ms: performance.now() - t0, body }
      }
      const ingest: number[] = []
      const retry: number[] = []
      for (let i = 0; i < events.length; i += 500) {
        const batch = events.slice(i, i + 500)
        const first = await post(batch)
        if (first.body.accepted !== batch.length)
          throw new Error(`expected ${batch.length} accepted: ${JSON.stringify(first.body)}`)
        ingest.push(first.ms)
        // The same batch again: every event is a duplicate, nothing is written.
        const again = await post(batch)
        if (again.body.duplicates !== batch.length) throw new Error(`expected ${batch.length} duplicates`)
        retry.push(again.ms)
      }
      const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!
      console.log(
        `\nPOST /v1/events, 500-event batches (46 INSERT statements in one D1 batch), ${ingest.length} batches: median ${median(ingest).toFixed(1)} ms (${(median(ingest) / 500).toFixed(3)} ms/event); ` +
          `the same batches retried (all duplicates): median ${median(retry).toFixed(1)} ms`,
      )
      // 10 heavy users with 2000 events each: fold-in reads only the newest FOLD_IN_MAX_EVENTS (200).
      const heavyUsers = 10
      const heavyEvents = 2000
      for (let u = 0; u < heavyUsers; u++) {
        const list = Array.from({ length: heavyEvents }, (_, e) => ({
          id: crypto.randomUUID(),
          userId: `heavy-${u}`,
          itemId: `sku-${String(Math.floor(random() * ITEMS)).padStart(6, '0')}`,
          type: e % 10 === 0 ? 'purchase' : 'view',
          timestamp: Date.now() - e * 1000,
        }))
        for (let i = 0; i < list.length; i += 500) await post(list.slice(i, i + 500))
      }
      const heavy = (i: number) => `/v1/users/heavy-${i % heavyUsers}/recommendations?k=10`
      const health = (i: number) => `/v1/health?i=${i}`
      const model = (i: number) => `/v1/users/user-${(i * 7919) % USERS}/recommendations?k=10`
      const fold = (i: number) => `/v1/users/fresh-${i % foldUsers}/recommendations?k=10`
      const unknown = (i: number) => `/v1/users/nobody-${i}/recommendations?k=10`

      const seq = (await sequential([
        { name: 'health', url: (i) => base + health(i) },
        { name: 'model', url: (i) => base + model(i), expectSource: 'model' },
        { name: 'foldIn', url: (i) => base + fold(i), expectSource: 'fold-in' },
        { name: 'popular', url: (i) => base + unknown(i), expectSource: 'popular' },
        { name: 'foldInHeavy', url: (i) => base + heavy(i), expectSource: 'fold-in' },
      ])) as Record<'health' | 'model' | 'foldIn' | 'popular' | 'foldInHeavy', Stats>
      console.log(`\nsequential latency, one request at a time, routes interleaved (${SEQUENTIAL} each, ms):`)
      console.log('| route | p50 | p99 | mean | p50 / health p50 |')
      console.log('|---|---|---|---|---|')
      for (const [name, s] of Object.entries(seq)) {
        console.log(
          `| ${name} | ${s.p50.toFixed(2)} | ${s.p99.toFixed(2)} | ${s.mean.toFixed(2)} | ${(s.p50 / seq.health.p50).toFixed(2)} |`,
        )
      }
      console.log(
        `fold-in latency added per request (fold-in p50 − model p50): ${(seq.foldIn.p50 - seq.model.p50).toFixed(2)} ms; p99: ${(seq.foldIn.p99 - seq.model.p99).toFixed(2)} ms; ` +
          `heavy users (2000 events): +${(seq.foldInHeavy.p50 - seq.model.p50).toFixed(2)} ms p50, ratio to model p50 ${(seq.foldInHeavy.p50 / seq.model.p50).toFixed(2)}`,
      )

      console.log(`\nautocannon, 8 connections, ${DURATION_S} s each:`)
      console.log('| route | load | p50 ms | p99 ms | req/s | errors | non-2xx |')
      console.log('|---|---|---|---|---|---|---|')
      for (const [name, paths] of [
        ['health', health],
        ['recommendations (model)', model],
        ['recommendations (fold-in)', fold],
      ] as const) {
        for (const rate of [RATE, undefined]) {
          const r = await cannon(base, paths, rate)
          console.log(
            `| ${name} | ${rate ? `${rate} req/s` : 'max'} | ${r.p50} | ${r.p99} | ${r.rps.toFixed(0)} | ${r.errors} | ${r.non2xx} |`,
          )
        }
      }
    } finally {
      await stopWranglerDev(server)
    }
  } finally {
    rmSync(BENCH_CONFIG, { force: true })
    await rm(scratch, { recursive: true, force: true })
  }
}

/**
 * Issue 16, item 4: a known user's latency when their bucket is not cached (cold: fetch, SHA-256
 * verification and decode of one ≈ 2 MiB bucket) and when it is (warm: another user of the same
 * bucket), interleaved with the trivial route, over `--samples` distinct buckets; bytes per user in
 * storage and in the isolate's cache. Run with `--people --users 10000000 --user-items 5`.
 */
async function knownUsers(
  persist: string,
  port: number,
  inspectorPort: number,
  published: Published,
): Promise<void> {
  const samples = option('samples', 60)
  const userBytes = published.manifest.shards.users.reduce((sum, ref) => sum + ref.bytes, 0)
  // Two users per bucket, from `samples` distinct buckets.
  const byBucket = new Map<number, string[]>()
  let full = 0
  for (let u = 0; u < USERS && full < samples; u++) {
    const id = `user-${u}`
    const b = userBucket(id, BUCKETS)
    const list = byBucket.get(b) ?? []
    if (list.length >= 2) continue
    list.push(id)
    byBucket.set(b, list)
    if (list.length === 2) full++
  }
  const pairs = [...byBucket.entries()].filter(([, l]) => l.length === 2).slice(0, samples)
  const server = await startDev(persist, port, inspectorPort)
  try {
    const { base } = server
    // Load the model (items) first, with a user whose bucket is not sampled.
    const warmUp = await timed(`${base}/v1/users/nobody/recommendations?k=10`)
    if (warmUp.status !== 200) throw new Error(`warm-up failed: ${JSON.stringify(warmUp.body)}`)
    const memory0 = ((await timed(`${base}/v1/model`)).body.memory ?? {}) as Record<string, number>
    const health: number[] = []
    const cold: number[] = []
    const warm: number[] = []
    let cacheDelta = 0
    let cacheRows = 0
    for (const [i, [b, [a, c]]] of pairs.entries()) {
      health.push((await timed(`${base}/v1/health?i=${i}`)).ms)
      const first = await timed(`${base}/v1/users/${a}/recommendations?k=10`)
      if (first.status !== 200 || first.body.source !== 'model')
        throw new Error(`known user ${a}: ${first.status} ${JSON.stringify(first.body)}`)
      cold.push(first.ms)
      if (i === 0) {
        const memory1 = ((await timed(`${base}/v1/model`)).body.memory ?? {}) as Record<string, number>
        cacheDelta = (memory1.userCache ?? 0) - (memory0.userCache ?? 0)
        cacheRows = published.manifest.shards.users[b!]!.rows
      }
      const second = await timed(`${base}/v1/users/${c}/recommendations?k=10`)
      if (second.body.source !== 'model') throw new Error(`known user ${c}: ${JSON.stringify(second.body)}`)
      warm.push(second.ms)
    }
    const stats = (list: number[]) => {
      const sorted = [...list].sort((x, y) => x - y)
      return `${percentile(sorted, 50).toFixed(2)} / ${percentile(sorted, 99).toFixed(2)}`
    }
    const refs = published.manifest.shards.users
    console.log(
      `\n${USERS.toLocaleString('en-US')} users (${USER_ITEMS} training items each) in ${BUCKETS} buckets of ${(userBytes / BUCKETS / 2 ** 20).toFixed(2)} MiB on average (${USER_STORAGE}), ${ITEMS.toLocaleString('en-US')} items × ${DIMS}; ${pairs.length} buckets sampled, each cold once then warm:`,
    )
    console.log('| request | p50 / p99 ms |')
    console.log('|---|---:|')
    console.log(`| health (trivial route) | ${stats(health)} |`)
    console.log(`| known user, bucket not cached (cold) | ${stats(cold)} |`)
    console.log(`| known user, bucket cached (warm) | ${stats(warm)} |`)
    console.log(
      `bytes per user: ${(userBytes / USERS).toFixed(1)} B in storage (${(userBytes / 2 ** 30).toFixed(2)} GiB of user shards, ${refs.length} objects); ` +
        `in the isolate's cache ${(cacheDelta / cacheRows).toFixed(1)} B per user of a cached bucket (${(cacheDelta / 2 ** 20).toFixed(2)} MiB for ${cacheRows} users: bucket buffer + id hash slots, exact); USER_CACHE_MIB bounds the cache`,
    )
  } finally {
    await stopWranglerDev(server)
  }
}

/**
 * Issue 16: the isolate's heap with a model loaded and during a swap to a second version
 * (`POST /v1/admin/models/:version/activate`), sampled through the inspector on every request while
 * the new version loads, next to the store's accounting and its plan (`MODEL_MEMORY_MIB` =
 * `--budget`, default 127). A version that cannot fit is refused (`MODEL_TOO_LARGE`): then the heap
 * stays that of the live version.
 */
async function memorySwap(
  persist: string,
  port: number,
  inspectorPort: number,
  [live, next]: [ModelManifest, ModelManifest],
): Promise<void> {
  const budget = option('budget', 127)
  const userCache = option('user-cache', 16)
  // The plan the worker checks (core's planModelMemory + checkSwapMemory), from the manifests.
  const settings = {
    userCacheBytes: userCache * 2 ** 20,
    partitionCacheBytes: option('partition-cache', 8) * 2 ** 20,
  }
  const livePlan = planModelMemory(live, settings)
  const nextPlan = planModelMemory(next, settings)
  const check = checkSwapMemory(
    { version: next.version, plan: nextPlan },
    { version: live.version, plan: livePlan },
    budget * 2 ** 20,
  )
  const catalogShards = catalogShardRefs(next)
  console.log(
    `plan: live resident ${mib(livePlan.resident)} (catalog ${mib(livePlan.catalog)}, ${(livePlan.catalog / ITEMS).toFixed(2)} B per item; ${catalogShards.length} catalog shards, ${mib(catalogShards.reduce((n, r) => n + r.bytes, 0))}${next.catalog?.layout ? ', compact layout' : ', wide layout'}), next loading peak ${mib(nextPlan.loadingPeak)} (caches ${mib(nextPlan.caches)}, empty while loading); swap needs ${mib(check.needed)} of ${budget} MiB: ${check.fits ? 'fits' : 'refused'}`,
  )
  const server = await startDev(persist, port, inspectorPort, {
    MODEL_MEMORY_MIB: String(budget),
    USER_CACHE_MIB: String(userCache),
    PARTITION_CACHE_MIB: String(option('partition-cache', 8)),
    PARTITION_READ_GAP_KIB: String(option('read-gap', 256)),
    MODEL_REFRESH_SECONDS: '1',
  })
  const total = (h: HeapUsage) => h.usedSize + (h.backingStorageSize ?? 0)
  try {
    const { base } = server
    const before = await heapUsage(inspectorPort)
    const t0 = performance.now()
    const first = await timed(`${base}/v1/users/user-1/recommendations?k=10`)
    const loadMs = performance.now() - t0
    const status1 = (await timed(`${base}/v1/model`)).body as {
      version: string | null
      loadMs?: number | null
      memory: Record<string, number> | null
      lastError: { code: string; message: string } | null
    }
    console.log(
      `\n${ITEMS.toLocaleString('en-US')} items × ${DIMS}, MODEL_MEMORY_MIB ${budget}, USER_CACHE_MIB ${userCache}: first request ${first.status} (source ${String(first.body.source)}, ${loadMs.toFixed(0)} ms), served version ${status1.version}` +
        (status1.lastError ? `, lastError ${status1.lastError.code}: ${status1.lastError.message}` : ''),
    )
    for (let u = 0; u < 200; u++) await timed(`${base}/v1/users/user-${u}/recommendations?k=10`)
    console.error('memory: 200 users served, sampling the loaded isolate')
    const loaded = await heapUsage(inspectorPort)
    const accounted = ((await timed(`${base}/v1/model`)).body.memory ?? {}) as Record<string, number>
    console.error('memory: activating the second version')
    const flip = await fetch(`${base}/v1/admin/models/${VERSION_2}/activate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SECRET}` },
    })
    if (flip.status !== 200) throw new Error(`activate: ${flip.status} ${await flip.text()}`)
    let peak = total(loaded)
    let livePeak = total(loaded)
    let status2: {
      version: string | null
      lastError: { version: string; code: string; message: string } | null
    } = {
      version: null,
      lastError: null,
    }
    const deadline = Date.now() + 180_000
    let requests = 0
    // A sample the inspector does not answer in time (a busy isolate on a loaded machine) is
    // skipped and counted, not fatal.
    let missed = 0
    const sample = async (collect: boolean): Promise<number> => {
      try {
        return total(await heapUsage(inspectorPort, collect))
      } catch (error) {
        missed++
        console.error(`memory: sample skipped (${error instanceof Error ? error.message : String(error)})`)
        return 0
      }
    }
    while (Date.now() < deadline) {
      await timed(`${base}/v1/users/user-${requests++ % USERS}/recommendations?k=10`)
      peak = Math.max(peak, await sample(false))
      // The same moment after a full GC: what is live (the sampled peak counts garbage too).
      livePeak = Math.max(livePeak, await sample(true))
      status2 = (await timed(`${base}/v1/model`)).body as typeof status2
      if (status2.version === VERSION_2 || status2.lastError?.version === VERSION_2) break
      await new Promise((r) => setTimeout(r, 50))
    }
    for (let u = 0; u < 200; u++) await timed(`${base}/v1/users/user-${u}/recommendations?k=10`)
    console.error(`memory: swap over after ${requests} requests (${missed} samples skipped)`)
    const after = await heapUsage(inspectorPort)
    const afterLive = await sample(true)
    const status3 = (await timed(`${base}/v1/model`)).body as { loadMs?: number | null }
    console.log('| state | JS heap | array buffers | growth over the empty isolate | store accounting |')
    console.log('|---|---:|---:|---:|---:|')
    console.log(
      `| before the first load | ${mib(before.usedSize)} | ${mib(before.backingStorageSize ?? 0)} | – | – |`,
    )
    console.log(
      `| ${status1.version ?? 'nothing'} loaded, 200 users served | ${mib(loaded.usedSize)} | ${mib(loaded.backingStorageSize ?? 0)} | ${mib(total(loaded) - total(before))} | ${mib(accounted.total ?? 0)} (kernel ${mib(accounted.kernel ?? 0)}, ids ${mib(accounted.itemIdIndex ?? 0)}, rows ${mib(accounted.itemRows ?? 0)}, lists ${mib(accounted.shards ?? 0)}, users ${mib(accounted.userCache ?? 0)}, catalog ${mib(accounted.catalog ?? 0)}${PARTITIONED ? `, partition index ${mib(accounted.partitionIndex ?? 0)}, partition cache ${mib(accounted.partitionCache ?? 0)}` : ''}) |`,
    )
    console.log(
      `| peak while swapping to ${VERSION_2} (${requests} requests sampled${missed > 0 ? `, ${missed} samples unanswered` : ''}) | | | ${mib(peak - total(before))} | |`,
    )
    console.log(
      `| live peak while swapping (the same samples after a forced GC) | | | ${mib(livePeak - total(before))} | |`,
    )
    console.log(
      `| after the swap: serving ${status2.version} | ${mib(after.usedSize)} | ${mib(after.backingStorageSize ?? 0)} | ${mib(total(after) - total(before))} (live after a forced GC: ${afterLive > 0 ? mib(afterLive - total(before)) : 'unanswered'}) | |`,
    )
    console.log(
      `load time (the worker's loadMs): first version ${String(status1.loadMs ?? '–')} ms (cold first request ${loadMs.toFixed(0)} ms), ${status2.version} ${String(status3.loadMs ?? '–')} ms`,
    )
    if (status2.lastError?.version === VERSION_2)
      console.log(`swap refused: ${status2.lastError.code}: ${status2.lastError.message}`)
  } finally {
    await stopWranglerDev(server)
  }
}

/**
 * Issue 16: the model route with the Wasm SIMD kernel and with the JS kernel, each against the
 * trivial route (`/v1/health`) of the same `wrangler dev`, in one run.
 */
/** The fold-in users of {@link scoringComparison}, once their events are sent (first server). */
let foldInUsers: string[] | undefined

/**
 * `SEQUENTIAL + 50` trained users that `model` (the model route's users) never asks for, each
 * given 2 view events now (after the version's trainedUntil), so they are answered by fold-in.
 */
async function trainedUsersWithEvents(base: string, model: (i: number) => string): Promise<string[]> {
  if (foldInUsers) return foldInUsers
  const taken = new Set(Array.from({ length: SEQUENTIAL + 50 }, (_, i) => model(i).split('/')[3]))
  const users: string[] = []
  for (let u = 0; u < USERS && users.length < SEQUENTIAL + 50; u++)
    if (!taken.has(`user-${u}`)) users.push(`user-${u}`)
  const events = users.flatMap((userId, n) =>
    [0, 1].map((e) => ({
      id: `fold-${userId}-${e}`,
      userId,
      itemId: `sku-${String((n * 31 + e * 7) % ITEMS).padStart(6, '0')}`,
      type: 'view',
      timestamp: Date.now() - e * 1000,
    })),
  )
  for (let i = 0; i < events.length; i += 500) {
    const r = await fetch(`${base}/v1/events`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ events: events.slice(i, i + 500) }),
    })
    if (r.status !== 200) throw new Error(`POST /v1/events: ${r.status} ${await r.text()}`)
  }
  foldInUsers = users
  return users
}

async function scoringComparison(persist: string, port: number, inspectorPort: number): Promise<void> {
  const rows: string[] = []
  // `--read-gap 256,1024` / `--partition-cache 8,32` (partitioned): one server per combination, in
  // turn, same version.
  const runs = PARTITIONED
    ? options('read-gap', 256).flatMap((gap) =>
        options('partition-cache', 8).map((cache) => ({ kernel: 'auto', gap, cache })),
      )
    : ['auto', 'js'].map((kernel) => ({
        kernel,
        gap: option('read-gap', 256),
        cache: option('partition-cache', 8),
      }))
  for (const { kernel, gap, cache } of runs) {
    const server = await startDev(persist, port, inspectorPort, {
      SCORING_KERNEL: kernel,
      PARTITION_CACHE_MIB: String(cache),
      PARTITION_READ_GAP_KIB: String(gap),
      // Where the model route's time goes (printed below the table).
      SERVER_TIMING: 'on',
      // `--budget`/`--user-cache` let a 1M-item version load (it needs ≈ 98 MiB alone).
      MODEL_MEMORY_MIB: String(option('budget', 96)),
      USER_CACHE_MIB: String(option('user-cache', 16)),
    })
    try {
      const { base } = server
      const t0 = performance.now()
      const first = await timed(`${base}/v1/users/user-1/recommendations?k=10`)
      const coldMs = performance.now() - t0
      if (first.status !== 200) throw new Error(`cold request failed: ${JSON.stringify(first.body)}`)
      const status = (await timed(`${base}/v1/model`)).body as {
        scoringKernel?: string
        memory?: { total: number }
        partitions?: { lists: number; nprobe: number } | null
      }
      console.log(`model status: ${JSON.stringify({ memory: status.memory, partitions: status.partitions })}`)
      const health = (i: number) => `/v1/health?i=${i}`
      const model = (i: number) => `/v1/users/user-${(i * 7919) % USERS}/recommendations?k=10`
      // Partitioned: trained users with 2 events since training each (others than the model
      // route's), answered by fold-in, which probes the lists (precomputed candidates serve only a
      // trained vector). Their events are sent once, before the first server's measurement.
      const foldUsers = PARTITIONED ? await trainedUsersWithEvents(base, model) : undefined
      type Reads = { partitions?: { fetches: number; fetchedBytes: number } | null }
      const readsOf = async () => ((await timed(`${base}/v1/model`)).body as Reads).partitions
      const readsBefore = await readsOf()
      const seq = await sequential([
        { name: 'health', url: (i) => base + health(i) },
        { name: 'model', url: (i) => base + model(i), expectSource: 'model' },
        ...(foldUsers
          ? [
              {
                name: 'foldIn',
                url: (i: number) =>
                  `${base}/v1/users/${foldUsers[i % foldUsers.length]}/recommendations?k=10`,
                expectSource: 'fold-in',
              },
            ]
          : []),
      ])
      const readsAfter = await readsOf()
      const h = seq.health!
      const m = seq.model!
      const f = seq.foldIn
      // Ranged reads and bytes per model request of the sequential phase (cache misses only).
      const perRequest =
        readsBefore && readsAfter
          ? `${((readsAfter.fetches - readsBefore.fetches) / SEQUENTIAL).toFixed(2)} / ${((readsAfter.fetchedBytes - readsBefore.fetchedBytes) / SEQUENTIAL / 1024).toFixed(0)} KiB`
          : '–'

      for (const [route, stats] of [
        ['model', m],
        ['fold-in', f],
      ] as const) {
        if (!stats || stats.phases.size === 0) continue
        // Per phase: median and mean over the sequential requests (phases overlap: `model` and
        // `events` run at once; `read` is inside `lists`).
        const cells = [...stats.phases].map(([name, values]) => {
          const sorted = [...values].sort((a, b) => a - b)
          const mean = values.reduce((sum, v) => sum + v, 0) / values.length
          return `${name} ${percentile(sorted, 50).toFixed(2)} / ${mean.toFixed(2)} (${values.length})`
        })
        console.log(
          `${route} route phases${PARTITIONED ? ` (read gap ${gap} KiB, cache ${cache} MiB)` : ''}, ms p50 / mean (requests): ${cells.join('; ')}`,
        )
      }
      if (f)
        console.log(
          `fold-in route (trained users with events since training): p50 / p99 ${f.p50.toFixed(2)} / ${f.p99.toFixed(2)} ms, p50 / health p50 ${(f.p50 / h.p50).toFixed(2)}`,
        )
      const ch = await cannon(base, health, undefined)
      const cm = await cannon(base, model, undefined)
      rows.push(
        `| ${status.scoringKernel}${status.partitions ? `, probed ${status.partitions.nprobe} of ${status.partitions.lists} lists on demand, read gap ${gap} KiB, cache ${cache} MiB` : ''} | ${ITEMS.toLocaleString('en-US')} | ${perRequest} | ${coldMs.toFixed(0)} | ${h.p50.toFixed(2)} / ${h.p99.toFixed(2)} | ${m.p50.toFixed(2)} / ${m.p99.toFixed(2)} | ${(m.p50 / h.p50).toFixed(2)} | ${f ? `${f.p50.toFixed(2)} / ${f.p99.toFixed(2)} (${(f.p50 / h.p50).toFixed(2)})` : '–'} | ${ch.rps.toFixed(0)} | ${cm.rps.toFixed(0)} (p50 ${cm.p50}, p99 ${cm.p99} ms) | ${cm.errors + cm.non2xx} |`,
      )
    } finally {
      await stopWranglerDev(server)
    }
  }
  console.log(`
scoring kernels under wrangler dev (${SEQUENTIAL} sequential requests per route, interleaved; autocannon 8 connections, ${DURATION_S} s, full speed):`)
  console.log(
    '| kernel | items | ranged list reads / bytes per round (one model + one fold-in request with --partitions, sequential) | cold first request ms | health p50 / p99 ms | model p50 / p99 ms | model p50 / health p50 | fold-in p50 / p99 ms (/ health p50) | health req/s | model req/s (autocannon) | errors |',
  )
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const row of rows) console.log(row)
}

/**
 * Issue 17: filters inside the scan and diversity, each interleaved with the unfiltered model route
 * (the same-run baseline) and health (the framework floor); then the time from `PUT /v1/items` of
 * a new item to its first appearance in a response (its similar list, from its content vector).
 */
async function catalogBenchmark(persist: string, port: number, inspectorPort: number): Promise<void> {
  const server = await startDev(persist, port, inspectorPort, { CATALOG_REFRESH_SECONDS: '10' })
  try {
    const { base } = server
    const first = await timed(`${base}/v1/users/user-1/recommendations?k=10`)
    if (first.status !== 200) throw new Error(`cold request failed: ${JSON.stringify(first.body)}`)
    const user = (i: number) => `${base}/v1/users/user-${(i * 7919) % USERS}/recommendations?k=10`
    const routes: Route[] = [
      { name: 'health', url: (i) => `${base}/v1/health?i=${i}` },
      { name: 'no filter (baseline)', url: (i) => user(i), expectSource: 'model' },
      {
        name: '10 %-selective filter (category=c3)',
        url: (i) => `${user(i)}&category=c3`,
        expectSource: 'model',
      },
      { name: '1 %-selective filter (tag=t42)', url: (i) => `${user(i)}&tag=t42`, expectSource: 'model' },
      {
        name: 'diversity on (maxPerCategory=3, diversity=0.3)',
        url: (i) => `${user(i)}&maxPerCategory=3&diversity=0.3`,
        expectSource: 'model',
      },
    ]
    const seq = await sequential(routes)
    const baseline = seq['no filter (baseline)']!.p50
    console.log(`
catalog filters under wrangler dev (${ITEMS.toLocaleString('en-US')} items × ${DIMS}, K = 10, ${SEQUENTIAL} sequential requests per route, interleaved):`)
    console.log('| request | p50 ms | p99 ms | p50 vs no filter |')
    console.log('|---|---:|---:|---:|')
    for (const [name, s] of Object.entries(seq))
      console.log(
        `| ${name} | ${s.p50.toFixed(2)} | ${s.p99.toFixed(2)} | ${(s.p50 / baseline).toFixed(2)} |`,
      )

    // Under load: 8 connections at full speed on one route at a time, the baseline first and last
    // (its two runs bound the drift of the machine's load during the run).
    const loaded: { name: string; p50: number; p99: number; rps: number; errors: number }[] = []
    for (const route of [...routes.slice(1), routes[1]!]) {
      const r = await cannon(base, (i) => route.url(i).slice(base.length), undefined)
      loaded.push({ name: route.name, p50: r.p50, p99: r.p99, rps: r.rps, errors: r.errors + r.non2xx })
    }
    const loadedBaseline = loaded[0]!.rps
    console.log(`
the same routes under load (autocannon, 8 connections, ${DURATION_S} s each, full speed; baseline first and last):`)
    console.log('| request | p50 ms | p99 ms | req/s | req/s vs no filter | errors |')
    console.log('|---|---:|---:|---:|---:|---:|')
    for (const r of loaded)
      console.log(
        `| ${r.name} | ${r.p50.toFixed(0)} | ${r.p99.toFixed(0)} | ${r.rps.toFixed(0)} | ${(r.rps / loadedBaseline).toFixed(2)} | ${r.errors} |`,
      )

    // PUT → first appearance, in its similar list and in a person's recommendations (the new item
    // carries a tag of its own, so the filtered list holds it as soon as the worker knows it).
    const appearances = { similar: [] as number[], recommendations: [] as number[] }
    for (const [surface, list] of Object.entries(appearances)) {
      for (let n = 0; n < 10; n++) {
        const stamp = `${n}-${Date.now()}`
        const itemId = `new-item-${stamp}`
        const tag = `fresh-${stamp}`
        const t0 = performance.now()
        const put = await fetch(`${base}/v1/items`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' },
          body: JSON.stringify({ items: [{ itemId, categories: ['c3'], tags: ['t42', tag] }] }),
        })
        if (put.status !== 200) throw new Error(`PUT /v1/items answered ${put.status}`)
        for (;;) {
          const answer =
            surface === 'similar'
              ? await timed(`${base}/v1/items/${itemId}/similar?k=10`)
              : await timed(`${user(n)}&tag=${tag}`)
          const items = (answer.body.items ?? []) as { itemId: string }[]
          if (answer.status === 200 && (surface === 'similar' || items.some((i) => i.itemId === itemId)))
            break
          if (performance.now() - t0 > 60_000) throw new Error(`${itemId} did not appear within 60 s`)
        }
        list.push(performance.now() - t0)
      }
      list.sort((a, b) => a - b)
      console.log(`
PUT /v1/items → first response serving the new item (${surface === 'similar' ? 'its similar list' : "a person's recommendations"}), same isolate, 10 items: median ${list[5]!.toFixed(0)} ms, max ${list[9]!.toFixed(0)} ms (includes the PUT itself; another isolate adds up to CATALOG_REFRESH_SECONDS = 10 s)`)
    }
  } finally {
    await stopWranglerDev(server)
  }
}

/**
 * Issue 15: what assignment + recId + served-list logging add to GET recommendations, against the
 * same worker without them, in one run (three `wrangler dev` on copies of one persisted state).
 */
async function experimentComparison(
  persist: string,
  scratch: string,
  port: number,
  inspectorPort: number,
): Promise<void> {
  const { cp } = await import('node:fs/promises')
  const setups: { name: string; vars: Record<string, string>; experiment: boolean }[] = [
    { name: 'baseline (no experiment, RECORD_LISTS=off)', vars: { RECORD_LISTS: 'off' }, experiment: false },
    { name: 'lists recorded, no experiment', vars: {}, experiment: false },
    { name: 'lists recorded + running experiment', vars: {}, experiment: true },
  ]
  const servers: DevServer[] = []
  try {
    for (const [i, setup] of setups.entries()) {
      const dir = i === 0 ? persist : join(scratch, `state-${i}`)
      if (i > 0) await cp(persist, dir, { recursive: true })
      const [p, ip] = i === 0 ? [port, inspectorPort] : await twoFreePorts()
      const server = await startDev(dir, p, ip, setup.vars)
      servers.push(server)
      if (setup.experiment) {
        const admin = { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' }
        const created = (await (
          await fetch(`${server.base}/v1/admin/experiments`, {
            method: 'POST',
            headers: admin,
            body: JSON.stringify({
              name: 'bench',
              surface: 'recommendations',
              variants: [
                { name: 'a', weight: 1, strategy: 'model' },
                { name: 'b', weight: 1, strategy: 'model' },
              ],
            }),
          })
        ).json()) as { id: string }
        const started = await fetch(`${server.base}/v1/admin/experiments/${created.id}/start`, {
          method: 'POST',
          headers: admin,
        })
        if (!started.ok) throw new Error(`starting the experiment failed: ${await started.text()}`)
      }
      const first = await timed(`${server.base}/v1/users/user-1/recommendations?k=10`)
      if (first.status !== 200) throw new Error(`cold request failed: ${JSON.stringify(first.body)}`)
      if (setup.experiment && first.body.variant === 'live')
        throw new Error('the experiment is not serving (variant "live")')
    }
    const model = (i: number) => `/v1/users/user-${(i * 7919) % USERS}/recommendations?k=10`
    const seq = await sequential(
      setups.map((setup, i) => ({
        name: setup.name,
        url: (n) => servers[i]!.base + model(n),
        expectSource: 'model',
      })),
    )
    const base = seq[setups[0]!.name]!
    const rows: string[] = []
    for (const [i, setup] of setups.entries()) {
      const s = seq[setup.name]!
      // Paired: round n of this setup minus round n of the baseline (measured back to back, so a
      // load spike on the shared machine hits both); the median of those differences is far less
      // noisy than a difference of two medians.
      const paired = s.raw.map((ms, n) => ms - base.raw[n]!).sort((a, b) => a - b)
      const c = await cannon(servers[i]!.base, model, undefined)
      rows.push(
        `| ${setup.name} | ${s.p50.toFixed(2)} / ${s.p99.toFixed(2)} | ${(s.p50 - base.p50).toFixed(2)} / ${(s.p99 - base.p99).toFixed(2)} | ${percentile(paired, 50).toFixed(2)} | ${c.rps.toFixed(0)} (p50 ${c.p50}, p99 ${c.p99} ms) | ${c.errors + c.non2xx} |`,
      )
    }
    console.log(`
experiment path under wrangler dev (${ITEMS.toLocaleString('en-US')} items; ${SEQUENTIAL} sequential requests per setup, interleaved; autocannon 8 connections, ${DURATION_S} s, full speed, one setup at a time):`)
    console.log(
      '| setup | sequential p50 / p99 ms | added vs baseline p50 / p99 ms | median paired difference ms | autocannon req/s | errors |',
    )
    console.log('|---|---:|---:|---:|---:|---:|')
    for (const row of rows) console.log(row)
  } finally {
    for (const server of servers) await stopWranglerDev(server)
  }
}

/**
 * Issue 15: what a shadow at sample 1.0 costs GET recommendations and GET similar (its scoring runs
 * after the answer, in the same isolate), against the same worker without a shadow, in one run.
 */
async function shadowComparison(
  persist: string,
  scratch: string,
  port: number,
  inspectorPort: number,
): Promise<void> {
  const { cp } = await import('node:fs/promises')
  const admin = { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' }
  const recs = (i: number) => `/v1/users/user-${(i * 7919) % USERS}/recommendations?k=10`
  const similar = (i: number) => `/v1/items/sku-${String((i * 7919) % ITEMS).padStart(6, '0')}/similar?k=10`
  const servers: DevServer[] = []
  const shadowIds: string[] = []
  try {
    const copy = join(scratch, 'state-shadow')
    await cp(persist, copy, { recursive: true })
    const [p, ip] = await twoFreePorts()
    servers.push(await startDev(persist, port, inspectorPort))
    servers.push(await startDev(copy, p, ip))
    const shadowed = servers[1]!
    for (const surface of ['recommendations', 'similar']) {
      const created = await fetch(`${shadowed.base}/v1/admin/shadows`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({ strategy: 'model', surface, sample: 1, name: `bench ${surface}` }),
      })
      if (created.status !== 201)
        throw new Error(`starting the ${surface} shadow failed: ${await created.text()}`)
      shadowIds.push(((await created.json()) as { id: string }).id)
    }
    for (const server of servers)
      for (const path of [recs(1), similar(1)]) {
        const first = await timed(server.base + path)
        if (first.status !== 200) throw new Error(`cold request failed: ${JSON.stringify(first.body)}`)
      }
    const names = {
      recs: ['recommendations, no shadow', 'recommendations, shadow at sample 1.0'],
      similar: ['similar, no shadow', 'similar, shadow at sample 1.0'],
    }
    const seq = await sequential([
      { name: names.recs[0]!, url: (n) => servers[0]!.base + recs(n), expectSource: 'model' },
      { name: names.recs[1]!, url: (n) => servers[1]!.base + recs(n), expectSource: 'model' },
      { name: names.similar[0]!, url: (n) => servers[0]!.base + similar(n) },
      { name: names.similar[1]!, url: (n) => servers[1]!.base + similar(n) },
    ])
    const rows: string[] = []
    for (const [route, path] of [
      ['recs', recs],
      ['similar', similar],
    ] as const) {
      const base = seq[names[route][0]!]!
      for (const [i, name] of names[route].entries()) {
        const s = seq[name]!
        // Paired: round n with the shadow minus round n without, measured back to back.
        const paired = s.raw.map((ms, n) => ms - base.raw[n]!).sort((a, b) => a - b)
        const c = await cannon(servers[i]!.base, path, undefined)
        rows.push(
          `| ${name} | ${s.p50.toFixed(2)} / ${s.p99.toFixed(2)} | ${(s.p50 - base.p50).toFixed(2)} / ${(s.p99 - base.p99).toFixed(2)} | ${percentile(paired, 50).toFixed(2)} | ${c.rps.toFixed(0)} (p50 ${c.p50}, p99 ${c.p99} ms) | ${c.errors + c.non2xx} |`,
        )
      }
    }
    // The shadows did score: their comparisons (written through the batched buffer).
    const counts: string[] = []
    for (const id of shadowIds) {
      const report = (await (
        await fetch(`${shadowed.base}/v1/admin/shadows/${id}`, { headers: admin })
      ).json()) as { surface: string; overlap: { comparisons: number; averageOverlap: number | null } }
      if (report.overlap.comparisons === 0) throw new Error(`the ${report.surface} shadow compared nothing`)
      counts.push(
        `${report.surface} ${report.overlap.comparisons} (AO ${report.overlap.averageOverlap?.toFixed(3)})`,
      )
    }
    console.log(`
shadow mode under wrangler dev (${ITEMS.toLocaleString('en-US')} items; ${SEQUENTIAL} sequential requests per setup, interleaved; autocannon 8 connections, ${DURATION_S} s, full speed, one setup at a time; comparisons recorded: ${counts.join(', ')}):`)
    console.log(
      '| setup | sequential p50 / p99 ms | added vs no shadow p50 / p99 ms | median paired difference ms | autocannon req/s | errors |',
    )
    console.log('|---|---:|---:|---:|---:|---:|')
    for (const row of rows) console.log(row)
  } finally {
    for (const server of servers) await stopWranglerDev(server)
  }
}

/**
 * The worker source to compare with: `--baseline <git ref>`, or by default the parent of the commit
 * that added `file` (the worker before it: `src/openapi/operations.ts` for `--openapi`,
 * `src/attribution/rec-id.ts` for `--rec-ids`).
 */
async function baselineRef(file: string): Promise<string> {
  const i = args.indexOf('--baseline')
  if (i >= 0 && args[i + 1]) return args[i + 1]!
  const { stdout } = await run('git', ['log', '--diff-filter=A', '--format=%H', '--', file], {
    cwd: packageDir,
  })
  const added = stdout.trim().split('\n').filter(Boolean).at(-1)
  if (!added) throw new Error(`${file} is not committed yet: pass --baseline <git ref>.`)
  return `${added}^`
}

/** `wrangler deploy --dry-run` of a config: the upload size line wrangler prints. */
async function bundleSize(config: string, outdir: string): Promise<string> {
  const { stdout } = await run(wranglerBin, ['deploy', '--dry-run', '--config', config, '--outdir', outdir], {
    cwd: packageDir,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1', NO_COLOR: '1' },
    maxBuffer: 1 << 24,
  })
  return /Total Upload: ([^\n]+)/.exec(stdout)?.[1]?.trim() ?? 'unknown'
}

/** Two workers under `wrangler dev`: a baseline ref's and this checkout's (see {@link baselineAndCurrent}). */
interface BaselinePair {
  ref: string
  /** Baseline first, then this checkout. */
  servers: DevServer[]
  /** Bundle sizes (`wrangler deploy --dry-run`), same order. */
  sizes: [string, string]
  stop: () => Promise<void>
}

/**
 * Two `wrangler dev` at once on copies of the same state: the worker of `ref` (its `src/`, extracted
 * with `git archive` next to this one so it resolves the same node_modules) and this checkout, each
 * answering a first recommendations request; with both bundle sizes.
 */
async function baselineAndCurrent(
  persist: string,
  scratch: string,
  port: number,
  inspectorPort: number,
  ref: string,
): Promise<BaselinePair> {
  const { cp, mkdir } = await import('node:fs/promises')
  const baselineDir = join(packageDir, `.bench-baseline-${process.pid}`)
  const baselineConfig = join(packageDir, `wrangler.bench.${process.pid}.baseline.jsonc`)
  const servers: DevServer[] = []
  const stop = async () => {
    for (const server of servers) await stopWranglerDev(server)
    rmSync(baselineDir, { recursive: true, force: true })
    rmSync(baselineConfig, { force: true })
  }
  try {
    await mkdir(baselineDir, { recursive: true })
    const archive = join(scratch, 'baseline.tar')
    await run('git', ['archive', '--format=tar', '-o', archive, ref, 'src'], { cwd: packageDir })
    await run('tar', ['-xf', archive, '-C', baselineDir])
    const config = readFileSync(BENCH_CONFIG, 'utf8').replace(
      /"main":\s*"src\/index\.ts"/,
      `"main": ".bench-baseline-${process.pid}/src/index.ts"`,
    )
    if (!config.includes('.bench-baseline-')) throw new Error('wrangler.jsonc has no "main": "src/index.ts"')
    writeFileSync(baselineConfig, config)
    const sizes: [string, string] = [
      await bundleSize(baselineConfig, join(scratch, 'bundle-baseline')),
      await bundleSize(BENCH_CONFIG, join(scratch, 'bundle-current')),
    ]
    for (const [i, configPath] of [baselineConfig, BENCH_CONFIG].entries()) {
      const dir = i === 0 ? persist : join(scratch, `state-${i}`)
      if (i > 0) await cp(persist, dir, { recursive: true })
      const [p, ip] = i === 0 ? [port, inspectorPort] : await twoFreePorts()
      const server = await startWranglerDev({
        config: configPath,
        persist: dir,
        port: p,
        inspectorPort: ip,
        vars: { PUBLISHABLE_KEY: KEY, SECRET_KEY: SECRET },
      })
      servers.push(server)
      const first = await timed(`${server.base}/v1/users/user-1/recommendations?k=10`)
      if (first.status !== 200) throw new Error(`cold request failed: ${JSON.stringify(first.body)}`)
    }
    return { ref, servers, sizes, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

/**
 * `--openapi [--baseline <ref>]` (issue 19): the worker with the OpenAPI layer (this checkout)
 * against the same worker before it (the `src/` of the baseline ref, extracted with `git archive`
 * next to this one so it resolves the same node_modules), two `wrangler dev` at once on copies of the
 * same state. Sequential GET recommendations and POST events (10 events, fresh ids) interleaved over
 * both servers, then autocannon at full speed on recommendations, one server at a time; and the
 * bundle size of both (`wrangler deploy --dry-run`).
 */
async function openApiComparison(
  persist: string,
  scratch: string,
  port: number,
  inspectorPort: number,
): Promise<void> {
  const ref = await baselineRef('src/openapi/operations.ts')
  const pair = await baselineAndCurrent(persist, scratch, port, inspectorPort, ref)
  const { servers } = pair
  const [sizeBefore, sizeAfter] = pair.sizes
  const setups = [{ name: `before (${ref})` }, { name: 'with the OpenAPI layer' }]
  try {
    const doc = await fetch(`${servers[1]!.base}/v1/openapi.json`)
    if (!doc.ok) throw new Error(`the OpenAPI worker does not serve /v1/openapi.json (${doc.status})`)
    const before = await fetch(`${servers[0]!.base}/v1/openapi.json`, { headers })
    if (before.status !== 404)
      throw new Error(`the baseline serves /v1/openapi.json (${before.status}): wrong --baseline?`)

    const model = (i: number) => `/v1/users/user-${(i * 7919) % USERS}/recommendations?k=10`
    const post = async (base: string, s: number, i: number) => {
      const now = Date.now()
      const body = JSON.stringify({
        events: Array.from({ length: 10 }, (_, j) => ({
          id: `oa-${s}-${i}-${j}`,
          anonymousId: `oa-visitor-${i % 500}`,
          itemId: `item-${(i * 31 + j) % ITEMS}`,
          type: 'view',
          timestamp: now,
        })),
      })
      const t0 = performance.now()
      const response = await fetch(`${base}/v1/events`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body,
      })
      const answer = (await response.json()) as { accepted?: number }
      if (response.status !== 200 || answer.accepted !== 10)
        throw new Error(`POST /v1/events: ${response.status} ${JSON.stringify(answer)}`)
      return performance.now() - t0
    }
    const times = setups.map(() => ({ recommendations: [] as number[], events: [] as number[] }))
    for (let i = 0; i < SEQUENTIAL + 50; i++) {
      // Alternate which worker goes first, so neither always meets the other's after-effects.
      for (const s of i % 2 === 0 ? [0, 1] : [1, 0]) {
        const server = servers[s]!
        const rec = await timed(server.base + model(i))
        if (rec.status !== 200 || rec.body.source !== 'model')
          throw new Error(`recommendations: ${rec.status} ${JSON.stringify(rec.body).slice(0, 200)}`)
        const ms = await post(server.base, s, i)
        if (i >= 50) {
          times[s]!.recommendations.push(rec.ms)
          times[s]!.events.push(ms)
        }
      }
    }
    const stats = (list: number[]) => {
      const sorted = [...list].sort((a, b) => a - b)
      return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) }
    }
    const rows: string[] = []
    for (const [s, setup] of setups.entries()) {
      const rec = stats(times[s]!.recommendations)
      const ev = stats(times[s]!.events)
      const c = await cannon(servers[s]!.base, model, undefined)
      rows.push(
        `| ${setup.name} | ${rec.p50.toFixed(2)} / ${rec.p99.toFixed(2)} | ${ev.p50.toFixed(2)} / ${ev.p99.toFixed(2)} | ${c.rps.toFixed(0)} (p50 ${c.p50}, p99 ${c.p99} ms) | ${s === 0 ? sizeBefore : sizeAfter} |`,
      )
    }
    console.log(`
OpenAPI layer under wrangler dev (${ITEMS.toLocaleString('en-US')} items; ${SEQUENTIAL} sequential rounds, both workers and both routes interleaved; POST /v1/events with 10 events; autocannon 8 connections, ${DURATION_S} s, full speed, GET recommendations, one worker at a time):`)
    console.log(
      '| worker | GET recommendations p50 / p99 ms | POST /v1/events p50 / p99 ms | autocannon req/s | bundle (wrangler deploy --dry-run) |',
    )
    console.log('|---|---:|---:|---:|---|')
    for (const row of rows) console.log(row)
  } finally {
    await pair.stop()
  }
}

/**
 * `--rec-ids [--baseline <ref>]`: what signing recIds costs (docs/online.md, "Signed recIds"). The
 * worker before signed recIds (by default the parent of the commit that added
 * `src/attribution/rec-id.ts`: UUID recIds) against this checkout, two `wrangler dev` at once on
 * copies of the same state. Per round, on each worker (interleaved, the first alternating): GET
 * recommendations (issues a recId: one HMAC now), POST /v1/impressions with that recId (checks it:
 * one HMAC, then the D1 write), POST /v1/events with 10 clicks carrying it (checks it once). p50/p99
 * and the paired median difference per route; then autocannon at full speed on recommendations.
 */
async function recIdComparison(
  persist: string,
  scratch: string,
  port: number,
  inspectorPort: number,
): Promise<void> {
  const ref = await baselineRef('src/attribution/rec-id.ts')
  const pair = await baselineAndCurrent(persist, scratch, port, inspectorPort, ref)
  const names = [`before (${ref}, UUID recIds)`, 'signed recIds']
  const shapes = [
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    /^[0-9a-f]{24}\.[0-9a-f]{24}$/,
  ]
  try {
    const json = { ...headers, 'content-type': 'application/json' }
    const model = (i: number) => `/v1/users/user-${(i * 7919) % USERS}/recommendations?k=10`
    const routes = ['recommendations', 'impressions', 'events'] as const
    const times = pair.servers.map(() => ({
      recommendations: [] as number[],
      impressions: [] as number[],
      events: [] as number[],
    }))
    const postTimed = async (
      url: string,
      body: string,
    ): Promise<{ ms: number; answer: Record<string, unknown>; status: number }> => {
      const t0 = performance.now()
      const response = await fetch(url, { method: 'POST', headers: json, body })
      const answer = (await response.json()) as Record<string, unknown>
      return { ms: performance.now() - t0, answer, status: response.status }
    }
    for (let i = 0; i < SEQUENTIAL + 50; i++) {
      for (const s of i % 2 === 0 ? [0, 1] : [1, 0]) {
        const { base } = pair.servers[s]!
        const rec = await timed(base + model(i))
        const recId = rec.body.recId
        if (rec.status !== 200 || typeof recId !== 'string' || !shapes[s]!.test(recId))
          throw new Error(
            `recommendations on ${names[s]}: ${rec.status} recId ${String(recId)} (wrong --baseline?)`,
          )
        // The list is written in a batch after the answer (RECORD_FLUSH_MS): the impression is
        // measured as clients send it, right after the answer (signed: a pending mark the list fills).
        const shown = await postTimed(`${base}/v1/impressions`, JSON.stringify({ recIds: [recId] }))
        if (shown.status !== 200)
          throw new Error(`impressions on ${names[s]}: ${shown.status} ${JSON.stringify(shown.answer)}`)
        const now = Date.now()
        const events = JSON.stringify({
          events: Array.from({ length: 10 }, (_, j) => ({
            id: `ri-${s}-${i}-${j}`,
            anonymousId: `ri-visitor-${i % 500}`,
            itemId: `item-${(i * 31 + j) % ITEMS}`,
            type: 'click',
            timestamp: now,
            context: { recId },
          })),
        })
        const sent = await postTimed(`${base}/v1/events`, events)
        if (sent.status !== 200 || sent.answer.accepted !== 10)
          throw new Error(
            `events on ${names[s]}: ${sent.status} ${JSON.stringify(sent.answer).slice(0, 300)}`,
          )
        if (i >= 50) {
          times[s]!.recommendations.push(rec.ms)
          times[s]!.impressions.push(shown.ms)
          times[s]!.events.push(sent.ms)
        }
      }
    }
    const stats = (list: number[]) => {
      const sorted = [...list].sort((a, b) => a - b)
      return `${percentile(sorted, 50).toFixed(2)} / ${percentile(sorted, 99).toFixed(2)}`
    }
    /** Median over rounds of (signed − before): the pairing cancels the machine's drift. */
    const pairedMedian = (route: (typeof routes)[number]) => {
      const d = times[1]![route].map((ms, k) => ms - times[0]![route][k]!).sort((a, b) => a - b)
      return percentile(d, 50)
    }
    const rows: string[] = []
    for (const [s, name] of names.entries()) {
      const c = await cannon(pair.servers[s]!.base, model, undefined)
      rows.push(
        `| ${name} | ${routes.map((r) => stats(times[s]![r])).join(' | ')} | ${c.rps.toFixed(0)} (p50 ${c.p50}, p99 ${c.p99} ms) | ${pair.sizes[s]} |`,
      )
    }
    rows.push(
      `| paired median difference (signed − before) | ${routes.map((r) => `${pairedMedian(r) >= 0 ? '+' : ''}${pairedMedian(r).toFixed(3)}`).join(' | ')} | | |`,
    )
    console.log(`
signed recIds under wrangler dev (${ITEMS.toLocaleString('en-US')} items; ${SEQUENTIAL} sequential rounds, both workers and the three routes interleaved; POST /v1/events with 10 clicks carrying the list's recId; autocannon 8 connections, ${DURATION_S} s, full speed, GET recommendations, one worker at a time):`)
    console.log(
      '| worker | GET recommendations p50 / p99 ms | POST /v1/impressions p50 / p99 ms | POST /v1/events p50 / p99 ms | autocannon req/s | bundle (wrangler deploy --dry-run) |',
    )
    console.log('|---|---:|---:|---:|---:|---|')
    for (const row of rows) console.log(row)
  } finally {
    await pair.stop()
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
