/**
 * The example MCP server's tools, shared by every example host so each one serves the same thing.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { z } from 'zod'

export function createMcpServer(): McpServer {
  const server = new McpServer({ name: 'mcp-oauth-example', version: '0.1.0' })

  server.registerTool('whoami', {
    description: 'Who is calling: the authInfo this tool received (never the token itself).',
  }, (extra) => {
    const auth = extra.authInfo
    const extraInfo = (auth?.extra ?? {}) as { subject?: string; issuer?: string; verifiedBy?: string }
    const result = auth
      ? {
          clientId: auth.clientId,
          scopes: auth.scopes,
          resource: auth.resource?.href,
          expiresAt: auth.expiresAt,
          subject: extraInfo.subject,
          issuer: extraInfo.issuer,
          verifiedBy: extraInfo.verifiedBy,
        }
      : null
    return { content: [{ type: 'text', text: JSON.stringify(result) }], structuredContent: { authInfo: result } }
  })

  server.registerTool('echo', {
    description: 'Echo a message back.',
    inputSchema: { message: z.string() },
  }, ({ message }) => ({ content: [{ type: 'text', text: message }] }))

  server.registerTool('add', {
    description: 'Add two numbers.',
    inputSchema: { a: z.number(), b: z.number() },
  }, ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] }))

  server.registerTool('deploy', {
    description: 'An admin-only action: the example policy requires mcp:admin for it (a real 403 the client can step up from).',
    inputSchema: { service: z.string() },
  }, ({ service }, extra) => ({ content: [{ type: 'text', text: `deployed ${service} as ${String((extra.authInfo?.extra as { subject?: string } | undefined)?.subject)}` }] }))

  return server
}

/** The example policy: every tool needs mcp:tools (requiredScopes), and deploy also needs mcp:admin. */
export const examplePolicy = { tools: { deploy: ['mcp:admin'] } }
