/**
 * An MCP server on web standards for clients of both MCP revisions: the MCP SDK v1's web-standard Streamable
 * HTTP transport (stateless) for 2025-11-25, the MCP SDK v2 for 2026-07-28, in a Hono app, protected by
 * mcp-oauth's `auth.fetch`. The same fetch handler runs on Bun, Deno and Workers; here
 * @hono/node-server serves it. The auth is the three marked lines.
 */
import { Hono } from 'hono'
import { getRequestListener } from '@hono/node-server'
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'
import { createMcpAuth, type McpAuthOptions } from '@mcp-oauth/core' // auth 1/3
import { listenExample, type ExampleServer, type ExampleServerOptions } from '@mcp-oauth/example-express/listen'
import { createMcpServer } from '@mcp-oauth/example-express/tools'
import { mcpDualEraFetch } from '@mcp-oauth/example-express/dual-era'

export type { ExampleServer, ExampleServerOptions } from '@mcp-oauth/example-express/listen'

export function createApp(authOptions: McpAuthOptions, path = '/mcp'): Hono {
  // auth 2/3: metadata, a valid token, then the handler with the verified AuthInfo
  const serve = mcpDualEraFetch(async (request, authInfo, parsedBody) => {
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true })
    await createMcpServer().connect(transport)
    return transport.handleRequest(request, { authInfo, parsedBody })
  })
  const mcp = createMcpAuth(authOptions).fetch((request, authInfo, { parsedBody }) => serve(request, authInfo, parsedBody))
  const app = new Hono()
  app.all(path, (c) => mcp(c.req.raw))
  app.all('/.well-known/oauth-protected-resource/*', (c) => mcp(c.req.raw)) // auth 3/3: the RFC 9728 routes
  return app
}

/** Start the example on `port` (0: random) and return its URL. */
export function startExampleServer(options: ExampleServerOptions): Promise<ExampleServer> {
  return listenExample(options, (server, auth, path) => {
    server.on('request', getRequestListener(createApp(auth, path).fetch))
  })
}
