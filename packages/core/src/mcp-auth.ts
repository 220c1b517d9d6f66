/**
 * `createMcpAuth`: the resource server. One object per protected MCP endpoint; adapters call `handle`.
 * It composes the stages (resource-server/handle.ts draws the flow): routes and metadata, the TokenVerifier,
 * the authorizer (scopes and policy), the session stage and the challenges; docs/architecture.md maps them.
 */
import type { AuthInfo } from './auth-info.js'
import { McpAuthError } from './errors.js'
import { eventSink, type EventSink } from './events.js'
import { addCorsHeaders } from './http/cors.js'
import { interceptNodeResponse, type NodeResponseLike } from './http/node-response.js'
import { toResponse } from './http/plain-response.js'
import type { RequestLike } from './http/request-like.js'
import { pathOf } from './http/request-path.js'
import { Authorizer, checkScopes } from './mcp/authorize.js'
import { responseHooks } from './mcp/response-hooks.js'
import { SessionStage } from './mcp/session-stage.js'
import type { McpAuthOptions, ResolvedOptions } from './options.js'
import { resolveOptions } from './options/resolve.js'
import { Challenges } from './resource-server/challenges.js'
import { serveFetch } from './resource-server/fetch-host.js'
import { createHandle, type Stages } from './resource-server/handle.js'
import { Routes } from './resource-server/routes.js'
import type { AuthenticateOptions, McpAuth, McpAuthOutcome } from './resource-server/types.js'
import { TokenVerifier } from './token/verifier.js'

export type { AuthenticateOptions, HandleOptions, McpAuth, McpAuthOutcome } from './resource-server/types.js'

/**
 * `offline_access` asks the IdP for a refresh token; it is not something a resource needs, so the server never
 * advertises or challenges for it (MCP 2026-07-28, SEP-2207). Configured in `scopesSupported`, it is dropped
 * from the metadata and challenges, and this says so once at start-up.
 */
function warnAboutOfflineAccess(config: ResolvedOptions, emit: EventSink | undefined): void {
  if (!config.scopesSupported.includes('offline_access')) return
  const message = 'mcp-oauth: "offline_access" in scopesSupported is not advertised in the protected resource metadata or asked for in challenges (MCP 2026-07-28: refresh tokens are not a resource requirement; clients add it themselves when the IdP supports it). Remove it from scopesSupported.'
  if (emit) emit({ type: 'config_warning', option: 'scopesSupported', message })
  else console.warn(message)
}

/**
 * Create the resource server. All options are checked here: a mistake throws a `TypeError`
 * ({@link McpAuthConfigError}) at start-up with a message that says what to write instead.
 *
 * @example
 * ```ts
 * const auth = createMcpAuth({ resource: 'https://mcp.example.com/mcp', issuer: 'https://idp.example.com' })
 * ```
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization
 */
/**
 * Whether a response's request may be a browser's: it carries Origin (Fetch: every CORS request does), read from
 * the request when the host gives it, else from `res.req`; a response whose request is unknown counts as one.
 */
function fromBrowser(res: NodeResponseLike, request: RequestLike | undefined): boolean {
  if (request) return request.headers.get('origin') !== null
  return res.req?.headers === undefined || res.req.headers.origin !== undefined
}

export function createMcpAuth(options: McpAuthOptions): McpAuth {
  const config = resolveOptions(options)
  const emit = eventSink(config.onEvent)
  const verifier = new TokenVerifier(config, { emit, allowInsecureHttp: options.allowInsecureHttp === true })
  const s: Stages = {
    routes: new Routes(config, () => verifier.firstIssuerDiscovery()!),
    verifier,
    authorizer: new Authorizer(config.requiredScopes, config.policy),
    sessions: new SessionStage(config.sessionStore, { retryAfter: config.retryAfter, emit }),
    challenges: new Challenges(config),
    emit,
    trustHeaders: config.policy?.trustHeaders === true,
  }
  warnAboutOfflineAccess(config, emit)
  const { handle, checkBody, handleNow, checkBodyNow } = createHandle(s)
  const hooks = (outcome: McpAuthOutcome) => outcome.type === 'authenticated'
    ? responseHooks(s.sessions, config.policy, outcome.auth, outcome.requests, outcome.mayCreateSession)
    : undefined

  async function authenticate(request: RequestLike, opts?: AuthenticateOptions): Promise<AuthInfo> {
    const verified = verifier.verifyRequest(request)
    const info = verified instanceof Promise ? await verified : verified
    checkScopes(info, opts?.scopes ?? config.requiredScopes, false, config.policy)
    return info
  }

  function report(err: unknown): never {
    if (err instanceof McpAuthError) emit?.({ type: 'rejected', code: err.code, status: err.status })
    throw err
  }

  const fetchHost = { readsBody: config.policy !== undefined, isMetadata: (r: RequestLike) => s.routes.metadataOf(r) !== undefined, handle, checkBody, hooks, cors: config.cors, tooLarge: s.challenges.tooLarge }

  return {
    resource: config.resource,
    protectedResourceMetadataUrl: config.metadataUrl,
    options: config,
    authenticate: (request, opts) => authenticate(request, opts).catch(report),
    verifyAccessToken: async (token) => verifier.verify(token),
    metadataResponse: async (request) => {
      const plain = s.routes.metadataOf(request)
      if (plain) return toResponse(plain)
      const mirrored = s.routes.mirrored(request.method, pathOf(request.url))
      return mirrored ? toResponse(await mirrored) : undefined
    },
    errorResponse: (error, opts) => toResponse(s.challenges.respond(error, opts)),
    errorPlainResponse: (error, opts) => s.challenges.respond(error, opts),
    metadataPlainResponse: (request) => s.routes.metadataOf(request),
    isProtectedPath: (path) => s.routes.isProtected(pathOf(path)),
    handle,
    checkBody,
    handleNow,
    checkBodyNow,
    watchNodeResponse: (outcome, res, request) => {
      if (outcome.type !== 'authenticated') return
      // Only a browser's request needs the CORS headers.
      if (config.cors && res.setHeader && fromBrowser(res, request)) {
        addCorsHeaders((name) => res.getHeader(name) !== undefined, (name, value) => res.setHeader!(name, value))
      }
      const h = hooks(outcome)
      if (h) interceptNodeResponse(res, h)
    },
    bindSession: (sessionId, info) => s.sessions.bind(sessionId, info),
    fetch: (handler) => (request) => serveFetch(fetchHost, request, handler),
    clearCache: () => verifier.clear(),
  }
}
