/**
 * The byte-level half of the CSV fast path (`csvEventSource(…).readInto`): one quote-free row,
 * given as field offsets in the raw input buffer, checked and handed to the sink without a string
 * per row. Ids are interned by their bytes ({@link ByteIdTable}), numbers are read from the bytes,
 * and only what is new or unusual (a new id, a value such as ` 7`, an ISO date, a bad row's text)
 * is decoded. The checks and messages are those of `rowToSink`, in the same order.
 *
 * @module
 */
import { EVENT_LIMITS, EVENT_TYPE_PATTERN } from '@edgerec/core'
import { type ResolvedColumns, SECONDS_THRESHOLD, suggestTimeFormat, type TimeUnit } from './fields.js'
import { ByteIdTable } from './intern.js'
import { type BadRowTracker, type EventSink, type IndexedEventSink, isIndexedSink } from './source.js'

const POW10 = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
  1e20, 1e21, 1e22,
]

/**
 * The number written in ASCII in `buf[start, end)`, or NaN when it is not in the simple form read
 * here (the caller then decodes the text and uses `Number`, so NaN never means "not a number").
 * `plain` (timestamps): `-?d+(.d*)?`; otherwise `[-+]?(d+(.d*)?|.d+)([eE][-+]?d+)?`. At most 15
 * significant digits and a decimal exponent within ±22, so that `m × 10^p` (or `m / 10^-p`) is one
 * correctly rounded operation on exact operands: the result is `Number(text)`, bit for bit
 * (Clinger's fast path).
 *
 * @internal
 */
export function parseNumberBytes(buf: Uint8Array, start: number, end: number, plain: boolean): number {
  let j = start
  let negative = false
  if (j < end && buf[j] === 45) {
    negative = true
    j++
  } else if (!plain && j < end && buf[j] === 43) j++
  let m = 0
  let digits = 0
  for (; j < end; j++) {
    const c = buf[j]! - 48
    if (c < 0 || c > 9) break
    m = m * 10 + c
    digits++
  }
  if (plain && digits === 0) return Number.NaN
  let fraction = 0
  if (j < end && buf[j] === 46) {
    j++
    for (; j < end; j++) {
      const c = buf[j]! - 48
      if (c < 0 || c > 9) break
      m = m * 10 + c
      digits++
      fraction++
    }
  }
  if (digits === 0 || digits > 15) return Number.NaN
  let exponent = 0
  if (!plain && j < end && (buf[j]! | 32) === 101) {
    j++
    let negativeExponent = false
    if (j < end && (buf[j] === 45 || buf[j] === 43)) negativeExponent = buf[j++] === 45
    const first = j
    for (; j < end && j - first < 4; j++) {
      const c = buf[j]! - 48
      if (c < 0 || c > 9) break
      exponent = exponent * 10 + c
    }
    if (j === first) return Number.NaN
    if (negativeExponent) exponent = -exponent
  }
  if (j !== end) return Number.NaN
  const p = exponent - fraction
  let v: number
  if (p === 0) v = m
  else if (p > 0 && p <= 22) v = m * POW10[p]!
  else if (p < 0 && p >= -22) v = m / POW10[-p]!
  else return Number.NaN
  return negative ? -v : v
}

/** Options of {@link CsvByteRows}. */
export interface CsvByteRowOptions {
  timeUnit: TimeUnit
  /** A `--time-format` is set: every timestamp is read as text by `readTime`. */
  timeFormat: boolean
  /** The source's timestamp reader (`timeReader(options)`), for what the byte path does not read. */
  readTime: (raw: unknown) => number
  /** Field separator (ASCII); one character means RFC 4180 quoting (a line with a quote is not read here). */
  delimiter: string
  /** Fields per row (the header's). */
  width: number
  /** The bad-row reason of a row with another number of fields. */
  widthReason: (count: number) => string
}

const LF = 10
const CR = 13
const QUOTE = 34

/** An {@link IndexedEventSink} over a plain sink: indexes into the strings handed out. */
function indexedAdapter(sink: EventSink): IndexedEventSink {
  const users: string[] = []
  const items: string[] = []
  return {
    event: (userId, itemId, type, value, timestamp, receivedAt) =>
      sink.event(userId, itemId, type, value, timestamp, receivedAt),
    userIndex: (id) => users.push(id) - 1,
    itemIndex: (id) => items.push(id) - 1,
    indexedEvent: (user, item, type, value, timestamp) =>
      sink.event(users[user]!, items[item]!, type, value, timestamp),
  }
}

/**
 * Checks quote-free rows in byte form and hands the good ones to the sink (indexed when the sink
 * takes indexes, see {@link IndexedEventSink}); counts them in the tracker.
 *
 * @internal
 */
export class CsvByteRows {
  readonly #columns: ResolvedColumns
  readonly #sink: IndexedEventSink
  readonly #tracker: BadRowTracker
  readonly #options: CsvByteRowOptions
  readonly #users = new ByteIdTable()
  readonly #items = new ByteIdTable()
  readonly #types = new ByteIdTable()
  /** Per distinct raw type (by {@link #types} value): the normalized type, or why it is bad. */
  readonly #typeNames: string[] = []
  readonly #typeReasons: (string | undefined)[] = []
  // NOTE: ignoreBOM: an id that starts with U+FEFF keeps it, as the text path reads it.
  readonly #decoder = new TextDecoder('utf-8', { ignoreBOM: true })
  readonly #encoder = new TextEncoder()
  #starts = new Int32Array(64)
  #ends = new Int32Array(64)

  /** 1-based line of the next line {@link lines} reads. */
  line = 1

  /**
   * The sink for rows read as text (records with quotes): interns their ids in the same tables,
   * so an id has one index whichever way its rows were read. Counts each event in the tracker.
   */
  readonly stringSink: EventSink

  constructor(columns: ResolvedColumns, sink: EventSink, tracker: BadRowTracker, options: CsvByteRowOptions) {
    this.#columns = columns
    this.#sink = isIndexedSink(sink) ? sink : indexedAdapter(sink)
    this.#tracker = tracker
    this.#options = options
    this.stringSink = {
      event: (userId, itemId, type, value, timestamp) => {
        const user = this.#intern(this.#users, userId, true)
        const item = this.#intern(this.#items, itemId, false)
        this.#tracker.ok()
        this.#sink.indexedEvent(user, item, type, value, timestamp)
      },
    }
  }

  /**
   * Reads the complete lines of `buf[pos, len)` (LF or CRLF) until an incomplete one or, when the
   * delimiter quotes, one with a quote (left to the text scanner); returns where it stopped.
   * Blank lines are skipped; {@link line} counts every line.
   */
  lines(buf: Uint8Array, pos: number, len: number): number {
    const delimiter = this.#options.delimiter
    const d0 = delimiter.charCodeAt(0)
    const dl = delimiter.length
    const quoting = dl === 1
    const width = this.#options.width
    let starts = this.#starts
    let ends = this.#ends
    let line = this.line
    while (pos < len) {
      let field = 0
      let j = pos
      let quote = false
      starts[0] = pos
      for (; j < len; j++) {
        const c = buf[j]!
        if (c === LF) break
        if (c === d0) {
          if (dl > 1 && !startsWith(buf, j, len, delimiter)) continue
          ends[field] = j
          field++
          if (field === starts.length) {
            this.#grow()
            starts = this.#starts
            ends = this.#ends
          }
          j += dl - 1
          starts[field] = j + 1
        } else if (c === QUOTE && quoting) {
          quote = true
          break
        }
      }
      if (quote || j >= len) break
      const end = j > pos && buf[j - 1] === CR ? j - 1 : j
      ends[field] = end
      if (end > pos) {
        if (field + 1 === width) this.row(buf, line, starts, ends, pos, end)
        else this.#tracker.bad(line, this.#options.widthReason(field + 1), this.#text(buf, pos, end))
      }
      line++
      pos = j + 1
    }
    this.line = line
    return pos
  }

  #grow(): void {
    const starts = new Int32Array(this.#starts.length * 2)
    starts.set(this.#starts)
    this.#starts = starts
    const ends = new Int32Array(this.#ends.length * 2)
    ends.set(this.#ends)
    this.#ends = ends
  }

  #intern(table: ByteIdTable, id: string, user: boolean): number {
    const bytes = this.#encoder.encode(id)
    let index = table.get(bytes, 0, bytes.length)
    if (index < 0) {
      index = user ? this.#sink.userIndex(id) : this.#sink.itemIndex(id)
      table.set(bytes, 0, bytes.length, index)
    }
    return index
  }

  #text(buf: Uint8Array, start: number, end: number): string {
    return this.#decoder.decode(buf.subarray(start, end))
  }

  /**
   * One row whose field `c` is `buf[starts[c], ends[c])` (as many fields as the header); the row
   * is `buf[rawStart, rawEnd)` (its text for a bad-row report).
   */
  row(
    buf: Uint8Array,
    line: number,
    starts: Int32Array,
    ends: Int32Array,
    rawStart: number,
    rawEnd: number,
  ): void {
    const reason = this.#row(buf, starts, ends)
    if (reason !== undefined) this.#tracker.bad(line, reason, this.#text(buf, rawStart, rawEnd))
  }

  /** {@link row}; returns why the row is bad, if it is (and then calls nothing). */
  #row(buf: Uint8Array, starts: Int32Array, ends: Int32Array): string | undefined {
    const columns = this.#columns
    const maxId = EVENT_LIMITS.maxEntityIdLength
    let us = 0
    let ue = 0
    if (columns.user >= 0) {
      us = starts[columns.user]!
      ue = ends[columns.user]!
    }
    if (us === ue && columns.anonymousUser >= 0) {
      us = starts[columns.anonymousUser]!
      ue = ends[columns.anonymousUser]!
    }
    if (us === ue) return 'user id is empty'
    const is = starts[columns.item]!
    const ie = ends[columns.item]!
    if (is === ie) return 'item id is empty'
    let user = this.#users.get(buf, us, ue)
    let item = this.#items.get(buf, is, ie)
    // Only a new id becomes a string (and is checked: a known one passed these checks).
    // NOTE: a UTF-16 length never exceeds the UTF-8 length, so short byte ranges need no decoding to pass.
    const userId = user < 0 ? this.#text(buf, us, ue) : undefined
    const itemId = item < 0 ? this.#text(buf, is, ie) : undefined
    if (userId !== undefined && userId.length > maxId) return `user id is longer than ${maxId} characters`
    if (itemId !== undefined && itemId.length > maxId) return `item id is longer than ${maxId} characters`

    let value: number | undefined
    if (columns.value >= 0) {
      const s = starts[columns.value]!
      const e = ends[columns.value]!
      if (s < e) {
        value = parseNumberBytes(buf, s, e, false)
        if (Number.isNaN(value)) {
          const raw = this.#text(buf, s, e)
          value = Number(raw.trim())
          if (!Number.isFinite(value))
            return `value ${JSON.stringify(raw.slice(0, 40))} is not a finite number`
        }
      }
    }

    let timestamp = 0
    if (columns.timestamp >= 0) {
      const s = starts[columns.timestamp]!
      const e = ends[columns.timestamp]!
      const v = this.#options.timeFormat ? Number.NaN : parseNumberBytes(buf, s, e, true)
      if (!Number.isNaN(v)) {
        // parseTimestamp's rule for numbers: seconds below 10¹¹ under `auto`.
        const unit = this.#options.timeUnit
        timestamp =
          unit === 's' || (unit === 'auto' && Math.abs(v) < SECONDS_THRESHOLD)
            ? Math.round(v * 1000)
            : Math.round(v)
      } else {
        const raw = this.#text(buf, s, e)
        timestamp = this.#options.readTime(raw)
        if (Number.isNaN(timestamp)) {
          if (raw === '') return 'timestamp is empty'
          const text = raw.slice(0, 40)
          const suggestion = suggestTimeFormat(text)
          return `timestamp ${JSON.stringify(text)} is neither epoch seconds/milliseconds, ISO-8601 nor the time format${suggestion ? ` (try --time-format ${suggestion})` : ''}`
        }
      }
    }

    let type: string | undefined
    if (columns.type >= 0) {
      const s = starts[columns.type]!
      const e = ends[columns.type]!
      if (s < e) {
        let k = this.#types.get(buf, s, e)
        if (k < 0) {
          const raw = this.#text(buf, s, e)
          const name = raw.trim().toLowerCase()
          k = this.#typeNames.length
          this.#typeNames.push(name)
          this.#typeReasons.push(
            name.length > EVENT_LIMITS.maxTypeLength || !EVENT_TYPE_PATTERN.test(name)
              ? `type ${JSON.stringify(raw.slice(0, 40))} must match [a-z][a-z0-9_]* (e.g. add_to_cart)`
              : undefined,
          )
          this.#types.set(buf, s, e, k)
        }
        const reason = this.#typeReasons[k]
        if (reason !== undefined) return reason
        type = this.#typeNames[k]
      }
    }

    if (userId !== undefined) {
      user = this.#sink.userIndex(userId)
      this.#users.set(buf, us, ue, user)
    }
    if (itemId !== undefined) {
      item = this.#sink.itemIndex(itemId)
      this.#items.set(buf, is, ie, item)
    }
    this.#tracker.ok()
    this.#sink.indexedEvent(user, item, type, value, timestamp)
    return undefined
  }
}

/** Whether `buf[j, end)` starts with the ASCII text `text`. */
function startsWith(buf: Uint8Array, j: number, end: number, text: string): boolean {
  if (j + text.length > end) return false
  for (let m = 0; m < text.length; m++) if (buf[j + m] !== text.charCodeAt(m)) return false
  return true
}
