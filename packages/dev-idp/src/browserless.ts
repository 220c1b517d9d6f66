import { CookieJar } from './cookie-jar.js'
import { LOGIN_FORM_ID } from './interactions.js'
import { DevIdpAuthorizationError, type DevIdpUser } from './types.js'

/**
 * Drive the IdP's own pages as a browser would, with a cookie jar: the login form (as `user`), consent
 * (granted automatically), and for the device flow the code confirmation. Ends at the redirect back to the
 * client (its URL), or at the device flow's success page. Backs completeAuthorization() and
 * completeDeviceAuthorization(); recognises the pages of interactions.ts and pages.ts.
 */
export async function driveBrowserless(
  idp: { origin: string; issuerPath: string },
  start: URL,
  user: DevIdpUser,
): Promise<URL | 'device-signed-in'> {
  const jar = new CookieJar()
  let url = start
  let method: 'GET' | 'POST' = 'GET'
  let body: string | undefined
  const isIdpPage = (u: URL) =>
    u.origin === new URL(idp.origin).origin &&
    /^\/(auth|interaction|device)(\/|$)/.test(u.pathname.slice(idp.issuerPath.length)) &&
    u.pathname.startsWith(idp.issuerPath + '/')
  for (let hop = 0; hop < 25; hop++) {
    const headers: Record<string, string> = { accept: 'text/html' }
    const cookie = jar.header(url)
    if (cookie) headers['cookie'] = cookie
    if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded'
    const res = await fetch(url, { method, headers, body, redirect: 'manual' })
    jar.store(url, res)
    method = 'GET'
    body = undefined
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel().catch(() => {})
      const location = res.headers.get('location')
      if (!location) throw new Error(`dev-idp: redirect without Location at ${url.pathname}`)
      const next = new URL(location, url)
      if (isIdpPage(next)) {
        url = next
        continue
      }
      const error = next.searchParams.get('error')
      if (error) {
        throw new DevIdpAuthorizationError(error, next.searchParams.get('error_description') ?? undefined, next)
      }
      return next
    }
    const text = await res.text()
    const step = res.status === 200 ? nextFormPost(text, user) : undefined
    if (!step && res.status === 200 && text.includes('<h1>Signed in</h1>')) return 'device-signed-in'
    if (!step) throw new Error(`dev-idp: authorization did not complete (HTTP ${res.status} at ${url.pathname}): ${textSummary(text)}`)
    url = new URL(step.action.replace(/&amp;/g, '&'), url)
    method = 'POST'
    body = step.body
  }
  throw new Error('dev-idp: too many redirects during authorization')
}

/** The form a browser would submit on this IdP page (login, device confirmation, auto-submit), if any. */
function nextFormPost(text: string, user: DevIdpUser): { action: string; body: string } | undefined {
  if (text.includes(`id="${LOGIN_FORM_ID}"`)) {
    const action = /<form id="dev-idp-login" method="post" action="([^"]+)"/.exec(text)?.[1]
    if (!action) throw new Error('dev-idp: login form without action')
    return { action, body: new URLSearchParams({ username: user.username, password: user.password }).toString() }
  }
  if (text.includes('id="op.deviceConfirmForm"')) {
    const action = /<form id="op\.deviceConfirmForm" method="post" action="([^"]+)"/.exec(text)?.[1]
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(text)?.[1]
    const userCode = /name="user_code" value="([^"]+)"/.exec(text)?.[1]
    if (!action || !xsrf || !userCode) throw new Error('dev-idp: device confirmation form without action, xsrf or user_code')
    return { action, body: new URLSearchParams({ xsrf, user_code: userCode.replace(/&amp;/g, '&'), confirm: 'yes' }).toString() }
  }
  if (text.includes('document.forms[0].submit()')) {
    // An auto-submitting form (the device flow's callback): post its hidden fields, as the browser's script would.
    const form = /<form[^>]*method="post"[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/i.exec(text)
    if (!form?.[1]) throw new Error('dev-idp: auto-submitting page without a form')
    const fields = new URLSearchParams()
    for (const m of form[2]!.matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)) fields.append(m[1]!, m[2]!.replace(/&amp;/g, '&'))
    return { action: form[1], body: fields.toString() }
  }
  return undefined
}

function unescapeHtml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
}

function textSummary(html: string): string {
  const err = /data-error="([^"]*)"/.exec(html)?.[1]
  const desc = /data-error-description="([^"]*)"/.exec(html)?.[1]
  if (err) return unescapeHtml(desc ? `${err}: ${desc}` : err)
  return unescapeHtml(html.replace(/<style[\s\S]*?<\/style>/gi, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300))
}
