/**
 * Express 4 and 5 adapter: translate the request, call the core, copy its answer. No status codes, header
 * strings or token rules live here.
 */
import { createMcpAuth, nodeJsonBody, requestLikeFromNode, type AuthInfo, type AuthenticateOptions, type HandleOptions, type McpAuth, type McpAuthOptions, type PlainResponse } from '@mcp-oauth/core'
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

function middleware(auth: McpAuth, opts?: HandleOptions): RequestHandler {
  const withPolicy = auth.options.policy !== undefined
  return (req: Request, res: Response, next: NextFunction) => {
    const like = requestLikeFromNode(req)
    const body = withPolicy && (opts?.protect || auth.isProtectedPath(like.url)) ? nodeJsonBody(req) : undefined
    // Without a policy there is no body to wait for: one promise (the core's) per request, not three. A body
    // express.json() already parsed is passed on anyway: it tells the core whether a session can start here.
    const pending = body === undefined
      ? auth.handle(like, req.body === undefined ? opts : { ...opts, body: req.body })
      : body.then((parsed) => auth.handle(like, parsed === undefined ? opts : { ...opts, body: parsed }))
    pending.then((outcome) => {
      if (outcome.type === 'respond') return send(res, outcome.response)
      if (outcome.type === 'authenticated') {
        req.auth = outcome.auth
        auth.watchNodeResponse(outcome, res)
      }
      next()
    }, next)
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
