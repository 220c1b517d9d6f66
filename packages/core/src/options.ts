import { SCOPE_TOKEN } from './rfc6750.js'
import { McpAuthConfigError } from './errors.js'
import type { AuthInfo } from './auth-info.js'
import type { McpAuthEvent } from './events.js'
import { resolvePolicy, type McpPolicy, type ResolvedPolicy } from './policy.js'
import { MemorySessionStore, type SessionStore } from './session-binding.js'
import type { AuthorizationServerMetadataMirror } from './rfc8414-mirror.js'
import { canonicalResource, checkHttpsUri, equivalentAudiences, protectedResourceMetadataUrl, type UriProblem } from './resource-uri.js'

/** Algorithms accepted by default: asymmetric only (RFC 8725 §3.1, RFC 9068 §4). Never `none`, never HMAC. */
export const DEFAULT_ALGORITHMS: readonly string[] = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519',
]
const ASYMMETRIC = new Set(DEFAULT_ALGORITHMS)

/** How the resource server authenticates to the introspection endpoint (RFC 7662 §2.1, RFC 7523). */
export type IntrospectionAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt'

/** Settings for RFC 7662 token introspection at one issuer. */
export interface IntrospectionOptions {
  /** The resource server's client id at the IdP. */
  clientId: string
  /** Its secret, for `client_secret_basic` (default) and `client_secret_post`. */
  clientSecret?: string
  /** A private key (JWK with `alg`, or a `CryptoKey` with `alg` given) for `private_key_jwt` (RFC 7523). */
  privateKey?: JsonWebKey | { key: CryptoKey; alg: string; kid?: string }
  /** Default `client_secret_basic`, or `private_key_jwt` when only `privateKey` is given. */
  authMethod?: IntrospectionAuthMethod
  /** Default: `introspection_endpoint` from the issuer's metadata. */
  endpoint?: string
  /** Seconds an active result is cached; never past the token's `exp`. Default 60. Lower it for faster revocation. */
  cacheTtl?: number
  /** Seconds an inactive result is cached, so a flood of one bad token does not reach the IdP. Default 5; 0 disables. */
  inactiveCacheTtl?: number
}

/** One trusted authorization server (issuer) and the rules for its tokens. */
export interface AuthorizationServerOptions {
  /** The issuer identifier, exactly as the IdP writes it in `iss` (RFC 8414 §2). https, except loopback. */
  issuer: string
  /** Audiences accepted in this issuer's tokens. Default: the canonical resource (RFC 8707). Loosening: see README. */
  audience?: string | string[]
  /** Default: `jwks_uri` from the issuer's metadata. */
  jwksUri?: string
  /** Enables opaque tokens from this issuer (RFC 7662). */
  introspection?: IntrospectionOptions
  /** Allowed JWS algorithms for this issuer. Default: the global `algorithms`. */
  algorithms?: string[]
  /** Claims that carry scopes, merged. Default `['scope', 'scp']`; e.g. add `'permissions'` (Auth0 RBAC) or `'roles'` (Entra app roles). */
  scopeClaims?: string[]
  /** Claims tried in order for the client id. Default `['client_id', 'azp']`; e.g. `['appid']` (Entra v1), `['cid']` (Okta). */
  clientIdClaims?: string[]
  /**
   * The claim that must contain an accepted audience. Default `'aud'` (RFC 8707/9068). Loosening for IdPs
   * whose access tokens have no `aud` (AWS Cognito: `'client_id'`); the profile helpers set it.
   */
  audienceClaim?: string
  /**
   * Read the token's scopes with this prefix, so `requiredScopes`, the policy and the challenges can all use the
   * form clients request. Entra ID: clients ask for `api://<app>/tools.call`, tokens carry `tools.call`; with
   * `scopePrefix: 'api://<app>/'` the token's scopes read `api://<app>/tools.call`. Default: none.
   */
  scopePrefix?: string
  /** Claims every token of this issuer must carry with exactly these values, e.g. `{ token_use: 'access' }` (Cognito). */
  requiredClaims?: Record<string, string | number | boolean>
}

/** A function that verifies a token itself; return {@link AuthInfo} or throw (any throw becomes 401 `invalid_token`, an `McpAuthError` keeps its code). */
export type CustomVerifier = (token: string, context: { resource: string }) => AuthInfo | Promise<AuthInfo>

/**
 * Options of {@link createMcpAuth}. Every option is checked when the object is created.
 */
export interface McpAuthOptions {
  /**
   * The canonical URI of the MCP endpoint, e.g. `https://mcp.example.com/mcp` (required). It is the PRM
   * `resource`, the audience tokens must carry (RFC 8707), and it decides the protected path.
   */
  resource: string
  /** The issuer (or issuers) whose tokens are trusted; their metadata is discovered (RFC 8414 / OIDC). */
  issuer?: string | string[]
  /** Per-issuer settings, instead of (or as well as) `issuer`. */
  authorizationServers?: AuthorizationServerOptions[]
  /** PRM `scopes_supported` and the 401 challenge's `scope` when `requiredScopes` is empty. Default: none. */
  scopesSupported?: string[]
  /** Scopes every request must carry; a token without them gets 403 `insufficient_scope`. Default: none. */
  requiredScopes?: string[]
  /** Introspection for every issuer given by `issuer` (RFC 7662). Enables opaque tokens. */
  introspection?: IntrospectionOptions
  /** `'auto'` (default with introspection): JWTs from a trusted issuer locally, the rest introspected. `'jwt'` (default otherwise) or `'opaque'` force one path. */
  tokenFormat?: 'auto' | 'jwt' | 'opaque'
  /** A custom verifier used instead of JWT/introspection. */
  verify?: CustomVerifier
  /** Allowed JWS algorithms. Default: RS/PS/ES 256–512 and EdDSA. Only asymmetric algorithms are accepted. */
  algorithms?: string[]
  /** Seconds of clock skew allowed for `exp`, `nbf`, `iat`. Default 5. */
  clockTolerance?: number
  /** Largest token accepted, in bytes. Default 16384. */
  maxTokenLength?: number
  /** Verified-token cache. Default `{ max: 10000, maxTtl: 600 }`. `false` disables it. */
  cache?: { max?: number; maxTtl?: number } | false
  /** Timeout for every request to the IdP, in ms. Default 5000. */
  timeout?: number
  /** JWKS behaviour: `cooldown` (s between refetches, default 30), `maxAge` (s a key set is fresh, default 600), `staleIfError` (s the last good set is used when the endpoint fails, default 43200). */
  jwks?: { cooldown?: number; maxAge?: number; staleIfError?: number }
  /** Seconds in `Retry-After` on 503. Default 10. */
  retryAfter?: number
  /** The `fetch` used for the IdP. Default `globalThis.fetch`. */
  fetch?: typeof fetch
  /** Observability hook. Events never contain a token or an `Authorization` header. */
  onEvent?: (event: McpAuthEvent) => void
  /** PRM `resource_name`. */
  resourceName?: string
  /** PRM `resource_documentation` (URL). */
  resourceDocumentation?: string
  /** PRM `resource_policy_uri` (URL). */
  resourcePolicyUri?: string
  /** PRM `resource_tos_uri` (URL). */
  resourceTosUri?: string
  /** Loosening: accept `http://` for the resource and issuers on non-loopback hosts. Default false. */
  allowInsecureHttp?: boolean
  /** MCP-aware authorization: scopes per tool, per JSON-RPC method, by default, or by a function. Default: none. */
  policy?: McpPolicy
  /**
   * Bind each `Mcp-Session-Id` to the (issuer, subject, client id) that created it; a request with another
   * user's token gets 404. Default `true` (in-memory store, 10,000 sessions); `false` turns it off; pass
   * `{ store }` to share bindings between instances.
   */
  sessionBinding?: boolean | { store?: SessionStore }
  /**
   * Mirror the issuer's RFC 8414 metadata on this server's origin (for 2025-03-26 clients), optionally
   * patched. Default: on when exactly one issuer is configured. See the README for what it can and cannot fix.
   */
  authorizationServerMetadata?: boolean | AuthorizationServerMetadataMirror
  /**
   * Trust `Forwarded` / `X-Forwarded-Proto`, `-Host` and `-Prefix` from a reverse proxy, so a proxy that strips
   * a path prefix still leaves the resource's path protected and its metadata served. Malformed values are
   * refused with 400. Default false: only turn it on behind a proxy that sets (and overwrites) these headers.
   */
  trustProxy?: boolean
  /**
   * On Node, check JWS signatures with `node:crypto` (2–4× faster than WebCrypto on a cache miss; keys still
   * come from jose). Default `true`; `false` verifies through jose everywhere. Other runtimes always use jose.
   */
  nativeCrypto?: boolean
}

/** One issuer, resolved. */
export interface ResolvedIssuer {
  issuer: string
  audiences: string[]
  audienceClaim: string
  scopeClaims: string[]
  clientIdClaims: string[]
  scopePrefix: string
  requiredClaims: ReadonlyArray<readonly [string, string | number | boolean]>
  jwksUri: string | undefined
  introspection: ResolvedIntrospection | undefined
  algorithms: string[]
}

export interface ResolvedIntrospection {
  clientId: string
  clientSecret: string | undefined
  privateKey: IntrospectionOptions['privateKey']
  authMethod: IntrospectionAuthMethod
  endpoint: string | undefined
  cacheTtl: number
  inactiveCacheTtl: number
}

/** The options after checking, with every default filled in. */
export interface ResolvedOptions {
  resource: string
  resourcePath: string
  metadataUrl: string
  metadataPath: string
  issuers: ResolvedIssuer[]
  scopesSupported: string[]
  requiredScopes: string[]
  tokenFormat: 'auto' | 'jwt' | 'opaque'
  verify: CustomVerifier | undefined
  clockTolerance: number
  maxTokenLength: number
  cache: { max: number; maxTtl: number } | false
  timeout: number
  jwks: { cooldown: number; maxAge: number; staleIfError: number }
  retryAfter: number
  fetch: typeof fetch
  onEvent: ((event: McpAuthEvent) => void) | undefined
  resourceName: string | undefined
  resourceDocumentation: string | undefined
  resourcePolicyUri: string | undefined
  resourceTosUri: string | undefined
  policy: ResolvedPolicy | undefined
  sessionStore: SessionStore | undefined
  mirror: AuthorizationServerMetadataMirror | undefined
  trustProxy: boolean
  nativeCrypto: boolean
}

const KNOWN_OPTIONS = new Set<string>([
  'resource', 'issuer', 'authorizationServers', 'scopesSupported', 'requiredScopes', 'introspection', 'tokenFormat',
  'verify', 'algorithms', 'clockTolerance', 'maxTokenLength', 'cache', 'timeout', 'jwks', 'retryAfter', 'fetch',
  'onEvent', 'resourceName', 'resourceDocumentation', 'resourcePolicyUri', 'resourceTosUri', 'allowInsecureHttp',
  'policy', 'sessionBinding', 'authorizationServerMetadata', 'trustProxy', 'nativeCrypto',
])
const KNOWN_AS_OPTIONS = new Set<string>(['issuer', 'audience', 'jwksUri', 'introspection', 'algorithms', 'scopeClaims', 'clientIdClaims', 'audienceClaim', 'scopePrefix', 'requiredClaims'])
const KNOWN_INTROSPECTION_OPTIONS = new Set<string>([
  'clientId', 'clientSecret', 'privateKey', 'authMethod', 'endpoint', 'cacheTtl', 'inactiveCacheTtl',
])


const ALIASES: Record<string, string> = {
  issuerUrl: 'issuer', issuers: 'issuer', scopes: 'requiredScopes', requiredScope: 'requiredScopes',
  audience: 'authorizationServers[].audience', resourceUrl: 'resource', resourceServerUrl: 'resource',
  jwksUrl: 'authorizationServers[].jwksUri', jwksUri: 'authorizationServers[].jwksUri',
}

function uriMessage(problem: UriProblem, value: string, what: string): string {
  switch (problem) {
    case 'not-absolute':
      return `${JSON.stringify(value)} is not an absolute URL; write the full ${what}, e.g. "https://mcp.example.com/mcp".`
    case 'not-http':
      return `${JSON.stringify(value)} must be an https URL.`
    case 'insecure':
      return `${JSON.stringify(value)} uses http on a non-loopback host; write https://… (http is only allowed for localhost/127.0.0.1, or set allowInsecureHttp: true).`
    case 'fragment':
      return `${JSON.stringify(value)} has a fragment (#…); a ${what} must not have one (RFC 8707 §2). Remove it.`
    case 'query':
      return `${JSON.stringify(value)} has a query string; write the ${what} without it.`
    case 'credentials':
      return `${JSON.stringify(value)} contains user:password@; remove the credentials.`
  }
}

function fail(option: string, message: string): never {
  throw new McpAuthConfigError(option, message)
}

function checkKeys(value: object, known: Set<string>, where: string): void {
  for (const key of Object.keys(value)) {
    if (known.has(key)) continue
    const alias = ALIASES[key]
    fail(`${where}${key}`, `unknown option${alias ? `; did you mean "${alias}"?` : `. Known options: ${[...known].join(', ')}.`}`)
  }
}

function stringList(value: unknown, option: string, check?: (s: string) => boolean, hint?: string): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) fail(option, `must be an array of strings, e.g. ["mcp:tools"].`)
  for (const item of value) {
    if (typeof item !== 'string' || item === '' || (check && !check(item))) {
      fail(option, `${JSON.stringify(item)} is not allowed${hint ? `; ${hint}` : ''}.`)
    }
  }
  return [...new Set(value as string[])]
}

function seconds(value: unknown, option: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    fail(option, `must be a finite number of seconds ≥ ${min}, e.g. ${fallback}.`)
  }
  return value
}

function optionalUrl(value: unknown, option: string, allowInsecure: boolean): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string') fail(option, 'must be a URL string.')
  const url = checkHttpsUri(value, { allowInsecure, allowQuery: true })
  if (typeof url === 'string') fail(option, uriMessage(url, value, 'URL'))
  return url.href
}

function resolveIntrospection(value: unknown, where: string, allowInsecure: boolean): ResolvedIntrospection | undefined {
  if (value === undefined) return undefined
  if (value === null || typeof value !== 'object') fail(where, 'must be an object like { clientId, clientSecret }.')
  checkKeys(value, KNOWN_INTROSPECTION_OPTIONS, `${where}.`)
  const o = value as IntrospectionOptions
  if (typeof o.clientId !== 'string' || !o.clientId) fail(`${where}.clientId`, 'is required: the client id the IdP gave this resource server.')
  const authMethod = o.authMethod ?? (o.privateKey && !o.clientSecret ? 'private_key_jwt' : 'client_secret_basic')
  if (!['client_secret_basic', 'client_secret_post', 'private_key_jwt'].includes(authMethod)) {
    fail(`${where}.authMethod`, `must be "client_secret_basic", "client_secret_post" or "private_key_jwt".`)
  }
  if (authMethod === 'private_key_jwt') {
    if (!o.privateKey || typeof o.privateKey !== 'object') fail(`${where}.privateKey`, 'is required for private_key_jwt: a private JWK with "alg".')
    const alg = 'key' in o.privateKey ? o.privateKey.alg : o.privateKey.alg
    if (typeof alg !== 'string' || !ASYMMETRIC.has(alg)) fail(`${where}.privateKey`, `needs an asymmetric "alg", e.g. "ES256".`)
  } else if (typeof o.clientSecret !== 'string' || !o.clientSecret) {
    fail(`${where}.clientSecret`, `is required for ${authMethod}.`)
  }
  return {
    clientId: o.clientId,
    clientSecret: o.clientSecret,
    privateKey: o.privateKey,
    authMethod,
    endpoint: optionalUrl(o.endpoint, `${where}.endpoint`, allowInsecure),
    cacheTtl: seconds(o.cacheTtl, `${where}.cacheTtl`, 60),
    inactiveCacheTtl: seconds(o.inactiveCacheTtl, `${where}.inactiveCacheTtl`, 5),
  }
}

/**
 * Check every option and fill in defaults. Throws {@link McpAuthConfigError} (a `TypeError`) whose message
 * says what to write instead.
 */
export function resolveOptions(options: McpAuthOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') {
    fail('options', 'pass an object like { resource: "https://mcp.example.com/mcp", issuer: "https://idp.example.com" }.')
  }
  checkKeys(options, KNOWN_OPTIONS, '')
  const allowInsecure = options.allowInsecureHttp === true
  if (options.allowInsecureHttp !== undefined && typeof options.allowInsecureHttp !== 'boolean') {
    fail('allowInsecureHttp', 'must be true or false.')
  }

  if (options.resource === undefined) {
    fail('resource', 'is required: the full URL of your MCP endpoint, e.g. "https://mcp.example.com/mcp".')
  }
  if (typeof options.resource !== 'string') fail('resource', 'must be a URL string.')
  const resourceUrl = checkHttpsUri(options.resource, { allowInsecure, allowQuery: false })
  if (typeof resourceUrl === 'string') fail('resource', uriMessage(resourceUrl, options.resource, 'resource URL'))
  const resource = canonicalResource(resourceUrl)

  const algorithms = stringList(options.algorithms ?? DEFAULT_ALGORITHMS, 'algorithms', (a) => ASYMMETRIC.has(a),
    `only asymmetric algorithms are allowed (${DEFAULT_ALGORITHMS.join(', ')}); "none" and HS* are never accepted`)
  if (algorithms.length === 0) fail('algorithms', `must not be empty; omit it to use ${DEFAULT_ALGORITHMS.join(', ')}.`)

  const defaultAudiences = equivalentAudiences(resource)
  const issuers: ResolvedIssuer[] = []
  const seen = new Set<string>()
  const addIssuer = (as: AuthorizationServerOptions, where: string, sharedIntrospection: unknown): void => {
    if (typeof as.issuer !== 'string' || !as.issuer) fail(`${where}issuer`, 'is required: the issuer URL exactly as it appears in your tokens\' "iss".')
    const url = checkHttpsUri(as.issuer, { allowInsecure, allowQuery: false })
    if (typeof url === 'string') fail(`${where}issuer`, uriMessage(url, as.issuer, 'issuer URL'))
    if (seen.has(as.issuer)) fail(`${where}issuer`, `${JSON.stringify(as.issuer)} is listed twice; list each issuer once.`)
    seen.add(as.issuer)
    const audience = as.audience === undefined ? defaultAudiences
      : stringList(typeof as.audience === 'string' ? [as.audience] : as.audience, `${where}audience`)
    if (audience.length === 0) fail(`${where}audience`, 'must not be empty; omit it to require the resource URL.')
    const issuerAlgorithms = as.algorithms === undefined ? algorithms
      : stringList(as.algorithms, `${where}algorithms`, (a) => ASYMMETRIC.has(a), 'only asymmetric algorithms are allowed')
    const claimName = (s: string) => /^[\x21-\x7E]+$/.test(s)
    const audienceClaim = as.audienceClaim ?? 'aud'
    if (typeof audienceClaim !== 'string' || !claimName(audienceClaim)) fail(`${where}audienceClaim`, 'must be a claim name, e.g. "aud".')
    if (as.scopePrefix !== undefined && (typeof as.scopePrefix !== 'string' || !SCOPE_TOKEN.test(as.scopePrefix))) {
      fail(`${where}scopePrefix`, 'must be a string without spaces, quotes or backslashes, e.g. "api://mcp-server/".')
    }
    const required = as.requiredClaims ?? {}
    if (typeof required !== 'object' || required === null || Array.isArray(required)
      || !Object.values(required).every((v) => ['string', 'number', 'boolean'].includes(typeof v))) {
      fail(`${where}requiredClaims`, 'must map claim names to exact string, number or boolean values, e.g. { token_use: "access" }.')
    }
    issuers.push({
      issuer: as.issuer,
      audiences: audience,
      audienceClaim,
      scopePrefix: as.scopePrefix ?? '',
      requiredClaims: Object.entries(required),
      scopeClaims: as.scopeClaims === undefined ? ['scope', 'scp'] : stringList(as.scopeClaims, `${where}scopeClaims`, claimName, 'write claim names like "scope"'),
      clientIdClaims: as.clientIdClaims === undefined ? ['client_id', 'azp'] : stringList(as.clientIdClaims, `${where}clientIdClaims`, claimName, 'write claim names like "client_id"'),
      jwksUri: optionalUrl(as.jwksUri, `${where}jwksUri`, allowInsecure),
      introspection: resolveIntrospection(as.introspection ?? sharedIntrospection, as.introspection ? `${where}introspection` : 'introspection', allowInsecure),
      algorithms: issuerAlgorithms,
    })
  }

  if (options.issuer !== undefined) {
    const list = typeof options.issuer === 'string' ? [options.issuer] : options.issuer
    if (!Array.isArray(list)) fail('issuer', 'must be a URL string or an array of them.')
    if (list.length === 0) fail('issuer', 'is an empty list; give at least one issuer URL, e.g. "https://idp.example.com".')
    list.forEach((issuer, i) => addIssuer({ issuer }, Array.isArray(options.issuer) ? `issuer[${i}].` : '', options.introspection))
  }
  if (options.authorizationServers !== undefined) {
    if (!Array.isArray(options.authorizationServers)) fail('authorizationServers', 'must be an array like [{ issuer: "https://idp.example.com" }].')
    options.authorizationServers.forEach((as, i) => {
      if (as === null || typeof as !== 'object') fail(`authorizationServers[${i}]`, 'must be an object like { issuer }.')
      checkKeys(as, KNOWN_AS_OPTIONS, `authorizationServers[${i}].`)
      addIssuer(as, `authorizationServers[${i}].`, undefined)
    })
  }
  if (issuers.length === 0 && options.verify === undefined) {
    fail('issuer', 'is required: the URL of your identity provider, e.g. issuer: "https://idp.example.com" (or authorizationServers: [{ issuer }]).')
  }
  if (options.introspection !== undefined && options.issuer === undefined) {
    fail('introspection', 'applies to the issuers in "issuer"; with authorizationServers, put introspection inside each entry.')
  }
  if (options.verify !== undefined && typeof options.verify !== 'function') fail('verify', 'must be a function (token) => AuthInfo.')
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function') fail('onEvent', 'must be a function (event) => void.')
  if (options.fetch !== undefined && typeof options.fetch !== 'function') fail('fetch', 'must be a fetch-compatible function.')

  const hasIntrospection = issuers.some((i) => i.introspection)
  const tokenFormat = options.tokenFormat ?? (hasIntrospection ? 'auto' : 'jwt')
  if (!['auto', 'jwt', 'opaque'].includes(tokenFormat)) fail('tokenFormat', 'must be "auto", "jwt" or "opaque".')
  if (tokenFormat === 'opaque' && !hasIntrospection && !options.verify) {
    fail('tokenFormat', '"opaque" needs introspection: add introspection: { clientId, clientSecret }.')
  }

  const scopeHint = 'scopes are non-empty strings without spaces, quotes or backslashes (RFC 6749 §3.3)'
  const scopesSupported = stringList(options.scopesSupported, 'scopesSupported', (s) => SCOPE_TOKEN.test(s), scopeHint)
  const requiredScopes = stringList(options.requiredScopes, 'requiredScopes', (s) => SCOPE_TOKEN.test(s), scopeHint)

  let cache: ResolvedOptions['cache']
  if (options.cache === false) cache = false
  else if (options.cache === undefined) cache = { max: 10_000, maxTtl: 600 }
  else if (typeof options.cache !== 'object' || options.cache === null) fail('cache', 'must be { max, maxTtl } or false.')
  else {
    const max = options.cache.max ?? 10_000
    if (!Number.isInteger(max) || max < 1) fail('cache.max', 'must be a positive integer, e.g. 10000.')
    cache = { max, maxTtl: seconds(options.cache.maxTtl, 'cache.maxTtl', 600, 1) }
  }
  const maxTokenLength = options.maxTokenLength ?? 16_384
  if (!Number.isInteger(maxTokenLength) || maxTokenLength < 64) fail('maxTokenLength', 'must be an integer ≥ 64, e.g. 16384.')
  const timeoutMs = options.timeout ?? 5000
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) fail('timeout', 'must be a positive integer number of milliseconds, e.g. 5000.')
  if (options.jwks !== undefined && (typeof options.jwks !== 'object' || options.jwks === null)) fail('jwks', 'must be an object { cooldown, maxAge, staleIfError }.')

  let sessionStore: SessionStore | undefined
  const binding = options.sessionBinding
  if (binding === undefined || binding === true) sessionStore = new MemorySessionStore()
  else if (binding === false) sessionStore = undefined
  else if (typeof binding === 'object' && binding !== null) {
    const store = binding.store ?? new MemorySessionStore()
    if (typeof store.get !== 'function' || typeof store.set !== 'function') fail('sessionBinding.store', 'must have get(sessionId) and set(sessionId, binding).')
    sessionStore = store
  } else fail('sessionBinding', 'must be true, false or { store }.')

  let mirror: AuthorizationServerMetadataMirror | undefined
  const m = options.authorizationServerMetadata
  if (m === undefined) mirror = issuers.length === 1 ? {} : undefined
  else if (m === true || (typeof m === 'object' && m !== null && m.enabled !== false)) {
    if (issuers.length !== 1) fail('authorizationServerMetadata', `mirrors one issuer's metadata, and ${issuers.length} are configured; remove it or configure one issuer.`)
    mirror = m === true ? {} : m
    if (mirror.patch !== undefined && typeof mirror.patch !== 'function') fail('authorizationServerMetadata.patch', 'must be a function (metadata) => metadata.')
  } else if (m !== false && !(typeof m === 'object' && m !== null)) fail('authorizationServerMetadata', 'must be true, false or { openid?, supportsPkceS256?, patch? }.')
  if (options.trustProxy !== undefined && typeof options.trustProxy !== 'boolean') fail('trustProxy', 'must be true or false.')
  if (options.nativeCrypto !== undefined && typeof options.nativeCrypto !== 'boolean') fail('nativeCrypto', 'must be true or false.')

  const metadataUrl = protectedResourceMetadataUrl(resource)
  return {
    resource,
    resourcePath: resourceUrl.pathname,
    metadataUrl,
    metadataPath: new URL(metadataUrl).pathname,
    issuers,
    scopesSupported,
    requiredScopes,
    tokenFormat,
    verify: options.verify,
    clockTolerance: seconds(options.clockTolerance, 'clockTolerance', 5),
    maxTokenLength,
    cache,
    timeout: timeoutMs,
    jwks: {
      cooldown: seconds(options.jwks?.cooldown, 'jwks.cooldown', 30),
      maxAge: seconds(options.jwks?.maxAge, 'jwks.maxAge', 600),
      staleIfError: seconds(options.jwks?.staleIfError, 'jwks.staleIfError', 43_200),
    },
    retryAfter: seconds(options.retryAfter, 'retryAfter', 10, 1),
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    onEvent: options.onEvent,
    resourceName: typeof options.resourceName === 'string' ? options.resourceName : options.resourceName === undefined ? undefined : fail('resourceName', 'must be a string.'),
    resourceDocumentation: optionalUrl(options.resourceDocumentation, 'resourceDocumentation', allowInsecure),
    resourcePolicyUri: optionalUrl(options.resourcePolicyUri, 'resourcePolicyUri', allowInsecure),
    resourceTosUri: optionalUrl(options.resourceTosUri, 'resourceTosUri', allowInsecure),
    policy: resolvePolicy(options.policy),
    sessionStore,
    mirror,
    trustProxy: options.trustProxy === true,
    nativeCrypto: options.nativeCrypto !== false,
  }
}
