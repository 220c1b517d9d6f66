/**
 * The bridge end to end with the real MCP SDK client: registration (DCR and CIMD), the bridge's consent page,
 * the upstream login at the real dev IdP (OIDC + PKCE, and GitHub-like: no discovery, no PKCE, secret only,
 * opaque tokens, user-info), a bridge token verified by @mcp-oauth/express, a tool reading the upstream token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeJwt } from 'jose'
import { connectWithOAuth } from '@mcp-oauth/demo/flow'
import { browse } from '../helpers/browser.js'
import { startBridgeWorld, type BridgeWorld } from '../helpers/bridge-world.js'

function text(result: { content: Array<{ type: string; text?: string }> }): Record<string, unknown> {
  return JSON.parse(result.content[0]!.text!) as Record<string, unknown>
}

describe('OIDC upstream with PKCE', () => {
  let world: BridgeWorld
  beforeAll(async () => {
    world = await startBridgeWorld({ mode: 'oidc-pkce' })
  })
  afterAll(async () => world?.close())

  it('DCR: registers at the bridge, consents, signs in upstream, calls a tool with the bridge token', async () => {
    const upstreamRequests: URL[] = []
    const flow = await connectWithOAuth({
      serverUrl: world.mcpUrl,
      authorize: async (url) => {
        const r = await browse(url, {
          origins: [world.origin, world.idp.url],
          onHop: (u) => void (u.origin === world.idp.url && u.pathname === '/auth' && upstreamRequests.push(u)),
        })
        if (r.kind !== 'redirect') throw new Error(`flow ended at ${r.kind}`)
        return r.url
      },
    })
    try {
      const kinds = flow.exchanges.map((e) => `${e.kind}:${e.status}`)
      expect(kinds).toContain('registration:201')
      expect(kinds).toContain('token:200')
      const authUrl = flow.provider.authorizationUrls[0]!
      expect(authUrl.origin + authUrl.pathname).toBe(`${world.bridge.issuer}/auth`)
      expect(authUrl.searchParams.get('code_challenge_method')).toBe('S256')
      expect(authUrl.searchParams.get('resource')).toBe(world.mcpUrl)
      // Upstream: the bridge's own client, its own PKCE, its callback — nothing of the MCP client's.
      const up = upstreamRequests[0]!
      expect(up.searchParams.get('client_id')).toBe('mcp-bridge')
      expect(up.searchParams.get('redirect_uri')).toBe(world.bridge.callbackUrl)
      expect(up.searchParams.get('code_challenge_method')).toBe('S256')
      expect(up.searchParams.get('code_challenge')).not.toBe(authUrl.searchParams.get('code_challenge'))
      expect(up.searchParams.get('state')).not.toBe(authUrl.searchParams.get('state'))

      const tokens = flow.provider.tokens()!
      const claims = decodeJwt(tokens.access_token)
      expect(claims).toMatchObject({ iss: world.bridge.issuer, aud: world.mcpUrl, sub: 'demo-user', scope: 'mcp:tools' })
      expect(tokens.refresh_token).toBeTruthy()

      const me = text(await flow.callTool('whoami'))
      expect(me).toMatchObject({ issuer: world.bridge.issuer, subject: 'demo-user', resource: world.mcpUrl, scopes: ['mcp:tools'] })
      const upstream = text(await flow.callTool('upstream-user'))
      expect(upstream).toEqual({ status: 200, sub: 'demo-user', sameAsBridgeToken: false })
    } finally {
      await flow.close()
    }
  })
})
