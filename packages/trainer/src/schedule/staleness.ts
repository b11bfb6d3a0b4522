/**
 * `edgerec-train train --if-stale`: whether retraining is worth it. A scheduled run (cron in CI, a
 * cloud scheduler) asks first and skips when the live model is recent and no events arrived
 * since its training cut-off.
 *
 * @module
 */
import { createPublisher, readLivePointer } from '@edgerec/adapters'
import { manifestKey, parseManifest } from '@edgerec/core'
import type { EdgerecConfig } from '../config/config.js'
import { resolveEventSource, type TrainLogger } from '../train.js'

/** Thresholds of the staleness check. */
export interface StalenessOptions {
  /** Retrain when the live version is at least this old (hours since it was trained). Default 168 (7 days). */
  maxAgeHours?: number
  /** Retrain when at least this many events are newer than the live version's cut-off. Default 1. */
  minNewEvents?: number
  /** Working directory for relative event paths. */
  cwd?: string
  logger?: TrainLogger
  /** Epoch ms. Default `Date.now()`. */
  now?: number
}

/** The verdict. */
export interface Staleness {
  stale: boolean
  /** Why, in one sentence. */
  reason: string
  live?: { version: string; createdAt: string; trainedUntil: string; ageHours: number }
  /** Events newer than the cut-off, counted up to `minNewEvents` (the count stops there). */
  newEvents?: number
}

const HOUR = 3_600_000

/**
 * Checks the live model of the config's publish target against the config's events.
 *
 * Stale when nothing is live, when the live version is `maxAgeHours` old or older, or when at
 * least `minNewEvents` events are newer than its `trainedUntil` (the newest event it trained on).
 * Events without a time stamp (`timestamp` 0) never count as new.
 *
 * @example
 * ```ts
 * const { stale, reason } = await checkStaleness(config, { maxAgeHours: 24, minNewEvents: 1000 })
 * ```
 */
export async function checkStaleness(
  config: EdgerecConfig,
  options: StalenessOptions = {},
): Promise<Staleness> {
  const maxAgeHours = options.maxAgeHours ?? 168
  const minNewEvents = options.minNewEvents ?? 1
  const now = options.now ?? Date.now()
  const publisher = await createPublisher(config.publish)
  let manifest: ReturnType<typeof parseManifest> | undefined
  try {
    const pointer = await readLivePointer(publisher.target)
    if (!pointer) return { stale: true, reason: `nothing is live on ${publisher.target.name}` }
    const bytes =
      (await publisher.target.pointers.get(manifestKey(pointer.version))) ??
      (await publisher.target.objects.get(manifestKey(pointer.version)))
    if (!bytes)
      return {
        stale: true,
        reason: `the live version ${pointer.version} has no manifest on ${publisher.target.name}`,
      }
    manifest = parseManifest(JSON.parse(new TextDecoder().decode(bytes)) as unknown)
  } finally {
    await publisher.close()
  }
  const ageHours = (now - Date.parse(manifest.createdAt)) / HOUR
  const live = {
    version: manifest.version,
    createdAt: manifest.createdAt,
    trainedUntil: new Date(manifest.trainedUntil).toISOString(),
    ageHours: Math.round(ageHours * 10) / 10,
  }
  if (ageHours >= maxAgeHours) {
    return {
      stale: true,
      reason: `the live version ${live.version} is ${live.ageHours} h old (≥ ${maxAgeHours} h)`,
      live,
    }
  }
  const sourceOptions: Parameters<typeof resolveEventSource>[1] = {}
  if (options.cwd !== undefined) sourceOptions.cwd = options.cwd
  if (options.logger !== undefined) sourceOptions.logger = options.logger
  const source = await resolveEventSource(config, sourceOptions)
  options.logger?.info(`Counting events newer than ${live.trainedUntil} in ${source.description}…`)
  let newEvents = 0
  const controller = new AbortController()
  try {
    for await (const batch of source.read({ signal: controller.signal })) {
      for (const event of batch) if (event.timestamp > manifest.trainedUntil) newEvents += 1
      if (newEvents >= minNewEvents) break
    }
  } finally {
    controller.abort()
  }
  if (newEvents >= minNewEvents) {
    return {
      stale: true,
      reason: `${newEvents >= minNewEvents && minNewEvents > 1 ? `at least ${newEvents}` : newEvents} events arrived after the live version's cut-off ${live.trainedUntil}`,
      live,
      newEvents,
    }
  }
  return {
    stale: false,
    reason: `the live version ${live.version} is ${live.ageHours} h old (< ${maxAgeHours} h) and ${newEvents} events arrived after its cut-off ${live.trainedUntil} (< ${minNewEvents})`,
    live,
    newEvents,
  }
}
