/**
 * Where the SDK keeps its anonymous id, user id and event queue between page loads or app starts.
 *
 * @module
 */

/**
 * A string key-value store, synchronous or asynchronous. React Native's `AsyncStorage`,
 * `localStorage`, `sessionStorage` and most key-value stores fit as they are.
 *
 * @example
 * ```ts
 * import AsyncStorage from '@react-native-async-storage/async-storage'
 * const recs = createClient({ endpoint, publishableKey, storage: AsyncStorage })
 * ```
 */
export interface KeyValueStorage {
  getItem(key: string): string | null | undefined | Promise<string | null | undefined>
  setItem(key: string, value: string): void | Promise<void>
  removeItem(key: string): void | Promise<void>
}

/** A store that lives as long as the process: the default where no persistent store exists (Node, Workers). */
export function memoryStorage(): KeyValueStorage {
  const values = new Map<string, string>()
  return {
    getItem: (key) => values.get(key),
    setItem: (key, value) => void values.set(key, value),
    removeItem: (key) => void values.delete(key),
  }
}

/**
 * `localStorage` when the runtime has one and it accepts writes (Safari private mode, sandboxed
 * iframes and disabled storage throw), else `undefined`.
 */
export function webStorage(): KeyValueStorage | undefined {
  try {
    const store = globalThis.localStorage
    store.setItem('edgerec:probe', '1')
    store.removeItem('edgerec:probe')
    return store
  } catch {
    return undefined
  }
}
