/**
 * A small stand-in for the edge worker's HTTP API on 127.0.0.1 (real HTTP, Node's fetch on the
 * client side): recommendations that follow the events and links it received, similar items,
 * ingestion and identify. The SDK's own tests cover the real worker; these cover the hooks.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ApiServer {
  url: string
  events: { userId?: string; anonymousId?: string; itemId: string; type: string }[]
  links: Map<string, string>
  requests: string[]
  close: () => Promise<void>
}

async function body(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')
}

export async function startApi(): Promise<ApiServer> {
  const api = { events: [], links: new Map(), requests: [] } as unknown as ApiServer
  const server: Server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://x')
    api.requests.push(`${request.method} ${url.pathname}`)
    const send = (status: number, value: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' })
      response.end(JSON.stringify(value))
    }
    if (request.method === 'POST' && url.pathname === '/v1/events') {
      const { events } = (await body(request)) as { events: ApiServer['events'] }
      api.events.push(...events)
      const results = events.map((_, index) => ({ index, status: 'accepted' }))
      return send(200, { accepted: events.length, duplicates: 0, rejected: 0, results })
    }
    if (request.method === 'POST' && url.pathname === '/v1/identify') {
      const { userId, anonymousId } = (await body(request)) as { userId: string; anonymousId: string }
      if (!api.links.has(anonymousId)) api.links.set(anonymousId, userId)
      return send(200, { userId, anonymousId, linked: true })
    }
    const user = /^\/v1\/users\/([^/]+)\/recommendations$/.exec(url.pathname)
    if (user) {
      const id = decodeURIComponent(user[1]!)
      const mine = api.events.filter(
        (e) => e.userId === id || e.anonymousId === id || api.links.get(e.anonymousId ?? '') === id,
      )
      const items = mine.length
        ? mine.map((e) => ({ itemId: `like-${e.itemId}`, score: 1 }))
        : [
            { itemId: 'top-1', score: 1 },
            { itemId: 'top-2', score: 0.5 },
          ]
      return send(200, { userId: id, items, source: mine.length ? 'fold-in' : 'popular', modelVersion: 'v1' })
    }
    const similar = /^\/v1\/items\/([^/]+)\/similar$/.exec(url.pathname)
    if (similar) {
      const id = decodeURIComponent(similar[1]!)
      if (id === 'unknown')
        return send(404, { error: { code: 'ITEM_NOT_FOUND', message: 'Not in the model.' } })
      return send(200, {
        itemId: id,
        items: [{ itemId: `${id}-twin`, score: 0.9 }],
        source: 'model',
        modelVersion: 'v1',
      })
    }
    send(404, { error: { code: 'NOT_FOUND', message: 'No route.' } })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  api.close = () => new Promise<void>((resolve) => server.close(() => resolve()))
  return api
}
