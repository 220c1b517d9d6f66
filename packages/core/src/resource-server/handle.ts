/**
 * `handle`: the whole decision for one request, as named stages —
 *   resolve path (routes.ts) → metadata (routes.ts: RFC 9728, RFC 8414 mirror) → plan (mcp/authorize.ts: the
 *   SEP-2243 headers or the body) → verify (token/verifier.ts) → authorize (mcp/authorize.ts: scopes, policy)
 *   → body check (mcp/authorize.ts: headers against body) → session (mcp/session-stage.ts) → respond
 *   (challenges.ts).
 * The order is the same on every host, whether it has the body up front or later (`checkBody`): a malformed
 * header (400) → the token (401) → the scopes the headers or body name (403) → the body against its headers
 * (400) and its own scopes (403). A cache hit runs synchronously up to the final outcome: no await unless the
 * policy's `check` or the session store needs one.
 */
import { authInfoExtra, type AuthInfo } from '../auth-info.js'
import { McpAuthError } from '../errors.js'
import type { EventSink } from '../events.js'
import { BODY_TOO_LARGE } from '../http/body.js'
import type { RequestLike } from '../http/request-like.js'
import { checkScopes, type Authorizer, type RequestPlan } from '../mcp/authorize.js'
import { isPreflight } from '../http/cors.js'
import { sessionIdOf } from '../mcp/headers.js'
import { mayInitialize, type SessionStage } from '../mcp/session-stage.js'
import type { TokenVerifier } from '../token/verifier.js'
import type { Challenges } from './challenges.js'
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
  /** Policy from the headers alone, never reading the body (`policy.trustHeaders`). */
  trustHeaders: boolean
}

type Authenticated = Extract<McpAuthOutcome, { type: 'authenticated' }>

const PENDING = Symbol('mcp-oauth.pendingBodyCheck')

/** What an outcome decided before its body was read still has to do when the body comes. */
interface Pending {
  plan: RequestPlan
  request: RequestLike
  scopes: readonly string[] | undefined
  /** The session check waits for the body, which settles the era. */
  sessionPending: boolean
}

export function createHandle(s: Stages): {
  handle: (request: RequestLike, opts?: HandleOptions) => Promise<McpAuthOutcome>
  checkBody: (outcome: McpAuthOutcome, body: unknown) => Promise<McpAuthOutcome>
} {

  /** Resolve path and metadata: an outcome when the request is not for the protected resource, else undefined. */
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
    if (opts?.body === BODY_TOO_LARGE) return { type: 'respond', response: s.challenges.tooLarge }
    const mirrored = s.routes.mirrored(request.method, path)
    if (mirrored) return mirrored.then((response) => ({ type: 'respond', response }))
    if (!opts?.protect && !s.routes.isProtected(path)) return { type: 'next' }
    if (isPreflight(request)) {
      const answer = s.challenges.preflight(request)
      return answer ? { type: 'respond', response: answer } : { type: 'next' }
    }
    return undefined
  }

  /** Plan, verify, authorize, check the body and the session; any refusal becomes its response. */
  async function authenticate(request: RequestLike, opts: HandleOptions | undefined): Promise<McpAuthOutcome> {
    // Only a POST has a JSON-RPC body (Express 4's body parser leaves `{}` on every GET).
    const body = request.method === 'POST' ? opts?.body : undefined
    let plan: RequestPlan | 'needs-body'
    try {
      plan = s.authorizer.plan(request, body, opts?.bodyPending === true)
    } catch (err) {
      return refused(err, undefined)
    }
    if (plan === 'needs-body') return { type: 'needs-body' }
    // What this request needs from its path and, with a policy, from its headers or body (known before the token).
    let needs = s.authorizer.staticNeeds(plan.requests, opts?.scopes)
    let modern = plan.modern
    try {
      const verified = s.verifier.verifyRequest(request)
      const info = verified instanceof Promise ? await verified : verified
      if (s.authorizer.hasCheck(plan.requests)) {
        const decided = await s.authorizer.decide(plan.requests, info, needs, modern)
        needs = decided.needs
        if (decided.denied) throw decided.denied
      }
      checkScopes(info, needs, modern, s.authorizer.policy)
      let requests = plan.requests
      const hasBody = body !== undefined
      if (hasBody) ({ modern, requests } = s.authorizer.checkBody(plan, body, info, opts?.scopes))
      // The body settles the era; without it, a request naming a session is checked as the 2025-11-25 one it may be.
      const sessionId = sessionIdOf(request)
      // Decided from the headers without the body: the body must still be checked before the request runs.
      const mustRead = !hasBody && request.method === 'POST' && plan.decidedBy === 'headers' && !s.trustHeaders
      // The session check waits for the body only when the host said it will bring it.
      const sessionPending = mustRead && opts?.bodyPending === true && sessionId !== undefined
      // Only a request that names a session pays for the store lookup (and its await).
      if (sessionId && s.sessions.store && !sessionPending && !(hasBody && modern)) await s.sessions.check(sessionId, info)
      // A request starting a session on a shared store: the store must answer now (mcp/session-stage.ts).
      const probe = sessionId === undefined ? s.sessions.ensureAvailable(opts?.body) : undefined
      if (probe) await probe
      if (s.emit) emitAuthenticated(s.emit, info, modern, plan.decidedBy)
      const outcome: Authenticated = {
        type: 'authenticated',
        auth: info,
        sessionId,
        requests,
        mayCreateSession: sessionId === undefined && request.method === 'POST' && !(hasBody && modern) && mayInitialize(body),
        revision: modern ? 'modern' : 'legacy',
        decidedBy: plan.decidedBy,
        needsBody: mustRead,
      }
      // Kept for checkBody only when the host said it may still bring the body.
      if (!hasBody && (opts?.bodyPending === true || mustRead)) {
        // On the outcome itself (not enumerable), not in a WeakMap: nothing for the collector to trace per request.
        Object.defineProperty(outcome, PENDING, { value: { plan, request, scopes: opts?.scopes, sessionPending } satisfies Pending, configurable: true })
      }
      return outcome
    } catch (err) {
      return refused(err, needs.length > 0 ? { scopes: needs } : undefined)
    }
  }

  async function checkBody(outcome: McpAuthOutcome, body: unknown): Promise<McpAuthOutcome> {
    if (outcome.type !== 'authenticated') return outcome
    const state = (outcome as Authenticated & { [PENDING]?: Pending })[PENDING]
    if (!state || body === undefined || state.request.method !== 'POST') return outcome
    delete (outcome as Authenticated & { [PENDING]?: Pending })[PENDING]
    if (body === BODY_TOO_LARGE) return { type: 'respond', response: s.challenges.tooLarge }
    try {
      const checked = s.authorizer.checkBody(state.plan, body, outcome.auth, state.scopes)
      if (state.sessionPending && !checked.modern && s.sessions.store) await s.sessions.check(outcome.sessionId!, outcome.auth)
      // Fastify decides in onRequest and brings the body here: an initialize on a shared store is probed now.
      const probe = outcome.mayCreateSession && !checked.modern ? s.sessions.ensureAvailable(body) : undefined
      if (probe) await probe
      return {
        ...outcome,
        requests: checked.requests,
        revision: checked.modern ? 'modern' : 'legacy',
        mayCreateSession: outcome.mayCreateSession && !checked.modern && mayInitialize(body),
        needsBody: false,
      }
    } catch (err) {
      return refused(err, undefined)
    }
  }

  function refused(err: unknown, challenge: { scopes: readonly string[] } | undefined): McpAuthOutcome {
    if (err instanceof McpAuthError) {
      s.emit?.({ type: 'rejected', code: err.code, status: err.status })
      return { type: 'respond', response: s.challenges.respond(err, challenge), error: err }
    }
    return { type: 'respond', response: s.challenges.respond(err, challenge) }
  }

  return {
    handle: (request, opts) => {
      let routed: McpAuthOutcome | Promise<McpAuthOutcome> | undefined
      try {
        routed = route(request, opts)
      } catch (err) {
        return Promise.reject(err)
      }
      if (routed === undefined) return authenticate(request, opts)
      return routed instanceof Promise ? routed : Promise.resolve(routed)
    },
    checkBody,
  }
}

function emitAuthenticated(emit: EventSink, info: AuthInfo, modern: boolean, decidedBy: 'headers' | 'body' | 'none'): void {
  const extra = authInfoExtra(info)
  emit({
    type: 'authenticated', clientId: info.clientId, verifiedBy: extra.verifiedBy ?? 'jwt',
    revision: modern ? 'modern' : 'legacy', policyFrom: decidedBy,
    ...(extra.issuer ? { issuer: extra.issuer } : {}), ...(extra.subject ? { subject: extra.subject } : {}),
  })
}
