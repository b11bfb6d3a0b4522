/**
 * Identity fixtures of the cloud tests, shared by the job and the schedule tests: Microsoft Entra ID
 * as MSAL sees it (for `DefaultAzureCredential`'s client-secret sign-in) and a Google
 * service-account key file (for Application Default Credentials), both answered through msw.
 */
import { generateKeyPairSync } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { HttpResponse, http } from 'msw'
import { expect } from 'vitest'

/** The Entra ID tenant of the Azure tests. */
export const tenant = '72f988bf-0000-4000-8000-000000000001'

/** Microsoft Entra ID as MSAL sees it: instance discovery, tenant metadata, token endpoint. */
export const login = 'https://login.microsoftonline.com'
export const entraMetadata = [
  http.get(`${login}/common/discovery/instance`, () =>
    HttpResponse.json({
      tenant_discovery_endpoint: `${login}/${tenant}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [
        {
          preferred_network: 'login.microsoftonline.com',
          preferred_cache: 'login.windows.net',
          aliases: [
            'login.microsoftonline.com',
            'login.windows.net',
            'login.microsoft.com',
            'sts.windows.net',
          ],
        },
      ],
    }),
  ),
  http.get(`${login}/${tenant}/v2.0/.well-known/openid-configuration`, () =>
    HttpResponse.json({
      token_endpoint: `${login}/${tenant}/oauth2/v2.0/token`,
      authorization_endpoint: `${login}/${tenant}/oauth2/v2.0/authorize`,
      end_session_endpoint: `${login}/${tenant}/oauth2/v2.0/logout`,
      issuer: `${login}/${tenant}/v2.0`,
      jwks_uri: `${login}/${tenant}/discovery/v2.0/keys`,
    }),
  ),
]

/** Writes a service-account key file (fresh RSA key, `client_email` ci@acme-recs) into `dir`; returns its path. */
export async function writeServiceAccountKey(dir: string): Promise<string> {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  })
  const keyFile = join(dir, 'service-account.json')
  await writeFile(
    keyFile,
    JSON.stringify({
      type: 'service_account',
      project_id: 'acme-recs',
      private_key_id: 'key-1',
      private_key: privateKey,
      client_email: 'ci@acme-recs.iam.gserviceaccount.com',
      client_id: '1',
      token_uri: 'https://oauth2.googleapis.com/token',
    }),
  )
  return keyFile
}

/**
 * google-auth-library authenticates a service-account key with a self-signed JWT (RS256, issued
 * by the key's client_email) sent as the bearer token: check that a request carries one.
 */
export function expectServiceAccountJwt(authorization: string | null): void {
  const match = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(authorization ?? '')
  expect(match).not.toBeNull()
  const header = JSON.parse(Buffer.from(match![1]!, 'base64url').toString()) as { alg: string; kid: string }
  const claims = JSON.parse(Buffer.from(match![2]!, 'base64url').toString()) as { iss: string }
  expect(header).toMatchObject({ alg: 'RS256', kid: 'key-1' })
  expect(claims.iss).toBe('ci@acme-recs.iam.gserviceaccount.com')
}
