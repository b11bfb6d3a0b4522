// comlink's node adapter ships types that `moduleResolution: nodenext` cannot find for the `.mjs`
// path; this declares the one function used.
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink'

  interface NodeEndpoint {
    postMessage(message: unknown, transfer?: readonly unknown[]): void
    on(type: string, listener: (value: unknown) => void): void
    off(type: string, listener: (value: unknown) => void): void
    start?: () => void
  }
  export default function nodeEndpoint(endpoint: NodeEndpoint): Endpoint
}
