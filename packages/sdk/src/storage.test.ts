import { afterEach, describe, expect, it, vi } from 'vitest'
import { memoryStorage, webStorage } from './storage.js'

afterEach(() => {
  vi.unstubAllGlobals()
})

describe('webStorage', () => {
  it('should give localStorage when it accepts writes', () => {
    const values = new Map<string, string>()
    const store = {
      getItem: (k: string) => values.get(k) ?? null,
      setItem: (k: string, v: string) => void values.set(k, v),
      removeItem: (k: string) => void values.delete(k),
    }
    vi.stubGlobal('localStorage', store)
    expect(webStorage()).toBe(store)
    expect(values.size).toBe(0)
  })

  it('should give undefined where localStorage throws (private mode, sandboxed frames) or is missing', () => {
    vi.stubGlobal('localStorage', {
      setItem: () => {
        throw new DOMException('quota', 'QuotaExceededError')
      },
    })
    expect(webStorage()).toBeUndefined()
    vi.stubGlobal('localStorage', undefined)
    expect(webStorage()).toBeUndefined()
  })
})

describe('memoryStorage', () => {
  it('should keep values per store', () => {
    const a = memoryStorage()
    a.setItem('k', 'v')
    expect(a.getItem('k')).toBe('v')
    expect(memoryStorage().getItem('k')).toBeUndefined()
    a.removeItem('k')
    expect(a.getItem('k')).toBeUndefined()
  })
})
