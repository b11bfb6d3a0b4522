import { type Int8DotKernel, jsInt8Kernel } from './kernel/int8-kernel.js'
import { findRow, type ItemBlock } from './score.js'
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
 * The item itself is never returned; zero rows score 0. The dot products run on `kernel`
 * (exact in every kernel, so results do not depend on it); exclusions are checked for candidates
 * that can enter the top K only.
 *
 * @returns undefined when `index` is not in any block
 */
export function similarItems(
  blocks: readonly ItemBlock[],
  index: number,
  k: number,
  exclude?: IndexFilter,
  kernel: Int8DotKernel = jsInt8Kernel,
): TopKResult | undefined {
  const found = findRow(blocks, index)
  if (!found) return undefined
  const { block: qb, row: qr } = found
  const dims = qb.dims
  const query = qb.factors.subarray(qr * dims, qr * dims + dims)
  const qScale = qb.scales[qr]!
  const qNorm = rowNorm(qb, qr)
  const top = new TopK(k)
  const chunk = kernel.chunkRows
  let threshold = top.threshold
  for (const block of blocks) {
    const { factors, scales, rowCount, rowOffset } = block
    for (let start = 0; start < rowCount; start += chunk) {
      const count = Math.min(chunk, rowCount - start)
      const dots = kernel.dots(query, factors, dims, start, count)
      for (let r = 0; r < count; r++) {
        const row = start + r
        const denom = qNorm * rowNorm(block, row)
        const score = denom > 0 ? (qScale * scales[row]! * dots[r]!) / denom : 0
        if (score < threshold) continue
        const j = rowOffset + row
        if (j === index || exclude?.has(j)) continue
        top.push(j, score)
        threshold = top.threshold
      }
    }
  }
  return top.result()
}
