/**
 * The published declarations as consumers see them: TypeScript compiles a CommonJS and an ES module
 * consumer of `@edgerec/sdk` (`module: node20`, where `require()` of an ES module type-checks as
 * Node ≥ 22.12 runs it); both resolve through the package's `exports` to the one ESM build.
 */
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const dir = new URL('./fixtures/consumers/', import.meta.url).pathname

describe('package types', () => {
  it('should type-check a require() consumer and an import consumer against the one build in dist', () => {
    const files = [`${dir}require.cts`, `${dir}import.mts`]
    const options: ts.CompilerOptions = {
      module: ts.ModuleKind.Node20,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
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
    expect(resolved[0]).toMatch(/\/dist\/index\.d\.ts$/)
    expect(resolved[1]).toMatch(/\/dist\/index\.d\.ts$/)
  })
})
