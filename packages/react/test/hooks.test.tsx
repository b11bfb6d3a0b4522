import { EdgerecClient } from '@edgerec/sdk'
import { act, cleanup, fireEvent, render, renderHook, screen, waitFor } from '@testing-library/react'
import type { ReactNode } from 'react'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createShop } from '../example/Shop.js'
import {
  EdgerecProvider,
  useEdgerec,
  useIdentity,
  useRecommendations,
  useSimilar,
  useTrack,
} from '../src/index.js'
import { type ApiServer, startApi } from './server.js'

let api: ApiServer

beforeAll(async () => {
  api = await startApi()
})
// Testing Library unmounts after each test by itself only when the runner's globals are on (they
// are not here): without this, trees of earlier tests stay mounted and React's scheduler can run
// their work after jsdom is torn down ("window is not defined" at the end of the file).
afterEach(() => cleanup())
afterAll(() => api.close())

function setup() {
  const client = new EdgerecClient({ endpoint: api.url, publishableKey: 'pk', storage: null, cacheTtlMs: 0 })
  const wrapper = ({ children }: { children: ReactNode }) => (
    <EdgerecProvider client={client}>{children}</EdgerecProvider>
  )
  return { client, wrapper }
}

describe('useRecommendations', () => {
  it('should load, then refetch for the user after identify and for a new visitor after reset', async () => {
    const { client, wrapper } = setup()
    const { result } = renderHook(
      () => ({ recs: useRecommendations({ k: 4 }), who: useIdentity(), track: useTrack() }),
      {
        wrapper,
      },
    )
    expect(result.current.recs.loading).toBe(true)
    await waitFor(() => expect(result.current.recs.data?.source).toBe('popular'))
    expect(result.current.recs.data?.userId).toBe(client.anonymousId)

    act(() => void result.current.track('view', { itemId: 'sku-9' }))
    await act(() => client.flush().then(() => undefined))
    await act(() => result.current.who.identify('user-7'))
    await waitFor(() => expect(result.current.recs.data?.userId).toBe('user-7'))
    // The anonymous click counts for the user at once (the link was made on identify).
    expect(result.current.recs.data).toMatchObject({ source: 'fold-in', items: [{ itemId: 'like-sku-9' }] })
    expect(result.current.who.userId).toBe('user-7')

    act(() => result.current.who.reset())
    await waitFor(() => expect(result.current.recs.data?.userId).toBe(client.anonymousId))
    expect(result.current.recs.data?.source).toBe('popular')
    expect(result.current.who.userId).toBeUndefined()
  })

  it('should refetch on refresh() and when the options change', async () => {
    const { wrapper } = setup()
    const before = api.requests.length
    const { result, rerender } = renderHook(({ k }) => useRecommendations({ k }), {
      wrapper,
      initialProps: { k: 2 },
    })
    await waitFor(() => expect(result.current.loading).toBe(false))
    act(() => result.current.refresh())
    await waitFor(() => expect(result.current.loading).toBe(false))
    rerender({ k: 3 })
    await waitFor(() =>
      expect(api.requests.slice(before).filter((r) => r.includes('recommendations'))).toHaveLength(3),
    )
  })
})

describe('useSimilar', () => {
  it('should read nothing without an item, then the similar items, and surface an unknown item as an error', async () => {
    const { wrapper } = setup()
    const { result, rerender } = renderHook(({ id }: { id?: string }) => useSimilar(id, { k: 3 }), {
      wrapper,
      initialProps: {},
    })
    expect(result.current).toMatchObject({ loading: false, data: undefined })
    rerender({ id: 'sku-1' })
    await waitFor(() => expect(result.current.data?.items).toEqual([{ itemId: 'sku-1-twin', score: 0.9 }]))
    rerender({ id: 'unknown' })
    await waitFor(() => expect(result.current.error?.code).toBe('ITEM_NOT_FOUND'))
    expect(result.current.data?.itemId).toBe('sku-1')
  })
})

describe('useTrack and useEdgerec', () => {
  it('should track through the provider client and keep one stable function', async () => {
    const { client, wrapper } = setup()
    const { result, rerender } = renderHook(() => ({ track: useTrack(), client: useEdgerec() }), { wrapper })
    const first = result.current.track
    rerender()
    expect(result.current.track).toBe(first)
    expect(result.current.client).toBe(client)
    const id = result.current.track('add_to_cart', { itemId: 'sku-3' })
    await client.flush()
    expect(id).toMatch(/[0-9a-f-]{36}/)
    expect(api.events.some((e) => e.itemId === 'sku-3' && e.type === 'add_to_cart')).toBe(true)
  })

  it('should say how to fix a missing provider', () => {
    expect(() => renderHook(() => useTrack())).toThrow(/Wrap the app in <EdgerecProvider/)
  })
})

describe('example/Shop.tsx', () => {
  it('should render recommendations, open similar items on click, and sign in and out', async () => {
    const Shop = createShop(api.url, 'pk')
    render(<Shop />)
    expect(await screen.findByRole('button', { name: 'top-1' })).toBeTruthy()
    fireEvent.click(screen.getByRole('button', { name: 'top-1' }))
    expect(await screen.findByText('top-1-twin')).toBeTruthy()
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }))
    expect(await screen.findByRole('button', { name: 'Sign out user-42' })).toBeTruthy()
    await waitFor(() => expect(screen.getByText(/Recommended for you \(fold-in\)/)).toBeTruthy())
    fireEvent.click(screen.getByRole('button', { name: 'Sign out user-42' }))
    expect(await screen.findByRole('button', { name: 'Sign in' })).toBeTruthy()
  })
})
