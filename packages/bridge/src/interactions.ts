/**
 * The bridge's own pages, between oidc-provider and the upstream IdP:
 *
 *   GET  /interaction/:uid           consent page (client, redirect URI, scopes), with a one-time CSRF token
 *   POST /interaction/:uid/confirm   allow → 303 to the upstream (new state, PKCE, nonce); deny → error=access_denied
 *   GET  /callback                   the upstream redirect URI: state redeemed once, code exchanged, identity read,
 *                                    upstream tokens sealed; then 303 to …/complete with a one-time ticket
 *   GET  /interaction/:uid/complete  back on the interaction's own cookie path: the ticket must belong to this
 *                                    browser's interaction; the grant is written and oidc-provider resumes
 *
 * The hop through `complete` binds the upstream result to the browser that started the sign-in (the interaction
 * cookie only travels to /interaction/:uid), so a callback URL replayed in another browser leads nowhere.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Provider } from 'oidc-provider'
import { sha256 } from './oidc-adapter.js'
import { consentPage, errorPage, sendPage } from './pages.js'
import type { ResolvedOptions } from './options.js'
import type { BridgeStore } from './store.js'
import { UpstreamError, type Upstream, type UpstreamLogin } from './upstream.js'

export interface InteractionContext {
  provider: Provider
  options: ResolvedOptions
  store: BridgeStore
  upstream: Upstream
  /** Keep the user's identity and upstream tokens (sealed). */
  saveLogin(login: UpstreamLogin): Promise<void>
}

interface Transaction {
  uid: string
  state: string
  codeVerifier?: string
  nonce?: string
  mcpScopes: string[]
}

interface Ticket {
  uid: string
  accountId?: string
  /** MCP scopes the upstream's grant still covers (scopeMap). */
  allowedScopes?: string[]
  error?: string
  errorDescription?: string
}

const TICKET_TTL = 120
const MAX_FORM_BYTES = 8 * 1024
const OIDC_SCOPES = new Set(['openid', 'offline_access'])

class BodyTooLarge extends Error {}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) return new URLSearchParams()
  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of req) {
    total += (chunk as Buffer).length
    if (total > MAX_FORM_BYTES) throw new BodyTooLarge()
    chunks.push(chunk as Buffer)
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(sha256(a))
  const y = Buffer.from(sha256(b))
  return timingSafeEqual(x, y)
}

type Details = Awaited<ReturnType<Provider['interactionDetails']>>

function requestedScopes(details: Details): string[] {
  return String((details.params as Record<string, unknown>)['scope'] ?? '').split(' ').filter(Boolean)
}

function requestedResource(details: Details, options: ResolvedOptions): string | undefined {
  const raw = (details.params as Record<string, unknown>)['resource']
  const value = Array.isArray(raw) ? raw[0] : raw
  if (typeof value === 'string' && value) return value
  return options.resources.length === 1 ? options.resources[0] : undefined
}

/** Is this a cross-site form post? (Origin / Sec-Fetch-Site, when the browser sends them.) */
function crossSite(req: IncomingMessage, origin: string): boolean {
  // Fetch Metadata, when the browser sends it, decides: the Origin of a form post can be "null" for reasons that
  // are not cross-site (Chromium sends that from a page with Referrer-Policy: no-referrer).
  const site = req.headers['sec-fetch-site']
  if (typeof site === 'string') return site !== 'same-origin'
  const from = req.headers.origin
  return typeof from === 'string' && from !== origin
}

export async function handleInteraction(ctx: InteractionContext, req: IncomingMessage, res: ServerResponse, rel: string): Promise<void> {
  const m = /^\/interaction\/([A-Za-z0-9_-]{1,64})(\/confirm|\/complete)?$/.exec(rel.split('?')[0]!)
  if (!m?.[1]) {
    sendPage(res, 404, errorPage('not_found', 'There is no such page.'))
    return
  }
  const uid = m[1]
  const action = m[2]
  const { provider, options, store } = ctx
  let details: Details
  try {
    details = await provider.interactionDetails(req, res)
  } catch {
    sendPage(res, 400, errorPage('invalid_request', 'This sign-in expired or was started in another browser. Start again from your application.'))
    return
  }
  if (details.uid !== uid) {
    sendPage(res, 400, errorPage('invalid_request', 'This sign-in does not belong to this browser. Start again from your application.'))
    return
  }

  if (action === undefined) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET' }).end()
      return
    }
    await showConsent(ctx, res, details)
    return
  }

  if (action === '/confirm') {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end()
      return
    }
    if (crossSite(req, options.issuerUrl.origin)) {
      sendPage(res, 403, errorPage('access_denied', 'The consent form was submitted from another site. Nothing was allowed.'))
      return
    }
    let form: URLSearchParams
    try {
      form = await readForm(req)
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        sendPage(res, 413, errorPage('invalid_request', 'The form is too large.'))
        return
      }
      throw err
    }
    const expected = await store.take('bridge-csrf', uid)
    const given = form.get('csrf') ?? ''
    if (!expected || !given || !sameToken(expected, sha256(given))) {
      sendPage(res, 403, errorPage('access_denied', 'The consent form expired or did not come from this page. Nothing was allowed; reload the page to try again.'))
      return
    }
    if (form.get('decision') !== 'allow') {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The user denied access' }, { mergeWithLastSubmission: false })
      return
    }
    const accountId = details.session?.accountId
    if (details.prompt.name !== 'login' && accountId) {
      // Already signed in at the bridge (same browser session): consent for this client, no upstream trip.
      const grantId = await writeGrant(ctx, details, accountId, undefined)
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true })
      return
    }
    const mcpScopes = requestedScopes(details).filter((s) => options.scopes.includes(s))
    let begun: Awaited<ReturnType<Upstream['begin']>>
    try {
      begun = await ctx.upstream.begin(mcpScopes)
    } catch (err) {
      const e = err instanceof UpstreamError ? err : new UpstreamError('server_error', 'the sign-in could not start')
      await provider.interactionFinished(req, res, { error: e.error, error_description: e.description }, { mergeWithLastSubmission: false })
      return
    }
    const transaction: Transaction = { uid, state: begun.transaction.state, mcpScopes }
    if (begun.transaction.codeVerifier) transaction.codeVerifier = begun.transaction.codeVerifier
    if (begun.transaction.nonce) transaction.nonce = begun.transaction.nonce
    await store.set('bridge-txn', sha256(begun.transaction.state), JSON.stringify(transaction), options.transactionTtl)
    res.writeHead(303, { location: begun.url.href, 'cache-control': 'no-store', 'content-length': '0' }).end()
    return
  }

  // /complete
  const ticketId = new URL(req.url ?? '/', 'http://bridge.invalid').searchParams.get('ticket') ?? ''
  const raw = ticketId ? await store.take('bridge-ticket', sha256(ticketId)) : undefined
  const ticket = raw ? (JSON.parse(raw) as Ticket) : undefined
  if (!ticket || ticket.uid !== uid) {
    sendPage(res, 400, errorPage('invalid_request', 'This sign-in link is not valid (already used, expired, or from another sign-in). Start again from your application.'))
    return
  }
  if (ticket.error || !ticket.accountId) {
    await provider.interactionFinished(req, res, { error: ticket.error ?? 'server_error', error_description: ticket.errorDescription ?? 'sign-in failed' }, { mergeWithLastSubmission: false })
    return
  }
  const grantId = await writeGrant(ctx, details, ticket.accountId, ticket.allowedScopes, true)
  await provider.interactionFinished(req, res, { login: { accountId: ticket.accountId }, consent: { grantId } }, { mergeWithLastSubmission: false })
}

async function showConsent(ctx: InteractionContext, res: ServerResponse, details: Details): Promise<void> {
  const { provider, options, store } = ctx
  const params = details.params as Record<string, unknown>
  const clientId = String(params['client_id'] ?? '')
  const client = await provider.Client.find(clientId).catch(() => undefined)
  if (!client) {
    sendPage(res, 400, errorPage('invalid_client', 'The application is not registered (any more). Start again from your application.'))
    return
  }
  const csrf = randomBytes(32).toString('base64url')
  await store.set('bridge-csrf', details.uid, sha256(csrf), options.transactionTtl)
  const redirectUri = typeof params['redirect_uri'] === 'string' ? params['redirect_uri'] : undefined
  sendPage(res, 200, consentPage({
    action: `${options.issuerPath}/interaction/${details.uid}/confirm`,
    csrf,
    clientName: client.clientName,
    clientId,
    redirectUri,
    scopes: requestedScopes(details),
    resource: requestedResource(details, options),
    upstreamName: ctx.upstream.name,
    signedIn: details.prompt.name !== 'login' && details.session?.accountId !== undefined,
    title: options.title,
  }))
}

/** The grant the user just consented to: the requested OIDC scopes, and the requested MCP scopes for the resource. */
async function writeGrant(ctx: InteractionContext, details: Details, accountId: string, allowedScopes: string[] | undefined, fresh = false): Promise<string> {
  const { provider, options } = ctx
  const clientId = String((details.params as Record<string, unknown>)['client_id'])
  const existing = !fresh && details.grantId ? await provider.Grant.find(details.grantId) : undefined
  const grant = existing && existing.accountId === accountId && existing.clientId === clientId ? existing : new provider.Grant({ accountId, clientId })
  const requested = requestedScopes(details)
  const mcpScopes = requested.filter((s) => options.scopes.includes(s) && (!allowedScopes || allowedScopes.includes(s)))
  // oidc-provider checks every scope it knows at the OP level too (MCP scopes are listed in its `scopes`).
  const opScopes = [...requested.filter((s) => OIDC_SCOPES.has(s)), ...mcpScopes]
  if (opScopes.length) grant.addOIDCScope(opScopes.join(' '))
  const resource = requestedResource(details, options)
  if (resource && mcpScopes.length) grant.addResourceScope(resource, mcpScopes.join(' '))
  return grant.save()
}

/** GET /callback — where the upstream sends the browser back. */
export async function handleCallback(ctx: InteractionContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET') {
    res.writeHead(405, { allow: 'GET' }).end()
    return
  }
  const { options, store } = ctx
  const params = new URL(req.url ?? '/', 'http://bridge.invalid').searchParams
  const state = params.get('state')
  const raw = state ? await store.take('bridge-txn', sha256(state)) : undefined
  if (!raw) {
    // Unknown, forged, replayed or expired state: no client can be told safely.
    const upstreamError = params.get('error')
    sendPage(res, 400, errorPage(
      upstreamError ? 'access_denied' : 'invalid_request',
      'This sign-in is unknown or expired (its state does not match any sign-in in progress). Start again from your application.',
    ))
    return
  }
  const transaction = JSON.parse(raw) as Transaction
  const ticket: Ticket = { uid: transaction.uid }
  try {
    const upstreamTxn = { state: transaction.state, ...(transaction.codeVerifier ? { codeVerifier: transaction.codeVerifier } : {}), ...(transaction.nonce ? { nonce: transaction.nonce } : {}) }
    const login = await ctx.upstream.complete(params, upstreamTxn)
    await ctx.saveLogin(login)
    ticket.accountId = login.subject
    const map = options.upstream.scopeMap
    if (map && login.tokens.scope !== undefined) {
      const granted = new Set(login.tokens.scope.split(/[\s,]+/).filter(Boolean))
      ticket.allowedScopes = options.scopes.filter((s) => (map[s] ?? []).every((u) => granted.has(u)))
    }
  } catch (err) {
    const e = err instanceof UpstreamError ? err : new UpstreamError('server_error', 'the sign-in failed')
    ticket.error = e.error
    ticket.errorDescription = e.description
  }
  const id = randomBytes(32).toString('base64url')
  await store.set('bridge-ticket', sha256(id), JSON.stringify(ticket), TICKET_TTL)
  const location = `${options.issuerPath}/interaction/${transaction.uid}/complete?ticket=${id}`
  res.writeHead(303, { location, 'cache-control': 'no-store', 'content-length': '0', 'referrer-policy': 'no-referrer' }).end()
}
