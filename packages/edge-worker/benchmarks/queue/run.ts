/**
 * Queued ingestion benchmark (issue 16, "Events beyond one D1"): sustained `POST /v1/events` load
 * on loopback against `wrangler dev`, once with `INGEST_MODE=direct` (the baseline, same run, same
 * machine) and once with `INGEST_MODE=queue` (the worker enqueues; its own consumer writes D1 and
 * the R2 archive). For each mode it reports:
 * - accepted events/s and request latency p50/p99 as the client sees them;
 * - end-to-end events/s: from the first request until D1 holds every accepted event;
 * - lost events: accepted by the API but missing from D1 (must be 0), and for the queue mode also
 *   missing from the R2 archive.
 *
 * D1 is read while `wrangler dev` runs straight from its SQLite file (read-only); the R2 archive is
 * read after the server stopped, through wrangler's own `getPlatformProxy` on the same persistence.
 *
 * Run: `npm run bench:queue -w @edgerec/edge-worker [-- --duration 10 --concurrency 8 --batch 100]`
 *
 * @module
 */
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { promisify } from 'node:util'
import {
  type DevServer,
  packageDir,
  startWranglerDev,
  stopWranglerDev,
  wranglerBin,
  wranglerEnv,
} from '../support/wrangler-dev.js'

const KEY = 'pk_bench_publishable'
const SECRET = 'sk_bench_secret'
const execute = promisify(execFile)

const args = process.argv.slice(2)
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? Number(args[i + 1]) : fallback
}
const DURATION_S = option('duration', 10)
const CONCURRENCY = option('concurrency', 8)
const BATCH = option('batch', 100)

const CONFIG = join(packageDir, 'wrangler.queue-bench.jsonc')

/** wrangler.jsonc without rate limits (one client address drives all the load). */
function writeConfig(): void {
  const text = readFileSync(join(packageDir, 'wrangler.jsonc'), 'utf8').replace(
    /"ratelimits":\s*\[[^\]]*\],/,
    '',
  )
  writeFileSync(CONFIG, text)
}

async function wrangler(argv: string[]): Promise<void> {
  await execute(wranglerBin, argv, { cwd: packageDir, env: wranglerEnv })
}

function startDev(persist: string, mode: 'direct' | 'queue'): Promise<DevServer> {
  return startWranglerDev({
    config: CONFIG,
    persist,
    vars: { PUBLISHABLE_KEY: KEY, SECRET_KEY: SECRET, INGEST_MODE: mode },
  })
}

/** The local D1 database file wrangler dev persists to. */
function d1File(persist: string): string {
  const dir = join(persist, 'v3/d1/miniflare-D1DatabaseObject')
  const file = readdirSync(dir).find((f) => f.endsWith('.sqlite'))
  if (!file) throw new Error(`No D1 file in ${dir}.`)
  return join(dir, file)
}

function countStored(persist: string, ids: readonly string[]): number {
  const db = new DatabaseSync(d1File(persist), { readOnly: true })
  try {
    db.exec('CREATE TEMP TABLE want(id TEXT PRIMARY KEY)')
    const insert = db.prepare('INSERT OR IGNORE INTO want VALUES (?)')
    for (const id of ids) insert.run(id)
    const row = db.prepare('SELECT COUNT(*) AS n FROM events JOIN want USING (id)').get() as { n: number }
    return row.n
  } finally {
    db.close()
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

interface Load {
  accepted: string[]
  requests: number
  failed: number
  latencies: number[]
  seconds: number
}

async function drive(base: string, tag: string): Promise<Load> {
  const accepted: string[] = []
  const latencies: number[] = []
  let requests = 0
  let failed = 0
  const started = performance.now()
  const end = started + DURATION_S * 1000
  let seq = 0
  const client = async (c: number): Promise<void> => {
    while (performance.now() < end) {
      const events = Array.from({ length: BATCH }, () => ({
        id: `${tag}-${c}-${seq++}`,
        userId: `u${seq % 5000}`,
        itemId: `sku-${seq % 20000}`,
        type: 'view',
        timestamp: Date.now(),
      }))
      const t = performance.now()
      requests++
      try {
        const response = await fetch(`${base}/v1/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ events }),
        })
        const body = (await response.json()) as { results?: { id?: string; status: string }[] }
        latencies.push(performance.now() - t)
        if (response.status !== 200) {
          failed++
          continue
        }
        for (const r of body.results ?? []) if (r.status === 'accepted' && r.id) accepted.push(r.id)
      } catch {
        failed++
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, c) => client(c)))
  return {
    accepted,
    requests,
    failed,
    latencies: latencies.sort((a, b) => a - b),
    seconds: (performance.now() - started) / 1000,
  }
}

async function archivedIds(persist: string): Promise<Set<string>> {
  const { getPlatformProxy } = await import('wrangler')
  const proxy = await getPlatformProxy<{ MODELS_R2: R2Bucket }>({
    configPath: CONFIG,
    persist: { path: join(persist, 'v3') },
  })
  const ids = new Set<string>()
  try {
    let cursor: string | undefined
    do {
      const page = await proxy.env.MODELS_R2.list({
        prefix: 'events/archive/',
        ...(cursor ? { cursor } : {}),
      })
      for (const object of page.objects) {
        const text = await (await proxy.env.MODELS_R2.get(object.key))!.text()
        for (const line of text.split('\n')) if (line) ids.add((JSON.parse(line) as { id: string }).id)
      }
      cursor = page.truncated ? page.cursor : undefined
    } while (cursor)
  } finally {
    await proxy.dispose()
  }
  return ids
}

async function measure(mode: 'direct' | 'queue'): Promise<Record<string, number | string>> {
  const persist = await mkdtemp(join(tmpdir(), `edgerec-bench-queue-${mode}-`))
  await wrangler([
    'd1',
    'migrations',
    'apply',
    'edgerec',
    '--local',
    '--config',
    CONFIG,
    '--persist-to',
    persist,
  ])
  const dev = await startDev(persist, mode)
  let load: Load
  let endToEnd = Number.NaN
  let stored = 0
  try {
    const t0 = performance.now()
    load = await drive(dev.base, mode)
    const deadline = performance.now() + 120_000
    for (;;) {
      stored = countStored(persist, load.accepted)
      if (stored === load.accepted.length || performance.now() > deadline) break
      await new Promise((r) => setTimeout(r, 200))
    }
    endToEnd = (performance.now() - t0) / 1000
  } finally {
    await stopWranglerDev(dev)
  }
  const row: Record<string, number | string> = {
    mode,
    requests: load.requests,
    failedRequests: load.failed,
    acceptedEvents: load.accepted.length,
    'accepted events/s': Math.round(load.accepted.length / load.seconds),
    'p50 ms': Number(percentile(load.latencies, 50).toFixed(1)),
    'p99 ms': Number(percentile(load.latencies, 99).toFixed(1)),
    'end-to-end events/s (into D1)': Math.round(stored / endToEnd),
    'lost (not in D1)': load.accepted.length - stored,
  }
  if (mode === 'queue') {
    const archived = await archivedIds(persist)
    row['lost (not in R2 archive)'] = load.accepted.filter((id) => !archived.has(id)).length
  }
  rmSync(persist, { recursive: true, force: true })
  return row
}

async function main(): Promise<void> {
  writeConfig()
  console.log(
    `Queued ingestion benchmark: ${DURATION_S} s per mode, ${CONCURRENCY} concurrent clients, ${BATCH} events per request; node ${process.version}, ${cpus().length} cores, wrangler dev on 127.0.0.1.`,
  )
  try {
    const rows = [await measure('direct'), await measure('queue')]
    console.table(rows)
    const [direct, queued] = rows as [Record<string, number>, Record<string, number>]
    console.log(
      `queue / direct (same run): accepted events/s ×${(queued['accepted events/s']! / direct['accepted events/s']!).toFixed(2)}, p50 ×${(queued['p50 ms']! / direct['p50 ms']!).toFixed(2)}, end-to-end ×${(queued['end-to-end events/s (into D1)']! / direct['end-to-end events/s (into D1)']!).toFixed(2)}`,
    )
  } finally {
    rmSync(CONFIG, { force: true })
  }
}

await main()
