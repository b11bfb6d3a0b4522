/**
 * `npm run bench -w @edgerec/sdk` (second part): the cost of `track()` on the app's thread, with a
 * synchronous localStorage-like store, against the irreducible work measured in the same run
 * (a UUID, the event object, one JSON.stringify of it, an array push).
 *
 * - burst: N track() calls in one tick (a page tracking impressions), then the queue write.
 * - spaced: one track() per tick, so every event rewrites the whole queue (worst case of
 *   persisting: O(queue length) per event), queue growing from 0 to N.
 */
import { EdgerecClient, type KeyValueStorage } from '@edgerec/sdk'

const N = Number(process.argv[2] ?? 1000)
const RUNS = 7

function syncStore(): KeyValueStorage & { writes: number; bytes: number } {
  const values = new Map<string, string>()
  const store = {
    writes: 0,
    bytes: 0,
    getItem: (key: string) => values.get(key) ?? null,
    setItem: (key: string, value: string) => {
      store.writes++
      store.bytes += value.length
      values.set(key, value)
    },
    removeItem: (key: string) => void values.delete(key),
  }
  return store
}

const neverFetch = (() => new Promise<Response>(() => {})) as typeof fetch

async function client(storage: KeyValueStorage): Promise<EdgerecClient> {
  const recs = new EdgerecClient({
    endpoint: 'https://recs.invalid',
    publishableKey: 'pk_bench',
    storage,
    fetch: neverFetch,
    flushAt: 1e9,
    maxQueueSize: 1e9,
    flushIntervalMs: 3_600_000,
  })
  await recs.ready
  return recs
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

async function baseline(): Promise<number> {
  const start = performance.now()
  const queue: unknown[] = []
  for (let i = 0; i < N; i++) {
    const event = {
      id: crypto.randomUUID(),
      type: 'view',
      itemId: `sku-${i}`,
      timestamp: Date.now(),
      anonymousId: 'a',
    }
    JSON.stringify(event)
    queue.push(event)
  }
  return performance.now() - start
}

async function burst(): Promise<{ ms: number; writes: number }> {
  const store = syncStore()
  const recs = await client(store)
  await Promise.resolve()
  const writesBefore = store.writes
  const start = performance.now()
  for (let i = 0; i < N; i++) recs.track('view', { itemId: `sku-${i}` })
  while (store.writes === writesBefore) await Promise.resolve()
  const ms = performance.now() - start
  recs.close()
  return { ms, writes: store.writes - writesBefore }
}

async function spaced(): Promise<{ ms: number; writes: number; mib: number }> {
  const store = syncStore()
  const recs = await client(store)
  await Promise.resolve()
  const before = { writes: store.writes, bytes: store.bytes }
  let ms = 0
  for (let i = 0; i < N; i++) {
    const writes = store.writes
    const start = performance.now()
    recs.track('view', { itemId: `sku-${i}` })
    // The queue write runs a few microtasks later: time until it happened, not the idle tick.
    while (store.writes === writes) await Promise.resolve()
    ms += performance.now() - start
    await new Promise((resolve) => setTimeout(resolve, 0))
  }
  recs.close()
  return { ms, writes: store.writes - before.writes, mib: (store.bytes - before.bytes) / 2 ** 20 }
}

const results = { baseline: [] as number[], burst: [] as number[], spaced: [] as number[] }
let burstWrites = 0
let spacedWrites = 0
let spacedMib = 0
for (let run = 0; run < RUNS; run++) {
  results.baseline.push(await baseline())
  const b = await burst()
  results.burst.push(b.ms)
  burstWrites = b.writes
  const s = await spaced()
  results.spaced.push(s.ms)
  spacedWrites = s.writes
  spacedMib = s.mib
}

const perEvent = (ms: number) => `${((ms * 1e6) / N / 1000).toFixed(2)} µs/event`
const base = median(results.baseline)
const burstMs = median(results.burst)
const spacedMs = median(results.spaced)
console.log(`@edgerec/sdk track() cost, ${N} events, median of ${RUNS} runs (node ${process.version})`)
console.log(`baseline (uuid + object + JSON.stringify + push)    ${base.toFixed(2)} ms  ${perEvent(base)}`)
console.log(
  `burst: ${N} track() in one tick + one queue write    ${burstMs.toFixed(2)} ms  ${perEvent(burstMs)}  (${burstWrites} queue write(s))  ${(burstMs / base).toFixed(2)}× baseline`,
)
console.log(
  `spaced: one track() per tick, each + its queue write  ${spacedMs.toFixed(2)} ms  ${perEvent(spacedMs)}  (${spacedWrites} writes, ${spacedMib.toFixed(1)} MiB written)  ${(spacedMs / base).toFixed(2)}× baseline`,
)
