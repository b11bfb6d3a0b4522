/**
 * Running canaries: starting one (an experiment of kind `canary` with variants `live` and
 * `canary`), and evaluating it: counts from the results query, guardrails from the runtime figures
 * of each variant, the decision of `canary.ts`, then promotion (the live pointer moves to the
 * canary's version, the old one becomes `previous`) or rollback (the experiment stops; live never
 * moved). Evaluated on `POST /v1/admin/experiments/:id/evaluate` and by the hourly cron.
 *
 * @module
 */
import type { LivePointer } from '@edgerec/core'
import type { Env } from '../env.js'
import { readMetrics } from '../metrics/report.js'
import { readLivePointer, writeLivePointer } from '../model/storage.js'
import {
  type ArmCounts,
  type ArmRuntime,
  type CanaryConfig,
  type CanaryDecision,
  decideCanary,
} from './canary.js'
import type { Experiment } from './definition.js'
import { readCounts } from './results.js'
import { listExperiments, recordOutcome } from './store.js'

/** What an evaluation did. */
export interface CanaryEvaluation {
  experimentId: string
  version: string
  decision: CanaryDecision
  /** The live pointer written on promotion. */
  pointer?: LivePointer
}

function countsOf(rows: Awaited<ReturnType<typeof readCounts>>, variant: string): ArmCounts {
  const mine = rows.filter((r) => r.variant === variant)
  return {
    impressions: mine.reduce((s, r) => s + r.impressions, 0),
    clicked: mine.reduce((s, r) => s + r.clicked, 0),
  }
}

async function runtimeOf(env: Env, since: number, until: number, variant: string): Promise<ArmRuntime> {
  const report = await readMetrics(env, since, until, fetch, variant)
  const r = report.routes.find((route) => route.route === 'recommendations')
  return { requests: r?.requests ?? 0, errors: r?.errors ?? 0, p99: r?.p99 ?? 0 }
}

/** Evaluates a running canary and acts on the decision. */
export async function evaluateCanary(
  env: Env,
  experiment: Experiment,
  options: { now: number; windowMs: number; onPromote?: () => void },
): Promise<CanaryEvaluation> {
  const version = experiment.variants.find((v) => v.name === 'canary')?.version ?? ''
  const config = experiment.config as unknown as CanaryConfig
  const rows = await readCounts(env.DB, experiment, options.windowMs)
  const since = experiment.startedAt ?? experiment.createdAt
  const [live, canary] = await Promise.all([
    runtimeOf(env, since, options.now + 1, 'live'),
    runtimeOf(env, since, options.now + 1, 'canary'),
  ])
  const decision = decideCanary(countsOf(rows, 'live'), countsOf(rows, 'canary'), config, { live, canary })
  const evaluation: CanaryEvaluation = { experimentId: experiment.id, version, decision }
  if (decision.action === 'promote') {
    const current = await readLivePointer(env)
    const pointer: LivePointer = { version, activatedAt: new Date(options.now).toISOString() }
    if (current && current.version !== version) pointer.previous = current.version
    await writeLivePointer(env, pointer)
    options.onPromote?.()
    evaluation.pointer = pointer
  }
  if (decision.action !== 'wait')
    await recordOutcome(env.DB, experiment.id, { ...decision, decidedAt: options.now }, options.now)
  return evaluation
}

/** Evaluates every running canary (the cron's job). */
export async function evaluateRunningCanaries(
  env: Env,
  options: { now: number; windowMs: number },
): Promise<CanaryEvaluation[]> {
  const running = (await listExperiments(env.DB)).filter((e) => e.kind === 'canary' && e.status === 'running')
  const out: CanaryEvaluation[] = []
  for (const experiment of running) out.push(await evaluateCanary(env, experiment, options))
  return out
}
