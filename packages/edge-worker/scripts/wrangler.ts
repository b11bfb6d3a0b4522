/**
 * Running wrangler from Node scripts and tests: the package's own wrangler (no global install), with
 * telemetry off, output captured.
 *
 * @module
 */
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

/** The edge-worker package directory (where wrangler.jsonc lives). */
export const PACKAGE_DIR = join(dirname(new URL(import.meta.url).pathname), '..')

const WRANGLER_BIN = join(
  dirname(createRequire(import.meta.url).resolve('wrangler/package.json')),
  'bin',
  'wrangler.js',
)

/** What one wrangler run printed. */
export interface WranglerRun {
  status: number
  stdout: string
  stderr: string
}

/**
 * Runs `wrangler <args>` in `cwd` (default the package) and returns its exit status and output.
 *
 * @param env - extra environment (e.g. `CLOUDFLARE_API_TOKEN`)
 */
export function wrangler(
  args: readonly string[],
  cwd = PACKAGE_DIR,
  env: Record<string, string | undefined> = {},
): WranglerRun {
  const run = spawnSync(process.execPath, [WRANGLER_BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', FORCE_COLOR: '0', ...env },
    maxBuffer: 64 * 1024 * 1024,
  })
  return { status: run.status ?? 1, stdout: run.stdout ?? '', stderr: run.stderr ?? '' }
}

/** The flags of `npm run cf-typegen` (package.json), so the check and the generator never differ. */
export function typegenArgs(packageJson: { scripts: Record<string, string> }): string[] {
  const script = packageJson.scripts['cf-typegen'] ?? ''
  const [command, sub, ...flags] = script.split(/\s+/)
  if (command !== 'wrangler' || sub !== 'types')
    throw new Error(`cf-typegen is not "wrangler types …": ${script}`)
  return ['types', ...flags]
}
