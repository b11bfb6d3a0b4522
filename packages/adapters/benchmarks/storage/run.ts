/**
 * Upload / download throughput of each Storage implementation for one 100 MiB object against the
 * servers the tests use (local disk, S3 on s3rver, Azure Blob on Azurite, GCS on the JSON-API test
 * server), against a baseline measured in the same run: `fs.writeFile` / `fs.readFile` of the same
 * bytes in a temp folder (the floor for moving them on this machine).
 *
 *   npx tsx benchmarks/storage/run.ts [--mib 100] [--runs 3] [--only local,s3,azure-blob,gcs]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { S3Client } from '@aws-sdk/client-s3'
import { ContainerClient } from '@azure/storage-blob'
import { S3Storage } from '../../src/aws/storage.js'
import { AzureBlobStorage } from '../../src/azure/storage.js'
import { GcsStorage } from '../../src/gcp/storage.js'
import { LocalStorage } from '../../src/local/storage.js'
import type { Storage } from '../../src/storage/storage.js'
import { startAzurite } from '../../test/servers/azurite.js'
import { startGcsServer } from '../../test/servers/gcs-json-api.js'
import { S3RVER_CREDENTIALS, startS3rver } from '../../test/servers/s3rver.js'
import { seededBytes, sha256 } from '../../test/storage/data.js'

const { values } = parseArgs({
  options: {
    mib: { type: 'string', default: '100' },
    runs: { type: 'string', default: '3' },
    only: { type: 'string', default: 'local,s3,azure-blob,gcs' },
  },
})
const size = Number(values.mib) * 1024 * 1024
const runs = Number(values.runs)
const only = new Set(values.only.split(','))

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const rate = (ms: number): number => size / 1024 / 1024 / (ms / 1000)

const dir = mkdtempSync(join(tmpdir(), 'edgerec-bench-storage-'))
const stops: Array<() => Promise<void>> = []
try {
  const bytes = seededBytes(size, 42)
  const digest = sha256(bytes)
  const storages: Array<[string, Storage]> = []
  if (only.has('local'))
    storages.push(['local disk (LocalStorage)', new LocalStorage({ root: join(dir, 'local') })])
  if (only.has('s3')) {
    const s3rver = await startS3rver(['bench'])
    stops.push(s3rver.stop)
    const client = new S3Client({
      ...S3Storage.clientConfig({
        bucket: 'bench',
        endpoint: s3rver.endpoint,
        forcePathStyle: true,
        region: 'us-east-1',
      }),
      credentials: S3RVER_CREDENTIALS,
    })
    storages.push(['S3Storage on s3rver (multipart 8 MiB)', new S3Storage({ bucket: 'bench', client })])
  }
  if (only.has('azure-blob')) {
    const azurite = await startAzurite()
    stops.push(azurite.stop)
    await new ContainerClient(azurite.connectionString, 'bench').create()
    process.env.EDGEREC_BENCH_AZURITE = azurite.connectionString
    storages.push([
      'AzureBlobStorage on Azurite (blocks 8 MiB)',
      new AzureBlobStorage({ container: 'bench', connectionStringEnv: 'EDGEREC_BENCH_AZURITE' }),
    ])
  }
  if (only.has('gcs')) {
    const gcs = await startGcsServer(['bench'])
    stops.push(gcs.stop)
    storages.push([
      'GcsStorage on GCS test server (resumable)',
      new GcsStorage({ bucket: 'bench', apiEndpoint: gcs.endpoint, projectId: 'bench' }),
    ])
  }

  const baseUp: number[] = []
  const baseDown: number[] = []
  const results = new Map<string, { up: number[]; down: number[]; stream: number[] }>()
  for (let run = 0; run < runs; run++) {
    const path = join(dir, `baseline-${run}.bin`)
    let t = performance.now()
    await writeFile(path, bytes)
    baseUp.push(performance.now() - t)
    t = performance.now()
    const back = await readFile(path)
    baseDown.push(performance.now() - t)
    if (back.length !== size) throw new Error('baseline read back the wrong size')

    for (const [name, storage] of storages) {
      const r = results.get(name) ?? { up: [], down: [], stream: [] }
      results.set(name, r)
      const key = `bench/run-${run}.bin`
      t = performance.now()
      await storage.put(key, bytes)
      r.up.push(performance.now() - t)
      t = performance.now()
      const got = await storage.get(key)
      r.down.push(performance.now() - t)
      if (got === undefined || sha256(got) !== digest) throw new Error(`${name}: read back different bytes`)
      t = performance.now()
      const stream = await storage.getStream(key)
      let streamed = 0
      for await (const chunk of stream!) streamed += chunk.length
      r.stream.push(performance.now() - t)
      if (streamed !== size) throw new Error(`${name}: streamed ${streamed} bytes`)
      await storage.delete(key)
    }
  }

  const fmt = (ms: number[]) =>
    `${median(ms).toFixed(0).padStart(6)} ms ${rate(median(ms)).toFixed(1).padStart(7)} MiB/s`
  console.log(
    `storage throughput: one ${values.mib} MiB object, ${runs} runs (median), node ${process.version}`,
  )
  console.log(`${'implementation'.padEnd(44)} ${'put'.padEnd(22)} ${'get'.padEnd(22)} getStream`)
  console.log(`${'baseline fs.writeFile / fs.readFile'.padEnd(44)} ${fmt(baseUp)}  ${fmt(baseDown)}`)
  for (const [name, r] of results)
    console.log(`${name.padEnd(44)} ${fmt(r.up)}  ${fmt(r.down)}  ${fmt(r.stream)}`)
  console.log('ratios vs baseline (time / baseline time):')
  for (const [name, r] of results) {
    console.log(
      `  ${name.padEnd(42)} put ${(median(r.up) / median(baseUp)).toFixed(1)}×  get ${(median(r.down) / median(baseDown)).toFixed(1)}×`,
    )
  }
} finally {
  for (const stop of stops) await stop()
  rmSync(dir, { recursive: true, force: true })
}
