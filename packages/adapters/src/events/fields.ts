/**
 * Turning a tabular row (CSV, Parquet, mapped NDJSON) into a {@link SourceEvent}: column mapping
 * (by name, common names, or 1-based position), timestamps in seconds, milliseconds, ISO-8601
 * (date-only too) or a `strftime`-style format, and a reason for every rejected row.
 *
 * @module
 */
import { EVENT_LIMITS, EVENT_TYPE_PATTERN } from '@edgerec/core'
import { EventSourceError } from './errors.js'
import type { EventSink, SourceEvent } from './source.js'

/**
 * Which input column holds which event field. Unset fields are looked up by common names
 * ({@link COLUMN_CANDIDATES}, case-insensitive). A name that is a whole number and matches no
 * column is a 1-based position (`user: '1'`), which is how headerless files are mapped.
 */
export interface ColumnMapping {
  /** User id column. Default: `userId`, `user_id`, `user`, `customerId`, `member_number`, … */
  user?: string
  /** Anonymous id column, used when the user column is empty. Default: `anonymousId` / `anonymous_id`. */
  anonymousUser?: string
  /** Item id column. Default: `itemId`, `item_id`, `item`, `productId`, `movieId`, `artistId`, … */
  item?: string
  /**
   * Value column. Default: the first of `value`, `rating`, `count`, `plays`, `playcount`,
   * `weight`, `quantity`, `score`. Set `false` to ignore such a column (every value is 1).
   */
  value?: string | false
  /** Time column. Default: `timestamp`, `time`, `ts`, `datetime`, `date`, `event_time`, `created_at`. */
  timestamp?: string
  /** Event type column. Default: `type`, `event_type`, `event`. */
  type?: string
}

/**
 * How numeric timestamps are read. `auto` (default): a number below 10¹¹ is in seconds, otherwise
 * in milliseconds (10¹¹ ms is March 1973, 10¹¹ s is the year 5138, so real data is never ambiguous).
 */
export type TimeUnit = 'auto' | 's' | 'ms'

/** Options shared by the tabular readers. */
export interface FieldOptions {
  columns?: ColumnMapping
  timeUnit?: TimeUnit
  /**
   * `strftime`-style format of text timestamps that are not ISO-8601, e.g. `%d-%m-%Y` for
   * `21-07-2015` (see {@link compileTimeFormat}). Read as UTC. Numbers and ISO-8601 still work.
   */
  timeFormat?: string
}

/** Numeric timestamps below this are taken as seconds under `timeUnit: 'auto'`. */
export const SECONDS_THRESHOLD = 1e11

/** The event fields a column can hold. */
export type EventField = 'user' | 'anonymousUser' | 'item' | 'value' | 'timestamp' | 'type'

/** Column names (lower case) tried, in order, for each field the mapping leaves unset. */
export const COLUMN_CANDIDATES: Readonly<Record<EventField, readonly string[]>> = {
  user: [
    'userid',
    'user_id',
    'user',
    'customerid',
    'customer_id',
    'customer',
    'member_number',
    'visitorid',
    'visitor_id',
    'uid',
  ],
  anonymousUser: ['anonymousid', 'anonymous_id'],
  item: [
    'itemid',
    'item_id',
    'item',
    'productid',
    'product_id',
    'product',
    'movieid',
    'movie_id',
    'artistid',
    'artist_id',
    'trackid',
    'track_id',
    'songid',
    'song_id',
    'itemdescription',
    'iid',
  ],
  value: ['value', 'rating', 'count', 'plays', 'playcount', 'play_count', 'weight', 'quantity', 'score'],
  timestamp: ['timestamp', 'time', 'ts', 'datetime', 'date', 'event_time', 'created_at'],
  type: ['type', 'event_type', 'event'],
}
const CANDIDATES = COLUMN_CANDIDATES

/** Column positions of each event field; `-1` when the input has no such column. */
export interface ResolvedColumns {
  user: number
  anonymousUser: number
  item: number
  value: number
  timestamp: number
  type: number
}

/**
 * Finds each mapped column in `header`. Throws `INPUT_INVALID` naming the missing column and the
 * columns that exist.
 */
export function resolveColumns(
  header: readonly string[],
  mapping: ColumnMapping = {},
  what = 'input',
): ResolvedColumns {
  const lower = header.map((h) => h.trim().toLowerCase())
  const find = (field: keyof typeof CANDIDATES): number => {
    const explicit = mapping[field]
    if (explicit === false) return -1
    if (typeof explicit === 'string') {
      let index = header.indexOf(explicit)
      if (index < 0) index = lower.indexOf(explicit.trim().toLowerCase())
      if (index < 0 && /^\d+$/.test(explicit.trim())) {
        const position = Number(explicit.trim())
        if (position >= 1 && position <= header.length) index = position - 1
      }
      if (index < 0) {
        throw new EventSourceError(
          'INPUT_INVALID',
          `${what} has no column "${explicit}" (mapped as ${field}). Its columns are: ${header.join(', ')}. Fix the column mapping (a 1-based position such as 3 works too).`,
        )
      }
      return index
    }
    for (const name of CANDIDATES[field]) {
      const index = lower.indexOf(name)
      if (index >= 0) return index
    }
    return -1
  }
  const resolved: ResolvedColumns = {
    user: find('user'),
    anonymousUser: find('anonymousUser'),
    item: find('item'),
    value: find('value'),
    timestamp: find('timestamp'),
    type: find('type'),
  }
  if (resolved.user < 0 && resolved.anonymousUser < 0) {
    throw new EventSourceError(
      'INPUT_INVALID',
      `${what} has no user column (looked for ${CANDIDATES.user.join(', ')}). Its columns are: ${header.join(', ')}. Map one, e.g. --user-col customer (or a position: --user-col 1); if the first row is data, not a header, add --no-header.`,
    )
  }
  if (resolved.item < 0) {
    throw new EventSourceError(
      'INPUT_INVALID',
      `${what} has no item column (looked for ${CANDIDATES.item.join(', ')}). Its columns are: ${header.join(', ')}. Map one, e.g. --item-col movieId (or a position: --item-col 2); if the first row is data, not a header, add --no-header.`,
    )
  }
  return resolved
}

/**
 * One line saying which column feeds which field, e.g. `user ← userID, item ← artistID,
 * value ← weight (found by name), timestamp: none`, so an auto-detected column is never a surprise.
 */
export function describeColumns(
  header: readonly string[],
  resolved: ResolvedColumns,
  mapping: ColumnMapping = {},
): string {
  const parts: string[] = []
  for (const field of ['user', 'item', 'value', 'timestamp', 'type'] as const) {
    const index = resolved[field]
    if (index < 0) {
      parts.push(`${field}: none${field === 'value' ? ' (every value is 1)' : ''}`)
      continue
    }
    const explicit = typeof mapping[field] === 'string'
    parts.push(`${field} ← ${header[index]}${explicit ? '' : ' (found by name)'}`)
  }
  return parts.join(', ')
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']

/**
 * Compiles a `strftime`-style format into a parser returning epoch milliseconds (UTC unless the
 * format has `%z`), or NaN when a string does not match. Directives: `%Y` year, `%y` two-digit
 * year (69–99 → 19xx, else 20xx), `%m` month, `%d` day, `%H` hour, `%I` 12-hour hour with `%p`
 * AM/PM, `%M` minute, `%S` second, `%f` fraction of a second, `%b`/`%B` English month name,
 * `%z` `Z`/`±hh:mm`/`±hhmm`, `%s` epoch seconds, `%%` a percent sign; any other character matches itself.
 *
 * @throws EventSourceError `INPUT_INVALID` for an unknown directive
 * @example
 * ```ts
 * compileTimeFormat('%d-%m-%Y')('21-07-2015') // Date.UTC(2015, 6, 21)
 * ```
 */
export function compileTimeFormat(format: string): (text: string) => number {
  const fields: string[] = []
  let pattern = '^'
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!
    if (c !== '%') {
      pattern += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      continue
    }
    const d = format[++i]
    const group: Record<string, string> = {
      Y: '(\\d{4})',
      y: '(\\d{2})',
      m: '(\\d{1,2})',
      d: '(\\d{1,2})',
      H: '(\\d{1,2})',
      I: '(\\d{1,2})',
      M: '(\\d{1,2})',
      S: '(\\d{1,2})',
      f: '(\\d{1,9})',
      b: '([A-Za-z]{3,9})',
      B: '([A-Za-z]{3,9})',
      p: '([AaPp][Mm])',
      z: '(Z|[+-]\\d{2}:?\\d{2})',
      s: '(-?\\d+(?:\\.\\d+)?)',
    }
    if (d === '%') {
      pattern += '%'
      continue
    }
    if (d === undefined || group[d] === undefined) {
      throw new EventSourceError(
        'INPUT_INVALID',
        `Time format ${JSON.stringify(format)} has an unknown directive %${d ?? ''}. Use %Y %y %m %d %H %I %p %M %S %f %b %B %z %s %% (e.g. %d-%m-%Y for 21-07-2015).`,
      )
    }
    fields.push(d)
    pattern += group[d]
  }
  const regex = new RegExp(`${pattern}$`)
  return (text: string): number => {
    const m = regex.exec(text.trim())
    if (!m) return Number.NaN
    let year = 1970
    let month = 1
    let day = 1
    let hour = 0
    let minute = 0
    let second = 0
    let ms = 0
    let pm: boolean | undefined
    let offsetMinutes = 0
    for (let g = 0; g < fields.length; g++) {
      const v = m[g + 1]!
      switch (fields[g]) {
        case 'Y':
          year = Number(v)
          break
        case 'y':
          year = Number(v) + (Number(v) >= 69 ? 1900 : 2000)
          break
        case 'm':
          month = Number(v)
          break
        case 'd':
          day = Number(v)
          break
        case 'H':
        case 'I':
          hour = Number(v)
          break
        case 'M':
          minute = Number(v)
          break
        case 'S':
          second = Number(v)
          break
        case 'f':
          ms = Number(`0.${v}`) * 1000
          break
        case 'b':
        case 'B': {
          const index = MONTHS.indexOf(v.slice(0, 3).toLowerCase())
          if (index < 0) return Number.NaN
          month = index + 1
          break
        }
        case 'p':
          pm = v.toLowerCase() === 'pm'
          break
        case 'z':
          if (v !== 'Z') {
            const sign = v[0] === '-' ? -1 : 1
            const digits = v.slice(1).replace(':', '')
            offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)))
          }
          break
        case 's':
          return Math.round(Number(v) * 1000)
      }
    }
    if (pm !== undefined) {
      if (hour < 1 || hour > 12) return Number.NaN
      hour = (hour % 12) + (pm ? 12 : 0)
    }
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
      return Number.NaN
    }
    const t = Date.UTC(year, month - 1, day, hour, minute, second, ms)
    // Date.UTC rolls 31-02 over into March: reject dates that do not exist.
    if (new Date(t).getUTCDate() !== day) return Number.NaN
    return t - offsetMinutes * 60_000
  }
}

/**
 * A `--time-format` that would read `text`, when it looks like a day-month-year or month-day-year
 * date (optionally with a time); `undefined` otherwise. Used in error messages.
 */
export function suggestTimeFormat(text: string): string | undefined {
  const m = /^(\d{1,2})([-/.])(\d{1,2})\2(\d{2}|\d{4})(?:[ T](\d{1,2}:\d{2}(:\d{2})?))?$/.exec(text.trim())
  if (!m) return undefined
  const [, a, sep, b, year, time, seconds] = m
  const y = year!.length === 4 ? '%Y' : '%y'
  const clock = time === undefined ? '' : seconds === undefined ? ' %H:%M' : ' %H:%M:%S'
  const dayFirst = `%d${sep}%m${sep}${y}${clock}`
  const monthFirst = `%m${sep}%d${sep}${y}${clock}`
  if (Number(a) > 12) return dayFirst
  if (Number(b) > 12) return monthFirst
  return `${dayFirst} or ${monthFirst}`
}

/**
 * The timestamp reader of a set of field options: `timeFormat` first (for text), then epoch
 * numbers (see {@link TimeUnit}) and ISO-8601.
 */
export function timeReader(
  options: Pick<FieldOptions, 'timeUnit' | 'timeFormat'> = {},
): (raw: unknown) => number {
  const unit = options.timeUnit ?? 'auto'
  if (options.timeFormat === undefined || options.timeFormat === '') return (raw) => parseTimestamp(raw, unit)
  const parse = compileTimeFormat(options.timeFormat)
  return (raw) => {
    if (typeof raw === 'string') {
      const t = parse(raw)
      if (!Number.isNaN(t)) return t
    }
    return parseTimestamp(raw, unit)
  }
}

/**
 * Parses a timestamp: epoch seconds or milliseconds (number or numeric string, see {@link TimeUnit}),
 * an ISO-8601 string, a `Date` or a bigint. Returns NaN when it is none of these.
 */
export function parseTimestamp(raw: unknown, unit: TimeUnit = 'auto'): number {
  let n: number
  if (typeof raw === 'number') n = raw
  else if (typeof raw === 'bigint') n = Number(raw)
  else if (raw instanceof Date) return raw.getTime()
  else if (typeof raw === 'string') {
    // Fast path: a plain decimal number (what most files hold); `0x`, `0b`, `0o` stay rejected.
    const c0 = raw.charCodeAt(0)
    const c1 = raw.charCodeAt(1) | 32
    if (((c0 >= 48 && c0 <= 57) || c0 === 45) && c1 !== 120 && c1 !== 98 && c1 !== 111) {
      const v = Number(raw)
      if (Number.isFinite(v) && raw.indexOf('e') < 0 && raw.indexOf('E') < 0) {
        if (unit === 's' || (unit === 'auto' && Math.abs(v) < SECONDS_THRESHOLD)) return Math.round(v * 1000)
        return Math.round(v)
      }
    }
    const s = raw.trim()
    if (s.length === 0) return Number.NaN
    if (/^-?\d+(\.\d+)?$/.test(s)) n = Number(s)
    else if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(s)) {
      // NOTE: a date-time without a zone is read as UTC so results do not depend on the machine.
      const withZone =
        /T|\s/.test(s) && !/(Z|[+-]\d{2}:?\d{2})$/.test(s) ? `${s.replace(' ', 'T')}Z` : s.replace(' ', 'T')
      return Date.parse(withZone)
    } else return Number.NaN
  } else return Number.NaN
  if (!Number.isFinite(n)) return Number.NaN
  if (unit === 's' || (unit === 'auto' && Math.abs(n) < SECONDS_THRESHOLD)) return Math.round(n * 1000)
  return Math.round(n)
}

/** Reads an id cell; `undefined` for empty cells. */
function idOf(raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return undefined
  const s =
    typeof raw === 'string'
      ? raw
      : typeof raw === 'number' || typeof raw === 'bigint'
        ? String(raw)
        : undefined
  if (s === undefined || s.length === 0) return undefined
  return s
}

let lastRawType: string | undefined
let lastType: string | undefined

/**
 * Reads one row into `sink`; returns a reason string when the row is bad (and calls nothing).
 * The allocation-free form of {@link rowToEvent}.
 *
 * @param cell - reads the cell at a column position
 */
export function rowToSink(
  cell: (column: number) => unknown,
  columns: ResolvedColumns,
  time: TimeUnit | ((raw: unknown) => number),
  sink: EventSink,
): string | undefined {
  const rawUser = columns.user >= 0 ? cell(columns.user) : undefined
  let userId = idOf(rawUser)
  if (userId === undefined && columns.anonymousUser >= 0) userId = idOf(cell(columns.anonymousUser))
  if (userId === undefined) {
    if (rawUser !== undefined && rawUser !== null && rawUser !== '' && typeof rawUser !== 'string') {
      return `user id has type ${typeof rawUser}; expected a string or number`
    }
    return 'user id is empty'
  }
  const itemId = idOf(cell(columns.item))
  if (itemId === undefined) return 'item id is empty'
  if (userId.length > EVENT_LIMITS.maxEntityIdLength)
    return `user id is longer than ${EVENT_LIMITS.maxEntityIdLength} characters`
  if (itemId.length > EVENT_LIMITS.maxEntityIdLength)
    return `item id is longer than ${EVENT_LIMITS.maxEntityIdLength} characters`

  let value: number | undefined
  if (columns.value >= 0) {
    const raw = cell(columns.value)
    if (raw !== undefined && raw !== null && raw !== '') {
      value =
        typeof raw === 'number' ? raw : typeof raw === 'bigint' ? Number(raw) : Number(String(raw).trim())
      if (!Number.isFinite(value))
        return `value ${JSON.stringify(String(raw).slice(0, 40))} is not a finite number`
    }
  }

  let timestamp = 0
  if (columns.timestamp >= 0) {
    const raw = cell(columns.timestamp)
    timestamp = typeof time === 'function' ? time(raw) : parseTimestamp(raw, time)
    if (Number.isNaN(timestamp)) {
      if (raw === undefined || raw === null || raw === '') return 'timestamp is empty'
      const text = String(raw).slice(0, 40)
      const suggestion = suggestTimeFormat(text)
      return `timestamp ${JSON.stringify(text)} is neither epoch seconds/milliseconds, ISO-8601 nor the time format${suggestion ? ` (try --time-format ${suggestion})` : ''}`
    }
  }

  let type: string | undefined
  if (columns.type >= 0) {
    const raw = cell(columns.type)
    if (raw !== undefined && raw !== null && raw !== '') {
      // NOTE: a file has a handful of types: normalize each distinct raw text once.
      if (typeof raw === 'string' && raw === lastRawType) type = lastType
      else {
        type = String(raw).trim().toLowerCase()
        if (type.length > EVENT_LIMITS.maxTypeLength || !EVENT_TYPE_PATTERN.test(type)) {
          return `type ${JSON.stringify(String(raw).slice(0, 40))} must match [a-z][a-z0-9_]* (e.g. add_to_cart)`
        }
        if (typeof raw === 'string') {
          lastRawType = raw
          lastType = type
        }
      }
    }
  }
  sink.event(userId, itemId, type, value, timestamp)
  return undefined
}

/**
 * Builds an event from one row; returns a reason string when the row is bad.
 *
 * @param cell - reads the cell at a column position
 */
export function rowToEvent(
  cell: (column: number) => unknown,
  columns: ResolvedColumns,
  time: TimeUnit | ((raw: unknown) => number) = 'auto',
): SourceEvent | string {
  let event: SourceEvent | undefined
  const reason = rowToSink(cell, columns, time, {
    event: (userId, itemId, type, value, timestamp) => {
      event = { userId, itemId, type, value, timestamp }
    },
  })
  return reason ?? (event as SourceEvent)
}
