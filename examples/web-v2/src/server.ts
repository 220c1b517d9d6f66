/**
 * The same MCP server on the MCP SDK v2 alone (`@modelcontextprotocol/server`, `createMcpHandler`): 2026-07-28
 * clients are served statelessly with the SEP-2243 header checks, 2025-era clients by the SDK's own stateless
 * fallback. Protected by mcp-oauth's `auth.fetch` — what Bun, Deno and Cloudflare Workers run; shown here with
 * Hono on Node. The auth is the three marked lines; tools read the verified token from `ctx.http.authInfo`.
 */
import { getRequestListener } from '@hono/node-server'
import { Hono } from 'hono'
import { createMcpHandler } from '@modelcontextprotocol/server'
import { createMcpServerV2 } from '@mcp-oauth/example-express/tools-v2'
import { createMcpAuth, type McpAuthOptions } from '@mcp-oauth/core' // auth 1/3
import { listenExample, type ExampleServer, type ExampleServerOptions } from '@mcp-oauth/example-express/listen'

export type { ExampleServer, ExampleServerOptions } from '@mcp-oauth/example-express/listen'

export function createApp(authOptions: McpAuthOptions, path = '/mcp'): Hono {
  // auth 2/3: metadata, a valid token, then the handler with the verified AuthInfo and the body read once
  const handler = createMcpHandler(() => createMcpServerV2(), { legacy: 'stateless' })
  const mcp = createMcpAuth(authOptions).fetch((request, authInfo, { parsedBody }) => handler.fetch(request, { authInfo, parsedBody }))
  const app = new Hono()
  app.all(path, (c) => mcp(c.req.raw))
  app.all('/.well-known/*', (c) => mcp(c.req.raw)) // auth 3/3: the RFC 9728 routes (and the AS-metadata mirror)
  return app
}

/** Start the example on `port` (0: random) and return its URL. */
export function startExampleServer(options: ExampleServerOptions): Promise<ExampleServer> {
  return listenExample(options, (server, auth, path) => {
    server.on('request', getRequestListener(createApp(auth, path).fetch))
  })
}
