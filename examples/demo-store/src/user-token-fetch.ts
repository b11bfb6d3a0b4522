/**
 * A `fetch` for the SDK that adds `x-edgerec-user-token` to requests about a person
 * (`/v1/users/:id/…`), with a token from `mint(id)`, cached until shortly before it expires. The
 * worker needs such a token for explanations (docs/privacy.md).
 *
 * @module
 */

/** Wraps `base` so reads about a person carry their user token. */
export function userTokenFetch(
  mint: (id: string) => Promise<string>,
  base: typeof fetch = fetch,
): typeof fetch {
  const tokens = new Map<string, { token: string; until: number }>()
  const tokenFor = async (id: string): Promise<string> => {
    const cached = tokens.get(id)
    if (cached && cached.until > Date.now()) return cached.token
    const token = await mint(id)
    // Tokens live 15 min; refresh after 10.
    tokens.set(id, { token, until: Date.now() + 600_000 })
    return token
  }
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
    const match = /\/v1\/users\/([^/?]+)\//.exec(url)
    if (!match) return base(input, init)
    const headers = new Headers(init?.headers)
    headers.set('x-edgerec-user-token', await tokenFor(decodeURIComponent(match[1]!)))
    return base(input, { ...init, headers })
  }
}
