/**
 * An Auth0 tenant as its documentation shows it: issuer `https://{domain}/` with the trailing slash, metadata at
 * `/.well-known/openid-configuration` and `/.well-known/oauth-authorization-server`, keys at
 * `/.well-known/jwks.json`, DCR at `/oidc/register`, PKCE `S256` and `plain`, HS256 listed for ID tokens.
 * Access tokens in both dialects: the default profile (`typ: "JWT"`, `azp`, `aud` = [API, `/userinfo`]) and
 * the RFC 9068 profile (`typ: "at+jwt"`, `client_id`); RBAC adds `permissions`. ID tokens: `aud` = the
 * application's client ID, `nonce`, `sid`.
 *
 * Sources: auth0.com/docs/secure/tokens/access-tokens/access-token-profiles, …/json-web-tokens/json-web-key-sets,
 * auth0.com/docs/get-started/applications/dynamic-client-registration.
 */
import { now, random, sign, signingKey, startEmulation, type Emulation } from './emulation.js'

export interface Auth0Emulation {
  emulation: Emulation
  /** What a user writes as `domain` (here the loopback origin). */
  domain: string
  issuer: string
  clientId: string
  accessToken(opts: { audience: string; profile?: 'auth0' | 'rfc9068'; scope?: string; permissions?: string[] }): Promise<string>
  idToken(): Promise<string>
  close(): Promise<void>
}

export async function startAuth0(): Promise<Auth0Emulation> {
  const emulation = await startEmulation()
  const key = await signingKey('RS256')
  const origin = emulation.origin
  const issuer = `${origin}/`
  const clientId = 'Yo8GM0fXw4EeHBn1lJkTPyZqzE3MCpQ1'
  const metadata = {
    issuer,
    authorization_endpoint: `${origin}/authorize`,
    token_endpoint: `${origin}/oauth/token`,
    device_authorization_endpoint: `${origin}/oauth/device/code`,
    userinfo_endpoint: `${origin}/userinfo`,
    mfa_challenge_endpoint: `${origin}/mfa/challenge`,
    jwks_uri: `${origin}/.well-known/jwks.json`,
    registration_endpoint: `${origin}/oidc/register`,
    revocation_endpoint: `${origin}/oauth/revoke`,
    scopes_supported: ['openid', 'profile', 'offline_access', 'name', 'given_name', 'family_name', 'nickname', 'email', 'email_verified', 'picture', 'created_at', 'identities', 'phone', 'address'],
    response_types_supported: ['code', 'token', 'id_token', 'code token', 'code id_token', 'token id_token', 'code token id_token'],
    code_challenge_methods_supported: ['S256', 'plain'],
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['public'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['RS256', 'RS384', 'PS256'],
    claims_supported: ['aud', 'auth_time', 'created_at', 'email', 'email_verified', 'exp', 'family_name', 'given_name', 'iat', 'identities', 'iss', 'name', 'nickname', 'phone_number', 'picture', 'sub'],
    request_uri_parameter_supported: false,
    request_parameter_supported: false,
    id_token_signing_alg_values_supported: ['HS256', 'RS256', 'PS256'],
    end_session_endpoint: `${origin}/oidc/logout`,
    global_token_revocation_endpoint: `${origin}/oauth/global-token-revocation/connection/{connectionName}`,
    global_token_revocation_endpoint_auth_methods_supported: ['global-token-revocation+jwt'],
  }
  const serveMetadata: Parameters<Emulation['route']>[2] = (_req, res) => emulation.json(res, 200, metadata)
  emulation.route('GET', '/.well-known/openid-configuration', serveMetadata)
  emulation.route('GET', '/.well-known/oauth-authorization-server', serveMetadata)
  emulation.route('GET', '/.well-known/jwks.json', (_req, res) => {
    emulation.json(res, 200, { keys: [{ ...key.publicJwk, alg: 'RS256', use: 'sig', x5t: random(20) }] })
  })
  emulation.fallback = (_req, res) => emulation.json(res, 404, { error: 'not_found', error_description: 'Not Found' })

  const sub = 'auth0|65f1c0ffee0ddba11deadbee'
  return {
    emulation,
    domain: origin,
    issuer,
    clientId,
    accessToken: ({ audience, profile = 'auth0', scope = 'openid profile email read:tools', permissions }) => {
      const t = now()
      const perms = permissions ? { permissions } : {}
      if (profile === 'rfc9068') {
        return sign(key, { typ: 'at+jwt' }, { iss: issuer, sub, aud: audience, iat: t, exp: t + 86400, scope, jti: random(), client_id: clientId, ...perms })
      }
      return sign(key, { typ: 'JWT' }, { iss: issuer, sub, aud: [audience, `${origin}/userinfo`], iat: t, exp: t + 86400, scope, azp: clientId, ...perms })
    },
    idToken: () => {
      const t = now()
      return sign(key, { typ: 'JWT' }, {
        nickname: 'alice', name: 'alice@example.com', picture: 'https://s.gravatar.com/avatar/0.png', updated_at: '2025-01-01T00:00:00.000Z',
        email: 'alice@example.com', email_verified: true, iss: issuer, aud: clientId, sub, iat: t, exp: t + 36000, sid: random(), nonce: random(),
      })
    },
    close: () => emulation.close(),
  }
}
