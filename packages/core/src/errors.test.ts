import { describe, expect, it } from 'vitest'
import { CoreError, isEdgerecError } from './errors.js'

describe('isEdgerecError', () => {
  it('should accept an edgerec error and its shape from another copy of the package', () => {
    expect(isEdgerecError(new CoreError('INVALID_ARGUMENT', 'bad'))).toBe(true)
    expect(isEdgerecError(Object.assign(new Error('copy'), { code: 'NOT_FOUND' }))).toBe(true)
  })

  it('should refuse system and HTTP-client errors that also carry an upper-case code', () => {
    const reset = Object.assign(new Error('read ECONNRESET'), {
      code: 'ECONNRESET',
      errno: -104,
      syscall: 'read',
    })
    const fetchError = Object.assign(new Error('request failed, reason: read ECONNRESET'), {
      code: 'ECONNRESET',
      errno: 'ECONNRESET',
      type: 'system',
    })
    const undici = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })
    for (const error of [reset, fetchError, undici]) expect(isEdgerecError(error)).toBe(false)
  })

  it('should refuse values that are not errors or have no upper-case code', () => {
    expect(isEdgerecError({ code: 'NOT_FOUND', message: 'plain object' })).toBe(false)
    expect(isEdgerecError(Object.assign(new Error('lower'), { code: 'not_found' }))).toBe(false)
    expect(isEdgerecError(new Error('no code'))).toBe(false)
  })
})
