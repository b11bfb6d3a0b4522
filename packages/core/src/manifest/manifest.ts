import type { CatalogLayout } from '../catalog/table.js'
import { toValueTransform, type ValueTransform } from '../confidence/value-transform.js'
import { CoreError } from '../errors.js'
import type { ShardKindName } from '../shard/format.js'

/** Version of the manifest JSON layout. */
export const MANIFEST_FORMAT_VERSION = 1

/** Where a shard is stored for the edge worker. */
export type ShardStorage = 'kv' | 'r2'

/** A reference from the manifest to one shard object. */
export interface ShardRef {
  /** Storage key, e.g. `models/<version>/items-000.shard`. */
  key: string
  kind: ShardKindName
  /** Exact byte size of the object. */
  bytes: number
  /** Hex SHA-256 of the shard without its trailer (equal to the trailer). */
  sha256: string
  /** Rows in the shard. */
  rows: number
  /** Global index of the first row (item shards). */
  rowOffset: number
  /** Where the worker reads it from. */
  storage: ShardStorage
}

/** Ranking metrics at K (definitions in shared/REFERENCE.md and docs/evaluation.md). */
export interface MetricSet {
  precision: number
  recall: number
  map: number
  ndcg: number
  auc: number
  coverage: number
}

/** Offline evaluation recorded with a model. */
export interface ModelEvaluation {
  k: number
  split: string
  testFraction?: number
  users: number
  models: Record<string, MetricSet>
}

/**
 * The quality gate's verdict on a version (set by the trainer). A version whose gate failed is
 * never published unless forced; the publisher checks `passed`.
 */
export interface ModelGate {
  /** True when the version may go live. */
  passed: boolean
  /** True when the gate failed and the version was accepted anyway (`--force`). */
  forced?: boolean
  /** The metric compared, e.g. `ndcg`, at `k`. */
  metric: string
  k: number
  /** The candidate's `metric` (int8, as served) on the held-out test split. */
  candidate: number
  /** Popularity's `metric` on the same split. */
  popularity: number
  /** Required relative lift over popularity: candidate ≥ popularity · (1 + lift). */
  minLiftOverPopularity: number
  /** The comparison with the version that was live, when one was. */
  live?: ModelGateLive
  /** Why the gate failed (empty when it passed). */
  reasons: string[]
}

/** Candidate vs live version, both served by fold-in on the same test interactions. */
export interface ModelGateLive {
  version: string
  /** The candidate's `metric` on the compared users. */
  candidate: number
  /** The live version's `metric` on the same users. */
  live: number
  users: number
  /** `unseen`: only test pairs the live version never trained on; `all`: the whole test split. */
  testInteractions: 'unseen' | 'all'
  /** Allowed relative drop: candidate ≥ live · (1 − drop), unless the shortfall is within noise. */
  maxDropVsLive: number
  /**
   * Standard error of the mean per-user difference candidate − live · (1 − drop): the gate fails
   * only when that mean is below −1.96 standard errors (one-sided, 97.5 %).
   */
  standardError: number
}

/**
 * Partitioned retrieval of a large version (`shards.partitions` holds the quantizer and lists).
 * Absent below the trainer's `export.partitions.minItems`: the worker then scans every item.
 */
export interface ManifestPartitions {
  /** Number of partitions. */
  lists: number
  /** Partitions probed per query by default (the worker's `PARTITION_NPROBE` overrides it). */
  nprobe: number
  /** Recall@k of the probed top-k against the exact scan at `nprobe`, measured by the trainer. */
  recall: { k: number; value: number; users: number }
}

/**
 * Precomputed candidates of trained users (issue 16): the user buckets hold each trained user's
 * best items by x_u (training interactions left out) with the scan's scores, so the worker serves
 * a user without events since training without scanning. Absent: no bucket holds candidates.
 */
export interface ManifestCandidates {
  /** Candidates stored per trained user (fewer only when fewer items are left once training items are out). */
  perUser: number
  /** Partitions probed to find them (a partitioned version), or null: the exact scan of every item. */
  nprobe: number | null
  /**
   * Recall@k of the probed top-k at `nprobe` against the exact scan, measured by the trainer on the
   * users that chose `partitions.nprobe`; null for the exact scan.
   */
  recall: { k: number; value: number; users: number } | null
}

/**
 * The catalog exported with a version, split in `shards.catalog` (absent in versions exported
 * before catalogs were split; the worker then estimates its memory from the shard sizes).
 */
export interface ManifestCatalog {
  /** Catalog rows in all (the sum of the catalog shards' rows). */
  rows: number
  /** Category labels of the rows of the model's items (the worker allocates its codes once). */
  categoryCodes: number
  /** Tag labels of the rows of the model's items. */
  tagCodes: number
  /**
   * Bytes the worker's table holds (core's `alignedCatalogByteLength` of the model's items, what
   * `CatalogTable.byteLength` reports once loaded), planned before it loads.
   */
  memoryBytes: number
  /**
   * How the worker stores the catalog rows of the model's items (core's `catalogLayoutOf`: label
   * counts, labels per item, distinct prices and arrival times), so its table is compact and its
   * bytes known before it loads. Absent in versions exported before it: the wide layout.
   */
  layout?: CatalogLayout
}

/** The counts a {@link CatalogLayout} holds (every one is checked by {@link parseManifest}). */
const LAYOUT_COUNTS = [
  'categoryLabels',
  'maxCategories',
  'tagLabels',
  'maxTags',
  'prices',
  'createdAts',
] as const satisfies readonly (keyof CatalogLayout)[]

/** Hyperparameters of the ALS run that produced the model. */
export interface AlsHyperparameters {
  factors: number
  regularization: number
  alpha: number
  iterations: number
  cgSteps: number
  solver: 'cg' | 'cholesky'
  seed: number
}

/**
 * The manifest of one immutable model version (`models/<version>/manifest.json`).
 *
 * @see ../../../../docs/architecture.md
 */
export interface ModelManifest {
  formatVersion: typeof MANIFEST_FORMAT_VERSION
  version: string
  /** ISO-8601. */
  createdAt: string
  dims: number
  counts: { users: number; items: number; interactions: number }
  als: AlsHyperparameters
  /** Event type → confidence weight used in training; the worker's fold-in uses the same. */
  eventWeights: Record<string, number>
  /**
   * Value transform of each pair's summed weight before α (`log1p`, `binary`, `clip:<max>`; absent:
   * none). The worker's fold-in applies it to new events, as training did.
   */
  valueTransform?: ValueTransform
  /** Half-life of time decay in days, when training used one. */
  halfLifeDays?: number
  /**
   * Training cut-off, epoch ms: the newest receive time (worker clock) of the training data, or for
   * inputs without one the newest client timestamp clamped to the run's clock. D1 events received
   * after it are "new" to the model (fold-in).
   */
  trainedUntil: number
  /** Number of user buckets; a user is in `stableHash32(id) % userBuckets`. */
  userBuckets: number
  evaluation?: ModelEvaluation
  /** Hyperparameter search, when the model was tuned. */
  tuning?: unknown
  /** The quality gate's verdict (absent in versions trained without evaluation or before the gate existed). */
  gate?: ModelGate
  /** Partitioned retrieval (present exactly when `shards.partitions` is). */
  partitions?: ManifestPartitions
  /** Precomputed candidates in the user buckets (absent: none). */
  candidates?: ManifestCandidates
  /** The split catalog's rows and planned memory (present when `shards.catalog` is a list). */
  catalog?: ManifestCatalog
  shards: {
    items: ShardRef[]
    users: ShardRef[]
    popularity: ShardRef
    trending?: ShardRef
    gram: ShardRef
    /**
     * The item catalog at training time (optional; absent in versions trained without one): a list
     * of catalog shards (`catalog-NNN.shard`, consecutive rows, each ≤ the shard limit), or in
     * versions exported before catalogs were split, one shard (`catalog.shard`). Read it with
     * {@link catalogShardRefs}.
     */
    catalog?: ShardRef | ShardRef[]
    /** The coarse quantizer and inverted lists (kind `partitions`), for large versions. */
    partitions?: ShardRef
    /**
     * The inverted lists' item rows, contiguous per partition (one `partitionList` shard per
     * partition, concatenated; `rows` = partitions), read one list at a time with ranged reads.
     * Present exactly when `partitions` is.
     */
    partitionLists?: ShardRef
  }
}

/** The value of the `models/live` KV key. */
export interface LivePointer {
  version: string
  /** ISO-8601. */
  activatedAt: string
  /** The version that was live before, for rollback. */
  previous?: string
}

/** Pattern of a model version id. */
export const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

/** Result of {@link validateManifest}. */
export type ManifestValidationResult = { ok: true; manifest: ModelManifest } | { ok: false; errors: string[] }

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
const isCount = (v: unknown): v is number => isNum(v) && Number.isInteger(v) && v >= 0

function checkRef(ref: unknown, path: string, kind: ShardKindName, errors: string[]): void {
  if (!ref || typeof ref !== 'object') {
    errors.push(`${path} is missing.`)
    return
  }
  const r = ref as Partial<ShardRef>
  if (typeof r.key !== 'string' || r.key.length === 0 || r.key.length > 512)
    errors.push(`${path}.key must be a key of ≤ 512 chars.`)
  if (r.kind !== kind) errors.push(`${path}.kind must be "${kind}".`)
  if (!isCount(r.bytes) || r.bytes === 0) errors.push(`${path}.bytes must be a positive integer.`)
  if (typeof r.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(r.sha256))
    errors.push(`${path}.sha256 must be 64 hex chars.`)
  if (!isCount(r.rows)) errors.push(`${path}.rows must be a count.`)
  if (!isCount(r.rowOffset)) errors.push(`${path}.rowOffset must be a count.`)
  if (r.storage !== 'kv' && r.storage !== 'r2') errors.push(`${path}.storage must be "kv" or "r2".`)
}

/**
 * Checks that parsed JSON is a usable {@link ModelManifest}: types, counts, and that the item
 * shards tile `0..items` without gaps.
 */
export function validateManifest(input: unknown): ManifestValidationResult {
  const errors: string[] = []
  if (!input || typeof input !== 'object') return { ok: false, errors: ['Manifest must be a JSON object.'] }
  const m = input as Partial<ModelManifest>
  if (m.formatVersion !== MANIFEST_FORMAT_VERSION)
    errors.push(`formatVersion must be ${MANIFEST_FORMAT_VERSION}.`)
  if (typeof m.version !== 'string' || !VERSION_PATTERN.test(m.version))
    errors.push('version must match [A-Za-z0-9][A-Za-z0-9._-]{0,127}.')
  if (typeof m.createdAt !== 'string' || Number.isNaN(Date.parse(m.createdAt)))
    errors.push('createdAt must be ISO-8601.')
  if (!isCount(m.dims) || m.dims === 0 || m.dims > 4096) errors.push('dims must be an integer in 1..4096.')
  if (!m.counts || !isCount(m.counts.users) || !isCount(m.counts.items) || !isCount(m.counts.interactions)) {
    errors.push('counts must hold users, items and interactions.')
  }
  const als = m.als
  if (
    !als ||
    !isCount(als.factors) ||
    !isNum(als.regularization) ||
    !isNum(als.alpha) ||
    !isCount(als.iterations)
  ) {
    errors.push('als must hold factors, regularization, alpha and iterations.')
  }
  if (!m.eventWeights || typeof m.eventWeights !== 'object') errors.push('eventWeights must be an object.')
  else
    for (const [k, v] of Object.entries(m.eventWeights))
      if (!isNum(v)) errors.push(`eventWeights.${k} must be a number.`)
  if (
    m.valueTransform !== undefined &&
    (typeof m.valueTransform !== 'string' || !toValueTransform(m.valueTransform))
  )
    errors.push('valueTransform must be none, log1p, binary or clip:<max>.')
  if (!isNum(m.trainedUntil)) errors.push('trainedUntil must be epoch ms.')
  if (!isCount(m.userBuckets) || m.userBuckets === 0) errors.push('userBuckets must be a positive integer.')
  if (
    m.gate !== undefined &&
    (!m.gate ||
      typeof m.gate !== 'object' ||
      typeof m.gate.passed !== 'boolean' ||
      !Array.isArray(m.gate.reasons))
  )
    errors.push('gate must hold passed (boolean) and reasons (array).')
  const s = m.shards
  if (!s || typeof s !== 'object') {
    errors.push('shards is missing.')
  } else {
    if (!Array.isArray(s.items) || s.items.length === 0)
      errors.push('shards.items must list at least one shard.')
    else {
      s.items.forEach((ref, i) => {
        checkRef(ref, `shards.items[${i}]`, 'items', errors)
      })
      let next = 0
      for (const ref of s.items) {
        if (ref && ref.rowOffset !== next) {
          errors.push('shards.items must tile the items in order (rowOffset gap or overlap).')
          break
        }
        next += ref?.rows ?? 0
      }
      if (m.counts && next !== m.counts.items)
        errors.push(`shards.items hold ${next} rows but counts.items is ${m.counts.items}.`)
    }
    if (!Array.isArray(s.users)) errors.push('shards.users must be an array.')
    else {
      if (isCount(m.userBuckets) && s.users.length !== m.userBuckets)
        errors.push('shards.users must have one shard per bucket.')
      s.users.forEach((ref, i) => {
        checkRef(ref, `shards.users[${i}]`, 'users', errors)
      })
    }
    checkRef(s.popularity, 'shards.popularity', 'popularity', errors)
    if (s.trending !== undefined) checkRef(s.trending, 'shards.trending', 'popularity', errors)
    checkRef(s.gram, 'shards.gram', 'gram', errors)
    if (Array.isArray(s.catalog)) {
      if (s.catalog.length === 0) errors.push('shards.catalog must list at least one shard.')
      let next = 0
      s.catalog.forEach((ref, i) => {
        checkRef(ref, `shards.catalog[${i}]`, 'catalog', errors)
        if (ref && ref.rowOffset !== next)
          errors.push(`shards.catalog[${i}] must start at row ${next} (consecutive rows, in order).`)
        next = (ref?.rowOffset ?? next) + (ref?.rows ?? 0)
      })
      if (m.catalog !== undefined && m.catalog?.rows !== next)
        errors.push(`shards.catalog hold ${next} rows but catalog.rows is ${String(m.catalog?.rows)}.`)
    } else if (s.catalog !== undefined) checkRef(s.catalog, 'shards.catalog', 'catalog', errors)
    if (s.partitions !== undefined) checkRef(s.partitions, 'shards.partitions', 'partitions', errors)
    if ((s.partitions === undefined) !== (m.partitions === undefined))
      errors.push('partitions and shards.partitions must be both present or both absent.')
    if (s.partitionLists !== undefined)
      checkRef(s.partitionLists, 'shards.partitionLists', 'partitionList', errors)
    if ((s.partitions === undefined) !== (s.partitionLists === undefined))
      errors.push('shards.partitions and shards.partitionLists must be both present or both absent.')
  }
  if (
    m.catalog !== undefined &&
    (!m.catalog ||
      !isCount(m.catalog.rows) ||
      !isCount(m.catalog.categoryCodes) ||
      !isCount(m.catalog.tagCodes) ||
      !isCount(m.catalog.memoryBytes))
  )
    errors.push('catalog must hold rows, categoryCodes, tagCodes and memoryBytes (counts).')
  const layout = m.catalog?.layout
  if (
    layout !== undefined &&
    (!layout ||
      typeof layout !== 'object' ||
      !LAYOUT_COUNTS.every((key) => isCount((layout as unknown as Record<string, unknown>)[key])))
  )
    errors.push(`catalog.layout must hold ${LAYOUT_COUNTS.join(', ')} (counts).`)
  if (m.catalog !== undefined && !Array.isArray(s?.catalog))
    errors.push('catalog is present only with a list of catalog shards (shards.catalog).')
  const p = m.partitions
  if (p !== undefined) {
    if (!p || typeof p !== 'object' || !isCount(p.lists) || p.lists === 0)
      errors.push('partitions.lists must be a positive integer.')
    else {
      if (!isCount(p.nprobe) || p.nprobe === 0 || p.nprobe > p.lists)
        errors.push('partitions.nprobe must be an integer in 1..partitions.lists.')
      if (s?.partitions && s.partitions.rows !== p.lists)
        errors.push('shards.partitions.rows must equal partitions.lists.')
      if (s?.partitionLists && s.partitionLists.rows !== p.lists)
        errors.push('shards.partitionLists.rows must equal partitions.lists.')
      const r = p.recall
      if (!r || !isCount(r.k) || !isNum(r.value) || r.value < 0 || r.value > 1 || !isCount(r.users))
        errors.push('partitions.recall must hold k, value in 0..1 and users.')
    }
  }
  const c = m.candidates
  if (c !== undefined) {
    if (!c || typeof c !== 'object' || !isCount(c.perUser) || c.perUser === 0)
      errors.push('candidates.perUser must be a positive integer.')
    else if (c.nprobe === null) {
      if (c.recall !== null)
        errors.push('candidates.recall must be null when candidates.nprobe is (exact scan).')
    } else {
      if (!isCount(c.nprobe) || c.nprobe === 0 || !p || !isCount(p.lists) || c.nprobe > p.lists)
        errors.push('candidates.nprobe must be null (exact scan) or an integer in 1..partitions.lists.')
      const r = c.recall
      if (!r || !isCount(r.k) || !isNum(r.value) || r.value < 0 || r.value > 1 || !isCount(r.users))
        errors.push('candidates.recall must hold k, value in 0..1 and users when candidates.nprobe is set.')
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, manifest: m as ModelManifest }
}

/** Like {@link validateManifest} but throws a `MANIFEST_INVALID` {@link CoreError}. */
export function parseManifest(input: unknown): ModelManifest {
  const r = validateManifest(input)
  if (!r.ok) throw new CoreError('MANIFEST_INVALID', `Invalid model manifest: ${r.errors.join(' ')}`)
  return r.manifest
}

/**
 * The catalog shards of a version in row order: the split list, or the one shard of a version
 * exported before catalogs were split; empty without a catalog.
 */
export function catalogShardRefs(m: ModelManifest): ShardRef[] {
  const c = m.shards.catalog
  return c === undefined ? [] : Array.isArray(c) ? c : [c]
}

/** All shard refs of a manifest, in publish order. */
export function manifestShards(m: ModelManifest): ShardRef[] {
  const refs = [...m.shards.items, ...m.shards.users, m.shards.popularity, m.shards.gram]
  if (m.shards.trending) refs.push(m.shards.trending)
  refs.push(...catalogShardRefs(m))
  if (m.shards.partitions) refs.push(m.shards.partitions)
  if (m.shards.partitionLists) refs.push(m.shards.partitionLists)
  return refs
}
