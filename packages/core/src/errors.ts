/**
 * Stable error codes of {@link McpAuthError}. Switch on `code`, never parse `message`.
 *
 * The OAuth error each maps to (RFC 6750 §3.1) and the HTTP status are fixed per code.
 */
export type McpAuthErrorCode =
  /** No credentials in the request: 401 with a challenge that has no `error` attribute (RFC 6750 §3.1). */
  | 'ERR_MISSING_TOKEN'
  /** Malformed `Authorization` header, several credentials, or a token in the query/body: 400 `invalid_request`. */
  | 'ERR_INVALID_REQUEST'
  /** The token is not a well-formed JWT (or is too large). 401 `invalid_token`. */
  | 'ERR_TOKEN_MALFORMED'
  /** The JWS signature did not verify against the issuer's keys. 401 `invalid_token`. */
  | 'ERR_TOKEN_SIGNATURE'
  /** The signing algorithm is not in the allow-list. 401 `invalid_token`. */
  | 'ERR_TOKEN_ALGORITHM'
  /** No key in the issuer's JWKS matches the token's `kid`/`alg`. 401 `invalid_token`. */
  | 'ERR_TOKEN_KEY_NOT_FOUND'
  /** `exp` is in the past. 401 `invalid_token`. */
  | 'ERR_TOKEN_EXPIRED'
  /** `nbf` or `iat` is in the future. 401 `invalid_token`. */
  | 'ERR_TOKEN_NOT_YET_VALID'
  /** `iss` is missing or not one of the trusted issuers. 401 `invalid_token`. */
  | 'ERR_TOKEN_ISSUER'
  /** `aud` does not contain this resource (RFC 8707). 401 `invalid_token`. */
  | 'ERR_TOKEN_AUDIENCE'
  /** A required claim is missing or has the wrong type or range. 401 `invalid_token`. */
  | 'ERR_TOKEN_CLAIM'
  /** The JWT is not an access token (an ID token, or a `typ` we do not accept). 401 `invalid_token`. */
  | 'ERR_TOKEN_TYPE'
  /** Introspection answered `active: false` (revoked, expired or unknown token). 401 `invalid_token`. */
  | 'ERR_TOKEN_INACTIVE'
  /** A custom `verify` function refused the token. 401 `invalid_token`. */
  | 'ERR_TOKEN_REJECTED'
  /** The token is valid but lacks a required scope: 403 `insufficient_scope`. */
  | 'ERR_INSUFFICIENT_SCOPE'
  /** A DPoP request (RFC 9449) whose proof is missing, malformed, for another request, stale, or replayed: 401 `invalid_dpop_proof`. */
  | 'ERR_DPOP_PROOF'
  /** A DPoP proof without the current server nonce (RFC 9449 §9): 401 `use_dpop_nonce` with a `DPoP-Nonce` header. */
  | 'ERR_DPOP_NONCE'
  /**
   * The DPoP key binding does not hold: the proof's key is not the token's `cnf.jkt`, an unbound token came with
   * the DPoP scheme, or a bearer token came where only DPoP-bound tokens are accepted. 401 `invalid_token`.
   */
  | 'ERR_DPOP_BINDING'
  /** The IdP (metadata, JWKS or introspection) could not be reached or answered garbage: 503 with `Retry-After`. */
  | 'ERR_IDP_UNAVAILABLE'
  /** A shared store (session bindings) could not answer: 503 with `Retry-After`, never a session taken as unbound. */
  | 'ERR_STORE_UNAVAILABLE'
  /** The `Mcp-Session-Id` belongs to another user (issuer, subject, client): 404 "Session not found". */
  | 'ERR_SESSION_MISMATCH'
  /**
   * MCP 2026-07-28 (SEP-2243): an `MCP-Protocol-Version`, `Mcp-Method` or `Mcp-Name` header is missing,
   * malformed, or disagrees with the body: 400 with JSON-RPC error `-32020` (HeaderMismatch).
   */
  | 'ERR_MCP_HEADER_MISMATCH'
  /** A JSON-RPC batch holding an MCP 2026-07-28 message (that revision allows one message per POST): 400, `-32600`. */
  | 'ERR_MCP_BATCH'

/** The OAuth `error` value of a challenge (RFC 6750 §3.1), or `temporarily_unavailable` for 503. */
export type OAuthErrorValue = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'temporarily_unavailable' | 'invalid_dpop_proof' | 'use_dpop_nonce'

const STATUS: Record<McpAuthErrorCode, { status: number; error?: OAuthErrorValue }> = {
  ERR_MISSING_TOKEN: { status: 401 },
  ERR_INVALID_REQUEST: { status: 400, error: 'invalid_request' },
  ERR_TOKEN_MALFORMED: { status: 401, error: 'invalid_token' },
  ERR_TOKEN_SIGNATURE: { status: 401, error: 'invalid_token' },
  ERR_TOKEN_ALGORITHM: { status: 401, error: 'invalid_token' },
  ERR_TOKEN_KEY_NOT_FOUND: { status: 401, error: 'invalid_token' },
  ERR_TOKEN_EXPIRED: { status: 401, error: 'invalid_token' },
  ERR_TOKEN_NOT_YET_VALID: { status: 401, error: 'invalid_token' },
  ERR_TOKEN_ISSUER: { status: 401, error: 'invalid_token' },
  ERR_TOKEN_AUDIENCE: { status: 401, error: 'invalid_token' },
  ERR_TOKEN_CLAIM: { status: 401, error: 'invalid_token' },
  ERR_TOKEN_TYPE: { status: 401, error: 'invalid_token' },
  ERR_TOKEN_INACTIVE: { status: 401, error: 'invalid_token' },
  ERR_TOKEN_REJECTED: { status: 401, error: 'invalid_token' },
  ERR_INSUFFICIENT_SCOPE: { status: 403, error: 'insufficient_scope' },
  ERR_DPOP_PROOF: { status: 401, error: 'invalid_dpop_proof' },
  ERR_DPOP_NONCE: { status: 401, error: 'use_dpop_nonce' },
  ERR_DPOP_BINDING: { status: 401, error: 'invalid_token' },
  ERR_IDP_UNAVAILABLE: { status: 503, error: 'temporarily_unavailable' },
  ERR_STORE_UNAVAILABLE: { status: 503, error: 'temporarily_unavailable' },
  ERR_SESSION_MISMATCH: { status: 404 },
  ERR_MCP_HEADER_MISMATCH: { status: 400 },
  ERR_MCP_BATCH: { status: 400 },
}

/**
 * A request that is not authenticated, with everything needed to answer it: the HTTP `status`, the OAuth
 * `error`, a `description` safe to show the client (never the token), and for 403 the `scopes` the
 * challenge must ask for.
 *
 * @example
 * ```ts
 * try { await auth.authenticate(request) } catch (err) {
 *   if (err instanceof McpAuthError && err.code === 'ERR_INSUFFICIENT_SCOPE') { … }
 *   return auth.errorResponse(err)
 * }
 * ```
 */
export class McpAuthError extends Error {
  override readonly name = 'McpAuthError'
  /** Stable machine-readable code. */
  readonly code: McpAuthErrorCode
  /** HTTP status of the response: 400, 401, 403, 404 or 503. */
  readonly status: number
  /** OAuth error value for the challenge; `undefined` when no credentials were sent. */
  readonly error: OAuthErrorValue | undefined
  /** Text for `error_description` (RFC 6750 charset, never contains the token). */
  readonly description: string
  /** For `ERR_INSUFFICIENT_SCOPE`: the scopes the challenge asks for (the token's plus the missing ones). */
  readonly scopes: readonly string[] | undefined
  /** For `ERR_IDP_UNAVAILABLE` and `ERR_STORE_UNAVAILABLE`: seconds for `Retry-After`. */
  readonly retryAfter: number | undefined
  /** For the JSON-RPC refusals (`ERR_MCP_*`): the id of the request they answer (`null` when unknown). */
  readonly jsonRpcId: string | number | null | undefined

  constructor(
    code: McpAuthErrorCode,
    description: string,
    options?: { cause?: unknown; scopes?: readonly string[]; retryAfter?: number; jsonRpcId?: string | number | null },
  ) {
    super(description, options?.cause === undefined ? undefined : { cause: options.cause })
    const { status, error } = STATUS[code]
    this.code = code
    this.status = status
    this.error = error
    this.description = description
    this.scopes = options?.scopes
    this.retryAfter = options?.retryAfter
    this.jsonRpcId = options?.jsonRpcId
  }
}

/** Codes of the `TypeError`s thrown by {@link createMcpAuth} for misconfiguration. */
export type McpAuthConfigErrorCode = 'ERR_MCP_AUTH_CONFIG'

/** A misconfiguration found at start-up: a `TypeError` with a `code`, whose message says what to write instead. */
export class McpAuthConfigError extends TypeError {
  override readonly name = 'McpAuthConfigError'
  readonly code: McpAuthConfigErrorCode = 'ERR_MCP_AUTH_CONFIG'
  /** The option path that is wrong, e.g. `resource` or `authorizationServers[1].issuer`. */
  readonly option: string
  constructor(option: string, message: string) {
    super(`mcp-oauth: option "${option}": ${message}`)
    this.option = option
  }
}
