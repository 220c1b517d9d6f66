/**
 * End to end: the real dev IdP (oidc-provider), the Express example protected by mcp-oauth, and the real MCP
 * SDK client going through the MCP authorization flow.
 */
import { createHash, randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDevIdp, type DevIdp } from '@mcp-oauth/dev-idp'
import { startExampleServer, type ExampleServer } from '@mcp-oauth/example-express'
import { connectWithOAuth } from '@mcp-oauth/demo/flow'
import { DPOP_CHALLENGE } from '../helpers/dpop.js'

let idp: DevIdp
let server: ExampleServer
let cimd: Server

function whoami(result: { content: Array<{ type: string; text?: string }> }): { clientId: string; scopes: string[]; resource: string; subject: string; issuer: string } {
  return JSON.parse(result.content[0]!.text!)
}

beforeAll(async () => {
  idp = await startDevIdp()
  server = await startExampleServer({ auth: { issuer: idp.issuer, scopesSupported: ['mcp:tools', 'mcp:admin'], requiredScopes: ['mcp:tools'] } })
  cimd = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      client_id: 'https://client.e2e.test/meta.json',
      client_name: 'e2e CIMD client',
      redirect_uris: ['http://127.0.0.1:8090/callback'],
      token_endpoint_auth_method: 'none',
    }))
  })
  await new Promise<void>((resolve) => cimd.listen(0, '127.0.0.1', resolve))
  idp.mapClientMetadataHost('client.e2e.test', `http://127.0.0.1:${(cimd.address() as AddressInfo).port}`)
})

afterAll(async () => {
  await server?.close()
  await idp?.close()
  cimd?.closeAllConnections()
  cimd?.close()
})

describe('the MCP SDK client through the whole flow', () => {
  it('DCR: 401 → PRM → AS metadata → registration → PKCE authorization → token → whoami', async () => {
    const flow = await connectWithOAuth({ serverUrl: server.url, authorize: (url) => idp.completeAuthorization(url) })
    try {
      const kinds = flow.exchanges.map((e) => `${e.kind}:${e.status}`)
      expect(kinds[0]).toBe('mcp:401')
      expect(flow.exchanges[0]!.wwwAuthenticate).toBe(`Bearer resource_metadata="${server.resource.replace('/mcp', '/.well-known/oauth-protected-resource/mcp')}", scope="mcp:tools", ${DPOP_CHALLENGE}`)
      expect(kinds).toContain('protected-resource-metadata:200')
      expect(kinds).toContain('authorization-server-metadata:200')
      expect(kinds).toContain('registration:201')
      expect(kinds).toContain('token:200')
      const authUrl = flow.provider.authorizationUrls[0]!
      expect(authUrl.searchParams.get('code_challenge_method')).toBe('S256')
      expect(authUrl.searchParams.get('resource')).toBe(server.resource)
      expect(authUrl.searchParams.get('scope')).toBe('mcp:tools')

      const me = whoami(await flow.callTool('whoami'))
      const registration = JSON.parse(flow.exchanges.find((e) => e.kind === 'registration')!.responseBody!) as { client_id: string }
      expect(me).toMatchObject({ clientId: registration.client_id, scopes: ['mcp:tools'], resource: server.resource, subject: 'demo-user', issuer: idp.issuer })
    } finally {
      await flow.close()
    }
  })

  it('CIMD: no registration, the client_id is the metadata document URL', async () => {
    const flow = await connectWithOAuth({
      serverUrl: server.url,
      clientMetadataUrl: 'https://client.e2e.test/meta.json',
      authorize: (url) => idp.completeAuthorization(url),
    })
    try {
      expect(flow.exchanges.some((e) => e.kind === 'registration')).toBe(false)
      expect(whoami(await flow.callTool('whoami')).clientId).toBe('https://client.e2e.test/meta.json')
    } finally {
      await flow.close()
    }
  })

  it('insufficient scope → 403, the client steps up through the IdP and succeeds', async () => {
    const strict = await startExampleServer({ auth: { issuer: idp.issuer, scopesSupported: ['mcp:tools', 'mcp:admin'], requiredScopes: ['mcp:tools', 'mcp:admin'] } })
    try {
      const narrow = await idp.issueAccessToken({ resource: strict.resource, scopes: ['mcp:tools'] })
      const flow = await connectWithOAuth({
        serverUrl: strict.url,
        tokens: { access_token: narrow, token_type: 'Bearer' },
        authorize: (url) => idp.completeAuthorization(url),
      })
      try {
        const forbidden = flow.exchanges.find((e) => e.kind === 'mcp' && e.status === 403)!
        expect(forbidden.wwwAuthenticate).toMatch(/^Bearer error="insufficient_scope", .*scope="mcp:tools mcp:admin"$/)
        expect(flow.provider.authorizationUrls[0]!.searchParams.get('scope')).toBe('mcp:tools mcp:admin')
        expect(whoami(await flow.callTool('whoami')).scopes.sort()).toEqual(['mcp:admin', 'mcp:tools'])
      } finally {
        await flow.close()
      }
    } finally {
      await strict.close()
    }
  })
})

describe('tokens the server must refuse', () => {
  const initialize = (token: string) => fetch(server.url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
  })

  it('a token the IdP issued for another resource → 401 invalid_token', async () => {
    const other = await idp.issueAccessToken({ resource: 'http://127.0.0.1:1/other-mcp', scopes: ['mcp:tools'] })
    const res = await initialize(other)
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token", error_description="The token was not issued for this resource"/)
  })

  it('an expired token → 401 invalid_token', async () => {
    const expired = await idp.issueAccessToken({ resource: server.resource, scopes: ['mcp:tools'], extraClaims: { exp: Math.floor(Date.now() / 1000) - 120 } })
    const res = await initialize(expired)
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token", error_description="The access token expired"/)
  })

  it('an opaque token without introspection configured → 401 invalid_token', async () => {
    const opaque = await idp.issueAccessToken({ format: 'opaque', scopes: ['mcp:tools'] })
    expect((await initialize(opaque)).status).toBe(401)
  })

  it('the ID token from a real login is never accepted as an access token', async () => {
    // A real authorization code flow with openid, by hand, to get a real ID token from the IdP.
    const verifier = randomBytes(32).toString('base64url')
    const challenge = createHash('sha256').update(verifier).digest('base64url')
    const discovery = await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json() as { authorization_endpoint: string; token_endpoint: string }
    const redirectUri = 'http://127.0.0.1:8090/callback'
    const authorize = new URL(discovery.authorization_endpoint)
    for (const [k, v] of Object.entries({
      client_id: idp.publicClient.clientId, response_type: 'code', redirect_uri: redirectUri, scope: 'openid mcp:tools',
      code_challenge: challenge, code_challenge_method: 'S256', resource: server.resource, state: 's', nonce: 'n',
    })) authorize.searchParams.set(k, v)
    const back = await idp.completeAuthorization(authorize)
    const tokens = await (await fetch(discovery.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: redirectUri, code_verifier: verifier, client_id: idp.publicClient.clientId, resource: server.resource }),
    })).json() as { access_token: string; id_token: string }
    expect(tokens.id_token).toBeTruthy()
    expect((await initialize(tokens.access_token)).status).toBe(200)
    const res = await initialize(tokens.id_token)
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token"/)
  })
})
