/**
 * S3Storage and R2Storage (the same code path with R2's settings: region `auto`, path-style URLs,
 * an account endpoint) against s3rver on 127.0.0.1.
 */
import { S3Client } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { S3Storage } from '../../src/aws/storage.js'
import { R2Storage, r2Endpoint } from '../../src/cloudflare/storage.js'
import { StorageError } from '../../src/errors.js'
import { S3RVER_CREDENTIALS, type S3rverHandle, startS3rver } from '../servers/s3rver.js'
import { describeStorageConformance } from './conformance.js'
import { seededBytes, utf8 } from './data.js'

const MiB = 1024 * 1024
let server: S3rverHandle
let n = 0

beforeAll(async () => {
  server = await startS3rver(['models', 'r2-models'])
})
afterAll(async () => {
  await server?.stop()
})

const s3 = (extra: Partial<ConstructorParameters<typeof S3Storage>[0]> = {}) =>
  new S3Storage({
    bucket: 'models',
    prefix: `t${n++}`,
    client: new S3Client({
      ...S3Storage.clientConfig({
        bucket: 'models',
        endpoint: server.endpoint,
        forcePathStyle: true,
        region: 'us-east-1',
      }),
      credentials: S3RVER_CREDENTIALS,
    }),
    // Small parts so that the large-object case really is a multi-part upload.
    partSize: 5 * MiB,
    multipartThreshold: 6 * MiB,
    ...extra,
  })

describeStorageConformance('S3Storage on s3rver', () => s3(), {
  conditionalPut: 'not-enforced-by-server',
  largeObjectBytes: 16 * MiB,
  atomicOverwrites: false,
  settleMs: 5000,
})

// R2Storage is built as a user builds it (no injected client): credentials come from the AWS
// default chain, here the environment, set for this file only.
const savedEnv = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY }
beforeAll(() => {
  process.env.AWS_ACCESS_KEY_ID = S3RVER_CREDENTIALS.accessKeyId
  process.env.AWS_SECRET_ACCESS_KEY = S3RVER_CREDENTIALS.secretAccessKey
})
afterAll(() => {
  if (savedEnv.id === undefined) delete process.env.AWS_ACCESS_KEY_ID
  else process.env.AWS_ACCESS_KEY_ID = savedEnv.id
  if (savedEnv.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY
  else process.env.AWS_SECRET_ACCESS_KEY = savedEnv.secret
})

describeStorageConformance(
  'R2Storage (S3 API) on s3rver',
  () =>
    new R2Storage({
      accountId: 'acc0123',
      bucket: 'r2-models',
      prefix: `t${n++}`,
      endpoint: server.endpoint,
    }),
  {
    conditionalPut: 'not-enforced-by-server',
    largeObjectBytes: 6 * MiB,
    atomicOverwrites: false,
    settleMs: 5000,
  },
)

describe('S3Storage specifics', () => {
  it('should send If-None-Match / If-Match on conditional puts (s3rver does not enforce them)', async () => {
    const storage = s3()
    const seen: Array<Record<string, string>> = []
    storage.client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { headers?: Record<string, string>; method?: string }
        if (request.method === 'PUT') seen.push({ ...request.headers })
        return next(args)
      },
      { step: 'finalizeRequest', name: 'captureHeaders' },
    )
    const first = await storage.put('cond/a', utf8('1'), { ifMatch: 'absent' })
    await storage.put('cond/a', utf8('2'), { ifMatch: { etag: first.etag! } })
    expect(seen[0]?.['if-none-match']).toBe('*')
    expect(seen[1]?.['if-match']).toBe(first.etag)
  })

  it('should upload a large byte body in parts (more than one UploadPart)', async () => {
    const storage = s3()
    const parts: number[] = []
    storage.client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { PartNumber?: number }
        if (typeof input.PartNumber === 'number') parts.push(input.PartNumber)
        return next(args)
      },
      { step: 'initialize', name: 'countParts' },
    )
    const bytes = seededBytes(12 * MiB, 5)
    await storage.put('big.bin', bytes)
    expect(new Set(parts).size).toBe(3)
    expect((await storage.head('big.bin'))?.size).toBe(bytes.length)
  })

  it('should map a missing bucket to NOT_FOUND', async () => {
    const storage = new S3Storage({
      bucket: 'no-such-bucket',
      client: new S3Client({
        ...S3Storage.clientConfig({
          bucket: 'x',
          endpoint: server.endpoint,
          forcePathStyle: true,
          region: 'us-east-1',
        }),
        credentials: S3RVER_CREDENTIALS,
      }),
      retry: { retries: 0 },
    })
    const error = await storage.put('k', utf8('x')).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StorageError)
    expect((error as StorageError).code).toBe('NOT_FOUND')
  })

  it('should point R2Storage at the account endpoint with region auto by default', async () => {
    const r2 = new R2Storage({ accountId: 'abc123', bucket: 'b', client: new S3Client({ region: 'auto' }) })
    expect(r2.provider).toBe('r2')
    const config = S3Storage.clientConfig({ bucket: 'b', endpoint: r2Endpoint('abc123') })
    expect(config.endpoint).toBe('https://abc123.r2.cloudflarestorage.com')
    const built = new R2Storage({ accountId: 'abc123', bucket: 'b' })
    expect(await built.client.config.region()).toBe('auto')
    const endpoint = await built.client.config.endpoint?.()
    expect(endpoint?.hostname).toBe('abc123.r2.cloudflarestorage.com')
  })
})
