/**
 * An MCP server behind @mcp-oauth/bridge on one Express app: the bridge at `<origin>/oauth` (an authorization
 * server for MCP clients, federating the login to the upstream IdP), the MCP endpoint at `<origin>/mcp`, protected
 * by @mcp-oauth/express with `issuer` = the bridge. A tool calls the upstream API with the user's upstream token.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { mcpAuth } from '@mcp-oauth/express'
import { createBridge, type Bridge, type BridgeOptions } from '@mcp-oauth/bridge'

export interface BridgeExampleOptions {
  /** Bridge options; issuer and resource are filled in from the listening port. */
  bridge: Omit<BridgeOptions, 'issuer' | 'resource'>
  /** The upstream API the `upstream-user` tool calls with the user's upstream token (GitHub: https://api.github.com/user). */
  upstreamApi: string
  port?: number
  host?: string
}

export interface BridgeExample {
  origin: string
  mcpUrl: string
  bridge: Bridge
  server: Server
  close(): Promise<void>
}

/** The tools: `whoami` (the verified bridge token) and `upstream-user` (the upstream API, as the user). */
export function createMcpServer(bridge: Bridge, upstreamApi: string): McpServer {
  const server = new McpServer({ name: 'mcp-oauth-bridge-example', version: '0.1.0' })
  server.registerTool('whoami', { description: 'Who is calling: the verified bridge token (never the token itself).' }, (extra) => {
    const auth = extra.authInfo!
    const e = (auth.extra ?? {}) as { subject?: string; issuer?: string }
    const text = JSON.stringify({ clientId: auth.clientId, scopes: auth.scopes, resource: auth.resource?.href, subject: e.subject, issuer: e.issuer })
    return { content: [{ type: 'text', text }] }
  })
  server.registerTool('upstream-user', { description: "Calls the upstream IdP's API as the user, with the upstream token the bridge keeps." }, async (extra) => {
    // The user's upstream token: kept by the bridge, sealed at rest, refreshed when it can be; never sent to the client.
    const token = await bridge.upstreamToken(extra.authInfo!)
    const res = await fetch(upstreamApi, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } })
    const body = (await res.json().catch(() => ({}))) as { sub?: string; id?: unknown; login?: string; name?: string }
    const text = JSON.stringify({ status: res.status, sub: body.sub ?? (body.id === undefined ? undefined : String(body.id)), name: body.name ?? body.login, sameAsBridgeToken: token === extra.authInfo!.token })
    return { content: [{ type: 'text', text }] }
  })
  return server
}

/** The Express app: bridge first (before any body parser), then the protected MCP endpoint (stateless). */
export function createApp(bridge: Bridge, mcpUrl: string, upstreamApi: string, scopes: string[]): express.Express {
  const app = express()
  app.use(bridge.handler)
  app.use(express.json())
  app.use(mcpAuth({ resource: mcpUrl, issuer: bridge.issuer, scopesSupported: scopes, requiredScopes: scopes.slice(0, 1) }))
  app.post('/mcp', async (req, res) => {
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined })
    res.on('close', () => void transport.close())
    await createMcpServer(bridge, upstreamApi).connect(transport)
    await transport.handleRequest(req, res, req.body)
  })
  app.all('/mcp', (_req, res) => void res.status(405).set('allow', 'POST').end())
  return app
}

/** Listen first (the issuer and the resource name the port), then build the bridge and the app. */
export async function startBridgeExample(options: BridgeExampleOptions): Promise<BridgeExample> {
  const host = options.host ?? '127.0.0.1'
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => resolve())
  })
  const origin = `http://${host}:${(server.address() as AddressInfo).port}`
  const mcpUrl = `${origin}/mcp`
  const close = () => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  })
  try {
    const bridge = createBridge({ ...options.bridge, issuer: `${origin}/oauth`, resource: mcpUrl })
    server.on('request', createApp(bridge, mcpUrl, options.upstreamApi, options.bridge.scopes))
    await bridge.ready()
    return { origin, mcpUrl, bridge, server, close }
  } catch (err) {
    await close()
    throw err
  }
}
