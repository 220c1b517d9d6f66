/**
 * `handle`: the whole decision for one request, as named stages —
 *   resolve path (routes.ts) → metadata (routes.ts: RFC 9728, RFC 8414 mirror) → plan (mcp/authorize.ts: the
 *   SEP-2243 headers or the body) → verify (token/verifier.ts) → authorize (mcp/authorize.ts: scopes, policy)
 *   → body check (mcp/authorize.ts: headers against body) → session (mcp/session-stage.ts) → respond
 *   (challenges.ts).
 * The order is the same on every host, whether it has the body up front or later (`checkBody`): a malformed
 * header (400) → the token (401) → the scopes the headers or body name (403) → the body against its headers
 * (400) and its own scopes (403).
 *
 * Every stage returns its result itself when it has it and a promise only when it must wait (a token not in
 * the cache, the policy's `check`, a session store that is not in memory). So a cache hit is decided
 * synchronously end to end: `handleNow` returns the outcome itself, and an adapter that uses it makes no
 * promise and waits no microtask for the request.
 */
import { authInfoExtra, type AuthInfo } from '../auth-info.js'
import { McpAuthError } from '../errors.js'
import type { EventSink } from '../events.js'
import { BODY_TOO_LARGE } from '../http/body.js'
import type { RequestLike } from '../http/request-like.js'
import { checkScopes, type Authorizer, type RequestPlan } from '../mcp/authorize.js'
import type { PolicyRequest } from '../mcp/policy.js'
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

/** A value now, or a promise of it when a stage has to wait. */
export type MaybePromise<T> = T | Promise<T>

type Authenticated = Extract<McpAuthOutcome, { type: 'authenticated' }>

/** What the body check found (Authorizer.checkBody). */
type BodyCheck = ReturnType<Authorizer['checkBody']>

const NEEDS_BODY: McpAuthOutcome = Object.freeze({ type: 'needs-body' })
const NEXT: McpAuthOutcome = Object.freeze({ type: 'next' })

/** What an outcome decided before its body was read still has to do when the body comes. */
interface Pending {
  plan: RequestPlan
  request: RequestLike
  scopes: readonly string[] | undefined
  /** The session check waits for the body, which settles the era. */
  sessionPending: boolean
}

/**
 * The `authenticated` outcome. A class so every one has the same shape, and so what its body must still be
 * checked against rides on it in a private field: not enumerable, not copied by a spread, nothing in a WeakMap
 * for the collector to trace per request, and no `Object.defineProperty` (a slow runtime call) per request.
 */
class AuthenticatedOutcome implements Authenticated {
  readonly type = 'authenticated'
  readonly #pending: Pending | undefined

  constructor(
    public auth: AuthInfo,
    public sessionId: string | undefined,
    public requests: Authenticated['requests'],
    public mayCreateSession: boolean,
    public revision: 'modern' | 'legacy',
    public decidedBy: 'headers' | 'body' | 'none',
    public needsBody: boolean,
    pending: Pending | undefined,
  ) {
    this.#pending = pending
  }

  /** What `checkBody` still has to check for this outcome, if it came from `handle` with the body pending. */
  static pendingOf(outcome: Authenticated): Pending | undefined {
    return #pending in outcome ? outcome.#pending : undefined
  }
}

/**
 * One request through the stages after routing: what it is, what it needs, who it is, and what admission
 * found. One object per request, filled in as the stages go: the stages are plain functions that take it,
 * with no closures on the synchronous path (a closure would give its function a context object per call).
 */
interface Decision {
  request: RequestLike
  opts: HandleOptions | undefined
  /** The body, on a POST only (Express 4's body parser leaves `{}` on every GET). */
  body: unknown
  plan: RequestPlan
  /** The scopes the request needs (the challenge names them when it is refused). */
  needs: readonly string[]
  /** Admission: the era and requests (the body's, when it is there). */
  modern: boolean
  requests: readonly PolicyRequest[]
  sessionId: string | undefined
  /** Decided from the headers without the body: the body must still be checked before the request runs. */
  mustRead: boolean
  /** The session check waits for the body. */
  sessionPending: boolean
}

export interface Handle {
  /** The outcome, or a promise of it when a stage must wait. */
  handleNow(request: RequestLike, opts?: HandleOptions): MaybePromise<McpAuthOutcome>
  checkBodyNow(outcome: McpAuthOutcome, body: unknown): MaybePromise<McpAuthOutcome>
  handle(request: RequestLike, opts?: HandleOptions): Promise<McpAuthOutcome>
  checkBody(outcome: McpAuthOutcome, body: unknown): Promise<McpAuthOutcome>
}

export function createHandle(s: Stages): Handle {
  const handleNow = (request: RequestLike, opts?: HandleOptions): MaybePromise<McpAuthOutcome> => {
    try {
      return route(s, request, opts) ?? authenticate(s, request, opts)
    } catch (err) {
      return Promise.reject(err)
    }
  }
  const checkBodyNow = (outcome: McpAuthOutcome, body: unknown) => checkPendingBody(s, outcome, body)
  return {
    handleNow,
    checkBodyNow,
    handle: (request, opts) => asPromise(() => handleNow(request, opts)),
    checkBody: (outcome, body) => asPromise(() => checkBodyNow(outcome, body)),
  }
}

function asPromise<T>(run: () => MaybePromise<T>): Promise<T> {
  try {
    const value = run()
    return value instanceof Promise ? value : Promise.resolve(value)
  } catch (err) {
    return Promise.reject(err)
  }
}

/** Resolve path and metadata: an outcome when the request is not for the protected resource, else undefined. */
function route(s: Stages, request: RequestLike, opts: HandleOptions | undefined): MaybePromise<McpAuthOutcome> | undefined {
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
  if (!opts?.protect && !s.routes.isProtected(path)) return NEXT
  if (isPreflight(request)) {
    const answer = s.challenges.preflight(request)
    return answer ? { type: 'respond', response: answer } : NEXT
  }
  return undefined
}

/** Plan, then verify the token; any refusal becomes its response. */
function authenticate(s: Stages, request: RequestLike, opts: HandleOptions | undefined): MaybePromise<McpAuthOutcome> {
  const body = request.method === 'POST' ? opts?.body : undefined
  let plan: RequestPlan | 'needs-body'
  try {
    plan = s.authorizer.plan(request, body, opts?.bodyPending === true)
  } catch (err) {
    return refused(s, err, [])
  }
  if (plan === 'needs-body') return NEEDS_BODY
  // What this request needs from its path and, with a policy, from its headers or body (known before the token).
  const d: Decision = {
    request, opts, body, plan, needs: s.authorizer.staticNeeds(plan.requests, opts?.scopes),
    modern: plan.modern, requests: plan.requests, sessionId: undefined, mustRead: false, sessionPending: false,
  }
  let verified: MaybePromise<AuthInfo>
  try {
    verified = s.verifier.verifyRequest(request)
  } catch (err) {
    return refused(s, err, d.needs)
  }
  return verified instanceof Promise ? authorizeAfter(s, d, verified) : authorize(s, d, verified)
}

function authorizeAfter(s: Stages, d: Decision, verified: Promise<AuthInfo>): Promise<McpAuthOutcome> {
  return verified.then((info) => authorize(s, d, info), (err: unknown) => refused(s, err, d.needs))
}

/** The policy's `check` (the only stage of authorization that may wait), then the rest. */
function authorize(s: Stages, d: Decision, info: AuthInfo): MaybePromise<McpAuthOutcome> {
  return s.authorizer.hasCheck(d.plan.requests) ? authorizeWithCheck(s, d, info) : admit(s, d, info)
}

function authorizeWithCheck(s: Stages, d: Decision, info: AuthInfo): Promise<McpAuthOutcome> {
  return s.authorizer.decide(d.plan.requests, info, d.needs, d.plan.modern).then((decided) => {
    d.needs = decided.needs
    if (decided.denied) throw decided.denied
    return admit(s, d, info)
  }).catch((err: unknown) => refused(s, err, d.needs))
}

/** Scopes, the body against its headers, the session: the authenticated outcome, or the refusal. */
function admit(s: Stages, d: Decision, info: AuthInfo): MaybePromise<McpAuthOutcome> {
  const { request, opts, body, plan } = d
  try {
    checkScopes(info, d.needs, d.modern, s.authorizer.policy)
    const hasBody = body !== undefined
    if (hasBody) ({ modern: d.modern, requests: d.requests } = s.authorizer.checkBody(plan, body, info, opts?.scopes))
    // The body settles the era; without it, a request naming a session is checked as the 2025-11-25 one it may be.
    const sessionId = d.sessionId = sessionIdOf(request)
    d.mustRead = !hasBody && request.method === 'POST' && plan.decidedBy === 'headers' && !s.trustHeaders
    // The session check waits for the body only when the host said it will bring it.
    d.sessionPending = d.mustRead && opts?.bodyPending === true && sessionId !== undefined
    // Only a request that names a session looks it up (in memory: a Map lookup, no promise); only a request
    // starting a session on a shared store probes it (mcp/session-stage.ts).
    const wait = sessionId === undefined
      ? s.sessions.ensureAvailable(opts?.body)
      : s.sessions.store && !d.sessionPending && !(hasBody && d.modern) ? s.sessions.check(sessionId, info) : undefined
    return wait ? admitAfter(s, d, info, wait) : admitted(s, d, info)
  } catch (err) {
    return refused(s, err, d.needs)
  }
}

function admitAfter(s: Stages, d: Decision, info: AuthInfo, wait: Promise<unknown>): Promise<McpAuthOutcome> {
  return wait.then(() => admitted(s, d, info), (err: unknown) => refused(s, err, d.needs))
}

/** The authenticated outcome of an admitted request. */
function admitted(s: Stages, d: Decision, info: AuthInfo): McpAuthOutcome {
  const { request, opts, body, plan, modern, sessionId } = d
  const hasBody = body !== undefined
  if (s.emit) emitAuthenticated(s.emit, info, modern, plan.decidedBy)
  // Kept for checkBody only when the host said it may still bring the body.
  const pending: Pending | undefined = !hasBody && (opts?.bodyPending === true || d.mustRead)
    ? { plan, request, scopes: opts?.scopes, sessionPending: d.sessionPending }
    : undefined
  const mayCreate = sessionId === undefined && request.method === 'POST' && !(hasBody && modern) && mayInitialize(body)
  return new AuthenticatedOutcome(info, sessionId, d.requests, mayCreate, modern ? 'modern' : 'legacy', plan.decidedBy, d.mustRead, pending)
}

/** The body of an outcome decided from the headers: checked against them, then the session it may touch. */
function checkPendingBody(s: Stages, outcome: McpAuthOutcome, body: unknown): MaybePromise<McpAuthOutcome> {
  if (outcome.type !== 'authenticated') return outcome
  const state = AuthenticatedOutcome.pendingOf(outcome)
  // The outcome returned below is a new one without the pending state: checking the same outcome twice checks
  // the body twice, and changes nothing.
  if (!state || body === undefined || state.request.method !== 'POST') return outcome
  if (body === BODY_TOO_LARGE) return { type: 'respond', response: s.challenges.tooLarge }
  try {
    const checked = s.authorizer.checkBody(state.plan, body, outcome.auth, state.scopes)
    const wait = state.sessionPending && !checked.modern && s.sessions.store
      ? s.sessions.check(outcome.sessionId!, outcome.auth)
      // Fastify decides in onRequest and brings the body here: an initialize on a shared store is probed now.
      : outcome.mayCreateSession && !checked.modern ? s.sessions.ensureAvailable(body) : undefined
    return wait ? confirmAfter(s, outcome, checked, body, wait) : confirmed(outcome, checked, body)
  } catch (err) {
    return refused(s, err, [])
  }
}

function confirmAfter(s: Stages, outcome: Authenticated, checked: BodyCheck, body: unknown, wait: Promise<unknown>): Promise<McpAuthOutcome> {
  return wait.then(() => confirmed(outcome, checked, body), (err: unknown) => refused(s, err, []))
}

/** The outcome once its body is checked: a new one, without the pending state. */
function confirmed(outcome: Authenticated, checked: BodyCheck, body: unknown): McpAuthOutcome {
  return new AuthenticatedOutcome(outcome.auth, outcome.sessionId, checked.requests,
    outcome.mayCreateSession && !checked.modern && mayInitialize(body), checked.modern ? 'modern' : 'legacy', outcome.decidedBy, false, undefined)
}

function refused(s: Stages, err: unknown, needs: readonly string[]): McpAuthOutcome {
  const challenge = needs.length > 0 ? { scopes: needs } : undefined
  if (err instanceof McpAuthError) {
    s.emit?.({ type: 'rejected', code: err.code, status: err.status })
    return { type: 'respond', response: s.challenges.respond(err, challenge), error: err }
  }
  return { type: 'respond', response: s.challenges.respond(err, challenge) }
}

function emitAuthenticated(emit: EventSink, info: AuthInfo, modern: boolean, decidedBy: 'headers' | 'body' | 'none'): void {
  const extra = authInfoExtra(info)
  emit({
    type: 'authenticated', clientId: info.clientId, verifiedBy: extra.verifiedBy ?? 'jwt',
    revision: modern ? 'modern' : 'legacy', policyFrom: decidedBy,
    ...(extra.issuer ? { issuer: extra.issuer } : {}), ...(extra.subject ? { subject: extra.subject } : {}),
  })
}
