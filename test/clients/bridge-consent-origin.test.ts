/**
 * Regression (found by the MCP Inspector v2 in Chromium through the bridge, test/browser/inspector-v2.test.ts):
 * clicking Allow on the bridge's consent page answered "The consent form was submitted from another site". The
 * page was served with `Referrer-Policy: no-referrer`, so Chromium sent `Origin: null` with the form's own post
 * (Sec-Fetch-Site: same-origin), and the bridge took the null Origin for another site. The scripted browser of
 * the bridge tests sent the real origin and never saw it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { browse, Jar } from '../helpers/browser.js'
import { startBridgeWorld, type BridgeWorld } from '../helpers/bridge-world.js'
import { authorizationRequest, metadata, register } from '../helpers/oauth-client.js'

const REDIRECT = 'http://127.0.0.1:8090/callback'
let world: BridgeWorld
beforeAll(async () => {
  world = await startBridgeWorld({ mode: 'oidc-pkce' })
})
afterAll(() => world?.close())

async function consentForm(): Promise<{ jar: Jar; action: URL; csrf: string; url: URL }> {
  const as = await metadata(world.bridge.issuer)
  const { json } = await register(as, { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'] })
  const jar = new Jar()
  const request = authorizationRequest(as, String(json.client_id), REDIRECT, { resource: world.mcpUrl })
  const stopped = await browse(request.url, { origins: [world.origin, world.idp.url], jar, consent: () => 'stop' })
  if (stopped.kind !== 'consent') throw new Error(`expected the consent page, got ${stopped.kind}`)
  return { jar, action: stopped.form.action, csrf: stopped.form.csrf, url: stopped.form.url }
}

const post = (jar: Jar, action: URL, csrf: string, headers: Record<string, string>) => fetch(action, {
  method: 'POST',
  redirect: 'manual',
  headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header(action) ?? '', ...headers },
  body: new URLSearchParams({ csrf, decision: 'allow' }).toString(),
})

describe('the bridge consent form posted by a real browser', () => {
  it('Origin: null with Sec-Fetch-Site: same-origin (what Chromium sends) is the page itself: allowed', async () => {
    const { jar, action, csrf } = await consentForm()
    const res = await post(jar, action, csrf, { origin: 'null', 'sec-fetch-site': 'same-origin' })
    expect(res.status).toBe(303)
    expect(new URL(res.headers.get('location')!).origin).toBe(world.idp.url)
  })

  it('the consent page lets its own post carry its origin (Referrer-Policy same-origin, not no-referrer)', async () => {
    const { jar, url } = await consentForm()
    const page = await fetch(url, { headers: { cookie: jar.header(url) ?? '' } })
    expect(page.status).toBe(200)
    expect(page.headers.get('referrer-policy')).toBe('same-origin')
  })

  it('still refused: Sec-Fetch-Site cross-site or same-site, whatever the Origin says', async () => {
    for (const site of ['cross-site', 'same-site', 'none']) {
      const { jar, action, csrf } = await consentForm()
      const res = await post(jar, action, csrf, { origin: world.origin, 'sec-fetch-site': site })
      expect(res.status).toBe(403)
    }
  })
})
