/**
 * Fast generator of benchmark data shaped like the reference's speed test: `draws` (user, item)
 * draws with users uniform, item popularity ∝ rank^−0.9, values 1/2/4/8, duplicate pairs dropped.
 *
 * @module
 */
import { createRng } from '../src/als/random.js'
import type { CsrMatrix } from '../src/data/matrix.js'

/**
 * Builds the CSR matrix directly in typed arrays, sized once: a first pass of the random stream
 * counts draws per user, a replay of the same stream writes each draw's item into its user's
 * slice (no COO copy of rows and columns), duplicates are removed in place. The timestamps are
 * empty: ALS never reads them, and the reference's matrix has none, so peak memory compares
 * like with like.
 */
export function generatePowerLaw(draws: number, users: number, items: number, seed: number): CsrMatrix {
  const cumulative = new Float64Array(items)
  let total = 0
  for (let i = 0; i < items; i++) {
    total += (i + 1) ** -0.9
    cumulative[i] = total
  }
  const drawItem = (rng: ReturnType<typeof createRng>): number => {
    const target = rng.next() * total
    let lo = 0
    let hi = items - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cumulative[mid]! < target) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  // Pass 1: draws per user.
  const counts = new Uint32Array(users + 1)
  let rng = createRng(seed)
  for (let n = 0; n < draws; n++) {
    counts[rng.int(users) + 1]!++
    drawItem(rng)
  }
  for (let u = 0; u < users; u++) counts[u + 1]! += counts[u]!
  // Pass 2: the same stream again, each item into its user's slice.
  rng = createRng(seed)
  const cursor = counts.slice(0, users)
  const sorted = new Uint32Array(draws)
  for (let n = 0; n < draws; n++) {
    const u = rng.int(users)
    sorted[cursor[u]!++] = drawItem(rng)
  }
  const indptr = new Uint32Array(users + 1)
  let kept = 0
  for (let u = 0; u < users; u++) {
    const row = sorted.subarray(counts[u]!, counts[u + 1]!).sort()
    let last = -1
    for (const c of row) {
      if (c !== last) sorted[kept++] = c
      last = c
    }
    indptr[u + 1] = kept
  }
  const indices = sorted.subarray(0, kept)
  const values = new Float32Array(kept)
  for (let k = 0; k < kept; k++) values[k] = [1, 2, 4, 8][rng.int(4)]!
  return { rows: users, cols: items, indptr, indices, values, timestamps: new Float64Array(0) }
}
