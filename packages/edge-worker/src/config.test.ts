import { describe, expect, it, vi } from 'vitest'
import { readConfig, readKeys } from './config.js'
import type { Env } from './env.js'

const base = {} as Env

describe('readConfig', () => {
  it('should apply defaults', () => {
    expect(readConfig(base)).toEqual({
      refreshMs: 30_000,
      catalogRefreshMs: 10_000,
      foldInMaxEvents: 200,
      fallbackList: 'popular',
      userCacheBytes: 16 * 1024 * 1024,
      allowedOrigins: ['*'],
      scoringKernel: 'auto',
      modelMemoryBytes: 96 * 1024 * 1024,
      partitionCacheBytes: 8 * 1024 * 1024,
      partitionReadGapBytes: 256 * 1024,
      rateLimitPeriodSeconds: 60,
      ingestMode: 'direct',
      archive: true,
      retentionDays: 0,
      popularMinPeople: 3,
      userTokens: 'optional',
      attributionWindowMs: 3_600_000,
      recordLists: true,
      recordFlushMs: 1000,
      serverTiming: false,
    })
  })

  it('should read SERVER_TIMING (on only when set to on)', () => {
    expect(readConfig({ ...base, SERVER_TIMING: 'on' }).serverTiming).toBe(true)
    expect(readConfig({ ...base, SERVER_TIMING: 'yes' }).serverTiming).toBe(false)
  })

  it('should read the ingestion tier vars', () => {
    const config = readConfig({
      ...base,
      INGEST_MODE: 'queue',
      EVENT_ARCHIVE: 'off',
      EVENT_RETENTION_DAYS: '90',
    })
    expect(config.ingestMode).toBe('queue')
    expect(config.archive).toBe(false)
    expect(config.retentionDays).toBe(90)
    expect(readConfig({ ...base, INGEST_MODE: 'kafka' }).ingestMode).toBe('direct')
  })

  it('should read SCORING_KERNEL and clamp MODEL_MEMORY_MIB below the 128 MB isolate limit', () => {
    expect(readConfig({ ...base, SCORING_KERNEL: 'js' }).scoringKernel).toBe('js')
    expect(readConfig({ ...base, SCORING_KERNEL: 'fast' }).scoringKernel).toBe('auto')
    expect(readConfig({ ...base, MODEL_MEMORY_MIB: '64' }).modelMemoryBytes).toBe(64 * 1024 * 1024)
    expect(readConfig({ ...base, MODEL_MEMORY_MIB: '4096' }).modelMemoryBytes).toBe(127 * 1024 * 1024)
    expect(readConfig({ ...base, MODEL_MEMORY_MIB: '1' }).modelMemoryBytes).toBe(8 * 1024 * 1024)
  })

  it('should read PARTITION_NPROBE, unset meaning the manifest default', () => {
    expect(readConfig(base).partitionNprobe).toBeUndefined()
    expect(readConfig({ ...base, PARTITION_NPROBE: '' }).partitionNprobe).toBeUndefined()
    expect(readConfig({ ...base, PARTITION_NPROBE: '16' }).partitionNprobe).toBe(16)
    expect(readConfig({ ...base, PARTITION_NPROBE: '0' }).partitionNprobe).toBe(1)
  })

  it('should read PARTITION_CACHE_MIB (1–96, default 8)', () => {
    expect(readConfig({ ...base, PARTITION_CACHE_MIB: '24' }).partitionCacheBytes).toBe(24 * 1024 * 1024)
    expect(readConfig({ ...base, PARTITION_CACHE_MIB: '500' }).partitionCacheBytes).toBe(96 * 1024 * 1024)
  })

  it('should read PARTITION_READ_GAP_KIB (0–16 384, default 256)', () => {
    expect(readConfig({ ...base, PARTITION_READ_GAP_KIB: '0' }).partitionReadGapBytes).toBe(0)
    expect(readConfig({ ...base, PARTITION_READ_GAP_KIB: '1024' }).partitionReadGapBytes).toBe(1 << 20)
    expect(readConfig({ ...base, PARTITION_READ_GAP_KIB: '99999' }).partitionReadGapBytes).toBe(16 << 20)
  })

  it('should parse, clamp and fall back on bad values', () => {
    const config = readConfig({
      ...base,
      MODEL_REFRESH_SECONDS: '5',
      CATALOG_REFRESH_SECONDS: '99999',
      FOLD_IN_MAX_EVENTS: '999999',
      FALLBACK_LIST: 'trending',
      USER_CACHE_MIB: 'lots',
      ALLOWED_ORIGINS: 'https://a.example, https://b.example',
      RATE_LIMIT_PERIOD_SECONDS: '30',
    })
    expect(config.refreshMs).toBe(5000)
    expect(config.catalogRefreshMs).toBe(3_600_000)
    expect(config.foldInMaxEvents).toBe(5000)
    expect(config.fallbackList).toBe('trending')
    expect(config.userCacheBytes).toBe(16 * 1024 * 1024)
    expect(config.allowedOrigins).toEqual(['https://a.example', 'https://b.example'])
    // The Rate Limiting binding has two periods only; anything else is the default.
    expect(config.rateLimitPeriodSeconds).toBe(60)
    expect(readConfig({ ...base, RATE_LIMIT_PERIOD_SECONDS: ' 10 ' }).rateLimitPeriodSeconds).toBe(10)
    expect(readConfig({ ...base, USER_TOKENS: 'required' }).userTokens).toBe('required')
    expect(readConfig({ ...base, USER_TOKENS: 'yes' }).userTokens).toBe('optional')
  })
})

describe('readKeys', () => {
  const keys = {
    ...base,
    SECRET_KEY: 'sk_live_new_secret_key_0123',
    PUBLISHABLE_KEY: 'pk_live_new_publishable_0123',
    USER_TOKEN_SECRET: 'new-user-token-secret-0123456789abcdef',
  }
  const silenced = () => vi.spyOn(console, 'error').mockImplementation(() => {})

  it('should give the current keys alone without a rotation window, blank previous keys included', () => {
    expect(readKeys(keys)).toEqual({
      secretKeys: [keys.SECRET_KEY],
      publishableKeys: [keys.PUBLISHABLE_KEY],
      userTokenSecrets: [keys.USER_TOKEN_SECRET],
      problems: [],
    })
    const blank = readKeys({
      ...keys,
      PREVIOUS_SECRET_KEY: '',
      PREVIOUS_PUBLISHABLE_KEY: '  ',
      PREVIOUS_USER_TOKEN_SECRET: '',
    })
    expect(blank.secretKeys).toEqual([keys.SECRET_KEY])
    expect(blank.publishableKeys).toEqual([keys.PUBLISHABLE_KEY])
    expect(blank.userTokenSecrets).toEqual([keys.USER_TOKEN_SECRET])
    expect(blank.problems).toEqual([])
    expect(readKeys(base)).toEqual({
      secretKeys: [],
      publishableKeys: [],
      userTokenSecrets: [],
      problems: [],
    })
  })

  it('should add each valid previous key after its current one', () => {
    const window = readKeys({
      ...keys,
      PREVIOUS_SECRET_KEY: 'sk_live_old_secret_key_0123',
      PREVIOUS_PUBLISHABLE_KEY: 'pk_live_old_publishable_0123',
      PREVIOUS_USER_TOKEN_SECRET: 'old-user-token-secret-0123456789abcdef',
    })
    expect(window).toEqual({
      secretKeys: [keys.SECRET_KEY, 'sk_live_old_secret_key_0123'],
      publishableKeys: [keys.PUBLISHABLE_KEY, 'pk_live_old_publishable_0123'],
      userTokenSecrets: [keys.USER_TOKEN_SECRET, 'old-user-token-secret-0123456789abcdef'],
      problems: [],
    })
  })

  it('should ignore, report and log a previous key that is short, equal to the current one or without one', () => {
    const errors = silenced()
    const bad = readKeys({
      ...keys,
      PREVIOUS_SECRET_KEY: keys.SECRET_KEY,
      PREVIOUS_PUBLISHABLE_KEY: 'pk_short',
      PREVIOUS_USER_TOKEN_SECRET: 'only-31-bytes-0123456789abcdefg',
    })
    expect(bad.secretKeys).toEqual([keys.SECRET_KEY])
    expect(bad.publishableKeys).toEqual([keys.PUBLISHABLE_KEY])
    expect(bad.userTokenSecrets).toEqual([keys.USER_TOKEN_SECRET])
    expect(bad.problems.map((p) => p.variable)).toEqual([
      'PREVIOUS_SECRET_KEY',
      'PREVIOUS_PUBLISHABLE_KEY',
      'PREVIOUS_USER_TOKEN_SECRET',
    ])
    expect(bad.problems[0]!.message).toMatch(/^PREVIOUS_SECRET_KEY equals SECRET_KEY, so it is ignored/)
    expect(bad.problems[1]!.message).toMatch(/^PREVIOUS_PUBLISHABLE_KEY is shorter than 16 characters/)
    expect(bad.problems[2]!.message).toMatch(/^PREVIOUS_USER_TOKEN_SECRET is shorter than 32 bytes/)
    const orphan = readKeys({ ...base, PREVIOUS_SECRET_KEY: 'sk_live_old_secret_key_0123' })
    expect(orphan.secretKeys).toEqual([])
    expect(orphan.problems[0]!.message).toMatch(/^PREVIOUS_SECRET_KEY is set but SECRET_KEY is not/)
    // Logged once per isolate, however many requests read the keys.
    readKeys({ ...keys, PREVIOUS_SECRET_KEY: keys.SECRET_KEY })
    const logged = errors.mock.calls.map(([line]) => String(line))
    expect(logged.filter((line) => line.includes('PREVIOUS_SECRET_KEY equals SECRET_KEY'))).toHaveLength(1)
    errors.mockRestore()
  })

  it('should never give a key of one kind the rights of the other', () => {
    const errors = silenced()
    const swapped = readKeys({
      ...keys,
      PREVIOUS_SECRET_KEY: keys.PUBLISHABLE_KEY,
      PREVIOUS_PUBLISHABLE_KEY: keys.SECRET_KEY,
    })
    expect(swapped.secretKeys).toEqual([keys.SECRET_KEY])
    expect(swapped.publishableKeys).toEqual([keys.PUBLISHABLE_KEY])
    expect(swapped.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^PREVIOUS_SECRET_KEY equals PUBLISHABLE_KEY, so it is ignored/),
      expect.stringMatching(/^PREVIOUS_PUBLISHABLE_KEY equals SECRET_KEY, so it is ignored/),
    ])
    const shared = readKeys({
      ...keys,
      PREVIOUS_SECRET_KEY: 'same_old_value_for_both_keys',
      PREVIOUS_PUBLISHABLE_KEY: 'same_old_value_for_both_keys',
    })
    expect(shared.secretKeys).toEqual([keys.SECRET_KEY])
    expect(shared.publishableKeys).toEqual([keys.PUBLISHABLE_KEY])
    errors.mockRestore()
  })
})
