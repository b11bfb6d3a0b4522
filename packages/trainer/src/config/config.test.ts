import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defineConfig, loadConfig, storageFromEnv, validateConfig } from './config.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgerec-config-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('loadConfig', () => {
  it('should return the embedded default when there is no config file', async () => {
    expect(await loadConfig(undefined, dir)).toEqual({ config: {} })
  })

  it('should load edgerec.config.ts from the working directory', async () => {
    await writeFile(
      join(dir, 'edgerec.config.ts'),
      'type W = { factors: number }\nconst als: W = { factors: 12 }\nexport default { als }\n',
    )
    const { config, path } = await loadConfig(undefined, dir)
    expect(config).toEqual({ als: { factors: 12 } })
    expect(path).toBe(join(dir, 'edgerec.config.ts'))
  })

  it('should fail with CONFIG_INVALID for a missing file, a broken file or an unknown key', async () => {
    await expect(loadConfig('missing.config.ts', dir)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('does not exist'),
    })
    await writeFile(join(dir, 'broken.config.mjs'), 'export default {\n')
    await expect(loadConfig('broken.config.mjs', dir)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('failed to load'),
    })
    await writeFile(join(dir, 'typo.config.mjs'), 'export default { storrage: {} }\n')
    await expect(loadConfig('typo.config.mjs', dir)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('unknown key "storrage"'),
    })
  })
})

describe('validateConfig', () => {
  it('should accept what defineConfig types and reject bad values naming the field', () => {
    const config = defineConfig({ events: { kind: 'file', path: 'e.csv' }, evaluation: { k: 20 } })
    expect(validateConfig(config)).toBe(config)
    expect(() => validateConfig({ events: { kind: 'kafka' } })).toThrow(/events.kind must be one of/)
    expect(() => validateConfig({ evaluation: { testFraction: -1 } })).toThrow(
      /evaluation.testFraction must be a positive number/,
    )
    expect(() => validateConfig([])).toThrow(/must export an object/)
  })
})

describe('storageFromEnv', () => {
  it('should read EDGEREC_OUTPUT as a JSON storage config', () => {
    expect(storageFromEnv({})).toBeUndefined()
    expect(storageFromEnv({ EDGEREC_OUTPUT: '{"provider":"s3","bucket":"models"}' })).toEqual({
      provider: 's3',
      bucket: 'models',
    })
    expect(() => storageFromEnv({ EDGEREC_OUTPUT: 's3://models' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    )
  })
})

describe('validateConfig export.partitions', () => {
  it('should accept partition settings and reject unknown keys and bad values', () => {
    const ok = { export: { partitions: { minItems: 100_000, lists: 300, nprobe: 16, targetRecall: 0.95 } } }
    expect(validateConfig(ok)).toBe(ok)
    expect(() => validateConfig({ export: { partitions: { list: 3 } } })).toThrow(/unknown key "list"/)
    expect(() => validateConfig({ export: { partitions: { nprobe: 0 } } })).toThrow(/nprobe/)
    expect(() => validateConfig({ export: { partitions: { targetRecall: 2 } } })).toThrow(/targetRecall/)
  })

  it('should accept spill as a number in [0, 10] and reject anything else', () => {
    for (const spill of [0, 0.2, 1.5]) {
      const config = { export: { partitions: { spill } } }
      expect(validateConfig(config)).toBe(config)
    }
    for (const spill of [-0.1, 11, '0.2'])
      expect(() => validateConfig({ export: { partitions: { spill } } })).toThrow(
        /spill must be a number in \[0, 10\]/,
      )
  })
})

describe('validateConfig export.candidates', () => {
  it('should accept an integer in 0..1000 and reject anything else naming the field', () => {
    for (const candidates of [0, 50, 1000]) {
      const config = { export: { candidates } }
      expect(validateConfig(config)).toBe(config)
    }
    for (const candidates of [-1, 2.5, 1001, '50', null])
      expect(() => validateConfig({ export: { candidates } })).toThrow(
        expect.objectContaining({
          code: 'CONFIG_INVALID',
          message: expect.stringContaining('export.candidates must be an integer in 0..1000'),
        }),
      )
  })
})
