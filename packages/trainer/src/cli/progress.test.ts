import { describe, expect, it } from 'vitest'
import { consoleLogger } from './progress.js'

function stream(isTTY: boolean) {
  let text = ''
  return { isTTY, write: (t: string) => (text += t), text: () => text }
}

describe('consoleLogger progress', () => {
  it('should write a plain line at most every 5 s and one at the end when there is no TTY', () => {
    const out = stream(false)
    const logger = consoleLogger(out)
    logger.progress!('rank', 100, 1000, 'users')
    logger.progress!('rank', 200, 1000, 'users')
    logger.progress!('rank', 1000, 1000, 'users')
    const lines = out.text().trim().split('\n')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/^rank 100\/1,000 users \(10%\) {2}elapsed \d+\.\d s$/)
    expect(lines[1]).toMatch(/^rank 1,000\/1,000 users \(100%\)/)
  })

  it('should draw one bar on a TTY, finish it with a newline, and stay silent when quiet', () => {
    const out = stream(true)
    const logger = consoleLogger(out)
    logger.progress!('rank', 500, 1000, 'users')
    logger.progress!('rank', 1000, 1000, 'users')
    expect(out.text()).toContain('\r\x1b[2Krank     [###############...............] 500/1,000 users')
    expect(out.text().endsWith('\n')).toBe(true)
    const quiet = stream(false)
    consoleLogger(quiet, { quiet: true }).progress!('rank', 1000, 1000, 'users')
    expect(quiet.text()).toBe('')
  })
})
