import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadFromConfig, WORKER_EVENTS_MIN_ITEM_PEOPLE, weightingFor } from './train.js'

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
