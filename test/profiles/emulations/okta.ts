/**
 * An Okta org with its `default` custom authorization server, as its documentation shows it: issuer
 * `https://{domain}/oauth2/default`, metadata at the path-appended `/oauth2/default/.well-known/…` URLs only,
 * keys at `/oauth2/default/v1/keys`, PKCE `S256`, and a `registration_endpoint` (`/oauth2/v1/clients`, the
 * org's client API) that needs an Okta API token — anonymous registration gets 401 `E0000011`. Access tokens:
 * no `typ` in the header, `ver: 1`, `jti: "AT.…"`, `aud: "api://default"`, the client in `cid`, the user id
 * in `uid`, `scp` as an array, `sub` = the login. ID tokens: `aud` = the client, `nonce`, `at_hash`, `amr`.
 *
 * Sources: developer.okta.com/docs/concepts/auth-servers, …/guides/validate-access-tokens,
 * developer.okta.com/docs/api/openapi/okta-oauth/guides/overview (token claims), …/oauth-clients (DCR).
 */
import { now, random, sign, signingKey, startEmulation, type Emulation } from './emulation.js'

export interface OktaEmulation {
  emulation: Emulation
  domain: string
  issuer: string
  clientId: string
  accessToken(opts?: { scp?: string[] }): Promise<string>
  idToken(): Promise<string>
  close(): Promise<void>
}

export async function startOkta(): Promise<OktaEmulation> {
  const emulation = await startEmulation()
  const key = await signingKey('RS256')
  const origin = emulation.origin
  const issuer = `${origin}/oauth2/default`
  const clientId = '0oa8f5j3ecb5w3dF35d7'
  const metadata = (oidc: boolean) => ({
    issuer,
    authorization_endpoint: `${issuer}/v1/authorize`,
    token_endpoint: `${issuer}/v1/token`,
    ...(oidc ? { userinfo_endpoint: `${issuer}/v1/userinfo` } : {}),
    registration_endpoint: `${origin}/oauth2/v1/clients`,
    jwks_uri: `${issuer}/v1/keys`,
    response_types_supported: ['code', 'id_token', 'code id_token', 'code token', 'id_token token', 'code id_token token'],
    response_modes_supported: ['query', 'fragment', 'form_post', 'okta_post_message'],
    grant_types_supported: ['authorization_code', 'implicit', 'refresh_token', 'password', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code', 'urn:ietf:params:oauth:grant-type:token-exchange'],
    ...(oidc ? { subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['RS256'] } : {}),
    scopes_supported: ['mcp.tools', 'openid', 'profile', 'email', 'address', 'phone', 'offline_access', 'device_sso'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none'],
    claims_supported: ['ver', 'jti', 'iss', 'aud', 'iat', 'exp', 'cid', 'uid', 'scp', 'sub'],
    code_challenge_methods_supported: ['S256'],
    introspection_endpoint: `${issuer}/v1/introspect`,
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none'],
    revocation_endpoint: `${issuer}/v1/revoke`,
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none'],
    end_session_endpoint: `${issuer}/v1/logout`,
    request_parameter_supported: true,
    request_object_signing_alg_values_supported: ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512'],
    device_authorization_endpoint: `${issuer}/v1/device/authorize`,
    pushed_authorization_request_endpoint: `${issuer}/v1/par`,
    dpop_signing_alg_values_supported: ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512'],
  })
  emulation.route('GET', '/oauth2/default/.well-known/oauth-authorization-server', (_req, res) => emulation.json(res, 200, metadata(false)))
  emulation.route('GET', '/oauth2/default/.well-known/openid-configuration', (_req, res) => emulation.json(res, 200, metadata(true)))
  emulation.route('GET', '/oauth2/default/v1/keys', (_req, res) => emulation.json(res, 200, { keys: [{ ...key.publicJwk, alg: 'RS256', use: 'sig' }] }))
  emulation.route('POST', '/oauth2/v1/clients', (_req, res) => emulation.json(res, 401, {
    errorCode: 'E0000011', errorSummary: 'Invalid token provided', errorLink: 'E0000011', errorId: `oae${random(16)}`, errorCauses: [],
  }, { 'www-authenticate': 'Bearer authorization_uri="http://okta.example.com/oauth2/v1/authorize", realm="http://okta.example.com", scope="okta.clients.register", error="invalid_token"' }))
  emulation.fallback = (_req, res) => emulation.json(res, 404, { errorCode: 'E0000022', errorSummary: 'The endpoint does not support the provided HTTP method', errorLink: 'E0000022', errorId: `oae${random(16)}`, errorCauses: [] })

  const user = { uid: '00u1a2b3c4d5e6f7g8h9', login: 'alice@example.com' }
  return {
    emulation,
    domain: origin,
    issuer,
    clientId,
    accessToken: ({ scp = ['openid', 'mcp.tools'] } = {}) => {
      const t = now()
      return sign(key, {}, { ver: 1, jti: `AT.${random(32)}`, iss: issuer, aud: 'api://default', iat: t, exp: t + 3600, cid: clientId, uid: user.uid, scp, auth_time: t - 5, sub: user.login })
    },
    idToken: () => {
      const t = now()
      return sign(key, {}, {
        sub: user.uid, name: 'Alice Doe', email: user.login, ver: 1, iss: issuer, aud: clientId, iat: t, exp: t + 3600, jti: `ID.${random(32)}`,
        amr: ['pwd'], idp: '00o1a2b3c4d5e6f7g8h9', nonce: random(), preferred_username: user.login, auth_time: t - 5, at_hash: random(),
      })
    },
    close: () => emulation.close(),
  }
}
