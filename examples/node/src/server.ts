/**
 * An MCP server (MCP SDK v1, Streamable HTTP, stateless) on plain node:http, protected by mcp-oauth.
 * The auth is the two marked lines. The body is not parsed here: the SDK transport reads it after the token
 * was checked.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { withMcpAuth } from '@mcp-oauth/node' // auth 1/2
import type { McpAuthOptions } from '@mcp-oauth/node'
import { listenExample, type ExampleServer, type ExampleServerOptions } from '@mcp-oauth/example-express/listen'
import { createMcpServer } from '@mcp-oauth/example-express/tools'

export type { ExampleServer, ExampleServerOptions } from '@mcp-oauth/example-express/listen'

/** Stateless: a fresh server and transport per request, so every request stands alone. */
async function statelessMcp(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const server = createMcpServer()
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined })
  res.on('close', () => {
    void transport.close()
    void server.close()
  })
  await server.connect(transport)
  // req.body is set when a policy made the adapter read the body; otherwise the transport reads the stream.
  await transport.handleRequest(req, res, (req as { body?: unknown }).body)
}

export function createListener(authOptions: McpAuthOptions, path = '/mcp'): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  // auth 2/2: metadata routes + every method on `path` needs a valid token; req.auth reaches the tools
  return withMcpAuth(authOptions, async (req, res) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== path) {
      res.writeHead(404).end()
      return
    }
    await statelessMcp(req, res)
  })
}

/** Start the example on `port` (0: random) and return its URL. */
export function startExampleServer(options: ExampleServerOptions): Promise<ExampleServer> {
  return listenExample(options, (server, auth, path) => {
    const listener = createListener(auth, path)
    server.on('request', (req, res) => {
      listener(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500)
        res.end()
      })
    })
  })
}
