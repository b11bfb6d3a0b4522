/**
 * Example: the same shop as `Shop.tsx` for React Native. Only the host components differ, so they
 * are passed in: an app calls `createNativeShop({ View, Text, Pressable }, …)` with the components
 * of `react-native` and a client created with `storage: AsyncStorage`. Rendered by
 * test/native.test.tsx with React Native's text rules (text only inside `Text`) and no DOM.
 */
import type { EdgerecClient } from '@edgerec/sdk'
import { type ComponentType, createContext, type ReactNode, useContext, useState } from 'react'
import { EdgerecProvider, useIdentity, useRecommendations, useSimilar, useTrack } from '../src/index.js'

/** The React Native host components the shop draws with (`import { View, Text, Pressable } from 'react-native'`). */
export interface NativePrimitives {
  View: ComponentType<{ children?: ReactNode; accessibilityLabel?: string }>
  Text: ComponentType<{ children?: ReactNode }>
  Pressable: ComponentType<{ children?: ReactNode; onPress: () => void; accessibilityLabel?: string }>
}

const Primitives = createContext<NativePrimitives | null>(null)

function usePrimitives(): NativePrimitives {
  const primitives = useContext(Primitives)
  if (!primitives) throw new Error('createNativeShop() provides the host components.')
  return primitives
}

function Recommended({ onOpen }: { onOpen: (itemId: string) => void }): ReactNode {
  const { View, Text, Pressable } = usePrimitives()
  const { data, error } = useRecommendations({ k: 4 })
  if (error) return <Text>Recommendations are unavailable ({error.code}).</Text>
  return (
    <View accessibilityLabel="Recommended for you">
      <Text>Recommended for you {data ? `(${data.source})` : ''}</Text>
      {data?.items.map((item) => (
        <Pressable key={item.itemId} accessibilityLabel={item.itemId} onPress={() => onOpen(item.itemId)}>
          <Text>{item.itemId}</Text>
        </Pressable>
      ))}
    </View>
  )
}

function Similar({ itemId }: { itemId: string | undefined }): ReactNode {
  const { View, Text } = usePrimitives()
  const { data } = useSimilar(itemId, { k: 3 })
  return (
    <View accessibilityLabel="Similar items">
      {data?.items.map((item) => (
        <Text key={item.itemId}>{item.itemId}</Text>
      ))}
    </View>
  )
}

function SignIn(): ReactNode {
  const { Text, Pressable } = usePrimitives()
  const { userId, identify, reset } = useIdentity()
  return userId ? (
    <Pressable accessibilityLabel="Sign out" onPress={reset}>
      <Text>Sign out {userId}</Text>
    </Pressable>
  ) : (
    <Pressable accessibilityLabel="Sign in" onPress={() => void identify('user-42')}>
      <Text>Sign in</Text>
    </Pressable>
  )
}

function Shop(): ReactNode {
  const { View } = usePrimitives()
  const [open, setOpen] = useState<string>()
  const track = useTrack()
  const view = (itemId: string) => {
    track('view', { itemId })
    setOpen(itemId)
  }
  return (
    <View>
      <SignIn />
      <Recommended onOpen={view} />
      <Similar itemId={open} />
    </View>
  )
}

/** The app: one client for its whole life, created outside render, as with the web shop. */
export function createNativeShop(primitives: NativePrimitives, recs: EdgerecClient): () => ReactNode {
  return () => (
    <Primitives.Provider value={primitives}>
      <EdgerecProvider client={recs}>
        <Shop />
      </EdgerecProvider>
    </Primitives.Provider>
  )
}
