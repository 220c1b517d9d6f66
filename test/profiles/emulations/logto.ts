/**
 * Logto (Cloud or OSS) as its documentation shows it: issuer `{endpoint}/oidc`, metadata at the path-appended
 * `/oidc/.well-known/openid-configuration` (Logto is built on oidc-provider: PKCE `S256` only, ES384 keys at
 * `/oidc/jwks`), no registration endpoint by default. Access tokens for an API resource: `typ: "at+jwt"`,
 * `aud` = the resource indicator (from the `resource` parameter), `scope`, `client_id`; organization tokens
 * have `aud: "urn:logto:organization:{id}"`. ID tokens: `typ: "JWT"`, `aud` = the application, `at_hash`.
 *
 * Sources: docs.logto.io/authorization/validate-access-tokens, docs.logto.io/authorization/global-api-resources,
 * docs.logto.io/authorization/organization-template (organization tokens).
 */
import { now, random, sign, signingKey, startEmulation, type Emulation } from './emulation.js'

export interface LogtoEmulation {
  emulation: Emulation
  endpoint: string
  issuer: string
  clientId: string
  accessToken(opts: { audience: string; scope?: string }): Promise<string>
  idToken(): Promise<string>
  close(): Promise<void>
}

export async function startLogto(): Promise<LogtoEmulation> {
  const emulation = await startEmulation()
  const key = await signingKey('ES384')
  const endpoint = emulation.origin
  const issuer = `${endpoint}/oidc`
  const clientId = 'x7n2kq9v4m1p8w3z'
  emulation.route('GET', '/oidc/.well-known/openid-configuration', (_req, res) => emulation.json(res, 200, {
    authorization_endpoint: `${issuer}/auth`,
    claims_parameter_supported: false,
    claims_supported: ['sub', 'name', 'picture', 'username', 'email', 'email_verified', 'phone_number', 'phone_number_verified', 'roles', 'organizations', 'sid', 'auth_time', 'iss'],
    code_challenge_methods_supported: ['S256'],
    end_session_endpoint: `${issuer}/session/end`,
    grant_types_supported: ['implicit', 'authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange'],
    issuer,
    jwks_uri: `${issuer}/jwks`,
    authorization_response_iss_parameter_supported: true,
    response_modes_supported: ['form_post', 'fragment', 'query'],
    response_types_supported: ['code id_token', 'code', 'id_token', 'none'],
    scopes_supported: ['openid', 'offline_access', 'profile', 'email', 'phone', 'roles', 'organizations'],
    subject_types_supported: ['public'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_jwt', 'client_secret_post', 'private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['HS256', 'RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'],
    token_endpoint: `${issuer}/token`,
    id_token_signing_alg_values_supported: ['ES384'],
    pushed_authorization_request_endpoint: `${issuer}/request`,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${issuer}/me`,
    revocation_endpoint: `${issuer}/token/revocation`,
    claim_types_supported: ['normal'],
  }))
  emulation.route('GET', '/oidc/jwks', (_req, res) => emulation.json(res, 200, { keys: [{ ...key.publicJwk, alg: 'ES384', use: 'sig' }] }))
  emulation.fallback = (_req, res) => emulation.json(res, 404, { code: 'guard.invalid_input', message: 'Not Found' })

  const sub = 'u8f3k2j1h0g9'
  return {
    emulation,
    endpoint,
    issuer,
    clientId,
    accessToken: ({ audience, scope = 'read:tools call:tools' }) => {
      const t = now()
      return sign(key, { typ: 'at+jwt' }, { jti: random(21), sub, iat: t, exp: t + 3600, scope, client_id: clientId, iss: issuer, aud: audience })
    },
    idToken: () => {
      const t = now()
      return sign(key, { typ: 'JWT' }, { sub, name: 'Alice', picture: null, username: 'alice', at_hash: random(), aud: clientId, exp: t + 3600, iat: t, iss: issuer })
    },
    close: () => emulation.close(),
  }
}
