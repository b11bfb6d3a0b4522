/**
 * `wrangler dev` for the worker's benchmarks and probe: a free port on 127.0.0.1, the server started
 * in its own process group with the given config, persistence and vars, waited for, and stopped
 * (the whole group: wrangler and workerd). One place for what `run.ts`, `probe.ts` and
 * `queue/run.ts` all need.
 *
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The edge-worker package folder. */
export const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
/** The workspace's wrangler. */
export const wranglerBin = resolve(packageDir, '../../node_modules/.bin/wrangler')
/** Environment of every wrangler child: no metrics, no prompts. */
export const wranglerEnv = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1' }

/**
 * A free TCP port on 127.0.0.1: the first free one in `from..to`, or any free one without a range.
 */
export async function freePort(from?: number, to?: number): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number | undefined>((done) => {
      const server = createServer()
      server.once('error', () => done(undefined))
      server.listen(port, '127.0.0.1', () => {
        const address = server.address()
        const got = typeof address === 'object' && address ? address.port : undefined
        server.close(() => done(got))
      })
    })
  if (from === undefined) {
    const port = await tryPort(0)
    if (port === undefined) throw new Error('No free TCP port on 127.0.0.1.')
    return port
  }
  for (let port = from; port <= (to ?? from); port++) if ((await tryPort(port)) !== undefined) return port
  throw new Error(`No free port in ${from}-${to ?? from}. Stop other wrangler dev sessions and retry.`)
}

/** A running `wrangler dev`. */
export interface DevServer {
  child: ChildProcess
  /** `http://127.0.0.1:<port>` */
  base: string
  /** The debug log wrangler wrote (its path is printed when it exits), once known. */
  logFile?: () => string | undefined
}

/** Options of {@link startWranglerDev}. */
export interface DevOptions {
  /** The wrangler config file. */
  config: string
  /** `--persist-to` folder. */
  persist: string
  /** `--var NAME:value` pairs (keys, modes). */
  vars: Record<string, string>
  /** Ports (default: free ones). */
  port?: number
  inspectorPort?: number
  /** Path polled until `ready` says the worker is up. Default `/` (a 404 that loads no model). */
  readyPath?: string
  ready?: (response: Response) => boolean
  /** Default 60 s. */
  timeoutMs?: number
}

/** Starts `wrangler dev --ip 127.0.0.1` and waits until it answers. */
export async function startWranglerDev(options: DevOptions): Promise<DevServer> {
  const port = options.port ?? (await freePort())
  const inspectorPort = options.inspectorPort ?? (await freePort())
  const child = spawn(
    wranglerBin,
    [
      'dev',
      '--config',
      options.config,
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--inspector-port',
      String(inspectorPort),
      '--persist-to',
      options.persist,
      ...Object.entries(options.vars).flatMap(([name, value]) => ['--var', `${name}:${value}`]),
      '--show-interactive-dev-session=false',
      '--log-level',
      'warn',
    ],
    { cwd: packageDir, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: wranglerEnv },
  )
  let output = ''
  let started = false
  let logFile: string | undefined
  // Before it answers: kept for the error message. After: the worker's own log lines (`edgerec: …`
  // with the error and stack behind a 5xx) go to this process's stderr, so a benchmark shows why a
  // request failed, not only that it did.
  const onData = (d: Buffer | string) => {
    logFile = /Logs were written to "([^"]+)"/.exec(String(d))?.[1] ?? logFile
    if (!started) output += d
    else process.stderr.write(prefixLines(String(d)))
  }
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)
  const base = `http://127.0.0.1:${port}`
  const timeoutMs = options.timeoutMs ?? 60_000
  const ready = options.ready ?? ((response: Response) => response.status === 404)
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${output}`)
    try {
      if (ready(await fetch(`${base}${options.readyPath ?? '/'}`))) {
        started = true
        if (output.includes('edgerec:')) process.stderr.write(prefixLines(output))
        return { child, base, logFile: () => logFile }
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  await stopWranglerDev({ child, base })
  throw new Error(`wrangler dev did not start within ${timeoutMs / 1000} s:\n${output}`)
}

/**
 * The errors the worker runtime reported (`✘ [ERROR] …`, e.g. a request cancelled as hung, behind a
 * 500) from wrangler's debug log, counted by message: `--log-level warn` keeps them off the console.
 */
function printRuntimeErrors(logFile: string | undefined): void {
  if (!logFile || !existsSync(logFile)) return
  const counts = new Map<string, number>()
  for (const line of readFileSync(logFile, 'utf8').split('\n'))
    if (line.startsWith('✘ [ERROR]')) counts.set(line.trim(), (counts.get(line.trim()) ?? 0) + 1)
  for (const [line, count] of counts) process.stderr.write(`[wrangler dev] ${count}× ${line}\n`)
}

/** `text` with every non-empty line prefixed `[wrangler dev] `. */
function prefixLines(text: string): string {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => `[wrangler dev] ${line}\n`)
    .join('')
}

/** Stops a `wrangler dev` started by {@link startWranglerDev}: its whole process group. */
export function stopWranglerDev(server: DevServer): Promise<void> {
  return new Promise((done) => {
    if (server.child.exitCode !== null || server.child.pid === undefined) return done()
    server.child.once('exit', () => {
      // Give the last output (the log file's path) a moment, then print the runtime's errors.
      setTimeout(() => {
        printRuntimeErrors(server.logFile?.())
        done()
      }, 100)
    })
    process.kill(-server.child.pid, 'SIGTERM')
    setTimeout(() => {
      if (server.child.exitCode === null && server.child.pid !== undefined)
        process.kill(-server.child.pid, 'SIGKILL')
    }, 5000).unref()
  })
}
