/**
 * The D1 source against a local HTTP server implementing the documented subset of Cloudflare's
 * D1 API (`POST /client/v4/accounts/{account}/d1/database/{db}/query` with `{ sql, params }`,
 * answering `{ success, errors, messages, result: [{ results, success, meta }] }`). The server runs
 * the SQL it receives on a real SQLite database, so paging and parameters are really executed.
 */

import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DatabaseSync } from 'node:sqlite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { d1EventSource } from '../../src/events/sql.js'
import { createEventsDb } from './fixtures.js'

const ACCOUNT = '0123456789abcdef0123456789abcdef'
const DATABASE = 'f0e1d2c3-aaaa-bbbb-cccc-0123456789ab'
const TOKEN = 'test-token'
const count = 2345

let dir: string
let db: DatabaseSync
let server: Server
let apiBase: string
const queries: { sql: string; params: unknown[] }[] = []

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgerec-d1-'))
  db = createEventsDb(join(dir, 'd1.sqlite'), count).db
  server = createServer((req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    const path = `/client/v4/accounts/${ACCOUNT}/d1/database/${DATABASE}/query`
    if (req.method !== 'POST' || req.url !== path) {
      reply(404, {
        success: false,
        errors: [{ code: 7003, message: 'Could not route to ' + req.url }],
        messages: [],
        result: null,
      })
      return
    }
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      reply(403, {
        success: false,
        errors: [{ code: 10000, message: 'Authentication error' }],
        messages: [],
        result: null,
      })
      return
    }
    let raw = ''
    req.on('data', (chunk) => {
      raw += chunk
    })
    req.on('end', () => {
      try {
        const { sql, params } = JSON.parse(raw) as { sql: string; params: (string | number)[] }
        queries.push({ sql, params })
        const results = db.prepare(sql).all(...params)
        reply(200, {
          success: true,
          errors: [],
          messages: [],
          result: [{ results, success: true, meta: { rows_read: results.length } }],
        })
      } catch (error) {
        reply(400, {
          success: false,
          errors: [{ code: 7500, message: (error as Error).message }],
          messages: [],
          result: null,
        })
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  apiBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}/client/v4`
})

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()))
  db.close()
  await rm(dir, { recursive: true, force: true })
})

describe('d1EventSource over the D1 HTTP query API', () => {
  it('should page by rowid with bound parameters and read every event', async () => {
    process.env.EDGEREC_TEST_D1_TOKEN = TOKEN
    queries.length = 0
    const source = d1EventSource({
      accountId: ACCOUNT,
      databaseId: DATABASE,
      apiBase,
      apiTokenEnv: 'EDGEREC_TEST_D1_TOKEN',
      pageRows: 1000,
    })
    const stream = source.read()
    let n = 0
    for await (const batch of stream) n += batch.length
    expect(n).toBe(count)
    expect(stream.report.badRows).toBe(4)
    // 2349 rows in pages of 1000: three full-or-partial pages.
    expect(queries).toHaveLength(3)
    expect(queries[0]!.params).toEqual([-1, 1000])
    expect(queries[1]!.params[0]).toBe(1000)
  })

  it('should explain a missing token, a rejected token and a wrong database', async () => {
    const drain = async (source: ReturnType<typeof d1EventSource>) => {
      for await (const _ of source.read()) {
        // drain
      }
    }
    delete process.env.EDGEREC_TEST_D1_MISSING
    await expect(
      drain(
        d1EventSource({
          accountId: ACCOUNT,
          databaseId: DATABASE,
          apiBase,
          apiTokenEnv: 'EDGEREC_TEST_D1_MISSING',
        }),
      ),
    ).rejects.toMatchObject({
      code: 'SOURCE_UNAVAILABLE',
      message: expect.stringContaining('set EDGEREC_TEST_D1_MISSING'),
    })
    process.env.EDGEREC_TEST_D1_WRONG = 'wrong'
    await expect(
      drain(
        d1EventSource({
          accountId: ACCOUNT,
          databaseId: DATABASE,
          apiBase,
          apiTokenEnv: 'EDGEREC_TEST_D1_WRONG',
        }),
      ),
    ).rejects.toMatchObject({
      code: 'SOURCE_UNAVAILABLE',
      message: expect.stringContaining('Authentication error'),
    })
    process.env.EDGEREC_TEST_D1_TOKEN = TOKEN
    await expect(
      drain(
        d1EventSource({
          accountId: ACCOUNT,
          databaseId: 'other',
          apiBase,
          apiTokenEnv: 'EDGEREC_TEST_D1_TOKEN',
        }),
      ),
    ).rejects.toMatchObject({
      code: 'SOURCE_UNAVAILABLE',
      message: expect.stringContaining('Check accountId and databaseId'),
    })
  })
})
