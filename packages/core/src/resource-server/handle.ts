/**
 * `handle`: the whole decision for one request, as named stages —
 *   resolve path (routes.ts) → metadata (routes.ts: RFC 9728, RFC 8414 mirror) → verify (token/verifier.ts)
 *   → authorize (mcp/authorize.ts: scopes, policy) → session (mcp/session-stage.ts) → respond (challenges.ts).
 * A cache hit runs synchronously up to the final outcome: no await unless the policy's `check` or the
 * session store needs one.
 */
import { authInfoExtra, type AuthInfo } from '../auth-info.js'
import { McpAuthError } from '../errors.js'
import type { EventSink } from '../events.js'
import { BODY_TOO_LARGE } from '../http/body.js'
import type { RequestLike } from '../http/request-like.js'
import type { Authorizer } from '../mcp/authorize.js'
import { checkScopes } from '../mcp/authorize.js'
import { isPreflight, sessionIdOf } from '../mcp/headers.js'
import { mayInitialize, type SessionStage } from '../mcp/session-stage.js'
import type { TokenVerifier } from '../token/verifier.js'
import { TOO_LARGE, type Challenges } from './challenges.js'
import type { Routes } from './routes.js'
import type { HandleOptions, McpAuthOutcome } from './types.js'

/** The stages one resource server is made of (built once by createMcpAuth). */
export interface Stages {
  routes: Routes
  verifier: TokenVerifier
  authorizer: Authorizer
  sessions: SessionStage
  challenges: Challenges
  emit: EventSink | undefined
}

export function createHandle(s: Stages): (request: RequestLike, opts?: HandleOptions) => Promise<McpAuthOutcome> {
  /** Resolve path and metadata: an outcome when the request is not for the protected resource, else its public path. */
  function route(request: RequestLike, opts: HandleOptions | undefined): McpAuthOutcome | Promise<McpAuthOutcome> | undefined {
    let path: string
    try {
      path = s.routes.publicPath(request)
    } catch (err) {
      // A malformed forwarded header: refused, but not counted as a rejected token.
      return { type: 'respond', response: s.challenges.respond(err), ...(err instanceof McpAuthError ? { error: err } : {}) }
    }
    const metadata = s.routes.metadata(request.method, path)
    if (metadata) return { type: 'respond', response: metadata }
    if (opts?.body === BODY_TOO_LARGE) return { type: 'respond', response: TOO_LARGE }
    const mirrored = s.routes.mirrored(request.method, path)
    if (mirrored) return mirrored.then((response) => ({ type: 'respond', response }))
    if (!opts?.protect && !s.routes.isProtected(path)) return { type: 'next' }
    if (isPreflight(request)) return { type: 'next' }
    return undefined
  }

  /** Verify, authorize, check the session; any refusal becomes its response. */
  async function authenticate(request: RequestLike, opts: HandleOptions | undefined): Promise<McpAuthOutcome> {
    const requests = s.authorizer.requestsOf(opts?.body)
    // What this request needs from its path and, with a policy, from its JSON-RPC body (known before the token).
    let needs = s.authorizer.staticNeeds(requests, opts?.scopes)
    try {
      const verified = s.verifier.verifyRequest(request)
      const info = verified instanceof Promise ? await verified : verified
      if (s.authorizer.hasCheck(requests)) {
        const decided = await s.authorizer.decide(requests, info, needs)
        needs = decided.needs
        if (decided.denied) throw decided.denied
      }
      checkScopes(info, needs)
      const sessionId = sessionIdOf(request)
      // Only a request that names a session pays for the store lookup (and its await).
      if (sessionId && s.sessions.store) await s.sessions.check(sessionId, info)
      if (s.emit) emitAuthenticated(s.emit, info)
      const mayCreateSession = sessionId === undefined && request.method === 'POST' && mayInitialize(opts?.body)
      return { type: 'authenticated', auth: info, sessionId, requests, mayCreateSession }
    } catch (err) {
      return refused(err, needs.length > 0 ? { scopes: needs } : undefined)
    }
  }

  function refused(err: unknown, challenge: { scopes: readonly string[] } | undefined): McpAuthOutcome {
    if (err instanceof McpAuthError) {
      s.emit?.({ type: 'rejected', code: err.code, status: err.status })
      return { type: 'respond', response: s.challenges.respond(err, challenge), error: err }
    }
    return { type: 'respond', response: s.challenges.respond(err, challenge) }
  }

  return (request, opts) => {
    let routed: McpAuthOutcome | Promise<McpAuthOutcome> | undefined
    try {
      routed = route(request, opts)
    } catch (err) {
      return Promise.reject(err)
    }
    if (routed === undefined) return authenticate(request, opts)
    return routed instanceof Promise ? routed : Promise.resolve(routed)
  }
}

function emitAuthenticated(emit: EventSink, info: AuthInfo): void {
  const extra = authInfoExtra(info)
  emit({ type: 'authenticated', clientId: info.clientId, verifiedBy: extra.verifiedBy ?? 'jwt', ...(extra.issuer ? { issuer: extra.issuer } : {}), ...(extra.subject ? { subject: extra.subject } : {}) })
}
