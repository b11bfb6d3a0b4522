/**
 * `GET /v1/admin/metrics?since=&until=` (secret key): per route, request count, 4xx and 5xx
 * counts, latency p50 / p99 and the source mix, from Analytics Engine (SQL API) or D1 (see
 * `runtime.ts` for which).
 *
 * @module
 */
import { ONLINE_TABLES } from '../db/online-schema.js'
import type { Env } from '../env.js'
import { readsAnalyticsEngine } from './runtime.js'

/** Figures of one route. */
export interface RouteFigures {
  route: string
  requests: number
  clientErrors: number
  errors: number
  p50: number
  p99: number
  /** Requests per source (`model`, `fold-in`, `popular`, `trending`). */
  sources: Record<string, number>
}

/** The answer of the endpoint. */
export interface MetricsReport {
  store: 'analytics-engine' | 'd1'
  since: number
  until: number
  routes: RouteFigures[]
}

/** Nearest-rank percentile of ascending values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

/** Most D1 rows read for one report (a local store; production reads Analytics Engine). */
const MAX_ROWS = 200_000

async function fromD1(
  db: D1Database,
  since: number,
  until: number,
  variant?: string,
): Promise<RouteFigures[]> {
  const { results } = await db
    .prepare(
      `SELECT route, status, latency_ms AS ms, source FROM ${ONLINE_TABLES.requestMetrics} WHERE at >= ?1 AND at < ?2 AND (?3 IS NULL OR variant = ?3) ORDER BY at DESC LIMIT ${MAX_ROWS}`,
    )
    .bind(since, until, variant ?? null)
    .all<{ route: string; status: number; ms: number; source: string }>()
  const byRoute = new Map<
    string,
    { latencies: number[]; clientErrors: number; errors: number; sources: Record<string, number> }
  >()
  for (const row of results) {
    const r = byRoute.get(row.route) ?? { latencies: [], clientErrors: 0, errors: 0, sources: {} }
    byRoute.set(row.route, r)
    r.latencies.push(Number(row.ms))
    if (row.status >= 500) r.errors++
    else if (row.status >= 400) r.clientErrors++
    if (row.source) r.sources[row.source] = (r.sources[row.source] ?? 0) + 1
  }
  return [...byRoute.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([route, r]) => {
      const sorted = r.latencies.sort((a, b) => a - b)
      return {
        route,
        requests: sorted.length,
        clientErrors: r.clientErrors,
        errors: r.errors,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        sources: r.sources,
      }
    })
}

/**
 * The Analytics Engine SQL API query (https://developers.cloudflare.com/analytics/analytics-engine/sql-api/):
 * sampled rows are weighted by `_sample_interval`.
 */
export function analyticsEngineQuery(
  dataset: string,
  since: number,
  until: number,
  variant?: string,
): string {
  const s = Math.floor(since / 1000)
  const u = Math.ceil(until / 1000)
  return `SELECT blob1 AS route, blob2 AS source, SUM(_sample_interval) AS requests,
  SUM(IF(double2 >= 500, _sample_interval, 0)) AS errors,
  SUM(IF(double2 >= 400 AND double2 < 500, _sample_interval, 0)) AS clientErrors,
  quantileWeighted(0.5)(double1, _sample_interval) AS p50,
  quantileWeighted(0.99)(double1, _sample_interval) AS p99
FROM ${dataset}
WHERE timestamp >= toDateTime(${s}) AND timestamp < toDateTime(${u})${variant ? ` AND blob3 = '${variant.replace(/[^a-z0-9_-]/g, '')}'` : ''}
GROUP BY route, source FORMAT JSON`
}

async function fromAnalyticsEngine(
  env: Env,
  since: number,
  until: number,
  fetcher: typeof fetch,
  variant?: string,
): Promise<RouteFigures[]> {
  const dataset = env.METRICS_DATASET ?? 'edgerec_metrics'
  const response = await fetcher(
    `https://api.cloudflare.com/client/v4/accounts/${env.METRICS_ACCOUNT_ID}/analytics_engine/sql`,
    {
      method: 'POST',
      headers: { authorization: `Bearer ${env.METRICS_API_TOKEN}` },
      body: analyticsEngineQuery(dataset, since, until, variant),
    },
  )
  if (!response.ok)
    throw new Error(`Analytics Engine SQL API answered ${response.status}: ${await response.text()}`)
  const { data } = (await response.json()) as {
    data: {
      route: string
      source: string
      requests: number
      errors: number
      clientErrors: number
      p50: number
      p99: number
    }[]
  }
  // NOTE: rows are per (route, source); percentiles are combined weighted by requests (an
  // approximation the SQL API's grouping forces; the counts are exact up to sampling).
  const byRoute = new Map<string, RouteFigures>()
  for (const row of data) {
    const n = Number(row.requests)
    const r = byRoute.get(row.route) ?? {
      route: row.route,
      requests: 0,
      clientErrors: 0,
      errors: 0,
      p50: 0,
      p99: 0,
      sources: {},
    }
    byRoute.set(row.route, r)
    r.p50 = (r.p50 * r.requests + Number(row.p50) * n) / (r.requests + n || 1)
    r.p99 = Math.max(r.p99, Number(row.p99))
    r.requests += n
    r.errors += Number(row.errors)
    r.clientErrors += Number(row.clientErrors)
    if (row.source) r.sources[row.source] = (r.sources[row.source] ?? 0) + n
  }
  return [...byRoute.values()].sort((a, b) => a.route.localeCompare(b.route))
}

/** The report of `[since, until)`, of one experiment variant when `variant` is given. */
export async function readMetrics(
  env: Env,
  since: number,
  until: number,
  fetcher: typeof fetch = fetch,
  variant?: string,
): Promise<MetricsReport> {
  if (readsAnalyticsEngine(env))
    return {
      store: 'analytics-engine',
      since,
      until,
      routes: await fromAnalyticsEngine(env, since, until, fetcher, variant),
    }
  return { store: 'd1', since, until, routes: await fromD1(env.DB, since, until, variant) }
}
