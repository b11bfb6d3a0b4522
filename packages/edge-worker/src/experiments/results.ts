/**
 * `GET /v1/admin/experiments/:id/results`: impressions and attributed outcomes per variant and per
 * day (UTC), with 95 % Wilson intervals and the two-proportion z-test of each variant against the
 * control (the first variant).
 *
 * Attribution of an event (`click`, `add_to_cart`, `purchase`) to a shown list of the experiment:
 * - with `context.recId`: to that list;
 * - without: to every shown list of the same person (identity-merged) that held the item and was
 *   served at most `windowMs` before the event was received.
 *
 * A list counts once per outcome: CTR = lists with ≥ 1 attributed click / shown lists (so it is a
 * proportion with a binomial interval); `clicks` also reports the raw count.
 *
 * @module
 */
import { ONLINE_TABLES } from '../db/online-schema.js'
import { TABLES } from '../db/schema.js'
import type { Experiment } from './definition.js'
import { type Proportion, type ProportionTest, twoProportionTest, wilson } from './stats.js'

const R = ONLINE_TABLES.recLists
const E = TABLES.events
const L = TABLES.identityLinks
const DAY_MS = 86_400_000

/**
 * One statement: per variant and interval (?4 ms, a day by default), shown lists and lists with each
 * outcome. NOTE: D1 binds JS numbers as REAL; the CAST keeps the division an integer one.
 */
const RESULTS_SQL = `
WITH l AS (
  SELECT r.rec_id, r.variant, r.served_at, r.items,
    COALESCE((SELECT user_id FROM ${L} WHERE anonymous_id = r.user_key), r.user_key) AS who
  FROM ${R} r WHERE r.experiment_id = ?1 AND r.shown_at IS NOT NULL),
ev AS (
  SELECT e.item_id, e.type, e.received_at AS at,
    CASE WHEN json_valid(e.context) THEN json_extract(e.context, '$.recId') END AS rec,
    COALESCE(e.user_id, (SELECT user_id FROM ${L} WHERE anonymous_id = e.anonymous_id), e.anonymous_id) AS who
  FROM ${E} e WHERE e.type IN ('click', 'add_to_cart', 'purchase') AND e.received_at >= ?2),
hits AS (
  SELECT l.rec_id, ev.type FROM l JOIN ev ON ev.rec = l.rec_id
  UNION ALL
  SELECT l.rec_id, ev.type FROM l JOIN ev ON ev.rec IS NULL AND ev.who = l.who
    AND ev.at >= l.served_at AND ev.at <= l.served_at + ?3
    AND instr(char(10) || l.items || char(10), char(10) || ev.item_id || char(10)) > 0),
per AS (
  SELECT rec_id, SUM(type = 'click') AS clicks, SUM(type = 'add_to_cart') AS carts, SUM(type = 'purchase') AS buys
  FROM hits GROUP BY rec_id)
SELECT l.variant AS variant, l.served_at / CAST(?4 AS INTEGER) AS day, COUNT(*) AS impressions,
  COALESCE(SUM(per.clicks), 0) AS clicks, COALESCE(SUM(per.clicks > 0), 0) AS clicked,
  COALESCE(SUM(per.carts > 0), 0) AS carted, COALESCE(SUM(per.buys > 0), 0) AS bought
FROM l LEFT JOIN per ON per.rec_id = l.rec_id
GROUP BY l.variant, day ORDER BY day, l.variant`

/** Counts of one variant (on one day, or in total). */
export interface VariantCounts {
  impressions: number
  clicks: number
  clicked: number
  carted: number
  bought: number
}

/** Rates of one variant with intervals. */
export interface VariantRates {
  name: string
  impressions: number
  clicks: number
  ctr: Proportion
  addToCart: Proportion
  purchase: Proportion
}

/** The answer of the results endpoint. */
export interface ExperimentResults {
  experiment: Experiment
  attributionWindowMs: number
  control: string
  test: ProportionTest['test']
  variants: (VariantRates & {
    vsControl: { ctr: ProportionTest; addToCart: ProportionTest; purchase: ProportionTest } | null
  })[]
  days: { day: string; variants: VariantRates[] }[]
  /**
   * Only with `?interval=minute|hour|day`: per interval of the served time (UTC), `at` its start
   * (ISO-8601). What a dashboard plots over time when an experiment spans less than two days.
   */
  series?: { at: string; variants: VariantRates[] }[]
}

/** The intervals `?interval=` accepts, in ms. */
export const RESULT_INTERVALS = { minute: 60_000, hour: 3_600_000, day: DAY_MS } as const
export type ResultInterval = keyof typeof RESULT_INTERVALS

/** Raw rows of {@link RESULTS_SQL}. */
export interface CountsRow extends VariantCounts {
  variant: string
  /** The interval of the served time: ⌊served_at ÷ bucketMs⌋ (UTC days by default). */
  day: number
}

/** Reads the per-variant counts of an experiment per UTC day (or per `bucketMs` interval). */
export async function readCounts(
  db: D1Database,
  experiment: Experiment,
  windowMs: number,
  bucketMs: number = DAY_MS,
): Promise<CountsRow[]> {
  const since = (experiment.startedAt ?? experiment.createdAt) - 1
  const { results } = await db
    .prepare(RESULTS_SQL)
    .bind(experiment.id, since, windowMs, bucketMs)
    .all<CountsRow>()
  return results.map((r) => ({
    variant: r.variant,
    day: Number(r.day),
    impressions: Number(r.impressions),
    clicks: Number(r.clicks),
    clicked: Number(r.clicked),
    carted: Number(r.carted),
    bought: Number(r.bought),
  }))
}

function rates(name: string, c: VariantCounts): VariantRates {
  return {
    name,
    impressions: c.impressions,
    clicks: c.clicks,
    ctr: wilson(c.clicked, c.impressions),
    addToCart: wilson(c.carted, c.impressions),
    purchase: wilson(c.bought, c.impressions),
  }
}

const ZERO: VariantCounts = { impressions: 0, clicks: 0, clicked: 0, carted: 0, bought: 0 }

function add(a: VariantCounts, b: VariantCounts): VariantCounts {
  return {
    impressions: a.impressions + b.impressions,
    clicks: a.clicks + b.clicks,
    clicked: a.clicked + b.clicked,
    carted: a.carted + b.carted,
    bought: a.bought + b.bought,
  }
}

/** Assembles the answer from the counts (pure: the arithmetic the tests check by hand). */
export function summarize(
  experiment: Experiment,
  rows: readonly CountsRow[],
  windowMs: number,
): ExperimentResults {
  const names = experiment.variants.map((v) => v.name)
  const totals = new Map<string, VariantCounts>(names.map((n) => [n, ZERO]))
  const byDay = new Map<number, Map<string, VariantCounts>>()
  for (const row of rows) {
    if (!totals.has(row.variant)) continue
    totals.set(row.variant, add(totals.get(row.variant)!, row))
    const day = byDay.get(row.day) ?? new Map<string, VariantCounts>()
    byDay.set(row.day, day)
    day.set(row.variant, add(day.get(row.variant) ?? ZERO, row))
  }
  const control = totals.get(names[0]!)!
  return {
    experiment,
    attributionWindowMs: windowMs,
    control: names[0]!,
    test: 'two-proportion z-test, pooled, two-sided',
    variants: names.map((name, i) => {
      const c = totals.get(name)!
      return {
        ...rates(name, c),
        vsControl:
          i === 0
            ? null
            : {
                ctr: twoProportionTest(control.clicked, control.impressions, c.clicked, c.impressions),
                addToCart: twoProportionTest(control.carted, control.impressions, c.carted, c.impressions),
                purchase: twoProportionTest(control.bought, control.impressions, c.bought, c.impressions),
              },
      }
    }),
    days: [...byDay.keys()]
      .sort((a, b) => a - b)
      .map((day) => ({
        day: new Date(day * DAY_MS).toISOString().slice(0, 10),
        variants: names.map((name) => rates(name, byDay.get(day)!.get(name) ?? ZERO)),
      })),
  }
}

/** Rates per variant and interval (`rows` read with that interval's `bucketMs`), oldest first. */
export function seriesOf(
  experiment: Experiment,
  rows: readonly CountsRow[],
  bucketMs: number,
): NonNullable<ExperimentResults['series']> {
  const names = experiment.variants.map((v) => v.name)
  const byBucket = new Map<number, Map<string, VariantCounts>>()
  for (const row of rows) {
    if (!names.includes(row.variant)) continue
    const bucket = byBucket.get(row.day) ?? new Map<string, VariantCounts>()
    byBucket.set(row.day, bucket)
    bucket.set(row.variant, add(bucket.get(row.variant) ?? ZERO, row))
  }
  return [...byBucket.keys()]
    .sort((a, b) => a - b)
    .map((bucket) => ({
      at: new Date(bucket * bucketMs).toISOString(),
      variants: names.map((name) => rates(name, byBucket.get(bucket)!.get(name) ?? ZERO)),
    }))
}
