/**
 * Fastify 5 plugin: translate the request, call the core, copy its answer. No status codes, header strings
 * or token rules live here.
 */
import fp from 'fastify-plugin'
import { createMcpAuth, requestLikeFromNode, type AuthInfo, type AuthenticateOptions, type HandleOptions, type McpAuth, type McpAuthOptions } from '@mcp-oauth/core'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify'

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
  protect(opts?: AuthenticateOptions): onRequestAsyncHookHandler
  /** The core object, for `auth.resource`, `auth.protectedResourceMetadataUrl`, … */
  readonly auth: McpAuth
}

/** Options of the plugin: the core's options, or an `McpAuth` created elsewhere. */
export type McpAuthPluginOptions = McpAuthOptions | McpAuth

async function run(auth: McpAuth, request: FastifyRequest, reply: FastifyReply, opts?: HandleOptions): Promise<unknown> {
  const raw = request.raw as typeof request.raw & { auth?: AuthInfo }
  // request.body is there when protect() runs as a preHandler, so a form-body token is refused too.
  const outcome = await auth.handle(requestLikeFromNode({
    method: raw.method, url: raw.url, headers: raw.headers, rawHeaders: raw.rawHeaders, body: request.body,
  }), request.body === undefined ? opts : { ...opts, body: request.body })
  if (outcome.type === 'respond') {
    const { status, headers, body } = outcome.response
    return reply.code(status).headers(headers).send(body)
  }
  if (outcome.type === 'authenticated') {
    request.auth = outcome.auth
    // The MCP SDK's StreamableHTTPServerTransport reads `req.auth` from the Node request it is handed.
    raw.auth = outcome.auth
    auth.watchNodeResponse(outcome, reply.raw)
  }
  return undefined
}

const plugin: FastifyPluginAsync<McpAuthPluginOptions> = async (app, options) => {
  const auth = 'handle' in options ? options : createMcpAuth(options)
  // First, so registering twice fails with "The decorator 'mcpAuth' has already been added!".
  app.decorate('mcpAuth', {
    auth,
    protect: (opts?: AuthenticateOptions): onRequestAsyncHookHandler => (request, reply) => run(auth, request, reply, { ...opts, protect: true }),
  } satisfies McpAuthDecorator)
  app.decorateRequest('auth', null)
  // A policy reads the JSON-RPC body, which Fastify has parsed by preHandler; without one, refuse at onRequest.
  app.addHook(auth.options.policy ? 'preHandler' : 'onRequest', (request, reply) => {
    const route = request.routeOptions.config.mcpAuth
    return run(auth, request, reply, route && { ...route, protect: true })
  })
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
