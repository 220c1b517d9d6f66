/**
 * createBridge() options, checked once at creation: a bad option throws a {@link BridgeConfigError} saying
 * what to write instead.
 */
import type { JWK } from 'jose'
import { BridgeConfigError } from './errors.js'
import type { UpstreamConfig } from './presets.js'
import { MemoryBridgeStore, type BridgeStore } from './store.js'

export interface BridgeOptions {
  /**
   * The bridge's issuer: its public base URL, e.g. `https://mcp.example.com/oauth` (https; http only on
   * loopback). The resource server names it as `issuer`; the MCP client discovers it from PRM.
   */
  issuer: string
  /** The canonical URI of the MCP server the tokens are for (RFC 8707 `aud`), or several. */
  resource: string | string[]
  /** The MCP scopes the bridge can grant (e.g. ['mcp:tools']). `openid` and `offline_access` are always known too. */
  scopes: string[]
  /** The upstream IdP: a preset — github(), google(), entra(), cognito(), oidc(), oauth2(). */
  upstream: UpstreamConfig
  /** Where state lives. Default: a {@link MemoryBridgeStore} (one process); `new RedisStore()` from @mcp-oauth/redis for many. */
  store?: BridgeStore
  /**
   * AES-256-GCM keys for the upstream tokens at rest, base64url (32 bytes each). The first seals, all open:
   * rotate by putting a new key first. Default: one random key per process (sealed tokens die with it).
   */
  encryptionKeys?: string[]
  /** Private JWKs (with `kid`) that sign the bridge's tokens; the first of each alg signs. Default: one ES256 key per process. */
  signingKeys?: JWK[]
  /** Keys for oidc-provider's signed cookies; first signs. Default: one random key per process. */
  cookieKeys?: string[]
  /** Bridge access token lifetime in seconds. Default 3600. */
  accessTokenTtl?: number
  /** Bridge refresh token (and grant) lifetime in seconds. Default 14 days. */
  refreshTokenTtl?: number
  /** How long a sign-in may take, consent page to upstream callback, in seconds. Default 600. */
  transactionTtl?: number
  /**
   * Extra allow-list for client redirect URIs (DCR and CIMD): a URI must match one string exactly or one RegExp.
   * Default: no list (exact matching as registered; https, http on loopback, private-use schemes for native apps).
   */
  allowedRedirectUris?: Array<string | RegExp>
  /** Open Dynamic Client Registration (RFC 7591; deprecated by MCP 2026-07-28, still used). Default true. */
  registration?: boolean
  /** Client ID Metadata Documents. Default enabled. */
  clientIdMetadataDocuments?: {
    enabled?: boolean
    /**
     * Development and tests only: fetch the documents of `https://<host>/…` client ids from a local http
     * origin, e.g. `{ 'client.example': 'http://127.0.0.1:8123' }` (private addresses are refused otherwise).
     */
    hostMap?: Record<string, string>
  }
  /** RFC 8628 device flow. Default true. */
  deviceFlow?: boolean
  /** The service name on the bridge's pages. Default 'MCP server'. */
  title?: string
  /**
   * Loosening: behind a proxy that terminates TLS, read `X-Forwarded-Proto` / `X-Forwarded-Host` (oidc-provider's
   * `proxy` mode) so cookies are `Secure` and URLs https. Only behind a proxy that sets and overwrites them. Default false.
   */
  trustProxy?: boolean
}

export interface ResolvedOptions {
  issuer: string
  issuerUrl: URL
  /** Path of the issuer ('' for an origin). */
  issuerPath: string
  resources: string[]
  scopes: string[]
  upstream: UpstreamConfig
  store: BridgeStore
  encryptionKeys: string[] | undefined
  signingKeys: JWK[] | undefined
  cookieKeys: string[] | undefined
  accessTokenTtl: number
  refreshTokenTtl: number
  transactionTtl: number
  allowedRedirectUris: Array<string | RegExp> | undefined
  registration: boolean
  cimd: boolean
  hostMap: Map<string, string>
  deviceFlow: boolean
  title: string
  callbackUrl: string
  trustProxy: boolean
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]'])
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+$/

/** An absolute https URL (http only on loopback), without credentials or fragment (nor query, unless allowed). */
export function httpsUrl(option: string, value: unknown, example: string, allowQuery = false): URL {
  let parsed: URL | undefined
  try {
    parsed = typeof value === 'string' ? new URL(value) : undefined
  } catch {
    parsed = undefined
  }
  if (!parsed || parsed.hash || (parsed.search && !allowQuery) || parsed.username || parsed.password) {
    throw new BridgeConfigError(option, `must be an absolute URL without ${allowQuery ? '' : 'query, '}credentials or fragment, e.g. ${example}; got ${JSON.stringify(value)}`)
  }
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && LOOPBACK.has(parsed.hostname))) {
    throw new BridgeConfigError(option, `must use https (http only on loopback for development), e.g. ${example}; got ${JSON.stringify(value)}`)
  }
  return parsed
}

function positiveInt(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new BridgeConfigError(option, `must be a positive integer number of seconds, e.g. ${fallback}; got ${JSON.stringify(value)}`)
  }
  return value
}

function isStore(value: unknown): value is BridgeStore {
  const s = value as Record<string, unknown> | null
  return typeof s === 'object' && s !== null && ['get', 'set', 'delete', 'take'].every((m) => typeof s[m] === 'function')
}

export function resolveOptions(options: BridgeOptions): ResolvedOptions {
  if (!options || typeof options !== 'object') {
    throw new BridgeConfigError('options', 'createBridge() needs { issuer, resource, scopes, upstream }')
  }
  const issuerUrl = httpsUrl('issuer', options.issuer, "'https://mcp.example.com/oauth'")
  const issuer = issuerUrl.href.replace(/\/$/, '')
  if (issuer !== options.issuer.replace(/\/$/, '')) {
    throw new BridgeConfigError('issuer', `must be in canonical form: write ${JSON.stringify(issuer)}`)
  }
  const issuerPath = issuerUrl.pathname === '/' ? '' : issuerUrl.pathname.replace(/\/$/, '')

  const resourceList = Array.isArray(options.resource) ? options.resource : [options.resource]
  if (resourceList.length === 0) throw new BridgeConfigError('resource', "give the MCP server's canonical URI, e.g. 'https://mcp.example.com/mcp'")
  const resources = resourceList.map((r, i) => {
    const option = Array.isArray(options.resource) ? `resource[${i}]` : 'resource'
    const u = httpsUrl(option, r, "'https://mcp.example.com/mcp'")
    if (r !== u.href && r !== u.href.replace(/\/$/, '')) throw new BridgeConfigError(option, `must be the canonical URI: write ${JSON.stringify(u.href.replace(/\/$/, '') || u.href)}`)
    return r
  })

  if (!Array.isArray(options.scopes) || options.scopes.length === 0 || options.scopes.some((s) => typeof s !== 'string' || !SCOPE.test(s))) {
    throw new BridgeConfigError('scopes', `must list the MCP scopes the bridge can grant, e.g. scopes: ['mcp:tools']; got ${JSON.stringify(options.scopes)}`)
  }
  if (options.scopes.some((s) => s === 'openid' || s === 'offline_access')) {
    throw new BridgeConfigError('scopes', "list only the MCP server's own scopes: 'openid' and 'offline_access' are always known to the bridge")
  }

  const upstream = options.upstream
  if (!upstream || typeof upstream !== 'object' || (upstream.kind !== 'oidc' && upstream.kind !== 'oauth2')) {
    throw new BridgeConfigError('upstream', "pass a preset, e.g. upstream: github({ clientId, clientSecret }) or oidc({ issuer, clientId, clientSecret }) (import them from '@mcp-oauth/bridge')")
  }
  if (upstream.kind === 'oauth2' && (!upstream.authorizationEndpoint || !upstream.tokenEndpoint || !upstream.userinfoEndpoint)) {
    throw new BridgeConfigError('upstream', 'an oauth2 upstream needs authorizationEndpoint, tokenEndpoint and userinfoEndpoint: use oauth2({ … }) or github({ … })')
  }
  if (upstream.timeoutMs !== undefined && !(Number.isInteger(upstream.timeoutMs) && upstream.timeoutMs > 0)) {
    throw new BridgeConfigError('upstream.timeoutMs', `must be a positive integer number of milliseconds, e.g. 10000; got ${JSON.stringify(upstream.timeoutMs)}`)
  }
  if (upstream.scopeMap !== undefined) {
    for (const key of Object.keys(upstream.scopeMap)) {
      if (!options.scopes.includes(key)) throw new BridgeConfigError(`upstream.scopeMap.${key}`, `maps a scope the bridge does not grant: add it to scopes or remove it (scopes are ${JSON.stringify(options.scopes)})`)
    }
  }

  if (options.store !== undefined && !isStore(options.store)) {
    throw new BridgeConfigError('store', 'must implement BridgeStore: get(kind, id), set(kind, id, value, ttlSeconds), delete(kind, id), take(kind, id) (RedisStore from @mcp-oauth/redis does) — or omit it for the in-memory store')
  }
  for (const name of ['encryptionKeys', 'cookieKeys'] as const) {
    const keys = options[name]
    if (keys !== undefined && (!Array.isArray(keys) || keys.length === 0 || keys.some((k) => typeof k !== 'string' || k.length < 32))) {
      throw new BridgeConfigError(name, `must be a non-empty array of random strings (32 bytes base64url: 43 characters), or omitted for a random key per process`)
    }
  }
  if (options.signingKeys !== undefined && (!Array.isArray(options.signingKeys) || options.signingKeys.length === 0 || options.signingKeys.some((k) => typeof k !== 'object' || !k || typeof k.kid !== 'string' || !('d' in k)))) {
    throw new BridgeConfigError('signingKeys', 'must be a non-empty array of PRIVATE JWKs, each with a kid (e.g. from jose exportJWK), or omitted for one ES256 key per process')
  }
  if (options.allowedRedirectUris !== undefined && (!Array.isArray(options.allowedRedirectUris) || options.allowedRedirectUris.some((p) => typeof p !== 'string' && !(p instanceof RegExp)))) {
    throw new BridgeConfigError('allowedRedirectUris', "must be an array of exact URIs or RegExps, e.g. [/^http:\\/\\/127\\.0\\.0\\.1:\\d+\\/callback$/, 'https://claude.ai/api/mcp/auth_callback']")
  }
  const hostMap = new Map<string, string>()
  for (const [host, origin] of Object.entries(options.clientIdMetadataDocuments?.hostMap ?? {})) {
    const o = httpsUrl(`clientIdMetadataDocuments.hostMap.${host}`, origin, "'http://127.0.0.1:8123'")
    hostMap.set(host.toLowerCase(), o.origin)
  }
  for (const name of ['registration', 'deviceFlow', 'trustProxy'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'boolean') throw new BridgeConfigError(name, `must be true or false; got ${JSON.stringify(options[name])}`)
  }

  return {
    issuer,
    issuerUrl,
    issuerPath,
    resources,
    scopes: [...options.scopes],
    upstream,
    store: options.store ?? new MemoryBridgeStore(),
    encryptionKeys: options.encryptionKeys,
    signingKeys: options.signingKeys,
    cookieKeys: options.cookieKeys,
    accessTokenTtl: positiveInt('accessTokenTtl', options.accessTokenTtl, 3600),
    refreshTokenTtl: positiveInt('refreshTokenTtl', options.refreshTokenTtl, 14 * 24 * 3600),
    transactionTtl: positiveInt('transactionTtl', options.transactionTtl, 600),
    allowedRedirectUris: options.allowedRedirectUris,
    registration: options.registration ?? true,
    cimd: options.clientIdMetadataDocuments?.enabled ?? true,
    hostMap,
    deviceFlow: options.deviceFlow ?? true,
    title: typeof options.title === 'string' && options.title ? options.title : 'MCP server',
    callbackUrl: `${issuer}/callback`,
    trustProxy: options.trustProxy ?? false,
  }
}
