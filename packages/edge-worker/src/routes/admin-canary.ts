/**
 * `POST /v1/admin/models/:version/canary` (secret key): activates a version as a canary: it serves
 * a share of the people (variant `canary`, the rest `live`) and is promoted or rolled back by
 * `POST /v1/admin/experiments/:id/evaluate` or the hourly cron (docs/online.md, "Canary").
 *
 * @module
 */
import { VERSION_PATTERN } from '@edgerec/core'
import { Hono } from 'hono'
import { readConfig } from '../config.js'
import type { AppEnv } from '../env.js'
import { ApiError } from '../errors.js'
import { parseCanaryInput } from '../experiments/canary.js'
import type { Experiment } from '../experiments/definition.js'
import { getExperiment, insertExperiment, setStatus } from '../experiments/store.js'
import { OPERATIONS } from '../openapi/operations.js'
import { ParamErrors } from '../params.js'
import { type ServingDeps, versionLoadOptions } from '../serving/context.js'
import { checkedExtraVersion, checkedVersion } from './admin-models.js'

/** Routes added under `/v1/admin/models`. */
export function adminCanaryRoutes(deps: ServingDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.post('/:version/canary', OPERATIONS.canary, async (c) => {
    const version = c.req.param('version')
    const errors = new ParamErrors()
    if (!VERSION_PATTERN.test(version))
      errors.add('version', 'pattern', 'version must match [A-Za-z0-9][A-Za-z0-9._-]{0,127}.')
    let raw: unknown
    const text = await c.req.text()
    if (text.trim()) {
      try {
        raw = JSON.parse(text)
      } catch {
        throw new ApiError(
          'INVALID_REQUEST',
          'The body is not JSON. Send { share?, minImpressions?, … } or nothing.',
        )
      }
    }
    const config = parseCanaryInput(errors, raw)
    if (config && config.maxImpressions < config.minImpressions)
      errors.add('maxImpressions', 'range', 'maxImpressions must be at least minImpressions.')
    errors.throwIfAny()
    if (!config) throw new ApiError('INVALID_REQUEST', 'The canary thresholds are invalid.')
    await checkedVersion(c.env, version)
    await checkedExtraVersion(c.env, version, versionLoadOptions(readConfig(c.env)))
    const now = deps.now()
    const experiment: Experiment = {
      id: crypto.randomUUID(),
      name: `canary ${version}`,
      surface: 'recommendations',
      status: 'draft',
      variants: [
        { name: 'live', weight: 1 - config.share, strategy: 'model' },
        { name: 'canary', weight: config.share, strategy: 'model', version },
      ],
      createdAt: now,
      startedAt: null,
      stoppedAt: null,
      kind: 'canary',
      config: { ...config },
      outcome: null,
    }
    await insertExperiment(c.env.DB, experiment)
    if (!(await setStatus(c.env.DB, experiment, 'running', now))) {
      await setStatus(c.env.DB, experiment, 'stopped', now)
      throw new ApiError(
        'EXPERIMENT_CONFLICT',
        'Another experiment runs on recommendations; stop it before starting a canary (one per surface).',
      )
    }
    deps.online.experiments.invalidate()
    c.header('Cache-Control', 'no-store')
    return c.json(await getExperiment(c.env.DB, experiment.id), 201)
  })
  return app
}
