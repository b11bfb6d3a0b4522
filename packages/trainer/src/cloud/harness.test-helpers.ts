/**
 * Shared set-up of the cloud job tests: a real S3 server (s3rver) holding the events and the model
 * registry, the trainer image's entrypoint script (taken from `packages/trainer/Dockerfile`) run
 * locally with the environment a job request carries, and the CLI run in-process.
 */
import { execFile } from 'node:child_process'
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createStorage, type S3StorageConfig } from '@edgerec/adapters'
import { S3RVER_CREDENTIALS, startS3rver } from '@edgerec/adapters/testing'
import { type CliIo, runCli } from '../cli/run.js'
import { writeGeneratedData } from '../generate/index.js'

const packageDir = fileURLToPath(new URL('../..', import.meta.url))

/** The entrypoint script of the trainer image: the heredoc written to /usr/local/bin/edgerec-entrypoint. */
export async function entrypointScript(): Promise<string> {
  const dockerfile = await readFile(join(packageDir, 'Dockerfile'), 'utf8')
  const match = /COPY <<'EOF' \/usr\/local\/bin\/edgerec-entrypoint\n([\s\S]*?)\nEOF\n/.exec(dockerfile)
  if (!match) throw new Error('packages/trainer/Dockerfile has no edgerec-entrypoint heredoc')
  return `${match[1]}\n`
}

/** What a CLI run printed. */
export interface CliRun {
  code: number
  out: string
  err: string
}

/** A running s3rver with an events file and an empty registry, plus helpers. */
export interface JobWorld {
  dir: string
  events: S3StorageConfig
  registry: S3StorageConfig
  /** Writes a new `edgerec-<n>.config.mjs` with the events, registry and small ALS settings, plus `extra`. */
  writeConfig(extra: Record<string, unknown>): Promise<string>
  /** Runs `edgerec-train <argv>` in-process (as `main.ts` does) in {@link dir}. */
  cli(argv: string[]): Promise<CliRun>
  /** Runs the image's entrypoint script here with `args` and a job's environment. */
  entrypoint(args: string[], env: Record<string, string>): Promise<CliRun>
  /** Runs a job's shell command line (Azure ML) whose program is the image's entrypoint. */
  entrypointCommand(command: string, env: Record<string, string>): Promise<CliRun>
  stop(): Promise<void>
}

const ENV_KEYS = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_REGION',
  'EDGEREC_JOB_POLL_SECONDS',
] as const

/** Starts s3rver, uploads generated events, and points the AWS credential chain at s3rver's keys. */
export async function startJobWorld(): Promise<JobWorld> {
  const dir = await mkdtemp(join(tmpdir(), 'edgerec-cloud-'))
  const server = await startS3rver(['events', 'models'])
  const saved = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]))
  process.env.AWS_ACCESS_KEY_ID = S3RVER_CREDENTIALS.accessKeyId
  process.env.AWS_SECRET_ACCESS_KEY = S3RVER_CREDENTIALS.secretAccessKey
  process.env.AWS_REGION = 'eu-west-1'
  process.env.EDGEREC_JOB_POLL_SECONDS = '0.01'
  const s3 = (bucket: string): S3StorageConfig => ({
    provider: 's3',
    bucket,
    region: 'us-east-1',
    endpoint: server.endpoint,
    forcePathStyle: true,
  })
  const events = s3('events')
  const registry = s3('models')
  await writeGeneratedData(
    { events: 4000, users: 150, items: 50, seed: 11 },
    { path: join(dir, 'events.ndjson'), catalogPath: join(dir, 'catalog.json') },
  )
  const eventStorage = await createStorage(events)
  await eventStorage.put('events.ndjson', await readFile(join(dir, 'events.ndjson')))

  // The image puts edgerec-train on PATH; here it is the package's bin, run by this Node.
  const bin = join(dir, 'bin')
  await mkdir(bin)
  await symlink(join(packageDir, 'bin', 'edgerec-train.js'), join(bin, 'edgerec-train'))
  const script = join(dir, 'edgerec-entrypoint')
  await writeFile(script, await entrypointScript())
  await chmod(script, 0o755)

  const runScript = (argv: string[], env: Record<string, string>): Promise<CliRun> =>
    new Promise((resolve) => {
      execFile(
        'sh',
        argv,
        {
          cwd: dir,
          env: {
            PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin`,
            HOME: dir,
            TMPDIR: dir,
            AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
            AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
            ...env,
          },
        },
        (error, stdout, stderr) => {
          const code = error ? (error as { code?: unknown }).code : 0
          resolve({ code: typeof code === 'number' ? code : 1, out: stdout, err: stderr })
        },
      )
    })
  let configs = 0
  return {
    dir,
    events,
    registry,
    async writeConfig(extra) {
      // A new file each time: import() caches a module by its URL.
      configs += 1
      const path = join(dir, `edgerec-${configs}.config.mjs`)
      const config = {
        events: { kind: 'ndjson', path: 'events.ndjson', storage: events },
        storage: registry,
        als: { factors: 4, iterations: 2, threads: 1 },
        ...extra,
      }
      await writeFile(path, `export default ${JSON.stringify(config, null, 2)}\n`)
      return path
    },
    async cli(argv) {
      let out = ''
      let err = ''
      const io: CliIo = {
        stdout: { write: (text: string) => (out += text) },
        stderr: { write: (text: string) => (err += text) },
        cwd: dir,
      }
      const code = await runCli(argv, io)
      return { code, out, err }
    },
    entrypoint(args, env) {
      return runScript([script, ...args], env)
    },
    entrypointCommand(command, env) {
      const program = '/usr/local/bin/edgerec-entrypoint'
      if (!command.startsWith(`${program} `)) throw new Error(`not the image entrypoint: ${command}`)
      return runScript(['-c', `${script}${command.slice(program.length)}`], env)
    },
    async stop() {
      for (const key of ENV_KEYS) {
        if (saved[key] === undefined) delete process.env[key]
        else process.env[key] = saved[key]
      }
      await server.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
