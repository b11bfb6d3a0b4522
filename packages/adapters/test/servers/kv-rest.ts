/**
 * A local server speaking the documented subset of the Cloudflare Workers KV REST API
 * (https://developers.cloudflare.com/api/resources/kv/subresources/namespaces/), on 127.0.0.1 and
 * a random port. Values live in miniflare's real KV implementation (the one `wrangler dev` uses),
 * so listing order, cursors, metadata and limits are KV's own; this file only translates HTTP:
 *
 * - `PUT    /accounts/:a/storage/kv/namespaces/:ns/values/:key` — multipart form (`value`,
 *   `metadata`) or a raw body;
 * - `GET    …/values/:key` — raw bytes, `404` + error `10009` when missing;
 * - `GET    …/metadata/:key` — `{ result: metadata }`;
 * - `GET    …/keys?prefix&limit&cursor` — `{ result: [{ name, metadata }], result_info: { count, cursor } }`,
 *   `limit` must be 10–1000 (error `10026` otherwise, as the API answers);
 * - `DELETE …/values/:key`;
 * - every call needs `Authorization: Bearer <token>` (`10000 Authentication error` otherwise).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Miniflare } from 'miniflare'

/** A running KV REST server. */
export interface KvRestHandle {
  /** API base to pass as `apiBase` (like `https://api.cloudflare.com/client/v4`). */
  apiBase: string
  accountId: string
  namespaceId: string
  /** The token the server accepts. */
  token: string
  /** Requests served (tests use it to see that nothing was sent). */
  requests(): number
  /** Answers the next `count` requests with HTTP 429 in Cloudflare's error envelope. */
  throttleNext(count: number): void
  stop(): Promise<void>
}

type Kv = Awaited<ReturnType<Miniflare['getKVNamespace']>>

function envelope(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ success: status < 400, errors: [], messages: [], ...body }))
}

function fail(res: ServerResponse, status: number, code: number, message: string): void {
  envelope(res, status, { success: false, errors: [{ code, message }], result: null })
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/**
 * Parts of a multipart/form-data body by field name (binary-safe; undici's `formData()` is far
 * slower on multi-MiB values).
 */
function parseFormData(body: Buffer, boundary: string): Map<string, Buffer> {
  const delimiter = Buffer.from(`--${boundary}`)
  const parts = new Map<string, Buffer>()
  let at = body.indexOf(delimiter)
  while (at !== -1) {
    let start = at + delimiter.length
    if (body.subarray(start, start + 2).toString() === '--') break
    if (body.subarray(start, start + 2).toString() === '\r\n') start += 2
    const next = body.indexOf(delimiter, start)
    if (next === -1) break
    const end = body.subarray(next - 2, next).toString() === '\r\n' ? next - 2 : next
    const split = body.indexOf('\r\n\r\n', start)
    const headers = body.subarray(start, split).toString()
    const name = /name="([^"]*)"/i.exec(headers)?.[1]
    if (name !== undefined) parts.set(name, body.subarray(split + 4, end))
    at = next
  }
  return parts
}

/** Starts miniflare (one KV namespace) and the REST front. */
export async function startKvRestServer(): Promise<KvRestHandle> {
  const accountId = '0123456789abcdef0123456789abcdef'
  const namespaceId = 'fedcba9876543210fedcba9876543210'
  const token = 'test-token-not-a-secret'
  const mf = new Miniflare({
    modules: true,
    script: 'export default { fetch() { return new Response(null, { status: 404 }) } }',
    kvNamespaces: { KV: namespaceId },
  })
  const kv: Kv = await mf.getKVNamespace('KV')
  let served = 0
  const base = `/client/v4/accounts/${accountId}/storage/kv/namespaces/${namespaceId}`

  let throttled = 0

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    served++
    if (throttled > 0) {
      throttled--
      await readBody(req)
      return fail(res, 429, 10013, 'Rate limited. Please wait and consider throttling your request speed')
    }
    if (req.headers.authorization !== `Bearer ${token}`) return fail(res, 403, 10000, 'Authentication error')
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    if (!url.pathname.startsWith(`${base}/`)) return fail(res, 404, 10013, 'namespace or account not found')
    const rest = url.pathname.slice(base.length + 1)
    const [kind, ...encoded] = rest.split('/')
    const key = decodeURIComponent(encoded.join('/'))

    if (kind === 'keys' && req.method === 'GET') {
      const limit = Number(url.searchParams.get('limit') ?? 1000)
      if (!Number.isInteger(limit) || limit < 10 || limit > 1000) {
        return fail(res, 400, 10026, 'Invalid key limit: limit must be between 10 and 1000')
      }
      const cursor = url.searchParams.get('cursor') ?? undefined
      const prefix = url.searchParams.get('prefix') ?? undefined
      const page = await kv.list({ limit, ...(prefix ? { prefix } : {}), ...(cursor ? { cursor } : {}) })
      const next = page.list_complete ? '' : page.cursor
      return envelope(res, 200, {
        result: page.keys.map((k) => ({
          name: k.name,
          ...(k.metadata === undefined ? {} : { metadata: k.metadata }),
        })),
        result_info: { count: page.keys.length, cursor: next },
      })
    }
    if (key === '') return fail(res, 404, 10009, 'key not found')
    if (kind === 'values' && req.method === 'PUT') {
      const body = await readBody(req)
      const type = String(req.headers['content-type'] ?? '')
      if (type.startsWith('multipart/form-data')) {
        const boundary = /boundary="?([^";]+)"?/.exec(type)?.[1]
        if (!boundary) return fail(res, 400, 10001, 'multipart body without a boundary')
        const parts = parseFormData(body, boundary)
        const value = parts.get('value')
        if (value === undefined) return fail(res, 400, 10001, "the multipart form has no 'value' part")
        const metadataPart = parts.get('metadata')
        const metadata =
          metadataPart === undefined ? undefined : (JSON.parse(metadataPart.toString()) as unknown)
        await kv.put(key, new Uint8Array(value), metadata === undefined ? {} : { metadata })
      } else {
        await kv.put(key, new Uint8Array(body))
      }
      return envelope(res, 200, { result: {} })
    }
    if (kind === 'values' && req.method === 'GET') {
      const value = await kv.get(key, 'arrayBuffer')
      if (value === null) return fail(res, 404, 10009, 'get: key not found')
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      res.end(Buffer.from(value))
      return
    }
    if (kind === 'values' && req.method === 'DELETE') {
      await kv.delete(key)
      return envelope(res, 200, { result: {} })
    }
    if (kind === 'metadata' && req.method === 'GET') {
      const { value, metadata } = await kv.getWithMetadata(key, 'arrayBuffer')
      if (value === null) return fail(res, 404, 10009, 'get: key not found')
      return envelope(res, 200, { result: metadata ?? null })
    }
    return fail(res, 405, 10000, `${req.method} ${kind} is not part of this API`)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) fail(res, 500, 10001, String(error))
      else res.destroy()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    apiBase: `http://127.0.0.1:${port}/client/v4`,
    accountId,
    namespaceId,
    token,
    requests: () => served,
    throttleNext: (count) => {
      throttled = count
    },
    async stop() {
      server.closeAllConnections()
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      )
      await mf.dispose()
    },
  }
}
