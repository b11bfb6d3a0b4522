/**
 * `GET` / `PUT /v1/admin/rules` (secret key): the merchandising rules document (boosts, pins,
 * diversity defaults; docs/catalog.md "Rules"), validated with core's `compileRules` and stored in
 * KV under `config/rules`. Other isolates pick it up within `CATALOG_REFRESH_SECONDS` (KV is
 * eventually consistent: allow up to a minute across locations).
 *
 * @module
 */
import { compileRules } from '@edgerec/core'
import { Hono } from 'hono'
import { RULES_KEY } from '../catalog/rules.js'
import type { AppEnv } from '../env.js'
import { ApiError } from '../errors.js'
import { OPERATIONS } from '../openapi/operations.js'
import type { ServingDeps } from '../serving/context.js'

/** Routes under `/v1/admin/rules`. */
export function adminRulesRoutes(deps: ServingDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.get('/', OPERATIONS.getRules, async (c) => {
    c.header('Cache-Control', 'no-store')
    const text = await c.env.MODELS_KV.get(RULES_KEY, 'text')
    return c.json({ rules: text === null ? null : JSON.parse(text) })
  })
  app.put('/', OPERATIONS.putRules, async (c) => {
    let input: unknown
    try {
      input = JSON.parse(await c.req.text())
    } catch (error) {
      throw new ApiError('INVALID_REQUEST', `The body is not valid JSON (${(error as Error).message}).`)
    }
    const compiled = compileRules(input)
    if (!compiled.ok) {
      throw new ApiError(
        'INVALID_PARAMETER',
        `Invalid rules. ${compiled.errors.map((e) => `${e.field}: ${e.message}`).join(' ')}`,
        { details: compiled.errors },
      )
    }
    await c.env.MODELS_KV.put(RULES_KEY, JSON.stringify(input))
    deps.rules.set(compiled.rules, deps.now())
    c.header('Cache-Control', 'no-store')
    return c.json({ rules: input })
  })
  return app
}
