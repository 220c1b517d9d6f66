import type { AuthorizationServerOptions } from '../options.js'
import { audienceValue, baseUrlOf, optionalStrings, profileOptions } from './profile-options.js'

/** Options of {@link logto}. */
export interface LogtoOptions {
  /** The Logto endpoint: `https://your-tenant.logto.app`, a custom domain, or a self-hosted core (`https://auth.example.com`). */
  endpoint: string
  /**
   * The API resource's indicator (Logto console → API resources), which Logto writes in `aud` from the `resource`
   * parameter (RFC 8707). Default: the MCP server's resource URI — create the API resource with exactly that
   * indicator.
   */
  audience?: string | string[]
}

const KNOWN = ['endpoint', 'audience']

/**
 * Logto as the authorization server.
 *
 * Sets the issuer `{endpoint}/oidc` and its key set `{endpoint}/oidc/jwks`; Logto issues RFC 9068 access
 * tokens (`typ: "at+jwt"`, ES384 by default) for API resources with `scope` and `client_id`. Organization
 * tokens (`aud: "urn:logto:organization:…"`) and ID tokens are refused by the audience check.
 *
 * @example
 * ```ts
 * authorizationServers: [logto({ endpoint: 'https://your-tenant.logto.app' })]
 * ```
 * @see https://docs.logto.io/authorization/validate-access-tokens
 * @see https://docs.logto.io/authorization/global-api-resources
 */
export function logto(options: LogtoOptions): AuthorizationServerOptions {
  const o = profileOptions(options, 'logto', KNOWN, `{ endpoint: 'https://your-tenant.logto.app' }`)
  const endpoint = baseUrlOf(o.endpoint, 'logto().endpoint', '"https://your-tenant.logto.app"').replace(/\/oidc$/, '')
  const audience = optionalStrings(o.audience, 'logto().audience', '"https://mcp.example.com/mcp"')
  return {
    issuer: `${endpoint}/oidc`,
    jwksUri: `${endpoint}/oidc/jwks`,
    ...(audience ? { audience: audienceValue(audience) } : {}),
    scopeClaims: ['scope'],
    clientIdClaims: ['client_id'],
  }
}
