import { describe, expect, it } from 'vitest'
import { EVENT_LIMITS } from './limits.js'
import { isValidEventType, validateBatch, validateEvent, validateIdentity } from './validate.js'

const NOW = Date.UTC(2026, 10, 24, 12, 0, 0)

function good(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: '6f1c2a4e-0b1d-4c7e-9a51-3d2f0e8b7c11',
    userId: 'user-1',
    itemId: 'sku:42',
    type: 'view',
    timestamp: NOW - 1000,
    ...overrides,
  }
}

function errorsOf(input: unknown) {
  const r = validateEvent(input, { now: NOW })
  if (r.ok) throw new Error(`expected errors for ${JSON.stringify(input)}`)
  return r.errors
}

function fieldCodes(input: unknown): string[] {
  return errorsOf(input).map((e) => `${e.field}:${e.code}`)
}

describe('validateEvent', () => {
  it('should accept a minimal valid event and normalize nothing else', () => {
    const r = validateEvent(good(), { now: NOW })
    expect(r).toEqual({
      ok: true,
      event: {
        id: '6f1c2a4e-0b1d-4c7e-9a51-3d2f0e8b7c11',
        userId: 'user-1',
        itemId: 'sku:42',
        type: 'view',
        timestamp: NOW - 1000,
      },
    })
  })

  it('should keep value, anonymousId and context', () => {
    const r = validateEvent(
      good({ anonymousId: 'anon-9', value: 4.5, context: { page: '/p/42', price: 9.99, promo: true } }),
      { now: NOW },
    )
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.event.anonymousId).toBe('anon-9')
    expect(r.event.value).toBe(4.5)
    expect(r.event.context).toEqual({ page: '/p/42', price: 9.99, promo: true })
  })

  it('should reject non-objects with a single root error', () => {
    for (const input of [null, undefined, 42, 'event', [good()]]) {
      expect(fieldCodes(input)).toEqual([':type'])
    }
  })

  it('should require id, itemId, type and timestamp', () => {
    const codes = fieldCodes({ userId: 'u' })
    expect(codes).toEqual(
      expect.arrayContaining(['id:required', 'itemId:required', 'type:required', 'timestamp:required']),
    )
    expect(codes).toHaveLength(4)
  })

  it('should require userId or anonymousId', () => {
    const { userId: _drop, ...noUser } = good()
    expect(fieldCodes(noUser)).toEqual(['userId:required'])
    expect(validateEvent({ ...noUser, anonymousId: 'anon-1' }, { now: NOW }).ok).toBe(true)
  })

  it('should report a bad userId without also claiming it is missing', () => {
    expect(fieldCodes(good({ userId: 'has space' }))).toEqual(['userId:pattern'])
    expect(fieldCodes(good({ userId: '' }))).toEqual(['userId:required'])
    expect(fieldCodes(good({ userId: 7 }))).toEqual(['userId:type'])
  })

  it('should enforce each id length limit exactly at the boundary', () => {
    const cases: [string, number][] = [
      ['id', EVENT_LIMITS.maxIdLength],
      ['userId', EVENT_LIMITS.maxEntityIdLength],
      ['anonymousId', EVENT_LIMITS.maxEntityIdLength],
      ['itemId', EVENT_LIMITS.maxEntityIdLength],
    ]
    for (const [field, limit] of cases) {
      expect(validateEvent(good({ [field]: 'a'.repeat(limit) }), { now: NOW }).ok).toBe(true)
      expect(fieldCodes(good({ [field]: 'a'.repeat(limit + 1) }))).toEqual([`${field}:too_long`])
    }
  })

  it('should allow the documented id charset and reject everything else', () => {
    const allowed = 'Az09_.:@+=~|/#$%&!*(),;?[]{}^-'
    expect(validateEvent(good({ itemId: allowed }), { now: NOW }).ok).toBe(true)
    for (const bad of [
      'a b',
      'a"b',
      "a'b",
      'a<b',
      'a>b',
      'a\\b',
      'a`b',
      'a\tb',
      'a\nb',
      'café',
      'a\u0000b',
      '😀',
    ]) {
      expect(fieldCodes(good({ itemId: bad }))).toEqual(['itemId:pattern'])
    }
  })

  it('should accept standard and custom types and reject malformed ones', () => {
    for (const type of ['view', 'purchase', 'wishlist_add', 'x', 'a'.repeat(EVENT_LIMITS.maxTypeLength)]) {
      expect(validateEvent(good({ type }), { now: NOW }).ok).toBe(true)
    }
    expect(fieldCodes(good({ type: 'Add-To-Cart' }))).toEqual(['type:pattern'])
    expect(fieldCodes(good({ type: '1view' }))).toEqual(['type:pattern'])
    expect(fieldCodes(good({ type: '' }))).toEqual(['type:type'])
    expect(fieldCodes(good({ type: 3 }))).toEqual(['type:type'])
    expect(fieldCodes(good({ type: 'a'.repeat(EVENT_LIMITS.maxTypeLength + 1) }))).toEqual(['type:too_long'])
    expect(isValidEventType('add_to_cart')).toBe(true)
    expect(isValidEventType('Add')).toBe(false)
    expect(isValidEventType('')).toBe(false)
  })

  it('should check value type and range', () => {
    expect(validateEvent(good({ value: -EVENT_LIMITS.maxAbsValue }), { now: NOW }).ok).toBe(true)
    expect(validateEvent(good({ value: null }), { now: NOW }).ok).toBe(true)
    expect(fieldCodes(good({ value: EVENT_LIMITS.maxAbsValue + 1 }))).toEqual(['value:range'])
    expect(fieldCodes(good({ value: '5' }))).toEqual(['value:type'])
    expect(fieldCodes(good({ value: Number.NaN }))).toEqual(['value:type'])
    expect(fieldCodes(good({ value: Number.POSITIVE_INFINITY }))).toEqual(['value:type'])
  })

  it('should accept epoch ms and ISO-8601 and normalize to epoch ms', () => {
    const iso = '2026-11-24T11:00:00.250Z'
    const r = validateEvent(good({ timestamp: iso }), { now: NOW })
    expect(r.ok && r.event.timestamp).toBe(Date.UTC(2026, 10, 24, 11, 0, 0, 250))
    const offset = validateEvent(good({ timestamp: '2026-11-24T13:00:00+02:00' }), { now: NOW })
    expect(offset.ok && offset.event.timestamp).toBe(Date.UTC(2026, 10, 24, 11, 0, 0))
    const fractional = validateEvent(good({ timestamp: NOW - 0.75 }), { now: NOW })
    expect(fractional.ok && fractional.event.timestamp).toBe(NOW - 1)
  })

  it('should accept an ISO-8601 date alone as midnight UTC (issue 13)', () => {
    const r = validateEvent(good({ timestamp: '2026-11-24' }), { now: NOW })
    expect(r.ok && r.event.timestamp).toBe(Date.UTC(2026, 10, 24))
    expect(fieldCodes(good({ timestamp: '2026-02-30' }))).toEqual(['timestamp:type'])
    expect(fieldCodes(good({ timestamp: '2026-13-01' }))).toEqual(['timestamp:type'])
  })

  it('should read an ISO date-time without a zone as UTC whatever the host time zone', () => {
    const r = validateEvent(good({ timestamp: '2026-11-24T11:00:00' }), { now: NOW })
    expect(r.ok && r.event.timestamp).toBe(Date.UTC(2026, 10, 24, 11, 0, 0))
  })

  it('should reject timestamps before 2000 (e.g. epoch seconds) with a range error', () => {
    expect(validateEvent(good({ timestamp: EVENT_LIMITS.minTimestamp }), { now: NOW }).ok).toBe(true)
    expect(fieldCodes(good({ timestamp: EVENT_LIMITS.minTimestamp - 1 }))).toEqual(['timestamp:range'])
    expect(fieldCodes(good({ timestamp: Math.floor(NOW / 1000) }))).toEqual(['timestamp:range'])
    expect(fieldCodes(good({ timestamp: '1999-12-31T23:59:59Z' }))).toEqual(['timestamp:range'])
  })

  it('should reject timestamps beyond now + skew, honouring a custom skew', () => {
    const skew = EVENT_LIMITS.maxFutureSkewMs
    expect(validateEvent(good({ timestamp: NOW + skew }), { now: NOW }).ok).toBe(true)
    expect(fieldCodes(good({ timestamp: NOW + skew + 1 }))).toEqual(['timestamp:range'])
    expect(validateEvent(good({ timestamp: NOW + 5000 }), { now: NOW, maxFutureSkewMs: 1000 }).ok).toBe(false)
  })

  it('should reject timestamps that are neither epoch ms nor ISO-8601', () => {
    for (const timestamp of [
      'yesterday',
      '2026-11',
      '26-11-24',
      '2026-13-45T00:00:00Z',
      Number.NaN,
      true,
      {},
      `2026-11-24T11:00:00${'0'.repeat(40)}`,
    ]) {
      expect(fieldCodes(good({ timestamp }))).toEqual(['timestamp:type'])
    }
  })

  it('should name every unknown field and suggest context', () => {
    const errors = errorsOf(good({ price: 3, userid: 'x' }))
    expect(errors.map((e) => `${e.field}:${e.code}`)).toEqual(['price:unknown_field', 'userid:unknown_field'])
    expect(errors[0]!.message).toContain('context')
  })

  it('should enforce context shape and limits', () => {
    expect(fieldCodes(good({ context: [1] }))).toEqual(['context:type'])
    expect(fieldCodes(good({ context: 'page=1' }))).toEqual(['context:type'])
    const many = Object.fromEntries(
      Array.from({ length: EVENT_LIMITS.maxContextKeys + 1 }, (_, i) => [`k${i}`, i]),
    )
    expect(fieldCodes(good({ context: many }))).toEqual(['context:too_many'])
    const atLimit = Object.fromEntries(
      Array.from({ length: EVENT_LIMITS.maxContextKeys }, (_, i) => [`k${i}`, i]),
    )
    expect(validateEvent(good({ context: atLimit }), { now: NOW }).ok).toBe(true)
    const longKey = 'k'.repeat(EVENT_LIMITS.maxContextKeyLength + 1)
    expect(fieldCodes(good({ context: { [longKey]: 1 } }))).toEqual([
      `context.${longKey.slice(0, EVENT_LIMITS.maxContextKeyLength)}:too_long`,
    ])
    const longValue = 'v'.repeat(EVENT_LIMITS.maxContextValueLength + 1)
    expect(fieldCodes(good({ context: { page: longValue } }))).toEqual(['context.page:too_long'])
    expect(fieldCodes(good({ context: { n: Number.POSITIVE_INFINITY } }))).toEqual(['context.n:range'])
    expect(fieldCodes(good({ context: { nested: { a: 1 } } }))).toEqual(['context.nested:type'])
    expect(fieldCodes(good({ context: { list: [1] }, extra: 1 }))).toEqual([
      'extra:unknown_field',
      'context.list:type',
    ])
  })

  it('should report every problem of an event at once', () => {
    const codes = fieldCodes({ id: 'a b', itemId: '', type: 'X', timestamp: 5, value: 'x', bogus: 1 })
    expect(codes).toEqual([
      'bogus:unknown_field',
      'id:pattern',
      'itemId:required',
      'userId:required',
      'type:pattern',
      'value:type',
      'timestamp:range',
    ])
    for (const e of errorsOf({ id: 'a b' })) expect(e.message.length).toBeGreaterThan(10)
  })
})

describe('validateBatch', () => {
  it('should keep the good events when some are bad, with one result per event in order', () => {
    const r = validateBatch(
      { events: [good({ id: 'a' }), good({ id: 'b b' }), good({ id: 'c' }), 42] },
      { now: NOW },
    )
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.valid.map((e) => e.id)).toEqual(['a', 'c'])
    expect(r.results.map((x) => [x.index, x.ok])).toEqual([
      [0, true],
      [1, false],
      [2, true],
      [3, false],
    ])
    const bad = r.results[1]!
    expect(!bad.ok && bad.errors.map((e) => e.field)).toEqual(['id'])
  })

  it('should accept a bare array', () => {
    const r = validateBatch([good()], { now: NOW })
    expect(r.ok && r.valid).toHaveLength(1)
  })

  it('should reject a body that is not a batch', () => {
    for (const input of [null, 'x', {}, { events: 'x' }, { events: {} }]) {
      const r = validateBatch(input, { now: NOW })
      expect(r).toMatchObject({ ok: false, error: { field: 'events', code: 'required' } })
    }
  })

  it('should reject an empty batch', () => {
    expect(validateBatch({ events: [] }, { now: NOW })).toMatchObject({
      ok: false,
      error: { code: 'required' },
    })
  })

  it('should reject a batch over the size limit and accept one at it', () => {
    const atLimit = Array.from({ length: EVENT_LIMITS.maxBatchSize }, (_, i) => good({ id: `e${i}` }))
    const ok = validateBatch({ events: atLimit }, { now: NOW })
    expect(ok.ok && ok.valid).toHaveLength(EVENT_LIMITS.maxBatchSize)
    const over = validateBatch({ events: [...atLimit, good()] }, { now: NOW })
    expect(over).toMatchObject({ ok: false, error: { field: 'events', code: 'too_many' } })
    expect(validateBatch([good(), good()], { now: NOW, maxBatchSize: 1 })).toMatchObject({ ok: false })
  })

  it('should judge every event of a batch against the same now', () => {
    const r = validateBatch([good({ timestamp: NOW + EVENT_LIMITS.maxFutureSkewMs })], { now: NOW })
    expect(r.ok && r.valid).toHaveLength(1)
  })
})

describe('validateIdentity', () => {
  it('should accept a userId and an anonymousId', () => {
    expect(validateIdentity({ userId: 'user-42', anonymousId: 'a1b2' })).toEqual({
      ok: true,
      link: { userId: 'user-42', anonymousId: 'a1b2' },
    })
  })

  it('should report every missing, mistyped, too long or unknown field', () => {
    const r = validateIdentity({ userId: 'x'.repeat(257), anonymousId: 7, extra: 1 })
    expect(r.ok).toBe(false)
    expect(r.ok ? [] : r.errors.map((e) => `${e.field}:${e.code}`)).toEqual([
      'extra:unknown_field',
      'userId:too_long',
      'anonymousId:type',
    ])
    const missing = validateIdentity({ userId: 'has space' })
    expect(missing.ok ? [] : missing.errors.map((e) => `${e.field}:${e.code}`)).toEqual([
      'userId:pattern',
      'anonymousId:required',
    ])
  })

  it('should reject a body that is not an object', () => {
    for (const input of [null, [], 'user-42', 1]) expect(validateIdentity(input).ok).toBe(false)
  })
})
