/**
 * RFC 6750: bearer credentials from the `Authorization` header, and the `WWW-Authenticate` challenge.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750
 */
import { McpAuthError } from '../errors.js'
import type { RequestLike } from '../http/request-like.js'

/** b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" (RFC 6750 §2.1). */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

/**
 * Read the bearer token. Returns `undefined` when the request has no credentials at all.
 * Throws `ERR_INVALID_REQUEST` for a malformed header, several credentials, or a token in the query or body
 * (OAuth 2.1 §5.2 forbids the query; MCP allows only the header), and `ERR_TOKEN_MALFORMED` for oversize tokens.
 */
export function extractBearerToken(request: RequestLike, maxTokenLength: number): string | undefined {
  return extractCredentials(request, maxTokenLength, false)?.token
}

/**
 * The access token and the scheme it came with: `Bearer` (RFC 6750 §2.1), or `DPoP` (RFC 9449 §7.1, same
 * token68 syntax) when `dpop` is on. The same rules as {@link extractBearerToken} for both schemes.
 */
export function extractCredentials(request: RequestLike, maxTokenLength: number, dpop: boolean): { scheme: 'bearer' | 'dpop'; token: string } | undefined {
  const credential = readCredentials(request, maxTokenLength, dpop)
  if (credential !== undefined) assertToken68(credential.token)
  return credential
}

/**
 * {@link extractCredentials} without the token's own syntax check ({@link assertToken68}). The verifier runs
 * that check only when the token is not in its cache: a cached token passed it when it was first verified (the
 * cache key is its SHA-256), so a cache hit skips a regular expression over the whole token.
 * @internal
 */
export function readCredentials(request: RequestLike, maxTokenLength: number, dpop: boolean): { scheme: 'bearer' | 'dpop'; token: string } | undefined {
  const header = request.headers.get('authorization')
  const inQuery = request.url.includes('access_token') && hasQueryToken(request.url)
  if (inQuery || request.bodyHasAccessToken) {
    throw new McpAuthError('ERR_INVALID_REQUEST', header === null
      ? 'Send the access token in the Authorization header, not in the query string or body'
      : 'More than one method was used to send the access token')
  }
  if (header === null) return undefined
  // Fetch Headers join repeated fields with ", "; adapters do the same from raw headers.
  const space = header.indexOf(' ')
  if (space <= 0) {
    if (header.trim() === '') return undefined
    const alone = header.toLowerCase()
    if (alone !== 'bearer' && !(dpop && alone === 'dpop')) return undefined
    throw new McpAuthError('ERR_INVALID_REQUEST', `The Authorization header must be "${alone === 'dpop' ? 'DPoP' : 'Bearer'} <token>"`)
  }
  // Another scheme (Basic, DPoP when it is off, …) is "no bearer credentials": a 401 without an error code (RFC 6750 §3.1).
  const scheme = isScheme(header, space, 'bearer') ? 'bearer' : dpop && isScheme(header, space, 'dpop') ? 'dpop' : undefined
  if (scheme === undefined) return undefined
  // One or more spaces between the scheme and the token (RFC 9110 §11.4: 1*SP).
  let start = space + 1
  while (header.charCodeAt(start) === 32) start++
  const token = header.slice(start)
  if (token.length > maxTokenLength) {
    throw new McpAuthError('ERR_TOKEN_MALFORMED', 'The access token is too large')
  }
  return { scheme, token }
}

/** Whether `header` starts with the scheme `lower` (lowercase ASCII) followed by the space at `space`, in any case. */
function isScheme(header: string, space: number, lower: string): boolean {
  if (space !== lower.length) return false
  // Scheme names are case-insensitive (RFC 9110 §11.1); ASCII letters only, so setting bit 0x20 lowercases them.
  for (let i = 0; i < space; i++) if ((header.charCodeAt(i) | 0x20) !== lower.charCodeAt(i)) return false
  return true
}

/** The token's syntax: b64token (RFC 6750 §2.1; RFC 9449 §7.1 for DPoP); `ERR_INVALID_REQUEST` otherwise. */
export function assertToken68(token: string): void {
  if (!B64TOKEN.test(token)) {
    throw new McpAuthError('ERR_INVALID_REQUEST', token.includes(',')
      ? 'More than one credential was sent in the Authorization header'
      : 'The bearer token contains characters not allowed by RFC 6750')
  }
}

function hasQueryToken(url: string): boolean {
  const q = url.indexOf('?')
  if (q < 0) return false
  const hash = url.indexOf('#', q)
  const params = new URLSearchParams(url.slice(q + 1, hash < 0 ? undefined : hash))
  return params.has('access_token')
}

/** Remove everything RFC 6750 §3 does not allow in a quoted challenge value (`"`, `\`, controls, non-ASCII). */
export function challengeValue(value: string): string {
  return value.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '')
}

/** RFC 6749 §3.3 scope-token: printable ASCII except space, `"` and `\`. */
export const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/

/** Keep only valid scope-tokens (RFC 6749 §3.3), so a scope from a token can never break the header. */
export function scopeTokens(scopes: Iterable<string>): string[] {
  const out: string[] = []
  for (const s of scopes) if (typeof s === 'string' && SCOPE_TOKEN.test(s) && !out.includes(s)) out.push(s)
  return out
}

/**
 * Build a `WWW-Authenticate: Bearer …` challenge. Parameters are written `name="value"` with no spaces around
 * `=` and no escaped quotes, which is what the MCP SDK client's parser expects; `error` comes first so a
 * naive regex for `scope=` or `error=` cannot match inside another value.
 */
export function buildChallenge(params: {
  error?: string
  description?: string
  resourceMetadata: string
  scope?: readonly string[]
}): string {
  const parts: string[] = []
  if (params.error) parts.push(`error="${challengeValue(params.error)}"`)
  // No "=" in the free text: the SDK client finds parameters with an unanchored `name=` regex, so "scope=x" or
  // "resource_metadata=…" inside the description would be read as the real parameter.
  if (params.description) parts.push(`error_description="${challengeValue(params.description).replace(/=/g, '')}"`)
  parts.push(`resource_metadata="${challengeValue(params.resourceMetadata)}"`)
  const scope = params.scope ? scopeTokens(params.scope) : []
  if (scope.length > 0) parts.push(`scope="${scope.join(' ')}"`)
  return `Bearer ${parts.join(', ')}`
}
