/** Starts `wrangler dev` on a free 127.0.0.1 port for a test and stops it (its whole process group). */
import { type ChildProcess, spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      )
    })
  })
}

/** A running `wrangler dev`. */
export interface WranglerDev {
  url: string
  stop(): Promise<void>
  output(): string
}

/** Runs `wrangler dev --config <config> --persist-to <persistTo>` and waits until it answers. */
export async function startWranglerDev(config: string, persistTo: string): Promise<WranglerDev> {
  const wranglerBin = join(
    dirname(createRequire(import.meta.url).resolve('wrangler/package.json')),
    'bin/wrangler.js',
  )
  const port = await freePort()
  let log = ''
  const child: ChildProcess = spawn(
    process.execPath,
    [
      wranglerBin,
      'dev',
      '--config',
      config,
      '--persist-to',
      persistTo,
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
    ],
    {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_API_TOKEN: '', CI: '1' },
    },
  )
  child.stdout?.on('data', (chunk) => (log += chunk))
  child.stderr?.on('data', (chunk) => (log += chunk))
  const url = `http://127.0.0.1:${port}`
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.pid === undefined) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    process.kill(-child.pid, 'SIGTERM')
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))])
    if (child.exitCode === null) process.kill(-child.pid, 'SIGKILL')
  }
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${log}`)
    try {
      const response = await fetch(url)
      if (response.status < 500 || Date.now() > deadline) {
        await response.body?.cancel()
        break
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`wrangler dev did not answer within 60 s:\n${log}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  return { url, stop, output: () => log }
}
