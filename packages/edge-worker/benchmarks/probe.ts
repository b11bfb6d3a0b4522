/**
 * Black-box probe (issue 13): fuzzes every route of the worker under `wrangler dev` with seeded
 * random requests (methods, paths, ids, query strings, keys, user tokens, bodies) and reports what
 * must never happen: a 5xx answer, an error that is not JSON, a request that hangs. It starts
 * `wrangler dev` itself on a free port on 127.0.0.1 (with a published model and migrated D1 in a
 * temporary state directory) and stops it at the end. Exit code 1 when anything was found.
 *
 * Run: `npm run probe -w @edgerec/edge-worker [-- --requests 10000 --concurrency 16 --seconds 600
 * --timeout-ms 15000 --seed 13]`
 *
 * @module
 */
import { execFile } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { mulberry32, signUserToken } from '@edgerec/core'
import { publishVersion, trainClusteredModel } from '../test/fixtures/model.ts'
import {
  type DevServer,
  packageDir,
  startWranglerDev,
  stopWranglerDev,
  wranglerBin,
  wranglerEnv,
} from './support/wrangler-dev.js'

const PROBE_CONFIG = join(packageDir, 'wrangler.probe.jsonc')
const KEY = 'pk_probe_publishable'
const SECRET = 'sk_probe_secret'
const TOKEN_SECRET = 'probe-user-token-secret-0123456789abcdef'
const execute = promisify(execFile)

const args = process.argv.slice(2)
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`)
  const value = i >= 0 ? Number(args[i + 1]) : fallback
  return Number.isFinite(value) ? value : fallback
}
const REQUESTS = option('requests', 10_000)
const CONCURRENCY = option('concurrency', 16)
const SECONDS = option('seconds', 600)
const TIMEOUT_MS = option('timeout-ms', 15_000)
const SEED = option('seed', 13)

/** wrangler.jsonc with the rate limits raised out of reach: the probe sends everything from one address. */
function writeProbeConfig(): void {
  const text = readFileSync(join(packageDir, 'wrangler.jsonc'), 'utf8').replace(
    /("limit":\s*)\d+/g,
    (_m, head: string) => `${head}1000000000`,
  )
  writeFileSync(PROBE_CONFIG, text)
}

async function prepareState(persist: string): Promise<{ items: string[]; users: string[] }> {
  await execute(
    wranglerBin,
    ['d1', 'migrations', 'apply', 'edgerec', '--local', '--persist-to', persist, '-c', PROBE_CONFIG],
    { cwd: packageDir, env: wranglerEnv },
  )
  const { getPlatformProxy } = await import('wrangler')
  const proxy = await getPlatformProxy<{ MODELS_KV: KVNamespace; MODELS_R2: R2Bucket }>({
    configPath: PROBE_CONFIG,
    persist: { path: join(persist, 'v3') },
    remoteBindings: false,
    envFiles: [],
  })
  try {
    const fixture = trainClusteredModel({ version: 'probe-v1', seed: 13, trainedUntil: Date.now() - 60_000 })
    // With precomputed candidates in the buckets (issue 16), so the fuzzed recommendations of
    // trained users take that path as well as the scan.
    await publishVersion(proxy.env, fixture, { candidates: 20 })
    return { items: fixture.itemIds, users: fixture.users.map((u) => u.id) }
  } finally {
    await proxy.dispose()
  }
}

function startDev(persist: string): Promise<DevServer> {
  return startWranglerDev({
    config: PROBE_CONFIG,
    persist,
    vars: {
      PUBLISHABLE_KEY: KEY,
      SECRET_KEY: SECRET,
      USER_TOKEN_SECRET: TOKEN_SECRET,
      ALLOWED_ORIGINS: 'https://shop.example',
    },
    readyPath: '/v1/health',
    ready: (response) => response.ok,
    timeoutMs: 120_000,
  })
}

/** One fuzzed request. */
interface Probe {
  method: string
  path: string
  headers: Record<string, string>
  body?: string
}

function fuzzer(random: () => number, known: { items: string[]; users: string[] }, tokens: string[]) {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!
  const weird = [
    '',
    'a'.repeat(300),
    '%00',
    '..%2F..%2Fetc',
    '%F0%9F%98%80',
    'x%20y',
    '%22%3E%3Cscript%3E',
    '-1',
    'null',
    '%E2%80%AE',
    '%ZZ',
  ]
  const id = (list: string[]) =>
    random() < 0.6
      ? encodeURIComponent(pick(list))
      : random() < 0.5
        ? `probe-${Math.floor(random() * 1e6)}`
        : pick(weird)
  const kValues = ['', '1', '10', '100', '101', '0', '-3', '0x10', '1e2', 'abc', '9'.repeat(40), '5.5', '%20']
  const query = (): string => {
    const parts: string[] = []
    if (random() < 0.6) parts.push(`k=${pick(kValues)}`)
    if (random() < 0.3) parts.push(`explain=${pick(['1', '0', 'true', 'maybe', ''])}`)
    if (random() < 0.3)
      parts.push(
        `exclude=${Array.from({ length: Math.floor(random() * 250) }, () => id(known.items)).join(',')}`,
      )
    if (random() < 0.2) parts.push(`kind=${pick(['popular', 'trending', 'hot', ''])}`)
    if (random() < 0.1) parts.push(`${pick(['key', 'x', 'k[]', '__proto__'])}=${pick(['1', KEY, SECRET])}`)
    return parts.length > 0 ? `?${parts.join('&')}` : ''
  }
  const event = (): unknown => {
    const base: Record<string, unknown> = {
      id: random() < 0.9 ? crypto.randomUUID() : pick([1, '', null, 'dup-id']),
      itemId: random() < 0.9 ? pick(known.items) : pick(['', 'x'.repeat(600), 7, 'bad id']),
      type: pick(['view', 'click', 'purchase', 'add_to_cart', 'Bad Type', 'custom_event', '', 3]),
      timestamp: pick([
        Date.now(),
        new Date().toISOString(),
        new Date().toISOString().slice(0, 10),
        Date.now() + 86_400_000,
        0,
        'yesterday',
        1e20,
      ]),
    }
    if (random() < 0.7)
      base.userId = random() < 0.5 ? pick(known.users) : `probe-user-${Math.floor(random() * 1e4)}`
    if (random() < 0.5) base.anonymousId = `probe-anon-${Math.floor(random() * 1e4)}`
    if (random() < 0.2) base.value = pick([1, -1, 1e9, 'x', Number.NaN])
    if (random() < 0.2) base.context = pick([{ page: 'home' }, { deep: { a: 1 } }, [], 'str'])
    if (random() < 0.05) base.extra = 'unknown field'
    return base
  }
  const eventsBody = (): string => {
    const r = random()
    if (r < 0.05) return '{"events": ['
    if (r < 0.1) return JSON.stringify(Array.from({ length: 3 }, event))
    if (r < 0.13) return JSON.stringify({ events: Array.from({ length: 501 }, event) })
    if (r < 0.16) return 'x'.repeat(1024 * 1024 + 10)
    if (r < 0.2) return JSON.stringify(pick([null, 1, 'str', {}, { events: {} }, { events: [] }]))
    return JSON.stringify({ events: Array.from({ length: 1 + Math.floor(random() * 40) }, event) })
  }
  const identifyBody = (): string =>
    random() < 0.2
      ? pick(['{', 'null', '[]', '{"userId":1}', 'x'.repeat(20_000)])
      : JSON.stringify({ userId: id(known.users), anonymousId: `probe-anon-${Math.floor(random() * 1e4)}` })
  const auth = (): Record<string, string> => {
    const r = random()
    const headers: Record<string, string> = {}
    if (r < 0.6) headers.authorization = `Bearer ${KEY}`
    else if (r < 0.75) headers.authorization = `Bearer ${SECRET}`
    else if (r < 0.8) headers['x-edgerec-key'] = KEY
    else if (r < 0.85)
      headers.authorization = pick(['Bearer', 'Basic abc', `Bearer ${KEY} extra`, 'Bearer wrong'])
    if (random() < 0.2) headers['x-edgerec-user-token'] = pick(tokens)
    if (random() < 0.1) headers.origin = pick(['https://shop.example', 'https://evil.example'])
    return headers
  }
  const routes: (() => Probe)[] = [
    () => ({ method: 'POST', path: '/v1/events', headers: auth(), body: eventsBody() }),
    () => ({ method: 'POST', path: '/v1/identify', headers: auth(), body: identifyBody() }),
    () => ({
      method: pick(['GET', 'GET', 'HEAD']),
      path: `/v1/users/${id(known.users)}/recommendations${query()}`,
      headers: auth(),
    }),
    () => ({ method: 'GET', path: `/v1/items/${id(known.items)}/similar${query()}`, headers: auth() }),
    () => ({ method: 'GET', path: `/v1/popular${query()}`, headers: auth() }),
    () => ({ method: 'GET', path: '/v1/health', headers: {} }),
    () => ({ method: 'GET', path: '/v1/model', headers: auth() }),
    () => ({ method: 'POST', path: '/v1/admin/models/rollback', headers: auth() }),
    () => ({
      method: 'POST',
      path: `/v1/admin/models/${pick(['probe-v1', 'nope', '..', 'a'.repeat(200)])}/activate`,
      headers: auth(),
    }),
    () => ({
      method: 'DELETE',
      path: `/v1/admin/users/probe-user-${Math.floor(random() * 1e4)}`,
      headers: auth(),
    }),
    () => ({
      method: pick(['PUT', 'PATCH', 'DELETE', 'OPTIONS', 'GET', 'POST']),
      path: pick([
        '/v1/events',
        '/v1/popular',
        '/v1/users/u/recommendations',
        '/v1/admin/users/u',
        '/',
        '/v2/x',
        '/v1',
      ]),
      headers: { ...auth(), 'access-control-request-method': 'POST', origin: 'https://shop.example' },
    }),
  ]
  return (): Probe => pick(routes)()
}

interface Finding {
  kind: '5xx' | 'non-json' | 'hang' | 'network'
  method: string
  path: string
  status?: number
  detail: string
}

async function main(): Promise<void> {
  const persist = await mkdtemp(join(tmpdir(), 'edgerec-probe-'))
  writeProbeConfig()
  let dev: DevServer | undefined
  try {
    console.log('probe: preparing D1 and a model, starting wrangler dev on 127.0.0.1 …')
    const known = await prepareState(persist)
    dev = await startDev(persist)
    const tokens = [
      await signUserToken(known.users[0]!, TOKEN_SECRET),
      await signUserToken(known.users[1]!, TOKEN_SECRET, { ttlSeconds: 1, now: Date.now() - 3_600_000 }),
      await signUserToken(known.users[2]!, 'another-secret-0123456789abcdef-0123'),
      'not-a-token',
      'a.b.c',
    ]
    // core's mulberry32: a finding can be replayed with the same `--seed`.
    const random = mulberry32(SEED)
    const next = fuzzer(random, known, tokens)
    const findings: Finding[] = []
    const statuses = new Map<number, number>()
    const latencies: number[] = []
    let sent = 0
    const started = Date.now()
    const deadline = started + SECONDS * 1000
    const base = dev.base
    const worker = async (): Promise<void> => {
      while (sent < REQUESTS && Date.now() < deadline) {
        sent++
        const probe = next()
        const t0 = performance.now()
        try {
          const response = await fetch(base + probe.path, {
            method: probe.method,
            headers: probe.headers,
            ...(probe.body !== undefined ? { body: probe.body } : {}),
            signal: AbortSignal.timeout(TIMEOUT_MS),
          })
          const text = await response.text()
          latencies.push(performance.now() - t0)
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1)
          if (response.status >= 500)
            findings.push({
              kind: '5xx',
              method: probe.method,
              path: probe.path.slice(0, 200),
              status: response.status,
              detail: text.slice(0, 300),
            })
          const bodyless =
            probe.method === 'HEAD' || response.status === 204 || (probe.method === 'OPTIONS' && text === '')
          if (!bodyless) {
            let json: unknown
            try {
              json = JSON.parse(text)
            } catch {
              json = undefined
            }
            const isError = response.status >= 400
            const ok =
              json !== undefined &&
              (!isError ||
                (typeof (json as { error?: { code?: unknown } }).error?.code === 'string' &&
                  typeof (json as { error?: { message?: unknown } }).error?.message === 'string'))
            if (!ok)
              findings.push({
                kind: 'non-json',
                method: probe.method,
                path: probe.path.slice(0, 200),
                status: response.status,
                detail: text.slice(0, 300),
              })
          }
        } catch (error) {
          const timedOut = (error as Error).name === 'TimeoutError'
          findings.push({
            kind: timedOut ? 'hang' : 'network',
            method: probe.method,
            path: probe.path.slice(0, 200),
            detail: String((error as Error).message),
          })
        }
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker))
    const seconds = (Date.now() - started) / 1000
    latencies.sort((a, b) => a - b)
    const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0
    const count = (kind: Finding['kind']) => findings.filter((f) => f.kind === kind).length
    const report = {
      seed: SEED,
      requests: sent,
      seconds: Number(seconds.toFixed(1)),
      concurrency: CONCURRENCY,
      statuses: Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])),
      latencyMs: { p50: Number(at(0.5).toFixed(1)), p99: Number(at(0.99).toFixed(1)) },
      fiveXX: count('5xx'),
      nonJson: count('non-json'),
      hangs: count('hang'),
      networkErrors: count('network'),
      samples: findings.slice(0, 20),
    }
    console.log(JSON.stringify(report, null, 2))
    console.log(
      `probe: ${sent} requests in ${seconds.toFixed(1)} s: ${report.fiveXX} 5xx / ${report.nonJson} non-JSON / ${report.hangs} hangs (${report.networkErrors} network errors)`,
    )
    if (findings.length > 0) process.exitCode = 1
  } finally {
    if (dev) await stopWranglerDev(dev)
    rmSync(PROBE_CONFIG, { force: true })
    rmSync(persist, { recursive: true, force: true })
  }
}

await main()
