/**
 * Small synthetic interaction data with a known structure, for tests and benchmarks: users and
 * items belong to taste clusters, users mostly pick items of their own cluster (power-law
 * popularity inside it) and sometimes a globally popular item.
 *
 * @internal
 * @module
 */
import { createRng } from '../als/random.js'
import { type CsrMatrix, csrFromTriples } from '../data/matrix.js'

/** Shape of {@link plantedClusters} data. */
export interface PlantedOptions {
  users: number
  items: number
  clusters: number
  /** Interactions drawn per user (duplicates are summed). */
  perUser: number
  /** Probability that a draw ignores the user's cluster. */
  noise: number
  seed: number
}

/** Generates the data; the cluster of user u is `u % clusters`, of item i `i % clusters`. */
export function plantedClusters(o: PlantedOptions): CsrMatrix {
  const rng = createRng(o.seed)
  const rows: number[] = []
  const cols: number[] = []
  const vals: number[] = []
  const times: number[] = []
  const perCluster = Math.floor(o.items / o.clusters)
  // Power law inside a cluster: the j-th item of a cluster is picked ∝ (j + 1)^-0.9.
  const weights = Array.from({ length: perCluster }, (_, j) => (j + 1) ** -0.9)
  const cumulative: number[] = []
  weights.reduce((acc, w) => {
    cumulative.push(acc + w)
    return acc + w
  }, 0)
  const total = cumulative[cumulative.length - 1]!
  const pickRank = (): number => {
    const target = rng.next() * total
    let lo = 0
    let hi = cumulative.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cumulative[mid]! < target) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  for (let u = 0; u < o.users; u++) {
    const cluster = u % o.clusters
    for (let n = 0; n < o.perUser; n++) {
      const c = rng.next() < o.noise ? rng.int(o.clusters) : cluster
      rows.push(u)
      cols.push(pickRank() * o.clusters + c)
      vals.push([1, 2, 4, 8][rng.int(4)]!)
      times.push(1_700_000_000_000 + n * 60_000 + rng.int(1000))
    }
  }
  return csrFromTriples(o.users, o.items, rows, cols, vals, times)
}
