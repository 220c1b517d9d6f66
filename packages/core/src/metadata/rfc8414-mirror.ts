/**
 * An authorization-server metadata mirror on the MCP server's origin (opt-in; on by default only with a
 * single issuer, where it cannot be ambiguous). It serves the upstream RFC 8414 document, optionally patched,
 * at `/.well-known/oauth-authorization-server` (and `/.well-known/openid-configuration` when asked).
 *
 * What it can fix: clients of the 2025-03-26 MCP specification look for AS metadata on the MCP server's own
 * origin; and a patch can add `code_challenge_methods_supported: ["S256"]` for an IdP that supports PKCE but
 * does not say so (Entra ID, GitHub). What it cannot fix: clients of 2025-06-18 and later read the issuer from
 * the protected resource metadata and fetch its metadata from the IdP itself, so they never see the mirror.
 * The `issuer` is never changed: RFC 8414 §3.3 clients compare it with the issuer they expected.
 */
import type { PlainResponse } from '../http/plain-response.js'
import type { AuthorizationServerMetadataMirror } from '../options.js'
import type { AuthorizationServerDiscovery } from './rfc8414.js'
import { METADATA_CORS } from './rfc9728.js'

export interface ResolvedMirror {
  paths: ReadonlySet<string>
  respond(method: string): Promise<PlainResponse>
}


export function createMirror(options: AuthorizationServerMetadataMirror, discovery: () => AuthorizationServerDiscovery, retryAfter: number): ResolvedMirror {
  const paths = new Set(['/.well-known/oauth-authorization-server'])
  if (options.openid) paths.add('/.well-known/openid-configuration')
  let cached: { source: object; body: string } | undefined

  function render(upstream: Record<string, unknown>): string {
    if (cached?.source === upstream) return cached.body
    let doc: Record<string, unknown> = structuredClone(upstream)
    if (options.supportsPkceS256 && !Array.isArray(doc.code_challenge_methods_supported)) doc.code_challenge_methods_supported = ['S256']
    if (options.patch) doc = { ...options.patch(doc), issuer: upstream.issuer }
    const body = JSON.stringify(doc)
    cached = { source: upstream, body }
    return body
  }

  return {
    paths,
    async respond(method): Promise<PlainResponse> {
      const m = method.toUpperCase()
      if (m === 'OPTIONS') return { status: 204, headers: METADATA_CORS, body: '' }
      if (m !== 'GET' && m !== 'HEAD') {
        return { status: 405, headers: { allow: 'GET, HEAD, OPTIONS', 'access-control-allow-origin': '*' }, body: '' }
      }
      let body: string
      try {
        body = render(await discovery().get())
      } catch {
        return {
          status: 503,
          headers: { 'content-type': 'application/json', 'cache-control': 'no-store', 'retry-after': String(retryAfter), 'access-control-allow-origin': '*' },
          body: '{"error":"temporarily_unavailable","error_description":"The authorization server metadata cannot be fetched"}',
        }
      }
      return {
        status: 200,
        headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=3600', 'access-control-allow-origin': '*' },
        body: m === 'HEAD' ? '' : body,
      }
    },
  }
}
