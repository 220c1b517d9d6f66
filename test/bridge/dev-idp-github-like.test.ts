/** The dev IdP's GitHub-like shape (the bridge's upstream in tests and the demo). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDevIdp, type DevIdp } from '@mcp-oauth/dev-idp'

let idp: DevIdp
beforeAll(async () => {
  idp = await startDevIdp({ githubLike: true })
})
afterAll(async () => idp?.close())

describe('githubLike: true', () => {
  it('publishes no discovery document at any well-known URL', async () => {
    for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
      expect((await fetch(`${idp.issuer}${path}`)).status).toBe(404)
    }
  })

  it('has no dynamic client registration', async () => {
    const res = await fetch(`${idp.issuer}/reg`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['https://x.example/cb'] }) })
    expect(res.status).toBe(404)
  })

  it('still requires PKCE from public clients', async () => {
    const url = new URL(`${idp.issuer}/auth`)
    for (const [k, v] of Object.entries({ client_id: idp.publicClient.clientId, response_type: 'code', redirect_uri: 'http://127.0.0.1/callback', scope: 'openid' })) url.searchParams.set(k, v)
    const res = await fetch(url, { redirect: 'manual' })
    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('invalid_request')
  })
})
