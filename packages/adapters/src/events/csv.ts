/**
 * CSV events (RFC 4180: quoted fields with `""` escapes and line breaks, CRLF or LF, a header row),
 * streamed from a local file or any storage key.
 *
 * @module
 */

import { CsvByteRows } from './csv-bytes.js'
import { EventSourceError } from './errors.js'
import {
  type ColumnMapping,
  describeColumns,
  type FieldOptions,
  type ResolvedColumns,
  resolveColumns,
  rowToSink,
  timeReader,
} from './fields.js'
import { describeLocation, type InputLocation, lines, openByteReader, openText } from './input.js'
import {
  BadRowTracker,
  batchedStream,
  type EventSink,
  type EventSource,
  type EventStream,
  type ReadOptions,
  type ReadReport,
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

/** Called with each record: its 1-based start line, its fields (reused: copy to keep) and a problem, if any. */
type RecordHandler = (line: number, fields: string[], problem: string | undefined) => void

/**
 * The RFC 4180 state machine behind {@link parseCsv}: `push` parses what is complete in a chunk
 * and keeps the partial last record, `end` flushes it. No object per record: the handler gets one
 * reused fields array.
 */
function csvScanner(delimiter: string): {
  push(chunk: string, onRecord: RecordHandler): void
  end(onRecord: RecordHandler): void
  /**
   * Columns the handler reads; the others of quote-free lines are handed over as `''` (never
   * sliced out of the text). Unset: every column.
   */
  wanted: Uint8Array | undefined
  /** The raw text of the record being handled (valid inside the handler only). */
  raw(): string
  /** 1-based line of the next record (settable, for a reader that hands it only some lines). */
  line: number
  /** Whether a partial record waits for more text. */
  readonly pending: boolean
} {
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new EventSourceError(
      'INPUT_INVALID',
      `CSV delimiter must be one character other than a quote or line break, got ${JSON.stringify(delimiter)}.`,
    )
  }
  const delim = delimiter.charCodeAt(0)
  let carry = ''
  let line = 1
  const fields: string[] = []
  let wanted: Uint8Array | undefined
  // The current record's text (fast path) for raw(); undefined when it must be rebuilt from fields.
  let rawData = ''
  let rawStart = 0
  let rawEnd = -1
  const parse = (data: string, final: boolean, onRecord: RecordHandler): void => {
    const n = data.length
    let i = 0
    // Fast path state: where the next quote, delimiter and line feed are (each found once).
    let nextQuote = -2
    let nextDelim = -2
    while (i < n) {
      // Fast path: a whole line ahead with no quote in it is split with native searches.
      if (nextQuote !== -1 && nextQuote < i) nextQuote = data.indexOf('"', i)
      const lf = data.indexOf('\n', i)
      if (lf >= 0 && (nextQuote === -1 || nextQuote > lf)) {
        const end = lf > i && data.charCodeAt(lf - 1) === CR ? lf - 1 : lf
        fields.length = 0
        let start = i
        for (let column = 0; ; column++) {
          if (nextDelim !== -1 && nextDelim < start) nextDelim = data.indexOf(delimiter, start)
          const stop = nextDelim === -1 || nextDelim >= end ? end : nextDelim
          fields.push(wanted !== undefined && wanted[column] !== 1 ? '' : data.slice(start, stop))
          if (stop === end) break
          start = stop + 1
        }
        const recordLine = line
        line++
        rawData = data
        rawStart = i
        rawEnd = end
        i = lf + 1
        if (end > rawStart) onRecord(recordLine, fields, undefined)
        rawEnd = -1
        continue
      }
      const recordStart = i
      const recordLine = line
      let linesInRecord = 0
      fields.length = 0
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
        return
      }
      line = recordLine + linesInRecord
      const blank = fields.length === 1 && fields[0] === '' && problem === undefined
      if (!blank) onRecord(recordLine, fields, problem)
    }
    carry = ''
  }
  return {
    push: (chunk, onRecord) => parse(carry + chunk, false, onRecord),
    end: (onRecord) => {
      if (carry.length > 0) parse(carry, true, onRecord)
    },
    get wanted() {
      return wanted
    },
    set wanted(columns) {
      wanted = columns
    },
    raw: () => (rawEnd >= 0 ? rawData.slice(rawStart, rawEnd) : fields.join(delimiter)),
    get line() {
      return line
    },
    set line(value) {
      line = value
    },
    get pending() {
      return carry.length > 0
    },
  }
}

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
  const scanner = csvScanner(options.delimiter ?? ',')
  let out: CsvRecord[] = []
  const collect: RecordHandler = (line, fields, problem) => {
    const record: CsvRecord = { line, fields: fields.slice() }
    if (problem !== undefined) record.problem = problem
    out.push(record)
  }
  for await (const chunk of chunks) {
    scanner.push(chunk, collect)
    if (out.length > 0) {
      yield out
      out = []
    }
  }
  scanner.end(collect)
  if (out.length > 0) yield out
}

/** Options of {@link csvEventSource}. */
export interface CsvSourceOptions extends FieldOptions {
  /**
   * Field separator: one character, or several (`::`, read without quoting), or a name
   * (see {@link parseDelimiter}). Default: detected from the first line among tab, `,`, `;`, `|`
   * and `::`, falling back to `defaultDelimiter`.
   */
  delimiter?: string
  /** Separator when the first line shows none of the usual ones. Default `,`. */
  defaultDelimiter?: string
  /**
   * Whether the first row is a header. `'auto'` (default): it is, unless every field of it is a
   * number (MovieLens `u.data`). Without a header, columns are named by 1-based position and the
   * unmapped fields take the free positions in the order user, item, value, timestamp.
   */
  header?: boolean | 'auto'
  /**
   * `@internal` Bytes per read of `readInto` (the buffer grows for longer lines). Default 1 MiB;
   * tests use a few bytes to cross read boundaries everywhere.
   */
  readChunkBytes?: number
}

const DELIMITER_NAMES: Record<string, string> = {
  tab: '\t',
  '\\t': '\t',
  comma: ',',
  semicolon: ';',
  pipe: '|',
  space: ' ',
}

/**
 * Reads a delimiter as users type it: `tab` or `\t` (the two characters), `comma`, `semicolon`,
 * `pipe`, `space`, or the characters themselves (`;`, `::`).
 *
 * @throws EventSourceError `INPUT_INVALID` for an empty delimiter or one holding a quote or line break
 */
export function parseDelimiter(text: string): string {
  const delimiter = DELIMITER_NAMES[text.toLowerCase()] ?? text
  if (delimiter.length === 0 || /["\r\n]/.test(delimiter)) {
    throw new EventSourceError(
      'INPUT_INVALID',
      `A delimiter must be one or more characters other than quotes and line breaks (or tab, comma, semicolon, pipe, space), got ${JSON.stringify(text)}.`,
    )
  }
  return delimiter
}

/** Human name of a delimiter for messages. */
export function delimiterName(delimiter: string): string {
  return delimiter === '\t' ? 'tab' : delimiter === ' ' ? 'space' : JSON.stringify(delimiter)
}

const SNIFFED = ['\t', ',', ';', '|', '::'] as const

/**
 * Guesses the delimiter of a first line: the most frequent of tab, `,`, `;`, `|`, `::` (outside
 * double quotes); `undefined` when none occurs.
 */
export function sniffDelimiter(firstLine: string): string | undefined {
  const unquoted = firstLine.replace(/"(?:[^"]|"")*"/g, '')
  let best: string | undefined
  let bestCount = 0
  for (const candidate of SNIFFED) {
    const count = unquoted.split(candidate).length - 1
    // `::` also counts as two `:`-free separators; only prefer it when it is strictly more frequent.
    if (count > bestCount) {
      best = candidate
      bestCount = count
    }
  }
  return best
}

const NUMBER = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/

/** Records of a text split on a multi-character delimiter (no quoting), one call per chunk. */
async function* splitRecords(
  chunks: AsyncIterable<string>,
  delimiter: string,
  onRecord: RecordHandler,
): AsyncGenerator<void> {
  for await (const batch of lines(chunks)) {
    for (const { line, text } of batch) if (text.length > 0) onRecord(line, text.split(delimiter), undefined)
    yield
  }
}

/** Records of a CSV text, one call per chunk. */
async function* scanRecords(
  chunks: AsyncIterable<string>,
  scanner: ReturnType<typeof csvScanner>,
  onRecord: RecordHandler,
): AsyncGenerator<void> {
  for await (const chunk of chunks) {
    // Slices of at most 64 Ki characters, so a batched read yields bounded batches.
    for (let start = 0; start < chunk.length; start += SLICE) {
      scanner.push(start === 0 && chunk.length <= SLICE ? chunk : chunk.slice(start, start + SLICE), onRecord)
      yield
    }
  }
  scanner.end(onRecord)
  yield
}

const SLICE = 1 << 16

/** Re-yields `first` then the rest of `rest`. */
async function* prepend(first: string, rest: AsyncIterator<string>): AsyncGenerator<string> {
  try {
    if (first.length > 0) yield first
    for (;;) {
      const next = await rest.next()
      if (next.done) return
      yield next.value
    }
  } finally {
    await rest.return?.()
  }
}

/** Mapping of a headerless file: unmapped fields take the free positions as user, item, value, timestamp. */
function positionalMapping(columns: number, mapping: ColumnMapping = {}): ColumnMapping {
  const result: ColumnMapping = { ...mapping }
  const taken = new Set<number>()
  for (const value of Object.values(mapping)) {
    if (typeof value === 'string' && /^\d+$/.test(value.trim())) taken.add(Number(value.trim()))
  }
  let next = 1
  const free = (): string | undefined => {
    while (taken.has(next)) next++
    if (next > columns) return undefined
    taken.add(next)
    return String(next)
  }
  for (const field of ['user', 'item', 'value', 'timestamp'] as const) {
    if (result[field] !== undefined) continue
    const position = free()
    if (position !== undefined) result[field] = position
    else if (field === 'value') result.value = false
  }
  return result
}

/**
 * Reads events from a delimited text file (CSV, TSV, `.dat`, `.txt`). Rows with a wrong number of
 * fields, empty ids, non-numeric values or unreadable timestamps are bad rows (counted by reason,
 * reported with their line). What the reader detected (delimiter, header, columns) goes to
 * `report.notes`.
 *
 * @example
 * ```ts
 * const source = csvEventSource({ path: 'ratings.csv' }, { columns: { user: 'userId', item: 'movieId', value: 'rating' } })
 * const udata = csvEventSource({ path: 'u.data' }, { delimiter: 'tab', header: false }) // user item rating ts
 * ```
 */
export function csvEventSource(location: InputLocation, options: CsvSourceOptions = {}): EventSource {
  const description = `CSV ${describeLocation(location)}`
  const explicitDelimiter = options.delimiter === undefined ? undefined : parseDelimiter(options.delimiter)
  const fallback = parseDelimiter(options.defaultDelimiter ?? ',')
  const readTime = timeReader(options)

  /** The delimiter: the explicit one, or the one sniffed from the first line (noted in the report). */
  function pickDelimiter(firstLine: string, notes: string[]): string {
    if (explicitDelimiter !== undefined) return explicitDelimiter
    const delimiter = sniffDelimiter(firstLine) ?? fallback
    if (delimiter !== fallback) {
      notes.push(
        `delimiter: ${delimiterName(delimiter)} (detected from the first line; set --delimiter to override)`,
      )
    }
    return delimiter
  }

  /**
   * Handles records as text: the first one (header or not), then data rows into `sink`, bad rows
   * into the tracker. `raw` gives a record's text for a bad-row report.
   */
  function recordHandler(
    tracker: BadRowTracker,
    sep: string,
    sink: EventSink,
    raw: (fields: string[]) => string,
    onColumns: (columns: ResolvedColumns, width: number) => void,
  ): {
    onRecord: RecordHandler
    /** Whether the first record has been read. */
    readonly started: boolean
    /** The bad-row reason of a record with `count` fields when the header has another count. */
    widthReason(count: number): string
  } {
    const notes = tracker.report.notes
    let header: string[] | undefined
    let headerLine = 0
    let columns: ResolvedColumns | undefined
    let fields: string[] = []
    const cell = (c: number): string | undefined => fields[c]
    const widthReason = (count: number): string =>
      `${count} fields, the ${headerLine > 0 ? 'header' : 'first row'} has ${header?.length ?? 0} (is the delimiter ${delimiterName(sep)} right?)`
    const onRecord: RecordHandler = (line, recordFields, problem) => {
      if (header === undefined || columns === undefined) {
        const first = recordFields
        const hasHeader =
          options.header === undefined || options.header === 'auto'
            ? !first.every((f) => NUMBER.test(f))
            : options.header
        let mapping = options.columns
        if (hasHeader) {
          header = first.slice()
          headerLine = line
        } else {
          header = first.map((_, c) => String(c + 1))
          mapping = positionalMapping(header.length, options.columns)
          notes.push(
            options.header === false
              ? `no header row (--no-header): ${header.length} columns by position`
              : `no header row (every field of line ${line} is a number): ${header.length} columns by position; set --header if the first row is a header`,
          )
        }
        columns = resolveColumns(header, mapping, description)
        notes.push(`columns: ${describeColumns(header, columns, mapping)}`)
        onColumns(columns, header.length)
        if (hasHeader) return
      }
      if (problem !== undefined) {
        tracker.bad(line, problem, raw(recordFields))
        return
      }
      if (recordFields.length !== header.length) {
        tracker.bad(line, widthReason(recordFields.length), raw(recordFields))
        return
      }
      fields = recordFields
      const reason = rowToSink(cell, columns, readTime, sink)
      if (reason !== undefined) tracker.bad(line, reason, raw(recordFields))
    }
    return {
      onRecord,
      get started() {
        return header !== undefined
      },
      widthReason,
    }
  }

  /** Reads every row into `sink` as text, yielding after each chunk of input. */
  async function* rows(
    tracker: BadRowTracker,
    readOptions: ReadOptions,
    sink: EventSink,
  ): AsyncGenerator<void> {
    const text = openText(location, readOptions.signal, readOptions.onBytes)[Symbol.asyncIterator]()
    // Peek at the first line to pick the delimiter.
    let head = ''
    while (!head.includes('\n')) {
      const next = await text.next()
      if (next.done) break
      head += next.value
    }
    const sep = pickDelimiter(
      head.slice(0, head.indexOf('\n') < 0 ? head.length : head.indexOf('\n')),
      tracker.report.notes,
    )
    const scanner = sep.length === 1 ? csvScanner(sep) : undefined
    const handler = recordHandler(
      tracker,
      sep,
      sink,
      (recordFields) => (scanner ? scanner.raw() : recordFields.join(sep)),
      (columns, width) => {
        if (scanner) {
          // Only the mapped columns are cut out of the text (an unused id column costs nothing).
          const wanted = new Uint8Array(width)
          for (const c of Object.values(columns)) if (c >= 0) wanted[c] = 1
          scanner.wanted = wanted
        }
      },
    )
    const chunks = prepend(head, text)
    yield* scanner
      ? scanRecords(chunks, scanner, handler.onRecord)
      : splitRecords(chunks, sep, handler.onRecord)
    if (!handler.started) {
      throw new EventSourceError(
        'INPUT_INVALID',
        `${description} is empty: expected a header row and data rows.`,
      )
    }
  }

  /**
   * The fast path of {@link EventSource.readInto}: the raw bytes are split into lines and fields
   * in place and quote-free data rows go to {@link CsvByteRows} (no string per row); the first
   * record and records with a quote go through the text scanner and {@link recordHandler}, as
   * `read()` reads them. For ASCII delimiters.
   */
  async function readBytes(tracker: BadRowTracker, readOptions: ReadOptions, sink: EventSink): Promise<void> {
    const reader = await openByteReader(location, readOptions.onBytes)
    try {
      let buf = new Uint8Array(Math.max(4, options.readChunkBytes ?? BYTE_CHUNK))
      let len = 0
      let eof = false
      /** Reads more after `len` (the buffer doubles when full). */
      const fill = async (): Promise<void> => {
        readOptions.signal?.throwIfAborted()
        if (len === buf.length) {
          const bigger = new Uint8Array(buf.length * 2)
          bigger.set(buf)
          buf = bigger
        }
        const n = await reader.read(buf.subarray(len))
        if (n === 0) eof = true
        len += n
      }
      const lfAt = (from: number): number => buf.subarray(0, len).indexOf(LF, from)
      // The first line picks the delimiter.
      while (!eof && lfAt(0) < 0) await fill()
      let pos = 0
      // A byte-order mark (or two, as openText strips one after the decoder) is not data.
      for (let k = 0; k < 2 && buf[pos] === 0xef && buf[pos + 1] === 0xbb && buf[pos + 2] === 0xbf; k++)
        pos += 3
      // NOTE: ignoreBOM: a field that starts with U+FEFF keeps it (the file's own mark is skipped above).
      const decoder = new TextDecoder('utf-8', { ignoreBOM: true })
      const text = (s: number, e: number): string => decoder.decode(buf.subarray(s, e))
      const firstLf = lfAt(pos)
      const sep = pickDelimiter(text(pos, firstLf < 0 ? len : firstLf), tracker.report.notes)
      const quoting = sep.length === 1
      const scanner = csvScanner(quoting ? sep : ',')
      let byteRows: CsvByteRows | undefined
      const forward: EventSink = { event: (...args) => byteRows!.stringSink.event(...args) }
      let lineText = ''
      const handler = recordHandler(
        tracker,
        sep,
        forward,
        () => (lineText !== '' ? lineText : scanner.raw()),
        (columns, width) => {
          byteRows = new CsvByteRows(columns, sink, tracker, {
            timeUnit: options.timeUnit ?? 'auto',
            timeFormat: options.timeFormat !== undefined && options.timeFormat !== '',
            readTime,
            delimiter: sep,
            width,
            widthReason: (count) => handler.widthReason(count),
          })
        },
      )
      let line = 1
      /** Text of `buf[s, e)` (whole lines, or the end of the input) to the scanner. */
      const feed = (s: number, e: number): void => {
        scanner.line = line
        scanner.push(text(s, e), handler.onRecord)
        line = scanner.line
      }
      for (;;) {
        // A record with a quote is being read by the scanner: it gets every whole line at hand
        // (one push, so a long quoted record is not re-scanned line by line).
        if (scanner.pending) {
          const last = buf.subarray(0, len).lastIndexOf(LF)
          if (last >= pos) {
            feed(pos, last + 1)
            pos = last + 1
          }
        }
        while (!scanner.pending && pos < len) {
          if (byteRows !== undefined && handler.started) {
            byteRows.line = line
            pos = byteRows.lines(buf, pos, len)
            line = byteRows.line
          }
          // Here: the first record, a line with a quote, or an incomplete line.
          const lf = lfAt(pos)
          if (lf < 0) break
          const end = lf > pos && buf[lf - 1] === CR ? lf - 1 : lf
          if (quoting && buf.subarray(pos, lf).indexOf(QUOTE) >= 0) feed(pos, lf + 1)
          else {
            if (end > pos) {
              lineText = text(pos, end)
              handler.onRecord(line, lineText.split(sep), undefined)
              lineText = ''
            }
            line++
          }
          pos = lf + 1
        }
        if (eof) {
          // A last line without a line break reads as if it had one (unless the scanner has it).
          if (pos < len && buf[len - 1] !== LF && !scanner.pending) {
            if (!quoting || buf.subarray(pos, len).indexOf(QUOTE) < 0) {
              if (len === buf.length) await fill()
              buf[len++] = LF
              continue
            }
          }
          break
        }
        // Keep the unread tail, read more after it.
        if (pos > 0) {
          buf.copyWithin(0, pos, len)
          len -= pos
          pos = 0
        }
        await fill()
      }
      // The end of the input: a last line without a line break, then the scanner's partial record.
      if (pos < len) feed(pos, len)
      scanner.end(handler.onRecord)
      if (!handler.started) {
        throw new EventSourceError(
          'INPUT_INVALID',
          `${description} is empty: expected a header row and data rows.`,
        )
      }
    } finally {
      await reader.close()
    }
  }

  return {
    description,
    read(readOptions: ReadOptions = {}): EventStream {
      const tracker = new BadRowTracker(description, readOptions)
      return batchedStream(tracker, readOptions, (emit) =>
        rows(tracker, readOptions, {
          event: (userId, itemId, type, value, timestamp) => emit({ userId, itemId, type, value, timestamp }),
        }),
      )
    },
    async readInto(sink: EventSink, readOptions: ReadOptions = {}): Promise<ReadReport> {
      const tracker = new BadRowTracker(description, readOptions)
      // Bytes are split on the delimiter's bytes: ASCII ones (the sniffed ones are).
      if (isAscii(explicitDelimiter ?? fallback)) {
        await readBytes(tracker, readOptions, sink)
      } else {
        const counted: EventSink = {
          event: (userId, itemId, type, value, timestamp) => {
            tracker.ok()
            sink.event(userId, itemId, type, value, timestamp)
          },
        }
        for await (const _ of rows(tracker, readOptions, counted)) readOptions.signal?.throwIfAborted()
      }
      tracker.finish()
      return tracker.report
    },
  }
}

/** Bytes per read of {@link csvEventSource}'s byte path (the buffer grows for longer lines). */
const BYTE_CHUNK = 1 << 20

/** Whether every character of `text` is ASCII (one byte in UTF-8). */
const isAscii = (text: string): boolean => [...text].every((c) => c.charCodeAt(0) < 128)
