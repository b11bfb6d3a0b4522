/**
 * Minimal loader of a MovieLens-style ratings CSV (`userId,movieId,rating,timestamp`, any line
 * ending) for the benchmarks: user/item index = rank of the raw numeric id (REFERENCE.md).
 *
 * @module
 */
import { readFileSync } from 'node:fs'
import { type CsrMatrix, csrFromTriples } from '../src/data/matrix.js'

/** Loads the file; `binary` sets every value to 1. */
export function loadRatings(path: string, binary = false): CsrMatrix {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/)
  const users: number[] = []
  const items: number[] = []
  const values: number[] = []
  const times: number[] = []
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n]!
    if (line.length === 0) continue
    const [u, i, r, t] = line.split(',')
    users.push(Number(u))
    items.push(Number(i))
    values.push(binary ? 1 : Number(r))
    times.push(Number(t) * 1000)
  }
  const rank = (ids: number[]): { map: Map<number, number>; size: number } => {
    const distinct = [...new Set(ids)].sort((a, b) => a - b)
    return { map: new Map(distinct.map((id, index) => [id, index])), size: distinct.length }
  }
  const u = rank(users)
  const i = rank(items)
  return csrFromTriples(
    u.size,
    i.size,
    users.map((id) => u.map.get(id)!),
    items.map((id) => i.map.get(id)!),
    values,
    times,
  )
}
