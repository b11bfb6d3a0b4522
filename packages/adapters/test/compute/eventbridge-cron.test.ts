import { describe, expect, it } from 'vitest'
import { eventBridgeCron } from '../../src/aws/schedule.js'

describe('eventBridgeCron', () => {
  it('should add the year field and put ? in the unrestricted day field', () => {
    expect(eventBridgeCron('17 3 * * *')).toBe('cron(17 3 * * ? *)')
    expect(eventBridgeCron('0 6 1 * *')).toBe('cron(0 6 1 * ? *)')
    expect(eventBridgeCron('*/30 * * 1-6 *')).toBe('cron(*/30 * * 1-6 ? *)')
  })

  it('should shift weekday numbers from 0–6 (Sunday 0 or 7) to 1–7 (Sunday 1)', () => {
    expect(eventBridgeCron('0 4 * * 1')).toBe('cron(0 4 ? * 2 *)')
    expect(eventBridgeCron('0 4 * * 1-5')).toBe('cron(0 4 ? * 2-6 *)')
    expect(eventBridgeCron('0 4 * * 0,7')).toBe('cron(0 4 ? * 1,1 *)')
    expect(eventBridgeCron('0 4 * * MON-FRI')).toBe('cron(0 4 ? * MON-FRI *)')
  })

  it('should refuse both day fields restricted and malformed expressions', () => {
    expect(() => eventBridgeCron('0 4 1 * 1')).toThrow(/both the day of the month and the day of the week/)
    expect(() => eventBridgeCron('0 4 * *')).toThrow(/not a 5-field cron expression/)
    expect(() => eventBridgeCron('0 4 * * * *')).toThrow(/not a 5-field cron expression/)
  })
})
