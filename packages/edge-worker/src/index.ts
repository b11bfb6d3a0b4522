/**
 * Entry point of the edgerec edge worker (`wrangler.jsonc` `main`). One {@link createApp} per
 * isolate, so the model store and its caches live as long as the isolate.
 *
 * - `fetch`: HTTP API v1.
 * - `queue`: the queued ingestion tier's consumer (events → R2 archive + D1), when `INGEST_MODE` is `queue`.
 * - `scheduled`: the hourly cron (`triggers.crons`): running canaries are evaluated, impressions
 *   whose list never arrived are dropped, then D1 retention (`EVENT_RETENTION_DAYS`).
 *
 * @module
 */
import { createApp } from './app.js'
import { deleteStaleMarks } from './attribution/rec-lists.js'
import { readConfig } from './config.js'
import type { Env } from './env.js'
import { evaluateRunningCanaries } from './experiments/canary-run.js'
import { deleteExpiredEvents } from './maintenance/retention.js'
import { consumeEvents } from './queue/consumer.js'

const app = createApp()

const DAY_MS = 86_400_000

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  async queue(batch, env, _ctx) {
    const outcome = await consumeEvents(batch, env, { archive: readConfig(env).archive })
    if (outcome.malformed > 0)
      console.warn(`edgerec: ${outcome.malformed} queued events or messages were malformed and dropped.`)
  },
  async scheduled(controller, env, _ctx) {
    // Canaries first: a decision should not wait behind a long retention run.
    const decided = await evaluateRunningCanaries(env, {
      now: controller.scheduledTime,
      windowMs: readConfig(env).attributionWindowMs,
    }).catch((error: unknown) => {
      console.error('edgerec: evaluating canaries failed', error)
      return []
    })
    for (const e of decided)
      if (e.decision.action !== 'wait')
        console.log(`edgerec: canary ${e.version} ${e.decision.action}: ${e.decision.reason}`)
    await deleteStaleMarks(env.DB, controller.scheduledTime).catch((error: unknown) =>
      console.error('edgerec: deleting stale impressions failed', error),
    )
    const { retentionDays } = readConfig(env)
    if (retentionDays <= 0) return
    const { deleted, more } = await deleteExpiredEvents(
      env.DB,
      controller.scheduledTime - retentionDays * DAY_MS,
    )
    if (deleted > 0)
      console.log(
        `edgerec: retention deleted ${deleted} events older than ${retentionDays} days${more ? ' (more left for the next run)' : ''}.`,
      )
  },
} satisfies ExportedHandler<Env, unknown>

export type { AppOptions } from './app.js'
export { createApp } from './app.js'
export type { AppEnv, Env } from './env.js'
export type { QueuedEvents } from './queue/messages.js'
