/** `.wasm` imports: wrangler and the vitest plugin bundle them as compiled modules. */
declare module '*.wasm' {
  const module: WebAssembly.Module
  export default module
}
