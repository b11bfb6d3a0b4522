import { CoreError } from '@edgerec/core'
import { Matrix, solve } from 'ml-matrix'
import { describe, expect, it } from 'vitest'
import { type CsrMatrix, csrFromTriples } from '../data/matrix.js'
import { plantedClusters } from '../evaluation/planted.js'
import { DEFAULT_ALS_OPTIONS } from './options.js'
import { createRng } from './random.js'
import { type AlsModel, allocateAlsMatrix, gramMatrix, recalculateUser, trainAls } from './train.js'

/** Random sparse data: `perUser` draws per user over a skewed item distribution, values 1/2/4/8. */
function randomData(users: number, items: number, perUser: number, seed: number): CsrMatrix {
  const rng = createRng(seed)
  const r: number[] = []
  const c: number[] = []
  const v: number[] = []
  for (let u = 0; u < users; u++) {
    for (let n = 0; n < perUser; n++) {
      r.push(u)
      c.push(Math.floor(items * rng.next() ** 2))
      v.push([1, 2, 4, 8][rng.int(4)]!)
    }
  }
  return csrFromTriples(users, items, r, c, v)
}

function maxScoreDifference(a: AlsModel, b: AlsModel): number {
  let worst = 0
  const k = a.factors
  for (let u = 0; u < a.users; u++) {
    for (let i = 0; i < a.items; i++) {
      let sa = 0
      let sb = 0
      for (let d = 0; d < k; d++) {
        sa += a.userFactors[u * k + d]! * a.itemFactors[i * k + d]!
        sb += b.userFactors[u * k + d]! * b.itemFactors[i * k + d]!
      }
      worst = Math.max(worst, Math.abs(sa - sb))
    }
  }
  return worst
}

function bitwiseEqual(a: Float32Array, b: Float32Array): boolean {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length)
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length)
  return x.length === y.length && x.every((bits, j) => bits === y[j])
}

const small = randomData(60, 40, 8, 7)

describe('trainAls', () => {
  it('should use the reference defaults', () => {
    expect(DEFAULT_ALS_OPTIONS).toMatchObject({
      factors: 64,
      regularization: 0.05,
      alpha: 1,
      iterations: 15,
      cgSteps: 3,
      solver: 'cg',
      seed: 42,
      threads: 0,
    })
  })

  it.each(['wasm', 'js'] as const)(
    'should converge to the Cholesky solution with enough CG steps (%s)',
    async (backend) => {
      const options = { factors: 6, iterations: 8, regularization: 0.1, threads: 1, seed: 3 }
      const exact = await trainAls(small, { ...options, solver: 'cholesky' })
      // With cgSteps ≥ k, each warm-started CG solve is exact up to rounding, so ALS follows the same path.
      const cg = await trainAls(small, { ...options, solver: 'cg', cgSteps: 12, backend })
      const scale =
        Math.max(...exact.userFactors.map(Math.abs)) * Math.max(...exact.itemFactors.map(Math.abs))
      expect(maxScoreDifference(exact, cg) / scale).toBeLessThan(1e-3)
    },
  )

  it('should solve each row exactly with the Cholesky solver (checked against ml-matrix)', async () => {
    const model = await trainAls(small, {
      factors: 5,
      iterations: 3,
      solver: 'cholesky',
      threads: 1,
      alpha: 2,
    })
    // After the last item half, re-solving a user from the final items must match ml-matrix's
    // solve of the same normal equations A x = b.
    const k = model.factors
    const lambda = DEFAULT_ALS_OPTIONS.regularization
    const user = 4
    const entries: { index: number; value: number }[] = []
    for (let j = small.indptr[user]!; j < small.indptr[user + 1]!; j++) {
      entries.push({ index: small.indices[j]!, value: small.values[j]! })
    }
    const x = recalculateUser(model, entries, { regularization: lambda, alpha: 2 })
    const y = (i: number): number[] => Array.from(model.itemFactors.subarray(i * k, (i + 1) * k))
    const a = Matrix.zeros(k, k)
    for (let i = 0; i < model.items; i++) a.add(Matrix.columnVector(y(i)).mmul(Matrix.rowVector(y(i))))
    const b = Matrix.zeros(k, 1)
    for (const { index, value } of entries) {
      const c = 2 * value
      a.add(
        Matrix.columnVector(y(index))
          .mmul(Matrix.rowVector(y(index)))
          .mul(c - 1),
      )
      b.add(Matrix.columnVector(y(index)).mul(c))
    }
    for (let d = 0; d < k; d++) a.set(d, d, a.get(d, d) + lambda)
    const expected = solve(a, b).to1DArray()
    for (let d = 0; d < k; d++) expect(x[d]).toBeCloseTo(expected[d]!, 4)
  })

  it.each(['cg', 'cholesky'] as const)('should decrease the training loss (%s)', async (solver) => {
    const losses: number[] = []
    await trainAls(small, {
      factors: 8,
      iterations: 6,
      solver,
      threads: 1,
      computeLoss: true,
      onIteration: (p) => losses.push(p.loss!),
    })
    expect(losses).toHaveLength(6)
    expect(losses[5]!).toBeLessThan(losses[0]!)
    for (let j = 1; j < losses.length; j++)
      expect(losses[j]!).toBeLessThanOrEqual(losses[j - 1]! * (1 + 1e-6))
  })

  it('should compute the loss the reference defines', async () => {
    const data = randomData(12, 9, 4, 11)
    let reported = Number.NaN
    const alpha = 3
    const lambda = 0.2
    const model = await trainAls(data, {
      factors: 4,
      iterations: 2,
      alpha,
      regularization: lambda,
      threads: 1,
      computeLoss: true,
      onIteration: (p) => {
        reported = p.loss!
      },
    })
    // Σ_ui c_ui (p_ui − x_uᵀy_i)² + λ(‖X‖² + ‖Y‖²), over Σ c_ui + (#pairs − nnz), with c = 1, p = 0 unobserved.
    const k = model.factors
    let sum = 0
    let confidence = 0
    let observed = 0
    for (let u = 0; u < data.rows; u++) {
      const seen = new Map<number, number>()
      for (let j = data.indptr[u]!; j < data.indptr[u + 1]!; j++)
        seen.set(data.indices[j]!, alpha * data.values[j]!)
      for (let i = 0; i < data.cols; i++) {
        let s = 0
        for (let d = 0; d < k; d++) s += model.userFactors[u * k + d]! * model.itemFactors[i * k + d]!
        const c = seen.get(i)
        if (c === undefined) sum += s * s
        else {
          sum += c * (1 - s) ** 2
          confidence += c
          observed++
        }
      }
    }
    const norms = [...model.userFactors, ...model.itemFactors].reduce((acc, v) => acc + v * v, 0)
    const expected = (sum + lambda * norms) / (confidence + data.rows * data.cols - observed)
    expect(reported).toBeCloseTo(expected, 5)
  })

  it.each(['wasm', 'js'] as const)(
    'should give bit-identical factors for 1, 2 and 3 threads, with and without the calling thread (%s)',
    async (backend) => {
      const data = randomData(700, 300, 12, 5)
      const options = { factors: 16, iterations: 3, backend, seed: 9 }
      const one = await trainAls(data, { ...options, threads: 1 })
      // The calling thread and one worker; two workers; the calling thread and two workers.
      for (const threads of [{ threads: 2 }, { threads: 2, offMainThread: true }, { threads: 3 }]) {
        const more = await trainAls(data, { ...options, ...threads })
        expect(bitwiseEqual(one.userFactors, more.userFactors)).toBe(true)
        expect(bitwiseEqual(one.itemFactors, more.itemFactors)).toBe(true)
      }
    },
  )

  it('should be deterministic for a seed and differ across seeds', async () => {
    const a = await trainAls(small, { factors: 8, iterations: 2, threads: 1, seed: 1 })
    const b = await trainAls(small, { factors: 8, iterations: 2, threads: 1, seed: 1 })
    const c = await trainAls(small, { factors: 8, iterations: 2, threads: 1, seed: 2 })
    expect(bitwiseEqual(a.itemFactors, b.itemFactors)).toBe(true)
    expect(bitwiseEqual(a.itemFactors, c.itemFactors)).toBe(false)
  })

  it('should return the factors on SharedArrayBuffers, bit for bit those of sharedFactors: false', async () => {
    const shared = await trainAls(small, { factors: 8, iterations: 2, threads: 2, seed: 1 })
    const plain = await trainAls(small, {
      factors: 8,
      iterations: 2,
      threads: 2,
      seed: 1,
      sharedFactors: false,
    })
    expect(shared.userFactors.buffer).toBeInstanceOf(SharedArrayBuffer)
    expect(shared.itemFactors.buffer).toBeInstanceOf(SharedArrayBuffer)
    expect(plain.userFactors.buffer).toBeInstanceOf(ArrayBuffer)
    expect(shared.userFactors.length).toBe(small.rows * 8)
    expect(bitwiseEqual(shared.userFactors, plain.userFactors)).toBe(true)
    expect(bitwiseEqual(shared.itemFactors, plain.itemFactors)).toBe(true)
  })

  it.each([1, 2])(
    'should return factors that stay valid views onto their own memory after later trainings (%i threads)',
    async (threads) => {
      for (const factors of [10, 16]) {
        const run = { factors, iterations: 2, threads, seed: 3 }
        const first = await trainAls(small, run)
        // No copy out of the ALS memory: the factors are views at an offset into its shared buffer.
        expect(first.userFactors.buffer).toBe(first.itemFactors.buffer)
        expect(first.userFactors.byteOffset).toBeGreaterThan(0)
        expect(first.userFactors.length).toBe(small.rows * factors)
        expect(first.itemFactors.length).toBe(small.cols * factors)
        const snapshot = { users: first.userFactors.slice(), items: first.itemFactors.slice() }
        // A second training (other seed, other thread count) in the same process gets its own memory.
        const second = await trainAls(small, { ...run, seed: 4, threads: 3 - threads })
        expect(second.userFactors.buffer).not.toBe(first.userFactors.buffer)
        expect(bitwiseEqual(first.userFactors, snapshot.users)).toBe(true)
        expect(bitwiseEqual(first.itemFactors, snapshot.items)).toBe(true)
        // The views hold exactly the (compacted) rows a copy out of the memory gives.
        const plain = await trainAls(small, { ...run, sharedFactors: false })
        expect(bitwiseEqual(first.userFactors, plain.userFactors)).toBe(true)
        expect(bitwiseEqual(first.itemFactors, plain.itemFactors)).toBe(true)
        expect(bitwiseEqual(first.userFactors, second.userFactors)).toBe(false)
      }
    },
  )

  it.each([
    [1, 1],
    [2, 1],
    [1, 40],
    [2, 40],
  ])(
    'should train a matrix allocated in the ALS memory in place, as a copied one, and leave it intact (%i threads, alpha %i)',
    async (threads, alpha) => {
      const run = { factors: 10, iterations: 2, threads, alpha, seed: 5 }
      const placed = allocateAlsMatrix(small.rows, small.cols, small.indices.length, run)
      placed.indptr.set(small.indptr)
      placed.indices.set(small.indices)
      placed.values.set(small.values)
      const copied = await trainAls(small, run)
      const inPlace = await trainAls(placed, run)
      // In place: the matrix, the factors and the transposed matrix share one memory.
      expect(inPlace.userFactors.buffer).toBe(placed.indices.buffer)
      expect(bitwiseEqual(inPlace.userFactors, copied.userFactors)).toBe(true)
      expect(bitwiseEqual(inPlace.itemFactors, copied.itemFactors)).toBe(true)
      // The caller's matrix is unchanged (values are r, not alpha · r) and trains again, into a new memory.
      expect([...placed.indptr]).toEqual([...small.indptr])
      expect([...placed.indices]).toEqual([...small.indices])
      expect(bitwiseEqual(placed.values, small.values)).toBe(true)
      const snapshot = inPlace.itemFactors.slice()
      const again = await trainAls(placed, { ...run, seed: 6 })
      expect(again.userFactors.buffer).not.toBe(placed.indices.buffer)
      expect(bitwiseEqual(inPlace.itemFactors, snapshot)).toBe(true)
      const copiedAgain = await trainAls(small, { ...run, seed: 6 })
      expect(bitwiseEqual(again.itemFactors, copiedAgain.itemFactors)).toBe(true)
    },
  )

  it('should copy an allocated matrix it cannot train in place (other factors, alpha, or more threads)', async () => {
    const fill = (m: CsrMatrix): CsrMatrix => {
      m.indptr.set(small.indptr)
      m.indices.set(small.indices)
      m.values.set(small.values)
      return m
    }
    const base = { factors: 10, iterations: 1, threads: 1, alpha: 1, seed: 5 }
    for (const changed of [{ factors: 12 }, { alpha: 40 }, { threads: 2 }]) {
      const placed = fill(allocateAlsMatrix(small.rows, small.cols, small.indices.length, base))
      const model = await trainAls(placed, { ...base, ...changed })
      expect(model.userFactors.buffer).not.toBe(placed.indices.buffer)
      expect(bitwiseEqual(placed.values, small.values)).toBe(true)
      const reference = await trainAls(small, { ...base, ...changed })
      expect(bitwiseEqual(model.itemFactors, reference.itemFactors)).toBe(true)
    }
    // Fewer pairs filled in than allocated: trained as a copy of the pairs indptr names.
    const fewer = allocateAlsMatrix(small.rows, small.cols, small.indices.length + 5, base)
    fill(fewer)
    const model = await trainAls(fewer, base)
    expect(model.userFactors.buffer).not.toBe(fewer.indices.buffer)
    expect(bitwiseEqual(model.itemFactors, (await trainAls(small, base)).itemFactors)).toBe(true)
    expect(() => allocateAlsMatrix(-1, 4, 0)).toThrow(CoreError)
  })

  it('should initialise factors uniformly in [0, 0.01) when no iteration runs', async () => {
    const model = await trainAls(small, { factors: 8, iterations: 0, threads: 1 })
    const all = [...model.userFactors, ...model.itemFactors]
    expect(Math.min(...all)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...all)).toBeLessThan(0.01)
    const mean = all.reduce((a, b) => a + b, 0) / all.length
    expect(mean).toBeGreaterThan(0.0045)
    expect(mean).toBeLessThan(0.0055)
  })

  it('should agree between the WebAssembly (float32) and TypeScript (float64) kernels', async () => {
    // One iteration: the same arithmetic up to float32 rounding.
    const once = { factors: 10, iterations: 1, threads: 1, seed: 4 }
    const wasm = await trainAls(small, { ...once, backend: 'wasm' })
    const js = await trainAls(small, { ...once, backend: 'js' })
    const scale = Math.max(...js.userFactors.map(Math.abs))
    const diff = Math.max(...js.userFactors.map((v, j) => Math.abs(v - wasm.userFactors[j]!)))
    expect(diff / scale).toBeLessThan(1e-5)
    // NOTE: 3-step CG on this tiny ill-conditioned problem amplifies rounding differences over
    // iterations, so later factors drift apart; the fit they reach is the same.
    const losses = { wasm: 0, js: 0 }
    for (const backend of ['wasm', 'js'] as const) {
      await trainAls(small, {
        ...once,
        iterations: 8,
        backend,
        computeLoss: true,
        onIteration: (p) => {
          losses[backend] = p.loss!
        },
      })
    }
    expect(Math.abs(losses.wasm - losses.js) / losses.js).toBeLessThan(0.01)
  })

  it('should give zero vectors to users and items without interactions', async () => {
    const data = csrFromTriples(4, 5, [0, 0, 2, 2], [0, 1, 1, 3], [1, 2, 1, 1])
    for (const solver of ['cg', 'cholesky'] as const) {
      const model = await trainAls(data, { factors: 3, iterations: 2, threads: 1, solver })
      for (const u of [1, 3]) expect([...model.userFactors.subarray(u * 3, u * 3 + 3)]).toEqual([0, 0, 0])
      for (const i of [2, 4]) expect([...model.itemFactors.subarray(i * 3, i * 3 + 3)]).toEqual([0, 0, 0])
      expect(model.userFactors.some((v) => v !== 0)).toBe(true)
    }
  })

  it('should treat negative values as dislikes (p = 0, c = |alpha·r|)', async () => {
    const data = plantedClusters({ users: 60, items: 40, clusters: 2, perUser: 10, noise: 0, seed: 1 })
    // User 0 (cluster 0) strongly dislikes item 0, the most popular item of its own cluster.
    const rows = [0]
    const cols = [0]
    const vals = [-20]
    for (let u = 0; u < data.rows; u++) {
      for (let j = data.indptr[u]!; j < data.indptr[u + 1]!; j++) {
        if (u === 0 && data.indices[j] === 0) continue
        rows.push(u)
        cols.push(data.indices[j]!)
        vals.push(data.values[j]!)
      }
    }
    const withDislike = csrFromTriples(data.rows, data.cols, rows, cols, vals)
    const model = await trainAls(withDislike, { factors: 4, iterations: 10, threads: 1 })
    const score = (u: number, i: number): number => {
      let s = 0
      for (let d = 0; d < 4; d++) s += model.userFactors[u * 4 + d]! * model.itemFactors[i * 4 + d]!
      return s
    }
    // Another cluster-0 user (2) likes item 0; the disliking user scores it far lower.
    expect(score(0, 0)).toBeLessThan(score(2, 0) - 0.2)
  })

  it('should reject bad options and malformed matrices with INVALID_ARGUMENT', async () => {
    await expect(trainAls(small, { factors: 0 })).rejects.toThrow(CoreError)
    await expect(trainAls(small, { alpha: -1 })).rejects.toThrow(/alpha must be a finite number > 0/)
    await expect(trainAls(small, { regularization: Number.NaN })).rejects.toThrow(/regularization/)
    await expect(trainAls(small, { solver: 'lu' as 'cg' })).rejects.toThrow(/solver/)
    const broken = { ...small, values: Float32Array.from(small.values, (v, j) => (j === 3 ? Number.NaN : v)) }
    await expect(trainAls(broken, { iterations: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    const outOfRange = { ...small, cols: 2 }
    await expect(trainAls(outOfRange, { iterations: 1 })).rejects.toThrow(/is ≥ cols/)
  })

  it('should report progress for every iteration', async () => {
    const seen: number[] = []
    await trainAls(small, {
      factors: 4,
      iterations: 3,
      threads: 1,
      onIteration: (p) => seen.push(p.iteration),
    })
    expect(seen).toEqual([1, 2, 3])
  })
})

describe('gramMatrix', () => {
  it('should compute FᵀF + λI', () => {
    // F = [[1, 2], [3, 4]]: FᵀF = [[1+9, 2+12], [2+12, 4+16]] = [[10, 14], [14, 20]]
    expect([...gramMatrix([1, 2, 3, 4], 2, 2, 0.5)]).toEqual([10.5, 14, 14, 20.5])
  })
})
