/**
 * The bridge end to end with the real MCP SDK client: registration (DCR and CIMD), the bridge's consent page,
 * the upstream login at the real dev IdP (OIDC + PKCE, and GitHub-like: no discovery, no PKCE, secret only,
 * opaque tokens, user-info), a bridge token verified by @mcp-oauth/express, a tool reading the upstream token,
 * refresh through the SDK's own refresh code, and the device flow.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeJwt } from 'jose'
import { discoverAuthorizationServerMetadata, refreshAuthorization } from '@modelcontextprotocol/sdk/client/auth.js'
import { connectWithOAuth, type FlowResult } from '@mcp-oauth/demo/flow'
import { browse } from '../helpers/browser.js'
import { startBridgeWorld, type BridgeWorld, type UpstreamMode } from '../helpers/bridge-world.js'
import { metadata, register } from '../helpers/oauth-client.js'

function text(result: { content: Array<{ type: string; text?: string }> }): Record<string, unknown> {
  return JSON.parse(result.content[0]!.text!) as Record<string, unknown>
}

async function signIn(world: BridgeWorld, extra: { clientMetadataUrl?: string; upstreamRequests?: URL[] } = {}): Promise<FlowResult> {
  return connectWithOAuth({
    serverUrl: world.mcpUrl,
    ...(extra.clientMetadataUrl ? { clientMetadataUrl: extra.clientMetadataUrl } : {}),
    authorize: async (url) => {
      const r = await browse(url, {
        origins: [world.origin, world.idp.url],
        onHop: (u) => void (u.origin === world.idp.url && u.pathname === '/auth' && extra.upstreamRequests?.push(u)),
      })
      if (r.kind !== 'redirect') throw new Error(`flow ended at ${r.kind}${r.kind === 'page' ? `: ${r.html.slice(0, 300)}` : ''}`)
      return r.url
    },
  })
}

describe.each<[UpstreamMode, boolean]>([['oidc-pkce', true], ['github-like', false]])('upstream %s', (mode, upstreamPkce) => {
  let world: BridgeWorld
  beforeAll(async () => {
    world = await startBridgeWorld({ mode })
  })
  afterAll(async () => world?.close())

  it('DCR: registers at the bridge, consents, signs in upstream, calls a tool that reads the upstream token', async () => {
    const upstreamRequests: URL[] = []
    const flow = await signIn(world, { upstreamRequests })
    try {
      const kinds = flow.exchanges.map((e) => `${e.kind}:${e.status}`)
      expect(kinds).toContain('registration:201')
      expect(kinds).toContain('token:200')
      const authUrl = flow.provider.authorizationUrls[0]!
      expect(authUrl.origin + authUrl.pathname).toBe(`${world.bridge.issuer}/auth`)
      expect(authUrl.searchParams.get('code_challenge_method')).toBe('S256')
      expect(authUrl.searchParams.get('resource')).toBe(world.mcpUrl)
      // Upstream: the bridge's own client, callback, state and (when the IdP has it) PKCE — nothing of the MCP client's.
      const up = upstreamRequests[0]!
      expect(up.searchParams.get('client_id')).toBe('mcp-bridge')
      expect(up.searchParams.get('redirect_uri')).toBe(world.bridge.callbackUrl)
      expect(up.searchParams.has('code_challenge')).toBe(upstreamPkce)
      expect(up.searchParams.get('code_challenge')).not.toBe(authUrl.searchParams.get('code_challenge'))
      expect(up.searchParams.get('state')).not.toBe(authUrl.searchParams.get('state'))

      const tokens = flow.provider.tokens()!
      expect(decodeJwt(tokens.access_token)).toMatchObject({ iss: world.bridge.issuer, aud: world.mcpUrl, sub: 'demo-user', scope: 'mcp:tools' })
      expect(tokens.refresh_token).toBeTruthy()

      expect(text(await flow.callTool('whoami'))).toMatchObject({ issuer: world.bridge.issuer, subject: 'demo-user', resource: world.mcpUrl, scopes: ['mcp:tools'] })
      // The tool called the upstream's user-info endpoint with the user's upstream token (never the bridge token).
      expect(text(await flow.callTool('upstream-user'))).toMatchObject({ status: 200, sub: 'demo-user', sameAsBridgeToken: false })
    } finally {
      await flow.close()
    }
  })

  it('CIMD: no registration; the client_id is the metadata document URL', async () => {
    const flow = await signIn(world, { clientMetadataUrl: world.cimdUrl })
    try {
      expect(flow.exchanges.some((e) => e.kind === 'registration')).toBe(false)
      expect(text(await flow.callTool('whoami'))).toMatchObject({ clientId: world.cimdUrl, subject: 'demo-user' })
      expect(text(await flow.callTool('upstream-user'))).toMatchObject({ status: 200, sub: 'demo-user' })
    } finally {
      await flow.close()
    }
  })

  it("refresh with the SDK's own refresh code: a new access token and a rotated refresh token that both work", async () => {
    const flow = await signIn(world)
    await flow.close()
    const tokens = flow.provider.tokens()!
    const client = flow.provider.clientInformation()!
    const as = await discoverAuthorizationServerMetadata(world.bridge.issuer)
    const fresh = await refreshAuthorization(world.bridge.issuer, { metadata: as!, clientInformation: client, refreshToken: tokens.refresh_token!, resource: new URL(world.mcpUrl) })
    expect(fresh.access_token).not.toBe(tokens.access_token)
    expect(fresh.refresh_token).toBeTruthy()
    expect(fresh.refresh_token).not.toBe(tokens.refresh_token)
    expect(decodeJwt(fresh.access_token)).toMatchObject({ iss: world.bridge.issuer, aud: world.mcpUrl, sub: 'demo-user' })
    const again = await connectWithOAuth({ serverUrl: world.mcpUrl, tokens: fresh, authorize: async () => { throw new Error('no new authorization expected') } })
    try {
      expect(text(await again.callTool('upstream-user'))).toMatchObject({ status: 200, sub: 'demo-user' })
    } finally {
      await again.close()
    }
  })

  it('device flow (RFC 8628): code, consent and upstream login in a browser, the device polls for a bridge token', async () => {
    const as = await metadata(world.bridge.issuer)
    const reg = await register(as, {
      client_name: 'headless CLI', application_type: 'native', token_endpoint_auth_method: 'none',
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'], response_types: [], redirect_uris: [],
    })
    expect(reg.status).toBe(201)
    const clientId = reg.json['client_id'] as string
    const start = await fetch(as.device_authorization_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: clientId, scope: 'mcp:tools', resource: world.mcpUrl }),
    })
    const device = (await start.json()) as { device_code: string; user_code: string; verification_uri_complete: string; interval: number }
    expect(start.status).toBe(200)
    const poll = () => fetch(as.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: device.device_code, client_id: clientId }),
    })
    const pending = await poll()
    expect(pending.status).toBe(400)
    expect(((await pending.json()) as { error: string }).error).toBe('authorization_pending')

    const consentPages: string[] = []
    const done = await browse(device.verification_uri_complete, { origins: [world.origin, world.idp.url], consent: (f) => (consentPages.push(f.html), 'allow') })
    expect(done.kind).toBe('device-done')
    expect(consentPages[0]).toContain('headless CLI')
    expect(consentPages[0]).toContain('device flow')

    const granted = await poll()
    const body = (await granted.json()) as { access_token: string; refresh_token?: string }
    expect(granted.status).toBe(200)
    expect(decodeJwt(body.access_token)).toMatchObject({ iss: world.bridge.issuer, aud: world.mcpUrl, sub: 'demo-user', scope: 'mcp:tools', client_id: clientId })
    const flow = await connectWithOAuth({ serverUrl: world.mcpUrl, tokens: { access_token: body.access_token, token_type: 'Bearer' }, authorize: async () => { throw new Error('no authorization expected') } })
    try {
      expect(text(await flow.callTool('upstream-user'))).toMatchObject({ status: 200, sub: 'demo-user' })
    } finally {
      await flow.close()
    }
  })
})
