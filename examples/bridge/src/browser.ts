/**
 * A scripted browser for the bridge's flows (the demo and the tests): a cookie jar, manual redirects, and the forms a person would fill
 * in — the bridge's consent page (CSRF token included), the dev IdP's login form, the device-flow forms. It
 * stops at the first redirect that leaves the bridge and the IdP (the client's redirect URI) and returns it.
 */
import { CONSENT_FORM_ID } from '@mcp-oauth/bridge'

interface Cookie {
  name: string
  value: string
  path: string
}

export class Jar {
  readonly #cookies = new Map<string, Cookie[]>()

  store(url: URL, res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';')
      const eq = pair!.indexOf('=')
      const name = pair!.slice(0, eq).trim()
      const value = pair!.slice(eq + 1).trim()
      let path = '/'
      let expired = false
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=')
        const key = k!.trim().toLowerCase()
        if (key === 'path') path = v.trim()
        if (key === 'max-age' && Number(v) <= 0) expired = true
        if (key === 'expires' && Date.parse(v) < Date.now()) expired = true
      }
      const list = (this.#cookies.get(url.host) ?? []).filter((c) => !(c.name === name && c.path === path))
      if (!expired) list.push({ name, value, path })
      this.#cookies.set(url.host, list)
    }
  }

  header(url: URL): string | undefined {
    const list = (this.#cookies.get(url.host) ?? []).filter((c) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
    return list.length ? list.map((c) => `${c.name}=${c.value}`).join('; ') : undefined
  }
}

export interface ConsentForm {
  url: URL
  action: URL
  csrf: string
  html: string
}

export interface BrowseOptions {
  jar?: Jar
  username?: string
  password?: string
  /** What to do on the bridge's consent page. Default: allow. */
  consent?: (form: ConsentForm) => 'allow' | 'deny' | 'stop'
  /** At the dev IdP's login page: sign in (default) or press its Cancel link (the user refuses: access_denied). */
  idpLogin?: 'sign-in' | 'cancel'
  /** Called on every hop before it is fetched; return false to stop there (then the URL is returned). */
  onHop?: (url: URL) => boolean | void
  /** Origins that belong to the flow (the bridge, the IdP): redirects elsewhere end the walk. */
  origins: string[]
}

export type BrowseResult =
  | { kind: 'redirect'; url: URL }
  | { kind: 'consent'; form: ConsentForm }
  | { kind: 'page'; status: number; url: URL; html: string }
  | { kind: 'device-done' }
  | { kind: 'stopped'; url: URL }

const decode = (s: string) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>')

/** Walk from `start` like a browser; ends at a redirect out of the flow, a page it cannot fill in, or device success. */
export async function browse(start: string | URL, options: BrowseOptions): Promise<BrowseResult> {
  const jar = options.jar ?? new Jar()
  let url = new URL(start)
  let method: 'GET' | 'POST' = 'GET'
  let body: string | undefined
  for (let hop = 0; hop < 30; hop++) {
    if (options.onHop?.(url) === false) return { kind: 'stopped', url }
    const headers: Record<string, string> = { accept: 'text/html' }
    const cookie = jar.header(url)
    if (cookie) headers['cookie'] = cookie
    if (body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      headers['origin'] = url.origin
      headers['sec-fetch-site'] = 'same-origin'
    }
    const res = await fetch(url, { method, headers, body, redirect: 'manual' })
    jar.store(url, res)
    method = 'GET'
    body = undefined
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel().catch(() => {})
      const next = new URL(res.headers.get('location')!, url)
      if (!options.origins.includes(next.origin)) return { kind: 'redirect', url: next }
      url = next
      continue
    }
    const html = await res.text()
    if (res.status === 200 && html.includes(`id="${CONSENT_FORM_ID}"`)) {
      const action = new URL(decode(/<form id="[^"]+" method="post" action="([^"]+)"/.exec(html)![1]!), url)
      const csrf = decode(/name="csrf" value="([^"]+)"/.exec(html)![1]!)
      const form = { url, action, csrf, html }
      const decision = options.consent?.(form) ?? 'allow'
      if (decision === 'stop') return { kind: 'consent', form }
      url = action
      method = 'POST'
      body = new URLSearchParams({ csrf, decision }).toString()
      continue
    }
    if (res.status === 200 && html.includes('id="dev-idp-login"') && options.idpLogin === 'cancel') {
      url = new URL(decode(/<a href="([^"]+\/abort)">/.exec(html)![1]!), url)
      continue
    }
    if (res.status === 200 && html.includes('id="dev-idp-login"')) {
      url = new URL(decode(/<form id="dev-idp-login" method="post" action="([^"]+)"/.exec(html)![1]!), url)
      method = 'POST'
      body = new URLSearchParams({ username: options.username ?? 'demo', password: options.password ?? 'demo' }).toString()
      continue
    }
    const confirm = /<form id="op\.deviceConfirmForm" method="post" action="([^"]+)"/.exec(html)
    if (res.status === 200 && confirm) {
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!
      const userCode = /name="user_code" value="([^"]+)"/.exec(html)![1]!
      url = new URL(decode(confirm[1]!), url)
      method = 'POST'
      body = new URLSearchParams({ xsrf, user_code: decode(userCode), confirm: 'yes' }).toString()
      continue
    }
    if (res.status === 200 && html.includes('document.forms[0].submit()')) {
      const form = /<form[^>]*method="post"[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/i.exec(html)!
      const fields = new URLSearchParams()
      for (const m of form[2]!.matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)) fields.append(m[1]!, decode(m[2]!))
      url = new URL(decode(form[1]!), url)
      method = 'POST'
      body = fields.toString()
      continue
    }
    if (res.status === 200 && /<h1>(Device connected|Signed in)<\/h1>/.test(html)) return { kind: 'device-done' }
    return { kind: 'page', status: res.status, url, html }
  }
  throw new Error('browse: too many hops')
}

/** The error code and description an error page shows (data attributes of the bridge's and the dev IdP's pages). */
export function pageError(html: string): { error?: string; description?: string } {
  return {
    error: /data-error="([^"]*)"/.exec(html)?.[1],
    description: /data-error-description="([^"]*)"/.exec(html)?.[1],
  }
}
