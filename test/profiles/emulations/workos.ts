/**
 * WorkOS AuthKit as its documentation shows it: issuer `https://{subdomain}.authkit.app` (no trailing slash),
 * RFC 8414 metadata at `/.well-known/oauth-authorization-server` with PKCE `S256`, a registration endpoint and
 * CIMD, introspection — and no `jwks_uri` (the key set is at `/oauth2/jwks`, which the docs tell resource
 * servers to use directly). Access tokens: `sub` = `user_…`, `sid`, `jti`, `org_id`, `aud` = the resource the
 * client asked for (RFC 8707) — a WorkOS Connect application's token has its client ID there instead —
 * `permissions` of the user's role. ID tokens: `aud` = the client, `nonce`.
 *
 * Sources: workos.com/docs/authkit/mcp (metadata, JWKS), workos.com/docs/reference/workos-connect/token (token claims).
 */
import { now, random, sign, signingKey, startEmulation, type Emulation } from './emulation.js'

export interface WorkOSEmulation {
  emulation: Emulation
  authkitDomain: string
  issuer: string
  clientId: string
  accessToken(opts: { audience: string; permissions?: string[] }): Promise<string>
  idToken(): Promise<string>
  close(): Promise<void>
}

export async function startWorkOS(): Promise<WorkOSEmulation> {
  const emulation = await startEmulation()
  const key = await signingKey('RS256')
  const issuer = emulation.origin
  const clientId = 'client_01JP8BD0CZ401TDF9X54NT5ZEK'
  emulation.route('GET', '/.well-known/oauth-authorization-server', (_req, res) => emulation.json(res, 200, {
    authorization_endpoint: `${issuer}/oauth2/authorize`,
    code_challenge_methods_supported: ['S256'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    introspection_endpoint: `${issuer}/oauth2/introspection`,
    issuer,
    registration_endpoint: `${issuer}/oauth2/register`,
    client_id_metadata_document_supported: true,
    scopes_supported: ['email', 'offline_access', 'openid', 'profile'],
    response_modes_supported: ['query'],
    response_types_supported: ['code'],
    token_endpoint: `${issuer}/oauth2/token`,
    token_endpoint_auth_methods_supported: ['none', 'client_secret_post', 'client_secret_basic'],
  }))
  emulation.route('GET', '/oauth2/jwks', (_req, res) => emulation.json(res, 200, { keys: [{ ...key.publicJwk, alg: 'RS256', use: 'sig', x5c: [], 'x5t#S256': random(32) }] }))
  emulation.fallback = (_req, res) => emulation.json(res, 404, { message: 'Not Found' })

  const sub = 'user_01JQ0E27VT3MH79RY0FVA4QBP9'
  return {
    emulation,
    authkitDomain: issuer,
    issuer,
    clientId,
    accessToken: ({ audience, permissions = ['tools:call'] }) => {
      const t = now()
      return sign(key, { typ: 'JWT' }, {
        iss: issuer, aud: audience, sub, org_id: 'org_01HRDMC6CM357W30QMHMQ96Q0S', sid: `app_consent_${random(16)}`, jti: random(16),
        client_id: clientId, permissions, exp: t + 300, iat: t,
      })
    },
    idToken: () => {
      const t = now()
      return sign(key, { typ: 'JWT' }, {
        iss: issuer, aud: clientId, sub, name: 'Leroy Jenkins', given_name: 'Leroy', family_name: 'Jenkins', email: 'leroy.jenkins@example.com',
        email_verified: true, nonce: random(), exp: t + 3600, iat: t,
      })
    },
    close: () => emulation.close(),
  }
}
