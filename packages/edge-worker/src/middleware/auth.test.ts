import { describe, expect, it } from 'vitest'
import { keysEqual } from './auth.js'

describe('keysEqual', () => {
  it('should compare keys of any length in constant time by their digests', async () => {
    expect(await keysEqual('sk_live_abc', 'sk_live_abc')).toBe(true)
    expect(await keysEqual('sk_live_abc', 'sk_live_abd')).toBe(false)
    expect(await keysEqual('short', 'a much longer key than the other')).toBe(false)
    expect(await keysEqual('', 'x')).toBe(false)
  })
})
