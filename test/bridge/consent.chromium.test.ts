/**
 * The bridge's consent page in a real browser (headless Chromium, Debian's package, playwright-core): the page
 * renders under its CSP with no console error, Allow submits the form with its CSRF token, the browser follows the
 * redirect to the upstream's login page and back through the callback and the interaction's own cookie path to the
 * client's redirect URI with a code and iss. Screenshots in test-results/inspector/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser } from 'playwright-core'
import { browserTestsEnabled, isolatedContext, launchChromium, screenshot } from '../helpers/chromium.js'
import { signInAtDevIdp } from '../browser/dev-idp-login.js'
import { startBridgeWorld, type BridgeWorld } from '../helpers/bridge-world.js'
import { authorizationRequest, metadata, register, token } from '../helpers/oauth-client.js'

const REDIRECT = 'http://127.0.0.1:8090/callback'

describe.runIf(browserTestsEnabled)('the consent page in Chromium', () => {
  let world: BridgeWorld
  let browser: Browser
  beforeAll(async () => {
    world = await startBridgeWorld({ mode: 'github-like' })
    browser = await launchChromium()
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
    await world?.close()
  })

  it('Allow → upstream login → back to the client with a code (CSRF, cookies and CSP as a browser applies them)', async () => {
    const as = await metadata(world.bridge.issuer)
    const reg = await register(as, { client_name: 'Chromium <b>test</b> client', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' })
    const clientId = reg.json['client_id'] as string
    const req = authorizationRequest(as, clientId, REDIRECT, { resource: world.mcpUrl })
    const context = await isolatedContext(browser)
    const errors: string[] = []
    try {
      // Nothing listens on the client's redirect URI: answer it in the browser, as a native client's loopback would.
      await context.route(`${REDIRECT}**`, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>client got the code</h1>' }))
      const page = await context.newPage()
      page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())))
      page.on('pageerror', (e) => void errors.push(e.message))
      await page.goto(req.url.href)
      await page.locator('#mcp-oauth-bridge-consent').waitFor()
      expect(new URL(page.url()).pathname).toMatch(/^\/oauth\/interaction\//)
      const text = await page.locator('body').innerText()
      expect(text).toContain('Chromium <b>test</b> client')
      expect(text).toContain(REDIRECT)
      expect(text).toContain('mcp:tools')
      expect(await page.locator('b').count()).toBe(0)
      await screenshot(page, 'bridge-1-consent')
      await page.click('button[value=allow]')
      await signInAtDevIdp(page, world.idp, 'bridge')
      await page.waitForURL((u) => u.href.startsWith(REDIRECT))
      const back = new URL(page.url())
      await screenshot(page, 'bridge-3-back-at-client')
      expect(back.searchParams.get('iss')).toBe(world.bridge.issuer)
      expect(back.searchParams.get('state')).toBe(req.state)
      const tokens = await token(as, { grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: req.verifier, client_id: clientId, resource: world.mcpUrl })
      expect(tokens.status).toBe(200)
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  }, 60_000)
})
