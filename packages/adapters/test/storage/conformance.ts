/**
 * The storage conformance suite: ONE set of behaviours every {@link Storage} implementation must
 * show, run against each provider on a real server (local disk, s3rver for S3 and R2, Azurite,
 * the GCS JSON-API test server, the KV REST test server).
 *
 * @example
 * ```ts
 * describeStorageConformance('S3Storage on s3rver', () => new S3Storage({ ... }), { conditionalPut: 'not-enforced-by-server' })
 * ```
 */
import { describe, expect, it } from 'vitest'
import { StorageError } from '../../src/errors.js'
import { listAll, type ObjectInfo, type Storage } from '../../src/storage/storage.js'
import { chunkedStream, failingStream, readAll, seededBytes, sha256, text, utf8 } from './data.js'

/** How a provider handles `PutOptions.ifMatch`. */
export type ConditionalPutSupport =
  /** Failing conditions are rejected with PRECONDITION_FAILED. */
  | 'enforced'
  /** The provider has no conditional writes: any `ifMatch` throws UNSUPPORTED. */
  | 'unsupported'
  /**
   * The adapter sends the condition but the test server ignores it (s3rver): only the passing
   * cases can be checked here; the provider's own test checks the request on the wire.
   */
  | 'not-enforced-by-server'

/** What the suite may expect of one implementation. */
export interface ConformanceOptions {
  conditionalPut: ConditionalPutSupport
  /** Size of the large-object case (multipart / block / resumable path). Default 20 MiB. */
  largeObjectBytes?: number
  /** Whether put/head return etags. Default true. */
  etags?: boolean
  /**
   * Whether the SERVER replaces objects atomically under concurrent writes to one key (every real
   * provider does). s3rver's filesystem store does not (it rewrites files in place), so for it the
   * suite checks instead that a write after the concurrent ones wins whole. Default true.
   */
  atomicOverwrites?: boolean
  /**
   * How long the SERVER may take, after answering a write, before reads and listings show it whole.
   * Real providers show a write at once (0, the default). s3rver's filesystem store can finish
   * writing after it answered when the machine is loaded; for it, the checks below that read back
   * right after writing retry until this many milliseconds have passed, then fail as before.
   */
  settleMs?: number
}

/** Runs `check` until it passes or `ms` have passed (then throws its last failure). */
async function settled(ms: number, check: () => Promise<void>): Promise<void> {
  const end = Date.now() + ms
  for (;;) {
    try {
      return await check()
    } catch (error) {
      if (Date.now() >= end) throw error
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
}

const MiB = 1024 * 1024

async function expectStorageError(promise: Promise<unknown>, code: string): Promise<StorageError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error, `expected a StorageError ${code}`).toBeInstanceOf(StorageError)
  expect((error as StorageError).code).toBe(code)
  return error as StorageError
}

/**
 * Registers the conformance tests for one implementation. `factory` is called once per test and
 * must return a storage over an EMPTY namespace (a fresh folder, prefix, container or KV namespace).
 */
export function describeStorageConformance(
  name: string,
  factory: () => Storage | Promise<Storage>,
  options: ConformanceOptions,
): void {
  const largeBytes = options.largeObjectBytes ?? 20 * MiB
  const etags = options.etags ?? true

  describe(`${name}: storage conformance`, () => {
    it('should round-trip bytes, including an empty object and every byte value', async () => {
      const storage = await factory()
      const all = Uint8Array.from({ length: 256 }, (_, i) => i)
      const info = await storage.put('round/trip.bin', all, { contentType: 'application/octet-stream' })
      expect(info.key).toBe('round/trip.bin')
      expect(info.size).toBe(256)
      expect(await storage.get('round/trip.bin')).toEqual(all)
      await storage.put('round/empty', new Uint8Array(0))
      expect(await storage.get('round/empty')).toEqual(new Uint8Array(0))
      expect((await storage.head('round/empty'))?.size).toBe(0)
      const head = await storage.head('round/trip.bin')
      expect(head?.size).toBe(256)
      if (etags) expect(head?.etag).toBe(info.etag)
    })

    it('should round-trip a stream of unknown length and read it back as a stream', async () => {
      const storage = await factory()
      const bytes = seededBytes(300_001, 7)
      const info = await storage.put('round/stream.bin', chunkedStream(bytes, 65_521))
      expect(info.size).toBe(bytes.length)
      const stream = await storage.getStream('round/stream.bin')
      expect(stream).toBeDefined()
      expect(sha256(await readAll(stream!))).toBe(sha256(bytes))
      expect(sha256((await storage.get('round/stream.bin'))!)).toBe(sha256(bytes))
    })

    it(`should store a large object (${largeBytes / MiB} MiB) from a stream and from bytes`, async () => {
      const storage = await factory()
      const bytes = seededBytes(largeBytes, 11)
      const fromStream = await storage.put('large/streamed.bin', chunkedStream(bytes, 1 * MiB + 3))
      expect(fromStream.size).toBe(largeBytes)
      const fromBytes = await storage.put('large/bytes.bin', bytes)
      expect(fromBytes.size).toBe(largeBytes)
      for (const key of ['large/streamed.bin', 'large/bytes.bin']) {
        const got = await storage.get(key)
        expect(got?.length).toBe(largeBytes)
        expect(sha256(got!)).toBe(sha256(bytes))
        expect((await storage.head(key))?.size).toBe(largeBytes)
      }
      const tail = await storage.getRange('large/streamed.bin', { start: largeBytes - 10 })
      expect(tail).toEqual(bytes.slice(largeBytes - 10))
    }, 120_000)

    it('should read byte ranges, clamping at the end of the object', async () => {
      const storage = await factory()
      const bytes = seededBytes(10_000, 3)
      await storage.put('range/obj', bytes)
      expect(await storage.getRange('range/obj', { start: 100, end: 200 })).toEqual(bytes.slice(100, 200))
      expect(await storage.getRange('range/obj', { start: 0, end: 1 })).toEqual(bytes.slice(0, 1))
      expect(await storage.getRange('range/obj', { start: 9_990 })).toEqual(bytes.slice(9_990))
      expect(await storage.getRange('range/obj', { start: 9_000, end: 20_000 })).toEqual(bytes.slice(9_000))
      expect(await storage.getRange('range/obj', { start: 500, end: 500 })).toEqual(new Uint8Array(0))
      expect(await storage.getRange('range/obj', { start: 10_000 })).toEqual(new Uint8Array(0))
      expect(await storage.getRange('range/obj', { start: 50_000, end: 60_000 })).toEqual(new Uint8Array(0))
      expect(await storage.getRange('range/missing', { start: 0, end: 10 })).toBeUndefined()
      await expectStorageError(storage.getRange('range/obj', { start: -1 }), 'INVALID_RANGE')
      await expectStorageError(storage.getRange('range/obj', { start: 10, end: 5 }), 'INVALID_RANGE')
      await expectStorageError(storage.getRange('range/obj', { start: 1.5 }), 'INVALID_RANGE')
    })

    it('should paginate a listing with cursors, in key order, without duplicates', async () => {
      const storage = await factory()
      const keys = Array.from({ length: 25 }, (_, i) => `page/item-${String(i).padStart(3, '0')}`)
      // Written in reverse to make sure the listing sorts rather than echoing insertion order.
      for (const key of [...keys].reverse()) await storage.put(key, utf8(key))
      await settled(options.settleMs ?? 0, async () => {
        const seen: ObjectInfo[] = []
        let cursor: string | undefined
        let pages = 0
        do {
          const page = await storage.list(
            'page/',
            cursor === undefined ? { limit: 10 } : { limit: 10, cursor },
          )
          expect(page.objects.length).toBeLessThanOrEqual(10)
          seen.push(...page.objects)
          cursor = page.cursor
          pages++
        } while (cursor !== undefined && pages < 10)
        expect(pages).toBe(3)
        expect(seen.map((o) => o.key)).toEqual(keys)
        expect(seen.map((o) => o.size)).toEqual(keys.map((key) => key.length))
      })
      expect((await listAll(storage, 'page/')).map((o) => o.key)).toEqual(keys)
    })

    it('should list by prefix, including partial segments', async () => {
      const storage = await factory()
      for (const key of ['pre/a/1', 'pre/a/2', 'pre/ab/1', 'pre/b/1', 'prefixed'])
        await storage.put(key, utf8(key))
      const keysOf = async (prefix: string) => (await listAll(storage, prefix)).map((o) => o.key)
      expect(await keysOf('pre/a/')).toEqual(['pre/a/1', 'pre/a/2'])
      expect(await keysOf('pre/a')).toEqual(['pre/a/1', 'pre/a/2', 'pre/ab/1'])
      expect(await keysOf('pre/')).toEqual(['pre/a/1', 'pre/a/2', 'pre/ab/1', 'pre/b/1'])
      expect(await keysOf('pre')).toEqual(['pre/a/1', 'pre/a/2', 'pre/ab/1', 'pre/b/1', 'prefixed'])
      expect(await keysOf('nothing/')).toEqual([])
      const page = await storage.list('pre/b/')
      expect(page.objects).toHaveLength(1)
      expect(page.objects[0]!.size).toBe('pre/b/1'.length)
      expect(page.cursor).toBeUndefined()
    })

    it('should answer undefined for a missing key on every read', async () => {
      const storage = await factory()
      expect(await storage.get('missing/key')).toBeUndefined()
      expect(await storage.getRange('missing/key', { start: 0 })).toBeUndefined()
      expect(await storage.getStream('missing/key')).toBeUndefined()
      expect(await storage.head('missing/key')).toBeUndefined()
    })

    it('should overwrite an existing key', async () => {
      const storage = await factory()
      const first = await storage.put('over/key', utf8('first version'))
      const second = await storage.put('over/key', utf8('second'))
      expect(text(await storage.get('over/key'))).toBe('second')
      expect((await storage.head('over/key'))?.size).toBe(6)
      if (etags) expect(second.etag).not.toBe(first.etag)
      expect((await listAll(storage, 'over/')).map((o) => o.key)).toEqual(['over/key'])
    })

    it('should delete idempotently', async () => {
      const storage = await factory()
      await storage.put('del/key', utf8('x'))
      await storage.put('del/keep', utf8('y'))
      await storage.delete('del/key')
      await storage.delete('del/key')
      await storage.delete('del/never-existed')
      expect(await storage.get('del/key')).toBeUndefined()
      expect(await storage.head('del/key')).toBeUndefined()
      expect((await listAll(storage, 'del/')).map((o) => o.key)).toEqual(['del/keep'])
    })

    it('should refuse invalid keys before touching the provider', async () => {
      const storage = await factory()
      for (const key of [
        '',
        '/abs',
        'a//b',
        'a/../b',
        '../escape',
        'a/.',
        'trailing/',
        'back\\slash',
        'nul\u0000',
      ]) {
        await expectStorageError(storage.put(key, utf8('x')), 'INVALID_KEY')
        await expectStorageError(storage.get(key), 'INVALID_KEY')
      }
      await expectStorageError(storage.list('../'), 'INVALID_KEY')
    })

    if (options.conditionalPut === 'enforced') {
      it('should enforce conditional puts (absent, etag match) and keep the stored object on failure', async () => {
        const storage = await factory()
        const created = await storage.put('cond/key', utf8('v1'), { ifMatch: 'absent' })
        await expectStorageError(
          storage.put('cond/key', utf8('v2'), { ifMatch: 'absent' }),
          'PRECONDITION_FAILED',
        )
        expect(text(await storage.get('cond/key'))).toBe('v1')
        expect(created.etag).toBeDefined()
        const updated = await storage.put('cond/key', utf8('v2'), { ifMatch: { etag: created.etag! } })
        expect(text(await storage.get('cond/key'))).toBe('v2')
        await expectStorageError(
          storage.put('cond/key', utf8('v3'), { ifMatch: { etag: created.etag! } }),
          'PRECONDITION_FAILED',
        )
        expect(text(await storage.get('cond/key'))).toBe('v2')
        await expectStorageError(
          storage.put('cond/missing', utf8('x'), { ifMatch: { etag: updated.etag! } }),
          'PRECONDITION_FAILED',
        )
        expect(await storage.head('cond/missing')).toBeUndefined()
      })

      it('should let exactly one of many concurrent absent-puts to one key win', async () => {
        const storage = await factory()
        const attempts = await Promise.allSettled(
          Array.from({ length: 8 }, (_, i) =>
            storage.put('cond/race', utf8(`writer-${i}`), { ifMatch: 'absent' }),
          ),
        )
        const winners = attempts.flatMap((a, i) => (a.status === 'fulfilled' ? [i] : []))
        expect(winners).toHaveLength(1)
        for (const attempt of attempts) {
          if (attempt.status === 'rejected')
            expect((attempt.reason as StorageError).code).toBe('PRECONDITION_FAILED')
        }
        expect(text(await storage.get('cond/race'))).toBe(`writer-${winners[0]}`)
      })
    } else if (options.conditionalPut === 'unsupported') {
      it('should reject conditional puts as UNSUPPORTED and write nothing', async () => {
        const storage = await factory()
        await expectStorageError(storage.put('cond/key', utf8('v1'), { ifMatch: 'absent' }), 'UNSUPPORTED')
        await expectStorageError(
          storage.put('cond/key', utf8('v1'), { ifMatch: { etag: '"x"' } }),
          'UNSUPPORTED',
        )
        expect(await storage.head('cond/key')).toBeUndefined()
      })
    } else {
      it('should write when the condition holds (the server does not enforce failing ones: see the provider test)', async () => {
        const storage = await factory()
        const created = await storage.put('cond/key', utf8('v1'), { ifMatch: 'absent' })
        expect(text(await storage.get('cond/key'))).toBe('v1')
        expect(created.etag).toBeDefined()
        await storage.put('cond/key', utf8('v2'), { ifMatch: { etag: created.etag! } })
        expect(text(await storage.get('cond/key'))).toBe('v2')
      })
    }

    it('should publish nothing when the body stream fails mid-upload, and keep the previous version', async () => {
      const storage = await factory()
      await storage.put('fault/key', utf8('previous'))
      // More than one multipart part / block / resumable chunk gets out before the failure.
      const good = seededBytes(7 * MiB, 9)
      for (const key of ['fault/key', 'fault/new']) {
        const error = await expectStorageError(
          storage.put(key, failingStream(good, 512 * 1024, new Error('disk read failed'))),
          'UPLOAD_FAILED',
        )
        expect(error.message).toMatch(/disk read failed/)
      }
      expect(text(await storage.get('fault/key'))).toBe('previous')
      expect(await storage.head('fault/new')).toBeUndefined()
      expect((await listAll(storage, 'fault/')).map((o) => o.key)).toEqual(['fault/key'])
    }, 60_000)

    it('should handle concurrent writes to distinct keys', async () => {
      const storage = await factory()
      const payloads = Array.from({ length: 24 }, (_, i) => seededBytes(10_000 + i * 997, i + 1))
      await Promise.all(
        payloads.map((bytes, i) => storage.put(`conc/k-${String(i).padStart(2, '0')}`, bytes)),
      )
      const listed = await listAll(storage, 'conc/')
      expect(listed).toHaveLength(payloads.length)
      const read = await Promise.all(
        payloads.map((_, i) => storage.get(`conc/k-${String(i).padStart(2, '0')}`)),
      )
      read.forEach((bytes, i) => {
        expect(sha256(bytes!)).toBe(sha256(payloads[i]!))
      })
    })

    if (options.atomicOverwrites ?? true) {
      it('should leave exactly one whole version after concurrent writes to the same key', async () => {
        const storage = await factory()
        // Each writer's payload is one repeated byte, so a mix of two writers would show.
        const payloads = Array.from({ length: 8 }, (_, i) => new Uint8Array(200_000 + i * 1000).fill(i + 1))
        await Promise.all(payloads.map((bytes) => storage.put('conc/same', bytes)))
        const got = (await storage.get('conc/same'))!
        const writer = got[0]! - 1
        expect(writer).toBeGreaterThanOrEqual(0)
        expect(writer).toBeLessThan(payloads.length)
        expect(got.length).toBe(payloads[writer]!.length)
        expect(got.every((b) => b === writer + 1)).toBe(true)
        expect((await storage.head('conc/same'))?.size).toBe(got.length)
      })
    } else {
      it('should keep the next whole write after concurrent writes to the same key (server not atomic)', async () => {
        const storage = await factory()
        const payloads = Array.from({ length: 8 }, (_, i) => new Uint8Array(200_000 + i * 1000).fill(i + 1))
        await Promise.all(payloads.map((bytes) => storage.put('conc/same', bytes)))
        const last = new Uint8Array(150_000).fill(42)
        await storage.put('conc/same', last)
        await settled(options.settleMs ?? 0, async () => {
          expect(sha256((await storage.get('conc/same'))!)).toBe(sha256(last))
          expect((await storage.head('conc/same'))?.size).toBe(last.length)
        })
      })
    }
  })
}
