/**
 * The dev IdP's login page, filled in and submitted in the browser like a person would, with screenshots.
 */
import { expect } from 'vitest'
import type { Page } from 'playwright-core'
import type { DevIdp } from '@mcp-oauth/dev-idp'
import { screenshot } from '../helpers/chromium.js'

/** Wait for the IdP's login form, check what it asks for, sign in as demo/demo. */
export async function signInAtDevIdp(page: Page, idp: DevIdp, name: string): Promise<URL> {
  await page.locator('#username').waitFor().catch(async (err: unknown) => {
    await screenshot(page, `${name}-failed`)
    const text = (await page.content().catch(() => '')).replace(/<style[\s\S]*?<\/style>/g, '')
    throw new Error(`no login page of the dev IdP; the page is ${page.url()}: ${text.slice(0, 400)}`, { cause: err })
  })
  const loginUrl = new URL(page.url())
  expect(loginUrl.origin).toBe(idp.url)
  expect(loginUrl.pathname).toMatch(/^\/interaction\//)
  await screenshot(page, `${name}-1-idp-login`)
  await page.fill('#username', 'demo')
  await page.fill('#password', 'demo')
  await screenshot(page, `${name}-2-idp-login-filled`)
  await page.click('button[type=submit]')
  return loginUrl
}
