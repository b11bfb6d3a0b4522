/**
 * CSV events (RFC 4180: quoted fields with `""` escapes and line breaks, CRLF or LF, a header row),
 * streamed from a local file or any storage key.
 *
 * @module
 */
import { EventSourceError } from './errors.js'
import { type FieldOptions, resolveColumns, rowToEvent } from './fields.js'
import { describeLocation, type InputLocation, openText } from './input.js'
import {
  BadRowTracker,
  batchedStream,
  type EventSource,
  type EventStream,
  type ReadOptions,
} from './source.js'

/** One parsed CSV record. */
export interface CsvRecord {
  /** 1-based physical line where the record starts. */
  line: number
  fields: string[]
  /** Set when the record is not valid RFC 4180 (the fields are a best effort). */
  problem?: string
}

/** Options of {@link parseCsv}. */
export interface CsvParseOptions {
  /** Field separator, one character. Default `,`. */
  delimiter?: string
}

const QUOTE = 34
const LF = 10
const CR = 13

/**
 * Parses CSV text chunks into records, one array of records per chunk. Blank lines are skipped
 * (they still count for line numbers). Memory holds one chunk plus one partial record.
 *
 * @example
 * ```ts
 * for await (const records of parseCsv(openText({ path: 'a.csv' }))) for (const r of records) console.log(r.line, r.fields)
 * ```
 */
export async function* parseCsv(
  chunks: AsyncIterable<string>,
  options: CsvParseOptions = {},
): AsyncGenerator<CsvRecord[]> {
  const delimiter = options.delimiter ?? ','
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new EventSourceError(
      'INPUT_INVALID',
      `CSV delimiter must be one character other than a quote or line break, got ${JSON.stringify(delimiter)}.`,
    )
  }
  const delim = delimiter.charCodeAt(0)
  let carry = ''
  let line = 1
  const parse = (data: string, final: boolean): CsvRecord[] => {
    const out: CsvRecord[] = []
    const n = data.length
    let i = 0
    while (i < n) {
      const recordStart = i
      const recordLine = line
      let linesInRecord = 0
      const fields: string[] = []
      let problem: string | undefined
      let complete = false
      for (;;) {
        // One field starting at i.
        if (i < n && data.charCodeAt(i) === QUOTE) {
          let value = ''
          let j = i + 1
          let closed = false
          for (;;) {
            const q = data.indexOf('"', j)
            if (q < 0) break
            if (q + 1 < n && data.charCodeAt(q + 1) === QUOTE) {
              value += data.slice(j, q + 1)
              j = q + 2
              continue
            }
            if (q + 1 >= n && !final) break
            value += data.slice(j, q)
            j = q + 1
            closed = true
            break
          }
          if (!closed) {
            if (!final) break
            // Unterminated quote at the end of the input.
            value += data.slice(j)
            problem = 'unterminated quoted field'
            for (let k = i; k < n; k++) if (data.charCodeAt(k) === LF) linesInRecord++
            fields.push(value)
            i = n
            complete = true
            break
          }
          for (let k = i; k < j; k++) if (data.charCodeAt(k) === LF) linesInRecord++
          i = j
          // After the closing quote: a delimiter, a line end, or (invalid) more characters.
          if (
            i < n &&
            data.charCodeAt(i) !== delim &&
            data.charCodeAt(i) !== LF &&
            data.charCodeAt(i) !== CR
          ) {
            let k = i
            while (k < n && data.charCodeAt(k) !== delim && data.charCodeAt(k) !== LF) k++
            if (k >= n && !final) break
            value += data.slice(i, k).replace(/\r$/, '')
            problem ??= 'characters after a closing quote'
            i = k
          }
          fields.push(value)
        } else {
          let k = i
          while (k < n) {
            const c = data.charCodeAt(k)
            if (c === delim || c === LF) break
            k++
          }
          if (k >= n && !final) break
          let end = k
          if (k < n && data.charCodeAt(k) === LF && end > i && data.charCodeAt(end - 1) === CR) end--
          else if (k >= n && end > i && data.charCodeAt(end - 1) === CR) end--
          fields.push(data.slice(i, end))
          i = k
        }
        // Field separator or record end.
        if (i >= n) {
          if (!final) break
          complete = true
          break
        }
        const c = data.charCodeAt(i)
        if (c === delim) {
          i++
          if (i >= n && final) {
            fields.push('')
            complete = true
            break
          }
          continue
        }
        if (c === CR && i + 1 < n && data.charCodeAt(i + 1) === LF) i++
        else if (c === CR && i + 1 >= n && !final) break
        if (data.charCodeAt(i) === LF || data.charCodeAt(i) === CR) {
          i++
          linesInRecord++
          complete = true
          break
        }
      }
      if (!complete) {
        carry = data.slice(recordStart)
        return out
      }
      line = recordLine + linesInRecord
      const blank = fields.length === 1 && fields[0] === '' && problem === undefined
      if (!blank) {
        const record: CsvRecord = { line: recordLine, fields }
        if (problem !== undefined) record.problem = problem
        out.push(record)
      }
    }
    carry = ''
    return out
  }
  for await (const chunk of chunks) {
    const records = parse(carry + chunk, false)
    if (records.length > 0) yield records
  }
  if (carry.length > 0) {
    const records = parse(carry, true)
    if (records.length > 0) yield records
  }
}

/** Options of {@link csvEventSource}. */
export interface CsvSourceOptions extends FieldOptions {
  /** Field separator. Default `,`. */
  delimiter?: string
}

/**
 * Reads events from a CSV file with a header row. Rows with a wrong number of fields, empty ids,
 * non-numeric values or unreadable timestamps are bad rows (counted, reported with their line).
 *
 * @example
 * ```ts
 * const source = csvEventSource({ path: 'ratings.csv' }, { columns: { user: 'userId', item: 'movieId', value: 'rating' } })
 * ```
 */
export function csvEventSource(location: InputLocation, options: CsvSourceOptions = {}): EventSource {
  const description = `CSV ${describeLocation(location)}`
  return {
    description,
    read(readOptions: ReadOptions = {}): EventStream {
      const tracker = new BadRowTracker(description, readOptions)
      return batchedStream(tracker, readOptions, async function* (emit) {
        const parseOptions: CsvParseOptions = {}
        if (options.delimiter !== undefined) parseOptions.delimiter = options.delimiter
        let header: string[] | undefined
        let columns: ReturnType<typeof resolveColumns> | undefined
        for await (const records of parseCsv(openText(location, readOptions.signal), parseOptions)) {
          for (const record of records) {
            if (header === undefined || columns === undefined) {
              header = record.fields
              columns = resolveColumns(header, options.columns, description)
              continue
            }
            if (record.problem !== undefined) {
              tracker.bad(record.line, record.problem, record.fields.join(','))
              continue
            }
            if (record.fields.length !== header.length) {
              tracker.bad(
                record.line,
                `${record.fields.length} fields, the header has ${header.length}`,
                record.fields.join(','),
              )
              continue
            }
            const fields = record.fields
            const event = rowToEvent((c) => fields[c], columns, options.timeUnit)
            if (typeof event === 'string') tracker.bad(record.line, event, fields.join(','))
            else emit(event)
          }
          yield
        }
        if (header === undefined) {
          throw new EventSourceError(
            'INPUT_INVALID',
            `${description} is empty: expected a header row and data rows.`,
          )
        }
      })
    },
  }
}
