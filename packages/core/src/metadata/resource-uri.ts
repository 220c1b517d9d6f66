/**
 * Canonical URIs for resources and issuers (RFC 8707 §2, MCP authorization "Canonical Server URI").
 *
 * @see https://www.rfc-editor.org/rfc/rfc8707#section-2
 */

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

/** True for `localhost`, `127.0.0.0/8` and `[::1]`: the hosts where plain http is allowed (development and tests). */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127(?:\.\d{1,3}){3}$/.test(hostname) || hostname.endsWith('.localhost')
}

export type UriProblem =
  | 'not-absolute'
  | 'not-http'
  | 'insecure'
  | 'fragment'
  | 'query'
  | 'credentials'

/**
 * Parse and check a URI that names this resource or an issuer. Returns the problem, or the parsed URL.
 * `new URL` already lowercases scheme and host and drops the default port.
 */
export function checkHttpsUri(value: string, opts: { allowInsecure: boolean; allowQuery: boolean }): URL | UriProblem {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'not-absolute'
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'not-http'
  if (url.protocol === 'http:' && !opts.allowInsecure && !isLoopbackHost(url.hostname)) return 'insecure'
  if (value.includes('#')) return 'fragment'
  if (url.username || url.password) return 'credentials'
  if (!opts.allowQuery && url.search) return 'query'
  return url
}

/**
 * The canonical form of a resource URI: lowercase scheme and host, no default port, no fragment, and no
 * trailing slash when the path is only `/` (`https://mcp.example.com`). A trailing slash on a longer path is
 * kept, because `/mcp/` and `/mcp` are different resources to the HTTP server.
 */
export function canonicalResource(url: URL): string {
  const path = url.pathname === '/' ? '' : url.pathname
  return `${url.protocol}//${url.host}${path}${url.search}`
}

/**
 * Audience values that name the same resource: the canonical form and, for an origin-only resource, the form
 * with the trailing slash that `new URL()` produces (clients such as the MCP SDK send `https://h/`).
 */
export function equivalentAudiences(canonical: string): string[] {
  const url = new URL(canonical)
  return url.pathname === '/' && !url.search ? [canonical, `${canonical}/`] : [canonical]
}

/**
 * RFC 9728 §3.1: the metadata URL inserts `/.well-known/oauth-protected-resource` between the host and the
 * path of the resource (a terminating slash after the host is removed first).
 *
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-3.1
 */
export function protectedResourceMetadataUrl(canonical: string): string {
  const url = new URL(canonical)
  const path = url.pathname === '/' ? '' : url.pathname
  return `${url.origin}/.well-known/oauth-protected-resource${path}${url.search}`
}

/**
 * RFC 8414 §3 and the MCP 2025-11-25 order: where to look for an issuer's metadata. For an issuer with a path
 * `/t1`: OAuth path-inserted, OIDC path-inserted, OIDC path-appended; without a path: OAuth, then OIDC.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3.1
 */
export function authorizationServerMetadataUrls(issuer: string): string[] {
  const url = new URL(issuer)
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '')
  if (!path) {
    return [`${url.origin}/.well-known/oauth-authorization-server`, `${url.origin}/.well-known/openid-configuration`]
  }
  return [
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
    `${url.origin}/.well-known/openid-configuration${path}`,
    `${url.origin}${path}/.well-known/openid-configuration`,
  ]
}
