/**
 * The published build in Node (no `window`, no `document`, no `localStorage`): through `import`, and
 * through `require` (require(esm), Node ≥ 22.12), both with the global `fetch` against a local HTTP
 * server; both give the same classes, so `instanceof` works across them.
 */
import { spawnSync } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type * as Sdk from '../src/index.js'

let server: Server
let endpoint: string
const received: { auth: string | undefined; ids: string[] }[] = []

beforeAll(async () => {
  server = createServer(async (request, response) => {
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const { events } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { events: { id: string }[] }
    received.push({ auth: request.headers.authorization, ids: events.map((e) => e.id) })
    const results = events.map((e, index) => ({ index, id: e.id, status: 'accepted' }))
    response.writeHead(200, { 'content-type': 'application/json' })
    response.end(JSON.stringify({ accepted: events.length, duplicates: 0, rejected: 0, results }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

async function roundTrip(sdk: typeof Sdk): Promise<void> {
  const recs = sdk.createClient({ endpoint, publishableKey: 'pk_node' })
  expect(recs).toBeInstanceOf(sdk.EdgerecClient)
  expect(recs).not.toBeInstanceOf(sdk.EdgerecWebClient)
  const id = recs.track('view', { itemId: 'sku-1' })
  const result = await recs.flush()
  expect(result).toEqual({ ok: true, sent: 1, rejected: 0, remaining: 0 })
  expect(received.at(-1)).toEqual({ auth: 'Bearer pk_node', ids: [id] })
}

describe('published builds in Node', () => {
  it('should work through require() of the ESM build (require(esm), Node ≥ 22.12)', async () => {
    const require = createRequire(import.meta.url)
    expect(require.resolve('@edgerec/sdk')).toMatch(/\/dist\/index\.js$/)
    const sdk = require('@edgerec/sdk') as typeof Sdk
    expect(typeof window).toBe('undefined')
    await roundTrip(sdk)
  })

  it('should work through import (package exports → dist)', async () => {
    expect(import.meta.resolve('@edgerec/sdk')).toMatch(/\/dist\/index\.js$/)
    const sdk = (await import(import.meta.resolve('@edgerec/sdk'))) as typeof Sdk
    await roundTrip(sdk)
  })

  it('should give one error class identity to require() and import (plain Node, one module graph)', () => {
    // NOTE: inside vitest, import() goes through Vite's module runner; a child Node process shows
    // what an app gets.
    const script = `
      import { createRequire } from 'node:module'
      const required = createRequire(import.meta.url)('@edgerec/sdk')
      const imported = await import('@edgerec/sdk')
      const recs = required.createClient({ endpoint: 'http://127.0.0.1:9', publishableKey: 'pk', timeoutMs: 2000 })
      const failure = await recs.popular().catch((error) => error)
      console.log(JSON.stringify({
        sameClass: required.SdkError === imported.SdkError && required.EdgerecClient === imported.EdgerecClient,
        instanceOfImported: failure instanceof imported.EdgerecNetworkError && failure instanceof imported.SdkError,
        code: failure.code,
      }))`
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: new URL('..', import.meta.url).pathname,
      encoding: 'utf8',
    })
    expect(child.stderr).toBe('')
    expect(JSON.parse(child.stdout)).toEqual({
      sameClass: true,
      instanceOfImported: true,
      code: 'NETWORK_ERROR',
    })
  })
})
