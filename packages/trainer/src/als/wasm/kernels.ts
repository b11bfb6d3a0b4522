/**
 * The ALS hot loops as a WebAssembly SIMD128 module, emitted at load time by {@link ./assembler.ts}.
 *
 * All pointers are byte addresses into one shared memory. Factor rows have a padded stride of
 * `kpBytes` bytes (`kp` floats, a multiple of 16; padding lanes stay zero, so they never change a
 * result). Arithmetic is float32, like the reference's BLAS; the order of every sum is fixed by
 * the code, so a row's result does not depend on which thread computes it.
 *
 * @internal
 * @module
 */
import { FunctionBuilder, type Local, ModuleBuilder } from './assembler.js'

type Fn = FunctionBuilder

/** Exports of the kernel module. Pointers are byte offsets. */
export interface WasmKernelExports {
  /** Σ a_j b_j over `bytes / 4` floats. */
  dot(a: number, b: number, bytes: number): number
  /**
   * Conjugate-gradient ALS rows `[start, end)` (see {@link buildKernelModule}); `scratch` holds
   * 3 · kpBytes bytes of this thread's own memory.
   */
  cgRows(
    indptr: number,
    indices: number,
    conf: number,
    x: number,
    y: number,
    a: number,
    kpBytes: number,
    start: number,
    end: number,
    steps: number,
    scratch: number,
  ): void
  /** out (kp × kp) = Σ_{r ∈ [start, end)} y_r y_rᵀ. */
  gramRows(y: number, start: number, end: number, kpBytes: number, out: number): void
}

/**
 * Pushes `a · b + c` (f32x4): one relaxed-SIMD fused multiply-add when `fma`, else a multiply and
 * an add. Either way every thread runs the same instructions, so results stay identical across
 * thread counts on one machine.
 */
function mulAdd(f: Fn, fma: boolean, a: () => void, b: () => void, c: () => void): void {
  if (fma) {
    a()
    b()
    c()
    f.f32x4RelaxedMadd()
  } else {
    c()
    a()
    b()
    f.f32x4Mul().f32x4Add()
  }
}

/** `for (i = start; i < end; i += step) body`. Inside `body`, `br 0` continues and `br 2` breaks. */
function forLoop(f: Fn, i: Local, start: () => void, end: () => void, step: number, body: () => void): void {
  start()
  f.set(i)
  f.block(() => {
    f.loop(() => {
      f.get(i)
      end()
      f.i32GeU().brIf(1)
      f.block(body)
      f.get(i).i32Const(step).i32Add().set(i)
      f.br(0)
    })
  })
}

/** dot(a, b, bytes) → f32, four independent accumulators over 16 floats per step. */
function buildDot(fma: boolean): Fn {
  const f = new FunctionBuilder('dot', ['i32', 'i32', 'i32'], ['f32'])
  const [a, b, bytes] = [f.param(0), f.param(1), f.param(2)]
  const j = f.local('i32')
  const acc = [f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128')] as const
  forLoop(
    f,
    j,
    () => f.i32Const(0),
    () => f.get(bytes),
    64,
    () => {
      for (let q = 0; q < 4; q++) {
        mulAdd(
          f,
          fma,
          () =>
            f
              .get(a)
              .get(j)
              .i32Add()
              .v128Load(16 * q),
          () =>
            f
              .get(b)
              .get(j)
              .i32Add()
              .v128Load(16 * q),
          () => f.get(acc[q]!),
        )
        f.set(acc[q]!)
      }
    },
  )
  f.get(acc[0]).get(acc[1]).f32x4Add()
  f.get(acc[2]).get(acc[3]).f32x4Add()
  f.f32x4Add().set(acc[0])
  f.get(acc[0]).f32x4ExtractLane(0).get(acc[0]).f32x4ExtractLane(1).f32Add()
  f.get(acc[0]).f32x4ExtractLane(2).get(acc[0]).f32x4ExtractLane(3).f32Add()
  f.f32Add()
  return f
}

/** axpy(t, a, out, bytes): out += t · a. */
function buildAxpy(fma: boolean): Fn {
  const f = new FunctionBuilder('axpy', ['f32', 'i32', 'i32', 'i32'], [])
  const [t, a, out, bytes] = [f.param(0), f.param(1), f.param(2), f.param(3)]
  const j = f.local('i32')
  const s = f.local('v128')
  f.get(t).f32x4Splat().set(s)
  forLoop(
    f,
    j,
    () => f.i32Const(0),
    () => f.get(bytes),
    64,
    () => {
      for (let q = 0; q < 4; q++) {
        f.get(out).get(j).i32Add()
        mulAdd(
          f,
          fma,
          () => f.get(s),
          () =>
            f
              .get(a)
              .get(j)
              .i32Add()
              .v128Load(16 * q),
          () =>
            f
              .get(out)
              .get(j)
              .i32Add()
              .v128Load(16 * q),
        )
        f.v128Store(16 * q)
      }
    },
  )
  return f
}

/** xpby(x, p, t, bytes): p = x + t · p (the CG direction update). */
function buildXpby(fma: boolean): Fn {
  const f = new FunctionBuilder('xpby', ['i32', 'i32', 'f32', 'i32'], [])
  const [x, p, t, bytes] = [f.param(0), f.param(1), f.param(2), f.param(3)]
  const j = f.local('i32')
  const s = f.local('v128')
  f.get(t).f32x4Splat().set(s)
  forLoop(
    f,
    j,
    () => f.i32Const(0),
    () => f.get(bytes),
    64,
    () => {
      for (let q = 0; q < 4; q++) {
        f.get(p).get(j).i32Add()
        mulAdd(
          f,
          fma,
          () => f.get(s),
          () =>
            f
              .get(p)
              .get(j)
              .i32Add()
              .v128Load(16 * q),
          () =>
            f
              .get(x)
              .get(j)
              .i32Add()
              .v128Load(16 * q),
        )
        f.v128Store(16 * q)
      }
    },
  )
  return f
}

/**
 * matvec(A, v, out, kpBytes, sign): out = sign · A v for the symmetric kp × kp matrix A, as
 * Σ_b v_b · A[b, :] (row b equals column b), 16 outputs held in registers per pass.
 */
function buildMatvec(fma: boolean): Fn {
  const f = new FunctionBuilder('matvec', ['i32', 'i32', 'i32', 'i32', 'f32'], [])
  const [a, v, out, kpBytes, sign] = [f.param(0), f.param(1), f.param(2), f.param(3), f.param(4)]
  const block = f.local('i32')
  const b = f.local('i32')
  const row = f.local('i32')
  const s = f.local('v128')
  const acc = [f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128')] as const
  forLoop(
    f,
    block,
    () => f.i32Const(0),
    () => f.get(kpBytes),
    64,
    () => {
      for (const r of acc) f.v128Zero().set(r)
      f.get(a).get(block).i32Add().set(row)
      forLoop(
        f,
        b,
        () => f.i32Const(0),
        () => f.get(kpBytes),
        4,
        () => {
          f.get(v).get(b).i32Add().f32Load().get(sign).f32Mul().f32x4Splat().set(s)
          for (let q = 0; q < 4; q++) {
            mulAdd(
              f,
              fma,
              () => f.get(s),
              () => f.get(row).v128Load(16 * q),
              () => f.get(acc[q]!),
            )
            f.set(acc[q]!)
          }
          f.get(row).get(kpBytes).i32Add().set(row)
        },
      )
      for (let q = 0; q < 4; q++) {
        f.get(out)
          .get(block)
          .i32Add()
          .get(acc[q]!)
          .v128Store(16 * q)
      }
    },
  )
  return f
}

/** gramRows(Y, start, end, kpBytes, out): out = Σ_r y_r y_rᵀ (full kp × kp, row-major). */
function buildGramRows(fma: boolean): Fn {
  const f = new FunctionBuilder('gramRows', ['i32', 'i32', 'i32', 'i32', 'i32'], [])
  const [y, start, end, kpBytes, out] = [f.param(0), f.param(1), f.param(2), f.param(3), f.param(4)]
  const r = f.local('i32')
  const yr = f.local('i32')
  const aByte = f.local('i32')
  const bByte = f.local('i32')
  const outRow = f.local('i32')
  const total = f.local('i32')
  const s = f.local('v128')
  // out holds kp · kpBytes bytes.
  f.get(kpBytes).i32Const(2).i32ShrU().get(kpBytes).i32Mul().set(total)
  forLoop(
    f,
    bByte,
    () => f.i32Const(0),
    () => f.get(total),
    16,
    () => {
      f.get(out).get(bByte).i32Add().v128Zero().v128Store()
    },
  )
  forLoop(
    f,
    r,
    () => f.get(start),
    () => f.get(end),
    1,
    () => {
      f.get(y).get(r).get(kpBytes).i32Mul().i32Add().set(yr)
      f.get(out).set(outRow)
      forLoop(
        f,
        aByte,
        () => f.i32Const(0),
        () => f.get(kpBytes),
        4,
        () => {
          f.get(yr).get(aByte).i32Add().f32Load().f32x4Splat().set(s)
          forLoop(
            f,
            bByte,
            () => f.i32Const(0),
            () => f.get(kpBytes),
            64,
            () => {
              for (let q = 0; q < 4; q++) {
                f.get(outRow).get(bByte).i32Add()
                mulAdd(
                  f,
                  fma,
                  () => f.get(s),
                  () =>
                    f
                      .get(yr)
                      .get(bByte)
                      .i32Add()
                      .v128Load(16 * q),
                  () =>
                    f
                      .get(outRow)
                      .get(bByte)
                      .i32Add()
                      .v128Load(16 * q),
                )
                f.v128Store(16 * q)
              }
            },
          )
          f.get(outRow).get(kpBytes).i32Add().set(outRow)
        },
      )
    },
  )
  return f
}

/**
 * cgRows: the reference's conjugate-gradient row update (Takács, Pilászy & Tikk 2011, alg. 2;
 * implicit `_least_squares_cg`) for rows [start, end). With A₀ = YᵀY + λI at `a`:
 *
 *   r = b − A x = Σ_i [c⁺_ui − (|c_ui| − 1) y_iᵀx] y_i − A₀ x     (c⁺ = c when c > 0, else 0)
 *   p = r; repeat `steps` times: Ap = A₀ p + Σ_i (|c_ui| − 1)(y_iᵀp) y_i, α = rᵀr / pᵀAp,
 *   x += α p, r −= α Ap, stop when rᵀr < 1e−20, p = r + (rᵀr_new / rᵀr_old) p.
 *
 * A row without interactions becomes zero.
 */
function buildCgRows(dotIndex: number, axpyIndex: number, xpbyIndex: number, matvecIndex: number): Fn {
  const f = new FunctionBuilder(
    'cgRows',
    ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'],
    [],
  )
  const [indptr, indices, conf, xBase, yBase, a, kpBytes, start, end, steps, scratch] = Array.from(
    { length: 11 },
    (_, i) => f.param(i),
  ) as [Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local]
  const u = f.local('i32')
  const x = f.local('i32')
  const s = f.local('i32')
  const e = f.local('i32')
  const idx = f.local('i32')
  const yi = f.local('i32')
  const j = f.local('i32')
  const it = f.local('i32')
  const r = f.local('i32')
  const p = f.local('i32')
  const ap = f.local('i32')
  const c = f.local('f32')
  const t = f.local('f32')
  const rsold = f.local('f32')
  const rsnew = f.local('f32')
  const alpha = f.local('f32')

  f.get(scratch).set(r)
  f.get(scratch).get(kpBytes).i32Add().set(p)
  f.get(p).get(kpBytes).i32Add().set(ap)

  const loadItemRow = (): void => {
    f.get(yBase)
    f.get(indices).get(idx).i32Const(2).i32Shl().i32Add().i32Load()
    f.get(kpBytes).i32Mul().i32Add().set(yi)
  }
  const loadConf = (): void => {
    f.get(conf).get(idx).i32Const(2).i32Shl().i32Add().f32Load()
  }

  forLoop(
    f,
    u,
    () => f.get(start),
    () => f.get(end),
    1,
    () => {
      f.get(xBase).get(u).get(kpBytes).i32Mul().i32Add().set(x)
      f.get(indptr).get(u).i32Const(2).i32Shl().i32Add().i32Load(0).set(s)
      f.get(indptr).get(u).i32Const(2).i32Shl().i32Add().i32Load(4).set(e)
      f.get(s).get(e).i32Eq()
      f.if(
        () => {
          forLoop(
            f,
            j,
            () => f.i32Const(0),
            () => f.get(kpBytes),
            16,
            () => {
              f.get(x).get(j).i32Add().v128Zero().v128Store()
            },
          )
        },
        () => {
          // r = −A₀ x
          f.get(a).get(x).get(r).get(kpBytes).f32Const(-1).call(matvecIndex)
          forLoop(
            f,
            idx,
            () => f.get(s),
            () => f.get(e),
            1,
            () => {
              loadItemRow()
              loadConf()
              f.set(c)
              // t = c⁺ − (|c| − 1) · y_iᵀx
              f.get(c).f32Const(0).get(c).f32Const(0).f32Gt().select()
              f.get(c).f32Abs().f32Const(1).f32Sub()
              f.get(yi).get(x).get(kpBytes).call(dotIndex)
              f.f32Mul().f32Sub().set(t)
              f.get(t).get(yi).get(r).get(kpBytes).call(axpyIndex)
            },
          )
          forLoop(
            f,
            j,
            () => f.i32Const(0),
            () => f.get(kpBytes),
            16,
            () => {
              f.get(p).get(j).i32Add()
              f.get(r).get(j).i32Add().v128Load()
              f.v128Store()
            },
          )
          f.get(r).get(r).get(kpBytes).call(dotIndex).set(rsold)
          f.get(rsold).f32Const(1e-20).f32Lt().i32Eqz()
          f.if(() => {
            forLoop(
              f,
              it,
              () => f.i32Const(0),
              () => f.get(steps),
              1,
              () => {
                // Ap = A₀ p + Σ (|c| − 1)(y_iᵀp) y_i
                f.get(a).get(p).get(ap).get(kpBytes).f32Const(1).call(matvecIndex)
                forLoop(
                  f,
                  idx,
                  () => f.get(s),
                  () => f.get(e),
                  1,
                  () => {
                    loadConf()
                    f.f32Abs().f32Const(1).f32Sub().tee(c)
                    f.f32Const(0).f32Ne()
                    f.if(() => {
                      loadItemRow()
                      f.get(c).get(yi).get(p).get(kpBytes).call(dotIndex).f32Mul()
                      f.get(yi).get(ap).get(kpBytes).call(axpyIndex)
                    })
                  },
                )
                f.get(rsold).get(p).get(ap).get(kpBytes).call(dotIndex).f32Div().set(alpha)
                f.get(alpha).get(p).get(x).get(kpBytes).call(axpyIndex)
                f.get(alpha).f32Neg().get(ap).get(r).get(kpBytes).call(axpyIndex)
                f.get(r).get(r).get(kpBytes).call(dotIndex).set(rsnew)
                // break: out of this body block (0), the loop (1) and the loop's block (2), +1 for the if
                f.get(rsnew).f32Const(1e-20).f32Lt()
                f.if(() => {
                  f.br(3)
                })
                f.get(r).get(p).get(rsnew).get(rsold).f32Div().get(kpBytes).call(xpbyIndex)
                f.get(rsnew).set(rsold)
              },
            )
          })
        },
      )
    },
  )
  return f
}

/**
 * Builds the module. Function order fixes the call indexes used inside it.
 */
export function buildKernelModule(options: { fma?: boolean } = {}): Uint8Array {
  const fma = options.fma === true
  const m = new ModuleBuilder()
  const dotIndex = m.add(buildDot(fma))
  const axpyIndex = m.add(buildAxpy(fma), false)
  const xpbyIndex = m.add(buildXpby(fma), false)
  const matvecIndex = m.add(buildMatvec(fma), false)
  m.add(buildGramRows(fma))
  m.add(buildCgRows(dotIndex, axpyIndex, xpbyIndex, matvecIndex))
  return m.encode(1, 65536)
}
