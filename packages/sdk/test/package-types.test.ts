/**
 * The published declarations as consumers see them: TypeScript (node16 resolution) compiles a
 * CommonJS and an ES module consumer of `@edgerec/sdk`; each must resolve through the package's
 * `exports` to its own build and type-check.
 */
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const dir = new URL('./fixtures/consumers/', import.meta.url).pathname

describe('package types', () => {
  it('should type-check a require() consumer against dist/cjs and an import consumer against dist', () => {
    const files = [`${dir}require.cts`, `${dir}import.mts`]
    const options: ts.CompilerOptions = {
      module: ts.ModuleKind.Node16,
      moduleResolution: ts.ModuleResolutionKind.Node16,
      strict: true,
      noEmit: true,
      types: [],
    }
    const program = ts.createProgram(files, options)
    const diagnostics = ts
      .getPreEmitDiagnostics(program)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
    expect(diagnostics).toEqual([])
    const modes = [ts.ModuleKind.CommonJS, ts.ModuleKind.ESNext] as const
    const resolved = files.map(
      (file, i) =>
        ts.resolveModuleName('@edgerec/sdk', file, options, ts.sys, undefined, undefined, modes[i])
          .resolvedModule?.resolvedFileName,
    )
    expect(resolved[0]).toMatch(/\/dist\/cjs\/index\.d\.ts$/)
    expect(resolved[1]).toMatch(/\/dist\/index\.d\.ts$/)
  })
})
