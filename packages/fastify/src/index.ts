/**
 * Fastify 5 plugin: translate the request, call the core, copy its answer. No status codes, header strings
 * or token rules live here.
 */
import fp from 'fastify-plugin'
import { createMcpAuth, requestLikeFromNode, type AuthInfo, type AuthenticateOptions, type HandleOptions, type McpAuth, type McpAuthOptions, type McpAuthOutcome, type RequestLike } from '@mcp-oauth/core'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified token on authenticated requests, else `null`. Also set on `request.raw.auth` for the MCP SDK transport. */
    auth: AuthInfo | null
  }
  interface FastifyInstance {
    /** Added by the mcp-oauth plugin. */
    mcpAuth: McpAuthDecorator
  }
  interface FastifyContextConfig {
    /** Require a valid token on this route (`{}`), optionally with `scopes` instead of the configured `requiredScopes`. */
    mcpAuth?: AuthenticateOptions
  }
}

/** `app.mcpAuth`. */
export interface McpAuthDecorator {
  /** An `onRequest` (or `preHandler`) hook that authenticates whatever route it is on, optionally requiring scopes. */
  protect(opts?: AuthenticateOptions): onRequestHookHandler
  /** The core object, for `auth.resource`, `auth.protectedResourceMetadataUrl`, … */
  readonly auth: McpAuth
}

/** Options of the plugin: the core's options, or an `McpAuth` created elsewhere. */
export type McpAuthPluginOptions = McpAuthOptions | McpAuth

/**
 * What `onRequest` decided from the headers and the body must still confirm in `preHandler`: the outcome, or
 * (when the headers did not say enough) the options to decide with once the body is there. A property of the
 * request (declared with `decorateRequest`, so every request has it from the start), not a WeakMap entry:
 * no ephemeron table to grow, look up and shrink per request.
 */
const WAITING = Symbol('mcp-oauth.waiting')
interface DecideWithBody { type: 'decide-with-body'; opts: HandleOptions | undefined }
type Waiting = McpAuthOutcome | DecideWithBody | null
type WithWaiting = FastifyRequest & { [WAITING]: Waiting }

function nodeLike(request: FastifyRequest): RequestLike {
  const raw = request.raw
  return requestLikeFromNode({ method: raw.method, url: raw.url, headers: raw.headers, rawHeaders: raw.rawHeaders, body: request.body })
}

type Done = (err?: Error) => void

/** The options of nearly every request (no route config): one frozen object, not one per request. */
const BODY_PENDING: HandleOptions = Object.freeze({ bodyPending: true })

/** Go on with `value` now, or when the promise settles; a rejection is Fastify's error (500), as for any hook. */
function then<T>(value: T | Promise<T>, go: (v: T) => void, done: Done): void {
  if (value instanceof Promise) {
    value.then((v) => {
      try {
        go(v)
      } catch (err) {
        done(err as Error)
      }
    }, done)
  } else {
    go(value)
  }
}

/** Reply with a refusal (and stop: `done` is not called), or set `request.auth` and go on. */
function act(auth: McpAuth, request: FastifyRequest, reply: FastifyReply, outcome: McpAuthOutcome, done: Done, like?: RequestLike): void {
  if (outcome.type === 'respond') {
    const { status, headers, body } = outcome.response
    reply.code(status).headers(headers).send(body)
    return
  }
  if (outcome.type === 'authenticated') {
    const raw = request.raw as typeof request.raw & { auth?: AuthInfo }
    request.auth = outcome.auth
    // The MCP SDK's StreamableHTTPServerTransport reads `req.auth` from the Node request it is handed.
    raw.auth = outcome.auth
    auth.watchNodeResponse(outcome, reply.raw, like)
  }
  done()
}

/**
 * Decide as early as the request allows: in `onRequest` from the headers (an MCP 2026-07-28 request, or any
 * request the policy does not judge by its body); what needs the body waits for `preHandler`, where Fastify
 * has parsed it. A POST decided early is still checked against its body there. The hooks take Fastify's
 * `done` callback and the core's `handleNow`: a cache hit goes through both hooks without a promise.
 */
function run(auth: McpAuth, request: FastifyRequest, reply: FastifyReply, opts: HandleOptions | undefined, done: Done): void {
  // request.body is there when protect() runs as a preHandler, so a form-body token is refused too.
  const body = request.body
  const like = nodeLike(request)
  if (body !== undefined) return then(auth.handleNow(like, opts ? { ...opts, body } : { body }), (o) => act(auth, request, reply, o, done, like), done)
  const post = like.method === 'POST'
  then(auth.handleNow(like, post ? (opts ? { ...opts, bodyPending: true } : BODY_PENDING) : opts), (outcome) => {
    if (outcome.type === 'needs-body') {
      (request as WithWaiting)[WAITING] = { type: 'decide-with-body', opts }
      return done()
    }
    if (post && outcome.type === 'authenticated') {
      (request as WithWaiting)[WAITING] = outcome
      return done()
    }
    act(auth, request, reply, outcome, done, like)
  }, done)
}

function confirm(auth: McpAuth, request: FastifyRequest, reply: FastifyReply, done: Done): void {
  const state = (request as WithWaiting)[WAITING]
  if (state === null) return done()
  ;(request as WithWaiting)[WAITING] = null
  // An outcome decided in onRequest is only checked against the body (its Origin is read from `reply.raw.req`).
  if (state.type !== 'decide-with-body') return then(auth.checkBodyNow(state, request.body), (o) => act(auth, request, reply, o, done), done)
  const like = nodeLike(request)
  const body = request.body
  then(auth.handleNow(like, body === undefined ? state.opts : state.opts ? { ...state.opts, body } : { body }), (o) => act(auth, request, reply, o, done, like), done)
}

const plugin: FastifyPluginAsync<McpAuthPluginOptions> = async (app, options) => {
  const auth = 'handle' in options ? options : createMcpAuth(options)
  // First, so registering twice fails with "The decorator 'mcpAuth' has already been added!".
  app.decorate('mcpAuth', {
    auth,
    protect: (opts?: AuthenticateOptions): onRequestHookHandler => (request, reply, done) => run(auth, request, reply, { ...opts, protect: true }, done),
  } satisfies McpAuthDecorator)
  app.decorateRequest('auth', null)
  app.decorateRequest(WAITING, null)
  // Refuse at onRequest whenever the headers suffice; the body (parsed by preHandler) confirms or decides.
  app.addHook('onRequest', (request, reply, done) => {
    const route = request.routeOptions.config.mcpAuth
    run(auth, request, reply, route && { ...route, protect: true }, done)
  })
  app.addHook('preHandler', (request, reply, done) => confirm(auth, request, reply, done))
}

/**
 * `await app.register(mcpAuth, { resource, issuer })` serves the RFC 9728 metadata routes and protects every
 * method on the resource's path, setting `request.auth`. Bad options make `register` (and `ready()`) reject
 * with the core's `McpAuthConfigError`.
 *
 * @example
 * ```ts
 * await app.register(mcpAuth, { resource: 'https://mcp.example.com/mcp', issuer: 'https://idp.example.com' })
 * app.post('/mcp', (request, reply) => { reply.hijack(); return transport.handleRequest(request.raw, reply.raw, request.body) })
 * app.get('/admin', { onRequest: app.mcpAuth.protect({ scopes: ['mcp:admin'] }) }, handler)
 * app.get('/reports', { config: { mcpAuth: { scopes: ['reports:read'] } } }, handler)
 * ```
 */
const mcpAuth = fp(plugin, { fastify: '5.x', name: '@mcp-oauth/fastify' })
export default mcpAuth
export { mcpAuth }

export type { AuthInfo, AuthenticateOptions, McpAuth, McpAuthOptions } from '@mcp-oauth/core'
