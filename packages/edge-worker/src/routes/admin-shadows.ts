/**
 * Shadow mode (secret key, docs/online.md "Shadow mode"): `POST /v1/admin/shadows` (or
 * `POST /v1/admin/models/:version/shadow`) starts scoring a candidate next to what is served on
 * recommendations or similar (one shadow per surface); `GET /v1/admin/shadows[/:id]` reports the overlap; `POST /:id/stop` stops it.
 *
 * @module
 */
import { Hono } from 'hono'
import { readConfig } from '../config.js'
import type { AppEnv } from '../env.js'
import { ApiError } from '../errors.js'
import { SURFACE_STRATEGIES, type Surface } from '../experiments/definition.js'
import {
  getShadow,
  listShadows,
  parseModelShadowInput,
  parseShadowInput,
  reportShadow,
  type Shadow,
  type ShadowInput,
  startShadow,
  stopShadow,
} from '../experiments/shadow.js'
import { getExperiment } from '../experiments/store.js'
import { OPERATIONS } from '../openapi/operations.js'
import { checkId, ParamErrors } from '../params.js'
import { type ServingDeps, versionLoadOptions } from '../serving/context.js'
import { checkedExtraVersion, checkedVersion } from './admin-models.js'

function storage(error: unknown): ApiError {
  return new ApiError('STORAGE_UNAVAILABLE', 'D1 failed; nothing was changed. Retry the request.', {
    cause: error,
  })
}

async function readBody(c: { req: { text(): Promise<string> } }): Promise<unknown> {
  const text = await c.req.text()
  if (!text.trim()) return {}
  try {
    return JSON.parse(text)
  } catch {
    throw new ApiError(
      'INVALID_REQUEST',
      'The body is not JSON. Send { version?, strategy?, sample?, name?, surface? } or { experimentId, variant, sample?, surface? }.',
    )
  }
}

/**
 * Resolves an experiment variant to its strategy and version, checks the version (every shard,
 * like an activation), and starts the shadow: 409 `SHADOW_CONFLICT` when one already runs.
 */
async function create(
  c: { env: AppEnv['Bindings'] },
  deps: ServingDeps,
  input: ShadowInput,
): Promise<Shadow> {
  let { strategy, version } = input
  let surface: Surface = input.surface ?? 'recommendations'
  if (input.from) {
    const experiment = await getExperiment(c.env.DB, input.from.experimentId).catch((error) => {
      throw storage(error)
    })
    const variant = experiment?.variants.find((v) => v.name === input.from?.variant)
    if (!experiment || !variant)
      throw new ApiError(
        'EXPERIMENT_NOT_FOUND',
        `No variant "${input.from.variant}" in experiment "${input.from.experimentId}". List them with GET /v1/admin/experiments.`,
      )
    strategy = variant.strategy
    version = variant.version ?? null
    surface = input.surface ?? experiment.surface
  }
  if (!SURFACE_STRATEGIES[surface].includes(strategy)) {
    const errors = new ParamErrors()
    errors.add(
      'variant',
      'pattern',
      `Strategy ${strategy} cannot serve surface ${surface}; one of ${SURFACE_STRATEGIES[surface].join(', ')}.`,
    )
    errors.throwIfAny()
  }
  if (version) {
    await checkedVersion(c.env, version)
    await checkedExtraVersion(c.env, version, versionLoadOptions(readConfig(c.env)))
  }
  const shadow: Shadow = {
    id: crypto.randomUUID(),
    name: input.name,
    surface,
    status: 'running',
    strategy,
    version,
    sample: input.sample,
    createdAt: deps.now(),
    stoppedAt: null,
  }
  const started = await startShadow(c.env.DB, shadow).catch((error) => {
    throw storage(error)
  })
  if (!started)
    throw new ApiError(
      'SHADOW_CONFLICT',
      `A shadow already runs on ${surface}; stop it first (POST /v1/admin/shadows/:id/stop).`,
    )
  deps.online.experiments.invalidate()
  return shadow
}

async function found(db: D1Database, id: string): Promise<Shadow> {
  const errors = new ParamErrors()
  checkId(errors, 'id', id)
  errors.throwIfAny()
  const shadow = await getShadow(db, id).catch((error) => {
    throw storage(error)
  })
  if (!shadow)
    throw new ApiError('SHADOW_NOT_FOUND', `No shadow "${id}". List them with GET /v1/admin/shadows.`)
  return shadow
}

/** Routes under `/v1/admin/shadows` (the app's auth middleware already requires the secret key). */
export function adminShadowRoutes(deps: ServingDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.use('*', async (c, next) => {
    c.header('Cache-Control', 'no-store')
    await next()
  })
  app.post('/', OPERATIONS.createShadow, async (c) => {
    const errors = new ParamErrors()
    const input = parseShadowInput(errors, await readBody(c))
    errors.throwIfAny()
    if (!input) throw new ApiError('INVALID_REQUEST', 'The shadow definition is invalid.')
    return c.json(await create(c, deps, input), 201)
  })
  app.get('/', OPERATIONS.listShadows, async (c) => {
    const shadows = await listShadows(c.env.DB).catch((error) => {
      throw storage(error)
    })
    const reports = await Promise.all(shadows.map((s) => reportShadow(c.env.DB, s))).catch((error) => {
      throw storage(error)
    })
    return c.json({ shadows: reports })
  })
  app.get('/:id', OPERATIONS.getShadow, async (c) => {
    const shadow = await found(c.env.DB, c.req.param('id'))
    return c.json(
      await reportShadow(c.env.DB, shadow).catch((error) => {
        throw storage(error)
      }),
    )
  })
  app.post('/:id/stop', OPERATIONS.stopShadow, async (c) => {
    const shadow = await found(c.env.DB, c.req.param('id'))
    await stopShadow(c.env.DB, shadow.id, deps.now()).catch((error) => {
      throw storage(error)
    })
    deps.online.experiments.invalidate()
    const stopped = await found(c.env.DB, shadow.id)
    return c.json(
      await reportShadow(c.env.DB, stopped).catch((error) => {
        throw storage(error)
      }),
    )
  })
  return app
}

/** `POST /v1/admin/models/:version/shadow` body `{ sample?, strategy?, name?, surface? }`: a version as shadow. */
export function adminModelShadowRoutes(deps: ServingDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.post('/:version/shadow', OPERATIONS.shadowModel, async (c) => {
    const errors = new ParamErrors()
    const input = parseModelShadowInput(errors, await readBody(c), c.req.param('version'))
    errors.throwIfAny()
    if (!input) throw new ApiError('INVALID_REQUEST', 'The shadow definition is invalid.')
    c.header('Cache-Control', 'no-store')
    return c.json(await create(c, deps, input), 201)
  })
  return app
}
