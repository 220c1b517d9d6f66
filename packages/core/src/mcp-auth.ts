/**
 * `createMcpAuth`: the resource server. One object per protected MCP endpoint; adapters call `handle`.
 */
import { LRUCache } from 'lru-cache'
import { authInfoExtra, type AuthInfo } from './auth-info.js'
import { readClientId, readScopes, optionalString, optionalNumericDate } from './claims.js'
import { McpAuthError } from './errors.js'
import { eventSink, type EventSink } from './events.js'
import { BODY_TOO_LARGE, IdpUnavailable, MAX_REQUEST_BODY_BYTES, readLimited, type IdpFetchOptions } from './idp-fetch.js'
import { IssuerKeys } from './jwks.js'
import { resolveOptions, type McpAuthOptions, type ResolvedIssuer, type ResolvedOptions } from './options.js'
import { toResponse, type PlainResponse } from './plain-response.js'
import { pathOf, protectedPathMatcher } from './request-path.js'
import { buildChallenge, extractBearerToken, scopeTokens, type RequestLike } from './rfc6750.js'
import { introspect, type IntrospectionTarget } from './rfc7662.js'
import { AuthorizationServerDiscovery } from './rfc8414.js'
import { assertAccessTokenShape, peekJwt, verifyJwtAccessToken } from './rfc9068.js'
import { metadataRoutes, type MetadataRoutes } from './rfc9728.js'
import { authorizationServerMetadataUrls } from './resource-uri.js'
import { createMirror } from './rfc8414-mirror.js'
import { forwardedParts } from './public-url.js'
import { hashToken } from './token-hash.js'
import { jsonRpcRequests, policyNeeds, staticScopes, toolAllowed, type PolicyRequest } from './policy.js'
import { bindingOf, sameBinding, type SessionStore } from './session-binding.js'
import { filterToolsListBody } from './jsonrpc-filter.js'
import { interceptNodeResponse, type InterceptHooks, type NodeResponseLike } from './node-response.js'
import { TokenCache } from './token-cache.js'

/** Per-call options of {@link McpAuth.authenticate} and {@link McpAuth.handle}. */
export interface AuthenticateOptions {
  /** Scopes this request needs, instead of the configured `requiredScopes`. */
  scopes?: readonly string[]
}

/** Options of {@link McpAuth.handle}. */
export interface HandleOptions extends AuthenticateOptions {
  /** Authenticate whatever the path (for `protect()` on other routes). */
  protect?: boolean
  /** The parsed JSON-RPC body, when the host has it: the `policy` is evaluated on it. */
  body?: unknown
}

/** What an adapter does with a request. */
export type McpAuthOutcome =
  /** Write this response (metadata, or a refusal) and stop. */
  | { type: 'respond'; response: PlainResponse; error?: McpAuthError }
  /** Authenticated: set `req.auth = auth` and continue. */
  | {
    type: 'authenticated'
    auth: AuthInfo
    sessionId: string | undefined
    requests: readonly PolicyRequest[]
    /** The response may assign a new `Mcp-Session-Id` (a POST without one, whose body may be `initialize`). */
    mayCreateSession: boolean
  }
  /** Not a route of ours (or a CORS preflight): continue untouched. */
  | { type: 'next' }

/** The resource server for one MCP endpoint. */
export interface McpAuth {
  /** The canonical resource URI. */
  readonly resource: string
  /** The RFC 9728 metadata URL the 401 challenge points at. */
  readonly protectedResourceMetadataUrl: string
  /** The checked options, defaults filled in. */
  readonly options: Readonly<ResolvedOptions>
  /**
   * Authenticate a request. Resolves with {@link AuthInfo}, or throws {@link McpAuthError} (turn it into a
   * response with {@link McpAuth.errorResponse}).
   */
  authenticate(request: Request | RequestLike, opts?: AuthenticateOptions): Promise<AuthInfo>
  /** Verify a bare token (no header parsing, no scope check). Also makes this object an MCP SDK `OAuthTokenVerifier`. */
  verifyAccessToken(token: string): Promise<AuthInfo>
  /** The metadata response when the request is for a metadata route, else `undefined`. */
  metadataResponse(request: Request | RequestLike): Promise<Response | undefined>
  /** Status, `WWW-Authenticate` and JSON body for an error from `authenticate`. */
  errorResponse(error: unknown, opts?: AuthenticateOptions): Response
  /** Wrap a fetch handler (Hono, Bun, Deno, Workers, the MCP SDK's web-standard transport). */
  fetch(handler: (request: Request, auth: AuthInfo, context: { parsedBody?: unknown }) => Response | Promise<Response>): (request: Request) => Promise<Response>
  /**
   * The whole decision for one request, for adapters: metadata route → respond; protected path (or
   * `protect: true`) → authenticate; anything else → next.
   */
  handle(request: RequestLike, opts?: HandleOptions): Promise<McpAuthOutcome>
  /**
   * For Node hosts, after an `authenticated` outcome: watch the response to bind a new session to its user
   * and, with `policy.filterToolsList`, filter a `tools/list` answer. Does nothing when neither applies.
   */
  watchNodeResponse(outcome: McpAuthOutcome, res: NodeResponseLike): void
  /** Remember that `sessionId` belongs to the user of `auth` (hosts that see the response call this). */
  bindSession(sessionId: string, auth: AuthInfo): Promise<void>
  /** The same refusal as plain data (status, headers, body) for adapters. */
  errorPlainResponse(error: unknown, opts?: AuthenticateOptions): PlainResponse
  /** The metadata response as plain data, or `undefined`. Synchronous. */
  metadataPlainResponse(request: RequestLike): PlainResponse | undefined
  /** True when the path is the resource's path or below it. */
  isProtectedPath(path: string): boolean
  /** Forget cached verification results (e.g. after a revocation you know of). */
  clearCache(): void
}

interface IssuerRuntime {
  config: ResolvedIssuer
  discovery: AuthorizationServerDiscovery | undefined
  keys: IssuerKeys | undefined
  keysPending: Promise<IssuerKeys> | undefined
}

/** Could this body start a session? Unknown (not parsed by the host) counts as yes. */
function mayInitialize(body: unknown): boolean {
  if (body === undefined) return true
  if (Array.isArray(body)) return body.some((m) => (m as { method?: unknown } | null)?.method === 'initialize')
  return (body as { method?: unknown } | null)?.method === 'initialize'
}

function freezeAuthInfo(info: AuthInfo): AuthInfo {
  Object.freeze(info.scopes)
  if (info.extra) Object.freeze(info.extra)
  return Object.freeze(info)
}

/** Shared by every request without a JSON-RPC body to evaluate, instead of a new empty array each time. */
const NO_REQUESTS: readonly PolicyRequest[] = Object.freeze([])

const CORS_PREFLIGHT_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
  'access-control-allow-headers': 'Authorization, Content-Type, MCP-Protocol-Version, Mcp-Session-Id, Last-Event-ID',
  'access-control-expose-headers': 'WWW-Authenticate, Mcp-Session-Id',
  'access-control-max-age': '86400',
}

function isPreflight(request: RequestLike): boolean {
  return request.method === 'OPTIONS' && request.headers.get('access-control-request-method') !== null
}

/**
 * Create the resource server. All options are checked here: a mistake throws a `TypeError`
 * ({@link McpAuthConfigError}) at start-up with a message that says what to write instead.
 *
 * @example
 * ```ts
 * const auth = createMcpAuth({ resource: 'https://mcp.example.com/mcp', issuer: 'https://idp.example.com' })
 * ```
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization
 */
export function createMcpAuth(options: McpAuthOptions): McpAuth {
  const config = resolveOptions(options)
  const emit: EventSink | undefined = eventSink(config.onEvent)
  const fetchOptions: IdpFetchOptions = { fetch: config.fetch, timeout: config.timeout }
  const routes: MetadataRoutes = metadataRoutes(config)
  const isProtected = protectedPathMatcher(config.resourcePath)
  const resourceUrl = new URL(config.resource)
  const tokenCache = config.cache === false ? undefined : new TokenCache(config.cache.max, config.cache.maxTtl)
  const inactive = new LRUCache<string, McpAuthError>({ max: 1000, ttl: 5000 })
  const inFlight = new Map<string, Promise<AuthInfo>>()
  const allowInsecure = options.allowInsecureHttp === true

  const issuers = new Map<string, IssuerRuntime>()
  for (const issuer of config.issuers) {
    const needsDiscovery = !issuer.jwksUri || (issuer.introspection !== undefined && !issuer.introspection.endpoint)
    issuers.set(issuer.issuer, {
      config: issuer,
      discovery: needsDiscovery
        ? new AuthorizationServerDiscovery(issuer.issuer, authorizationServerMetadataUrls(issuer.issuer), fetchOptions, emit, allowInsecure)
        : undefined,
      keys: undefined,
      keysPending: undefined,
    })
  }
  const introspectingIssuers = [...issuers.values()].filter((i) => i.config.introspection)

  function unavailable(issuer: string, what: 'discovery' | 'jwks' | 'introspection', err: unknown): McpAuthError {
    const reason = err instanceof Error ? err.message : String(err)
    emit?.({ type: 'idp_unavailable', issuer, what, reason })
    return new McpAuthError('ERR_IDP_UNAVAILABLE', 'The authorization server cannot be reached to validate the token', {
      cause: err,
      retryAfter: config.retryAfter,
    })
  }

  function keysOf(rt: IssuerRuntime): IssuerKeys | Promise<IssuerKeys> {
    if (rt.keys) return rt.keys
    if (rt.config.jwksUri) {
      rt.keys = new IssuerKeys(rt.config.issuer, rt.config.jwksUri, fetchOptions, config.jwks, emit)
      return rt.keys
    }
    rt.keysPending ??= rt.discovery!.get().then(
      (metadata) => {
        rt.keysPending = undefined
        if (typeof metadata.jwks_uri !== 'string') throw new IdpUnavailable(`the metadata of ${rt.config.issuer} has no jwks_uri`)
        rt.keys ??= new IssuerKeys(rt.config.issuer, metadata.jwks_uri, fetchOptions, config.jwks, emit)
        return rt.keys
      },
      (err: unknown) => {
        rt.keysPending = undefined
        throw err
      },
    )
    return rt.keysPending
  }

  async function verifyJwt(token: string, rt: IssuerRuntime, peeked: NonNullable<ReturnType<typeof peekJwt>>, now: number): Promise<AuthInfo> {
    assertAccessTokenShape(peeked, rt.config.algorithms)
    let keys: IssuerKeys
    try {
      keys = await keysOf(rt)
    } catch (err) {
      throw unavailable(rt.config.issuer, 'discovery', err)
    }
    let payload: Record<string, unknown>
    try {
      payload = await verifyJwtAccessToken(token, {
        issuer: rt.config.issuer,
        audiences: rt.config.audiences,
        audienceClaim: rt.config.audienceClaim,
        algorithms: rt.config.algorithms,
        clockTolerance: config.clockTolerance,
        resolveKey: keys.resolve,
        native: config.nativeCrypto,
      }, now, peeked)
    } catch (err) {
      if (err instanceof McpAuthError && err.code === 'ERR_IDP_UNAVAILABLE') throw unavailable(rt.config.issuer, 'jwks', err.cause ?? err)
      throw err
    }
    return toAuthInfo(token, payload, rt.config, 'jwt')
  }

  async function introspectionTarget(rt: IssuerRuntime): Promise<IntrospectionTarget> {
    const settings = rt.config.introspection!
    let endpoint = settings.endpoint
    if (!endpoint) {
      const metadata = await rt.discovery!.get()
      if (typeof metadata.introspection_endpoint !== 'string') {
        throw new IdpUnavailable(`the metadata of ${rt.config.issuer} has no introspection_endpoint; set introspection.endpoint`)
      }
      endpoint = metadata.introspection_endpoint
    }
    return {
      issuer: rt.config.issuer,
      endpoint,
      settings,
      audiences: rt.config.audiences,
      audienceClaim: rt.config.audienceClaim,
      algorithms: rt.config.algorithms,
      resolveKey: async (header, input) => (await keysOf(rt)).resolve(header, input),
    }
  }

  async function verifyOpaque(token: string, now: number): Promise<AuthInfo> {
    if (introspectingIssuers.length === 0) {
      throw new McpAuthError('ERR_TOKEN_MALFORMED', 'The access token is not a JWT')
    }
    let refusal: McpAuthError | undefined
    let failure: McpAuthError | undefined
    // With several introspecting issuers the token is shown to each in turn until one knows it.
    for (const rt of introspectingIssuers) {
      try {
        const target = await introspectionTarget(rt)
        const result = await introspect(token, target, fetchOptions, now, config.clockTolerance)
        emit?.({ type: 'introspection', issuer: rt.config.issuer, ok: true, active: true })
        return toAuthInfo(token, result, rt.config, 'introspection')
      } catch (err) {
        if (err instanceof McpAuthError) {
          emit?.({ type: 'introspection', issuer: rt.config.issuer, ok: true, active: false })
          refusal ??= err
        } else {
          emit?.({ type: 'introspection', issuer: rt.config.issuer, ok: false, reason: err instanceof Error ? err.message : String(err) })
          failure ??= unavailable(rt.config.issuer, 'introspection', err)
        }
      }
    }
    throw failure ?? refusal!
  }

  function introspectionTtl(issuer: string | undefined): number | undefined {
    if (!issuer) return undefined
    return issuers.get(issuer)?.config.introspection?.cacheTtl
  }

  async function verifyUncached(token: string, now: number): Promise<AuthInfo> {
    if (config.verify) return runCustomVerifier(token)
    const peeked = config.tokenFormat === 'opaque' ? undefined : peekJwt(token)
    if (peeked) {
      const iss = peeked.payload.iss
      const rt = typeof iss === 'string' ? issuers.get(iss) : undefined
      if (rt) return verifyJwt(token, rt, peeked, now)
      // An untrusted iss is refused before any request to any IdP.
      if (iss !== undefined || config.tokenFormat === 'jwt') {
        throw new McpAuthError('ERR_TOKEN_ISSUER', 'The token issuer is not trusted')
      }
    } else if (config.tokenFormat === 'jwt') {
      throw new McpAuthError('ERR_TOKEN_MALFORMED', 'The access token is not a JWT')
    }
    return verifyOpaque(token, now)
  }

  async function runCustomVerifier(token: string): Promise<AuthInfo> {
    let info: AuthInfo
    try {
      info = await config.verify!(token, { resource: config.resource })
    } catch (err) {
      if (err instanceof McpAuthError) throw err
      throw new McpAuthError('ERR_TOKEN_REJECTED', 'The access token was rejected', { cause: err })
    }
    if (info === null || typeof info !== 'object' || typeof info.clientId !== 'string' || !Array.isArray(info.scopes)) {
      throw new McpAuthError('ERR_TOKEN_REJECTED', 'The access token was rejected', {
        cause: new TypeError('verify() must return an AuthInfo: { token, clientId: string, scopes: string[], … }'),
      })
    }
    if (info.expiresAt !== undefined && (!Number.isFinite(info.expiresAt) || info.expiresAt <= Date.now() / 1000)) {
      throw new McpAuthError('ERR_TOKEN_EXPIRED', 'The access token expired')
    }
    return { ...info, token, resource: info.resource ?? resourceUrl, extra: { verifiedBy: 'custom', ...info.extra } }
  }

  function toAuthInfo(token: string, claims: Record<string, unknown>, issuer: ResolvedIssuer, verifiedBy: 'jwt' | 'introspection'): AuthInfo {
    const exp = optionalNumericDate(claims, 'exp')
    for (const [name, value] of issuer.requiredClaims) {
      if (claims[name] !== value) throw new McpAuthError('ERR_TOKEN_CLAIM', `The ${name.replace(/[^\w-]/g, '')} claim does not have the value this server requires`)
    }
    const prefix = issuer.scopePrefix
    const scopes = readScopes(claims, issuer.scopeClaims)
    const info: AuthInfo = {
      token,
      clientId: readClientId(claims, issuer.clientIdClaims),
      scopes: prefix ? scopes.map((s) => (s.startsWith(prefix) ? s : prefix + s)) : scopes,
      resource: resourceUrl,
      extra: { subject: optionalString(claims, 'sub'), issuer: issuer.issuer, claims, verifiedBy },
    }
    if (exp !== undefined) info.expiresAt = exp
    return info
  }

  /** The cached result for `key` if it is still valid at `now`. Synchronous: this is the path most requests take. */
  function cachedInfo(key: string, now: number): AuthInfo | undefined {
    if (!tokenCache) return undefined
    const hit = tokenCache.get(key, now, config.clockTolerance)
    if (hit) {
      emit?.({ type: 'cache', hit: true, cache: 'token' })
      return hit.info
    }
    emit?.({ type: 'cache', hit: false, cache: 'token' })
    return undefined
  }

  /**
   * A cache hit comes back as the value itself, not a promise, so the hit path costs no promise and no
   * microtask; everything else comes back as a promise.
   */
  function verifyToken(token: string): AuthInfo | Promise<AuthInfo> {
    const now = Math.floor(Date.now() / 1000)
    const hashed = hashToken(token)
    if (typeof hashed !== 'string') return hashed.then((key) => cachedInfo(key, now) ?? verifyMiss(token, key, now))
    return cachedInfo(hashed, now) ?? verifyMiss(token, hashed, now)
  }

  function verifyMiss(token: string, key: string, now: number): Promise<AuthInfo> {
    const known = inactive.get(key)
    if (known) return Promise.reject(known)
    const pending = inFlight.get(key)
    if (pending) return pending
    const verification = verifyUncached(token, now).then(
      (verified) => {
        // One AuthInfo serves every request with this token: frozen, so a handler cannot change what the next sees.
        const info = freezeAuthInfo(tokenCache ? tokenCache.compact(verified) : verified)
        if (tokenCache) {
          const extra = authInfoExtra(info)
          const nbf = extra.claims?.nbf
          const ttl = extra.verifiedBy === 'introspection' ? introspectionTtl(extra.issuer) : undefined
          tokenCache.set(key, { info, exp: info.expiresAt, nbf: typeof nbf === 'number' ? nbf : undefined }, now, ttl)
        }
        return info
      },
      (err: unknown) => {
        if (err instanceof McpAuthError && err.code === 'ERR_TOKEN_INACTIVE') {
          // Only introspection answers are remembered (a custom verifier's refusals are its own business).
          const ttls = introspectingIssuers.map((i) => i.config.introspection!.inactiveCacheTtl)
          const ttl = config.verify || ttls.length === 0 ? 0 : Math.min(...ttls)
          if (ttl > 0) inactive.set(key, err, { ttl: ttl * 1000 })
        }
        throw err
      },
    ).finally(() => inFlight.delete(key))
    inFlight.set(key, verification)
    return verification
  }

  async function verifyAccessToken(token: string): Promise<AuthInfo> {
    return verifyToken(token)
  }

  function checkScopes(info: AuthInfo, required: readonly string[]): void {
    if (required.length === 0) return
    const missing = required.filter((s) => !info.scopes.includes(s))
    if (missing.length > 0) {
      // RFC 6750 §3.1 and MCP step-up: ask for what the token has plus what it lacks, so re-authorization does not lose scopes.
      throw new McpAuthError('ERR_INSUFFICIENT_SCOPE', 'The access token lacks a scope this request needs', {
        scopes: scopeTokens([...info.scopes, ...required]),
      })
    }
  }

  /** The bearer token of the request, verified (a cache hit comes back without a promise). */
  function verifyRequest(request: RequestLike): AuthInfo | Promise<AuthInfo> {
    const token = extractBearerToken(request, config.maxTokenLength)
    if (token === undefined) throw new McpAuthError('ERR_MISSING_TOKEN', 'Authentication required')
    return verifyToken(token)
  }

  async function authenticateLike(request: RequestLike, opts?: AuthenticateOptions): Promise<AuthInfo> {
    const verified = verifyRequest(request)
    const info = verified instanceof Promise ? await verified : verified
    checkScopes(info, opts?.scopes ?? config.requiredScopes)
    return info
  }

  const missingChallenges = new Map<string, PlainResponse>()
  const jsonHeaders = { 'content-type': 'application/json', 'cache-control': 'no-store' }

  function errorPlainResponse(error: unknown, opts?: AuthenticateOptions): PlainResponse {
    const err = error instanceof McpAuthError
      ? error
      : new McpAuthError('ERR_IDP_UNAVAILABLE', 'The token could not be validated', { cause: error, retryAfter: config.retryAfter })
    if (err.code === 'ERR_SESSION_MISMATCH') {
      // The transport's own answer for an unknown session, so a foreign session id looks like any unknown one.
      return { status: 404, headers: jsonHeaders, body: '{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}' }
    }
    if (err.status === 503) {
      return {
        status: 503,
        headers: { ...jsonHeaders, 'retry-after': String(err.retryAfter ?? config.retryAfter) },
        body: JSON.stringify({ error: 'temporarily_unavailable', error_description: err.description }),
      }
    }
    const challengeScopes = err.code === 'ERR_INSUFFICIENT_SCOPE' ? err.scopes : opts?.scopes ?? defaultChallengeScopes
    if (err.code === 'ERR_MISSING_TOKEN') {
      const cacheKey = challengeScopes?.join(' ') ?? ''
      let cached = missingChallenges.get(cacheKey)
      if (!cached) {
        cached = challengeResponse(err, challengeScopes)
        if (missingChallenges.size < 100) missingChallenges.set(cacheKey, cached)
      }
      return cached
    }
    return challengeResponse(err, challengeScopes)
  }

  function challengeResponse(err: McpAuthError, scopes: readonly string[] | undefined): PlainResponse {
    const header = buildChallenge({
      ...(err.error ? { error: err.error } : {}),
      ...(err.error ? { description: err.description } : {}),
      resourceMetadata: routesUrl,
      ...(scopes ? { scope: scopes } : {}),
    })
    const body = err.error
      ? JSON.stringify({ error: err.error, error_description: err.description })
      : JSON.stringify({ error: 'unauthorized', error_description: err.description })
    return {
      status: err.status,
      headers: { ...jsonHeaders, 'www-authenticate': header, 'access-control-expose-headers': 'WWW-Authenticate' },
      body,
    }
  }

  const routesUrl = config.metadataUrl
  // The 401 asks for the minimal set: what every request needs, else what the server supports (never offline_access).
  const defaultChallengeScopes = (config.requiredScopes.length > 0 ? config.requiredScopes : config.scopesSupported)
    .filter((s) => s !== 'offline_access')

  function prmResponse(method: string, path: string): PlainResponse | undefined {
    if (!routes.paths.has(path) && !(path.endsWith('/') && routes.paths.has(path.slice(0, -1)))) return undefined
    return routes.respond(method)
  }

  /** The path the client used: behind a trusted proxy, with the prefix the proxy stripped put back. */
  function publicPath(request: RequestLike): string {
    const path = pathOf(request.url)
    return config.trustProxy ? forwardedParts(request).prefix + path : path
  }

  function metadataPlainResponse(request: RequestLike): PlainResponse | undefined {
    try {
      return prmResponse(request.method, publicPath(request))
    } catch {
      return undefined
    }
  }

  let mirrorDiscovery: AuthorizationServerDiscovery | undefined
  const mirror = config.mirror && createMirror(config.mirror, () => {
    const only = issuers.values().next().value!
    mirrorDiscovery ??= only.discovery ?? new AuthorizationServerDiscovery(only.config.issuer, authorizationServerMetadataUrls(only.config.issuer), fetchOptions, emit, allowInsecure)
    return mirrorDiscovery
  }, config.retryAfter)

  function report(err: unknown): never {
    if (err instanceof McpAuthError) emit?.({ type: 'rejected', code: err.code, status: err.status })
    throw err
  }

  function union(a: readonly string[], b: readonly string[]): readonly string[] {
    if (b.length === 0) return a
    return [...new Set([...a, ...b])]
  }

  async function checkSession(sessionId: string, store: SessionStore, info: AuthInfo): Promise<void> {
    const bound = await store.get(sessionId)
    if (bound && !sameBinding(bound, bindingOf(info))) throw new McpAuthError('ERR_SESSION_MISMATCH', 'Session not found')
  }

  async function handle(request: RequestLike, opts?: HandleOptions): Promise<McpAuthOutcome> {
    let path: string
    try {
      path = publicPath(request)
    } catch (err) {
      return { type: 'respond', response: errorPlainResponse(err), ...(err instanceof McpAuthError ? { error: err } : {}) }
    }
    const metadata = prmResponse(request.method, path)
    if (metadata) return { type: 'respond', response: metadata }
    if (opts?.body === BODY_TOO_LARGE) return { type: 'respond', response: tooLarge }
    if (mirror?.paths.has(path)) return { type: 'respond', response: await mirror.respond(request.method) }
    if (!opts?.protect && !isProtected(path)) return { type: 'next' }
    if (isPreflight(request)) return { type: 'next' }
    const policy = config.policy
    const requests = policy && opts?.body !== undefined ? jsonRpcRequests(opts.body) : NO_REQUESTS
    // What this request needs from its path and, with a policy, from its JSON-RPC body (known before the token).
    let needs = opts?.scopes ?? config.requiredScopes
    if (policy) for (const r of requests) needs = union(needs, staticScopes(policy, r))
    try {
      const verified = verifyRequest(request)
      const info = verified instanceof Promise ? await verified : verified
      if (policy?.check && requests.length > 0) {
        const decided = await policyNeeds(policy, requests, info)
        needs = union(needs, decided.scopes)
        if (decided.denied) {
          throw new McpAuthError('ERR_INSUFFICIENT_SCOPE', 'The access token is not allowed to make this request', { scopes: scopeTokens([...info.scopes, ...needs]) })
        }
      }
      checkScopes(info, needs)
      const sessionId = request.headers.get('mcp-session-id') ?? undefined
      // Only a request that names a session pays for the store lookup (and its await).
      if (sessionId && config.sessionStore) await checkSession(sessionId, config.sessionStore, info)
      if (emit) {
        const extra = authInfoExtra(info)
        emit({ type: 'authenticated', clientId: info.clientId, verifiedBy: extra.verifiedBy ?? 'jwt', ...(extra.issuer ? { issuer: extra.issuer } : {}), ...(extra.subject ? { subject: extra.subject } : {}) })
      }
      const mayCreateSession = sessionId === undefined && request.method === 'POST' && mayInitialize(opts?.body)
      return { type: 'authenticated', auth: info, sessionId, requests, mayCreateSession }
    } catch (err) {
      if (err instanceof McpAuthError) emit?.({ type: 'rejected', code: err.code, status: err.status })
      const challenge = needs.length > 0 ? { scopes: needs } : undefined
      return { type: 'respond', response: errorPlainResponse(err, challenge), ...(err instanceof McpAuthError ? { error: err } : {}) }
    }
  }

  function responseHooks(outcome: McpAuthOutcome): InterceptHooks | undefined {
    if (outcome.type !== 'authenticated') return undefined
    const hooks: InterceptHooks = {}
    const { auth: info, requests } = outcome
    if (config.sessionStore && outcome.mayCreateSession) hooks.onSessionId = (id) => void bindSession(id, info)
    const policy = config.policy
    if (policy?.filterToolsList) {
      const ids = new Set(requests.filter((r) => r.method === 'tools/list' && r.id !== undefined).map((r) => r.id!))
      if (ids.size > 0) hooks.transformBody = (body, type) => filterToolsListBody(body, type, ids, (tool) => toolAllowed(policy, tool, info.scopes))
    }
    return hooks.onSessionId || hooks.transformBody ? hooks : undefined
  }

  async function bindSession(sessionId: string, info: AuthInfo): Promise<void> {
    try {
      await config.sessionStore?.set(sessionId, bindingOf(info))
    } catch {
      // A failing external store must not fail the response; the session is then simply unbound.
    }
  }

  const fetchPreflight = { status: 204, headers: CORS_PREFLIGHT_HEADERS, body: '' }
  const tooLarge: PlainResponse = {
    status: 413,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: '{"error":"invalid_request","error_description":"The request body is too large"}',
  }

  async function fetchHandler(request: Request, handler: Parameters<McpAuth['fetch']>[0]): Promise<Response> {
    let body: unknown
    let forward = request
    // Media types are case-insensitive (RFC 9110 §8.3.1): a body skipped here is a body the policy never sees.
    const type = (request.headers.get('content-type') ?? '').toLowerCase()
    if (config.policy && request.method === 'POST' && type.includes('json') && metadataPlainResponse(request) === undefined) {
      // Read the body once, and at most MAX_REQUEST_BODY_BYTES of it: the policy sees it, the handler gets it
      // parsed and a fresh, unread Request.
      let text: string
      try {
        text = await readLimited(request, MAX_REQUEST_BODY_BYTES)
      } catch {
        return toResponse(tooLarge)
      }
      try {
        body = JSON.parse(text)
      } catch {
        body = undefined
      }
      forward = new Request(request.url, { method: request.method, headers: request.headers, body: text, signal: request.signal })
    }
    const outcome = await handle(request, { protect: true, ...(body !== undefined ? { body } : {}) })
    if (outcome.type === 'respond') return toResponse(outcome.response)
    if (outcome.type === 'next') return toResponse(fetchPreflight)
    const response = await handler(forward, outcome.auth, body !== undefined ? { parsedBody: body } : {})
    const hooks = responseHooks(outcome)
    if (!hooks) return response
    const sessionId = response.headers.get('mcp-session-id')
    if (sessionId) hooks.onSessionId?.(sessionId)
    if (!hooks.transformBody) return response
    const text = hooks.transformBody(await response.text(), response.headers.get('content-type') ?? '')
    const headers = new Headers(response.headers)
    headers.delete('content-length')
    return new Response(text, { status: response.status, statusText: response.statusText, headers })
  }

  const auth: McpAuth = {
    resource: config.resource,
    protectedResourceMetadataUrl: config.metadataUrl,
    options: config,
    authenticate: (request, opts) => authenticateLike(request, opts).catch(report),
    verifyAccessToken,
    metadataResponse: async (request) => {
      const plain = metadataPlainResponse(request)
      if (plain) return toResponse(plain)
      if (mirror?.paths.has(pathOf(request.url))) return toResponse(await mirror.respond(request.method))
      return undefined
    },
    errorResponse: (error, opts) => toResponse(errorPlainResponse(error, opts)),
    errorPlainResponse,
    metadataPlainResponse,
    isProtectedPath: (path) => isProtected(pathOf(path)),
    handle,
    watchNodeResponse: (outcome, res) => {
      const hooks = responseHooks(outcome)
      if (hooks) interceptNodeResponse(res, hooks)
    },
    bindSession,
    fetch: (handler) => (request) => fetchHandler(request, handler),
    clearCache: () => {
      tokenCache?.clear()
      inactive.clear()
    },
  }
  return auth
}
