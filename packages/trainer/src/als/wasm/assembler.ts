/**
 * A minimal WebAssembly binary writer: just enough of the format (types, one imported shared
 * memory, functions, exports, scalar + SIMD128 instructions) to emit the ALS kernels at load time.
 *
 * NOTE: emitting the module from TypeScript keeps the kernels reviewable as code, needs no
 * toolchain (wat2wasm, clang) at build or install time, and works identically from `dist` and
 * under vitest.
 *
 * @internal
 * @module
 */

/** A WebAssembly value type. */
export type ValType = 'i32' | 'f32' | 'f64' | 'v128'

const VAL_TYPE_CODE: Record<ValType, number> = { i32: 0x7f, f32: 0x7d, f64: 0x7c, v128: 0x7b }

function unsignedLeb(value: number, out: number[]): void {
  let v = value >>> 0
  do {
    let byte = v & 0x7f
    v >>>= 7
    if (v !== 0) byte |= 0x80
    out.push(byte)
  } while (v !== 0)
}

function signedLeb(value: number, out: number[]): void {
  let v = value | 0
  for (;;) {
    const byte = v & 0x7f
    v >>= 7
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)
    out.push(done ? byte : byte | 0x80)
    if (done) return
  }
}

function encodeName(name: string, out: number[]): void {
  const bytes = new TextEncoder().encode(name)
  unsignedLeb(bytes.length, out)
  out.push(...bytes)
}

/** A local variable or parameter index. */
export type Local = number & { readonly __local: unique symbol }

/** Builds the body of one function. Instruction methods return `this` for chaining. */
export class FunctionBuilder {
  readonly name: string
  readonly params: ValType[]
  readonly results: ValType[]
  readonly #locals: ValType[] = []
  readonly #code: number[] = []

  constructor(name: string, params: ValType[], results: ValType[]) {
    this.name = name
    this.params = params
    this.results = results
  }

  /** The i-th parameter. */
  param(i: number): Local {
    return i as Local
  }

  /** Declares a new local of `type`. */
  local(type: ValType): Local {
    this.#locals.push(type)
    return (this.params.length + this.#locals.length - 1) as Local
  }

  #op(...bytes: number[]): this {
    this.#code.push(...bytes)
    return this
  }

  #simd(opcode: number): this {
    this.#code.push(0xfd)
    unsignedLeb(opcode, this.#code)
    return this
  }

  #memarg(align: number, offset: number): this {
    unsignedLeb(align, this.#code)
    unsignedLeb(offset, this.#code)
    return this
  }

  get(l: Local): this {
    this.#op(0x20)
    unsignedLeb(l, this.#code)
    return this
  }
  set(l: Local): this {
    this.#op(0x21)
    unsignedLeb(l, this.#code)
    return this
  }
  tee(l: Local): this {
    this.#op(0x22)
    unsignedLeb(l, this.#code)
    return this
  }

  /** `block … end`; `br 0` inside jumps past the end. */
  block(body: () => void): this {
    this.#op(0x02, 0x40)
    body()
    return this.#op(0x0b)
  }
  /** `loop … end`; `br 0` inside jumps back to the start. */
  loop(body: () => void): this {
    this.#op(0x03, 0x40)
    body()
    return this.#op(0x0b)
  }
  /** `if … (else …) end` on the i32 on the stack. */
  if(then: () => void, otherwise?: () => void): this {
    this.#op(0x04, 0x40)
    then()
    if (otherwise) {
      this.#op(0x05)
      otherwise()
    }
    return this.#op(0x0b)
  }
  br(depth: number): this {
    this.#op(0x0c)
    unsignedLeb(depth, this.#code)
    return this
  }
  brIf(depth: number): this {
    this.#op(0x0d)
    unsignedLeb(depth, this.#code)
    return this
  }
  call(functionIndex: number): this {
    this.#op(0x10)
    unsignedLeb(functionIndex, this.#code)
    return this
  }
  drop(): this {
    return this.#op(0x1a)
  }
  select(): this {
    return this.#op(0x1b)
  }

  i32Const(v: number): this {
    this.#op(0x41)
    signedLeb(v, this.#code)
    return this
  }
  f32Const(v: number): this {
    const bytes = new Uint8Array(new Float32Array([v]).buffer)
    return this.#op(0x43, ...bytes)
  }
  i32Load(offset = 0): this {
    return this.#op(0x28).#memarg(2, offset)
  }
  f32Load(offset = 0): this {
    return this.#op(0x2a).#memarg(2, offset)
  }
  f32Store(offset = 0): this {
    return this.#op(0x38).#memarg(2, offset)
  }
  i32Eqz(): this {
    return this.#op(0x45)
  }
  i32Eq(): this {
    return this.#op(0x46)
  }
  i32Ne(): this {
    return this.#op(0x47)
  }
  i32LtU(): this {
    return this.#op(0x49)
  }
  i32GeU(): this {
    return this.#op(0x4f)
  }
  f32Eq(): this {
    return this.#op(0x5b)
  }
  f32Ne(): this {
    return this.#op(0x5c)
  }
  f32Lt(): this {
    return this.#op(0x5d)
  }
  f32Gt(): this {
    return this.#op(0x5e)
  }
  i32Add(): this {
    return this.#op(0x6a)
  }
  i32Sub(): this {
    return this.#op(0x6b)
  }
  i32Mul(): this {
    return this.#op(0x6c)
  }
  i32Shl(): this {
    return this.#op(0x74)
  }
  i32ShrU(): this {
    return this.#op(0x76)
  }
  f32Abs(): this {
    return this.#op(0x8b)
  }
  f32Neg(): this {
    return this.#op(0x8c)
  }
  f32Add(): this {
    return this.#op(0x92)
  }
  f32Sub(): this {
    return this.#op(0x93)
  }
  f32Mul(): this {
    return this.#op(0x94)
  }
  f32Div(): this {
    return this.#op(0x95)
  }
  f32Max(): this {
    return this.#op(0x97)
  }

  v128Load(offset = 0): this {
    return this.#simd(0x00).#memarg(4, offset)
  }
  v128Store(offset = 0): this {
    return this.#simd(0x0b).#memarg(4, offset)
  }
  v128Zero(): this {
    this.#simd(0x0c)
    for (let i = 0; i < 16; i++) this.#code.push(0)
    return this
  }
  f32x4Splat(): this {
    return this.#simd(0x13)
  }
  f32x4ExtractLane(lane: number): this {
    this.#simd(0x1f)
    this.#code.push(lane)
    return this
  }
  f32x4Add(): this {
    return this.#simd(0xe4)
  }
  f32x4Sub(): this {
    return this.#simd(0xe5)
  }
  f32x4Mul(): this {
    return this.#simd(0xe6)
  }
  /** Relaxed SIMD `f32x4.relaxed_madd`: a · b + c, fused where the CPU has FMA. */
  f32x4RelaxedMadd(): this {
    return this.#simd(0x105)
  }

  /** The encoded body (locals + code + `end`). */
  encode(): number[] {
    const body: number[] = []
    // One local entry per declared local keeps the encoder trivial; the count is small.
    unsignedLeb(this.#locals.length, body)
    for (const t of this.#locals) {
      body.push(1, VAL_TYPE_CODE[t])
    }
    body.push(...this.#code, 0x0b)
    const out: number[] = []
    unsignedLeb(body.length, out)
    out.push(...body)
    return out
  }
}

/** Builds a module that imports one shared memory `env.memory` and exports its functions. */
export class ModuleBuilder {
  readonly #functions: FunctionBuilder[] = []
  readonly #exported = new Set<string>()

  /** Adds a function; its index (for `call`) is the return value. */
  add(fn: FunctionBuilder, exported = true): number {
    this.#functions.push(fn)
    if (exported) this.#exported.add(fn.name)
    return this.#functions.length - 1
  }

  /** Index the next added function will get. */
  get nextIndex(): number {
    return this.#functions.length
  }

  /**
   * Encodes the module. The memory import is shared with `minPages`/`maxPages` limits; the
   * instantiating code passes any shared memory whose size fits those limits.
   */
  encode(minPages: number, maxPages: number): Uint8Array {
    const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]
    const section = (id: number, content: number[]): void => {
      out.push(id)
      unsignedLeb(content.length, out)
      out.push(...content)
    }
    const types: number[] = []
    unsignedLeb(this.#functions.length, types)
    for (const fn of this.#functions) {
      types.push(0x60)
      unsignedLeb(fn.params.length, types)
      for (const p of fn.params) types.push(VAL_TYPE_CODE[p])
      unsignedLeb(fn.results.length, types)
      for (const r of fn.results) types.push(VAL_TYPE_CODE[r])
    }
    section(1, types)
    const imports: number[] = [1]
    encodeName('env', imports)
    encodeName('memory', imports)
    imports.push(0x02, 0x03)
    unsignedLeb(minPages, imports)
    unsignedLeb(maxPages, imports)
    section(2, imports)
    const funcs: number[] = []
    unsignedLeb(this.#functions.length, funcs)
    for (let i = 0; i < this.#functions.length; i++) unsignedLeb(i, funcs)
    section(3, funcs)
    const exports: number[] = []
    const exported = this.#functions
      .map((fn, i) => ({ fn, i }))
      .filter(({ fn }) => this.#exported.has(fn.name))
    unsignedLeb(exported.length, exports)
    for (const { fn, i } of exported) {
      encodeName(fn.name, exports)
      exports.push(0x00)
      unsignedLeb(i, exports)
    }
    section(7, exports)
    const code: number[] = []
    unsignedLeb(this.#functions.length, code)
    for (const fn of this.#functions) code.push(...fn.encode())
    section(10, code)
    return Uint8Array.from(out)
  }
}
