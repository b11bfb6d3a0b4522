/**
 * Reads the item catalog a model version exports (issue 17): the edge worker's `items` table in a
 * SQLite file (the `wrangler dev` D1, like the SQLite event source), or a catalog file (JSON array,
 * `{ "items": [...] }`, NDJSON, or the generator's `catalog.json`). Items are validated one at a
 * time with core's `validateItem`; bad ones are skipped and counted.
 *
 * @module
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { EventSourceConfig } from '@edgerec/adapters'
import { type CatalogItem, validateItem } from '@edgerec/core'
import { TrainerError } from '../errors.js'

/** Where the catalog comes from. */
export type CatalogSourceConfig =
  | { kind: 'file'; path: string }
  | { kind: 'sqlite'; path: string; table?: string }
  | { kind: 'none' }

/** A read catalog. */
export interface ReadCatalog {
  items: CatalogItem[]
  /** Newest change read (epoch ms): the worker overlays rows changed at or after it. */
  updatedUntil: number
  description: string
  /** Items that failed validation (skipped). */
  rejected: number
  /** First problems, for the log. */
  samples: string[]
}

/** The generator's catalog item (`generate/catalog.ts`). */
interface GeneratedItem {
  id: string
  name?: string
  category: string
  price?: number
  colour?: string
}

function fromGenerated(item: GeneratedItem): unknown {
  return {
    itemId: item.id,
    categories: [item.category],
    ...(item.colour ? { tags: [item.colour] } : {}),
    ...(item.price !== undefined ? { price: item.price } : {}),
    ...(item.name ? { attributes: { name: item.name } } : {}),
  }
}

function collect(raw: readonly unknown[], description: string, updatedUntil: number): ReadCatalog {
  const items: CatalogItem[] = []
  const samples: string[] = []
  let rejected = 0
  raw.forEach((entry, i) => {
    const r = validateItem(entry)
    if (r.ok) items.push(r.item)
    else {
      rejected++
      if (samples.length < 5)
        samples.push(`item ${i}: ${r.errors.map((e) => `${e.field}: ${e.message}`).join(' ')}`)
    }
  })
  return { items, updatedUntil, description, rejected, samples }
}

/** Reads a catalog file. The export time is the file's modification time. */
export async function readCatalogFile(path: string): Promise<ReadCatalog> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (cause) {
    throw new TrainerError(
      'CATALOG_INVALID',
      `Catalog file ${path} cannot be read: ${(cause as Error).message}.`,
      { cause },
    )
  }
  const { statSync } = await import('node:fs')
  const updatedUntil = Math.floor(statSync(path).mtimeMs)
  let entries: unknown[]
  const trimmed = text.trimStart()
  if (trimmed.startsWith('[') || (trimmed.startsWith('{') && !path.endsWith('.ndjson'))) {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (cause) {
      throw new TrainerError(
        'CATALOG_INVALID',
        `Catalog file ${path} is not valid JSON: ${(cause as Error).message}.`,
        {
          cause,
        },
      )
    }
    const list = Array.isArray(parsed) ? parsed : (parsed as { items?: unknown }).items
    if (!Array.isArray(list)) {
      throw new TrainerError(
        'CATALOG_INVALID',
        `Catalog file ${path} must hold an array of items or { "items": [...] }.`,
      )
    }
    const generated = !Array.isArray(parsed) && Array.isArray((parsed as { categories?: unknown }).categories)
    entries = generated ? (list as GeneratedItem[]).map(fromGenerated) : list
  } else {
    entries = []
    for (const [n, line] of text.split('\n').entries()) {
      if (line.trim() === '') continue
      try {
        entries.push(JSON.parse(line))
      } catch {
        entries.push({ __line: n + 1 })
      }
    }
  }
  return collect(entries, `catalog file ${path}`, updatedUntil)
}

/** Reads the worker's `items` table from a SQLite file (deleted rows are skipped). */
export async function readCatalogSqlite(path: string, table = 'items'): Promise<ReadCatalog | undefined> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table))
    throw new TrainerError(
      'CATALOG_INVALID',
      `Table name ${JSON.stringify(table)} must be a plain SQL identifier.`,
    )
  if (!existsSync(path)) throw new TrainerError('CATALOG_INVALID', `SQLite file ${path} does not exist.`)
  const { DatabaseSync } = await import('node:sqlite')
  const db = new DatabaseSync(path, { readOnly: true })
  try {
    const exists = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?`).get(table)
    if (!exists) return undefined
    const rows = db.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[]
    let updatedUntil = 0
    const raw: unknown[] = []
    for (const row of rows) {
      updatedUntil = Math.max(updatedUntil, Number(row.updated_at))
      if (Number(row.deleted) === 1) continue
      const parse = (value: unknown, fallback: unknown) => {
        try {
          return JSON.parse(String(value))
        } catch {
          return fallback
        }
      }
      raw.push({
        itemId: row.item_id,
        categories: parse(row.categories, []),
        tags: parse(row.tags, []),
        price: row.price === null ? null : Number(row.price),
        available: Number(row.available) === 1,
        ...(row.created_at === null ? {} : { createdAt: Number(row.created_at) }),
        attributes: parse(row.attributes, {}),
      })
    }
    return collect(raw, `SQLite ${path} (table ${table})`, updatedUntil)
  } finally {
    db.close()
  }
}

/**
 * The catalog of a training run: `config` when given; otherwise the `items` table next to SQLite
 * events, or the demo data's `catalog.json` when training on the demo data. Undefined when there is
 * none (the version is exported without a catalog; the worker then overlays the whole D1 catalog).
 */
export async function resolveCatalog(
  config: CatalogSourceConfig | undefined,
  events: EventSourceConfig | undefined,
  cwd: string,
): Promise<ReadCatalog | undefined> {
  if (config?.kind === 'none') return undefined
  if (config?.kind === 'file') return readCatalogFile(resolve(cwd, config.path))
  if (config?.kind === 'sqlite') return readCatalogSqlite(resolve(cwd, config.path), config.table)
  if (config !== undefined) {
    throw new TrainerError(
      'CONFIG_INVALID',
      `catalog.kind must be file, sqlite or none; got ${JSON.stringify((config as { kind?: unknown }).kind)}.`,
    )
  }
  if (events?.kind === 'sqlite') return readCatalogSqlite(resolve(cwd, events.path))
  if (events === undefined) {
    const demo = join(cwd, '.edgerec', 'demo', 'catalog.json')
    if (existsSync(demo)) return readCatalogFile(demo)
  }
  return undefined
}
