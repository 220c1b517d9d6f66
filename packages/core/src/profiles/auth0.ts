import type { AuthorizationServerOptions } from '../options.js'
import { audienceValue, originOf, profileOptions, requireStrings } from './profile-options.js'

/** Options of {@link auth0}. */
export interface Auth0Options {
  /**
   * The tenant's domain (`example.us.auth0.com`) or its custom domain (`login.example.com`) — the one your
   * tokens' `iss` names. A URL (`https://example.us.auth0.com`) works too.
   */
  domain: string
  /**
   * The API's Identifier (Applications → APIs), which Auth0 writes in `aud`. Make it the MCP server's resource
   * URI: with the tenant's *Resource Parameter Compatibility Profile* on, Auth0 maps the `resource` parameter
   * MCP clients send to that API.
   */
  audience: string | string[]
}

const KNOWN = ['domain', 'audience']

/**
 * An Auth0 tenant as the authorization server.
 *
 * Sets the issuer `https://{domain}/` — with the trailing slash Auth0 writes in `iss` — and reads scopes from
 * `scope` and, with RBAC and "Add Permissions in the Access Token" on, from `permissions`. The client is
 * `client_id` (the RFC 9068 token profile) or `azp` (Auth0's default profile). `aud` may be a list (it holds
 * `https://{domain}/userinfo` next to the API when `openid` was asked for); RS256 and PS256 only.
 *
 * @example
 * ```ts
 * createMcpAuth({ resource: 'https://mcp.example.com/mcp', authorizationServers: [auth0({ domain: 'example.us.auth0.com', audience: 'https://mcp.example.com/mcp' })] })
 * ```
 * @see https://auth0.com/docs/secure/tokens/access-tokens/access-token-profiles
 * @see https://auth0.com/docs/manage-users/access-control/enable-role-based-access-control-for-apis
 */
export function auth0(options: Auth0Options): AuthorizationServerOptions {
  const o = profileOptions(options, 'auth0', KNOWN, `{ domain: 'example.us.auth0.com', audience: 'https://mcp.example.com/mcp' }`)
  const origin = originOf(o.domain, 'auth0().domain', '"example.us.auth0.com"')
  const audience = requireStrings(o.audience, 'auth0().audience', `"https://mcp.example.com/mcp" (the API Identifier in Auth0 → Applications → APIs)`)
  return {
    issuer: `${origin}/`,
    audience: audienceValue(audience),
    scopeClaims: ['scope', 'permissions'],
    clientIdClaims: ['client_id', 'azp'],
    algorithms: ['RS256', 'PS256'],
  }
}
