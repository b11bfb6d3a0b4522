import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { events as eventsTable } from '@edgerec/edge-worker/schema'
import { getTableConfig } from 'drizzle-orm/sqlite-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEventsDb } from '../../test/events/fixtures.js'
import type { SourceEvent } from './source.js'
import { EVENT_ROW_COLUMNS, sqliteEventSource } from './sql.js'

let dir: string
let path: string
let badRowids: number[]
const count = 2345
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgerec-sqlite-'))
  path = join(dir, 'd1.sqlite')
  const created = createEventsDb(path, count)
  badRowids = created.badRowids
  created.db.close()
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('sqliteEventSource', () => {
  it('should read every column it selects from the worker schema (@edgerec/edge-worker/schema)', () => {
    const config = getTableConfig(eventsTable)
    expect(config.name).toBe('events')
    const names = config.columns.map((c) => c.name)
    for (const column of EVENT_ROW_COLUMNS) expect(names).toContain(column)
    expect(EVENT_ROW_COLUMNS).toHaveLength(9)
  })

  it('should page through the events table by rowid with drizzle and report bad rows by rowid', async () => {
    const stream = sqliteEventSource({ path, pageRows: 500 }).read()
    const events: SourceEvent[] = []
    for await (const batch of stream) events.push(...batch)
    expect(events).toHaveLength(count)
    expect(stream.report.badRows).toBe(4)
    expect(stream.report.samples.map((s) => s.line)).toEqual(badRowids)
    expect(stream.report.samples[1]!.reason).toBe('context is not JSON')
    expect(events[0]).toEqual({
      userId: 'u0',
      itemId: 'i0',
      type: 'purchase',
      value: 2,
      timestamp: Date.UTC(2026, 0, 1),
      // The worker's receive time (server clock), for the trainer's cut-off.
      receivedAt: Date.UTC(2026, 0, 1) + 5,
    })
    // Anonymous events train under their anonymous id.
    expect(events[3]).toMatchObject({ userId: 'anon-3', type: 'view', value: undefined })
  })

  it('should read events of an anonymous id linked by identify() as the linked user', async () => {
    const linkedPath = join(dir, 'linked.sqlite')
    const { db } = createEventsDb(linkedPath, 100)
    db.prepare('INSERT INTO identity_links (anonymous_id, user_id, linked_at) VALUES (?, ?, ?)').run(
      'anon-3',
      'u-linked',
      Date.UTC(2026, 0, 2),
    )
    db.close()
    const events: SourceEvent[] = []
    for await (const batch of sqliteEventSource({ path: linkedPath }).read()) events.push(...batch)
    expect(events).toHaveLength(100)
    // Row i is anonymous when i % 10 === 3, under anon-(i % 7): rows 3 and 73 are anon-3.
    expect(events[3]).toMatchObject({ userId: 'u-linked', itemId: 'i3' })
    expect(events[73]).toMatchObject({ userId: 'u-linked' })
    // Other anonymous ids stay separate until they are linked.
    expect(events[13]).toMatchObject({ userId: 'anon-6' })
    expect(events.filter((e) => e.userId === 'u-linked')).toHaveLength(2)
  })

  it('should drop events of a deleted person received before the deletion (issue 13)', async () => {
    const deletedPath = join(dir, 'deleted.sqlite')
    const { db } = createEventsDb(deletedPath, 100)
    // u1 erased after all of its events; anon-3 erased between its two events (rows 3 and 73).
    const u1Events = db.prepare("SELECT COUNT(*) AS n FROM events WHERE user_id = 'u1'").get() as {
      n: number
    }
    db.prepare('INSERT INTO deleted_users (user_key, deleted_at) VALUES (?, ?)').run(
      'u1',
      Date.UTC(2027, 0, 1),
    )
    db.prepare('INSERT INTO deleted_users (user_key, deleted_at) VALUES (?, ?)').run(
      'anon-3',
      Date.UTC(2026, 0, 1) + 10 * 60_000,
    )
    db.close()
    const events: SourceEvent[] = []
    for await (const batch of sqliteEventSource({ path: deletedPath }).read()) events.push(...batch)
    expect(u1Events.n).toBeGreaterThan(0)
    expect(events.filter((e) => e.userId === 'u1')).toHaveLength(0)
    expect(events.filter((e) => e.userId === 'anon-3').map((e) => e.itemId)).toEqual(['i15'])
    expect(events).toHaveLength(100 - u1Events.n - 1)
  })

  it('should read only events since a time', async () => {
    const since = Date.UTC(2026, 0, 1) + 2000 * 60_000
    const stream = sqliteEventSource({ path, since, pageRows: 100 }).read()
    let n = 0
    for await (const batch of stream) n += batch.length
    expect(n).toBe(count - 2000)
  })

  it('should explain a missing file or table', async () => {
    const read = async (options: Parameters<typeof sqliteEventSource>[0]) => {
      for await (const _ of sqliteEventSource(options).read()) {
        // drain
      }
    }
    await expect(read({ path: join(dir, 'nope.sqlite') })).rejects.toMatchObject({ code: 'INPUT_NOT_FOUND' })
    await expect(read({ path, table: 'nothing_here' })).rejects.toMatchObject({ code: 'INPUT_NOT_FOUND' })
    expect(() => sqliteEventSource({ path, table: 'x; drop table events' })).toThrow(/plain SQL identifier/)
  })
})
