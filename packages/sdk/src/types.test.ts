import type * as core from '@edgerec/core'
import { validateEvent } from '@edgerec/core'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { FakeServer } from '../test/fake-server.js'
import { EdgerecClient } from './client-core.js'
import type { EdgerecEvent, EventContext, FieldError, StandardEventType } from './types.js'

describe('SDK event types', () => {
  it("should stay identical to core's (the published .d.ts copies them to need no other package)", () => {
    expectTypeOf<EdgerecEvent>().toEqualTypeOf<core.EdgerecEvent>()
    expectTypeOf<EventContext>().toEqualTypeOf<core.EventContext>()
    expectTypeOf<StandardEventType>().toEqualTypeOf<core.StandardEventType>()
    expectTypeOf<FieldError>().toEqualTypeOf<core.FieldError>()
  })

  it("should produce events that core's validator (the worker's) accepts", async () => {
    const server = new FakeServer()
    const recs = new EdgerecClient({
      endpoint: 'https://recs.test',
      publishableKey: 'pk',
      storage: null,
      fetch: server.fetch,
    })
    await recs.ready
    recs.track('view', { itemId: 'sku-1' })
    recs.identify('user-1')
    recs.track('rating', {
      itemId: 'sku-2',
      value: 4.5,
      context: { page: 'pdp', position: 3, promoted: false },
    })
    recs.track('custom_event', { itemId: 'sku-3' })
    await recs.flush()
    const sent = JSON.parse(server.posts[0]!.body!) as { events: unknown[] }
    expect(sent.events).toHaveLength(3)
    for (const event of sent.events) expect(validateEvent(event)).toMatchObject({ ok: true })
  })
})
