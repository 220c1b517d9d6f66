import type { AuthorizationServerOptions } from '../options.js'
import { audienceValue, baseUrlOf, fail, optionalStrings, profileOptions, requireToken } from './profile-options.js'

/** Options of {@link keycloak}. */
export interface KeycloakOptions {
  /**
   * The Keycloak server's base URL as clients reach it (its configured `hostname`), e.g.
   * `https://sso.example.com`. For the legacy WildFly distribution (before Keycloak 17) include `/auth`:
   * `https://sso.example.com/auth`.
   */
  url: string
  /** The realm, e.g. `mcp`. */
  realm: string
  /**
   * Accepted `aud` values. Default: the MCP server's resource URI (RFC 8707). Keycloak puts it there with an
   * *Audience* protocol mapper (Included Custom Audience = the resource URI) on a client scope the MCP clients
   * get, or from the `resource` parameter with the experimental `resource-indicators` feature.
   */
  audience?: string | string[]
}

const KNOWN = ['url', 'realm', 'audience']

/**
 * A Keycloak realm as the authorization server.
 *
 * Sets the issuer `{url}/realms/{realm}` (discovery finds `/realms/{realm}/.well-known/openid-configuration`,
 * the third URL of the MCP order) and reads scopes from `scope` and the client from `client_id`, else `azp`.
 * Keycloak's access tokens have `typ: "JWT"` in the header and `typ: "Bearer"` in the payload; its ID tokens
 * (`typ: "ID"`, `nonce`, `at_hash`, `aud` = the client) are refused.
 *
 * @example
 * ```ts
 * createMcpAuth({ resource: 'https://mcp.example.com/mcp', authorizationServers: [keycloak({ url: 'https://sso.example.com', realm: 'mcp' })] })
 * ```
 * @see https://www.keycloak.org/securing-apps/mcp-authz-server
 * @see https://www.keycloak.org/securing-apps/oidc-layers
 */
export function keycloak(options: KeycloakOptions): AuthorizationServerOptions {
  const o = profileOptions(options, 'keycloak', KNOWN, `{ url: 'https://sso.example.com', realm: 'mcp' }`)
  const url = baseUrlOf(o.url, 'keycloak().url', '"https://sso.example.com"')
  const inUrl = /\/realms\/([^/]+)/.exec(url)
  if (inUrl) {
    fail('keycloak().url', `is the server's base URL, without /realms/…; write url: ${JSON.stringify(url.slice(0, inUrl.index))}, realm: ${JSON.stringify(inUrl[1])}.`)
  }
  const realm = requireToken(o.realm, 'keycloak().realm', '"mcp"')
  const audience = optionalStrings(o.audience, 'keycloak().audience', '"https://mcp.example.com/mcp"')
  return {
    issuer: `${url}/realms/${realm}`,
    ...(audience ? { audience: audienceValue(audience) } : {}),
    scopeClaims: ['scope'],
    clientIdClaims: ['client_id', 'azp'],
  }
}
