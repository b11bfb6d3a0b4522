/**
 * `@edgerec/react`: React and React Native bindings of `@edgerec/sdk`. A provider holds one client;
 * hooks read recommendations and similar items (refetched when their arguments or the signed-in
 * user change) and track events. Nothing here touches the DOM, so the same hooks run in React Native.
 *
 * @example
 * ```tsx
 * const recs = createClient({ endpoint: 'https://recs.example.com', publishableKey: 'pk_live_…' })
 * <EdgerecProvider client={recs}><Shop /></EdgerecProvider>
 * function Shop() {
 *   const { data, loading } = useRecommendations({ k: 8 })
 *   const track = useTrack()
 *   return data?.items.map((item) => <Item key={item.itemId} onPress={() => track('view', { itemId: item.itemId })} />)
 * }
 * ```
 * @module
 */
import type {
  EdgerecClient,
  RecommendationsResponse,
  RecommendOptions,
  SdkError,
  SimilarResponse,
  TrackProperties,
  UserToken,
} from '@edgerec/sdk'
import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
} from 'react'

interface EdgerecContextValue {
  client: EdgerecClient
  /** Bumped by {@link useIdentity}'s `identify`/`reset`: reads for "the current user" refetch. */
  identity: number
  changedIdentity: () => void
}

const EdgerecContext = createContext<EdgerecContextValue | null>(null)

/** Props of {@link EdgerecProvider}. */
export interface EdgerecProviderProps {
  /**
   * The client, created once (at module scope, not during render) with `createClient()` of
   * `@edgerec/sdk`. The provider does not close it: it lives as long as the app.
   */
  client: EdgerecClient
  children?: ReactNode
}

/** Makes `client` available to the hooks below it. */
export function EdgerecProvider({ client, children }: EdgerecProviderProps): ReactNode {
  const [identity, setIdentity] = useState(0)
  const changedIdentity = useCallback(() => setIdentity((n) => n + 1), [])
  const value = useMemo(() => ({ client, identity, changedIdentity }), [client, identity, changedIdentity])
  return <EdgerecContext.Provider value={value}>{children}</EdgerecContext.Provider>
}

function useEdgerecContext(): EdgerecContextValue {
  const context = useContext(EdgerecContext)
  if (!context)
    throw new Error('@edgerec/react: no client. Wrap the app in <EdgerecProvider client={createClient(…)}>.')
  return context
}

/** The provider's client, for what the hooks do not cover (`popular()`, `flush()`, …). */
export function useEdgerec(): EdgerecClient {
  return useEdgerecContext().client
}

/** What a read hook returns. */
export interface ReadState<T> {
  /** The last answer (kept while a refetch runs). */
  data: T | undefined
  /** Why the last read failed (`EdgerecClientError`, `EdgerecNetworkError`), if it did. */
  error: SdkError | undefined
  loading: boolean
  /** Reads again (the client's cache may still answer; `cacheTtlMs: 0` turns it off). */
  refresh: () => void
}

/** Runs `read` whenever `key` changes (or `refresh` is called); `read` null: nothing to read. */
function useRead<T>(read: (() => Promise<T>) | null, key: string): ReadState<T> {
  const [state, setState] = useState<Omit<ReadState<T>, 'refresh'>>({
    data: undefined,
    error: undefined,
    loading: read !== null,
  })
  const [tick, setTick] = useState(0)
  const latest = useRef(read)
  latest.current = read
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for the read's arguments; `tick` is refresh()
  useEffect(() => {
    const current = latest.current
    if (!current) {
      setState({ data: undefined, error: undefined, loading: false })
      return
    }
    let live = true
    setState((s) => ({ ...s, loading: true }))
    current().then(
      (data) => live && setState({ data, error: undefined, loading: false }),
      (error: SdkError) => live && setState((s) => ({ data: s.data, error, loading: false })),
    )
    return () => {
      live = false
    }
  }, [key, tick])
  const refresh = useCallback(() => setTick((n) => n + 1), [])
  return { ...state, refresh }
}

/**
 * Recommendations for the signed-in user (after {@link useIdentity}'s `identify`), else the
 * anonymous visitor, or `options.userId`. Refetches when the options or the identity change.
 */
export function useRecommendations(options: RecommendOptions = {}): ReadState<RecommendationsResponse> {
  const { client, identity } = useEdgerecContext()
  return useRead(() => client.recommend(options), JSON.stringify([identity, options]))
}

/** Items similar to `itemId` (nothing is read while it is `undefined`). */
export function useSimilar(
  itemId: string | undefined,
  options: { k?: number } = {},
): ReadState<SimilarResponse> {
  const client = useEdgerec()
  return useRead(
    itemId === undefined ? null : () => client.similar(itemId, options),
    JSON.stringify([itemId, options]),
  )
}

/** A stable `track(type, properties)`: queues an event (never throws) and returns its id. */
export function useTrack(): (type: string, properties: TrackProperties) => string | undefined {
  const client = useEdgerec()
  return useCallback((type, properties) => client.track(type, properties), [client])
}

/**
 * Sign-in and sign-out: `identify` links the visitor's anonymous history to the user on the worker
 * and `reset` starts a new anonymous visitor; both make {@link useRecommendations} refetch.
 */
export function useIdentity(): {
  userId: string | undefined
  identify: (userId: string, options?: { token?: UserToken }) => Promise<void>
  reset: () => void
} {
  const { client, changedIdentity } = useEdgerecContext()
  const identify = useCallback(
    async (userId: string, options?: { token?: UserToken }) => {
      const linked = client.identify(userId, options)
      changedIdentity()
      await linked
    },
    [client, changedIdentity],
  )
  const reset = useCallback(() => {
    client.reset()
    changedIdentity()
  }, [client, changedIdentity])
  return { userId: client.userId, identify, reset }
}
