/**
 * Issue 5 end to end: per-tool scopes with a real HTTP 403 the real MCP SDK client steps up from, no loop on a
 * repeated challenge, sessions bound to their user, and tools/list filtering.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDevIdp, type DevIdp } from '@mcp-oauth/dev-idp'
import { startExampleServer as startExpress, type ExampleServer } from '@mcp-oauth/example-express'
import { startExampleServer as startFastify } from '@mcp-oauth/example-fastify'
import { startExampleServer as startNode } from '@mcp-oauth/example-node'
import { startExampleServer as startWeb } from '@mcp-oauth/example-web'
import { examplePolicy } from '@mcp-oauth/example-express/tools'
import { connectWithOAuth } from '@mcp-oauth/demo/flow'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { createMcpAuth, McpAuthConfigError } from '@mcp-oauth/core'

let idp: DevIdp

beforeAll(async () => {
  idp = await startDevIdp({ users: [
    { id: 'alice', username: 'demo', password: 'demo' },
    { id: 'mallory', username: 'mallory', password: 'mallory' },
  ] })
})
afterAll(async () => {
  await idp?.close()
})

const hosts = [
  { name: 'express', start: startExpress, sessions: true },
  { name: 'fastify', start: startFastify, sessions: true },
  { name: 'node', start: startNode, sessions: false },
  { name: 'web (fetch)', start: startWeb, sessions: false },
] as const

describe.each(hosts)('on $name', ({ start: startExampleServer, sessions }) => {
let server: ExampleServer
beforeAll(async () => {
  server = await startExampleServer({
    auth: { issuer: idp.issuer, scopesSupported: ['mcp:tools', 'mcp:admin'], requiredScopes: ['mcp:tools'], policy: { ...examplePolicy, filterToolsList: true } },
  })
})
afterAll(async () => {
  await server?.close()
})

async function bearerClient(token: string, sessionId?: string) {
  const transport = new StreamableHTTPClientTransport(new URL(server.url), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
    ...(sessionId ? { sessionId } : {}),
  })
  const client = new Client({ name: 't', version: '1' })
  await client.connect(transport)
  return { client, transport }
}

describe('per-tool scopes and step-up', () => {
  it('a public tool works with mcp:tools; the admin tool answers 403 and the client steps up through the IdP', async () => {
    const flow = await connectWithOAuth({ serverUrl: server.url, authorize: (url) => idp.completeAuthorization(url) })
    try {
      expect(flow.provider.authorizationUrls).toHaveLength(1)
      const echo = await flow.callTool('echo', { message: 'hi' })
      expect(echo.content[0]).toMatchObject({ text: 'hi' })
      const deployed = await flow.callTool('deploy', { service: 'api' })
      expect(deployed.isError).toBeFalsy()
      expect(deployed.content[0]).toMatchObject({ text: 'deployed api as alice' })
      const forbidden = flow.exchanges.filter((e) => e.kind === 'mcp' && e.status === 403)
      expect(forbidden).toHaveLength(1)
      expect(forbidden[0]!.wwwAuthenticate).toBe(
        `Bearer error="insufficient_scope", error_description="The access token lacks a scope this request needs", resource_metadata="${server.url.replace('/mcp', '/.well-known/oauth-protected-resource/mcp')}", scope="mcp:tools mcp:admin"`)
      expect(flow.provider.authorizationUrls).toHaveLength(2)
      expect(flow.provider.authorizationUrls[1]!.searchParams.get('scope')).toBe('mcp:tools mcp:admin')
    } finally {
      await flow.close()
    }
  })

  it('the 401 for a tools/call already asks for that tool\'s scopes', async () => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'deploy', arguments: {} } }),
    })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/scope="mcp:tools mcp:admin", DPoP algs="[^"]+"$/)
  })

  it('a repeated identical challenge does not loop: the client re-authorizes once and stops', async () => {
    const denying = await startExampleServer({
      auth: { issuer: idp.issuer, requiredScopes: ['mcp:tools'], policy: { check: (r) => (r.tool === 'deploy' ? false : undefined) } },
    })
    try {
      const flow = await connectWithOAuth({ serverUrl: denying.url, authorize: (url) => idp.completeAuthorization(url) })
      try {
        await expect(flow.callTool('deploy', { service: 'x' })).rejects.toThrow()
        expect(flow.provider.authorizationUrls.length).toBeLessThanOrEqual(2)
        expect(flow.exchanges.filter((e) => e.status === 403).length).toBeLessThanOrEqual(2)
      } finally {
        await flow.close()
      }
    } finally {
      await denying.close()
    }
  })
})

describe.runIf(sessions)('sessions are bound to their user', () => {
  it("another user's token with my session id → 404; my own new token works", async () => {
    const alice = await idp.issueAccessToken({ resource: server.resource, scopes: ['mcp:tools'], subject: 'alice' })
    const { client, transport } = await bearerClient(alice)
    const sessionId = transport.sessionId!
    expect(sessionId).toBeTruthy()
    await client.callTool({ name: 'echo', arguments: { message: 'a' } })

    const mallory = await idp.issueAccessToken({ resource: server.resource, scopes: ['mcp:tools', 'mcp:admin'], subject: 'mallory' })
    const hijack = await fetch(server.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${mallory}`, 'mcp-session-id': sessionId, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'deploy', arguments: { service: 'x' } } }),
    })
    expect(hijack.status).toBe(404)
    expect(await hijack.json()).toMatchObject({ error: { message: 'Session not found' } })

    const alice2 = await idp.issueAccessToken({ resource: server.resource, scopes: ['mcp:tools'], subject: 'alice' })
    const again = await fetch(server.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice2}`, 'mcp-session-id': sessionId, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 10, method: 'tools/call', params: { name: 'echo', arguments: { message: 'b' } } }),
    })
    expect(again.status).toBe(200)
    await client.close()
  })
})

describe('tools/list filtering (opt-in)', () => {
  it('a token sees only the tools it may call', async () => {
    const narrow = await bearerClient(await idp.issueAccessToken({ resource: server.resource, scopes: ['mcp:tools'] }))
    const wide = await bearerClient(await idp.issueAccessToken({ resource: server.resource, scopes: ['mcp:tools', 'mcp:admin'] }))
    try {
      const a = (await narrow.client.listTools()).tools.map((t) => t.name).sort()
      const b = (await wide.client.listTools()).tools.map((t) => t.name).sort()
      expect(a).toEqual(['add', 'echo', 'whoami'])
      expect(b).toEqual(['add', 'deploy', 'echo', 'whoami'])
    } finally {
      await narrow.client.close()
      await wide.client.close()
    }
  })
})

})

describe('the policy is validated at start-up', () => {
  const base = { resource: 'https://mcp.example.com/mcp', issuer: 'https://idp.example.com' }
  it.each([
    ['not an object', { policy: 'admin' }, 'policy'],
    ['tools not a map', { policy: { tools: ['deploy'] } }, 'policy.tools'],
    ['scope not a list', { policy: { tools: { deploy: 'mcp:admin' } } }, 'policy.tools.deploy'],
    ['scope with a space', { policy: { methods: { 'tools/call': ['a b'] } } }, 'policy.methods.tools/call'],
    ['unknown key', { policy: { tool: {} } }, 'policy.tool'],
    ['check not a function', { policy: { check: true } }, 'policy.check'],
  ])('%s → TypeError naming %s', (_n, extra, option) => {
    try {
      createMcpAuth({ ...base, ...extra } as never)
      throw new Error('no error')
    } catch (err) {
      expect(err).toBeInstanceOf(McpAuthConfigError)
      expect((err as McpAuthConfigError).option).toBe(option)
    }
  })

  it('unknown tool names are allowed (tools can be registered later)', () => {
    expect(() => createMcpAuth({ ...base, policy: { tools: { 'not-yet-written': ['x'] } } })).not.toThrow()
  })
})
