import type { AuthorizationServerOptions } from '../options.js'
import { audienceValue, optionalStrings, originOf, profileOptions } from './profile-options.js'

/** Options of {@link workos}. */
export interface WorkOSOptions {
  /** The AuthKit domain (`your-app-1234.authkit.app`) or its custom domain. A URL works too. */
  authkitDomain: string
  /**
   * Accepted `aud` values. Default: the MCP server's resource URI, which AuthKit writes in `aud` when the client
   * sends the `resource` parameter (RFC 8707), as MCP clients do.
   */
  audience?: string | string[]
}

const KNOWN = ['authkitDomain', 'audience']

/**
 * WorkOS AuthKit as the authorization server (DCR, Client ID Metadata Documents and PKCE S256 built in).
 *
 * Sets the issuer `https://{authkitDomain}` (no trailing slash) and the key set `{issuer}/oauth2/jwks`
 * explicitly — AuthKit's RFC 8414 document has no `jwks_uri`. Scopes come from `scope` and from
 * `permissions` (the permissions of the user's role in the organization), the client from `client_id` or `azp`.
 *
 * @example
 * ```ts
 * authorizationServers: [workos({ authkitDomain: 'your-app-1234.authkit.app' })]
 * ```
 * @see https://workos.com/docs/authkit/mcp
 * @see https://workos.com/docs/reference/workos-connect
 */
export function workos(options: WorkOSOptions): AuthorizationServerOptions {
  const o = profileOptions(options, 'workos', KNOWN, `{ authkitDomain: 'your-app-1234.authkit.app' }`)
  const issuer = originOf(o.authkitDomain, 'workos().authkitDomain', '"your-app-1234.authkit.app"')
  const audience = optionalStrings(o.audience, 'workos().audience', '"https://mcp.example.com/mcp"')
  return {
    issuer,
    jwksUri: `${issuer}/oauth2/jwks`,
    ...(audience ? { audience: audienceValue(audience) } : {}),
    scopeClaims: ['scope', 'permissions'],
    clientIdClaims: ['client_id', 'azp'],
  }
}
