/**
 * Turning a tabular row (CSV, Parquet, mapped NDJSON) into a {@link SourceEvent}: column mapping,
 * timestamps in seconds, milliseconds or ISO-8601, and a reason for every rejected row.
 *
 * @module
 */
import { EVENT_LIMITS, EVENT_TYPE_PATTERN } from '@edgerec/core'
import { EventSourceError } from './errors.js'
import type { SourceEvent } from './source.js'

/** Which input column holds which event field. Unset fields are looked up by common names. */
export interface ColumnMapping {
  /** User id column. Default: the first of `userId`, `user_id`, `user` (case-insensitive). */
  user?: string
  /** Anonymous id column, used when the user column is empty. Default: `anonymousId` / `anonymous_id`. */
  anonymousUser?: string
  /** Item id column. Default: `itemId`, `item_id`, `item`. */
  item?: string
  /** Value column (rating, quantity). Default: `value`. Set `false` to ignore a `value` column. */
  value?: string | false
  /** Time column. Default: `timestamp`, `time`, `ts`. */
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
}

/** Numeric timestamps below this are taken as seconds under `timeUnit: 'auto'`. */
export const SECONDS_THRESHOLD = 1e11

const CANDIDATES: Record<'user' | 'anonymousUser' | 'item' | 'value' | 'timestamp' | 'type', string[]> = {
  user: ['userid', 'user_id', 'user'],
  anonymousUser: ['anonymousid', 'anonymous_id'],
  item: ['itemid', 'item_id', 'item'],
  value: ['value'],
  timestamp: ['timestamp', 'time', 'ts'],
  type: ['type', 'event_type', 'event'],
}

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
      if (index < 0) {
        throw new EventSourceError(
          'INPUT_INVALID',
          `${what} has no column "${explicit}" (mapped as ${field}). Its columns are: ${header.join(', ')}. Fix the column mapping.`,
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
      `${what} has no user column (looked for userId, user_id, user). Its columns are: ${header.join(', ')}. Map one, e.g. --user-col customer.`,
    )
  }
  if (resolved.item < 0) {
    throw new EventSourceError(
      'INPUT_INVALID',
      `${what} has no item column (looked for itemId, item_id, item). Its columns are: ${header.join(', ')}. Map one, e.g. --item-col movieId.`,
    )
  }
  return resolved
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

/**
 * Builds an event from one row; returns a reason string when the row is bad.
 *
 * @param cell - reads the cell at a column position
 */
export function rowToEvent(
  cell: (column: number) => unknown,
  columns: ResolvedColumns,
  unit: TimeUnit = 'auto',
): SourceEvent | string {
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
    timestamp = parseTimestamp(raw, unit)
    if (Number.isNaN(timestamp)) {
      return raw === undefined || raw === null || raw === ''
        ? 'timestamp is empty'
        : `timestamp ${JSON.stringify(String(raw).slice(0, 40))} is neither epoch seconds/milliseconds nor ISO-8601`
    }
  }

  let type: string | undefined
  if (columns.type >= 0) {
    const raw = cell(columns.type)
    if (raw !== undefined && raw !== null && raw !== '') {
      type = String(raw).trim().toLowerCase()
      if (type.length > EVENT_LIMITS.maxTypeLength || !EVENT_TYPE_PATTERN.test(type)) {
        return `type ${JSON.stringify(String(raw).slice(0, 40))} must match [a-z][a-z0-9_]* (e.g. add_to_cart)`
      }
    }
  }
  return { userId, itemId, type, value, timestamp }
}
