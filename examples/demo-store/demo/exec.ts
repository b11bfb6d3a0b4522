/**
 * Child processes of the demo: the repository's binaries, run with their output captured.
 *
 * @module
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { repoRoot } from './layout.js'

/** Runs a command; rejects with its output when it fails. */
export function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; output?: 'inherit' | 'pipe' },
): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: options.output === 'inherit' ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
    })
    child.once('error', reject)
    child.once('exit', (code, signal) => {
      if (code === 0) resolvePromise(out)
      else
        reject(
          new Error(
            `${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`}) in ${options.cwd}.${out ? `\n${out.slice(-4000)}` : ''}`,
          ),
        )
    })
  })
}

/** A binary of the repository's `node_modules/.bin`. */
export function bin(name: string): string {
  return join(repoRoot, 'node_modules/.bin', name)
}
