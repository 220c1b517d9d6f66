/**
 * node:http adapter: translate the request, call the core, copy its answer. No status codes, header strings
 * or token rules live here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createMcpAuth, handleNodeRequest, requestLikeFromNode, type AuthInfo, type McpAuth, type McpAuthOptions } from '@mcp-oauth/core'

/** The request a wrapped handler receives: `auth` is set on authenticated requests. */
export type McpAuthRequest<Req extends IncomingMessage = IncomingMessage> = Req & {
  /** The verified token; the MCP SDK's `StreamableHTTPServerTransport` hands it to tools as `extra.authInfo`. */
  auth?: AuthInfo
  /** A body parsed before this handler ran, if any (read only to refuse form-body tokens). */
  body?: unknown
}

/** The wrapped listener, with the core object for `auth.resource`, `auth.protectedResourceMetadataUrl`, … */
export type McpAuthListener<Req extends IncomingMessage, Res extends ServerResponse> = ((req: Req, res: Res) => Promise<void>) & {
  readonly auth: McpAuth
}

/**
 * Wrap a `node:http` request listener: the RFC 9728 metadata routes are answered, every method on the
 * resource's path needs a valid token (else the core's challenge is written), and `req.auth` is set before
 * `handler` runs. Other paths reach `handler` untouched. The body is not read, so the SDK transport can read
 * it; a body parsed earlier (`req.body`) works too. With a `policy`, the body is read once here — for an MCP
 * 2026-07-28 request only after its `Mcp-Method`/`Mcp-Name` headers passed — checked against those headers, and
 * left on `req.body`: pass it on (`transport.handleRequest(req, res, req.body)`). The returned promise rejects
 * if `handler` throws.
 *
 * @example
 * ```ts
 * createServer(withMcpAuth({ resource: 'https://mcp.example.com/mcp', issuer: 'https://idp.example.com' },
 *   (req, res) => transport.handleRequest(req, res)))
 * ```
 */
export function withMcpAuth<Req extends IncomingMessage = IncomingMessage, Res extends ServerResponse = ServerResponse>(
  options: McpAuthOptions | McpAuth,
  handler: (req: McpAuthRequest<Req>, res: Res) => unknown,
): McpAuthListener<Req, Res> {
  const auth = 'handle' in options ? options : createMcpAuth(options)
  const withPolicy = auth.options.policy !== undefined
  const listener = async (req: McpAuthRequest<Req>, res: Res): Promise<void> => {
    const like = requestLikeFromNode(req)
    // With a policy the JSON-RPC body is read here once (after an MCP 2026-07-28 request's headers passed), and
    // left on req.body for the transport; without one it is left to the transport.
    const outcome = withPolicy && auth.isProtectedPath(like.url)
      ? await handleNodeRequest(auth, req, like)
      : await auth.handle(like, req.body === undefined ? undefined : { body: req.body })
    if (outcome.type === 'respond') {
      res.writeHead(outcome.response.status, outcome.response.headers).end(outcome.response.body)
      return
    }
    if (outcome.type === 'authenticated') {
      req.auth = outcome.auth
      auth.watchNodeResponse(outcome, res, like)
    }
    await handler(req, res)
  }
  return Object.assign(listener, { auth })
}

export type { AuthInfo, McpAuth, McpAuthOptions } from '@mcp-oauth/core'
