/**
 * One headless Chromium per test file: Debian's `chromium` package at /usr/bin/chromium, driven by
 * playwright-core (never a browser download). Each flow gets its own browser context (fresh cookies and
 * storage, so the IdP's login page is always shown); playwright gives every launch a fresh --user-data-dir.
 *
 * Without the binary: in CI (`MCP_OAUTH_BROWSER_TESTS=required`, which `.ci/run` exports, or `CI` set) the
 * tests fail with the reason; locally they are skipped with a message saying how to install it.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'

/** Debian's chromium; MCP_OAUTH_CHROMIUM_PATH only to check how the tests behave without it. */
export const CHROMIUM_PATH = process.env.MCP_OAUTH_CHROMIUM_PATH ?? '/usr/bin/chromium'

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Where screenshots go (gitignored): test-results/inspector/. */
export const SCREENSHOT_DIR = fileURLToPath(new URL('../../test-results/inspector/', import.meta.url))

const inCi = process.env.MCP_OAUTH_BROWSER_TESTS === 'required' || Boolean(process.env.CI)
const present = existsSync(CHROMIUM_PATH)

/**
 * `true` when the browser tests should run. Locally without chromium: false, after printing how to get it.
 * In CI without chromium: true, so that {@link launchChromium} fails the tests instead of skipping them.
 */
export const browserTestsEnabled: boolean = present || inCi
if (!browserTestsEnabled) {
  console.warn(
    `\n[browser tests skipped] ${CHROMIUM_PATH} not found. Install Debian's chromium (apt-get install -y chromium) ` +
      'to run the MCP Inspector tests; in CI (MCP_OAUTH_BROWSER_TESTS=required or CI set) they fail instead.\n',
  )
}

export async function launchChromium(): Promise<Browser> {
  if (!present) {
    throw new Error(`${CHROMIUM_PATH} is missing: the browser tests need Debian's chromium package (apt-get update && apt-get install -y chromium; .ci/run does this).`)
  }
  mkdirSync(SCREENSHOT_DIR, { recursive: true })
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: FLAGS, timeout: 30_000 })
}

/** A fresh context whose pages may only reach loopback (the Inspector's page asks for web fonts). */
export async function isolatedContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  context.setDefaultTimeout(20_000)
  context.setDefaultNavigationTimeout(20_000)
  await context.route(/^https?:\/\/(?!127\.0\.0\.1[:/]|localhost[:/])/, (route) => route.abort())
  return context
}

/** Every request the page made, as `METHOD url → status`, for assertions on who talked to whom. */
export function recordTraffic(page: Page): Array<{ method: string; url: URL; status?: number; failure?: string }> {
  const seen: Array<{ method: string; url: URL; status?: number; failure?: string }> = []
  const entries = new Map<object, { method: string; url: URL; status?: number; failure?: string }>()
  page.on('request', (request) => {
    const entry = { method: request.method(), url: new URL(request.url()) }
    entries.set(request, entry)
    seen.push(entry)
  })
  page.on('response', (response) => {
    const entry = entries.get(response.request())
    if (entry) entry.status = response.status()
  })
  page.on('requestfailed', (request) => {
    const entry = entries.get(request)
    if (entry) entry.failure = request.failure()?.errorText ?? 'failed'
  })
  return seen
}

/** Save a screenshot of this step: test-results/inspector/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${SCREENSHOT_DIR}${name}.png`, fullPage: true })
}
