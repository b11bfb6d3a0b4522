#!/usr/bin/env node
// The `edgerec-train` bin. It is committed (not built) so that npm links it into
// node_modules/.bin at install time: npm skips a bin whose target does not exist yet, and
// dist/ is only built later. It runs the built CLI (dist/cli/main.js). In a source checkout
// where dist/ has not been built yet (right after `npm ci`), it builds the trainer and the
// packages it needs first with the repository's turbo (cached after the first time).
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const main = join(packageDir, 'dist', 'cli', 'main.js')

function findUp(start, name) {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, name))) return dir
    if (dirname(dir) === dir) return undefined
  }
}

if (!existsSync(main)) {
  const repo = existsSync(join(packageDir, 'src', 'cli', 'main.ts'))
    ? findUp(packageDir, 'turbo.json')
    : undefined
  const turbo =
    repo && join(repo, 'node_modules', '.bin', process.platform === 'win32' ? 'turbo.cmd' : 'turbo')
  if (!turbo || !existsSync(turbo)) {
    process.stderr.write(
      `error INTERNAL: ${main} is missing: this installation of @edgerec/trainer is incomplete. Reinstall it (npm install @edgerec/trainer).\n`,
    )
    process.exit(1)
  }
  process.stderr.write(
    'edgerec-train: first run in a source checkout: building the trainer (turbo run build)…\n',
  )
  const built = spawnSync(
    turbo,
    ['run', 'build', '--filter=@edgerec/trainer...', '--output-logs=errors-only', '--log-prefix=none'],
    { cwd: repo, stdio: ['ignore', 2, 2], env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } },
  )
  if (built.status !== 0 || !existsSync(main)) {
    process.stderr.write(
      `error INTERNAL: building the trainer failed (exit ${built.status}). Run npm run build at ${repo}.\n`,
    )
    process.exit(1)
  }
}

await import(pathToFileURL(main).href)
