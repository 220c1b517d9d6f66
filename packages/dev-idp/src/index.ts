/**
 * @mcp-oauth/dev-idp — a real OAuth 2.1 / OpenID Connect authorization server (oidc-provider) for the
 * demo, the examples and the test suite. NOT for production: users, clients and tokens live in memory.
 *
 * What it does: authorization code + PKCE (S256 only), refresh tokens, dynamic client registration
 * (RFC 7591, open), Client ID Metadata Documents, resource indicators (RFC 8707) with RFC 9068 JWT
 * access tokens, opaque tokens, introspection (RFC 7662), revocation (RFC 7009), client credentials,
 * device authorization (RFC 8628), RFC 8414 metadata — plus test hooks: failure injection, request
 * counters, key rotation, direct token minting and a browserless login.
 */
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import * as jose from 'jose'
import type { Provider, ClientMetadata, Configuration, KoaContextWithOIDC } from 'oidc-provider'
import initializeKeystore from 'oidc-provider/lib/helpers/initialize_keystore.js'
import { MemoryStore, createAdapterFactory, createLoopbackCimdResolver, isLoopbackHttpClientId, CimdError } from './adapter.js'
import { CookieJar } from './cookie-jar.js'
import { BodyTooLarge, escapeHtml, page, readBody, sendJson } from './http.js'
import { LOGIN_FORM_ID, errorPage, handleInteraction } from './interactions.js'

export type { Provider, ClientMetadata } from 'oidc-provider'

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

export type SigningAlg = 'ES256' | 'RS256' | 'PS256' | 'EdDSA'

export interface DevIdpUser {
  id: string
  username: string
  password: string
  /** Extra OIDC claims (name, email, …) released by the profile/email scopes. */
  claims?: Record<string, unknown>
}

export interface DevIdpOptions {
  /** Port to listen on. Default 0 (a random free port). */
  port?: number
  /** Interface to listen on. Default '127.0.0.1'. */
  host?: string
  /** Path the provider is mounted under, e.g. '/tenant-a' → issuer http://127.0.0.1:PORT/tenant-a. Default ''. */
  issuerPath?: string
  /** Scopes the IdP knows. Default ['openid','profile','email','offline_access','mcp:read','mcp:tools','mcp:admin']. */
  scopes?: string[]
  /** Users who can sign in. Default one user: demo / demo (id 'demo-user'). */
  users?: DevIdpUser[]
  /** Access token lifetime in seconds. Default 3600. */
  accessTokenTtl?: number
  /** Signing algorithm of access tokens and ID tokens. Default 'ES256'. */
  signingAlg?: SigningAlg
  /** Extra pre-registered clients (oidc-provider client metadata). */
  clients?: ClientMetadata[]
  /** Also serve RFC 8414 /.well-known/oauth-authorization-server (same JSON as openid-configuration). Default true. */
  serveOAuthMetadata?: boolean
  /**
   * When refresh tokens are issued: `'offline_access'` (default, the OIDC rule most IdPs follow: only when the
   * client asked for `offline_access`) or `'always'`. Note that the MCP SDK 1.32 client refreshes instead of
   * re-authorizing when it holds a refresh token, so with `'always'` it cannot step up to wider scopes.
   */
  refreshTokens?: 'offline_access' | 'always'
  /** Which resource indicators (RFC 8707) may be requested. Default: any absolute http(s) URL without a fragment. */
  allowedResource?: (resource: string) => boolean
  /** Secret of the pre-registered 'mcp-resource-server' client. Default: random per start. */
  resourceServerClientSecret?: string
  /** Secret of the pre-registered 'mcp-service' client. Default: random per start. */
  serviceClientSecret?: string
}

export type FailureMode =
  | { kind: 'ok' }
  | { kind: 'status'; status: number }
  | { kind: 'hang' }
  | { kind: 'delay'; ms: number }
  | { kind: 'garbage' }
  | { kind: 'huge'; bytes: number }
  | { kind: 'json'; body: unknown }

export type FailableEndpoint = 'jwks' | 'introspection' | 'discovery' | 'token' | 'all'
export type CountedEndpoint = 'jwks' | 'introspection' | 'discovery' | 'token' | 'registration' | 'authorization' | 'total'

export interface IssueAccessTokenOptions {
  /** Audience. With a resource the default format is 'jwt'. */
  resource?: string
  /** Default: every non-OpenID scope the IdP knows (e.g. mcp:read mcp:tools mcp:admin). [] gives no scope claim. */
  scopes?: string[]
  /** Default: the first user's id ('demo-user'). */
  subject?: string
  /** Default 'mcp-dev-client'. Opaque tokens need a client the IdP knows; JWTs take any string. */
  clientId?: string
  /** Lifetime in seconds. Default accessTokenTtl. */
  ttl?: number
  /** Default 'jwt' when resource is given, else 'opaque'. */
  format?: 'jwt' | 'opaque'
  /** JWT: merged into the payload last (may override standard claims, to forge bad tokens).
   *  Opaque: returned by introspection next to (not over) the standard members. */
  extraClaims?: Record<string, unknown>
}

export interface DevIdp {
  /** e.g. http://127.0.0.1:54321 (no trailing slash), or with the issuerPath. */
  readonly issuer: string
  /** Origin, http://127.0.0.1:PORT. */
  readonly url: string
  readonly port: number
  /** The oidc-provider instance (stable for the life of the IdP, also across rotateKeys()). */
  readonly provider: Provider
  /** Confidential client 'mcp-resource-server' (client_secret_basic or client_secret_post) for RFC 7662 introspection and RFC 7009 revocation by resource servers. */
  readonly resourceServerClient: { clientId: string; clientSecret: string }
  /** Confidential client 'mcp-service' for the client credentials grant. */
  readonly serviceClient: { clientId: string; clientSecret: string }
  /** Public client 'mcp-dev-client' (native; redirect http://127.0.0.1/callback or http://localhost/callback on any port; auth code, refresh, device code). */
  readonly publicClient: { clientId: string }
  close(): Promise<void>
  /**
   * Drive a browserless login + consent: GET the authorization URL, sign in as the user (default the
   * first user, 'demo'), grant every requested scope, follow redirects with a cookie jar, and return the
   * final redirect URL (redirect_uri?code=…&state=…&iss=…). Throws DevIdpAuthorizationError if the IdP
   * redirects back with error=, or an Error if the flow stops on an IdP page.
   */
  completeAuthorization(authorizationUrl: string | URL, opts?: { username?: string }): Promise<URL>
  /**
   * Device flow (RFC 8628), browserless: open `verification_uri_complete`, confirm the code, log in as the user
   * (default the first) and consent. Resolves when the IdP shows its success page; the device then polls the
   * token endpoint as usual.
   */
  completeDeviceAuthorization(verificationUriComplete: string | URL, opts?: { username?: string }): Promise<void>
  /** Mint an access token directly (tests). 'jwt': RFC 9068, aud = resource. 'opaque': valid at introspection. */
  issueAccessToken(opts: IssueAccessTokenOptions): Promise<string>
  /** Client credentials grant through the real token endpoint, as serviceClient. */
  clientCredentials(opts: { resource?: string; scope?: string }): Promise<{
    access_token: string
    token_type: string
    expires_in: number
    scope?: string
  }>
  /** Revoke a token through the real revocation endpoint, as resourceServerClient (JWT access tokens too: introspection then reports them inactive). */
  revoke(token: string): Promise<void>
  /** Rotate the signing key: a new key (same alg unless given) signs from now on; keepOld (default true) keeps the old public keys in the JWKS. */
  rotateKeys(opts?: { alg?: SigningAlg; keepOld?: boolean }): Promise<void>
  /** The signing private key currently in use as a JWK, and its kid. */
  currentSigningKey(): { kid: string; alg: string; privateJwk: JsonWebKey }
  /**
   * Failure injection at the HTTP level. 'discovery' covers every well-known metadata URL; 'all' covers
   * every request to the IdP (a specific endpoint's mode wins over 'all'). { kind: 'ok' } clears it.
   * 'hang' holds the request until heal() (then it is answered normally) or close() (then its connection is destroyed).
   */
  fail(endpoint: FailableEndpoint, mode: FailureMode): void
  /** Restore all endpoints and release hung requests. */
  heal(): void
  /**
   * Serve the Client ID Metadata Documents of `https://<host>/…` client ids from a local http origin, as if
   * `host` resolved to it with TLS terminated in front (like an /etc/hosts entry). The document is still
   * fetched for real and its `client_id` must still equal the https URL. For demos and tests only: the MCP
   * SDK client accepts only https metadata URLs.
   */
  mapClientMetadataHost(host: string, origin: string): void
  /** Requests seen per endpoint since start or resetCounts(). */
  readonly counts: Record<CountedEndpoint, number>
  resetCounts(): void
}

/** Thrown by completeAuthorization() when the IdP redirects back to the client with error=. */
export class DevIdpAuthorizationError extends Error {
  override readonly name = 'DevIdpAuthorizationError'
  constructor(
    readonly error: string,
    readonly errorDescription: string | undefined,
    readonly redirectUrl: URL,
  ) {
    super(`authorization failed: ${error}${errorDescription ? `: ${errorDescription}` : ''}`)
  }
}

// ---------------------------------------------------------------------------------------------
// Defaults and helpers
// ---------------------------------------------------------------------------------------------

export const DEFAULT_SCOPES = ['openid', 'profile', 'email', 'offline_access', 'mcp:read', 'mcp:tools', 'mcp:admin']
export const DEFAULT_USER: DevIdpUser = {
  id: 'demo-user',
  username: 'demo',
  password: 'demo',
  claims: { name: 'Demo User', email: 'demo@example.com' },
}
const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'address', 'phone', 'offline_access'])
const SIGNING_ALGS: readonly SigningAlg[] = ['ES256', 'RS256', 'PS256', 'EdDSA']
const FAILABLE = new Set<FailableEndpoint>(['jwks', 'introspection', 'discovery', 'token', 'all'])
const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'
const WK_OIDC = '/.well-known/openid-configuration'
const WK_OAUTH = '/.well-known/oauth-authorization-server'
const MAX_RETAINED_KEYS = 10

function defaultAllowedResource(resource: string): boolean {
  let url: URL
  try {
    url = new URL(resource)
  } catch {
    return false
  }
  return (url.protocol === 'https:' || url.protocol === 'http:') && !resource.includes('#')
}

type OidcModule = typeof import('oidc-provider')
let oidcModule: Promise<OidcModule> | undefined

/** Import oidc-provider once, hiding its "Unsupported runtime" banner on Node 20 (it works there). */
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

interface SigningKey {
  kid: string
  alg: SigningAlg
  privateJwk: jose.JWK
  publicJwk: jose.JWK
}

async function generateSigningKey(alg: SigningAlg): Promise<SigningKey> {
  const { privateKey, publicKey } = await jose.generateKeyPair(alg, { extractable: true })
  const privateJwk = await jose.exportJWK(privateKey)
  const publicJwk = await jose.exportJWK(publicKey)
  const kid = `${alg.toLowerCase()}-${(await jose.calculateJwkThumbprint(publicJwk)).slice(0, 16)}`
  Object.assign(privateJwk, { kid, alg, use: 'sig' })
  Object.assign(publicJwk, { kid, alg, use: 'sig' })
  return { kid, alg, privateJwk, publicJwk }
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1'
  if (host === '::') return '[::1]'
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
}

function normalizeIssuerPath(path: string): string {
  if (path === '' || path === '/') return ''
  if (!path.startsWith('/') || /[?#\s]/.test(path)) {
    throw new TypeError(`dev-idp: issuerPath must look like '/tenant-a' (got ${JSON.stringify(path)})`)
  }
  return path.replace(/\/+$/, '')
}

function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest())
}

function basicAuth(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`
}

function isJwtShaped(token: string): boolean {
  try {
    jose.decodeProtectedHeader(token)
    return token.split('.').length === 3
  } catch {
    return false
  }
}

function validateFailureMode(mode: FailureMode): void {
  switch (mode?.kind) {
    case 'ok':
    case 'hang':
    case 'garbage':
    case 'json':
      return
    case 'status':
      if (!Number.isInteger(mode.status) || mode.status < 200 || mode.status > 599) {
        throw new TypeError('dev-idp: fail(…, { kind: "status", status }) needs an integer status 200–599')
      }
      return
    case 'delay':
      if (!(mode.ms >= 0)) throw new TypeError('dev-idp: fail(…, { kind: "delay", ms }) needs ms >= 0')
      return
    case 'huge':
      if (!(mode.bytes >= 0)) throw new TypeError('dev-idp: fail(…, { kind: "huge", bytes }) needs bytes >= 0')
      return
    default:
      throw new TypeError(`dev-idp: unknown failure mode ${JSON.stringify(mode)}`)
  }
}

/** A re-readable copy of a request whose body has already been consumed (handed to oidc-provider). */
function replayRequest(req: IncomingMessage, body: Buffer): IncomingMessage {
  const replay = new Readable({ read() {} })
  replay.push(body)
  replay.push(null)
  for (const prop of ['headers', 'rawHeaders', 'method', 'url', 'httpVersion', 'httpVersionMajor', 'httpVersionMinor', 'socket', 'trailers', 'rawTrailers'] as const) {
    Object.defineProperty(replay, prop, { value: req[prop], writable: true, configurable: true, enumerable: true })
  }
  Object.defineProperty(replay, 'connection', { value: req.socket, writable: true, configurable: true })
  Object.defineProperty(replay, 'complete', { value: true, writable: true, configurable: true })
  return replay as unknown as IncomingMessage
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

// ---------------------------------------------------------------------------------------------
// startDevIdp
// ---------------------------------------------------------------------------------------------

export async function startDevIdp(options: DevIdpOptions = {}): Promise<DevIdp> {
  const oidc = await loadOidcProvider()
  const ProviderClass = oidc.default
  const { errors } = oidc

  const host = options.host ?? '127.0.0.1'
  const issuerPath = normalizeIssuerPath(options.issuerPath ?? '')
  const scopes = [...new Set(options.scopes ?? DEFAULT_SCOPES)]
  if (!scopes.includes('openid')) scopes.unshift('openid')
  const resourceScopes = scopes.filter((s) => !OIDC_SCOPES.has(s))
  const users = options.users ?? [DEFAULT_USER]
  const firstUser = users[0]
  if (!firstUser) throw new TypeError('dev-idp: users must contain at least one user')
  const usersById = new Map(users.map((u) => [u.id, u]))
  const usersByName = new Map(users.map((u) => [u.username, u]))
  const accessTokenTtl = options.accessTokenTtl ?? 3600
  if (!Number.isInteger(accessTokenTtl) || accessTokenTtl <= 0) throw new TypeError('dev-idp: accessTokenTtl must be a positive integer (seconds)')
  const initialAlg = options.signingAlg ?? 'ES256'
  if (!SIGNING_ALGS.includes(initialAlg)) throw new TypeError(`dev-idp: signingAlg must be one of ${SIGNING_ALGS.join(', ')}`)
  const allowedResource = options.allowedResource ?? defaultAllowedResource
  const serveOAuthMetadata = options.serveOAuthMetadata ?? true
  const refreshTokens = options.refreshTokens ?? 'offline_access'

  const resourceServerClient = {
    clientId: 'mcp-resource-server',
    clientSecret: options.resourceServerClientSecret ?? randomBytes(24).toString('base64url'),
  }
  const serviceClient = {
    clientId: 'mcp-service',
    clientSecret: options.serviceClientSecret ?? randomBytes(24).toString('base64url'),
  }
  const publicClient = { clientId: 'mcp-dev-client' }

  // ---- HTTP server first: the issuer needs the port --------------------------------------------
  const server = createServer()
  const sockets = new Set<Socket>()
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  const origin = `http://${urlHost(host)}:${port}`
  const issuer = origin + issuerPath

  // ---- keys ------------------------------------------------------------------------------------
  let signingKeys: SigningKey[] = [await generateSigningKey(initialAlg)]
  const current = (): SigningKey => signingKeys[0] as SigningKey

  // ---- storage ---------------------------------------------------------------------------------
  const store = new MemoryStore()
  const cimd = createLoopbackCimdResolver()
  const cimdHosts = new Map<string, string>()
  const mappedClientIdFetchUrl = (id: string): string | undefined => {
    if (!id.startsWith('https://')) return undefined
    try {
      const url = new URL(id)
      const origin = cimdHosts.get(url.host)
      return origin && url.href === id ? `${origin}${url.pathname}${url.search}` : undefined
    } catch {
      return undefined
    }
  }
  const sweeper = setInterval(() => store.sweep(), 60_000)
  sweeper.unref()
  const revokedJwts = new Map<string, number>() // jti -> exp (seconds)

  const claims: Record<string, string[]> = { openid: ['sub'] }
  if (scopes.includes('profile')) {
    claims['profile'] = ['name', 'given_name', 'family_name', 'middle_name', 'nickname', 'preferred_username', 'profile', 'picture', 'website', 'gender', 'birthdate', 'zoneinfo', 'locale', 'updated_at']
  }
  if (scopes.includes('email')) claims['email'] = ['email', 'email_verified']

  const deviceFormPage = (title: string, inner: string) => page(title, inner)

  const configuration: Configuration = {
    adapter: createAdapterFactory(store, async (id) => {
      const mapped = mappedClientIdFetchUrl(id)
      if (!mapped && !isLoopbackHttpClientId(id)) return undefined
      try {
        return await cimd.resolve(id, mapped)
      } catch (err) {
        if (err instanceof CimdError) throw new errors.InvalidClient(err.message)
        throw err
      }
    }),
    clients: [
      {
        client_id: resourceServerClient.clientId,
        client_secret: resourceServerClient.clientSecret,
        client_name: 'MCP resource server (introspection)',
        grant_types: [],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      {
        client_id: serviceClient.clientId,
        client_secret: serviceClient.clientSecret,
        client_name: 'MCP service (client credentials)',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: resourceScopes.join(' '),
        token_endpoint_auth_method: 'client_secret_basic',
      },
      {
        client_id: publicClient.clientId,
        client_name: 'mcp-oauth dev client',
        application_type: 'native',
        grant_types: ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1/callback', 'http://localhost/callback'],
        token_endpoint_auth_method: 'none',
      },
      ...(options.clients ?? []),
    ],
    jwks: { keys: [current().privateJwk as never] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    scopes,
    claims,
    async findAccount(_ctx, sub) {
      const user = usersById.get(sub)
      if (!user) return undefined
      return {
        accountId: user.id,
        async claims() {
          return { preferred_username: user.username, ...user.claims, sub: user.id }
        },
      }
    },
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: initialAlg,
    },
    // A development IdP: any origin may call the token, registration and userinfo endpoints (browser
    // clients such as the MCP Inspector).
    clientBasedCORS: () => true,
    responseTypes: ['code'],
    pkce: { required: () => true },
    // MCP clients refresh but do not always ask for offline_access: issue refresh tokens to every
    // client allowed the refresh_token grant, and never tie tokens to the browser session.
    issueRefreshToken: async (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') && (refreshTokens === 'always' || (code.scopes as Set<string>).has('offline_access')),
    expiresWithSession: async () => false,
    // issueAccessToken() puts its extra claims on the token before saving it.
    extraTokenClaims: async (_ctx, token) => (token as { extra?: Record<string, unknown> }).extra,
    interactions: {
      url: async (_ctx, interaction) => `${issuerPath}/interaction/${interaction.uid}`,
    },
    async renderError(ctx, out) {
      ctx.type = 'html'
      ctx.body = errorPage(String(out.error), out.error_description ? String(out.error_description) : undefined)
    },
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? accessTokenTtl,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? accessTokenTtl,
      AuthorizationCode: 60,
      DeviceCode: 600,
      BackchannelAuthenticationRequest: 600,
      IdToken: 3600,
      RefreshToken: 14 * 24 * 3600,
      Grant: 14 * 24 * 3600,
      Session: 14 * 24 * 3600,
      Interaction: 3600,
    },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true, initialAccessToken: false, issueRegistrationAccessToken: false },
      introspection: {
        enabled: true,
        // Confidential clients (the resource servers) may introspect any token; public clients only their own.
        allowedPolicy: async (_ctx, client, token) =>
          client.clientAuthMethod !== 'none' || token.clientId === client.clientId,
      },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => {
          if (token.clientId === client.clientId || client.clientId === resourceServerClient.clientId) return true
          if (client.clientAuthMethod === 'none') return false
          throw new errors.InvalidRequest('client is not authorized to revoke the presented token')
        },
      },
      clientCredentials: { enabled: true },
      deviceFlow: {
        enabled: true,
        async userCodeInputSource(ctx, form, _out, err) {
          ctx.body = deviceFormPage(
            'Device sign-in',
            `<h1>Device sign-in</h1>${err ? '<p class="err">That code is not valid. Try again.</p>' : '<p>Enter the code shown on your device.</p>'}${form}<button type="submit" form="op.deviceInputForm">Continue</button>`,
          )
        },
        async userCodeConfirmSource(ctx, form, client, _deviceInfo, userCode) {
          ctx.body = deviceFormPage(
            'Confirm device',
            `<h1>Confirm device</h1><p><strong>${escapeHtml(client.clientName ?? client.clientId)}</strong> shows the code <code>${escapeHtml(userCode)}</code>.</p>${form}<button type="submit" form="op.deviceConfirmForm">Continue</button><button type="submit" form="op.deviceConfirmForm" name="abort" value="yes">Abort</button>`,
          )
        },
        async successSource(ctx) {
          ctx.body = deviceFormPage('Signed in', '<h1>Signed in</h1><p>You can return to your device.</p>')
        },
      },
      resourceIndicators: {
        enabled: true,
        useGrantedResource: async () => true,
        async getResourceServerInfo(_ctx, resourceIndicator) {
          if (!allowedResource(resourceIndicator)) {
            throw new errors.InvalidTarget('this resource indicator is not allowed by the dev IdP')
          }
          return {
            scope: resourceScopes.join(' '),
            accessTokenFormat: 'jwt',
            accessTokenTTL: accessTokenTtl,
            jwt: { sign: { alg: current().alg } },
          }
        },
      },
      // https client_id URLs: oidc-provider's own CIMD implementation. Plain http on loopback: the
      // Client adapter above (oidc-provider's fetcher refuses loopback addresses).
      clientIdMetadataDocument: { enabled: true, ack: 'draft-02' },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.body = page(
            'Sign out',
            `<h1>Sign out?</h1>${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>`,
          )
        },
        async postLogoutSuccessSource(ctx) {
          ctx.body = page('Signed out', '<h1>Signed out</h1>')
        },
      },
    },
  }

  let provider: Provider
  try {
    provider = new ProviderClass(issuer, configuration)
  } catch (err) {
    server.close()
    throw err
  }
  provider.on('server_error', (_ctx: KoaContextWithOIDC, err: Error) => {
    console.error('[dev-idp] server_error', err)
  })
  const callback = provider.callback()

  // ---- failure injection and counters -------------------------------------------------------
  const zeroCounts = (): Record<CountedEndpoint, number> => ({
    jwks: 0,
    introspection: 0,
    discovery: 0,
    token: 0,
    registration: 0,
    authorization: 0,
    total: 0,
  })
  let counts = zeroCounts()
  const failures = new Map<FailableEndpoint, FailureMode>()
  const hung = new Set<{ res: ServerResponse; release: () => void }>()
  const delayed = new Map<NodeJS.Timeout, ServerResponse>()
  const streaming = new Set<ServerResponse>()
  let closing = false

  function resolveRel(pathname: string): string | undefined {
    if (issuerPath) {
      // RFC 8414 / OIDC path-inserted well-known URLs for an issuer with a path.
      if (pathname === WK_OIDC + issuerPath) return WK_OIDC
      if (pathname === WK_OAUTH + issuerPath) return serveOAuthMetadata ? WK_OIDC : undefined
      if (pathname !== issuerPath && !pathname.startsWith(issuerPath + '/')) return undefined
    }
    const rel = pathname.slice(issuerPath.length) || '/'
    if (rel === WK_OAUTH) return serveOAuthMetadata ? WK_OIDC : undefined
    return rel
  }

  function classify(rel: string): Exclude<CountedEndpoint, 'total'> | undefined {
    switch (rel) {
      case WK_OIDC:
        return 'discovery'
      case '/jwks':
        return 'jwks'
      case '/token':
        return 'token'
      case '/token/introspection':
        return 'introspection'
      case '/auth':
        return 'authorization'
      case '/reg':
        return 'registration'
      default:
        return rel.startsWith('/reg/') ? 'registration' : undefined
    }
  }

  async function streamHuge(res: ServerResponse, bytes: number): Promise<void> {
    streaming.add(res)
    try {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      const head = Buffer.from('{"keys":[],"padding":"')
      const tail = Buffer.from('"}')
      let remaining = Math.max(0, bytes - head.length - tail.length)
      const chunk = Buffer.alloc(64 * 1024, 'a')
      if (!res.write(head)) await new Promise((r) => res.once('drain', r))
      while (remaining > 0 && !res.destroyed) {
        const n = Math.min(remaining, chunk.length)
        remaining -= n
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          await new Promise<void>((r) => {
            const done = () => {
              res.off('drain', done)
              res.off('close', done)
              r()
            }
            res.once('drain', done)
            res.once('close', done)
          })
        }
      }
      if (!res.destroyed) res.end(tail)
    } finally {
      streaming.delete(res)
    }
  }

  function applyFailure(mode: FailureMode, req: IncomingMessage, res: ServerResponse, proceed: () => void): void {
    switch (mode.kind) {
      case 'ok':
        proceed()
        return
      case 'status': {
        req.resume()
        if (mode.status === 204 || mode.status === 304) {
          res.writeHead(mode.status).end()
        } else {
          sendJson(res, mode.status, { error: 'server_error', error_description: `injected failure (dev-idp): HTTP ${mode.status}` })
        }
        return
      }
      case 'hang': {
        const entry = { res, release: proceed }
        hung.add(entry)
        res.on('close', () => hung.delete(entry))
        return
      }
      case 'delay': {
        const timer = setTimeout(() => {
          delayed.delete(timer)
          proceed()
        }, mode.ms)
        delayed.set(timer, res)
        res.on('close', () => {
          if (delayed.delete(timer)) clearTimeout(timer)
        })
        return
      }
      case 'garbage': {
        req.resume()
        const body = '<html><body>this is not JSON {{{'
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
        res.end(body)
        return
      }
      case 'huge':
        req.resume()
        void streamHuge(res, mode.bytes).catch(() => res.destroy())
        return
      case 'json':
        req.resume()
        sendJson(res, 200, mode.body)
        return
    }
  }

  // ---- JWT access tokens at introspection / revocation ------------------------------------------
  // oidc-provider refuses structured (JWT) tokens at both endpoints, because it does not store them.
  // Resource servers configured for introspection still meet JWTs from this IdP, so the front layer
  // answers for JWTs itself: same client authentication, signature/issuer/typ/exp checks against our
  // own keys, and a revocation list of jti values.

  async function authenticateClient(req: IncomingMessage, form: URLSearchParams): Promise<string | undefined> {
    let id: string | null = null
    let secret: string | null = null
    const header = req.headers.authorization
    if (header) {
      const m = /^Basic +([A-Za-z0-9+/=]+)$/i.exec(header)
      if (!m?.[1]) return undefined
      const decoded = Buffer.from(m[1], 'base64').toString('utf8')
      const i = decoded.indexOf(':')
      if (i === -1) return undefined
      try {
        id = decodeURIComponent(decoded.slice(0, i).replace(/\+/g, '%20'))
        secret = decodeURIComponent(decoded.slice(i + 1).replace(/\+/g, '%20'))
      } catch {
        return undefined
      }
    } else {
      id = form.get('client_id')
      secret = form.get('client_secret')
    }
    if (!id || !secret) return undefined
    const client = await provider.Client.find(id).catch(() => undefined)
    if (!client?.clientSecret || client.clientAuthMethod === 'none') return undefined
    return sameSecret(client.clientSecret, secret) ? client.clientId : undefined
  }

  async function verifyOwnAccessToken(token: string): Promise<jose.JWTPayload | undefined> {
    try {
      const jwks = jose.createLocalJWKSet({ keys: signingKeys.map((k) => k.publicJwk) })
      const { payload } = await jose.jwtVerify(token, jwks, {
        issuer,
        typ: 'at+jwt',
        algorithms: [...SIGNING_ALGS],
        requiredClaims: ['exp'],
      })
      if (typeof payload.jti === 'string' && revokedJwts.has(payload.jti)) return undefined
      return payload
    } catch {
      return undefined
    }
  }

  async function handleJwtAtTokenEndpoints(
    rel: string,
    req: IncomingMessage,
    res: ServerResponse,
    form: URLSearchParams,
    token: string,
  ): Promise<void> {
    const clientId = await authenticateClient(req, form)
    if (!clientId) {
      sendJson(
        res,
        401,
        { error: 'invalid_client', error_description: 'client authentication failed' },
        req.headers.authorization ? { 'www-authenticate': `Basic realm="${issuer}"` } : {},
      )
      return
    }
    const payload = await verifyOwnAccessToken(token)
    if (rel === '/token/introspection') {
      sendJson(res, 200, payload ? { ...payload, active: true, token_type: 'Bearer' } : { active: false })
      return
    }
    if (payload && typeof payload.jti === 'string') {
      if (payload['client_id'] !== clientId && clientId !== resourceServerClient.clientId) {
        sendJson(res, 400, { error: 'invalid_request', error_description: 'client is not authorized to revoke the presented token' })
        return
      }
      const now = Math.floor(Date.now() / 1000)
      for (const [jti, exp] of revokedJwts) if (exp < now) revokedJwts.delete(jti)
      revokedJwts.set(payload.jti, payload.exp ?? now + accessTokenTtl)
    }
    res.writeHead(200, { 'cache-control': 'no-store', 'content-length': '0' }).end()
  }

  // ---- request dispatch ----------------------------------------------------------------------------

  const interactionDeps = {
    provider: () => provider,
    issuerPath,
    findUser: (username: string) => usersByName.get(username),
  }

  async function dispatch(req: IncomingMessage, res: ServerResponse, rel: string, search: string): Promise<void> {
    if (rel.startsWith('/interaction/')) {
      await handleInteraction(interactionDeps, req, res, rel)
      return
    }
    let target = req
    if (
      req.method === 'POST' &&
      (rel === '/token/introspection' || rel === '/token/revocation') &&
      /^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')
    ) {
      const body = await readBody(req)
      const form = new URLSearchParams(body.toString('utf8'))
      const token = form.get('token')
      if (token && isJwtShaped(token)) {
        await handleJwtAtTokenEndpoints(rel, req, res, form, token)
        return
      }
      target = replayRequest(req, body)
    }
    if (rel === '/auth' && req.method === 'GET') {
      // RFC 6749 §3.3: a request without scope is processed with a pre-defined default ('openid'), so
      // clients that know no scopes (no PRM scopes_supported, no challenge scope) still get a token.
      const params = new URLSearchParams(search)
      if (!params.has('scope') && !params.has('request') && !params.has('request_uri')) {
        params.set('scope', 'openid')
        search = `?${params.toString()}`
      }
    }
    target.url = rel + search
    ;(target as IncomingMessage & { originalUrl?: string }).originalUrl = issuerPath + rel + search
    await callback(target, res)
  }

  function onError(err: unknown, res: ServerResponse): void {
    if (res.headersSent) {
      res.destroy()
      return
    }
    if (err instanceof BodyTooLarge) {
      sendJson(res, 413, { error: 'invalid_request', error_description: 'request body too large' })
      return
    }
    console.error('[dev-idp] request failed', err)
    sendJson(res, 500, { error: 'server_error', error_description: 'dev-idp internal error' })
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (closing) {
      req.resume()
      res.writeHead(503, { connection: 'close', 'content-length': '0' }).end()
      return
    }
    counts.total++
    const parsed = new URL(req.url ?? '/', 'http://dev-idp.invalid')
    const rel = resolveRel(parsed.pathname)
    if (rel === undefined) {
      req.resume()
      sendJson(res, 404, { error: 'not_found', error_description: `no such endpoint on this issuer (${issuer})` })
      return
    }
    const endpoint = classify(rel)
    if (endpoint) counts[endpoint]++
    const specific = endpoint && FAILABLE.has(endpoint as FailableEndpoint) ? failures.get(endpoint as FailableEndpoint) : undefined
    const mode = specific ?? failures.get('all')
    const proceed = () => {
      dispatch(req, res, rel, parsed.search).catch((err: unknown) => onError(err, res))
    }
    if (mode) applyFailure(mode, req, res, proceed)
    else proceed()
  })

  // ---- the DevIdp object --------------------------------------------------------------------------

  let closed: Promise<void> | undefined

  /**
   * Drive the IdP's own pages as a browser would, with a cookie jar: the login form (as `username`), consent
   * (granted automatically), and for the device flow the code confirmation. Ends at the redirect back to the
   * client (its URL), or at the device flow's success page.
   */
  async function drive(start: URL, username = firstUser!.username): Promise<URL | 'device-signed-in'> {
    const user = usersByName.get(username)
    if (!user) throw new Error(`dev-idp: unknown user "${username}"`)
    const jar = new CookieJar()
    let url = start
    let method: 'GET' | 'POST' = 'GET'
    let body: string | undefined
    const isIdpPage = (u: URL) =>
      u.origin === new URL(origin).origin &&
      /^\/(auth|interaction|device)(\/|$)/.test(u.pathname.slice(issuerPath.length)) &&
      u.pathname.startsWith(issuerPath + '/')
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
      if (res.status === 200 && text.includes(`id="${LOGIN_FORM_ID}"`)) {
        const action = /<form id="dev-idp-login" method="post" action="([^"]+)"/.exec(text)?.[1]
        if (!action) throw new Error('dev-idp: login form without action')
        url = new URL(action.replace(/&amp;/g, '&'), url)
        method = 'POST'
        body = new URLSearchParams({ username: user.username, password: user.password }).toString()
        continue
      }
      if (res.status === 200 && text.includes('id="op.deviceConfirmForm"')) {
        const action = /<form id="op\.deviceConfirmForm" method="post" action="([^"]+)"/.exec(text)?.[1]
        const xsrf = /name="xsrf" value="([^"]+)"/.exec(text)?.[1]
        const userCode = /name="user_code" value="([^"]+)"/.exec(text)?.[1]
        if (!action || !xsrf || !userCode) throw new Error('dev-idp: device confirmation form without action, xsrf or user_code')
        url = new URL(action.replace(/&amp;/g, '&'), url)
        method = 'POST'
        body = new URLSearchParams({ xsrf, user_code: userCode.replace(/&amp;/g, '&'), confirm: 'yes' }).toString()
        continue
      }
      if (res.status === 200 && text.includes('document.forms[0].submit()')) {
        // An auto-submitting form (the device flow's callback): post its hidden fields, as the browser's script would.
        const form = /<form[^>]*method="post"[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/i.exec(text)
        if (!form?.[1]) throw new Error('dev-idp: auto-submitting page without a form')
        const fields = new URLSearchParams()
        for (const m of form[2]!.matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)) fields.append(m[1]!, m[2]!.replace(/&amp;/g, '&'))
        url = new URL(form[1].replace(/&amp;/g, '&'), url)
        method = 'POST'
        body = fields.toString()
        continue
      }
      if (res.status === 200 && text.includes('<h1>Signed in</h1>')) return 'device-signed-in'
      throw new Error(`dev-idp: authorization did not complete (HTTP ${res.status} at ${url.pathname}): ${textSummary(text)}`)
    }
    throw new Error('dev-idp: too many redirects during authorization')
  }

  const idp: DevIdp = {
    issuer,
    url: origin,
    port,
    provider,
    resourceServerClient,
    serviceClient,
    publicClient,

    get counts() {
      return { ...counts }
    },

    mapClientMetadataHost(host, origin) {
      cimdHosts.set(host.toLowerCase(), origin.replace(/\/$/, ''))
    },
    resetCounts() {
      counts = zeroCounts()
    },

    fail(endpoint, mode) {
      if (!FAILABLE.has(endpoint)) {
        throw new TypeError(`dev-idp: fail() endpoint must be one of ${[...FAILABLE].join(', ')} (got ${JSON.stringify(endpoint)})`)
      }
      validateFailureMode(mode)
      if (mode.kind === 'ok') failures.delete(endpoint)
      else failures.set(endpoint, structuredClone(mode))
    },

    heal() {
      failures.clear()
      const waiting = [...hung]
      hung.clear()
      for (const h of waiting) h.release()
    },

    async close() {
      closed ??= (async () => {
        closing = true
        clearInterval(sweeper)
        for (const [timer, res] of delayed) {
          clearTimeout(timer)
          res.destroy()
        }
        delayed.clear()
        for (const h of hung) h.res.destroy()
        hung.clear()
        for (const res of streaming) res.destroy()
        const done = new Promise<void>((resolve) => server.close(() => resolve()))
        server.closeIdleConnections()
        const grace = new Promise<void>((resolve) => setTimeout(resolve, 500).unref())
        await Promise.race([done, grace])
        server.closeAllConnections()
        for (const socket of sockets) socket.destroy()
        await done
      })()
      return closed
    },

    currentSigningKey() {
      const key = current()
      return { kid: key.kid, alg: key.alg, privateJwk: structuredClone(key.privateJwk) as JsonWebKey }
    },

    async rotateKeys(opts = {}) {
      // Key rotation keeps the SAME Provider instance (so every grant, session, client and opaque token
      // in the memory store stays valid and `idp.provider` never changes): oidc-provider reads `jwks`
      // only at construction, into an internal keystore, so we re-run its own keystore initializer
      // (oidc-provider/lib/helpers/initialize_keystore.js, pinned 9.13.3) on the provider with the new
      // key list. It validates the keys and swaps both the signing keystore and the published JWKS.
      // The new key goes first: oidc-provider signs with the first key matching the algorithm.
      const alg = opts.alg ?? current().alg
      if (!SIGNING_ALGS.includes(alg)) throw new TypeError(`dev-idp: alg must be one of ${SIGNING_ALGS.join(', ')}`)
      const next = await generateSigningKey(alg)
      const keys = opts.keepOld === false ? [next] : [next, ...signingKeys].slice(0, MAX_RETAINED_KEYS)
      initializeKeystore.call(provider, { keys: keys.map((k) => structuredClone(k.privateJwk) as Record<string, unknown>) })
      signingKeys = keys
    },

    async completeAuthorization(authorizationUrl, opts = {}) {
      const result = await drive(new URL(authorizationUrl), opts.username)
      if (result === 'device-signed-in') throw new Error('dev-idp: that was a device flow; use completeDeviceAuthorization')
      return result
    },

    async completeDeviceAuthorization(verificationUri, opts = {}) {
      const result = await drive(new URL(verificationUri), opts.username)
      if (result !== 'device-signed-in') throw new Error(`dev-idp: the device flow ended at ${result.href}`)
    },

    async issueAccessToken(opts) {
      const tokenScopes = opts.scopes ?? resourceScopes
      const subject = opts.subject ?? firstUser.id
      const clientId = opts.clientId ?? publicClient.clientId
      const ttl = opts.ttl ?? accessTokenTtl
      const format = opts.format ?? (opts.resource ? 'jwt' : 'opaque')
      if (!Number.isFinite(ttl)) throw new TypeError('dev-idp: ttl must be a number of seconds')
      if (format === 'jwt') {
        if (!opts.resource) throw new TypeError('dev-idp: a JWT access token needs a resource (its audience)')
        const key = current()
        const now = Math.floor(Date.now() / 1000)
        const payload: Record<string, unknown> = {
          iss: issuer,
          sub: subject,
          aud: opts.resource,
          client_id: clientId,
          iat: now,
          exp: now + ttl,
          jti: randomBytes(16).toString('base64url'),
        }
        if (tokenScopes.length) payload['scope'] = tokenScopes.join(' ')
        Object.assign(payload, opts.extraClaims)
        for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k]
        return new jose.SignJWT(payload as jose.JWTPayload)
          .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
          .sign(await jose.importJWK(key.privateJwk, key.alg))
      }
      const client = await provider.Client.find(clientId)
      if (!client) throw new Error(`dev-idp: unknown client "${clientId}" (opaque tokens need a client registered at the IdP)`)
      if (!(ttl > 0)) throw new TypeError('dev-idp: opaque tokens need a positive ttl')
      const scope = tokenScopes.join(' ')
      const grant = new provider.Grant({ accountId: subject, clientId })
      if (scope) {
        if (opts.resource) grant.addResourceScope(opts.resource, scope)
        else grant.addOIDCScope(scope)
      }
      const grantId = await grant.save()
      const AccessToken = provider.AccessToken as unknown as new (init: Record<string, unknown>) => {
        aud?: string
        extra?: Record<string, unknown>
        save(): Promise<string>
      }
      const token = new AccessToken({
        accountId: subject,
        client,
        grantId,
        gty: 'authorization_code',
        scope: scope || undefined,
        expiresIn: Math.floor(ttl),
      })
      if (opts.resource) token.aud = opts.resource
      if (opts.extraClaims) token.extra = { ...opts.extraClaims }
      return token.save()
    },

    async clientCredentials(opts) {
      const form = new URLSearchParams({ grant_type: 'client_credentials' })
      if (opts.resource) form.set('resource', opts.resource)
      if (opts.scope) form.set('scope', opts.scope)
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          authorization: basicAuth(serviceClient.clientId, serviceClient.clientSecret),
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: form,
      })
      const json = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined
      if (!res.ok || typeof json?.['access_token'] !== 'string') {
        throw new Error(
          `dev-idp: client_credentials failed: HTTP ${res.status} ${String(json?.['error'] ?? '')} ${String(json?.['error_description'] ?? '')}`.trim(),
        )
      }
      return json as { access_token: string; token_type: string; expires_in: number; scope?: string }
    },

    async revoke(token) {
      const res = await fetch(`${issuer}/token/revocation`, {
        method: 'POST',
        headers: {
          authorization: basicAuth(resourceServerClient.clientId, resourceServerClient.clientSecret),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token }),
      })
      const text = await res.text()
      if (!res.ok) throw new Error(`dev-idp: revocation failed: HTTP ${res.status} ${text.slice(0, 200)}`)
    },
  }

  return idp
}
