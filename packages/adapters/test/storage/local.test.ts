import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import { LocalStorage } from '../../src/local/storage.js'
import { describeStorageConformance } from './conformance.js'

let base: string
let n = 0
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'edgerec-local-conformance-'))
})
afterAll(async () => {
  await rm(base, { recursive: true, force: true })
})

describeStorageConformance('LocalStorage', () => new LocalStorage({ root: join(base, `t${n++}`) }), {
  conditionalPut: 'enforced',
})
