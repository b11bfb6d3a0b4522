// Minimal types for autocannon 9 (it ships none): only what benchmarks/run.ts uses.
declare module 'autocannon' {
  interface Histogram {
    p50: number
    p99: number
    average: number
  }
  interface Result {
    latency: Histogram
    requests: Histogram
    errors: number
    timeouts: number
    non2xx: number
    /** Answers per status code, e.g. `{ "200": { count: 990 }, "503": { count: 10 } }`. */
    statusCodeStats: Record<string, { count: number }>
  }
  interface Options {
    url: string
    connections?: number
    duration?: number
    overallRate?: number
    headers?: Record<string, string>
    requests?: { setupRequest?: (request: { path: string }) => { path: string } }[]
  }
  function autocannon(options: Options): Promise<Result>
  export default autocannon
}
