/**
 * End to end on every example host (Express, Fastify, node:http, fetch/Hono): the real dev IdP, the example
 * MCP server, and the real MCP SDK client — once with a token minted by the IdP, once through the whole MCP
 * authorization flow — calling `whoami` and checking the verified token reached the tool.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { startDevIdp, type DevIdp } from '@mcp-oauth/dev-idp'
import { connectWithOAuth } from '@mcp-oauth/demo/flow'
import * as expressExample from '@mcp-oauth/example-express'
import * as fastifyExample from '@mcp-oauth/example-fastify'
import * as nodeExample from '@mcp-oauth/example-node'
import * as webExample from '@mcp-oauth/example-web'
import type { ExampleServer, ExampleServerOptions } from '@mcp-oauth/example-express'
import { DPOP_CHALLENGE } from '../helpers/dpop.js'

const examples: Array<{ name: string; startExampleServer(options: ExampleServerOptions): Promise<ExampleServer> }> = [
  { name: 'express', ...expressExample },
  { name: 'fastify', ...fastifyExample },
  { name: 'node', ...nodeExample },
  { name: 'web', ...webExample },
]

let idp: DevIdp
beforeAll(async () => {
  idp = await startDevIdp()
})
afterAll(() => idp.close())

interface WhoAmI { clientId: string; scopes: string[]; resource: string; subject: string; issuer: string; verifiedBy: string }
const whoami = (result: CallToolResult): WhoAmI => (result.structuredContent as { authInfo: WhoAmI }).authInfo

describe.each(examples)('the $name example', (example) => {
  let server: ExampleServer
  beforeAll(async () => {
    server = await example.startExampleServer({
      auth: { issuer: idp.issuer, scopesSupported: ['mcp:tools', 'mcp:admin'], requiredScopes: ['mcp:tools'] },
    })
  })
  afterAll(() => server.close())

  it('refuses a request without a token with the challenge clients follow', async () => {
    const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${new URL('/.well-known/oauth-protected-resource/mcp', server.url).href}", scope="mcp:tools", ${DPOP_CHALLENGE}`)
  })

  it('the SDK client with a token from the IdP: authInfo reaches the tool', async () => {
    const token = await idp.issueAccessToken({ resource: server.resource, scopes: ['mcp:tools'] })
    const client = new Client({ name: 'e2e', version: '1.0.0' })
    await client.connect(new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }))
    try {
      expect(whoami(await client.callTool({ name: 'whoami', arguments: {} }) as CallToolResult)).toMatchObject({
        clientId: 'mcp-dev-client', scopes: ['mcp:tools'], resource: server.resource, subject: 'demo-user', issuer: idp.issuer, verifiedBy: 'jwt',
      })
      expect(await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })).toMatchObject({ content: [{ type: 'text', text: '5' }] })
    } finally {
      await client.close()
    }
  })

  it('the SDK client through the whole flow: 401 → metadata → registration → authorization → token → whoami', async () => {
    const flow = await connectWithOAuth({ serverUrl: server.url, authorize: (url) => idp.completeAuthorization(url) })
    try {
      const kinds = flow.exchanges.map((e) => `${e.kind}:${e.status}`)
      expect(kinds[0]).toBe('mcp:401')
      expect(kinds).toEqual(expect.arrayContaining(['protected-resource-metadata:200', 'registration:201', 'token:200']))
      expect(flow.provider.authorizationUrls[0]!.searchParams.get('resource')).toBe(server.resource)
      const me = whoami(await flow.callTool('whoami'))
      expect(me).toMatchObject({ scopes: ['mcp:tools'], resource: server.resource, subject: 'demo-user', issuer: idp.issuer })
      expect(me.clientId).toBe(flow.provider.clientInformation()?.client_id)
    } finally {
      await flow.close()
    }
  })

  it('a token for another resource is refused', async () => {
    const token = await idp.issueAccessToken({ resource: 'http://127.0.0.1:1/mcp', scopes: ['mcp:tools'] })
    const res = await fetch(server.url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/)
  })
})
