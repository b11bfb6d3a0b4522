import { describe, expect, it } from 'vitest'
import { toValueTransform, valueTransformFunction } from './value-transform.js'

describe('value transforms', () => {
  it('should parse the named forms and refuse anything else', () => {
    expect(toValueTransform('log1p')).toBe('log1p')
    expect(toValueTransform('clip:5')).toBe('clip:5')
    expect(toValueTransform('clip:2.50')).toBe('clip:2.5')
    for (const bad of ['clip:0', 'clip:-1', 'clip:x', 'log', ''])
      expect(toValueTransform(bad)).toBeUndefined()
  })

  it('should transform positive totals and leave negative feedback as it is', () => {
    expect(valueTransformFunction('none')(7)).toBe(7)
    expect(valueTransformFunction('log1p')(7)).toBeCloseTo(Math.log(8), 12)
    expect(valueTransformFunction('binary')(7)).toBe(1)
    expect(valueTransformFunction('clip:5')(7)).toBe(5)
    expect(valueTransformFunction('clip:5')(3)).toBe(3)
    for (const t of ['log1p', 'binary', 'clip:5'] as const) expect(valueTransformFunction(t)(-4)).toBe(-4)
  })
})
