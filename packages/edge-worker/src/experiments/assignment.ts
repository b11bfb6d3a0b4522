/**
 * Assigning a person to a variant: a stable hash of the experiment and the person, the D1
 * lookup that keeps a person's first variant across sign-in (identity_links), and the isolate's
 * memory of recent assignments that spares a repeat visitor that lookup.
 *
 * @module
 */
import { stableHash32 } from '@edgerec/core'
import type { AssignmentRow } from '../attribution/online-writes.js'
import { ONLINE_TABLES } from '../db/online-schema.js'
import { TABLES } from '../db/schema.js'
import type { Experiment, Variant } from './definition.js'

/**
 * MurmurHash3's 32-bit finalizer (fmix32): FNV-1a alone leaves its high bits poorly mixed for keys
 * that differ only in their last characters (`user-1`, `user-2`…), which skews a split by the high
 * bits by several standard deviations; fmix32 makes every output bit depend on every input bit.
 */
function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/**
 * The variant `userKey` gets by hash: u = fmix32(stableHash32(`<experiment id>\n<user key>`)) / 2³²,
 * then the first variant whose cumulative share Σ wᵢ / W exceeds u. Hashing the experiment id with
 * the person makes two experiments' splits independent.
 */
export function hashVariant(experiment: Pick<Experiment, 'id' | 'variants'>, userKey: string): Variant {
  const u = fmix32(stableHash32(`${experiment.id}\n${userKey}`)) / 4294967296
  const total = experiment.variants.reduce((sum, v) => sum + v.weight, 0)
  let cumulative = 0
  for (const variant of experiment.variants) {
    cumulative += variant.weight / total
    if (u < cumulative) return variant
  }
  return experiment.variants[experiment.variants.length - 1]!
}

const A = ONLINE_TABLES.experimentAssignments
const L = TABLES.identityLinks

/**
 * The earliest stored assignment of the person: the key itself, the user an anonymous key is linked
 * to, and every anonymous id linked to that user. One indexed statement.
 */
const LOOKUP_SQL = `
WITH me(uid) AS (SELECT COALESCE((SELECT user_id FROM ${L} WHERE anonymous_id = ?2), ?2)),
keys(k) AS (SELECT ?2 UNION SELECT uid FROM me UNION SELECT anonymous_id FROM ${L} WHERE user_id = (SELECT uid FROM me))
SELECT variant FROM ${A} WHERE experiment_id = ?1 AND user_key IN (SELECT k FROM keys)
ORDER BY assigned_at, user_key LIMIT 1`

/** Most assignments an isolate remembers (≈ 100 B each). */
const MAX_CACHED = 10_000

/**
 * The per-isolate memory of assignments (`experiment id` + person → variant name), so a repeat
 * visitor needs no D1 lookup. An entry is trusted for `ttlMs` (`MODEL_REFRESH_SECONDS`, the same
 * staleness an isolate's view of experiments and of the live version has); the oldest entries go
 * first when it is full.
 */
export class AssignmentCache {
  #entries = new Map<string, { variant: string; at: number }>()

  get(experimentId: string, userKey: string, now: number, ttlMs: number): string | undefined {
    const key = `${experimentId}\n${userKey}`
    const hit = this.#entries.get(key)
    if (!hit) return undefined
    if (now - hit.at < ttlMs) return hit.variant
    this.#entries.delete(key)
    return undefined
  }

  set(experimentId: string, userKey: string, variant: string, now: number): void {
    const key = `${experimentId}\n${userKey}`
    this.#entries.delete(key)
    this.#entries.set(key, { variant, at: now })
    if (this.#entries.size > MAX_CACHED) {
      const oldest = this.#entries.keys().next().value
      if (oldest !== undefined) this.#entries.delete(oldest)
    }
  }
}

/** Where {@link assignVariant} remembers and queues assignments. */
export interface AssignmentStores {
  cache: AssignmentCache
  /** Queues the first assignment's row (written after the response, batched). */
  store: (row: AssignmentRow) => void
  /** How long a remembered assignment is trusted, ms. */
  ttlMs: number
}

/**
 * The person's variant, in two steps so the D1 lookup can ride in another read's batch:
 * `remembered` (the isolate's memory, no I/O) or else `lookup` (one indexed statement) whose first
 * row goes to `settle`: the stored variant when the person (or an identity linked to them) was
 * assigned before, else the hash variant, queued for storage so the response does not wait.
 */
export interface AssignmentPlan {
  remembered?: Variant
  lookup?: D1PreparedStatement
  settle: (row: { variant?: unknown } | null) => Variant
}

/** Plans the assignment of `userKey` (see {@link AssignmentPlan}). */
export function planAssignment(
  db: D1Database,
  experiment: Experiment,
  userKey: string,
  now: number,
  stores: AssignmentStores,
): AssignmentPlan {
  const remembered = stores.cache.get(experiment.id, userKey, now, stores.ttlMs)
  const known = remembered ? experiment.variants.find((v) => v.name === remembered) : undefined
  if (known) return { remembered: known, settle: () => known }
  return {
    lookup: db.prepare(LOOKUP_SQL).bind(experiment.id, userKey),
    settle: (row) => {
      const stored = row ? experiment.variants.find((v) => v.name === row.variant) : undefined
      const variant = stored ?? hashVariant(experiment, userKey)
      if (!stored)
        stores.store({ experimentId: experiment.id, userKey, variant: variant.name, assignedAt: now })
      stores.cache.set(experiment.id, userKey, variant.name, now)
      return variant
    },
  }
}

/** {@link planAssignment} with its lookup run on its own. */
export async function assignVariant(
  db: D1Database,
  experiment: Experiment,
  userKey: string,
  now: number,
  stores: AssignmentStores,
): Promise<Variant> {
  const plan = planAssignment(db, experiment, userKey, now, stores)
  if (plan.remembered) return plan.remembered
  return plan.settle((await plan.lookup?.first<{ variant: string }>()) ?? null)
}
