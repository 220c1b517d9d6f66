/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728): the document, and its routes — the path-inserted
 * well-known URL and the root one — with GET/HEAD, CORS preflight and 405 for other methods. Bodies and
 * headers are built once.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9728
 */
import type { PlainResponse } from '../http/plain-response.js'
import type { ResolvedOptions } from '../options.js'

/** The RFC 9728 §2 document. */
export interface ProtectedResourceMetadata {
  resource: string
  authorization_servers: string[]
  scopes_supported?: string[]
  bearer_methods_supported: ['header']
  resource_name?: string
  resource_documentation?: string
  resource_policy_uri?: string
  resource_tos_uri?: string
  /** RFC 9728 §2 / RFC 9449: the DPoP proof algorithms accepted (when DPoP is on). */
  dpop_signing_alg_values_supported?: string[]
  /** RFC 9728 §2: `true` when only DPoP-bound tokens are accepted (`dpop: 'required'`). */
  dpop_bound_access_tokens_required?: boolean
}

export const ROOT_METADATA_PATH = '/.well-known/oauth-protected-resource'

export function buildProtectedResourceMetadata(config: ResolvedOptions): ProtectedResourceMetadata {
  const doc: ProtectedResourceMetadata = {
    resource: config.resource,
    authorization_servers: config.issuers.map((i) => i.issuer),
    bearer_methods_supported: ['header'],
  }
  // Never offline_access: refresh tokens are not a resource requirement (MCP 2026-07-28, SEP-2207).
  const scopes = (config.scopesSupported.length > 0 ? config.scopesSupported : config.requiredScopes).filter((s) => s !== 'offline_access')
  if (scopes.length > 0) doc.scopes_supported = scopes
  if (config.resourceName !== undefined) doc.resource_name = config.resourceName
  if (config.resourceDocumentation !== undefined) doc.resource_documentation = config.resourceDocumentation
  if (config.resourcePolicyUri !== undefined) doc.resource_policy_uri = config.resourcePolicyUri
  if (config.resourceTosUri !== undefined) doc.resource_tos_uri = config.resourceTosUri
  if (config.dpop) {
    doc.dpop_signing_alg_values_supported = [...config.dpop.rules.algorithms]
    doc.dpop_bound_access_tokens_required = config.dpop.mode === 'required'
  }
  return doc
}

/** CORS for the well-known documents (RFC 9728 and the AS-metadata mirror): browser clients read them. */
export const METADATA_CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, HEAD, OPTIONS',
  'access-control-allow-headers': 'Authorization, MCP-Protocol-Version, Content-Type',
  'access-control-max-age': '86400',
}

/** The precomputed responses of the metadata routes. */
export interface MetadataRoutes {
  /** Paths served: the path-inserted one, and the root one. */
  paths: ReadonlySet<string>
  respond(method: string): PlainResponse
}

export function metadataRoutes(config: ResolvedOptions): MetadataRoutes {
  const body = JSON.stringify(buildProtectedResourceMetadata(config))
  const headers = {
    'content-type': 'application/json',
    // Clients fetch this on every connect; an hour is long enough to help and short enough to roll a change.
    'cache-control': 'public, max-age=3600',
    'access-control-allow-origin': '*',
    'content-length': String(new TextEncoder().encode(body).byteLength),
  }
  const get: PlainResponse = { status: 200, headers, body }
  const head: PlainResponse = { status: 200, headers, body: '' }
  const options: PlainResponse = { status: 204, headers: { ...METADATA_CORS, 'content-length': '0' }, body: '' }
  const notAllowed: PlainResponse = {
    status: 405,
    headers: { allow: 'GET, HEAD, OPTIONS', 'access-control-allow-origin': '*', 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: '{"error":"method_not_allowed"}',
  }
  return {
    paths: new Set([config.metadataPath, ROOT_METADATA_PATH]),
    respond(method) {
      switch (method.toUpperCase()) {
        case 'GET': return get
        case 'HEAD': return head
        case 'OPTIONS': return options
        default: return notAllowed
      }
    },
  }
}
