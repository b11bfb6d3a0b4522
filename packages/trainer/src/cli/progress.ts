/**
 * Console output of the CLI: logs on stderr (results go to stdout), and ALS progress as a bar on a
 * TTY or one line per iteration otherwise (CI logs, cloud job logs).
 *
 * @module
 */
import type { AlsProgress } from '../als/index.js'
import type { TrainLogger } from '../train.js'

/** Where console output goes: `process.stderr` or anything with `write` (tests). */
export interface OutputStream {
  write(text: string): unknown
  /** A progress bar is drawn only on a TTY. */
  isTTY?: boolean
}

/** A logger writing to a stream; `quiet` drops info lines. */
export function consoleLogger(
  stream: OutputStream = process.stderr,
  options: { quiet?: boolean } = {},
): TrainLogger {
  const tty = stream.isTTY === true
  let elapsed = 0
  // Per step: when it started and when a plain line was last written.
  const steps = new Map<string, { started: number; lastLine: number }>()
  let barShown = false
  const clearBar = () => {
    if (barShown) {
      stream.write('\r\x1b[2K')
      barShown = false
    }
  }
  return {
    info(message) {
      if (options.quiet) return
      clearBar()
      stream.write(`${message}\n`)
    },
    warn(message) {
      clearBar()
      stream.write(`warning: ${message}\n`)
    },
    progress(step, done, total, unit) {
      if (options.quiet) return
      const now = performance.now()
      let state = steps.get(step)
      if (!state || done === 0) {
        state = { started: now, lastLine: Number.NEGATIVE_INFINITY }
        steps.set(step, state)
      }
      const seconds = ((now - state.started) / 1000).toFixed(1)
      const finished = done >= total
      if (tty) {
        const width = 30
        const filled = total > 0 ? Math.round((width * done) / total) : width
        stream.write(
          `\r\x1b[2K${step.padEnd(8)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${unit}  ${seconds} s`,
        )
        barShown = !finished
        if (finished) stream.write('\n')
      } else if (finished || now - state.lastLine >= 5000) {
        // No TTY (CI, turbo, cloud logs): a line at most every 5 s, and one at the end.
        state.lastLine = now
        const percent = total > 0 ? Math.floor((100 * done) / total) : 100
        stream.write(
          `${step} ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${unit} (${percent}%)  elapsed ${seconds} s\n`,
        )
      }
      if (finished) steps.delete(step)
    },
    iteration(p: AlsProgress, phase) {
      if (p.iteration === 1) elapsed = 0
      elapsed += p.seconds
      const loss = p.loss === undefined ? '' : `  loss ${p.loss.toPrecision(6)}`
      if (tty && !options.quiet) {
        const width = 30
        const filled = Math.round((width * p.iteration) / p.iterations)
        stream.write(
          `\r\x1b[2K${phase === 'evaluate' ? 'evaluate' : 'train   '} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.iteration}/${p.iterations}  ${elapsed.toFixed(1)} s${loss}`,
        )
        barShown = true
        if (p.iteration === p.iterations) {
          stream.write('\n')
          barShown = false
        }
      } else if (!options.quiet) {
        stream.write(
          `${phase} iteration ${p.iteration}/${p.iterations}  ${p.seconds.toFixed(3)} s  elapsed ${elapsed.toFixed(2)} s${loss}\n`,
        )
      }
    },
  }
}
