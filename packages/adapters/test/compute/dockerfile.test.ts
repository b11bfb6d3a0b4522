/**
 * Static checks of packages/trainer/Dockerfile. No Docker engine runs on the build machines, so the
 * image cannot be built here: these tests parse the instructions, check the base image, entrypoint
 * and that every file the build copies exists, and run the entrypoint script itself with `sh`.
 */
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { CONTAINER_ENTRYPOINT } from '../../src/compute/container.js'

const repoRoot = resolve(import.meta.dirname, '../../../..')
const dockerfilePath = join(repoRoot, 'packages/trainer/Dockerfile')

interface Instruction {
  keyword: string
  args: string
  /** Body of a heredoc (`<<'EOF'`), when the instruction has one. */
  heredoc?: string
  line: number
}

/** Parses Dockerfile instructions: comments, `\` continuations and heredocs (BuildKit syntax). */
function parseDockerfile(text: string): Instruction[] {
  const lines = text.split('\n')
  const out: Instruction[] = []
  for (let i = 0; i < lines.length; i++) {
    const start = i
    let line = lines[i]!
    if (/^\s*(#|$)/.test(line)) continue
    while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1)} ${lines[++i]!.trim()}`
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line)
    if (!match) throw new Error(`Dockerfile line ${start + 1} is not an instruction: ${line}`)
    const instruction: Instruction = { keyword: match[1]!.toUpperCase(), args: match[2]!, line: start + 1 }
    const heredoc = /<<-?'?([A-Z_]+)'?/.exec(instruction.args)
    if (heredoc) {
      const body: string[] = []
      while (++i < lines.length && lines[i] !== heredoc[1]) body.push(lines[i]!)
      if (i >= lines.length) throw new Error(`Unterminated heredoc ${heredoc[1]} at line ${start + 1}`)
      instruction.heredoc = `${body.join('\n')}\n`
    }
    out.push(instruction)
  }
  return out
}

const instructions = parseDockerfile(readFileSync(dockerfilePath, 'utf8'))
const entrypointScript = instructions.find(
  (i) => i.keyword === 'COPY' && i.args.includes(CONTAINER_ENTRYPOINT),
)?.heredoc

describe('packages/trainer/Dockerfile', () => {
  it('should use only known instructions and start from node:24-slim', () => {
    const known = new Set([
      'FROM',
      'ARG',
      'ENV',
      'WORKDIR',
      'COPY',
      'RUN',
      'ENTRYPOINT',
      'CMD',
      'USER',
      'LABEL',
    ])
    expect(instructions.filter((i) => !known.has(i.keyword))).toEqual([])
    const nodeImage = instructions.find((i) => i.keyword === 'ARG' && i.args.startsWith('NODE_IMAGE='))
    expect(nodeImage?.args).toBe('NODE_IMAGE=node:24-slim')
    const froms = instructions.filter((i) => i.keyword === 'FROM').map((i) => i.args)
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile ARG syntax, not a JS template.
    expect(froms).toEqual(['${NODE_IMAGE} AS build', '${NODE_IMAGE}'])
  })

  it('should copy only files that exist in the repository (build context = repo root)', () => {
    const sources = instructions
      .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from') && !i.heredoc)
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1))
    expect(sources.length).toBeGreaterThan(5)
    expect(sources.filter((source) => !existsSync(join(repoRoot, source)))).toEqual([])
  })

  it('should build and copy every workspace package the trainer imports at run time', () => {
    const trainer = JSON.parse(readFileSync(join(repoRoot, 'packages/trainer/package.json'), 'utf8')) as {
      dependencies: Record<string, string>
      bin: Record<string, string>
    }
    const workspaceDeps = Object.keys(trainer.dependencies).filter((name) => name.startsWith('@edgerec/'))
    const text = instructions.map((i) => i.args).join('\n')
    for (const name of [...workspaceDeps, '@edgerec/trainer']) {
      const folder = name.replace('@edgerec/', '')
      expect(text, name).toContain(`--workspace ${name}`)
      expect(text, name).toContain(`/app/packages/${folder}/dist packages/${folder}/dist`)
    }
    // The symlinked bin is the package's own edgerec-train bin.
    const bin = trainer.bin['edgerec-train']!.replace(/^\.\//, '')
    expect(text).toContain(`ln -s /app/packages/trainer/${bin} /usr/local/bin/edgerec-train`)
  })

  it('should enter through the edgerec entrypoint that the cloud computes name', () => {
    const entrypoint = instructions.filter((i) => i.keyword === 'ENTRYPOINT')
    expect(entrypoint).toHaveLength(1)
    expect(JSON.parse(entrypoint[0]!.args)).toEqual([CONTAINER_ENTRYPOINT])
    expect(JSON.parse(instructions.find((i) => i.keyword === 'CMD')!.args)).toEqual(['train'])
    expect(entrypointScript).toMatch(/^#!\/bin\/sh\n/)
    expect(entrypointScript).toContain('exec edgerec-train "$@"')
  })
})

describe('the image entrypoint script', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgerec-entrypoint-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const script = join(dir, 'edgerec-entrypoint')
  writeFileSync(script, entrypointScript ?? '')
  chmodSync(script, 0o755)
  // A stand-in for the trainer CLI that prints what it was given.
  const fakeTrainer = join(dir, 'edgerec-train')
  writeFileSync(
    fakeTrainer,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a JS template.
    '#!/bin/sh\nprintf "args=%s\\n" "$*"\nprintf "output=%s\\n" "${EDGEREC_OUTPUT:-}"\n',
  )
  chmodSync(fakeTrainer, 0o755)

  const run = (args: string[], env: Record<string, string>): { args: string; output: string } => {
    const out = execFileSync('sh', [script, ...args], {
      env: { PATH: `${dir}:/usr/bin:/bin`, ...env },
      encoding: 'utf8',
    })
    const lines = Object.fromEntries(
      out
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    )
    return { args: lines.args ?? '', output: lines.output ?? '' }
  }

  it('should default to train and pass EDGEREC_CONFIG as --config', () => {
    expect(run([], { EDGEREC_CONFIG: '/app/edgerec.config.ts' }).args).toBe(
      'train --config /app/edgerec.config.ts',
    )
    expect(run(['evaluate', '--k', '10'], {}).args).toBe('evaluate --k 10')
  })

  it('should write EDGEREC_CONFIG_JSON to a module the trainer can import', () => {
    const result = run(['train'], { EDGEREC_CONFIG_JSON: '{"als":{"factors":32}}' })
    expect(result.args).toBe('train --config /tmp/edgerec.config.mjs')
    expect(readFileSync('/tmp/edgerec.config.mjs', 'utf8')).toBe('export default {"als":{"factors":32}}\n')
    rmSync('/tmp/edgerec.config.mjs', { force: true })
  })

  it('should derive EDGEREC_OUTPUT from the platform output location when it is not set', () => {
    expect(JSON.parse(run([], { AIP_MODEL_DIR: 'gs://my-models/vertex/model' }).output)).toEqual({
      provider: 'gcs',
      bucket: 'my-models',
      prefix: 'vertex/model',
    })
    expect(JSON.parse(run([], { AZURE_ML_OUTPUT_model: '/mnt/azureml/cr/j/outputs/model' }).output)).toEqual({
      provider: 'local',
      root: '/mnt/azureml/cr/j/outputs/model',
    })
    expect(JSON.parse(run([], { SM_MODEL_DIR: '/opt/ml/model' }).output)).toEqual({
      provider: 'local',
      root: '/opt/ml/model',
    })
    const explicit = '{"provider":"s3","bucket":"b"}'
    expect(run([], { EDGEREC_OUTPUT: explicit, SM_MODEL_DIR: '/opt/ml/model' }).output).toBe(explicit)
  })
})
