/**
 * Experiments (secret key): `POST /v1/admin/experiments` defines one (a draft), `GET` lists them,
 * `POST /:id/start|pause|stop` moves it, `GET /:id/results` reports it.
 *
 * @module
 */
import { Hono } from 'hono'
import { readConfig } from '../config.js'
import type { AppEnv } from '../env.js'
import { ApiError } from '../errors.js'
import { evaluateCanary } from '../experiments/canary-run.js'
import type { Experiment, ExperimentStatus } from '../experiments/definition.js'
import { parseExperimentInput } from '../experiments/definition.js'
import {
  RESULT_INTERVALS,
  type ResultInterval,
  readCounts,
  seriesOf,
  summarize,
} from '../experiments/results.js'
import { getExperiment, insertExperiment, listExperiments, setStatus } from '../experiments/store.js'
import { ModelLoadError, readManifest } from '../model/storage.js'
import { OPERATIONS } from '../openapi/operations.js'
import { checkId, ParamErrors } from '../params.js'
import { type ServingDeps, versionLoadOptions } from '../serving/context.js'
import { checkedExtraVersion } from './admin-models.js'

/** Which status each action moves from, and to. */
const TRANSITIONS: Record<'start' | 'pause' | 'stop', { from: ExperimentStatus[]; to: ExperimentStatus }> = {
  start: { from: ['draft', 'paused'], to: 'running' },
  pause: { from: ['running'], to: 'paused' },
  stop: { from: ['draft', 'running', 'paused'], to: 'stopped' },
}

function storage(error: unknown): ApiError {
  return new ApiError('STORAGE_UNAVAILABLE', 'D1 failed; nothing was changed. Retry the request.', {
    cause: error,
  })
}

async function found(db: D1Database, id: string): Promise<Experiment> {
  const errors = new ParamErrors()
  checkId(errors, 'id', id)
  errors.throwIfAny()
  const experiment = await getExperiment(db, id).catch((error) => {
    throw storage(error)
  })
  if (!experiment)
    throw new ApiError(
      'EXPERIMENT_NOT_FOUND',
      `No experiment "${id}". List them with GET /v1/admin/experiments.`,
    )
  return experiment
}

/** Routes under `/v1/admin/experiments` (the app's auth middleware already requires the secret key). */
export function adminExperimentRoutes(deps: ServingDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.use('*', async (c, next) => {
    c.header('Cache-Control', 'no-store')
    await next()
  })

  app.get('/', OPERATIONS.listExperiments, async (c) => {
    const experiments = await listExperiments(c.env.DB).catch((error) => {
      throw storage(error)
    })
    return c.json({ experiments })
  })

  app.post('/', OPERATIONS.createExperiment, async (c) => {
    let raw: unknown
    try {
      raw = await c.req.json()
    } catch {
      throw new ApiError('INVALID_REQUEST', 'The body is not JSON. Send { name, surface, variants }.')
    }
    const errors = new ParamErrors()
    const input = parseExperimentInput(errors, raw)
    errors.throwIfAny()
    if (!input) throw new ApiError('INVALID_REQUEST', 'The experiment definition is invalid.')
    // Versions must exist (their manifest is readable) when the experiment is defined.
    const versions = [...new Set(input.variants.flatMap((v) => (v.version ? [v.version] : [])))]
    await Promise.all(
      versions.map((version) =>
        readManifest(c.env, version).catch((error: unknown) => {
          const missing = error instanceof ModelLoadError && error.code === 'MANIFEST_MISSING'
          errors.add(
            `variants.version`,
            'pattern',
            missing
              ? `Model version ${version} does not exist. Publish it first, or name another.`
              : `Model version ${version} cannot be read: ${error instanceof Error ? error.message : error}`,
          )
        }),
      ),
    )
    errors.throwIfAny()
    const options = versionLoadOptions(readConfig(c.env))
    for (const version of versions) await checkedExtraVersion(c.env, version, options)
    const experiment: Experiment = {
      id: crypto.randomUUID(),
      ...input,
      status: 'draft',
      createdAt: deps.now(),
      startedAt: null,
      stoppedAt: null,
      kind: 'ab',
      config: null,
      outcome: null,
    }
    await insertExperiment(c.env.DB, experiment).catch((error) => {
      throw storage(error)
    })
    return c.json(experiment, 201)
  })

  app.get('/:id', OPERATIONS.getExperiment, async (c) => c.json(await found(c.env.DB, c.req.param('id'))))

  app.get('/:id/results', OPERATIONS.experimentResults, async (c) => {
    const experiment = await found(c.env.DB, c.req.param('id'))
    const { attributionWindowMs } = readConfig(c.env)
    const interval = c.req.query('interval')
    if (interval !== undefined && !Object.hasOwn(RESULT_INTERVALS, interval)) {
      const errors = new ParamErrors()
      errors.add('interval', 'pattern', 'interval must be minute, hour or day (or absent).')
      errors.throwIfAny()
    }
    const bucketMs = interval ? RESULT_INTERVALS[interval as ResultInterval] : undefined
    const [rows, bucketRows] = await Promise.all([
      readCounts(c.env.DB, experiment, attributionWindowMs),
      bucketMs ? readCounts(c.env.DB, experiment, attributionWindowMs, bucketMs) : undefined,
    ]).catch((error) => {
      throw storage(error)
    })
    const results = summarize(experiment, rows, attributionWindowMs)
    if (bucketRows && bucketMs) results.series = seriesOf(experiment, bucketRows, bucketMs)
    return c.json(results)
  })

  app.post('/:id/evaluate', OPERATIONS.evaluateExperiment, async (c) => {
    const experiment = await found(c.env.DB, c.req.param('id'))
    if (experiment.kind !== 'canary' || experiment.status !== 'running')
      throw new ApiError('EXPERIMENT_CONFLICT', `Experiment ${experiment.id} is not a running canary.`)
    const evaluation = await evaluateCanary(c.env, experiment, {
      now: deps.now(),
      windowMs: readConfig(c.env).attributionWindowMs,
      onPromote: () => deps.store.invalidate(),
    })
    deps.online.experiments.invalidate()
    return c.json(evaluation)
  })

  for (const action of ['start', 'pause', 'stop'] as const) {
    app.post(`/:id/${action}`, OPERATIONS[`${action}Experiment`], async (c) => {
      const experiment = await found(c.env.DB, c.req.param('id'))
      const { from, to } = TRANSITIONS[action]
      if (!from.includes(experiment.status)) {
        throw new ApiError(
          'EXPERIMENT_CONFLICT',
          `Experiment ${experiment.id} is ${experiment.status}; it can ${action} only when ${from.join(' or ')}.`,
        )
      }
      const ok = await setStatus(c.env.DB, experiment, to, deps.now()).catch((error) => {
        throw storage(error)
      })
      if (!ok) {
        throw new ApiError(
          'EXPERIMENT_CONFLICT',
          `Another experiment is running on surface "${experiment.surface}"; pause or stop it first (one experiment per surface).`,
        )
      }
      deps.online.experiments.invalidate()
      return c.json(await found(c.env.DB, experiment.id))
    })
  }
  return app
}
