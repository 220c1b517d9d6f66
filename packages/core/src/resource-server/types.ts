/** The public shape of the resource server: what {@link createMcpAuth} returns and what `handle` decides. */
import type { AuthInfo } from '../auth-info.js'
import type { McpAuthError } from '../errors.js'
import type { NodeResponseLike } from '../http/node-response.js'
import type { PlainResponse } from '../http/plain-response.js'
import type { RequestLike } from '../http/request-like.js'
import type { PolicyRequest } from '../mcp/policy.js'
import type { ResolvedOptions } from '../options.js'

/** Per-call options of {@link McpAuth.authenticate} and {@link McpAuth.handle}. */
export interface AuthenticateOptions {
  /** Scopes this request needs, instead of the configured `requiredScopes`. */
  scopes?: readonly string[]
}

/** Options of {@link McpAuth.handle}. */
export interface HandleOptions extends AuthenticateOptions {
  /** Authenticate whatever the path (for `protect()` on other routes). */
  protect?: boolean
  /** The parsed JSON-RPC body, when the host has it: the `policy` is evaluated on it, and its MCP headers checked against it. */
  body?: unknown
  /**
   * The host has not read the body yet but can: `handle` may then answer `needs-body` (call it again with the
   * body), or an `authenticated` outcome with `needsBody: true` (pass the body to {@link McpAuth.checkBody}
   * before anything runs). Fastify's `onRequest` and Node hosts without a body parser use this, so an MCP
   * 2026-07-28 request is refused from its headers before its body is read.
   */
  bodyPending?: boolean
}

/** What an adapter does with a request. */
export type McpAuthOutcome =
  /** Write this response (metadata, or a refusal) and stop. */
  | { type: 'respond'; response: PlainResponse; error?: McpAuthError }
  /** Authenticated: set `req.auth = auth` and continue. */
  | {
    type: 'authenticated'
    auth: AuthInfo
    sessionId: string | undefined
    requests: readonly PolicyRequest[]
    /** The response may assign a new `Mcp-Session-Id` (a POST without one, whose body may be `initialize`). */
    mayCreateSession: boolean
    /** `modern`: an MCP 2026-07-28 request (stateless; no session checked or bound). `legacy`: 2025-11-25 and before. */
    revision: 'modern' | 'legacy'
    /** What the policy judged: the SEP-2243 `Mcp-Method`/`Mcp-Name` headers, the JSON-RPC body, or nothing (no policy). */
    decidedBy: 'headers' | 'body' | 'none'
    /** The body must still go through {@link McpAuth.checkBody} before the request may run. */
    needsBody: boolean
  }
  /** With `bodyPending`: the headers do not say enough; call `handle` again with the parsed body. */
  | { type: 'needs-body' }
  /** Not a route of ours (or, with `cors: false`, a CORS preflight): continue untouched. */
  | { type: 'next' }

/** The resource server for one MCP endpoint. */
export interface McpAuth {
  /** The canonical resource URI. */
  readonly resource: string
  /** The RFC 9728 metadata URL the 401 challenge points at. */
  readonly protectedResourceMetadataUrl: string
  /** The checked options, defaults filled in. */
  readonly options: Readonly<ResolvedOptions>
  /**
   * Authenticate a request. Resolves with {@link AuthInfo}, or throws {@link McpAuthError} (turn it into a
   * response with {@link McpAuth.errorResponse}).
   */
  authenticate(request: Request | RequestLike, opts?: AuthenticateOptions): Promise<AuthInfo>
  /** Verify a bare token (no header parsing, no scope check). Also makes this object an MCP SDK `OAuthTokenVerifier`. */
  verifyAccessToken(token: string): Promise<AuthInfo>
  /** The metadata response when the request is for a metadata route, else `undefined`. */
  metadataResponse(request: Request | RequestLike): Promise<Response | undefined>
  /** Status, `WWW-Authenticate` and JSON body for an error from `authenticate`. */
  errorResponse(error: unknown, opts?: AuthenticateOptions): Response
  /** Wrap a fetch handler (Hono, Bun, Deno, Workers, the MCP SDK's web-standard transport). */
  fetch(handler: (request: Request, auth: AuthInfo, context: { parsedBody?: unknown }) => Response | Promise<Response>): (request: Request) => Promise<Response>
  /**
   * The whole decision for one request, for adapters: metadata route → respond; protected path (or
   * `protect: true`) → authenticate; anything else → next.
   */
  handle(request: RequestLike, opts?: HandleOptions): Promise<McpAuthOutcome>
  /**
   * The body check of an `authenticated` outcome decided before the body was read (`needsBody`), or of any
   * outcome once the host has the body: its MCP 2026-07-28 headers must agree with it (400 `-32020`), and it
   * must not need more scopes than the token has (403). Resolves with the outcome to act on: a `respond`, or
   * the authenticated outcome (its `requests` now the body's). Cheap when there is nothing to check.
   */
  checkBody(outcome: McpAuthOutcome, body: unknown): Promise<McpAuthOutcome>
  /**
   * {@link handle} without the promise when none is needed: the outcome itself when every stage has its answer
   * at once (a cached token, a session bound in memory, no policy `check` to await), else a promise of it. The
   * adapters use it so a cache hit costs no promise and no microtask.
   */
  handleNow(request: RequestLike, opts?: HandleOptions): McpAuthOutcome | Promise<McpAuthOutcome>
  /** {@link checkBody} without the promise when none is needed (as {@link handleNow}). */
  checkBodyNow(outcome: McpAuthOutcome, body: unknown): McpAuthOutcome | Promise<McpAuthOutcome>
  /**
   * For Node hosts, after an `authenticated` outcome: put the CORS response headers on it (`cors`, unless the
   * application set its own; only when its request carries `Origin`, as every browser CORS request does), watch it to bind a new session to its user and, with `policy.filterToolsList`,
   * filter a `tools/list` answer. `request`: the request the outcome is for, as it was given to `handle`; its
   * `Origin` is read there instead of from `res.req`.
   */
  watchNodeResponse(outcome: McpAuthOutcome, res: NodeResponseLike, request?: RequestLike): void
  /** Remember that `sessionId` belongs to the user of `auth` (hosts that see the response call this). */
  bindSession(sessionId: string, auth: AuthInfo): Promise<void>
  /** The same refusal as plain data (status, headers, body) for adapters. */
  errorPlainResponse(error: unknown, opts?: AuthenticateOptions): PlainResponse
  /** The metadata response as plain data, or `undefined`. Synchronous. */
  metadataPlainResponse(request: RequestLike): PlainResponse | undefined
  /** True when the path is the resource's path or below it. */
  isProtectedPath(path: string): boolean
  /** Forget cached verification results (e.g. after a revocation you know of). */
  clearCache(): void
}
