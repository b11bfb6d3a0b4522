/**
 * A lean Google Cloud Storage JSON-API server for the GCS storage tests (and the trainer's Dataproc
 * job test), on 127.0.0.1 and a random port, objects in memory.
 *
 * Why hand-written: no GCS emulator installs here (fake-gcs-server is a Go binary, the gcloud
 * emulators need the Cloud SDK and a JVM), so this is the one place the test suite carries its own
 * server. It implements the documented subset `@google-cloud/storage` uses, as the real service
 * does it (https://cloud.google.com/storage/docs/json_api/v1/objects):
 *
 * - `POST /upload/storage/v1/b/:bucket/o?uploadType=multipart` (multipart/related: JSON metadata
 *   part + media part) and `uploadType=resumable` (session URI in `Location`; `PUT` chunks with
 *   `Content-Range`, `308` + `Range` until the last one, then the object resource);
 * - `ifGenerationMatch` on uploads (`0` = must not exist), checked when the object is written
 *   → `412 conditionNotMet`;
 * - `GET /storage/v1/b/:bucket/o/:object` (resource) and `?alt=media` (bytes, `Range`, `416`,
 *   `x-goog-hash: crc32c=…,md5=…`, `generation` pinning);
 * - `GET /storage/v1/b/:bucket/o?prefix&maxResults&pageToken` (sorted, `nextPageToken`);
 * - `DELETE /storage/v1/b/:bucket/o/:object` (`204`, `404 notFound`);
 * - the same object routes without `/storage/v1` (what the SDK calls under `STORAGE_EMULATOR_HOST`);
 * - errors as `{ error: { code, message, errors: [{ reason, message }] } }`.
 *
 * CRC32C and MD5 are computed for real, so the SDK's upload and download validation runs.
 */
import { createHash, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

interface StoredObject {
  name: string
  data: Buffer
  generation: number
  contentType: string
  updated: string
  crc32c: string
  md5: string
}

interface Session {
  bucket: string
  name: string
  contentType: string
  ifGenerationMatch: number | undefined
  chunks: Buffer[]
  received: number
}

/** A running server; `objects` is exposed so tests can check what is (not) stored. */
export interface GcsServerHandle {
  /** `http://127.0.0.1:<port>`: pass as `apiEndpoint`. */
  endpoint: string
  /** Stored objects of a bucket, by name. */
  objects(bucket: string): ReadonlyMap<string, { size: number; generation: number }>
  /** Resumable sessions started but not finished. */
  openSessions(): number
  /** Answers the next `count` requests with `status` (429 `rateLimitExceeded`, 503 `backendError`…). */
  failNext(count: number, status: number): void
  /** Drops the connection of the next `count` requests without an answer (the client reads `ECONNRESET`). */
  resetNext(count: number): void
  stop(): Promise<void>
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

function sendError(res: ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ error: { code, message, errors: [{ reason, message, domain: 'global' }] } }))
}

/** Splits a multipart/related body into parts of `{ headers, body }`. */
function parseMultipart(body: Buffer, boundary: string): Array<{ headers: string; body: Buffer }> {
  const delimiter = Buffer.from(`--${boundary}`)
  const parts: Array<{ headers: string; body: Buffer }> = []
  let at = body.indexOf(delimiter)
  while (at !== -1) {
    let start = at + delimiter.length
    if (body.subarray(start, start + 2).toString() === '--') break
    if (body.subarray(start, start + 2).toString() === '\r\n') start += 2
    const next = body.indexOf(delimiter, start)
    if (next === -1) break
    let end = next
    if (body.subarray(end - 2, end).toString() === '\r\n') end -= 2
    const part = body.subarray(start, end)
    const split = part.indexOf('\r\n\r\n')
    parts.push({ headers: part.subarray(0, split).toString(), body: part.subarray(split + 4) })
    at = next
  }
  return parts
}

/** Starts the server. */
export async function startGcsServer(buckets: readonly string[]): Promise<GcsServerHandle> {
  // NOTE: loaded here, not at the top, so importing @edgerec/adapters/testing for s3rver alone
  // does not need @google-cloud/storage installed.
  const { CRC32C } = await import('@google-cloud/storage')
  const store = new Map<string, Map<string, StoredObject>>(buckets.map((b) => [b, new Map()]))
  const sessions = new Map<string, Session>()
  let generation = Date.now() * 1000

  const resource = (bucket: string, o: StoredObject) => ({
    kind: 'storage#object',
    id: `${bucket}/${o.name}/${o.generation}`,
    name: o.name,
    bucket,
    generation: String(o.generation),
    metageneration: '1',
    contentType: o.contentType,
    size: String(o.data.length),
    md5Hash: o.md5,
    crc32c: o.crc32c,
    etag: Buffer.from(String(o.generation)).toString('base64'),
    timeCreated: o.updated,
    updated: o.updated,
    storageClass: 'STANDARD',
  })

  /** Writes an object if the precondition holds; answers the resource or 412. */
  const write = (
    res: ServerResponse,
    bucket: string,
    name: string,
    data: Buffer,
    contentType: string,
    ifGenerationMatch: number | undefined,
  ): void => {
    const objects = store.get(bucket)!
    const current = objects.get(name)
    if (ifGenerationMatch !== undefined && (current?.generation ?? 0) !== ifGenerationMatch) {
      sendError(res, 412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.')
      return
    }
    const crc = new CRC32C()
    crc.update(data)
    const object: StoredObject = {
      name,
      data,
      generation: ++generation,
      contentType,
      updated: new Date().toISOString(),
      crc32c: crc.toString(),
      md5: createHash('md5').update(data).digest('base64'),
    }
    objects.set(name, object)
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(resource(bucket, object)))
  }

  let failures = { count: 0, status: 503 }
  let resets = 0

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (resets > 0) {
      resets--
      await readBody(req)
      req.socket.resetAndDestroy()
      return
    }
    if (failures.count > 0) {
      failures.count--
      await readBody(req)
      const reason = failures.status === 429 ? 'rateLimitExceeded' : 'backendError'
      return sendError(res, failures.status, reason, `Injected ${failures.status} (${reason}).`)
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const q = url.searchParams
    const condition = q.has('ifGenerationMatch') ? Number(q.get('ifGenerationMatch')) : undefined

    // Resumable session chunks: PUT <session URI>.
    const uploadId = q.get('upload_id')
    if (uploadId !== null && req.method === 'PUT') {
      const session = sessions.get(uploadId)
      if (!session) return sendError(res, 404, 'notFound', 'No such upload session.')
      const body = await readBody(req)
      const range = /^bytes (\*|(\d+)-(\d+|\*))\/(\d+|\*)$/.exec(req.headers['content-range'] ?? 'bytes */*')
      if (!range) return sendError(res, 400, 'invalid', 'Bad Content-Range.')
      if (range[2] !== undefined && Number(range[2]) !== session.received) {
        return sendError(res, 400, 'invalid', `Chunk starts at ${range[2]}, expected ${session.received}.`)
      }
      if (body.length > 0) {
        session.chunks.push(body)
        session.received += body.length
      }
      const total = range[4] === '*' ? undefined : Number(range[4])
      const finished = (total !== undefined && session.received >= total) || range[3] === '*'
      if (!finished) {
        res.writeHead(308, session.received > 0 ? { range: `bytes=0-${session.received - 1}` } : {})
        res.end()
        return
      }
      sessions.delete(uploadId)
      const data = Buffer.concat(session.chunks)
      return write(res, session.bucket, session.name, data, session.contentType, session.ifGenerationMatch)
    }

    const upload = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname)
    if (upload && req.method === 'POST') {
      const bucket = decodeURIComponent(upload[1]!)
      if (!store.has(bucket)) return sendError(res, 404, 'notFound', 'The specified bucket does not exist.')
      const body = await readBody(req)
      if (q.get('uploadType') === 'resumable') {
        const metadata =
          body.length > 0 ? (JSON.parse(body.toString()) as { name?: string; contentType?: string }) : {}
        const name = q.get('name') ?? metadata.name
        if (!name) return sendError(res, 400, 'required', 'Required parameter: name')
        const id = randomUUID()
        sessions.set(id, {
          bucket,
          name,
          contentType:
            metadata.contentType ??
            String(req.headers['x-upload-content-type'] ?? 'application/octet-stream'),
          ifGenerationMatch: condition,
          chunks: [],
          received: 0,
        })
        const host = req.headers.host ?? '127.0.0.1'
        res.writeHead(200, {
          location: `http://${host}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&upload_id=${id}`,
        })
        res.end()
        return
      }
      const boundary = /boundary="?([^";]+)"?/.exec(req.headers['content-type'] ?? '')?.[1]
      if (!boundary) return sendError(res, 400, 'invalid', 'Expected a multipart/related body.')
      const [meta, media] = parseMultipart(body, boundary)
      if (!meta || !media) return sendError(res, 400, 'invalid', 'Expected a metadata part and a media part.')
      const metadata = JSON.parse(meta.body.toString()) as { name?: string; contentType?: string }
      const name = q.get('name') ?? metadata.name
      if (!name) return sendError(res, 400, 'required', 'Required parameter: name')
      const mediaType = /content-type:\s*([^\r\n]+)/i.exec(media.headers)?.[1]
      return write(
        res,
        bucket,
        name,
        Buffer.from(media.body),
        metadata.contentType ?? mediaType ?? 'application/octet-stream',
        condition,
      )
    }

    // `/b/…` too: with STORAGE_EMULATOR_HOST the SDK uses that host, without `/storage/v1`, as its base.
    const objectPath = /^(?:\/storage\/v1)?\/b\/([^/]+)\/o(?:\/(.+))?$/.exec(url.pathname)
    if (!objectPath) return sendError(res, 404, 'notFound', `No route ${req.method} ${url.pathname}`)
    const bucket = decodeURIComponent(objectPath[1]!)
    const objects = store.get(bucket)
    if (!objects) return sendError(res, 404, 'notFound', 'The specified bucket does not exist.')

    if (objectPath[2] === undefined) {
      if (req.method !== 'GET') return sendError(res, 405, 'methodNotAllowed', 'Method not allowed.')
      const prefix = q.get('prefix') ?? ''
      const max = Math.min(1000, Number(q.get('maxResults') ?? 1000))
      const after = q.get('pageToken') ? Buffer.from(q.get('pageToken')!, 'base64url').toString() : undefined
      const names = [...objects.keys()]
        .filter((n) => n.startsWith(prefix) && (after === undefined || n > after))
        .sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : 1))
      const page = names.slice(0, max)
      const out: Record<string, unknown> = {
        kind: 'storage#objects',
        items: page.map((n) => resource(bucket, objects.get(n)!)),
      }
      if (names.length > max) out.nextPageToken = Buffer.from(page[page.length - 1]!).toString('base64url')
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(out))
      return
    }

    const name = decodeURIComponent(objectPath[2])
    const object = objects.get(name)
    if (req.method === 'DELETE') {
      if (!object) return sendError(res, 404, 'notFound', `No such object: ${bucket}/${name}`)
      objects.delete(name)
      res.writeHead(204)
      res.end()
      return
    }
    if (req.method !== 'GET') return sendError(res, 405, 'methodNotAllowed', 'Method not allowed.')
    const pinned = q.get('generation')
    if (!object || (pinned !== null && Number(pinned) !== object.generation)) {
      return sendError(res, 404, 'notFound', `No such object: ${bucket}/${name}`)
    }
    if (q.get('alt') !== 'media') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(resource(bucket, object)))
      return
    }
    const r = resource(bucket, object)
    const headers: Record<string, string> = {
      'content-type': object.contentType,
      'x-goog-generation': String(object.generation),
      'x-goog-hash': `crc32c=${r.crc32c},md5=${r.md5Hash}`,
      'x-goog-stored-content-encoding': 'identity',
      'x-goog-stored-content-length': String(object.data.length),
    }
    const range = /^bytes=(\d*)-(\d*)$/.exec(String(req.headers.range ?? ''))
    if (range) {
      const size = object.data.length
      let start = range[1] === '' ? size - Number(range[2]) : Number(range[1])
      let end = range[1] === '' || range[2] === '' ? size - 1 : Math.min(Number(range[2]), size - 1)
      if (start < 0) start = 0
      if (start >= size) {
        res.writeHead(416, { 'content-range': `bytes */${size}`, 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: { code: 416, message: 'The requested range cannot be satisfied.' } }))
        return
      }
      if (end < start) end = start
      res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${size}` })
      res.end(object.data.subarray(start, end + 1))
      return
    }
    res.writeHead(200, headers)
    res.end(object.data)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'backendError', String(error))
      else res.destroy()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    objects: (bucket) =>
      new Map(
        [...(store.get(bucket) ?? new Map<string, StoredObject>()).values()].map((o) => [
          o.name,
          { size: o.data.length, generation: o.generation },
        ]),
      ),
    openSessions: () => sessions.size,
    failNext: (count, status) => {
      failures = { count, status }
    },
    resetNext: (count) => {
      resets = count
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((error) => (error ? reject(error) : resolve()))
      }),
  }
}
