/**
 * `POST /v1/admin/models/:version/activate` and `POST /v1/admin/models/rollback` (secret key).
 *
 * @module
 */
import { type LivePointer, VERSION_PATTERN } from '@edgerec/core'
import { Hono } from 'hono'
import type { AppEnv } from '../env.js'
import { ApiError } from '../errors.js'
import { extraVersionTooLargeMessage, planExtraVersion } from '../experiments/versions.js'
import type { VersionLoadOptions } from '../model/model-store.js'
import {
  type ModelBindings,
  ModelLoadError,
  readLivePointer,
  readManifest,
  writeLivePointer,
} from '../model/storage.js'
import { type VersionCheck, verifyVersion } from '../model/verify.js'
import { OPERATIONS } from '../openapi/operations.js'
import { ParamErrors } from '../params.js'
import type { ServingDeps } from '../serving/context.js'

/** Verifies `version` completely, or throws the API error that says what is wrong. */
export async function checkedVersion(bindings: ModelBindings, version: string): Promise<VersionCheck> {
  let check: VersionCheck
  try {
    check = await verifyVersion(bindings, version)
  } catch (error) {
    if (!(error instanceof ModelLoadError)) throw error
    if (error.code === 'MANIFEST_MISSING')
      throw new ApiError('MODEL_NOT_FOUND', error.message, { cause: error })
    if (error.code === 'STORAGE_UNAVAILABLE')
      throw new ApiError('STORAGE_UNAVAILABLE', error.message, { cause: error })
    throw new ApiError('MODEL_INVALID', `Version ${version} cannot go live: ${error.message}`, {
      cause: error,
      details: { problems: [{ key: error.key ?? '', code: error.code, message: error.message }] },
    })
  }
  if (check.problems.length > 0) {
    throw new ApiError(
      'MODEL_INVALID',
      `Version ${version} is incomplete or corrupted (${check.problems.length} of ${check.shards} shards failed); the live pointer was not changed. Republish the version.`,
      { details: { problems: check.problems } },
    )
  }
  return check
}

/**
 * Refuses (`409 MODEL_TOO_LARGE`) a version for an experiment variant, a canary or a shadow that
 * cannot fit `MODEL_MEMORY_MIB` next to the live version even with no other extra version held: it
 * would never load, and its people would only ever get the live model. The same plan as the
 * worker's own check before it loads one (`planExtraVersion`); a manifest that cannot be read
 * here skips this (that check still applies).
 */
export async function checkedExtraVersion(
  bindings: ModelBindings,
  version: string,
  options: VersionLoadOptions,
): Promise<void> {
  const pointer = await currentPointer(bindings).catch(() => null)
  if (!pointer || pointer.version === version) return
  const manifests = await Promise.all([
    readManifest(bindings, version),
    readManifest(bindings, pointer.version),
  ]).catch(() => null)
  if (!manifests) return
  const plan = planExtraVersion(manifests[0], manifests[1], options)
  const needed = plan.liveBytes + plan.own
  if (needed <= plan.budget) return
  throw new ApiError(
    'MODEL_TOO_LARGE',
    extraVersionTooLargeMessage(version, plan, needed, {
      live: pointer.version,
      consequence:
        'Nothing was started: it could never load next to the live version with this configuration.',
    }),
  )
}

/** The current pointer; an unreadable one counts as none (activation repairs it). */
async function currentPointer(bindings: ModelBindings): Promise<LivePointer | null> {
  try {
    return await readLivePointer(bindings)
  } catch (error) {
    if (error instanceof ModelLoadError && error.code === 'POINTER_INVALID') return null
    throw new ApiError('STORAGE_UNAVAILABLE', 'The live pointer could not be read. Retry in a moment.', {
      cause: error,
    })
  }
}

/** Routes under `/v1/admin/models`. */
export function adminModelRoutes(deps: ServingDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()

  app.post('/rollback', OPERATIONS.rollbackModel, async (c) => {
    const pointer = await currentPointer(c.env)
    if (!pointer?.previous) {
      throw new ApiError(
        'MODEL_NOT_FOUND',
        'There is no previous version to roll back to. Activate a version by name instead.',
      )
    }
    const check = await checkedVersion(c.env, pointer.previous)
    const next: LivePointer = {
      version: pointer.previous,
      activatedAt: new Date(deps.now()).toISOString(),
      previous: pointer.version,
    }
    await writeLivePointer(c.env, next)
    deps.store.invalidate()
    c.header('Cache-Control', 'no-store')
    return c.json({ ...next, shards: check.shards, bytes: check.bytes })
  })

  app.post('/:version/activate', OPERATIONS.activateModel, async (c) => {
    const version = c.req.param('version')
    if (!VERSION_PATTERN.test(version)) {
      const errors = new ParamErrors()
      errors.add('version', 'pattern', 'version must match [A-Za-z0-9][A-Za-z0-9._-]{0,127}.')
      errors.throwIfAny()
    }
    const check = await checkedVersion(c.env, version)
    const pointer = await currentPointer(c.env)
    const next: LivePointer = { version, activatedAt: new Date(deps.now()).toISOString() }
    // Re-activating the live version keeps its rollback target instead of pointing at itself.
    const previous = pointer && pointer.version !== version ? pointer.version : pointer?.previous
    if (previous) next.previous = previous
    await writeLivePointer(c.env, next)
    deps.store.invalidate()
    c.header('Cache-Control', 'no-store')
    return c.json({ ...next, shards: check.shards, bytes: check.bytes })
  })
  return app
}
