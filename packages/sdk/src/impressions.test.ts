import { describe, expect, it } from 'vitest'
import { FakeServer, json } from '../test/fake-server.js'
import { reportImpression } from './impressions.js'

describe('reportImpression', () => {
  it('should post the recIds of the answers with the publishable key', async () => {
    const server = new FakeServer()
    server.replies.push(json({ shown: 2 }))
    const ok = await reportImpression(
      { endpoint: 'https://recs.test/', publishableKey: 'pk_x', fetch: server.fetch },
      { recId: 'r-1' },
      {},
      { recId: 'r-2' },
    )
    expect(ok).toBe(true)
    expect(server.requests.map((r) => [r.method, r.url, r.headers.authorization, r.body])).toEqual([
      ['POST', 'https://recs.test/v1/impressions', 'Bearer pk_x', JSON.stringify({ recIds: ['r-1', 'r-2'] })],
    ])
  })

  it('should send nothing without a recId and never throw', async () => {
    const server = new FakeServer()
    expect(
      await reportImpression({ endpoint: 'https://recs.test', publishableKey: 'k', fetch: server.fetch }, {}),
    ).toBe(false)
    expect(server.requests).toHaveLength(0)
    server.replies.push(new Error('offline'))
    expect(
      await reportImpression(
        { endpoint: 'https://recs.test', publishableKey: 'k', fetch: server.fetch },
        { recId: 'r' },
      ),
    ).toBe(false)
  })
})
