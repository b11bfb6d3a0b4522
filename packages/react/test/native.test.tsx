// @vitest-environment node
/**
 * The hooks under React Native's conditions, short of a device: no DOM (Node environment, so the
 * SDK's `createClient` gives its platform-free client, as on Hermes), an AsyncStorage-like store that
 * answers with promises, and a reconciler-based renderer (`test-renderer`, the one React Native
 * Testing Library uses) that enforces React Native's rule that text lives only inside `Text`.
 */
import { createClient, type KeyValueStorage } from '@edgerec/sdk'
import { act, createElement, type ReactNode } from 'react'
import { createRoot, type Root, type TestInstance } from 'test-renderer'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createNativeShop, type NativePrimitives } from '../example/NativeShop.js'
import { type ApiServer, startApi } from './server.js'

// React's act() warns unless the environment says it is a test renderer's.
;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true

/** Host components as React Native's Jest preset renders them: elements named after the component. */
const primitives: NativePrimitives = {
  View: (props) => createElement('View', props),
  Text: (props) => createElement('Text', props),
  Pressable: (props) => createElement('Pressable', props),
}

/** Text straight inside a View: fine on the web, an error on React Native. */
function Bare(): ReactNode {
  return <primitives.View>loose text</primitives.View>
}

/** `@react-native-async-storage/async-storage`'s contract: every call answers with a promise. */
function asyncStorage(): KeyValueStorage & { values: Map<string, string> } {
  const values = new Map<string, string>()
  return {
    values,
    getItem: async (key) => values.get(key) ?? null,
    setItem: async (key, value) => void values.set(key, value),
    removeItem: async (key) => void values.delete(key),
  }
}

let api: ApiServer
beforeAll(async () => {
  api = await startApi()
})
afterAll(() => api.close())

function texts(node: TestInstance): string[] {
  return node.queryAll((n) => n.type === 'Text').map((n) => n.children.join(''))
}

function pressable(root: Root, label: string): TestInstance {
  const [found] = root.container.queryAll(
    (n) => n.type === 'Pressable' && n.props.accessibilityLabel === label,
  )
  if (!found) throw new Error(`no Pressable "${label}" in ${JSON.stringify(texts(root.container))}`)
  return found
}

/** Waits inside act() until `check` passes (the renderer has no waitFor). */
async function until(check: () => void, timeoutMs = 10_000): Promise<void> {
  const started = Date.now()
  for (;;) {
    try {
      check()
      return
    } catch (error) {
      if (Date.now() - started > timeoutMs) throw error
      await act(() => new Promise((resolve) => setTimeout(resolve, 20)))
    }
  }
}

describe('@edgerec/react under React Native conditions', () => {
  it('should have no DOM here, so the SDK gives the platform-free client', () => {
    expect(typeof document).toBe('undefined')
    expect(typeof window).toBe('undefined')
  })

  it('should render the native shop, open similar items on press, and keep personalization through sign-in', async () => {
    const storage = asyncStorage()
    const recs = createClient({ endpoint: api.url, publishableKey: 'pk', storage, flushAt: 1, cacheTtlMs: 0 })
    const Shop = createNativeShop(primitives, recs)
    const errors: unknown[] = []
    const root = createRoot({ textComponentTypes: ['Text'], onUncaughtError: (e) => errors.push(e) })
    await act(async () => root.render(<Shop />))

    await until(() => expect(texts(root.container)).toContain('top-1'))
    expect(texts(root.container)).toContain('Recommended for you (popular)')

    await act(async () => (pressable(root, 'top-1').props.onPress as () => void)())
    await until(() => expect(texts(root.container)).toContain('top-1-twin'))
    await act(() => recs.flush().then(() => undefined))
    expect(api.events).toContainEqual(expect.objectContaining({ itemId: 'top-1', type: 'view' }))

    await act(async () => (pressable(root, 'Sign in').props.onPress as () => void)())
    await until(() => expect(texts(root.container)).toContain('Sign out user-42'))
    // The view before sign-in counts for the user at once: the list is the fold-in one.
    await until(() => expect(texts(root.container)).toContain('Recommended for you (fold-in)'))
    expect(texts(root.container)).toContain('like-top-1')
    // The anonymous id and the user were kept through the promise-based store.
    expect([...storage.values.values()]).toContain('user-42')

    await act(async () => (pressable(root, 'Sign out').props.onPress as () => void)())
    await until(() => expect(texts(root.container)).toContain('Sign in'))
    await until(() => expect(texts(root.container)).toContain('Recommended for you (popular)'))
    await act(async () => root.unmount())
    expect(errors).toEqual([])
  })

  it('should refuse text outside Text, as React Native does (the renderer enforces the platform rule)', async () => {
    const root = createRoot({ textComponentTypes: ['Text'] })
    await expect(act(async () => root.render(<Bare />))).rejects.toThrow(/Text/)
  })
})
