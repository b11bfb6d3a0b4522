/**
 * The demo's two servers, both on 127.0.0.1: the edge worker under `wrangler dev` (with the demo's
 * persistence folder, so it serves the local D1/KV/R2 the preparation filled) and the store page
 * under Vite (with `/config.json` pointing at the worker and `/catalog.json` from the generator).
 *
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream, existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createServer as createNetServer } from 'node:net'
import { join } from 'node:path'
import { type ModelManifest, signUserToken } from '@edgerec/core'
import type { Plugin } from 'vite'
import { bin } from './exec.js'
import { type DemoLayout, demoStoreDir, workerConfig, workerDir } from './layout.js'
import { listVersions, readManifest } from './prepare.js'

/** A running server. */
export interface RunningServer {
  url: string
  stop(): Promise<void>
}

/** Keys the local worker accepts (the demo's own; never use these in production). */
export const DEMO_KEYS = {
  publishable: 'pk_demo_local',
  secret: 'sk_demo_local',
  /** The worker's `USER_TOKEN_SECRET`, shared with the demo's stand-in backend (`/user-token`). */
  userTokenSecret: 'demo-user-token-secret-0123456789abcdef',
} as const

/** A free TCP port on 127.0.0.1 (or `preferred` when it is free). */
export async function freePort(preferred = 0): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number | undefined>((resolvePromise) => {
      const server = createNetServer()
      server.once('error', () => resolvePromise(undefined))
      server.listen(port, '127.0.0.1', () => {
        const address = server.address()
        const got = typeof address === 'object' && address ? address.port : undefined
        server.close(() => resolvePromise(got))
      })
    })
  if (preferred > 0) {
    const port = await tryPort(preferred)
    if (port !== undefined) return port
  }
  const port = await tryPort(0)
  if (port === undefined) throw new Error('No free TCP port on 127.0.0.1.')
  return port
}

/** Options of {@link startWorker}. */
export interface WorkerOptions {
  layout: DemoLayout
  /** Preferred port (another free one is used when taken). Default 8787. */
  port?: number
  /** Seconds between the worker's checks of `models/live`. Default 5 (production default: 30). */
  refreshSeconds?: number
  /** Where wrangler's output goes. Default `<state>/worker.log`. */
  logFile?: string
}

/** The running worker, with the log file of `wrangler dev`. */
export interface RunningWorker extends RunningServer {
  logFile: string
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolvePromise) => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
      resolvePromise()
      return
    }
    const pid = child.pid
    const kill = (signal: NodeJS.Signals) => {
      try {
        // The child leads its own process group (detached): this also stops workerd.
        process.kill(-pid, signal)
      } catch {
        // Already gone.
      }
    }
    const timer = setTimeout(() => kill('SIGKILL'), 5000)
    child.once('exit', () => {
      clearTimeout(timer)
      resolvePromise()
    })
    kill('SIGTERM')
  })
}

async function tail(path: string, chars = 3000): Promise<string> {
  return existsSync(path) ? (await readFile(path, 'utf8')).slice(-chars) : ''
}

/**
 * Starts `wrangler dev --ip 127.0.0.1` for the edge worker with the demo's persistence folder and
 * waits until `GET /v1/health` answers.
 */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const port = await freePort(options.port ?? 8787)
  const inspectorPort = await freePort(0)
  const logFile = options.logFile ?? join(options.layout.dir, 'worker.log')
  const log = createWriteStream(logFile, { flags: 'a' })
  await new Promise((resolvePromise) => log.once('open', resolvePromise))
  const args = [
    'dev',
    '-c',
    workerConfig,
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--inspector-port',
    String(inspectorPort),
    '--persist-to',
    options.layout.persistTo,
    '--var',
    `PUBLISHABLE_KEY:${DEMO_KEYS.publishable}`,
    '--var',
    `SECRET_KEY:${DEMO_KEYS.secret}`,
    '--var',
    `USER_TOKEN_SECRET:${DEMO_KEYS.userTokenSecret}`,
    '--var',
    `MODEL_REFRESH_SECONDS:${options.refreshSeconds ?? 5}`,
    '--show-interactive-dev-session=false',
  ]
  const child = spawn(bin('wrangler'), args, {
    cwd: workerDir,
    detached: true,
    env: { ...process.env, CI: '1', WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', FORCE_COLOR: '0' },
    stdio: ['ignore', log, log],
  })
  const url = `http://127.0.0.1:${port}`
  const stop = async () => {
    await stopChild(child)
    log.close()
  }
  const deadline = Date.now() + 120_000
  let exited = false
  child.once('exit', () => {
    exited = true
  })
  while (Date.now() < deadline) {
    if (exited) {
      log.close()
      throw new Error(`wrangler dev exited before serving. Its output (${logFile}):\n${await tail(logFile)}`)
    }
    try {
      const response = await fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(2000) })
      if (response.ok) return { url, stop, logFile }
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 300))
  }
  await stop()
  throw new Error(
    `wrangler dev did not answer /v1/health within 120 s. Its output (${logFile}):\n${await tail(logFile)}`,
  )
}

/** What the store page reads as `/config.json`. */
export interface StoreConfig {
  endpoint: string
  publishableKey: string
}

/**
 * Serves `/config.json` and `/catalog.json` next to the page, and `/user-token?id=…`: the demo's
 * stand-in for a site backend minting a user token (docs/privacy.md). NOTE: the demo has no login,
 * so it treats each visitor as signed in as their own id and mints for any id it is asked; a real
 * backend mints only for the user of the session.
 */
function demoFiles(layout: DemoLayout, config: StoreConfig): Plugin {
  return {
    name: 'edgerec-demo-files',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = (req.url ?? '').split('?')[0]
        if (path === '/config.json') {
          res.setHeader('content-type', 'application/json')
          res.setHeader('cache-control', 'no-store')
          res.end(JSON.stringify(config))
          return
        }
        if (path === '/user-token') {
          const id = new URL(req.url ?? '/', 'http://store.local').searchParams.get('id') ?? ''
          signUserToken(id, DEMO_KEYS.userTokenSecret, { ttlSeconds: 900 })
            .then((token) => {
              res.setHeader('content-type', 'application/json')
              res.setHeader('cache-control', 'no-store')
              res.end(JSON.stringify({ token }))
            })
            .catch(() => {
              res.statusCode = 400
              res.end('{"error":"id is required"}')
            })
          return
        }
        if (path === `${DASHBOARD_API}/versions`) {
          modelVersions(layout)
            .then((versions) => {
              res.setHeader('content-type', 'application/json')
              res.setHeader('cache-control', 'no-store')
              res.end(JSON.stringify({ versions }))
            })
            .catch(next)
          return
        }
        if (path === '/catalog.json') {
          readFile(layout.catalog)
            .then((body) => {
              res.setHeader('content-type', 'application/json')
              res.end(body)
            })
            .catch(next)
          return
        }
        next()
      })
    },
  }
}

/**
 * Where the dashboard page reads the worker: the store's server forwards
 * `/dashboard-api/v1/admin/*` and `/dashboard-api/v1/model` to the worker, so the page calls them on
 * its own origin (admin routes answer no CORS: the secret key never goes cross-origin). The server
 * holds no key: the page sends the one it was given. `/dashboard-api/versions` lists the model
 * registry's versions with their offline evaluation.
 */
export const DASHBOARD_API = '/dashboard-api'

/** A model version of the registry as the dashboard lists it. */
export interface RegistryVersion {
  version: string
  createdAt: string
  counts: ModelManifest['counts']
  dims: number
  evaluation: ModelManifest['evaluation'] | null
}

/** Every version in the demo's model registry, oldest first, with its offline evaluation. */
async function modelVersions(layout: DemoLayout): Promise<RegistryVersion[]> {
  return Promise.all(
    listVersions(layout).map(async (version) => {
      const m = await readManifest(layout, version)
      return {
        version,
        createdAt: m.createdAt,
        counts: m.counts,
        dims: m.dims,
        evaluation: m.evaluation ?? null,
      }
    }),
  )
}

/** Options of {@link startStore}. */
export interface StoreOptions {
  layout: DemoLayout
  /** The worker's URL. */
  endpoint: string
  /** Preferred port. Default 5173. */
  port?: number
}

/** Starts the store page with Vite on 127.0.0.1. */
export async function startStore(options: StoreOptions): Promise<RunningServer> {
  const { createServer } = await import('vite')
  const port = await freePort(options.port ?? 5173)
  const server = await createServer({
    root: demoStoreDir,
    configFile: join(demoStoreDir, 'vite.config.ts'),
    logLevel: 'warn',
    clearScreen: false,
    // Transform the page's modules before the first visit (a cold Vite is slow on a busy machine).
    server: {
      host: '127.0.0.1',
      port,
      strictPort: true,
      warmup: { clientFiles: ['./src/main.ts'] },
      proxy: {
        [`^${DASHBOARD_API}/v1/(admin/.*|model)$`]: {
          target: options.endpoint,
          rewrite: (path) => path.slice(DASHBOARD_API.length),
        },
      },
    },
    plugins: [
      demoFiles(options.layout, { endpoint: options.endpoint, publishableKey: DEMO_KEYS.publishable }),
    ],
  })
  await server.listen()
  return { url: `http://127.0.0.1:${port}`, stop: () => server.close() }
}
