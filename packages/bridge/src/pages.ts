/**
 * The bridge's HTML: the consent page, the device-flow pages and error pages. Everything shown is escaped;
 * pages are never cached, never framed, and run no script.
 */
import type { ServerResponse } from 'node:http'

export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
}

const STYLE =
  'body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;padding:40px 16px;color:#111}' +
  '.box{max-width:460px;margin:0 auto;background:#fff;border-radius:8px;padding:24px 28px;box-shadow:0 1px 4px rgba(0,0,0,.15)}' +
  'h1{font-size:1.3em;margin:0 0 12px}dl{margin:12px 0}dt{font-size:.8em;color:#666;margin-top:8px}dd{margin:2px 0 0;word-break:break-all}' +
  'button{margin-top:12px;width:100%;padding:10px;font-size:1em;border:0;border-radius:4px;background:#2563eb;color:#fff;cursor:pointer}' +
  'button.secondary{background:#e5e7eb;color:#111}input[type=text]{width:100%;box-sizing:border-box;padding:8px;font-size:1.1em}' +
  '.err{color:#b91c1c}.muted{color:#666;font-size:.85em}code{background:#eee;padding:1px 4px;border-radius:3px}'

export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  pragma: 'no-cache',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  // same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on the consent form's own post, and
  // browsers without Fetch Metadata would then be refused as cross-site. Nothing leaves for other origins either way.
  'referrer-policy': 'same-origin',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
} as const

export function page(title: string, body: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><div class="box">${body}</div></body></html>`
}

export function sendPage(res: ServerResponse, status: number, html: string): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  res.writeHead(status, { ...PAGE_HEADERS, 'content-length': Buffer.byteLength(html) })
  res.end(html)
}

/** An error page: the OAuth error code and a description, both escaped, in data attributes for tests too. */
export function errorPage(error: string, description?: string): string {
  return page(
    'Sign-in failed',
    `<h1>Sign-in failed</h1><p class="err" data-error="${escapeHtml(error)}"><code>${escapeHtml(error)}</code></p>${
      description ? `<p data-error-description="${escapeHtml(description)}">${escapeHtml(description)}</p>` : ''
    }<p class="muted">You can close this window and start again from your application.</p>`,
  )
}

export interface ConsentView {
  action: string
  csrf: string
  clientName: string | undefined
  clientId: string
  redirectUri: string | undefined
  scopes: string[]
  resource: string | undefined
  upstreamName: string
  /** The user is already signed in at the bridge: no trip to the upstream. */
  signedIn: boolean
  title: string
}

/** Marker for scripted drivers (tests, the demo). */
export const CONSENT_FORM_ID = 'mcp-oauth-bridge-consent'

export function consentPage(v: ConsentView): string {
  const name = v.clientName && v.clientName !== v.clientId ? v.clientName : undefined
  const where = v.redirectUri ? `<dt>Will send you back to</dt><dd><code>${escapeHtml(v.redirectUri)}</code></dd>` : '<dt>Device</dt><dd>a device or command-line client (device flow)</dd>'
  return page(
    `Allow access? — ${v.title}`,
    `<h1>Allow ${name ? `<strong>${escapeHtml(name)}</strong>` : 'this application'} to use ${escapeHtml(v.title)}?</h1>
<p class="muted">Only continue if you started this from an application you trust. The name is what the application says about itself.</p>
<dl>
<dt>Application (client id)</dt><dd><code>${escapeHtml(v.clientId)}</code></dd>
${where}
<dt>Access requested</dt><dd>${v.scopes.length ? v.scopes.map((s) => `<code>${escapeHtml(s)}</code>`).join(' ') : '<em>no specific scope</em>'}</dd>
${v.resource ? `<dt>For</dt><dd><code>${escapeHtml(v.resource)}</code></dd>` : ''}
</dl>
<form id="${CONSENT_FORM_ID}" method="post" action="${escapeHtml(v.action)}">
<input type="hidden" name="csrf" value="${escapeHtml(v.csrf)}">
<button type="submit" name="decision" value="allow">${v.signedIn ? 'Allow' : `Allow and continue to ${escapeHtml(v.upstreamName)}`}</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</form>`,
  )
}
