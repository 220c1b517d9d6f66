/**
 * Express 4 and 5 adapter: translate the request, call the core, copy its answer. No status codes, header
 * strings or token rules live here.
 */
import { createMcpAuth, handleNodeRequest, requestLikeFromNode, type AuthInfo, type AuthenticateOptions, type HandleOptions, type McpAuth, type McpAuthOptions, type McpAuthOutcome, type PlainResponse, type RequestLike } from '@mcp-oauth/core'
import type { NextFunction, Request, RequestHandler, Response } from 'express'

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by mcp-oauth on authenticated requests; the MCP SDK transport hands it to tools as `extra.authInfo`. */
    auth?: AuthInfo
  }
}

/** The middleware, with `protect()` for routes other than the resource's path. */
export type McpAuthMiddleware = RequestHandler & {
  /** A middleware that authenticates whatever route it is mounted on (optionally requiring scopes). */
  protect(opts?: AuthenticateOptions): RequestHandler
  /** The core object, for `auth.resource`, `auth.protectedResourceMetadataUrl`, … */
  readonly auth: McpAuth
}

function send(res: Response, plain: PlainResponse): void {
  res.status(plain.status).set(plain.headers)
  res.end(plain.body)
}

/** Reply with a refusal and stop, or set `req.auth` and go on. */
function act(auth: McpAuth, req: Request, res: Response, next: NextFunction, outcome: McpAuthOutcome, like: RequestLike): void {
  if (outcome.type === 'respond') return send(res, outcome.response)
  if (outcome.type === 'authenticated') {
    req.auth = outcome.auth
    auth.watchNodeResponse(outcome, res, like)
  }
  next()
}

function middleware(auth: McpAuth, opts?: HandleOptions): RequestHandler {
  const withPolicy = auth.options.policy !== undefined
  return (req: Request, res: Response, next: NextFunction) => {
    // Express gives every request a hidden class of its own, so each property read of `req` costs a full
    // lookup: the body is read once, here, and the rest once in requestLikeFromNode.
    const body: unknown = req.body
    const like = requestLikeFromNode(req, body)
    // Without a policy nothing depends on the body. A body express.json() already parsed is passed on anyway:
    // it is checked against its MCP headers and tells whether a session can start. A cache hit is decided at
    // once (handleNow): no promise, no closure, next() in the same tick.
    if (withPolicy && (opts?.protect || auth.isProtectedPath(like.url))) {
      handleNodeRequest(auth, req, like, opts).then((outcome) => act(auth, req, res, next, outcome, like)).catch(next)
      return
    }
    const outcome = auth.handleNow(like, body === undefined ? opts : opts ? { ...opts, body } : { body })
    if (outcome instanceof Promise) outcome.then((o) => act(auth, req, res, next, o, like)).catch(next)
    else act(auth, req, res, next, outcome, like)
  }
}

/**
 * `app.use(mcpAuth({ resource, issuer }))` serves the RFC 9728 metadata routes and protects every method on
 * the resource's path, setting `req.auth`.
 *
 * @example
 * ```ts
 * app.use(mcpAuth({ resource: 'https://mcp.example.com/mcp', issuer: 'https://idp.example.com' }))
 * app.post('/mcp', (req, res) => transport.handleRequest(req, res, req.body))
 * ```
 */
export function mcpAuth(options: McpAuthOptions | McpAuth): McpAuthMiddleware {
  const auth = 'handle' in options ? options : createMcpAuth(options)
  return Object.assign(middleware(auth), {
    protect: (opts?: AuthenticateOptions) => middleware(auth, { ...opts, protect: true }),
    auth,
  })
}

export type { AuthInfo, McpAuth, McpAuthOptions } from '@mcp-oauth/core'
