/**
 * The demo's dashboard: the live model and its offline metrics, the running (or most recent)
 * experiment's CTR per variant with 95 % Wilson intervals and p-values, request volume, latency
 * p50/p99 and the source mix, drawn with Chart.js and refreshed every 5 s.
 *
 * It calls the worker's admin API through its own origin (`/dashboard-api/…`, which the demo's
 * server forwards to the worker: admin routes answer no CORS) with the SECRET key, read from the URL
 * fragment (`#key=…`, which browsers never send to a server) or typed into the form. That is for the
 * local demo only: in production this page must sit behind your own authentication, with the key
 * kept server-side (your backend adds it when forwarding). The store page never sees the key.
 * Past model versions and their offline metrics come from the model registry
 * (`/dashboard-api/versions`).
 */
import { Chart, type ChartConfiguration, registerables } from 'chart.js'
import { formatPValue } from './format.js'

Chart.register(...registerables)

interface Proportion {
  x: number
  n: number
  rate: number
  low: number
  high: number
}
interface VariantResult {
  name: string
  impressions: number
  clicks: number
  ctr: Proportion
  vsControl: { ctr: { z: number; pValue: number | null; difference: number } } | null
}
interface Results {
  experiment: { id: string; name: string; status: string }
  control: string
  test: string
  variants: VariantResult[]
  days: { day: string; variants: { name: string; ctr: Proportion }[] }[]
  /** Asked for with `?interval=minute`. */
  series?: { at: string; variants: { name: string; ctr: Proportion }[] }[]
}
interface RouteMetrics {
  route: string
  requests: number
  clientErrors: number
  errors: number
  p50: number | null
  p99: number | null
  sources: Record<string, number>
}
interface Metrics {
  store: string
  routes: RouteMetrics[]
}
interface ModelInfo {
  version: string | null
  createdAt: string | null
  dims: number | null
  counts: { users: number; items: number; interactions: number } | null
  metrics: { k: number; split: string; users: number; models: Record<string, Record<string, number>> } | null
  scoringKernel: string | null
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const COLOURS = ['#8a94a6', '#2f80ed', '#27ae60', '#eb5757', '#f2994a', '#9b51e0', '#56ccf2', '#bb6bd9']
const pct = (x: number) => `${(100 * x).toFixed(2)} %`

/** The worker's API as this page reaches it: on its own origin, forwarded by the demo's server. */
const API = `${location.origin}/dashboard-api`

function givenKey(): string | undefined {
  return new URLSearchParams(location.hash.slice(1)).get('key') ?? undefined
}

interface RegistryVersion {
  version: string
  createdAt: string
  evaluation: { k: number; models: Record<string, Record<string, number>> } | null
}

/** Marks a canvas with how many data points its chart holds (what the browser test checks). */
function mark(chart: Chart): void {
  const points = chart.data.datasets.reduce(
    (sum, d) => sum + (d.data as unknown[]).filter((v) => v !== null && v !== undefined).length,
    0,
  )
  chart.canvas.dataset.points = String(points)
}

const charts = new Map<string, Chart>()
function draw(id: string, build: () => ChartConfiguration): void {
  const config = build()
  const existing = charts.get(id)
  if (existing) {
    existing.data = config.data
    existing.update('none')
    mark(existing)
    return
  }
  const chart = new Chart($<HTMLCanvasElement>(id), {
    ...config,
    options: { animation: false, ...config.options },
  })
  charts.set(id, chart)
  mark(chart)
}

async function refresh(endpoint: string, key: string): Promise<void> {
  const get = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${endpoint}${path}`, { headers: { authorization: `Bearer ${key}` } })
    if (!response.ok) throw new Error(`${path} answered ${response.status}: ${await response.text()}`)
    return (await response.json()) as T
  }
  const now = Date.now()
  // The last 20 minutes, per minute (one metrics call per bucket).
  const BUCKET_MS = 60_000
  const buckets = Array.from({ length: 20 }, (_, i) => now - (20 - i) * BUCKET_MS)
  const [model, metrics, volume, list, registry] = await Promise.all([
    get<ModelInfo>('/v1/model'),
    get<Metrics>(`/v1/admin/metrics?since=${now - 3_600_000}&until=${now}`),
    Promise.all(
      buckets.map((since) => get<Metrics>(`/v1/admin/metrics?since=${since}&until=${since + BUCKET_MS}`)),
    ),
    get<{ experiments: { id: string; status: string }[] }>('/v1/admin/experiments'),
    get<{ versions: RegistryVersion[] }>('/versions'),
  ])
  const current = list.experiments.find((e) => e.status === 'running') ?? list.experiments[0]
  const results = current
    ? await get<Results>(`/v1/admin/experiments/${current.id}/results?interval=minute`)
    : undefined

  // Live model and its offline metrics.
  $('model-version').textContent = model.version ?? 'none'
  $('model-facts').textContent = model.counts
    ? `${model.counts.users} users × ${model.counts.items} items, ${model.counts.interactions} interactions, ${model.dims} factors, kernel ${model.scoringKernel}, trained ${model.createdAt ?? '?'}`
    : 'No model loaded.'
  // Every version of the registry (oldest first, the last 12) with its held-out evaluation.
  const versions = registry.versions.slice(-12)
  const k = versions.find((v) => v.evaluation)?.evaluation?.k ?? model.metrics?.k ?? 10
  const series = [
    ['als', 'ndcg'],
    ['als', 'recall'],
    ['popularity', 'ndcg'],
    ['popularity', 'recall'],
  ] as const
  $('versions-facts').textContent =
    `${registry.versions.length} version(s) in the registry; live: ${model.version ?? 'none'}`
  draw('chart-offline', () => ({
    type: 'bar',
    data: {
      labels: versions.map((v) => `${v.version === model.version ? '● ' : ''}${v.version.slice(0, 15)}`),
      datasets: series.map(([name, metric], i) => ({
        label: `${name} ${metric}@${k}`,
        data: versions.map((v) => v.evaluation?.models[name]?.[metric] ?? null),
        backgroundColor: name === 'als' ? COLOURS[1 + i] : `${COLOURS[0]}${i === 2 ? 'ff' : '99'}`,
      })),
    },
    options: {
      plugins: { title: { display: true, text: 'held-out evaluation per version (● live)' } },
    },
  }))

  // The experiment: CTR per variant with its interval.
  if (results) {
    $('experiment-name').textContent = `${results.experiment.name} (${results.experiment.status})`
    $('experiment-facts').textContent = results.variants
      .map((v) =>
        v.vsControl
          ? `${v.name}: ${pct(v.ctr.rate)} [${pct(v.ctr.low)}, ${pct(v.ctr.high)}], p = ${formatPValue(v.vsControl.ctr.pValue)} vs ${results.control}`
          : `${v.name} (control): ${pct(v.ctr.rate)} [${pct(v.ctr.low)}, ${pct(v.ctr.high)}], n = ${v.ctr.n}`,
      )
      .join(' · ')
    const names = results.variants.map((v) => v.name)
    draw('chart-ctr', () => ({
      type: 'bar',
      data: {
        labels: names,
        datasets: [
          {
            type: 'bar',
            label: '95 % Wilson interval',
            data: results.variants.map((v) => [v.ctr.low, v.ctr.high] as [number, number]),
            backgroundColor: results.variants.map((_, i) => `${COLOURS[i % COLOURS.length]}66`),
          },
          {
            type: 'line',
            label: 'CTR (lists with a click / impressions)',
            data: results.variants.map((v) => v.ctr.rate),
            showLine: false,
            pointRadius: 7,
            pointBackgroundColor: results.variants.map((_, i) => COLOURS[i % COLOURS.length]!),
          },
        ] as ChartConfiguration['data']['datasets'],
      },
      options: { scales: { y: { beginAtZero: true, title: { display: true, text: 'CTR' } } } },
    }))
    // Per minute of the served time while the experiment is short, per day once it spans days.
    const byDay = results.days.length >= 3
    const time = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    const points = byDay
      ? results.days.map((d) => ({ at: d.day, variants: d.variants }))
      : (results.series ?? []).slice(-60).map((s) => ({ at: time(s.at), variants: s.variants }))
    $('ctr-axis').textContent = byDay ? '(per UTC day)' : '(per minute of the served time)'
    draw('chart-ctr-time', () => ({
      type: 'line',
      data: {
        labels: points.map((p) => p.at),
        datasets: names.flatMap((name, i) => {
          const colour = COLOURS[i % COLOURS.length]!
          const of = (pick: (c: Proportion) => number) =>
            points.map((p) => {
              const v = p.variants.find((x) => x.name === name)
              return v && v.ctr.n > 0 ? pick(v.ctr) : null
            })
          return [
            {
              label: `${name} high`,
              data: of((c) => c.high),
              borderWidth: 0,
              pointRadius: 0,
              fill: '+1',
              backgroundColor: `${colour}33`,
            },
            { label: `${name} low`, data: of((c) => c.low), borderWidth: 0, pointRadius: 0, fill: false },
            {
              label: name,
              data: of((c) => c.rate),
              borderColor: colour,
              backgroundColor: colour,
              pointRadius: 4,
            },
          ]
        }),
      },
      options: {
        plugins: { legend: { labels: { filter: (item) => !/ (high|low)$/.test(item.text) } } },
        scales: { y: { beginAtZero: true, title: { display: true, text: 'CTR, 95 % band' } } },
      },
    }))
  } else {
    $('experiment-name').textContent = 'none yet'
    $('experiment-facts').textContent =
      'Run the simulated audience: npm run simulate -w @edgerec/example-demo-store'
  }

  // Request volume over the last hour, per route.
  const routes = [...new Set(volume.flatMap((m) => m.routes.map((r) => r.route)))].sort()
  draw('chart-volume', () => ({
    type: 'bar',
    data: {
      labels: buckets.map((t) => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })),
      datasets: routes.map((route, i) => ({
        label: route,
        data: volume.map((m) => m.routes.find((r) => r.route === route)?.requests ?? 0),
        backgroundColor: COLOURS[(i + 1) % COLOURS.length],
      })),
    },
    options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
  }))

  // Latency percentiles and the source mix over the last hour.
  $('metrics-store').textContent = `(store: ${metrics.store})`
  draw('chart-latency', () => ({
    type: 'bar',
    data: {
      labels: metrics.routes.map((r) => r.route),
      datasets: [
        { label: 'p50 ms', data: metrics.routes.map((r) => r.p50), backgroundColor: COLOURS[1] },
        { label: 'p99 ms', data: metrics.routes.map((r) => r.p99), backgroundColor: COLOURS[3] },
      ],
    },
    options: { indexAxis: 'y' },
  }))
  const sources = new Map<string, number>()
  for (const r of metrics.routes)
    for (const [s, n] of Object.entries(r.sources)) sources.set(s, (sources.get(s) ?? 0) + n)
  draw('chart-sources', () => ({
    type: 'doughnut',
    data: {
      labels: [...sources.keys()],
      datasets: [
        {
          data: [...sources.values()],
          backgroundColor: [...sources.keys()].map((_, i) => COLOURS[(i + 1) % COLOURS.length]!),
        },
      ],
    },
  }))
  document.body.dataset.ready = 'true'
  document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes ?? '0') + 1)
}

function start(key: string): void {
  const loop = async () => {
    try {
      await refresh(API, key)
      $('problem').hidden = true
    } catch (error) {
      $('problem').hidden = false
      $('problem').textContent =
        `Could not read the worker through ${API}: ${error instanceof Error ? error.message : String(error)}`
    }
    setTimeout(loop, 5000)
  }
  void loop()
}

const given = givenKey()
if (given) start(given)
else {
  const form = $<HTMLFormElement>('key-form')
  form.hidden = false
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    form.hidden = true
    start($<HTMLInputElement>('key-input').value)
  })
}
