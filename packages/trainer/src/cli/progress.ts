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
