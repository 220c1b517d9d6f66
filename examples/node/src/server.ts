/**
 * An MCP server on plain node:http, protected by mcp-oauth, for clients of both MCP revisions: 2025-11-25
 * (MCP SDK v1, Streamable HTTP, stateless) and 2026-07-28 (MCP SDK v2). The auth is the two marked lines.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { withMcpAuth } from '@mcp-oauth/node' // auth 1/2
import type { McpAuthOptions } from '@mcp-oauth/node'
import { listenExample, type ExampleServer, type ExampleServerOptions } from '@mcp-oauth/example-express/listen'
import { createMcpServer } from '@mcp-oauth/example-express/tools'
import { mcpDualEra } from '@mcp-oauth/example-express/dual-era'

export type { ExampleServer, ExampleServerOptions } from '@mcp-oauth/example-express/listen'

/** Stateless: a fresh server and transport per request, so every request stands alone. */
async function statelessMcp(req: IncomingMessage, res: ServerResponse, body?: unknown): Promise<void> {
  const server = createMcpServer()
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined })
  res.on('close', () => {
    void transport.close()
    void server.close()
  })
  await server.connect(transport)
  await transport.handleRequest(req, res, body)
}

export function createListener(authOptions: McpAuthOptions, path = '/mcp'): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  // auth 2/2: metadata routes + every method on `path` needs a valid token; req.auth reaches the tools
  const mcp = mcpDualEra(statelessMcp)
  return withMcpAuth(authOptions, async (req, res) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== path) {
      res.writeHead(404).end()
      return
    }
    // req.body is set when the adapter read the body (a policy); otherwise it is read once by mcpDualEra.
    await mcp(req, res, req.body)
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
