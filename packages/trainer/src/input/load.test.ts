import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createEventSource } from '@edgerec/adapters'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadInteractions } from './load.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgerec-load-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const good = (n: number, user = 'u1', item = `i${n}`, type = 'view'): string =>
  JSON.stringify({ id: `e${n}`, userId: user, itemId: item, type, timestamp: 1_700_000_000_000 + n })

describe('loadInteractions', () => {
  it('should count bad rows, report them with their line numbers and keep every good row', async () => {
    const path = join(dir, 'mixed.ndjson')
    const lines = [
      good(1),
      '{"id":"e2","userId":"u1","itemId":', // line 2: truncated JSON
      good(3, 'u2', 'i1', 'purchase'),
      JSON.stringify({ id: 'e4', userId: 'u2', type: 'view', timestamp: 1 }), // line 4: no itemId
      good(5, 'u2', 'i3'),
    ]
    await writeFile(path, `${lines.join('\n')}\n`)
    const loaded = await loadInteractions(await createEventSource({ kind: 'ndjson', path }))
    expect(loaded.report.rows).toBe(5)
    expect(loaded.report.events).toBe(3)
    expect(loaded.report.badRows).toBe(2)
    expect(loaded.report.samples.map((s) => s.line)).toEqual([2, 4])
    for (const sample of loaded.report.samples) expect(sample.reason.length).toBeGreaterThan(0)
    expect(loaded.stats.events).toBe(3)
    expect(loaded.data.userIds).toEqual(['u1', 'u2'])
    expect(loaded.data.itemIds).toEqual(['i1', 'i3'])
    // u2 bought i1 (weight 8) and viewed i3 (1); u1 viewed i1 (1).
    expect(Array.from(loaded.data.matrix.values)).toEqual([1, 8, 1])
  })

  it('should fail with TOO_MANY_BAD_ROWS when the threshold is exceeded, naming the lines', async () => {
    const path = join(dir, 'bad.ndjson')
    await writeFile(path, [good(1), 'not json', 'also not json', good(4)].join('\n'))
    const source = await createEventSource({ kind: 'ndjson', path })
    await expect(loadInteractions(source, { maxBadRows: 1 })).rejects.toMatchObject({
      code: 'TOO_MANY_BAD_ROWS',
      message: expect.stringMatching(/line 2.*line 3/),
    })
    await expect(loadInteractions(source, { maxBadFraction: 0.25 })).rejects.toMatchObject({
      code: 'TOO_MANY_BAD_ROWS',
    })
    const loaded = await loadInteractions(source, { maxBadFraction: 0.5 })
    expect(loaded.report.badRows).toBe(2)
  })

  it('should read mapped CSV columns and weigh values', async () => {
    const path = join(dir, 'ratings.csv')
    await writeFile(
      path,
      'userId,movieId,rating,timestamp\r\n1,10,4.5,964982703\r\n1,20,oops,964982224\r\n2,10,3,964983815\r\n',
    )
    const loaded = await loadInteractions(
      await createEventSource({
        kind: 'csv',
        path,
        columns: { user: 'userId', item: 'movieId', value: 'rating', timestamp: 'timestamp' },
      }),
    )
    expect(loaded.report.badRows).toBe(1)
    expect(loaded.report.samples[0]?.line).toBe(3)
    expect(Array.from(loaded.data.matrix.values)).toEqual([4.5, 3])
    expect(Array.from(loaded.data.matrix.timestamps)).toEqual([964982703000, 964983815000])
  })

  it('should refuse input with nothing to train on', async () => {
    const path = join(dir, 'empty.ndjson')
    await writeFile(path, 'garbage\n')
    await expect(loadInteractions(await createEventSource({ kind: 'ndjson', path }))).rejects.toMatchObject({
      code: 'NO_INTERACTIONS',
    })
  })
})
