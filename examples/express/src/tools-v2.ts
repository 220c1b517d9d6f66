/**
 * The example tools on the MCP SDK v2 server (`@modelcontextprotocol/server`), which speaks MCP 2026-07-28:
 * the same four tools as `tools.ts` (SDK v1), so one running example serves clients of both revisions.
 * Schemas are plain JSON Schema (`fromJsonSchema`), so this file needs no zod.
 */
import { fromJsonSchema, McpServer } from '@modelcontextprotocol/server'

const object = (properties: Record<string, { type: string }>) =>
  fromJsonSchema<Record<string, unknown>>({ type: 'object', properties, required: Object.keys(properties) })

export function createMcpServerV2(): McpServer {
  const server = new McpServer({ name: 'mcp-oauth-example', version: '0.1.0' })
  server.registerTool('whoami', { description: 'Who is calling: the authInfo this tool received (never the token itself).' }, (ctx) => {
    const auth = ctx.http?.authInfo
    const extra = (auth?.extra ?? {}) as { subject?: string; issuer?: string; verifiedBy?: string }
    const result = auth
      ? { clientId: auth.clientId, scopes: auth.scopes, resource: auth.resource?.href, expiresAt: auth.expiresAt, subject: extra.subject, issuer: extra.issuer, verifiedBy: extra.verifiedBy }
      : null
    return { content: [{ type: 'text', text: JSON.stringify(result) }], structuredContent: { authInfo: result } }
  })
  server.registerTool('echo', { description: 'Echo a message back.', inputSchema: object({ message: { type: 'string' } }) }, (args) => ({
    content: [{ type: 'text', text: String(args.message) }],
  }))
  server.registerTool('add', { description: 'Add two numbers.', inputSchema: object({ a: { type: 'number' }, b: { type: 'number' } }) }, (args) => ({
    content: [{ type: 'text', text: String(Number(args.a) + Number(args.b)) }],
  }))
  server.registerTool('deploy', {
    description: 'An admin-only action: the example policy requires mcp:admin for it (a real 403 the client can step up from).',
    inputSchema: object({ service: { type: 'string' } }),
  }, (args, ctx) => ({
    content: [{ type: 'text', text: `deployed ${String(args.service)} as ${String((ctx.http?.authInfo?.extra as { subject?: string } | undefined)?.subject)}` }],
  }))
  return server
}
