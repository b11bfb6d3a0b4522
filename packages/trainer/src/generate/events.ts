/**
 * Deterministic synthetic e-commerce events: users with tastes concentrated on one or two
 * categories, power-law item popularity, sessions that run through the view → add_to_cart →
 * purchase funnel, timestamps over a time window. Streams any number of events without holding
 * them; every user can be regenerated on its own (per-user random streams), which gives tests a
 * ground truth (each user's favourite category).
 *
 * @module
 */
import { TrainerError } from '../errors.js'
import { type Catalog, type CatalogOptions, generateCatalog, zipfWeights } from './catalog.js'
import { mixSeed, Random, sampleCdf } from './random.js'

/** Conversion rates of the shopping funnel. */
export interface FunnelRates {
  /** P(add_to_cart | view). Default 0.12. */
  addToCart: number
  /** P(remove_from_cart | add_to_cart). Default 0.1. */
  removeFromCart: number
  /** P(purchase | add_to_cart, not removed). Default 0.35. */
  purchase: number
  /** P(like | view). Default 0.02. */
  like: number
}

/** Options of {@link generateEvents}. */
export interface GenerateOptions extends Partial<Omit<CatalogOptions, 'items'>> {
  /** Events to generate (exactly). */
  events: number
  /** Users. Default `max(10, events / 25)`. */
  users?: number
  /** Items. Default `clamp(events / 40, 3 · categories, 100 000)`. */
  items?: number
  /** Start of the time window (ISO-8601 or epoch ms). Default 2026-01-01T00:00:00Z. */
  start?: string | number
  /** Length of the time window in days. Default 90. */
  days?: number
  /** Share of a user's sessions in their favourite category. Default 0.7. */
  primaryTaste?: number
  /** Share in their second category (when they have one, 60% of users). Default 0.2. */
  secondaryTaste?: number
  /**
   * Scales the default `primaryTaste` and `secondaryTaste` (0..1, default 1). `0`: every session
   * follows global popularity, so popularity dominates and a personal model has nothing to learn
   * (the quality gate's negative case).
   */
  taste?: number
  funnel?: Partial<FunnelRates>
}

/** One generated event (the edgerec event format; `timestamp` in epoch ms). */
export interface GeneratedEvent {
  id: string
  userId: string
  itemId: string
  type: 'view' | 'add_to_cart' | 'remove_from_cart' | 'purchase' | 'like'
  timestamp: number
}

/** A user's hidden taste: the ground truth a model should recover. */
export interface UserTaste {
  /** Index of the favourite category in the catalog. */
  primary: number
  /** Index of the second category, or -1. */
  secondary: number
}

/** Fully resolved generator options. */
export interface ResolvedGenerateOptions {
  events: number
  users: number
  items: number
  categories: number
  itemPopularityExponent: number
  categoryPopularityExponent: number
  seed: number
  start: number
  days: number
  primaryTaste: number
  secondaryTaste: number
  funnel: FunnelRates
}

const DEFAULT_FUNNEL: FunnelRates = { addToCart: 0.12, removeFromCart: 0.1, purchase: 0.35, like: 0.02 }

/** Mean events of one session with the default funnel: views (1 + Geom(0.3) ≈ 3.33) · (1 + 0.12 · 1.9 + 0.02). */
const EVENTS_PER_SESSION = 3.33 * 1.25

/** Fills defaults and checks ranges. */
export function resolveGenerateOptions(options: GenerateOptions): ResolvedGenerateOptions {
  const events = options.events
  if (!Number.isInteger(events) || events < 1 || events > 1e9) {
    throw new TrainerError('GENERATOR_INVALID', `events must be an integer in 1..1e9, got ${events}.`)
  }
  const categories = options.categories ?? 12
  const taste = options.taste ?? 1
  if (!(taste >= 0 && taste <= 1))
    throw new TrainerError('GENERATOR_INVALID', `taste must be in [0, 1], got ${taste}.`)
  const start =
    options.start === undefined
      ? Date.UTC(2026, 0, 1)
      : typeof options.start === 'number'
        ? options.start
        : Date.parse(options.start)
  if (!Number.isFinite(start))
    throw new TrainerError(
      'GENERATOR_INVALID',
      `start must be ISO-8601 or epoch ms, got ${String(options.start)}.`,
    )
  const resolved: ResolvedGenerateOptions = {
    events,
    users: options.users ?? Math.max(10, Math.round(events / 25)),
    items: options.items ?? Math.min(100_000, Math.max(3 * categories, Math.round(events / 40))),
    categories,
    itemPopularityExponent: options.itemPopularityExponent ?? 1.0,
    categoryPopularityExponent: options.categoryPopularityExponent ?? 0.6,
    seed: options.seed ?? 42,
    start,
    days: options.days ?? 90,
    primaryTaste: options.primaryTaste ?? 0.7 * taste,
    secondaryTaste: options.secondaryTaste ?? 0.2 * taste,
    funnel: { ...DEFAULT_FUNNEL, ...options.funnel },
  }
  if (!Number.isInteger(resolved.users) || resolved.users < 1) {
    throw new TrainerError('GENERATOR_INVALID', `users must be a positive integer, got ${resolved.users}.`)
  }
  if (!(resolved.days > 0))
    throw new TrainerError('GENERATOR_INVALID', `days must be > 0, got ${resolved.days}.`)
  const shares = [resolved.primaryTaste, resolved.secondaryTaste, ...Object.values(resolved.funnel)]
  if (shares.some((p) => !(p >= 0 && p <= 1)) || resolved.primaryTaste + resolved.secondaryTaste > 1) {
    throw new TrainerError(
      'GENERATOR_INVALID',
      'primaryTaste, secondaryTaste and funnel rates must be probabilities, with primaryTaste + secondaryTaste ≤ 1.',
    )
  }
  return resolved
}

/** The catalog the events of these options refer to. */
export function catalogFor(options: GenerateOptions): Catalog {
  const o = resolveGenerateOptions(options)
  return generateCatalog({
    items: o.items,
    categories: o.categories,
    itemPopularityExponent: o.itemPopularityExponent,
    categoryPopularityExponent: o.categoryPopularityExponent,
    seed: o.seed,
  })
}

/** The user id of user number `u`. */
export function generatedUserId(u: number): string {
  return `user-${String(u).padStart(6, '0')}`
}

function cumulative(weights: ArrayLike<number>): Float64Array {
  const cdf = new Float64Array(weights.length)
  let sum = 0
  for (let i = 0; i < weights.length; i++) {
    sum += weights[i]!
    cdf[i] = sum
  }
  for (let i = 0; i < cdf.length; i++) cdf[i]! /= sum
  cdf[cdf.length - 1] = 1
  return cdf
}

/** Draws a user's taste from their own stream (first draws of the stream). */
function drawTaste(rng: Random, categoryCdf: Float64Array): UserTaste {
  const primary = sampleCdf(categoryCdf, rng.next())
  let secondary = -1
  if (categoryCdf.length > 1 && rng.next() < 0.6) {
    do secondary = sampleCdf(categoryCdf, rng.next())
    while (secondary === primary)
  }
  return { primary, secondary }
}

/**
 * The hidden taste of user `u` (the ground truth for tests: a model should rank items of
 * `primary` first).
 */
export function userTaste(options: GenerateOptions, u: number): UserTaste {
  const o = resolveGenerateOptions(options)
  const categoryCdf = cumulative(zipfWeights(o.categories, o.categoryPopularityExponent))
  return drawTaste(new Random(mixSeed(o.seed, u + 1)), categoryCdf)
}

/**
 * Generates events lazily (a sync generator: use `for … of`, or `for await … of`). Output is
 * grouped by user (each user's sessions in time order), not globally sorted by time.
 *
 * @example
 * ```ts
 * for (const e of generateEvents({ events: 10_000, seed: 7 })) console.log(e.userId, e.type, e.itemId)
 * ```
 */
export function* generateEvents(options: GenerateOptions): Generator<GeneratedEvent, void, undefined> {
  const o = resolveGenerateOptions(options)
  const catalog = catalogFor(o)
  const categoryCdf = cumulative(zipfWeights(o.categories, o.categoryPopularityExponent))
  const itemCdfs = catalog.categories.map((c) =>
    cumulative(zipfWeights(c.items.length, o.itemPopularityExponent)),
  )
  const windowMs = o.days * 86_400_000
  const sessionsPerUser = Math.max(1, o.events / o.users / EVENTS_PER_SESSION)
  const pMoreSessions = 1 / sessionsPerUser
  let emitted = 0
  for (let round = 0; emitted < o.events; round++) {
    for (let u = 0; u < o.users && emitted < o.events; u++) {
      const tasteRng = new Random(mixSeed(o.seed, u + 1))
      const taste = drawTaste(tasteRng, categoryCdf)
      const rng = new Random(mixSeed(mixSeed(o.seed, u + 1), round + 1))
      const userId = generatedUserId(u)
      const sessions = 1 + rng.geometric(Math.min(0.999, pMoreSessions))
      const starts = Array.from({ length: sessions }, () => o.start + Math.floor(rng.next() * windowMs)).sort(
        (a, b) => a - b,
      )
      for (const sessionStart of starts) {
        if (emitted >= o.events) return
        const pick = rng.next()
        const category =
          pick < o.primaryTaste
            ? taste.primary
            : taste.secondary >= 0 && pick < o.primaryTaste + o.secondaryTaste
              ? taste.secondary
              : sampleCdf(categoryCdf, rng.next())
        const members = catalog.categories[category]!.items
        const cdf = itemCdfs[category]!
        let t = sessionStart
        const views = 1 + rng.geometric(0.3)
        for (let v = 0; v < views; v++) {
          const itemId = catalog.items[members[sampleCdf(cdf, rng.next())]!]!.id
          const step = (type: GeneratedEvent['type']): GeneratedEvent => {
            t += 5_000 + Math.floor(rng.next() * 115_000)
            emitted++
            return { id: rng.uuid(), userId, itemId, type, timestamp: t }
          }
          yield step('view')
          if (emitted >= o.events) return
          if (rng.next() < o.funnel.like) {
            yield step('like')
            if (emitted >= o.events) return
          }
          if (rng.next() < o.funnel.addToCart) {
            yield step('add_to_cart')
            if (emitted >= o.events) return
            if (rng.next() < o.funnel.removeFromCart) {
              yield step('remove_from_cart')
            } else if (rng.next() < o.funnel.purchase) {
              yield step('purchase')
            }
            if (emitted >= o.events) return
          }
        }
      }
    }
  }
}
