import { describe, expect, it } from 'vitest'
import { applyOverrides, type ModelCommand, parseColumns, parseCommandLine } from './args.js'

const model = (argv: string[]): ModelCommand => {
  const parsed = parseCommandLine(argv)
  if (parsed.command !== 'train' && parsed.command !== 'evaluate') throw new Error(`got ${parsed.command}`)
  return parsed
}

describe('parseCommandLine', () => {
  it('should default to train with nothing to override', () => {
    const parsed = model([])
    expect(parsed.command).toBe('train')
    expect(parsed.overrides).toEqual({ weighting: {}, badRows: {}, als: {}, evaluation: {} })
    expect(applyOverrides({}, parsed.overrides)).toEqual({})
  })

  it('should map input, column and ALS flags to a config', () => {
    const parsed = model([
      'train',
      ...['--input', 'ratings.csv', '--columns', 'user=userId,item=movieId,value=rating', '--time-col', 'ts'],
      ...[
        '--factors',
        '32',
        '--regularization',
        '0.1',
        '--alpha',
        '40',
        '--iterations',
        '5',
        '--cg-steps',
        '2',
      ],
      ...[
        '--solver',
        'cholesky',
        '--threads',
        '2',
        '--seed',
        '7',
        '--binary',
        '--no-eval',
        '--max-bad-rows',
        '3',
      ],
      ...['--output', 'out', '--publish', '--json'],
    ])
    expect(parsed.overrides.events).toEqual({
      kind: 'file',
      path: 'ratings.csv',
      columns: { user: 'userId', item: 'movieId', value: 'rating', timestamp: 'ts' },
    })
    expect(parsed.overrides.als).toEqual({
      factors: 32,
      regularization: 0.1,
      alpha: 40,
      iterations: 5,
      cgSteps: 2,
      solver: 'cholesky',
      threads: 2,
      seed: 7,
    })
    expect(parsed).toMatchObject({ outputDir: 'out', publish: true, json: true })
    const config = applyOverrides(
      { als: { factors: 8, iterations: 2 }, weighting: { halfLifeDays: 30 } },
      parsed.overrides,
    )
    expect(config.als).toMatchObject({ factors: 32, iterations: 5 })
    expect(config.weighting).toEqual({ halfLifeDays: 30, binary: true })
    expect(config.evaluation).toEqual({ enabled: false })
    expect(config.badRows).toEqual({ maxBadRows: 3 })
  })

  it('should apply column flags to a file source from the config, and refuse them for SQL sources', () => {
    const parsed = model(['evaluate', '--item-col', 'sku'])
    const config = applyOverrides(
      { events: { kind: 'csv', path: 'e.csv', columns: { user: 'customer' } } },
      parsed.overrides,
    )
    expect(config.events).toEqual({ kind: 'csv', path: 'e.csv', columns: { user: 'customer', item: 'sku' } })
    expect(() => applyOverrides({ events: { kind: 'sqlite', path: 'd1.sqlite' } }, parsed.overrides)).toThrow(
      /file inputs only/,
    )
    expect(() => applyOverrides({}, parsed.overrides)).toThrow(/need --input/)
  })

  it('should parse generate options', () => {
    expect(
      parseCommandLine(['generate', '--users', '100', '--items', '50', '--out', 'd', '--format', 'csv']),
    ).toMatchObject({
      command: 'generate',
      users: 100,
      items: 50,
      out: 'd',
      format: 'csv',
    })
  })

  it.each([
    [['train', '--factors=-1'], /--factors must be an integer/],
    [['train', '--test-fraction', '1.5'], /--test-fraction must be a number in \[0, 1\]/],
    [['train', '--solver', 'lu'], /--solver must be one of cg, cholesky/],
    [['train', '--input', 'a.csv', '--sqlite', 'b.db'], /either --input or --sqlite/],
    [['generate', '--factors', '3'], /--factors is not a generate option/],
    [['train', '--users', '3'], /--users is a generate option/],
    [['train', 'extra'], /Unexpected argument "extra"/],
    [['evaluate', '--output', 'x'], /--output is a train option/],
  ])('should reject %j with a USAGE error', (argv, message) => {
    expect(() => parseCommandLine(argv)).toThrow(
      expect.objectContaining({ code: 'USAGE', message: expect.stringMatching(message) }),
    )
  })
})

describe('parseColumns', () => {
  it('should accept field=column pairs and the time alias', () => {
    expect(parseColumns('user=u, item=i,time=t,type=kind')).toEqual({
      user: 'u',
      item: 'i',
      timestamp: 't',
      type: 'kind',
    })
    expect(() => parseColumns('who=u')).toThrow(/field=column/)
    expect(() => parseColumns('user=')).toThrow(/field=column/)
  })
})

describe('parseCommandLine input flags', () => {
  it('should map --format tsv, --delimiter, --no-header, --time-format and --transform', () => {
    const parsed = model([
      'evaluate',
      ...['--input', 'u.data', '--format', 'tsv', '--delimiter', 'tab', '--no-header'],
      ...['--time-format', '%d-%m-%Y', '--transform', 'clip:5', '--value-col', 'none'],
    ])
    expect(parsed.overrides.events).toEqual({
      kind: 'tsv',
      path: 'u.data',
      delimiter: '\t',
      header: false,
      timeFormat: '%d-%m-%Y',
      columns: { value: false },
    })
    expect(parsed.overrides.weighting).toEqual({ transform: 'clip:5' })
  })

  it('should apply delimiter, header and time format to the config file source without --input', () => {
    const parsed = model(['train', '--delimiter', '::', '--header', '--time-format', '%Y%m%d'])
    const merged = applyOverrides({ events: { kind: 'file', path: 'ratings.dat' } }, parsed.overrides)
    expect(merged.events).toEqual({
      kind: 'file',
      path: 'ratings.dat',
      delimiter: '::',
      header: true,
      timeFormat: '%Y%m%d',
    })
    expect(() => applyOverrides({}, parsed.overrides)).toThrow(/need --input/)
  })

  it('should refuse bad input flag values with USAGE', () => {
    for (const argv of [
      ['train', '--transform', 'sqrt'],
      ['train', '--transform', 'clip:-1'],
      ['train', '--binary', '--transform', 'log1p'],
      ['train', '--delimiter', '"'],
      ['train', '--header', '--no-header'],
      ['train', '--time-format', 'dd-mm-yyyy'],
      ['train', '--sqlite', 'db.sqlite', '--delimiter', 'tab'],
    ]) {
      expect(() => parseCommandLine(argv), argv.join(' ')).toThrow(expect.objectContaining({ code: 'USAGE' }))
    }
  })
})
