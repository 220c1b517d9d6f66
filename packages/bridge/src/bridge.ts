/**
 * createBridge(): an OAuth 2.1 authorization server for MCP clients (oidc-provider: CIMD, DCR, PKCE S256,
 * RFC 8707 JWT access tokens with aud = the MCP resource, refresh rotation, RFC 9207 iss, revocation, RFC 8628
 * device flow) that federates the user's login to one upstream IdP client and keeps the upstream tokens sealed
 * server-side for the tools (`upstreamToken`).
 */
import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import * as jose from 'jose'
import type { Configuration, KoaContextWithOIDC, Provider } from 'oidc-provider'
import { BridgeError } from './errors.js'
import { handleCallback, handleInteraction, type InteractionContext } from './interactions.js'
import { createOidcAdapter, sha256 } from './oidc-adapter.js'
import { resolveOptions, type BridgeOptions, type ResolvedOptions } from './options.js'
import { errorPage, escapeHtml, page, sendPage } from './pages.js'
import { isStoreUnavailable, watchedStore, withOutageWatch } from './store-outage.js'
import { createSealer, randomKey, type Sealer } from './seal.js'
import type { BridgeStore } from './store.js'
import { Upstream, UpstreamError, type UpstreamLogin, type UpstreamTokens } from './upstream.js'

/** What `upstreamToken()` reads: structurally the AuthInfo of @mcp-oauth/core and of the MCP SDK. */
export interface BridgeAuthInfo {
  token?: string
  extra?: Record<string, unknown>
}

export type NodeHandler = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void

export interface Bridge {
  /** The bridge's issuer (name it as the resource server's `issuer`). */
  readonly issuer: string
  /** Register this as the redirect URI of the bridge's client at the upstream IdP. */
  readonly callbackUrl: string
  /**
   * node:http / Express / Connect handler: serves the issuer's paths and its RFC 8414 / OpenID metadata; other
   * requests go to `next()` (or get a 404 without one). Mount it before any body parser.
   */
  readonly handler: NodeHandler
  /**
   * Whether `handler` answers this request (the issuer's paths and metadata URLs), decided from its URL alone: for
   * frameworks that hand over the raw request only for the bridge's paths (Fastify: `reply.hijack()`).
   */
  handles(req: Pick<IncomingMessage, 'url'> & { originalUrl?: string }): boolean
  /** Resolves once keys and the provider are ready (the handler waits for it by itself). */
  ready(): Promise<void>
  /**
   * The user's upstream access token for a request the resource server verified (`req.auth` / `extra.authInfo`),
   * refreshed first when it expired and the IdP gave a refresh token. Never sent to the MCP client.
   * Throws {@link BridgeError}.
   */
  upstreamToken(authInfo: BridgeAuthInfo): Promise<string>
  /** The oidc-provider instance (advanced: events, extra configuration). */
  provider(): Promise<Provider>
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]'])
/** oidc-provider's routes (its defaults) and the bridge's own pages. */
const ROOT_ROUTES = ['/auth', '/token', '/reg', '/device', '/jwks', '/me', '/session', '/request', '/backchannel', '/interaction', '/callback', '/.well-known/openid-configuration']
const REFRESH_SKEW = 30

type OidcModule = typeof import('oidc-provider')
let oidcModule: Promise<OidcModule> | undefined

/** Import oidc-provider once, without its "Unsupported runtime" banner on Node 20 (where it works). */
function loadOidcProvider(): Promise<OidcModule> {
  oidcModule ??= (async () => {
    const original = console.warn
    console.warn = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].includes('oidc-provider WARNING: Unsupported runtime')) return
      original.apply(console, args)
    }
    try {
      return await import('oidc-provider')
    } finally {
      console.warn = original
    }
  })()
  return oidcModule
}

async function defaultSigningKey(): Promise<jose.JWK> {
  const { privateKey } = await jose.generateKeyPair('ES256', { extractable: true })
  const jwk = await jose.exportJWK(privateKey)
  return { ...jwk, alg: 'ES256', use: 'sig', kid: `bridge-${(await jose.calculateJwkThumbprint(jwk)).slice(0, 12)}` }
}

/** Redirect URI rules on top of oidc-provider's exact matching: https, loopback http, private-use schemes for native apps. */
function redirectProblem(uri: string, native: boolean, allowList: Array<string | RegExp> | undefined): string | undefined {
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    return 'redirect_uris must be absolute URIs'
  }
  if (url.hash) return 'redirect_uris must not have a fragment'
  if (url.protocol === 'http:' && !LOOPBACK.has(url.hostname)) return 'redirect_uris must use https (http only on loopback: 127.0.0.1, [::1], localhost)'
  if (url.protocol !== 'https:' && url.protocol !== 'http:' && (!native || !url.protocol.includes('.'))) {
    return 'custom-scheme redirect_uris need application_type "native" and a reverse-domain scheme (RFC 8252 §7.1)'
  }
  if (allowList && !allowList.some((p) => (typeof p === 'string' ? p === uri : p.test(uri)))) {
    return 'this redirect_uri is not on the bridge\'s allow-list'
  }
  return undefined
}

function mappedFetch(hostMap: Map<string, string>): typeof fetch {
  return (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    const origin = hostMap.get(url.host.toLowerCase())
    if (origin && url.protocol === 'https:') {
      // Development mapping of a CIMD host to a local origin: loopback is refused by oidc-provider's SSRF
      // dispatcher, so this one request goes without it (timeout and body limits still apply).
      const { dispatcher: _d, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown }
      return fetch(`${origin}${url.pathname}${url.search}`, rest)
    }
    return fetch(input, init)
  }
}

export function createBridge(options: BridgeOptions): Bridge {
  const o: ResolvedOptions = resolveOptions(options)
  const store: BridgeStore = watchedStore(o.store)
  const sealer: Sealer = createSealer(o.encryptionKeys ?? [randomKey()])
  const upstream = new Upstream(o.upstream, o.callbackUrl)
  const refreshing = new Map<string, Promise<UpstreamTokens>>()

  async function saveLogin(login: UpstreamLogin): Promise<void> {
    const id = sha256(login.subject)
    await store.set('bridge-account', id, JSON.stringify(login.claims), o.refreshTokenTtl)
    await saveUpstreamTokens(login.subject, login.tokens)
  }

  async function saveUpstreamTokens(accountId: string, tokens: UpstreamTokens): Promise<void> {
    const now = Math.floor(Date.now() / 1000)
    const ttl = tokens.refresh_token || tokens.expires_at === undefined ? o.refreshTokenTtl : Math.max(60, tokens.expires_at - now)
    await store.set('bridge-upstream-token', sha256(accountId), sealer.seal(JSON.stringify(tokens), accountId), ttl)
  }

  let initialized: Promise<{ provider: Provider; callback: ReturnType<Provider['callback']>; ctx: InteractionContext }> | undefined

  function init() {
    initialized ??= (async () => {
      const { default: ProviderClass, errors: oidcErrors } = await loadOidcProvider()
      const keys = o.signingKeys ?? [await defaultSigningKey()]
      const alg = String(keys[0]!.alg ?? 'ES256')
      const configuration: Configuration = {
        adapter: createOidcAdapter(store, Math.max(o.refreshTokenTtl, 30 * 24 * 3600), sealer, (message) => {
          const err = new oidcErrors.InvalidGrant(message)
          err.error_description = message
          return err
        }),
        clients: [],
        jwks: { keys: keys as never },
        cookies: { keys: o.cookieKeys ?? [randomBytes(32).toString('base64url')] },
        scopes: ['openid', 'offline_access', ...o.scopes],
        claims: { openid: ['sub'], profile: ['name', 'preferred_username', 'picture'], email: ['email', 'email_verified'] },
        async findAccount(_ctx, sub) {
          const raw = await store.get('bridge-account', sha256(sub))
          if (raw === undefined) return undefined
          const claims = JSON.parse(raw) as Record<string, unknown>
          return { accountId: sub, claims: async () => ({ ...claims, sub }) }
        },
        clientDefaults: {
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'none',
          id_token_signed_response_alg: alg as 'ES256',
        },
        // MCP browser clients (the Inspector) call the token and registration endpoints cross-origin.
        clientBasedCORS: () => true,
        responseTypes: ['code'],
        pkce: { required: () => true },
        allowOmittingSingleRegisteredRedirectUri: false,
        // MCP clients refresh without asking for offline_access; public clients get a new refresh token each time
        // and a replayed one revokes the whole grant (oidc-provider's rotation and reuse detection).
        issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
        rotateRefreshToken: () => true,
        expiresWithSession: async () => false,
        extraClientMetadata: {
          properties: ['mcp_oauth_redirect_policy'],
          validator(_ctx, key, _value, metadata) {
            if (key !== 'mcp_oauth_redirect_policy') return
            const native = metadata['application_type'] === 'native'
            for (const uri of (metadata['redirect_uris'] as string[] | undefined) ?? []) {
              const problem = redirectProblem(uri, native, o.allowedRedirectUris)
              if (problem) {
                const err = new oidcErrors.InvalidRedirectUri()
                err.error_description = problem
                throw err
              }
            }
          },
        },
        interactions: { url: async (_ctx, interaction) => `${o.issuerPath}/interaction/${interaction.uid}` },
        async renderError(ctx, out) {
          ctx.type = 'html'
          ctx.set('x-frame-options', 'DENY')
          ctx.set('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
          ctx.body = errorPage(String(out.error), out.error_description ? String(out.error_description) : undefined)
        },
        ttl: {
          AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? o.accessTokenTtl,
          AuthorizationCode: 60,
          DeviceCode: o.transactionTtl,
          IdToken: 3600,
          RefreshToken: o.refreshTokenTtl,
          Grant: o.refreshTokenTtl,
          Session: 24 * 3600,
          Interaction: o.transactionTtl,
        },
        fetch: mappedFetch(o.hostMap),
        features: {
          devInteractions: { enabled: false },
          registration: { enabled: o.registration, initialAccessToken: false, issueRegistrationAccessToken: false },
          revocation: { enabled: true },
          // RFC 9449: a client that sends a DPoP proof to the token endpoint gets a DPoP-bound JWT (cnf.jkt), which
          // the core verifies with a fresh proof on every request; a client without a proof still gets a Bearer token.
          dPoP: { enabled: true },
          userinfo: { enabled: true },
          rpInitiatedLogout: { enabled: false },
          deviceFlow: {
            enabled: o.deviceFlow,
            async userCodeInputSource(ctx, form, _out, err) {
              ctx.body = page('Connect a device', `<h1>Connect a device</h1>${err ? '<p class="err">That code is not valid. Try again.</p>' : '<p>Enter the code your device shows.</p>'}${form}<button type="submit" form="op.deviceInputForm">Continue</button>`)
            },
            async userCodeConfirmSource(ctx, form, client, _deviceInfo, userCode) {
              ctx.body = page('Confirm the device', `<h1>Is this your device?</h1><p><strong>${escapeHtml(client.clientName ?? client.clientId)}</strong> shows the code <code>${escapeHtml(userCode)}</code>. Only continue if it is the code on your screen.</p>${form}<button type="submit" form="op.deviceConfirmForm">Continue</button><button type="submit" form="op.deviceConfirmForm" name="abort" value="yes" class="secondary">Cancel</button>`)
            },
            async successSource(ctx) {
              ctx.body = page('Device connected', '<h1>Device connected</h1><p>You can close this window and return to your device.</p>')
            },
          },
          resourceIndicators: {
            enabled: true,
            defaultResource: async () => (o.resources.length === 1 ? o.resources[0]! : undefined) as string,
            useGrantedResource: async () => true,
            async getResourceServerInfo(_ctx, indicator) {
              if (!o.resources.includes(indicator)) throw new oidcErrors.InvalidTarget('this bridge issues tokens only for its MCP server (resource)')
              return { scope: o.scopes.join(' '), accessTokenFormat: 'jwt', accessTokenTTL: o.accessTokenTtl, jwt: { sign: { alg: alg as 'ES256' } } }
            },
          },
          clientIdMetadataDocument: { enabled: o.cimd, ack: 'draft-02' },
        },
      }
      const provider = new ProviderClass(o.issuer, configuration)
      // Behind a TLS-terminating proxy: https cookies and URLs from X-Forwarded-Proto / -Host.
      if (o.trustProxy) provider.proxy = true
      provider.on('server_error', (_ctx: KoaContextWithOIDC, err: Error) => {
        console.error('[mcp-oauth/bridge] server_error:', err.name, err.message)
      })
      const ctx: InteractionContext = { provider, options: o, store, upstream, saveLogin }
      return { provider, callback: provider.callback(), ctx }
    })()
    return initialized
  }

  const WK_OIDC = '/.well-known/openid-configuration'
  const WK_OAUTH = '/.well-known/oauth-authorization-server'

  /** The path relative to the issuer, or undefined when the request is not for the bridge. */
  function relative(pathname: string): string | undefined {
    if (pathname === WK_OAUTH + o.issuerPath || pathname === WK_OIDC + o.issuerPath) return WK_OIDC
    if (o.issuerPath && pathname !== o.issuerPath && !pathname.startsWith(`${o.issuerPath}/`)) return undefined
    const rel = pathname.slice(o.issuerPath.length) || '/'
    if (rel === WK_OAUTH) return WK_OIDC
    // An issuer at the origin's root shares every path with the app: claim only the bridge's own routes.
    if (!o.issuerPath && !ROOT_ROUTES.some((r) => rel === r || rel.startsWith(`${r}/`))) return undefined
    return rel
  }

  async function dispatch(req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): Promise<void> {
    const url = new URL((req as { originalUrl?: string }).originalUrl ?? req.url ?? '/', 'http://bridge.invalid')
    const rel = relative(url.pathname)
    if (rel === undefined) {
      if (next) next()
      else sendPage(res, 404, errorPage('not_found', 'There is no such page.'))
      return
    }
    await withOutageWatch(res, async () => {
      const { callback, ctx } = await init()
      if (rel.startsWith('/interaction/')) return handleInteraction(ctx, req, res, rel)
      if (rel === '/callback') return handleCallback(ctx, req, res)
      req.url = rel + url.search
      ;(req as IncomingMessage & { originalUrl?: string }).originalUrl = o.issuerPath + rel + url.search
      await callback(req, res)
    })
  }

  const handler: NodeHandler = (req, res, next) => {
    dispatch(req, res, next).catch((err: unknown) => {
      console.error('[mcp-oauth/bridge] request failed:', (err as Error)?.name, (err as Error)?.message)
      // A store outage is turned into 503 + Retry-After by the watch (the status is 5xx either way here).
      if (!res.headersSent) sendPage(res, isStoreUnavailable(err) ? 503 : 500, errorPage(isStoreUnavailable(err) ? 'temporarily_unavailable' : 'server_error', 'The sign-in service failed. Try again.'))
      else res.destroy()
    })
  }

  async function upstreamTokens(accountId: string): Promise<UpstreamTokens | undefined> {
    const sealed = await store.get('bridge-upstream-token', sha256(accountId))
    const text = sealed === undefined ? undefined : sealer.open(sealed, accountId)
    return text === undefined ? undefined : (JSON.parse(text) as UpstreamTokens)
  }

  return {
    issuer: o.issuer,
    callbackUrl: o.callbackUrl,
    handler,
    handles: (req) => relative(new URL(req.originalUrl ?? req.url ?? '/', 'http://bridge.invalid').pathname) !== undefined,
    async ready() {
      await init()
    },
    async provider() {
      return (await init()).provider
    },
    async upstreamToken(authInfo) {
      const extra = (authInfo?.extra ?? {}) as { issuer?: unknown; subject?: unknown; claims?: { iss?: unknown; sub?: unknown } }
      const issuer = extra.issuer ?? extra.claims?.iss
      const subject = extra.subject ?? extra.claims?.sub
      if (issuer !== o.issuer || typeof subject !== 'string') {
        throw new BridgeError('ERR_BRIDGE_FOREIGN_TOKEN', 'upstreamToken() needs the AuthInfo of a token this bridge issued (req.auth after @mcp-oauth verified it)')
      }
      const tokens = await upstreamTokens(subject)
      if (!tokens) throw new BridgeError('ERR_BRIDGE_NO_UPSTREAM_TOKEN', 'no upstream token is stored for this user: they must sign in again')
      const now = Math.floor(Date.now() / 1000)
      if (tokens.expires_at === undefined || tokens.expires_at - REFRESH_SKEW > now) return tokens.access_token
      if (!tokens.refresh_token) throw new BridgeError('ERR_BRIDGE_UPSTREAM_EXPIRED', 'the upstream token expired and the identity provider gave no refresh token: the user must sign in again')
      let pending = refreshing.get(subject)
      if (!pending) {
        pending = upstream.refresh(tokens.refresh_token).then(async (fresh) => {
          await saveUpstreamTokens(subject, fresh)
          return fresh
        })
        refreshing.set(subject, pending)
        pending.finally(() => refreshing.delete(subject)).catch(() => {})
      }
      try {
        return (await pending).access_token
      } catch (err) {
        const e = err as UpstreamError
        if (e instanceof UpstreamError && e.error === 'temporarily_unavailable') throw new BridgeError('ERR_BRIDGE_UPSTREAM_UNAVAILABLE', e.description, { cause: err })
        throw new BridgeError('ERR_BRIDGE_UPSTREAM_EXPIRED', `the upstream token expired and could not be refreshed: ${e.message}`, { cause: err })
      }
    },
  }
}

