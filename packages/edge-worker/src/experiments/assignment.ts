/**
 * Assigning a person to a variant: a stable hash of the experiment and the person, and the D1
 * lookup that keeps a person's first variant across sign-in (identity_links).
 *
 * @module
 */
import { stableHash32 } from '@edgerec/core'
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

/**
 * The person's variant: the stored one when the person (or an identity linked to them) was
 * assigned before, else the hash variant, stored with `defer` (`ctx.waitUntil`) so the response
 * does not wait for the write.
 */
export async function assignVariant(
  db: D1Database,
  experiment: Experiment,
  userKey: string,
  now: number,
  defer: (promise: Promise<unknown>) => void,
): Promise<Variant> {
  const row = await db.prepare(LOOKUP_SQL).bind(experiment.id, userKey).first<{ variant: string }>()
  const stored = row ? experiment.variants.find((v) => v.name === row.variant) : undefined
  if (stored) return stored
  const variant = hashVariant(experiment, userKey)
  defer(
    db
      .prepare(
        `INSERT OR IGNORE INTO ${A} (experiment_id, user_key, variant, assigned_at) VALUES (?1, ?2, ?3, ?4)`,
      )
      .bind(experiment.id, userKey, variant.name, now)
      .run()
      .catch((error) => console.error('edgerec: storing an experiment assignment failed', error)),
  )
  return variant
}
