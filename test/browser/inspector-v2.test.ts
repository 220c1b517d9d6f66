/**
 * The MCP Inspector v2 web app (the current `@modelcontextprotocol/inspector`, from npm) in headless Chromium,
 * against the Express example and the fetch host, with the real dev IdP: the deep link connects, the Inspector
 * discovers (401 → PRM → AS metadata), registers (DCR), sends the browser to the IdP's login page, takes the
 * callback, then lists and calls a tool. v2 has one connection mode: everything goes through its backend. Then
 * the same through the bridge: its consent page clicked, the upstream dev IdP's login, the bridge's token.
 * Screenshots of every step: test-results/inspector/v2-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser } from 'playwright-core'
import { startDevIdp, type DevIdp } from '@mcp-oauth/dev-idp'
import { startExampleServer as startExpress, type ExampleServer } from '@mcp-oauth/example-express'
import { startExampleServer as startWeb } from '@mcp-oauth/example-web'
import { browserTestsEnabled, isolatedContext, launchChromium, recordTraffic, screenshot } from '../helpers/chromium.js'
import { startInspectorV2, type InspectorProcess } from '../helpers/inspector.js'
import { startBridgeWorld, type BridgeWorld } from '../helpers/bridge-world.js'
import { signInAtDevIdp } from './dev-idp-login.js'

const auth = { scopesSupported: ['mcp:tools', 'mcp:admin'], requiredScopes: ['mcp:tools'] }

describe.runIf(browserTestsEnabled)('MCP Inspector v2 in Chromium', () => {
  let browser: Browser
  let idp: DevIdp
  let inspector: InspectorProcess
  let world: BridgeWorld
  const servers: Record<string, ExampleServer> = {}

  beforeAll(async () => {
    ;[browser, idp, inspector, world] = await Promise.all([launchChromium(), startDevIdp(), startInspectorV2(), startBridgeWorld({ mode: 'oidc-pkce' })])
    servers.express = await startExpress({ auth: { issuer: idp.issuer, ...auth } })
    servers.web = await startWeb({ auth: { issuer: idp.issuer, ...auth } })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await Promise.all(Object.values(servers).map((s) => s.close()))
    await inspector?.close()
    await idp?.close()
    await world?.close()
  })

  it.each(['express', 'web'])('through its backend against the %s host: OAuth, tools/list, tools/call', async (host) => {
    const server = servers[host]!
    const name = `v2-${host}`
    const context = await isolatedContext(browser)
    try {
      const page = await context.newPage()
      const traffic = recordTraffic(page)
      const registrations = idp.counts.registration

      await page.goto(inspector.linkFor(server.url))
      await signInAtDevIdp(page, idp, name)

      await page.waitForURL((url) => url.origin === inspector.origin)
      const status = page.getByTestId('connection-status')
      await expect.poll(() => status.getAttribute('data-status'), { timeout: 20_000 }).toBe('connected')
      await screenshot(page, `${name}-3-connected`)

      await page.getByText('Tools', { exact: true }).first().click()
      for (const tool of ['whoami', 'echo', 'add', 'deploy']) await page.getByText(tool, { exact: true }).first().waitFor()
      await screenshot(page, `${name}-4-tools-listed`)

      await page.getByText('whoami', { exact: true }).first().click()
      await page.getByRole('button', { name: 'Execute Tool' }).click()
      await page.getByText('"demo-user"').first().waitFor()
      await page.getByText(`"${server.resource}"`).first().waitFor()
      await screenshot(page, `${name}-5-tool-called`)

      expect(idp.counts.registration).toBe(registrations + 1)
      // v2's browser page never talks to the MCP server or the IdP's API itself: only the login page is visited.
      const serverOrigin = new URL(server.url).origin
      expect(traffic.filter((t) => t.url.origin === serverOrigin)).toEqual([])
      expect(traffic.filter((t) => t.url.origin === idp.url && !/^\/(auth|interaction)\b/.test(t.url.pathname))).toEqual([])
    } finally {
      await context.close()
    }
  }, 120_000)

  it('through the bridge: its consent page clicked, the upstream login, the bridge token calls a tool', async () => {
    const name = 'v2-bridge'
    const context = await isolatedContext(browser)
    try {
      const page = await context.newPage()
      await page.goto(inspector.linkFor(world.mcpUrl))

      const consent = page.locator('#mcp-oauth-bridge-consent')
      await consent.waitFor().catch(async (err: unknown) => {
        await screenshot(page, `${name}-failed`)
        throw new Error(`no consent page at ${page.url()}: ${(await page.locator('body').innerText()).slice(0, 500)}\n${inspector.output().slice(-2000)}`, { cause: err })
      })
      expect(new URL(page.url()).origin).toBe(world.origin)
      await screenshot(page, `${name}-0-bridge-consent`)
      await consent.getByRole('button', { name: /^Allow/ }).click()
      await signInAtDevIdp(page, world.idp, name)

      await page.waitForURL((url) => url.origin === inspector.origin)
      const status = page.getByTestId('connection-status')
      await expect.poll(() => status.getAttribute('data-status'), { timeout: 20_000 }).toBe('connected')
      await screenshot(page, `${name}-3-connected`)
      await page.getByText('Tools', { exact: true }).first().click()
      await page.getByText('upstream-user', { exact: true }).first().waitFor()
      await page.getByText('whoami', { exact: true }).first().click()
      await page.getByRole('button', { name: 'Execute Tool' }).click()
      await page.getByText('"demo-user"').first().waitFor()
      await page.getByText(`"${world.bridge.issuer}"`).first().waitFor()
      await screenshot(page, `${name}-5-tool-called`)
    } finally {
      await context.close()
    }
  }, 120_000)
})
