import { describe, expect, it } from 'vitest'
import { backoffDelay, parseRetryAfter } from './backoff.js'

describe('backoffDelay', () => {
  it('should draw from [0, min(cap, base · 2^attempt))', () => {
    expect(backoffDelay(0, 1000, 60_000, () => 0)).toBe(0)
    expect(backoffDelay(0, 1000, 60_000, () => 0.999)).toBe(999)
    expect(backoffDelay(3, 1000, 60_000, () => 0.5)).toBe(4000)
    expect(backoffDelay(20, 1000, 60_000, () => 0.5)).toBe(30_000)
  })
})

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-10-21T07:28:00Z')
  it('should read delta-seconds and HTTP-dates', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000)
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:28:30 GMT', now)).toBe(30_000)
  })
  it('should give 0 for past dates and undefined for missing or unreadable values', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:00:00 GMT', now)).toBe(0)
    expect(parseRetryAfter(null, now)).toBeUndefined()
    expect(parseRetryAfter('soon', now)).toBeUndefined()
  })
})
