/**
 * Signed recIds: the worker recognises the recIds it issued without reading D1, so a client holding
 * the publishable key (every web page ships it) cannot make up recIds that create impression rows
 * or claim events for lists that were never served (docs/online.md, "Signed recIds").
 *
 * A signed recId is `<random>.<mac>`: 24 lower-case hex digits of 12 random bytes, a dot, and 24 hex
 * digits of the first 12 bytes of `HMAC-SHA-256(K, random)` (96 bits: a made-up recId passes with
 * probability 2⁻⁹⁶ per try, each try a rate-limited request; NIST SP 800-107 Rev. 1 §5.3.4). `K = HMAC-SHA-256(SECRET_KEY, "edgerec recId key v1")`: derived from
 * the worker's secret key (never the key itself, so a recId says nothing about it), hence bound to
 * the environment — a recId of another deployment (another `SECRET_KEY`) fails the check. The MAC
 * is compared in constant time (`crypto.subtle.timingSafeEqual`). What a list was (variant, user,
 * items) stays in its `rec_lists` row, keyed by the recId: the recId only proves the worker made it.
 *
 * Rotation: recIds are signed with the current `SECRET_KEY` only and checked against it, then, while
 * it is set, against `PREVIOUS_SECRET_KEY` (each MAC compared in constant time, each K cached), so
 * recIds issued before a rotation stay recognised for the window (docs/online.md, "Rotating keys
 * and secrets"). A recId signed with neither is `forged`.
 *
 * A worker without `SECRET_KEY` (only a publishable key) cannot sign: it issues unsigned recIds
 * (UUID v4, the format before signing) and logs it once per isolate; every route keeps working.
 * Unsigned recIds are accepted only where they cannot create a row: an impression marks an
 * unsigned recId's list only if it is already stored, an event may carry one (transition: answers
 * cached by clients and queued events from before signing).
 *
 * @module
 */
import { toHex } from '@edgerec/core'
import { type KeyBindings, readKeys } from '../config.js'

/** Random bytes of a signed recId. */
export const REC_ID_RANDOM_BYTES = 12
/** Bytes of the truncated HMAC-SHA-256 of a signed recId. */
export const REC_ID_MAC_BYTES = 12
/** A signed recId: hex random part, a dot, hex MAC. */
export const SIGNED_REC_ID_PATTERN = new RegExp(
  `^[0-9a-f]{${REC_ID_RANDOM_BYTES * 2}}\\.[0-9a-f]{${REC_ID_MAC_BYTES * 2}}$`,
)
/** An unsigned recId: a UUID (lower-case hex), as issued before signing or without `SECRET_KEY`. */
export const UNSIGNED_REC_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
/** Any recId's shape, signed or unsigned (the signature is checked by {@link RecIds.check}). */
export const REC_ID_PATTERN = new RegExp(`${SIGNED_REC_ID_PATTERN.source}|${UNSIGNED_REC_ID_PATTERN.source}`)

/**
 * What {@link RecIds.check} found: `signed` (issued by this worker), `unsigned` (UUID: accepted only
 * where it creates nothing), `forged` (a signed shape whose MAC does not match this worker's key:
 * made up, altered, truncated to another valid shape, or issued by another environment), or
 * `malformed` (not a recId's shape).
 */
export type RecIdCheck = 'signed' | 'unsigned' | 'forged' | 'malformed'

const HMAC = { name: 'HMAC', hash: 'SHA-256' } as const
/** Domain separation: K is used for recIds only. */
const KEY_LABEL = 'edgerec recId key v1'
const encoder = new TextEncoder()

/** K per secret, per isolate (a rotated secret gets its own; a few at most). */
const keys = new Map<string, Promise<CryptoKey>>()
const MAX_KEYS = 4
let warnedUnsigned = false

function keyFor(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret)
  if (!key) {
    key = (async () => {
      const master = await crypto.subtle.importKey('raw', encoder.encode(secret), HMAC, false, ['sign'])
      const derived = await crypto.subtle.sign('HMAC', master, encoder.encode(KEY_LABEL))
      return crypto.subtle.importKey('raw', derived, HMAC, false, ['sign'])
    })()
    if (keys.size >= MAX_KEYS) keys.clear()
    keys.set(secret, key)
    // A failed derivation is not cached.
    key.catch(() => keys.delete(secret))
  }
  return key
}

/** The recIds of one worker environment: issues them and checks the ones clients send back. */
export class RecIds {
  readonly #secret: string | undefined
  readonly #previous: string | undefined

  /**
   * `secret`: the worker's `SECRET_KEY`; without it recIds are unsigned. `previous`: a rotation
   * window's `PREVIOUS_SECRET_KEY`, only checked against (ignored without `secret`).
   */
  constructor(secret: string | undefined, previous?: string) {
    this.#secret = secret ? secret : undefined
    this.#previous = this.#secret !== undefined && previous && previous !== secret ? previous : undefined
  }

  /** The recIds of the worker whose bindings are `env` (its validated keys, see `readKeys`). */
  static of(env: KeyBindings): RecIds {
    const [secret, previous] = readKeys(env).secretKeys
    return new RecIds(secret, previous)
  }

  /** Whether this worker signs its recIds (it has a `SECRET_KEY`). */
  get signed(): boolean {
    return this.#secret !== undefined
  }

  /** `hex(HMAC-SHA-256(K, random))` truncated to {@link REC_ID_MAC_BYTES}. */
  async #mac(random: string, secret = this.#secret!): Promise<string> {
    const key = await keyFor(secret)
    const mac = await crypto.subtle.sign('HMAC', key, encoder.encode(random))
    return toHex(new Uint8Array(mac, 0, REC_ID_MAC_BYTES))
  }

  /** A fresh recId: signed, or an unsigned UUID when the worker has no `SECRET_KEY`. */
  async issue(): Promise<string> {
    if (this.#secret === undefined) {
      if (!warnedUnsigned) {
        warnedUnsigned = true
        console.warn(
          'edgerec: SECRET_KEY is not set, so recIds are unsigned: impressions only mark lists already stored. Set it with "wrangler secret put SECRET_KEY" (docs/online.md, "Signed recIds").',
        )
      }
      return crypto.randomUUID()
    }
    const random = toHex(crypto.getRandomValues(new Uint8Array(REC_ID_RANDOM_BYTES)))
    return `${random}.${await this.#mac(random)}`
  }

  /** Checks a recId a client sent back (see {@link RecIdCheck}); never throws for bad input. */
  async check(recId: unknown): Promise<RecIdCheck> {
    if (typeof recId !== 'string') return 'malformed'
    if (UNSIGNED_REC_ID_PATTERN.test(recId)) return 'unsigned'
    if (!SIGNED_REC_ID_PATTERN.test(recId)) return 'malformed'
    if (this.#secret === undefined) return 'forged'
    const dot = REC_ID_RANDOM_BYTES * 2
    const random = recId.slice(0, dot)
    const given = encoder.encode(recId.slice(dot + 1))
    // Same length by the pattern; the comparison's time does not depend on where they differ.
    const matches = async (secret: string) =>
      crypto.subtle.timingSafeEqual(encoder.encode(await this.#mac(random, secret)), given)
    if (await matches(this.#secret)) return 'signed'
    return this.#previous !== undefined && (await matches(this.#previous)) ? 'signed' : 'forged'
  }
}

/** The message of a recId rejected as `forged`, for the field errors of impressions and events. */
export const FORGED_REC_ID_MESSAGE =
  'This recId was not issued by this worker (its signature does not match: made up, altered, or from another environment). Send the recId of an answer of this worker unchanged.'
