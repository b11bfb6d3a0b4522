/**
 * One measured ALS training for `memory.ts`, in its own plain `node` process (no tsx loader, as
 * `edgerec-train` runs): reads the matrix file `memory.ts` wrote, into ordinary typed arrays
 * (`--input copy`: the caller keeps its own CSR and the trainer copies it into its memory) or
 * straight into the ALS memory (`--input als-memory`: `allocateAlsMatrix`), trains with the given
 * built trainer (`--dist`: this package's `dist`, or a build of another commit for an A/B), and
 * prints one JSON line: RSS and peak RSS (MiB) after each stage, the median seconds per iteration.
 *
 * Usage: node memory-child.mjs --file <matrix.bin> --dist <trainer dist dir> --threads 2 --input copy|als-memory
 *        [--iterations 1]
 *
 * @module
 */
import { closeSync, openSync, readSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

const { values: args } = parseArgs({
  options: {
    file: { type: 'string' },
    dist: { type: 'string' },
    threads: { type: 'string', default: '2' },
    input: { type: 'string', default: 'copy' },
    iterations: { type: 'string', default: '1' },
  },
})
const mib = (bytes) => Math.round(bytes / 2 ** 20)
const stages = []
const stage = (name) =>
  stages.push({
    name,
    rssMiB: mib(process.memoryUsage.rss()),
    peakMiB: mib(process.resourceUsage().maxRSS * 1024),
  })

const als = await import(pathToFileURL(resolve(args.dist, 'als/index.js')).href)
stage('node + trainer')
const options = {
  factors: 64,
  regularization: 0.05,
  alpha: 1,
  cgSteps: 3,
  iterations: Number(args.iterations),
  threads: Number(args.threads),
  seed: 1,
}
const fd = openSync(args.file, 'r')
const readInto = (array, position) => {
  const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength)
  for (let done = 0; done < bytes.length; ) {
    const n = readSync(fd, bytes, done, Math.min(2 ** 30, bytes.length - done), position + done)
    if (n === 0) throw new Error(`${args.file} is shorter than its header says`)
    done += n
  }
  return position + bytes.length
}
const header = new Uint32Array(3)
let at = readInto(header, 0)
const [rows, cols, pairs] = header
const matrix =
  args.input === 'als-memory'
    ? als.allocateAlsMatrix(rows, cols, pairs, options)
    : {
        rows,
        cols,
        indptr: new Uint32Array(rows + 1),
        indices: new Uint32Array(pairs),
        values: new Float32Array(pairs),
        timestamps: new Float64Array(0),
      }
at = readInto(matrix.indptr, at)
at = readInto(matrix.indices, at)
readInto(matrix.values, at)
closeSync(fd)
stage('input CSR')
const seconds = []
const model = await als.trainAls(matrix, {
  ...options,
  onIteration: (p) => {
    seconds.push(p.seconds)
    if (p.iteration === 1) stage('first iteration')
  },
})
stage('after training, workers stopped')
console.log(
  JSON.stringify({
    input: args.input,
    threads: Number(args.threads),
    pairs,
    factorsMiB: mib(model.userFactors.byteLength + model.itemFactors.byteLength),
    secondsPerIteration: seconds.sort((a, b) => a - b)[Math.floor(seconds.length / 2)],
    stages,
  }),
)
