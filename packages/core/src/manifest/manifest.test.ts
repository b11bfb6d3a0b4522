import { describe, expect, it } from 'vitest'
import { isEdgerecError } from '../errors.js'
import {
  itemShardKey,
  LIVE_POINTER_KEY,
  manifestKey,
  newVersionId,
  partitionListsKey,
  singleShardKey,
  userShardKey,
  versionPrefix,
} from './keys.js'
import {
  type ModelManifest,
  manifestShards,
  parseManifest,
  VERSION_PATTERN,
  validateManifest,
} from './manifest.js'

const SHA = 'a'.repeat(64)
const VERSION = '20261124T120000Z-0badf00d'

function ref(
  kind: ModelManifest['shards']['items'][number]['kind'],
  key: string,
  rows: number,
  rowOffset = 0,
) {
  return { key, kind, bytes: 1000, sha256: SHA, rows, rowOffset, storage: 'kv' as const }
}

function manifest(): ModelManifest {
  return {
    formatVersion: 1,
    version: VERSION,
    createdAt: '2026-11-24T12:00:00.000Z',
    dims: 64,
    counts: { users: 610, items: 9724, interactions: 100836 },
    als: { factors: 64, regularization: 0.05, alpha: 1, iterations: 15, cgSteps: 3, solver: 'cg', seed: 1 },
    eventWeights: { view: 1, purchase: 8, dislike: -2 },
    trainedUntil: Date.UTC(2026, 10, 24),
    userBuckets: 2,
    shards: {
      items: [
        ref('items', itemShardKey(VERSION, 0), 5000),
        ref('items', itemShardKey(VERSION, 1), 4724, 5000),
      ],
      users: [ref('users', userShardKey(VERSION, 0), 300), ref('users', userShardKey(VERSION, 1), 310)],
      popularity: ref('popularity', singleShardKey(VERSION, 'popularity'), 9724),
      gram: ref('gram', singleShardKey(VERSION, 'gram'), 64),
    },
  }
}

describe('storage keys', () => {
  it('should lay out a version as docs/architecture.md says', () => {
    expect(LIVE_POINTER_KEY).toBe('models/live')
    expect(versionPrefix('v1')).toBe('models/v1/')
    expect(manifestKey('v1')).toBe('models/v1/manifest.json')
    expect(itemShardKey('v1', 7)).toBe('models/v1/items-007.shard')
    expect(userShardKey('v1', 12)).toBe('models/v1/users-0012.shard')
    expect(singleShardKey('v1', 'trending')).toBe('models/v1/trending.shard')
  })

  it('should make version ids that sort by time and match the version pattern', () => {
    const a = newVersionId(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)), () => 0.5)
    expect(a).toBe('20260102T030405Z-7fffffff')
    const b = newVersionId(new Date(Date.UTC(2026, 0, 2, 3, 4, 6)), () => 0)
    expect(a < b).toBe(true)
    expect(VERSION_PATTERN.test(a) && VERSION_PATTERN.test(newVersionId())).toBe(true)
  })
})

describe('validateManifest', () => {
  it('should accept a complete manifest and list its shards in publish order', () => {
    const m = manifest()
    expect(validateManifest(JSON.parse(JSON.stringify(m)))).toEqual({ ok: true, manifest: m })
    expect(manifestShards(m).map((r) => r.key.split('/').pop())).toEqual([
      'items-000.shard',
      'items-001.shard',
      'users-0000.shard',
      'users-0001.shard',
      'popularity.shard',
      'gram.shard',
    ])
  })

  it('should report each problem', () => {
    const cases: [string, (m: ModelManifest) => void, RegExp][] = [
      ['format', (m) => Object.assign(m, { formatVersion: 2 }), /formatVersion/],
      ['version', (m) => Object.assign(m, { version: '../etc' }), /version must match/],
      ['createdAt', (m) => Object.assign(m, { createdAt: 'yesterday' }), /createdAt/],
      ['dims', (m) => Object.assign(m, { dims: 0 }), /dims/],
      ['weights', (m) => Object.assign(m, { eventWeights: { view: 'x' } }), /eventWeights\.view/],
      ['gap', (m) => Object.assign(m.shards.items[1]!, { rowOffset: 5001 }), /tile/],
      ['count', (m) => Object.assign(m.counts, { items: 9725 }), /counts\.items/],
      ['buckets', (m) => m.shards.users.pop(), /one shard per bucket/],
      ['sha', (m) => Object.assign(m.shards.gram, { sha256: 'xyz' }), /shards\.gram\.sha256/],
      ['kind', (m) => Object.assign(m.shards.popularity, { kind: 'items' }), /shards\.popularity\.kind/],
      ['storage', (m) => Object.assign(m.shards.items[0]!, { storage: 'd1' }), /storage/],
    ]
    for (const [name, breakIt, pattern] of cases) {
      const m = manifest()
      breakIt(m)
      const r = validateManifest(m)
      expect(r.ok, name).toBe(false)
      if (!r.ok) expect(r.errors.join(' '), name).toMatch(pattern)
    }
    expect(validateManifest(null)).toEqual({ ok: false, errors: ['Manifest must be a JSON object.'] })
  })

  it('should throw MANIFEST_INVALID from parseManifest', () => {
    expect(parseManifest(manifest()).version).toBe(VERSION)
    let caught: unknown
    try {
      parseManifest({ ...manifest(), dims: -1 })
    } catch (e) {
      caught = e
    }
    expect(isEdgerecError(caught) && caught.code).toBe('MANIFEST_INVALID')
  })
})

describe('validateManifest partitions', () => {
  const partitioned = (): ModelManifest => {
    const m = manifest()
    m.shards.partitions = ref('partitions', singleShardKey(VERSION, 'partitions'), 99)
    m.shards.partitionLists = ref('partitionList', partitionListsKey(VERSION), 99)
    m.partitions = { lists: 99, nprobe: 8, recall: { k: 10, value: 0.97, users: 200 } }
    return m
  }

  it('should accept a partitioned version and list the partitions shard for checksum verification', () => {
    const m = partitioned()
    expect(validateManifest(JSON.parse(JSON.stringify(m))).ok).toBe(true)
    expect(manifestShards(m).map((r) => r.key)).toContain('models/20261124T120000Z-0badf00d/partitions.shard')
    expect(manifestShards(m).map((r) => r.key)).toContain(
      'models/20261124T120000Z-0badf00d/partition-lists.shards',
    )
  })

  it('should reject partitions without their shard, a bad nprobe or recall, and mismatched lists', () => {
    const noShard = partitioned()
    delete noShard.shards.partitions
    expect(validateManifest(noShard)).toMatchObject({ ok: false })
    const badProbe = partitioned()
    badProbe.partitions!.nprobe = 100
    expect(JSON.stringify(validateManifest(badProbe))).toMatch(/nprobe/)
    const badRecall = partitioned()
    badRecall.partitions!.recall.value = 1.5
    expect(JSON.stringify(validateManifest(badRecall))).toMatch(/recall/)
    const badRows = partitioned()
    badRows.shards.partitions!.rows = 98
    expect(JSON.stringify(validateManifest(badRows))).toMatch(/rows must equal/)
    const noLists = partitioned()
    delete noLists.shards.partitionLists
    expect(JSON.stringify(validateManifest(noLists))).toMatch(/partitionLists must be both present/)
    const badListRows = partitioned()
    badListRows.shards.partitionLists!.rows = 98
    expect(JSON.stringify(validateManifest(badListRows))).toMatch(/partitionLists.rows must equal/)
  })

  it('should accept probed candidates with their recall and exact ones without, and reject the rest', () => {
    const probed = partitioned()
    probed.candidates = { perUser: 50, nprobe: 32, recall: { k: 10, value: 0.99, users: 200 } }
    expect(validateManifest(JSON.parse(JSON.stringify(probed))).ok).toBe(true)
    const exact = manifest()
    exact.candidates = { perUser: 20, nprobe: null, recall: null }
    expect(validateManifest(JSON.parse(JSON.stringify(exact))).ok).toBe(true)
    const cases: [ModelManifest['candidates'], RegExp][] = [
      [{ perUser: 0, nprobe: null, recall: null }, /candidates.perUser must be a positive integer/],
      [{ perUser: 50, nprobe: 100, recall: { k: 10, value: 1, users: 5 } }, /candidates.nprobe must be null/],
      [{ perUser: 50, nprobe: 8, recall: null }, /candidates.recall must hold k/],
      [{ perUser: 50, nprobe: 8, recall: { k: 10, value: 1.5, users: 5 } }, /candidates.recall must hold k/],
      [
        { perUser: 50, nprobe: null, recall: { k: 10, value: 1, users: 5 } },
        /candidates.recall must be null/,
      ],
    ]
    for (const [candidates, message] of cases) {
      const m = partitioned()
      m.candidates = candidates
      expect(JSON.stringify(validateManifest(m))).toMatch(message)
    }
    // A probed nprobe needs partitions to probe.
    const unpartitioned = manifest()
    unpartitioned.candidates = { perUser: 50, nprobe: 8, recall: { k: 10, value: 1, users: 5 } }
    expect(JSON.stringify(validateManifest(unpartitioned))).toMatch(/candidates.nprobe must be null/)
  })
})
