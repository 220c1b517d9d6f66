/**
 * Keycloak (26.x, Quarkus distribution) as its documentation and a stock realm show it: issuer
 * `{url}/realms/{realm}`, metadata only at the path-appended `/realms/{realm}/.well-known/…` URLs (the
 * path-inserted ones are 404), a JWKS with an RS256 signing key *and* an RSA-OAEP encryption key, PKCE
 * `plain` and `S256`, an open DCR endpoint (subject to client registration policies), no CIMD by default.
 * Access tokens: header `typ: "JWT"`; `typ: "Bearer"` in the payload, `azp`, `scope`, `aud` from an Audience
 * mapper (plus `account`). ID tokens: `typ: "ID"`, `aud` = the client, `nonce`, `at_hash`.
 *
 * Sources: keycloak.org/docs/latest/server_admin (OIDC endpoints, audience mappers), keycloak.org/securing-apps/mcp-authz-server.
 */
import { exportJWK, generateKeyPair } from 'jose'
import { now, random, sign, signingKey, startEmulation, uuid, type Emulation } from './emulation.js'

export interface KeycloakEmulation {
  emulation: Emulation
  url: string
  realm: string
  issuer: string
  clientId: string
  accessToken(opts: { audience: string | string[]; scope?: string }): Promise<string>
  idToken(): Promise<string>
  close(): Promise<void>
}

export async function startKeycloak(realm = 'mcp'): Promise<KeycloakEmulation> {
  const emulation = await startEmulation()
  const key = await signingKey('RS256')
  const enc = await generateKeyPair('RSA-OAEP', { extractable: true })
  const encJwk = { ...(await exportJWK(enc.publicKey)), kid: random(), use: 'enc', alg: 'RSA-OAEP' }
  const url = emulation.origin
  const issuer = `${url}/realms/${realm}`
  const oidc = `${issuer}/protocol/openid-connect`
  const clientId = 'mcp-inspector'
  const metadata = {
    issuer,
    authorization_endpoint: `${oidc}/auth`,
    token_endpoint: `${oidc}/token`,
    introspection_endpoint: `${oidc}/token/introspect`,
    userinfo_endpoint: `${oidc}/userinfo`,
    end_session_endpoint: `${oidc}/logout`,
    frontchannel_logout_session_supported: true,
    frontchannel_logout_supported: true,
    jwks_uri: `${oidc}/certs`,
    check_session_iframe: `${oidc}/login-status-iframe.html`,
    grant_types_supported: ['authorization_code', 'implicit', 'refresh_token', 'password', 'client_credentials', 'urn:openid:params:grant-type:ciba', 'urn:ietf:params:oauth:grant-type:device_code'],
    acr_values_supported: ['0', '1'],
    response_types_supported: ['code', 'none', 'id_token', 'token', 'id_token token', 'code id_token', 'code token', 'code id_token token'],
    subject_types_supported: ['public', 'pairwise'],
    prompt_values_supported: ['none', 'login', 'consent'],
    id_token_signing_alg_values_supported: ['PS384', 'RS384', 'EdDSA', 'ES384', 'HS256', 'HS512', 'ES256', 'RS256', 'HS384', 'ES512', 'PS256', 'PS512', 'RS512'],
    userinfo_signing_alg_values_supported: ['PS384', 'RS384', 'EdDSA', 'ES384', 'HS256', 'HS512', 'ES256', 'RS256', 'HS384', 'ES512', 'PS256', 'PS512', 'RS512', 'none'],
    response_modes_supported: ['query', 'fragment', 'form_post', 'query.jwt', 'fragment.jwt', 'form_post.jwt', 'jwt'],
    registration_endpoint: `${issuer}/clients-registrations/openid-connect`,
    token_endpoint_auth_methods_supported: ['private_key_jwt', 'client_secret_basic', 'client_secret_post', 'tls_client_auth', 'client_secret_jwt'],
    introspection_endpoint_auth_methods_supported: ['private_key_jwt', 'client_secret_basic', 'client_secret_post', 'tls_client_auth', 'client_secret_jwt'],
    claims_supported: ['aud', 'sub', 'iss', 'auth_time', 'name', 'given_name', 'family_name', 'preferred_username', 'email', 'acr'],
    claim_types_supported: ['normal'],
    claims_parameter_supported: true,
    scopes_supported: ['openid', 'profile', 'email', 'offline_access', 'mcp:tools'],
    request_parameter_supported: true,
    request_uri_parameter_supported: true,
    require_request_uri_registration: true,
    code_challenge_methods_supported: ['plain', 'S256'],
    tls_client_certificate_bound_access_tokens: true,
    revocation_endpoint: `${oidc}/revoke`,
    device_authorization_endpoint: `${oidc}/auth/device`,
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    require_pushed_authorization_requests: false,
    pushed_authorization_request_endpoint: `${oidc}/ext/par/request`,
    authorization_response_iss_parameter_supported: true,
  }
  const serveMetadata: Parameters<Emulation['route']>[2] = (_req, res) => emulation.json(res, 200, metadata)
  emulation.route('GET', `/realms/${realm}/.well-known/openid-configuration`, serveMetadata)
  emulation.route('GET', `/realms/${realm}/.well-known/oauth-authorization-server`, serveMetadata)
  emulation.route('GET', `/realms/${realm}/protocol/openid-connect/certs`, (_req, res) => {
    emulation.json(res, 200, { keys: [{ ...key.publicJwk, alg: 'RS256', use: 'sig' }, encJwk] })
  })
  emulation.fallback = (_req, res) => emulation.json(res, 404, { error: 'Unable to find matching target resource method' })

  const user = { sub: uuid(), sid: uuid() }
  const profileClaims = { email_verified: true, name: 'Alice Doe', preferred_username: 'alice', given_name: 'Alice', family_name: 'Doe', email: 'alice@example.com' }
  return {
    emulation,
    url,
    realm,
    issuer,
    clientId,
    accessToken: ({ audience, scope = 'openid mcp:tools profile email' }) => {
      const t = now()
      return sign(key, { typ: 'JWT' }, {
        exp: t + 300, iat: t, auth_time: t - 10, jti: `onrtac:${uuid()}`, iss: issuer, aud: audience, sub: user.sub, typ: 'Bearer',
        azp: clientId, sid: user.sid, acr: '1', 'allowed-origins': ['http://localhost:6274'],
        realm_access: { roles: ['default-roles-mcp', 'offline_access', 'uma_authorization'] },
        resource_access: { account: { roles: ['manage-account', 'view-profile'] } },
        scope, ...profileClaims,
      })
    },
    idToken: () => {
      const t = now()
      return sign(key, { typ: 'JWT' }, {
        exp: t + 300, iat: t, auth_time: t - 10, jti: uuid(), iss: issuer, aud: clientId, sub: user.sub, typ: 'ID', azp: clientId,
        nonce: random(), sid: user.sid, at_hash: random(), acr: '1', ...profileClaims,
      })
    },
    close: () => emulation.close(),
  }
}
