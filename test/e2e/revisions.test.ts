/**
 * Both MCP revisions against one running server, on every host: the MCP SDK v2 client speaking 2026-07-28
 * (server/discover, no sessions, Mcp-Method/Mcp-Name headers) and the MCP SDK v1 client speaking 2025-11-25
 * (initialize, sessions), each through the whole OAuth flow with the real dev IdP: 401, discovery, DCR or
 * CIMD, PKCE, token, tool call, 403 step-up. Behind each host: the SDK v1 transport for 2025-11-25 traffic
 * and the SDK v2 handler for 2026-07-28 traffic (the web-v2 example: the SDK v2 alone).
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDevIdp, type DevIdp } from '@mcp-oauth/dev-idp'
import { startExampleServer as startExpress, type ExampleServer, type ExampleServerOptions } from '@mcp-oauth/example-express'
import { startExampleServer as startFastify } from '@mcp-oauth/example-fastify'
import { startExampleServer as startNode } from '@mcp-oauth/example-node'
import { startExampleServer as startWeb } from '@mcp-oauth/example-web'
import { startExampleServer as startWebV2 } from '@mcp-oauth/example-web-v2'
import { examplePolicy } from '@mcp-oauth/example-express/tools'
import { connectWithOAuth } from '@mcp-oauth/demo/flow'
import { connectWithOAuthV2 } from '@mcp-oauth/demo/flow-v2'

let idp: DevIdp
let cimd: Server
const CIMD_ID = 'https://client.revisions.test/meta.json'

beforeAll(async () => {
  idp = await startDevIdp()
  cimd = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      client_id: CIMD_ID, client_name: 'revisions CIMD client', redirect_uris: ['http://127.0.0.1:8090/callback'], token_endpoint_auth_method: 'none',
    }))
  })
  await new Promise<void>((resolve) => cimd.listen(0, '127.0.0.1', resolve))
  idp.mapClientMetadataHost('client.revisions.test', `http://127.0.0.1:${(cimd.address() as AddressInfo).port}`)
})
afterAll(async () => {
  await idp?.close()
  cimd?.closeAllConnections()
  cimd?.close()
})

const hosts: Array<{ name: string; start: (o: ExampleServerOptions) => Promise<ExampleServer> }> = [
  { name: 'express', start: startExpress },
  { name: 'fastify', start: startFastify },
  { name: 'node', start: startNode },
  { name: 'web (fetch)', start: startWeb },
  { name: 'web-v2 (SDK v2 alone)', start: startWebV2 },
]

const text = (r: { content: Array<{ type: string; text?: string }> }) => r.content[0]?.text

describe.each(hosts)('on $name', ({ start }) => {
  let server: ExampleServer
  beforeAll(async () => {
    server = await start({ auth: { issuer: idp.issuer, scopesSupported: ['mcp:tools', 'mcp:admin'], requiredScopes: ['mcp:tools'], policy: examplePolicy } })
  })
  afterAll(() => server?.close())
  const authorize = (url: URL) => idp.completeAuthorization(url)

  it('the SDK v2 client on 2026-07-28: 401 → PRM → AS metadata → DCR → PKCE → token → tool call → 403 step-up', async () => {
    const flow = await connectWithOAuthV2({ serverUrl: server.url, authorize })
    try {
      expect(flow.era).toBe('modern')
      const mcp = flow.exchanges.filter((e) => e.kind === 'mcp')
      expect(mcp[0]).toMatchObject({ status: 401, mcpHeaders: { protocolVersion: '2026-07-28', method: 'server/discover' } })
      expect(mcp[0]!.wwwAuthenticate).toMatch(/^Bearer resource_metadata="[^"]+\/\.well-known\/oauth-protected-resource\/mcp", scope="mcp:tools"(?:,|$)/)
      const kinds = flow.exchanges.map((e) => `${e.kind}:${e.status}`)
      expect(kinds).toEqual(expect.arrayContaining(['protected-resource-metadata:200', 'authorization-server-metadata:200', 'registration:201', 'token:200']))
      const authUrl = flow.provider.authorizationUrls[0]!
      expect(authUrl.searchParams.get('code_challenge_method')).toBe('S256')
      expect(authUrl.searchParams.get('resource')).toBe(server.resource)
      // No initialize, no session on this revision.
      expect(mcp.some((e) => e.requestBody?.includes('"initialize"'))).toBe(false)

      expect(text(await flow.callTool('echo', { message: 'modern' }))).toBe('modern')
      const deployed = await flow.callTool('deploy', { service: 'api' })
      expect(text(deployed)).toBe('deployed api as demo-user')
      const forbidden = flow.exchanges.filter((e) => e.kind === 'mcp' && e.status === 403)
      expect(forbidden).toHaveLength(1)
      expect(forbidden[0]!.mcpHeaders).toMatchObject({ method: 'tools/call', name: 'deploy' })
      // SEP-2350: the 403 names what the call needs; the client asks for the union.
      expect(forbidden[0]!.wwwAuthenticate).toMatch(/error="insufficient_scope".*scope="mcp:tools mcp:admin"(?:,|$)/)
      expect(flow.provider.authorizationUrls[1]!.searchParams.get('scope')?.split(' ')).toEqual(expect.arrayContaining(['mcp:admin', 'mcp:tools']))
    } finally {
      await flow.close()
    }
  })

  it('the SDK v2 client on 2026-07-28 with CIMD: no registration, the client_id is the document URL', async () => {
    const flow = await connectWithOAuthV2({ serverUrl: server.url, clientMetadataUrl: CIMD_ID, authorize })
    try {
      expect(flow.era).toBe('modern')
      expect(flow.exchanges.some((e) => e.kind === 'registration')).toBe(false)
      expect(JSON.parse(text(await flow.callTool('whoami'))!)).toMatchObject({ clientId: CIMD_ID, scopes: ['mcp:tools'] })
    } finally {
      await flow.close()
    }
  })

  it('the SDK v1 client on 2025-11-25 against the same running server, at the same time as a 2026-07-28 client', async () => {
    const [legacy, modern] = await Promise.all([
      connectWithOAuth({ serverUrl: server.url, authorize }),
      connectWithOAuthV2({ serverUrl: server.url, authorize }),
    ])
    try {
      expect(modern.era).toBe('modern')
      expect(legacy.exchanges.some((e) => e.kind === 'mcp' && e.requestBody?.includes('"initialize"'))).toBe(true)
      const [a, b] = await Promise.all([legacy.callTool('echo', { message: 'legacy' }), modern.callTool('echo', { message: 'modern' })])
      expect(a.content[0]).toMatchObject({ text: 'legacy' })
      expect(text(b)).toBe('modern')
      expect((await legacy.callTool('deploy', { service: 'x' })).content[0]).toMatchObject({ text: 'deployed x as demo-user' })
    } finally {
      await legacy.close()
      await modern.close()
    }
  })

  it('behind the real transports, a call whose headers hide what its body runs is refused before either SDK sees it', async () => {
    const narrow = await idp.issueAccessToken({ resource: server.resource, scopes: ['mcp:tools'] })
    const base = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${narrow}` }
    const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} }
    // 2026-07-28 (the SDK v2 handler behind): Mcp-Name says echo, the body calls deploy.
    const modern = await fetch(server.url, {
      method: 'POST',
      headers: { ...base, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'deploy', arguments: { service: 'x' }, _meta: meta } }),
    })
    expect(modern.status).toBe(400)
    expect(await modern.json()).toMatchObject({ id: 3, error: { code: -32020 } })
    // 2025-11-25 (the SDK v1 transport behind, which never looks at the headers): the body decides → 403.
    const legacy = await fetch(server.url, {
      method: 'POST',
      headers: { ...base, 'mcp-method': 'tools/call', 'mcp-name': 'echo' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'deploy', arguments: { service: 'x' } } }),
    })
    expect(legacy.status).toBe(403)
    expect(legacy.headers.get('www-authenticate')).toMatch(/scope="mcp:tools mcp:admin"/)
  })

  it('the SDK v2 client pinned to 2025-11-25 (initialize) works too', async () => {
    const flow = await connectWithOAuthV2({ serverUrl: server.url, authorize, spec: '2025-11-25' })
    try {
      expect(flow.era).toBe('legacy')
      expect(text(await flow.callTool('echo', { message: 'v2 legacy' }))).toBe('v2 legacy')
    } finally {
      await flow.close()
    }
  })
})
