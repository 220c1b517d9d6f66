/**
 * Microsoft Entra ID (one tenant) as its documentation shows it. v2: issuer
 * `https://login.microsoftonline.com/{tid}/v2.0`, metadata only at the path-appended
 * `/{tid}/v2.0/.well-known/openid-configuration`; v1: metadata at `/{tid}/.well-known/openid-configuration`
 * whose issuer is on another host, `https://sts.windows.net/{tid}/`. Neither advertises
 * `code_challenge_methods_supported` or a registration endpoint. Keys without `alg` (with `x5t` and, at the v2
 * endpoint, a per-key `issuer`). Access tokens: `typ: "JWT"`, v2 `aud` = the API's client ID, `azp`, `scp`
 * (space-separated, short names), app-only tokens with `roles` and `idtyp: "app"`; v1 `aud` = the App ID URI,
 * `appid`. Microsoft Graph tokens carry a `nonce` in the header. ID tokens: `aud` = the client app, `nonce`.
 *
 * Sources: learn.microsoft.com/entra/identity-platform/access-token-claims-reference, …/id-token-claims-reference,
 * …/v2-protocols-oidc (the discovery document), …/access-tokens (validation, token versions).
 */
import { now, random, sign, signingKey, startEmulation, uuid, type Emulation } from './emulation.js'

export interface EntraEmulation {
  emulation: Emulation
  tenantId: string
  /** What `authorityHost` is set to (the loopback origin standing in for login.microsoftonline.com). */
  authorityHost: string
  /** What `v1IssuerHost` is set to (another loopback host name standing in for sts.windows.net). */
  v1IssuerHost: string
  issuerV2: string
  issuerV1: string
  /** The API app registration's Application (client) ID. */
  apiClientId: string
  /** The client app (the MCP client's registration). */
  clientAppId: string
  accessTokenV2(opts?: { audience?: string; scp?: string }): Promise<string>
  appOnlyTokenV2(roles: string[]): Promise<string>
  accessTokenV1(opts?: { audience?: string; scp?: string }): Promise<string>
  graphToken(): Promise<string>
  idTokenV2(): Promise<string>
  close(): Promise<void>
}

export async function startEntra(): Promise<EntraEmulation> {
  const emulation = await startEmulation()
  const key = await signingKey('RS256')
  const tenantId = uuid()
  const authorityHost = emulation.origin
  const v1IssuerHost = `http://localhost:${emulation.port}`
  const issuerV2 = `${authorityHost}/${tenantId}/v2.0`
  const issuerV1 = `${v1IssuerHost}/${tenantId}/`
  const apiClientId = uuid()
  const clientAppId = uuid()
  const a = `${authorityHost}/${tenantId}`
  // Both documents end with the same tenant and cloud members.
  const cloud = {
    kerberos_endpoint: `${a}/kerberos`,
    tenant_region_scope: 'EU',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  }
  const metadataV2 = {
    token_endpoint: `${a}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${a}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: issuerV2,
    request_uri_parameter_supported: false,
    userinfo_endpoint: 'https://graph.microsoft.com/oidc/userinfo',
    authorization_endpoint: `${a}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${a}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${a}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'cloud_instance_name', 'cloud_instance_host_name', 'cloud_graph_host_name', 'msgraph_host', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
    ...cloud,
  }
  const metadataV1 = {
    token_endpoint: `${a}/oauth2/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${authorityHost}/common/discovery/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'token id_token', 'token'],
    scopes_supported: ['openid'],
    issuer: issuerV1,
    microsoft_multi_refresh_token: true,
    authorization_endpoint: `${a}/oauth2/authorize`,
    device_authorization_endpoint: `${a}/oauth2/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${a}/oauth2/logout`,
    claims_supported: ['sub', 'iss', 'cloud_instance_name', 'cloud_instance_host_name', 'cloud_graph_host_name', 'msgraph_host', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'amr', 'nonce', 'email', 'given_name', 'family_name', 'nickname'],
    check_session_iframe: `${a}/oauth2/checksession`,
    userinfo_endpoint: `${a}/openid/userinfo`,
    ...cloud,
  }
  // Entra's keys have no `alg`; kid and x5t are the certificate thumbprint.
  const { alg: _alg, ...jwk } = key.publicJwk
  const keyV1 = { kty: 'RSA', use: 'sig', kid: key.kid, x5t: key.kid, n: jwk.n, e: jwk.e }
  emulation.route('GET', `/${tenantId}/v2.0/.well-known/openid-configuration`, (_req, res) => emulation.json(res, 200, metadataV2))
  emulation.route('GET', `/${tenantId}/.well-known/openid-configuration`, (_req, res) => emulation.json(res, 200, metadataV1))
  emulation.route('GET', `/${tenantId}/discovery/v2.0/keys`, (_req, res) => emulation.json(res, 200, { keys: [{ ...keyV1, issuer: issuerV2 }] }))
  emulation.route('GET', `/${tenantId}/discovery/keys`, (_req, res) => emulation.json(res, 200, { keys: [keyV1] }))
  emulation.fallback = (_req, res) => {
    res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' }).end('<html><body>The resource you are looking for has been removed, had its name changed, or is temporarily unavailable.</body></html>')
  }

  const user = { oid: uuid(), sub: random(32), name: 'Alice Doe', upn: 'alice@contoso.onmicrosoft.com' }
  const common = () => {
    const t = now()
    return { iat: t, nbf: t, exp: t + 3900, aio: random(60), rh: `0.${random(40)}.`, tid: tenantId, uti: random(16), oid: user.oid, sub: user.sub }
  }
  return {
    emulation,
    tenantId,
    authorityHost,
    v1IssuerHost,
    issuerV2,
    issuerV1,
    apiClientId,
    clientAppId,
    accessTokenV2: ({ audience = apiClientId, scp = 'tools.read tools.call' } = {}) => sign(key, { typ: 'JWT' }, {
      aud: audience, iss: issuerV2, ...common(), azp: clientAppId, azpacr: '0', name: user.name, preferred_username: user.upn, scp, ver: '2.0',
    }),
    appOnlyTokenV2: (roles) => sign(key, { typ: 'JWT' }, {
      aud: apiClientId, iss: issuerV2, ...common(), azp: clientAppId, azpacr: '1', idtyp: 'app', roles, ver: '2.0',
    }),
    accessTokenV1: ({ audience = `api://${apiClientId}`, scp = 'tools.read tools.call' } = {}) => sign(key, { typ: 'JWT', x5t: key.kid }, {
      aud: audience, iss: issuerV1, ...common(), acr: '1', amr: ['pwd', 'mfa'], appid: clientAppId, appidacr: '0', family_name: 'Doe',
      given_name: 'Alice', ipaddr: '203.0.113.7', name: user.name, scp, unique_name: user.upn, upn: user.upn, ver: '1.0',
    }),
    graphToken: () => sign(key, { typ: 'JWT', nonce: random(32), x5t: key.kid }, {
      aud: '00000003-0000-0000-c000-000000000000', iss: issuerV1, ...common(), acr: '1', app_displayname: 'MCP client', appid: clientAppId,
      appidacr: '0', name: user.name, scp: 'openid profile User.Read email', unique_name: user.upn, upn: user.upn, ver: '1.0', wids: [uuid()],
    }),
    idTokenV2: () => sign(key, { typ: 'JWT' }, {
      aud: clientAppId, iss: issuerV2, ...common(), name: user.name, nonce: random(), preferred_username: user.upn, ver: '2.0',
    }),
    close: () => emulation.close(),
  }
}
