/**
 * The same MCP server on the MCP SDK v2 (`@modelcontextprotocol/server`, web-standard transport), protected by
 * mcp-oauth's `auth.fetch` — what Bun, Deno and Cloudflare Workers run. Shown here with Hono on Node.
 * The auth is the three marked lines; tools read the verified token from `ctx.http.authInfo`.
 */
import { getRequestListener } from '@hono/node-server'
import { Hono } from 'hono'
import { McpServer, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server'
import { z } from 'zod'
import { createMcpAuth, type McpAuthOptions } from '@mcp-oauth/core' // auth 1/3
import { listenExample, type ExampleServer, type ExampleServerOptions } from '@mcp-oauth/example-express/listen'

export type { ExampleServer, ExampleServerOptions } from '@mcp-oauth/example-express/listen'

function createServer(): McpServer {
  const server = new McpServer({ name: 'mcp-oauth-example-v2', version: '0.1.0' })
  server.registerTool('whoami', { description: 'Who is calling: the authInfo this tool received (never the token itself).' }, (ctx) => {
    const auth = ctx.http?.authInfo
    const extra = (auth?.extra ?? {}) as { subject?: string; issuer?: string; verifiedBy?: string }
    const result = auth
      ? { clientId: auth.clientId, scopes: auth.scopes, resource: auth.resource?.href, expiresAt: auth.expiresAt, subject: extra.subject, issuer: extra.issuer, verifiedBy: extra.verifiedBy }
      : null
    return { content: [{ type: 'text', text: JSON.stringify(result) }] }
  })
  server.registerTool('echo', { description: 'Echo a message back.', inputSchema: z.object({ message: z.string() }) }, ({ message }) => ({
    content: [{ type: 'text', text: message }],
  }))
  return server
}

export function createApp(authOptions: McpAuthOptions, path = '/mcp'): Hono {
  // auth 2/3: metadata, a valid token, then the handler with the verified AuthInfo and the body read once
  const mcp = createMcpAuth(authOptions).fetch(async (request, authInfo, { parsedBody }) => {
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true })
    await createServer().connect(transport)
    return transport.handleRequest(request, { authInfo, parsedBody })
  })
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
