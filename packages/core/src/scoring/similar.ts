import { dotInt8, findRow, type ItemBlock } from './score.js'
import { type IndexFilter, TopK, type TopKResult } from './top-k.js'

function rowNorm(block: ItemBlock, row: number): number {
  if (block.norms) return block.norms[row]!
  let sum = 0
  const base = row * block.dims
  for (let d = 0; d < block.dims; d++) sum += block.factors[base + d]! ** 2
  return block.scales[row]! * Math.sqrt(sum)
}

/**
 * Items most similar to item `index` by cosine of their (dequantized) factors:
 * `cos(i, j) = s_i s_j Σ q_i q_j / (‖y_i‖ ‖y_j‖)`, with norms precomputed at encode time.
 * The item itself is never returned; zero rows score 0.
 *
 * @returns undefined when `index` is not in any block
 */
export function similarItems(
  blocks: readonly ItemBlock[],
  index: number,
  k: number,
  exclude?: IndexFilter,
): TopKResult | undefined {
  const found = findRow(blocks, index)
  if (!found) return undefined
  const { block: qb, row: qr } = found
  const dims = qb.dims
  const query = qb.factors.subarray(qr * dims, qr * dims + dims)
  const qScale = qb.scales[qr]!
  const qNorm = rowNorm(qb, qr)
  const top = new TopK(k)
  for (const block of blocks) {
    const { factors, scales, rowCount, rowOffset } = block
    for (let r = 0; r < rowCount; r++) {
      const j = rowOffset + r
      if (j === index || exclude?.has(j)) continue
      const denom = qNorm * rowNorm(block, r)
      const score = denom > 0 ? (qScale * scales[r]! * dotInt8(query, factors, r * dims, dims)) / denom : 0
      top.push(j, score)
    }
  }
  return top.result()
}
