/**
 * The catalog write API (secret key): `PUT /v1/items` upserts a batch of at most 500 items by
 * `itemId`, each validated on its own (core's `validateItem`); `DELETE /v1/items/:itemId` removes
 * one. Both write D1 and, in the isolate that served them, the catalog overlay at once; other
 * isolates see the change within `CATALOG_REFRESH_SECONDS`.
 *
 * @module
 */
import { CATALOG_LIMITS, type FieldError, validateItemBatch } from '@edgerec/core'
import type { Context } from 'hono'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { deleteItem, upsertItems } from '../catalog/db.js'
import type { AppEnv } from '../env.js'
import { ApiError } from '../errors.js'
import { OPERATIONS } from '../openapi/operations.js'
import { checkId, ParamErrors } from '../params.js'
import type { ServingDeps } from '../serving/context.js'

/** Largest `PUT /v1/items` body: 1 MiB. */
export const MAX_ITEMS_BODY_BYTES = 1024 * 1024

/** Per-item outcome of `PUT /v1/items`. */
export interface ItemResult {
  index: number
  itemId?: string
  status: 'created' | 'updated' | 'rejected'
  errors?: FieldError[]
}

/** The JSON body of a `PUT /v1/items` answer. */
export interface ItemsBody {
  created: number
  updated: number
  rejected: number
  results: ItemResult[]
}

function requireSecret(c: Context<AppEnv>): void {
  if (c.var.role !== 'secret') {
    throw new ApiError(
      'FORBIDDEN',
      'Changing the catalog needs the secret key; the publishable key may only read.',
    )
  }
}

function idOf(raw: unknown): string | undefined {
  const id = raw !== null && typeof raw === 'object' ? (raw as { itemId?: unknown }).itemId : undefined
  return typeof id === 'string' ? id.slice(0, 256) : undefined
}

/** Routes `PUT /v1/items` and `DELETE /v1/items/:itemId`. */
export function catalogWriteRoutes(deps: ServingDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.put(
    '/',
    OPERATIONS.putItems,
    bodyLimit({
      maxSize: MAX_ITEMS_BODY_BYTES,
      onError: () => {
        throw new ApiError(
          'PAYLOAD_TOO_LARGE',
          `The request body is larger than ${MAX_ITEMS_BODY_BYTES} bytes. Send fewer items per batch (at most ${CATALOG_LIMITS.maxBatchSize}).`,
        )
      },
    }),
    async (c) => {
      requireSecret(c)
      let input: unknown
      try {
        input = JSON.parse(await c.req.text())
      } catch (error) {
        throw new ApiError(
          'INVALID_REQUEST',
          `The body is not valid JSON (${(error as Error).message}). Send { "items": [ ... ] }.`,
        )
      }
      const rawList = Array.isArray(input) ? input : (input as { items?: unknown } | null)?.items
      if (Array.isArray(rawList) && rawList.length > CATALOG_LIMITS.maxBatchSize) {
        throw new ApiError(
          'PAYLOAD_TOO_LARGE',
          `A batch holds at most ${CATALOG_LIMITS.maxBatchSize} items; got ${rawList.length}. Split it into smaller batches.`,
        )
      }
      const batch = validateItemBatch(input)
      if (!batch.ok) {
        throw new ApiError('INVALID_ITEMS', `The body is not an item batch: ${batch.error.message}`, {
          details: [batch.error],
        })
      }
      // The last of two entries with one id wins, as in a sequence of PUTs.
      const latest = new Map(batch.valid.map((item) => [item.itemId, item]))
      const now = deps.now()
      let created: Set<string>
      try {
        created = await upsertItems(c.env.DB, [...latest.values()], now)
      } catch (error) {
        throw new ApiError(
          'STORAGE_UNAVAILABLE',
          'The items could not be stored (D1 failed); none of this batch was written. Retry the same batch: upserts are idempotent.',
          { cause: error },
        )
      }
      deps.catalog.apply([...latest.values()].map((item) => ({ itemId: item.itemId, item, updatedAt: now })))
      const body: ItemsBody = { created: 0, updated: 0, rejected: 0, results: [] }
      const counted = new Set<string>()
      for (const r of batch.results) {
        if (!r.ok) {
          const itemId = idOf((rawList as unknown[])[r.index])
          body.results.push({
            index: r.index,
            ...(itemId ? { itemId } : {}),
            status: 'rejected',
            errors: r.errors,
          })
          body.rejected++
          continue
        }
        const status = created.has(r.item.itemId) && !counted.has(r.item.itemId) ? 'created' : 'updated'
        counted.add(r.item.itemId)
        body.results.push({ index: r.index, itemId: r.item.itemId, status })
        body[status]++
      }
      c.header('Cache-Control', 'no-store')
      return c.json(body)
    },
  )
  app.delete('/:itemId', OPERATIONS.deleteItem, async (c) => {
    requireSecret(c)
    const errors = new ParamErrors()
    const itemId = checkId(errors, 'itemId', c.req.param('itemId'))
    errors.throwIfAny()
    const now = deps.now()
    let existed: boolean
    try {
      existed = await deleteItem(c.env.DB, itemId, now)
    } catch (error) {
      throw new ApiError('STORAGE_UNAVAILABLE', 'The item could not be deleted (D1 failed). Retry.', {
        cause: error,
      })
    }
    deps.catalog.apply([{ itemId, item: null, updatedAt: now }])
    c.header('Cache-Control', 'no-store')
    return c.json({ itemId, deleted: true, existed })
  })
  return app
}
