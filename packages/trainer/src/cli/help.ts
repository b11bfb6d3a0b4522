/**
 * Help per command: `edgerec-train <command> --help` prints the usage line of the command and the
 * sections of the general usage whose heading names it, e.g. `ALS (train, evaluate):`.
 *
 * @module
 */
import { USAGE } from './args.js'

interface Section {
  heading: string
  commands: string[]
  text: string
}

function sections(usage: string): Section[] {
  const out: Section[] = []
  for (const block of usage.split(/\n\n+/)) {
    const heading = /^([^\s][^\n]*?)(?: \(([^)]*)\))?:\n/.exec(block)
    if (!heading) continue
    const commands = heading[2] ? heading[2].split(',').map((c) => c.trim()) : []
    out.push({ heading: heading[1]!, commands, text: block })
  }
  return out
}

/**
 * The help text of `command`, or the general usage for an unknown command or none.
 *
 * @example
 * ```ts
 * helpFor('tune') // the general usage (not a command)
 * helpFor('evaluate') // usage line + Input, ALS, Evaluation, Tuning, Run sections
 * ```
 */
export function helpFor(command?: string): string {
  if (!command) return USAGE
  const line = USAGE.split('\n').find((l) => l.startsWith(`  edgerec-train ${command} `))
  const own = sections(USAGE).filter((s) => s.commands.includes(command))
  if (!line || own.length === 0) return USAGE
  const what = line.replace(/^\s*edgerec-train \S+\s+(\[options\])?\s*/, '')
  const exit = USAGE.split('\n').find((l) => l.startsWith('Exit codes:')) ?? ''
  return `Usage: edgerec-train ${command} [options]\n  ${what}\n\n${own.map((s) => s.text.replace(/^([^\n]*?) \([^)]*\):/, '$1:')).join('\n\n')}\n\n${exit}\nAll commands: edgerec-train --help\n`
}
