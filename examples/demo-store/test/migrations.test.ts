/**
 * `pendingMigrations` (demo/d1.ts): a demo state prepared before a worker migration was added is
 * brought up to date by `npm run demo` instead of serving without the new tables (a missing
 * `rec_lists` made `POST /v1/impressions` answer 503).
 */
import { readdirSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { pendingMigrations } from '../demo/d1.js'
import { demoLayout, workerDir } from '../demo/layout.js'

const demo = inject('demo')
const all = readdirSync(join(workerDir, 'drizzle'))
  .filter((f) => f.endsWith('.sql'))
  .sort()
const dirs: string[] = []

afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
})

describe('pendingMigrations', () => {
  it('should find none in the state the test setup prepared', async () => {
    expect(all).toContain('0003_online.sql')
    expect(await pendingMigrations(demoLayout(demo.dir))).toEqual([])
  })

  it('should list the migrations an older state has not applied, and all of them without the table', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edgerec-demo-migrations-'))
    dirs.push(dir)
    const layout = demoLayout(dir)
    const d1 = join(layout.persistTo, 'v3/d1/miniflare-D1DatabaseObject')
    await mkdir(d1, { recursive: true })
    const db = new DatabaseSync(join(d1, 'old-state.sqlite'))
    expect(await pendingMigrations(layout)).toEqual(all)
    db.exec('CREATE TABLE d1_migrations (id INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)')
    const insert = db.prepare('INSERT INTO d1_migrations (name, applied_at) VALUES (?, ?)')
    for (const name of all.filter((n) => n < '0003')) insert.run(name, '2026-11-30 10:00:00')
    db.close()
    expect(await pendingMigrations(layout)).toEqual(all.filter((n) => n >= '0003'))
  })
})
