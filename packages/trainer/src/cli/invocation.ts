/**
 * Where the user ran `edgerec-train`: relative paths in flags and `EDGEREC_CONFIG` resolve against
 * that directory, not against the package folder npm or turbo switch into before running a script.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

/**
 * The directory the user ran the command in.
 *
 * - `turbo run train -- …` runs the trainer's `train` script through npm inside
 *   `packages/trainer`; turbo records where it was invoked in `TURBO_INVOCATION_DIR`.
 * - `npm run …` runs scripts in the package folder; npm records where it was invoked in `INIT_CWD`.
 * - `npx edgerec-train`, or the bin run directly: the current directory.
 *
 * Both variables are inherited by every child process, so they are trusted only while the process
 * still runs in the package folder npm switched to (`dirname(npm_package_json)`): a trainer started
 * by a test or by `LocalCompute` in another folder keeps that folder.
 *
 * @example
 * ```ts
 * invocationDir(process.env, process.cwd()) // '/repo' under `turbo run train` started at /repo
 * ```
 */
export function invocationDir(env: NodeJS.ProcessEnv, cwd: string): string {
  const packageJson = env.npm_package_json
  const inScriptFolder =
    packageJson !== undefined && packageJson !== '' && resolve(dirname(packageJson)) === resolve(cwd)
  if (!inScriptFolder) return cwd
  if (env.TURBO_HASH && env.TURBO_INVOCATION_DIR) return resolve(env.TURBO_INVOCATION_DIR)
  if (env.INIT_CWD) return resolve(env.INIT_CWD)
  return cwd
}

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
  } catch {
    return undefined
  }
}

/**
 * The project root of `dir`: the nearest folder upwards whose `package.json` declares
 * `workspaces` (a monorepo root like this repository), else the nearest folder with a
 * `package.json`, else `dir` itself. The default model registry is `<root>/.edgerec/models`.
 */
export function projectRoot(dir: string): string {
  let nearest: string | undefined
  let current = resolve(dir)
  for (;;) {
    const manifest = join(current, 'package.json')
    if (existsSync(manifest)) {
      nearest ??= current
      if (readJson(manifest)?.workspaces !== undefined) return current
    }
    const parent = dirname(current)
    if (parent === current) return nearest ?? resolve(dir)
    current = parent
  }
}
