import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { catalogFor } from '../generate/index.js'
import { readCatalogFile, readCatalogSqlite, resolveCatalog } from './read.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgerec-catalog-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** A SQLite file with the edge worker's real migrations applied (the `wrangler dev` D1). */
async function workerDatabase(path: string): Promise<DatabaseSync> {
  const db = new DatabaseSync(path)
  const migrations = new URL('../../../edge-worker/drizzle/', import.meta.url)
  for (const name of (await readdir(migrations)).filter((n) => n.endsWith('.sql')).sort()) {
    for (const statement of (await readFile(new URL(name, migrations), 'utf8')).split(
      '--> statement-breakpoint',
    ))
      db.exec(statement)
  }
  return db
}

describe('readCatalogFile', () => {
  it('should read the generator catalog.json as categories, colour tags and prices', async () => {
    const path = join(dir, 'catalog.json')
    const generated = catalogFor({ events: 100, items: 50, seed: 1 })
    await writeFile(path, JSON.stringify(generated))
    const catalog = await readCatalogFile(path)
    expect(catalog.items).toHaveLength(50)
    expect(catalog.rejected).toBe(0)
    const first = generated.items[0]!
    expect(catalog.items[0]).toMatchObject({
      itemId: first.id,
      categories: [first.category],
      tags: [first.colour],
      price: first.price,
    })
    expect(catalog.updatedUntil).toBeGreaterThan(0)
  })

  it('should read NDJSON items and skip invalid ones with a reason', async () => {
    const path = join(dir, 'items.ndjson')
    await writeFile(
      path,
      '{"itemId":"a","categories":["x"]}\n{"itemId":"b","price":"cheap"}\nnot json\n\n{"itemId":"c"}\n',
    )
    const catalog = await readCatalogFile(path)
    expect(catalog.items.map((i) => i.itemId)).toEqual(['a', 'c'])
    expect(catalog.rejected).toBe(2)
    expect(catalog.samples[0]).toMatch(/price/)
  })

  it('should fail clearly on a missing or malformed file', async () => {
    await expect(readCatalogFile(join(dir, 'nope.json'))).rejects.toMatchObject({ code: 'CATALOG_INVALID' })
    const bad = join(dir, 'bad.json')
    await writeFile(bad, '{"things": 1}')
    await expect(readCatalogFile(bad)).rejects.toThrow(/array of items/)
  })
})

describe('readCatalogSqlite', () => {
  it('should read live rows of the worker items table and the newest change as the export time', async () => {
    const path = join(dir, 'worker.sqlite')
    const db = await workerDatabase(path)
    const insert = db.prepare(
      'INSERT INTO items (item_id, categories, tags, price, available, created_at, attributes, updated_at, deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    )
    insert.run('a', '["shoes"]', '["red"]', 10, 1, 1_700_000_000_000, '{"brand":"x"}', 1000, 0)
    insert.run('b', '[]', '[]', null, 0, null, '{}', 3000, 0)
    insert.run('gone', '[]', '[]', null, 0, null, '{}', 5000, 1)
    db.close()
    const catalog = await readCatalogSqlite(path)
    expect(catalog?.items).toEqual([
      {
        itemId: 'a',
        categories: ['shoes'],
        tags: ['red'],
        price: 10,
        available: true,
        createdAt: 1_700_000_000_000,
        attributes: { brand: 'x' },
      },
      {
        itemId: 'b',
        categories: [],
        tags: [],
        price: null,
        available: false,
        createdAt: null,
        attributes: {},
      },
    ])
    // The tombstone still moves the watermark: the worker overlays changes from there on.
    expect(catalog?.updatedUntil).toBe(5000)
    // SQLite events imply the catalog next to them.
    const resolved = await resolveCatalog(undefined, { kind: 'sqlite', path }, dir)
    expect(resolved?.items).toHaveLength(2)
    expect(await resolveCatalog({ kind: 'none' }, { kind: 'sqlite', path }, dir)).toBeUndefined()
  })

  it('should answer undefined when the database has no items table', async () => {
    const path = join(dir, 'empty.sqlite')
    new DatabaseSync(path).close()
    expect(await readCatalogSqlite(path)).toBeUndefined()
  })
})
