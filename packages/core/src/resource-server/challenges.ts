/**
 * The respond stage for refusals: an error becomes its response — 401/403 with the RFC 6750 §3
 * `WWW-Authenticate: Bearer` challenge pointing at the RFC 9728 metadata (and the scopes to ask for), 503 with
 * `Retry-After`, 404 for a session of another user, 413 for an oversize body — and the CORS preflight answer.
 * With `cors` on (the default) every refusal carries the CORS response headers, so a browser client can read it.
 */
import { McpAuthError } from '../errors.js'
import { CORS_RESPONSE_HEADERS, preflightResponse, withCors } from '../http/cors.js'
import type { PlainResponse } from '../http/plain-response.js'
import type { RequestLike } from '../http/request-like.js'
import type { ResolvedOptions } from '../options.js'
import { buildDpopChallenge, dpopRefusal } from '../token/dpop.js'
import { buildChallenge } from '../token/rfc6750.js'

const JSON_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' }
/** Without `cors` a challenge still exposes what it sets, for an application's own CORS middleware. */
const EXPOSE_CHALLENGE = { 'access-control-expose-headers': 'WWW-Authenticate' }
const EXPOSE_DPOP_CHALLENGE = { 'access-control-expose-headers': 'WWW-Authenticate, DPoP-Nonce' }

const TOO_LARGE: PlainResponse = {
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
function jsonRpcRefusal(err: McpAuthError, headers: Readonly<Record<string, string>>): PlainResponse {
  const code = JSON_RPC_CODE[err.code as keyof typeof JSON_RPC_CODE]
  return {
    status: 400,
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', id: err.jsonRpcId ?? null, error: { code, message: err.description } }),
  }
}

export class Challenges {
  /** The 401 without a token is the most common refusal: built once per scope set. */
  private readonly missing = new Map<string, PlainResponse>()
  /** The 401 asks for the minimal set: what every request needs, else what the server supports (never offline_access). */
  private readonly defaultScopes: readonly string[]
  private readonly headers: Readonly<Record<string, string>>
  private readonly sessionNotFound: PlainResponse
  /** 413 for a body past the cap. */
  readonly tooLarge: PlainResponse

  constructor(private readonly config: ResolvedOptions) {
    this.defaultScopes = (config.requiredScopes.length > 0 ? config.requiredScopes : config.scopesSupported)
      .filter((s) => s !== 'offline_access')
    this.headers = config.cors ? { ...JSON_HEADERS, ...CORS_RESPONSE_HEADERS } : JSON_HEADERS
    this.sessionNotFound = config.cors ? withCors(SESSION_NOT_FOUND) : SESSION_NOT_FOUND
    this.tooLarge = config.cors ? withCors(TOO_LARGE) : TOO_LARGE
  }

  /** The answer to a CORS preflight of the MCP endpoint; undefined with `cors: false` (the application's to answer). */
  preflight(request: RequestLike): PlainResponse | undefined {
    return this.config.cors ? preflightResponse(request) : undefined
  }

  /** The response for `error` (anything not an McpAuthError counts as "cannot validate", 503). */
  respond(error: unknown, opts?: { scopes?: readonly string[] }): PlainResponse {
    const err = error instanceof McpAuthError
      ? error
      : new McpAuthError('ERR_IDP_UNAVAILABLE', 'The token could not be validated', { cause: error, retryAfter: this.config.retryAfter })
    if (err.code === 'ERR_SESSION_MISMATCH') return this.sessionNotFound
    if (err.code === 'ERR_MCP_HEADER_MISMATCH' || err.code === 'ERR_MCP_BATCH') return jsonRpcRefusal(err, this.headers)
    if (err.status === 503) {
      return {
        status: 503,
        headers: { ...this.headers, 'retry-after': String(err.retryAfter ?? this.config.retryAfter) },
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
      headers: { ...(this.config.cors ? this.headers : { ...JSON_HEADERS, ...EXPOSE_CHALLENGE }), 'www-authenticate': header },
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
      ...(this.config.cors ? this.headers : { ...JSON_HEADERS, ...EXPOSE_DPOP_CHALLENGE }),
      'www-authenticate': challenges.join(', '),
    }
    if (refusal?.nonce) headers['dpop-nonce'] = refusal.nonce
    return { status: err.status, headers, body }
  }
}
