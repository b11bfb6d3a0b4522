import { describe, expect, it } from 'vitest'
import { EventSourceError } from './errors.js'
import { compileTimeFormat, parseTimestamp, suggestTimeFormat, timeReader } from './fields.js'

describe('compileTimeFormat', () => {
  it('should read day-month-year, month names, 12-hour clocks, fractions and offsets as UTC', () => {
    expect(compileTimeFormat('%d-%m-%Y')('21-07-2015')).toBe(Date.UTC(2015, 6, 21))
    expect(compileTimeFormat('%d/%m/%y %H:%M')('1/2/99 13:05')).toBe(Date.UTC(1999, 1, 1, 13, 5))
    expect(compileTimeFormat('%d %b %Y')('3 Sep 2020')).toBe(Date.UTC(2020, 8, 3))
    expect(compileTimeFormat('%m/%d/%Y %I:%M %p')('12/31/2020 12:30 AM')).toBe(Date.UTC(2020, 11, 31, 0, 30))
    expect(compileTimeFormat('%Y%m%d %H%M%S.%f')('20200102 030405.5')).toBe(
      Date.UTC(2020, 0, 2, 3, 4, 5, 500),
    )
    expect(compileTimeFormat('%Y-%m-%d %H:%M %z')('2020-01-02 03:04 +02:00')).toBe(Date.UTC(2020, 0, 2, 1, 4))
    expect(compileTimeFormat('%s')('1500000000')).toBe(1_500_000_000_000)
    expect(compileTimeFormat('100%% %Y')('100% 2001')).toBe(Date.UTC(2001, 0, 1))
  })

  it('should return NaN for text that does not match or dates that do not exist', () => {
    expect(compileTimeFormat('%d-%m-%Y')('2015-07-21')).toBeNaN()
    expect(compileTimeFormat('%d-%m-%Y')('31-02-2015')).toBeNaN()
    expect(compileTimeFormat('%d-%m-%Y')('01-13-2015')).toBeNaN()
  })

  it('should reject an unknown directive with INPUT_INVALID', () => {
    expect(() => compileTimeFormat('%Q')).toThrow(EventSourceError)
  })
})

describe('timeReader', () => {
  it('should try the format first and fall back to epoch numbers and ISO-8601 (date-only too)', () => {
    const read = timeReader({ timeFormat: '%d-%m-%Y' })
    expect(read('21-07-2015')).toBe(Date.UTC(2015, 6, 21))
    expect(read('2015-07-21')).toBe(Date.UTC(2015, 6, 21))
    expect(read('1437436800')).toBe(Date.UTC(2015, 6, 21))
    expect(read(1437436800000)).toBe(Date.UTC(2015, 6, 21))
    expect(timeReader()('2015-07-21')).toBe(parseTimestamp('2015-07-21'))
    expect(timeReader({ timeUnit: 'ms' })('1000')).toBe(1000)
  })
})

describe('suggestTimeFormat', () => {
  it('should suggest day-first or month-first from the values, both when ambiguous', () => {
    expect(suggestTimeFormat('21-07-2015')).toBe('%d-%m-%Y')
    expect(suggestTimeFormat('07/21/2015 10:00')).toBe('%m/%d/%Y %H:%M')
    expect(suggestTimeFormat('05.01.15')).toBe('%d.%m.%y or %m.%d.%y')
    expect(suggestTimeFormat('yesterday')).toBeUndefined()
  })
})

describe('parseTimestamp', () => {
  it('should read decimal seconds and milliseconds, and refuse hex, binary, octal and exponents', () => {
    expect(parseTimestamp('1500000000')).toBe(1_500_000_000_000)
    expect(parseTimestamp('1500000000.5')).toBe(1_500_000_000_500)
    expect(parseTimestamp('1500000000000')).toBe(1_500_000_000_000)
    expect(parseTimestamp('-1')).toBe(-1000)
    expect(parseTimestamp(' 12 ')).toBe(12_000)
    expect(parseTimestamp('5', 'ms')).toBe(5)
    for (const bad of ['0x10', '0b11', '0o7', '1e9', '12abc', '', 'Infinity'])
      expect(parseTimestamp(bad)).toBeNaN()
  })
})
