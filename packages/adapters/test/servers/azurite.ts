/**
 * Azurite (Microsoft's Azure Storage emulator, npm `azurite`) blob service on 127.0.0.1 and a
 * random port, in memory. Started as a child process (its CLI is its supported interface) and
 * killed by the test that started it.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

/** Azurite's well-known development account (public, documented by Microsoft; not a secret). */
export const AZURITE_ACCOUNT = 'devstoreaccount1'
const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

/** A running Azurite blob service. */
export interface AzuriteHandle {
  /** `http://127.0.0.1:<port>/devstoreaccount1` */
  blobEndpoint: string
  /** A connection string for the development account at this endpoint. */
  connectionString: string
  stop(): Promise<void>
}

/** Starts `azurite-blob --inMemoryPersistence --skipApiVersionCheck` and waits until it listens. */
export async function startAzurite(): Promise<AzuriteHandle> {
  const require = createRequire(import.meta.url)
  const bin = join(dirname(require.resolve('azurite/package.json')), 'dist/src/blob/main.js')
  const child: ChildProcess = spawn(
    process.execPath,
    [
      bin,
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      '0',
      '--inMemoryPersistence',
      '--skipApiVersionCheck',
      '--loose',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let output = ''
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Azurite did not start within 20 s:\n${output}`)), 20_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const match = /listens on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve(Number(match[1]))
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`Azurite exited with ${code}:\n${output}`))
    })
  })
  const blobEndpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`
  return {
    blobEndpoint,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${blobEndpoint};`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        // Azurite waits for open keep-alive connections on SIGTERM; it is in memory, so after a
        // short grace period it is killed outright.
        const force = setTimeout(() => child.kill('SIGKILL'), 1_500)
        child.once('exit', () => {
          clearTimeout(force)
          resolve()
        })
        child.kill('SIGTERM')
      }),
  }
}
