import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveAlsOptions, trainAls } from './als/index.js'
import type { EdgerecConfig } from './config/config.js'
import {
  type AlsFitter,
  loadedMatrixAllocator,
  loadFromConfig,
  WORKER_EVENTS_MIN_ITEM_PEOPLE,
  weightingFor,
} from './train.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgerec-train-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** A SQLite file with the edge worker's D1 schema (its drizzle migrations). */
async function workerDatabase(path: string): Promise<DatabaseSync> {
  const db = new DatabaseSync(path)
  const migrations = new URL('../../edge-worker/drizzle/', import.meta.url)
  for (const name of (await readdir(migrations)).filter((n) => n.endsWith('.sql')).sort()) {
    for (const statement of (await readFile(new URL(name, migrations), 'utf8')).split(
      '--> statement-breakpoint',
    ))
      db.exec(statement)
  }
  return db
}

/** Events: 4 people view `real-1` and `real-2`; one client sends a junk id under 2 anonymous ids. */
function rows(): [string, string, string][] {
  const out: [string, string, string][] = []
  for (const user of ['u1', 'u2', 'u3', 'u4'])
    for (const item of ['real-1', 'real-2']) out.push([user, item, `${user}-${item}`])
  out.push(['bot-a', 'junk-sku', 'j1'], ['bot-b', 'junk-sku', 'j2'], ['bot-a', 'real-1', 'j3'])
  return out
}

describe('item ids from too few people (issue 13)', () => {
  it('should drop, by default, item ids that the worker received from fewer than 3 people, and keep them from files', async () => {
    const path = join(dir, 'worker.sqlite')
    const db = await workerDatabase(path)
    const insert = db.prepare(
      'INSERT INTO events (id, user_id, anonymous_id, item_id, type, value, timestamp, received_at, context) VALUES (?, ?, NULL, ?, ?, NULL, ?, ?, NULL)',
    )
    for (const [user, item, id] of rows())
      insert.run(id, user, item, 'view', 1_700_000_000_000, 1_700_000_000_000)
    db.close()
    const lines: string[] = []
    const logger = { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m) }

    const fromWorker = await loadFromConfig({ events: { kind: 'sqlite', path } }, { logger, cwd: dir })
    expect(fromWorker.data.itemIds).toEqual(['real-1', 'real-2'])
    expect(fromWorker.stats.filteredItemExamples).toEqual(['junk-sku'])
    expect(lines.join('\n')).toMatch(
      /1 item ids seen from fewer than 3 people were dropped .* e\.g\. junk-sku/,
    )

    // Configured explicitly, the junk id stays.
    const kept = await loadFromConfig(
      { events: { kind: 'sqlite', path }, weighting: { minItemInteractions: 1 } },
      { cwd: dir },
    )
    expect(kept.data.itemIds).toEqual(['junk-sku', 'real-1', 'real-2'])

    // A file (a dataset or export) keeps every item unless configured.
    const file = join(dir, 'events.ndjson')
    await writeFile(
      file,
      rows()
        .map(([userId, itemId, id]) =>
          JSON.stringify({ id, userId, itemId, type: 'view', timestamp: 1_700_000_000_000 }),
        )
        .join('\n'),
    )
    const fromFile = await loadFromConfig({ events: { kind: 'ndjson', path: file } }, { cwd: dir })
    expect(fromFile.data.itemIds).toEqual(['junk-sku', 'real-1', 'real-2'])
  })

  it('should default only worker sources and never override a configured value', () => {
    expect(
      weightingFor({ events: { kind: 'd1', accountId: 'a', databaseId: 'd' } }).minItemInteractions,
    ).toBe(WORKER_EVENTS_MIN_ITEM_PEOPLE)
    expect(weightingFor({ events: { kind: 'csv', path: 'x.csv' } }).minItemInteractions).toBeUndefined()
    expect(
      weightingFor({ events: { kind: 'sqlite', path: 'x' }, weighting: { minItemInteractions: 5 } })
        .minItemInteractions,
    ).toBe(5)
  })
})

describe('loadedMatrixAllocator (issue 14)', () => {
  /** The bits of a float array, for exact comparison. */
  const bits = (a: Float32Array): number[] => [...new Uint32Array(a.buffer, a.byteOffset, a.length)]

  /** A CSV of 2,000 events: 120 users, 60 items, repeated pairs, values 1–4, distinct times. */
  async function ratings(): Promise<string> {
    const path = join(dir, 'ratings.csv')
    const lines = ['userId,itemId,value,timestamp']
    let x = 7
    for (let k = 0; k < 2000; k++) {
      x = (x * 1103515245 + 12345) % 2147483648
      lines.push(`u${x % 120},i${(x >>> 8) % 60},${1 + ((x >>> 16) % 4)},${1_700_000_000 + k}`)
    }
    await writeFile(path, `${lines.join('\n')}\n`)
    return path
  }

  it.each([1, 2])(
    'should load the matrix into the ALS memory and train it in place to the same factors, bit for bit, as a plainly loaded one (%i threads)',
    async (threads) => {
      const config: EdgerecConfig = {
        events: { kind: 'file', path: await ratings() },
        als: { factors: 8, iterations: 3, threads, seed: 3 },
      }
      const allocateMatrix = loadedMatrixAllocator(config)
      expect(allocateMatrix).toBeDefined()
      const plain = await loadFromConfig(config)
      const placed = await loadFromConfig(config, {}, { allocateMatrix })
      const m = placed.data.matrix
      expect(m.indices.buffer).toBeInstanceOf(SharedArrayBuffer)
      expect([...m.indptr]).toEqual([...plain.data.matrix.indptr])
      expect([...m.indices]).toEqual([...plain.data.matrix.indices])
      expect(bits(m.values)).toEqual(bits(plain.data.matrix.values))
      expect([...m.timestamps]).toEqual([...plain.data.matrix.timestamps])
      expect(placed.stats).toEqual(plain.stats)

      const als = resolveAlsOptions({ ...config.als })
      const copied = await trainAls(plain.data.matrix, als)
      const inPlace = await trainAls(m, als)
      // Trained where the loader put it: the factors are views onto the memory that holds the matrix.
      expect(inPlace.userFactors.buffer).toBe(m.indices.buffer)
      expect(copied.userFactors.buffer).not.toBe(plain.data.matrix.indices.buffer)
      expect(bits(inPlace.userFactors)).toEqual(bits(copied.userFactors))
      expect(bits(inPlace.itemFactors)).toEqual(bits(copied.itemFactors))
    },
  )

  it('should leave the matrix in ordinary arrays when tuning or a fitter trains before the exported model', () => {
    const events = { kind: 'file', path: 'e.csv' } as const
    expect(loadedMatrixAllocator({ events, tuning: { enabled: true } })).toBeUndefined()
    const fitter: AlsFitter = { fit: async () => Promise.reject(new Error('not called')) }
    expect(loadedMatrixAllocator({ events }, { fitter })).toBeUndefined()
  })
})
