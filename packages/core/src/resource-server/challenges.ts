/**
 * The respond stage for refusals: an error becomes its response — 401/403 with the RFC 6750 §3
 * `WWW-Authenticate: Bearer` challenge pointing at the RFC 9728 metadata (and the scopes to ask for), 503 with
 * `Retry-After`, 404 for a session of another user, 413 for an oversize body.
 */
import { McpAuthError } from '../errors.js'
import type { PlainResponse } from '../http/plain-response.js'
import type { ResolvedOptions } from '../options.js'
import { buildDpopChallenge, dpopRefusal } from '../token/dpop.js'
import { buildChallenge } from '../token/rfc6750.js'

const JSON_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' }

export const TOO_LARGE: PlainResponse = {
  status: 413,
  headers: JSON_HEADERS,
  body: '{"error":"invalid_request","error_description":"The request body is too large"}',
}

/** The transport's own answer for an unknown session, so a foreign session id looks like any unknown one. */
const SESSION_NOT_FOUND: PlainResponse = {
  status: 404,
  headers: JSON_HEADERS,
  body: '{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}',
}

/** The JSON-RPC codes of the MCP refusals the resource server answers for the transport (400). */
const JSON_RPC_CODE = { ERR_MCP_HEADER_MISMATCH: -32020, ERR_MCP_BATCH: -32600 } as const

/**
 * What the MCP SDK v2 transport answers a missing, malformed or disagreeing SEP-2243 header (HTTP 400, JSON-RPC
 * `-32020` HeaderMismatch), or a batch holding a 2026-07-28 message (`-32600`): a client recognises its own
 * transport's answer and does not fall back to an older revision.
 */
function jsonRpcRefusal(err: McpAuthError): PlainResponse {
  const code = JSON_RPC_CODE[err.code as keyof typeof JSON_RPC_CODE]
  return {
    status: 400,
    headers: JSON_HEADERS,
    body: JSON.stringify({ jsonrpc: '2.0', id: err.jsonRpcId ?? null, error: { code, message: err.description } }),
  }
}

export class Challenges {
  /** The 401 without a token is the most common refusal: built once per scope set. */
  private readonly missing = new Map<string, PlainResponse>()
  /** The 401 asks for the minimal set: what every request needs, else what the server supports (never offline_access). */
  private readonly defaultScopes: readonly string[]

  constructor(private readonly config: ResolvedOptions) {
    this.defaultScopes = (config.requiredScopes.length > 0 ? config.requiredScopes : config.scopesSupported)
      .filter((s) => s !== 'offline_access')
  }

  /** The response for `error` (anything not an McpAuthError counts as "cannot validate", 503). */
  respond(error: unknown, opts?: { scopes?: readonly string[] }): PlainResponse {
    const err = error instanceof McpAuthError
      ? error
      : new McpAuthError('ERR_IDP_UNAVAILABLE', 'The token could not be validated', { cause: error, retryAfter: this.config.retryAfter })
    if (err.code === 'ERR_SESSION_MISMATCH') return SESSION_NOT_FOUND
    if (err.code === 'ERR_MCP_HEADER_MISMATCH' || err.code === 'ERR_MCP_BATCH') return jsonRpcRefusal(err)
    if (err.status === 503) {
      return {
        status: 503,
        headers: { ...JSON_HEADERS, 'retry-after': String(err.retryAfter ?? this.config.retryAfter) },
        body: JSON.stringify({ error: 'temporarily_unavailable', error_description: err.description }),
      }
    }
    const scopes = err.code === 'ERR_INSUFFICIENT_SCOPE' ? err.scopes : opts?.scopes ?? this.defaultScopes
    if (err.code === 'ERR_MISSING_TOKEN') {
      const key = scopes?.join(' ') ?? ''
      let cached = this.missing.get(key)
      if (!cached) {
        cached = this.challenge(err, scopes)
        if (this.missing.size < 100) this.missing.set(key, cached)
      }
      return cached
    }
    return this.challenge(err, scopes)
  }

  private challenge(err: McpAuthError, scopes: readonly string[] | undefined): PlainResponse {
    const dpop = this.config.dpop
    if (dpop) return this.withDpop(err, scopes, dpop.mode, dpop.rules.algorithms)
    const header = buildChallenge({
      ...(err.error ? { error: err.error } : {}),
      ...(err.error ? { description: err.description } : {}),
      resourceMetadata: this.config.metadataUrl,
      ...(scopes ? { scope: scopes } : {}),
    })
    const body = err.error
      ? JSON.stringify({ error: err.error, error_description: err.description })
      : JSON.stringify({ error: 'unauthorized', error_description: err.description })
    return {
      status: err.status,
      headers: { ...JSON_HEADERS, 'www-authenticate': header, 'access-control-expose-headers': 'WWW-Authenticate' },
      body,
    }
  }

  /**
   * RFC 9449 §7.1–7.2: with DPoP allowed, the `Bearer` challenge (first, with `resource_metadata`, which is what
   * every MCP client reads) and beside it on a 401 `DPoP algs="…"`; the error goes in the challenge of the scheme
   * the request used. With DPoP required, the `DPoP` challenge alone carries everything.
   */
  private withDpop(err: McpAuthError, scopes: readonly string[] | undefined, mode: 'allowed' | 'required', algorithms: readonly string[]): PlainResponse {
    const refusal = dpopRefusal(err)
    const inDpop = mode === 'required' || refusal !== undefined
    const error = err.error ? { error: err.error, description: err.description } : {}
    const challenges: string[] = []
    if (mode === 'allowed') {
      challenges.push(buildChallenge({ ...(inDpop ? {} : error), resourceMetadata: this.config.metadataUrl, ...(scopes ? { scope: scopes } : {}) }))
    }
    if (mode === 'required' || err.status === 401 || refusal) {
      challenges.push(buildDpopChallenge({
        algorithms,
        ...(inDpop ? error : {}),
        ...(mode === 'required' ? { resourceMetadata: this.config.metadataUrl, ...(scopes ? { scope: scopes } : {}) } : {}),
      }))
    }
    const body = err.error
      ? JSON.stringify({ error: err.error, error_description: err.description })
      : JSON.stringify({ error: 'unauthorized', error_description: err.description })
    const headers: Record<string, string> = {
      ...JSON_HEADERS,
      'www-authenticate': challenges.join(', '),
      'access-control-expose-headers': 'WWW-Authenticate, DPoP-Nonce',
    }
    if (refusal?.nonce) headers['dpop-nonce'] = refusal.nonce
    return { status: err.status, headers, body }
  }
}
