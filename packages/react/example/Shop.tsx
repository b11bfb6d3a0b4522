/**
 * Example: a product list with "recommended for you", similar items of the selected product, and
 * sign-in, with `@edgerec/react`. The same components work in React Native with `<View>`/`<Text>`/
 * `<Pressable>` in place of the HTML elements (the hooks use no DOM). Rendered by test/example.test.tsx.
 */
import { createClient } from '@edgerec/sdk'
import { type ReactNode, useState } from 'react'
import { EdgerecProvider, useIdentity, useRecommendations, useSimilar, useTrack } from '../src/index.js'

function Recommended({ onOpen }: { onOpen: (itemId: string) => void }): ReactNode {
  const { data, error, loading } = useRecommendations({ k: 4 })
  if (error) return <p role="alert">Recommendations are unavailable ({error.code}).</p>
  return (
    <section aria-label="Recommended for you" aria-busy={loading}>
      <h2>Recommended for you {data ? `(${data.source})` : ''}</h2>
      {data?.items.map((item) => (
        <button key={item.itemId} type="button" onClick={() => onOpen(item.itemId)}>
          {item.itemId}
        </button>
      ))}
    </section>
  )
}

function Similar({ itemId }: { itemId: string | undefined }): ReactNode {
  const { data } = useSimilar(itemId, { k: 3 })
  return (
    <section aria-label="Similar items">
      {data?.items.map((item) => (
        <span key={item.itemId}>{item.itemId}</span>
      ))}
    </section>
  )
}

function SignIn(): ReactNode {
  const { userId, identify, reset } = useIdentity()
  return userId ? (
    <button type="button" onClick={reset}>
      Sign out {userId}
    </button>
  ) : (
    <button type="button" onClick={() => void identify('user-42')}>
      Sign in
    </button>
  )
}

function Shop(): ReactNode {
  const [open, setOpen] = useState<string>()
  const track = useTrack()
  const view = (itemId: string) => {
    track('view', { itemId })
    setOpen(itemId)
  }
  return (
    <main>
      <SignIn />
      <Recommended onOpen={view} />
      <Similar itemId={open} />
    </main>
  )
}

/** The app: one client for its whole life, created outside render. */
export function createShop(endpoint: string, publishableKey: string): () => ReactNode {
  const recs = createClient({ endpoint, publishableKey, flushAt: 1, cacheTtlMs: 0 })
  return () => (
    <EdgerecProvider client={recs}>
      <Shop />
    </EdgerecProvider>
  )
}
