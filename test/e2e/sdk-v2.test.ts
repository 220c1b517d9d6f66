/**
 * The MCP SDK v2 web-standard transport behind `auth.fetch`: the real v1 client, a token from the real dev
 * IdP, and the verified AuthInfo reaching a v2 tool as `ctx.http.authInfo`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { startDevIdp, type DevIdp } from '@mcp-oauth/dev-idp'
import { startExampleServer, type ExampleServer } from '@mcp-oauth/example-web-v2'
import { connectWithOAuth } from '@mcp-oauth/demo/flow'

let idp: DevIdp
let server: ExampleServer
beforeAll(async () => {
  idp = await startDevIdp()
  server = await startExampleServer({ auth: { issuer: idp.issuer, scopesSupported: ['mcp:tools'], requiredScopes: ['mcp:tools'] } })
})
afterAll(async () => {
  await server?.close()
  await idp?.close()
})

describe('MCP SDK v2 (@modelcontextprotocol/server) behind auth.fetch', () => {
  it('without a token: 401 with the challenge', async () => {
    const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer resource_metadata="/)
  })

  it('a token from the IdP reaches the v2 tool as ctx.http.authInfo', async () => {
    const token = await idp.issueAccessToken({ resource: server.resource, scopes: ['mcp:tools'] })
    const client = new Client({ name: 't', version: '1' })
    await client.connect(new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }))
    try {
      const result = await client.callTool({ name: 'whoami', arguments: {} })
      const me = JSON.parse((result.content as Array<{ text: string }>)[0]!.text)
      expect(me).toMatchObject({ scopes: ['mcp:tools'], resource: server.resource, issuer: idp.issuer, verifiedBy: 'jwt' })
    } finally {
      await client.close()
    }
  })

  it('the real client goes through the whole OAuth flow against it', async () => {
    const flow = await connectWithOAuth({ serverUrl: server.url, authorize: (url) => idp.completeAuthorization(url) })
    try {
      const result = await flow.callTool('echo', { message: 'v2' })
      expect(result.content[0]).toMatchObject({ text: 'v2' })
    } finally {
      await flow.close()
    }
  })
})
