/**
 * s3rver (a real S3-protocol server in Node.js, npm `s3rver`) on 127.0.0.1 and a random port,
 * backed by a temporary folder. The S3 and R2 storage tests (and the trainer's cloud job tests) run against it.
 *
 * It runs as a child process started with `--openssl-legacy-provider`: s3rver 3.7 encrypts its
 * ListObjectsV2 continuation tokens with DES, which Node ≥ 17 (OpenSSL 3) only offers through the
 * legacy provider; in-process, every paginated listing would fail with HTTP 500.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

/** A running s3rver. */
export interface S3rverHandle {
  /** `http://127.0.0.1:<port>` */
  endpoint: string
  /** Stops the server and removes its folder. */
  stop(): Promise<void>
}

/** Starts s3rver with the given buckets already created. */
export async function startS3rver(buckets: readonly string[]): Promise<S3rverHandle> {
  const directory = await mkdtemp(join(tmpdir(), 'edgerec-s3rver-'))
  const require = createRequire(import.meta.url)
  const bin = join(dirname(require.resolve('s3rver/package.json')), 'bin/s3rver.js')
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--openssl-legacy-provider',
      bin,
      '--directory',
      directory,
      '--address',
      '127.0.0.1',
      '--port',
      '0',
      '--silent',
      ...buckets.flatMap((name) => ['--configure-bucket', name]),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let output = ''
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`s3rver did not start within 20 s:\n${output}`)), 20_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const match = /S3rver listening on 127\.0\.0\.1:(\d+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve(Number(match[1]))
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`s3rver exited with ${code}:\n${output}`))
    })
  })
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async stop() {
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        const force = setTimeout(() => child.kill('SIGKILL'), 1_500)
        child.once('exit', () => {
          clearTimeout(force)
          resolve()
        })
        child.kill('SIGTERM')
      })
      await rm(directory, { recursive: true, force: true })
    },
  }
}

/** Credentials s3rver accepts (it checks the signature against this well-known pair). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const
