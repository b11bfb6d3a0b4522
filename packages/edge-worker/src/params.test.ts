import { describe, expect, it } from 'vitest'
import { ApiError } from './errors.js'
import { checkId, MAX_K, ParamErrors, parseExclude, parseFlag, parseK } from './params.js'

describe('request parameters', () => {
  it('should parse valid values and defaults', () => {
    const errors = new ParamErrors()
    expect(parseK(errors, undefined)).toBe(10)
    expect(parseK(errors, '25')).toBe(25)
    expect(parseExclude(errors, 'a, b,,c')).toEqual(['a', 'b', 'c'])
    expect(parseFlag(errors, 'explain', '1')).toBe(true)
    expect(parseFlag(errors, 'explain', 'false')).toBe(false)
    expect(checkId(errors, 'userId', 'user:42@shop')).toBe('user:42@shop')
    expect(errors.errors).toEqual([])
    expect(() => errors.throwIfAny()).not.toThrow()
  })

  it('should collect every bad field into one 400', () => {
    const errors = new ParamErrors()
    parseK(errors, String(MAX_K + 1))
    parseFlag(errors, 'explain', 'yes')
    checkId(errors, 'userId', 'has space')
    checkId(errors, 'itemId', 'x'.repeat(257))
    let thrown: unknown
    try {
      errors.throwIfAny()
    } catch (e) {
      thrown = e
    }
    expect(thrown).toBeInstanceOf(ApiError)
    const error = thrown as ApiError
    expect(error.status).toBe(400)
    expect(error.code).toBe('INVALID_PARAMETER')
    expect(error.details).toEqual([
      expect.objectContaining({ field: 'k', code: 'range' }),
      expect.objectContaining({ field: 'explain', code: 'type' }),
      expect.objectContaining({ field: 'userId', code: 'pattern' }),
      expect.objectContaining({ field: 'itemId', code: 'too_long' }),
    ])
  })
})
