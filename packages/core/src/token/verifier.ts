/**
 * The `TokenVerifier`: from an access token to a verified, frozen {@link AuthInfo}, or an {@link McpAuthError}.
 * It owns the trusted issuers (token/trusted-issuer.ts: discovery, JWKS, introspection endpoint), JWT
 * validation (RFC 9068, token/rfc9068.ts), introspection (RFC 7662, token/rfc7662.ts), a custom verifier, the
 * verified-token cache (token/cache.ts), the inactive-token cache, and single-flight (one verification per
 * distinct token in flight). Usable on its own: `new TokenVerifier(resolveOptions({ resource, issuer }))`.
 */
import { LRUCache } from 'lru-cache'
import { authInfoExtra, type AuthInfo } from '../auth-info.js'
import { McpAuthError } from '../errors.js'
import { eventSink, type EventSink } from '../events.js'
import type { RequestLike } from '../http/request-like.js'
import type { AuthorizationServerDiscovery } from '../metadata/rfc8414.js'
import type { ResolvedOptions } from '../options.js'
import { TokenCache } from './cache.js'
import { toAuthInfo } from './claims.js'
import { runCustomVerifier } from './custom-verifier.js'
import { hashToken } from './hash.js'
import { assertBearerUsable, bearerNotAccepted, DpopStage } from './dpop.js'
import { assertToken68, readCredentials } from './rfc6750.js'
import { introspect } from './rfc7662.js'
import { assertAccessTokenShape, isCompactJose, peekJwt, verifyJwtAccessToken, type PeekedJwt } from './rfc9068.js'
import { TrustedIssuer } from './trusted-issuer.js'

export interface TokenVerifierContext {
  /** Where events go; default: `config.onEvent`, wrapped so a throwing hook cannot break a request. */
  emit?: EventSink | undefined
  /** Accept http issuers on non-loopback hosts for discovery (`allowInsecureHttp`). Default false. */
  allowInsecureHttp?: boolean
}

function freezeAuthInfo(info: AuthInfo): AuthInfo {
  Object.freeze(info.scopes)
  if (info.extra) Object.freeze(info.extra)
  return Object.freeze(info)
}

export class TokenVerifier {
  private readonly emit: EventSink | undefined
  private readonly fetchOptions: { fetch: typeof fetch; timeout: number }
  private readonly resourceUrl: URL
  /** RFC 9449: the DPoP stage, when `dpop` is not false. */
  private readonly dpop: DpopStage | undefined
  private readonly issuers = new Map<string, TrustedIssuer>()
  private readonly introspecting: TrustedIssuer[]
  private readonly cache: TokenCache | undefined
  /** Refusals remembered, each with the wall-clock time (ms) it ends at, checked like the token cache's. */
  private readonly inactive = new LRUCache<string, { error: McpAuthError; until: number }>({ max: 1000 })
  /** Seconds an ERR_TOKEN_INACTIVE answer is remembered: the shortest of the introspecting issuers' settings. */
  private readonly inactiveTtl: number
  private readonly inFlight = new Map<string, Promise<AuthInfo>>()
  /** Keys of JWTs verified once and not cached (yet): a JWT is cached from its second use (see {@link remember}). */
  private readonly seenOnce: LRUCache<string, true> | undefined

  constructor(private readonly config: ResolvedOptions, context: TokenVerifierContext = {}) {
    this.emit = 'emit' in context ? context.emit : eventSink(config.onEvent)
    this.fetchOptions = { fetch: config.fetch, timeout: config.timeout }
    this.resourceUrl = new URL(config.resource)
    this.dpop = config.dpop ? new DpopStage(config.dpop, config.resource, config.trustProxy, config.retryAfter) : undefined
    const ctx = { fetchOptions: this.fetchOptions, jwks: config.jwks, emit: this.emit, allowInsecure: context.allowInsecureHttp === true }
    for (const issuer of config.issuers) this.issuers.set(issuer.issuer, new TrustedIssuer(issuer, ctx))
    this.introspecting = [...this.issuers.values()].filter((i) => i.config.introspection)
    this.cache = config.cache === false ? undefined : new TokenCache(config.cache.max, config.cache.maxTtl)
    this.seenOnce = config.cache === false ? undefined : new LRUCache<string, true>({ max: config.cache.max })
    const ttls = this.introspecting.map((i) => i.config.introspection!.inactiveCacheTtl)
    this.inactiveTtl = config.verify || ttls.length === 0 ? 0 : Math.min(...ttls)
  }

  /**
   * Verify a token. A cache hit comes back as the value itself, not a promise, so the hit path costs no
   * promise and no microtask; everything else comes back as a promise (rejected with an McpAuthError, or with
   * ERR_IDP_UNAVAILABLE when the IdP cannot answer).
   */
  verify(token: string): AuthInfo | Promise<AuthInfo> {
    return this.verifyBearer(token, false)
  }

  /** {@link verify}; with `syntax`, a token not in the cache is first checked to be a b64token (RFC 6750 §2.1). */
  private verifyBearer(token: string, syntax: boolean): AuthInfo | Promise<AuthInfo> {
    // A bearer token: a DPoP-bound one is refused (RFC 9449 §7.2), and with dpop 'required' every one is.
    if (this.dpop?.config.mode === 'required') return Promise.reject(bearerNotAccepted())
    const verified = this.verifyToken(token, syntax)
    return verified instanceof Promise ? verified.then(this.asBearer) : this.asBearer(verified)
  }

  private readonly asBearer = (info: AuthInfo): AuthInfo => assertBearerUsable(info, this.dpop?.config.mode ?? false)

  /** {@link verify} without the bearer rule: the token itself, whatever key it is bound to (token/dpop.ts checks that). */
  verifyToken(token: string, syntax = false): AuthInfo | Promise<AuthInfo> {
    const nowMs = Date.now()
    // A cached token is found by its tail (token/cache.ts), without hashing it.
    const hit = this.cachedByTail(token, nowMs)
    if (hit) return hit
    // Only a token that is not found there can be malformed: a cached one passed this check, and its entry holds it whole.
    if (syntax) assertToken68(token)
    const hashed = hashToken(token)
    return typeof hashed === 'string' ? this.byHash(token, hashed, nowMs) : hashed.then((key) => this.byHash(token, key, nowMs))
  }

  private byHash(token: string, key: string, nowMs: number): AuthInfo | Promise<AuthInfo> {
    return this.cachedByHash(token, key, nowMs) ?? this.miss(token, key, nowMs)
  }

  /**
   * The request's access token, verified: a bearer token (RFC 6750 §2.1), or a DPoP-bound one with its proof
   * (RFC 9449 §7, token/dpop.ts — checked on cache hits too). ERR_MISSING_TOKEN without one. Synchronous on a
   * bearer cache hit.
   */
  verifyRequest(request: RequestLike): AuthInfo | Promise<AuthInfo> {
    const credential = readCredentials(request, this.config.maxTokenLength, this.dpop !== undefined)
    if (credential === undefined) throw new McpAuthError('ERR_MISSING_TOKEN', 'Authentication required')
    // The token's syntax is checked on a cache miss only (verifyToken), except where another refusal could
    // otherwise come first: a DPoP proof is checked before the token, and 'required' refuses every bearer token.
    if (credential.scheme === 'dpop') {
      assertToken68(credential.token)
      return this.dpop!.check(request, credential.token, (token) => this.verifyToken(token))
    }
    if (this.dpop?.config.mode === 'required') assertToken68(credential.token)
    return this.verifyBearer(credential.token, true)
  }

  /** Forget cached verification results, active and inactive. */
  clear(): void {
    this.cache?.clear()
    this.seenOnce?.clear()
    this.inactive.clear()
  }

  /** The discovery of the first configured issuer (the one the RFC 8414 mirror serves). */
  firstIssuerDiscovery(): AuthorizationServerDiscovery | undefined {
    return this.issuers.values().next().value?.metadataDiscovery()
  }

  /** The cached result for `token` if it is kept under its tail and still valid at `now`. Synchronous: this is the path most requests take. */
  private cachedByTail(token: string, nowMs: number): AuthInfo | undefined {
    const hit = this.cache?.get(token, nowMs, this.config.clockTolerance)
    if (hit === undefined) return undefined
    this.emit?.({ type: 'cache', hit: true, cache: 'token' })
    return hit.info
  }

  /** Not under its tail: the cached result kept under the token's hash (`key`), if any; else a cache miss. */
  private cachedByHash(token: string, key: string, nowMs: number): AuthInfo | undefined {
    const cache = this.cache
    if (!cache) return undefined
    const hit = cache.getHashed(token, key, nowMs, this.config.clockTolerance)
    this.emit?.({ type: 'cache', hit: hit !== undefined, cache: 'token' })
    return hit?.info
  }

  /** Not cached: a remembered inactive answer, the verification already in flight, or a new one (single-flight). */
  private miss(token: string, key: string, nowMs: number): Promise<AuthInfo> {
    const known = this.inactive.get(key)
    if (known) {
      if (known.until > nowMs) return Promise.reject(known.error)
      this.inactive.delete(key)
    }
    const pending = this.inFlight.get(key)
    if (pending) return pending
    const verification = this.uncached(token, Math.floor(nowMs / 1000)).then(
      (verified) => this.remember(token, key, verified, nowMs),
      (err: unknown) => {
        // Only introspection answers are remembered (a custom verifier's refusals are its own business).
        if (err instanceof McpAuthError && err.code === 'ERR_TOKEN_INACTIVE' && this.inactiveTtl > 0) {
          this.inactive.set(key, { error: err, until: nowMs + this.inactiveTtl * 1000 })
        }
        throw err
      },
    ).finally(() => this.inFlight.delete(key))
    this.inFlight.set(key, verification)
    return verification
  }

  private remember(token: string, key: string, verified: AuthInfo, nowMs: number): AuthInfo {
    // A JWT is cached from its second use: checking it again costs a signature check, while caching every token
    // seen once kept each one-shot token's claims alive until evicted (old-generation garbage, and evictions of
    // the tokens that are used again). The first use leaves only its key. Introspection results are cached at
    // once: a second call would be a request to the IdP.
    const cache = this.cache
    if (cache && authInfoExtra(verified).verifiedBy === 'jwt' && !this.seenOnce!.delete(key)) {
      this.seenOnce!.set(key, true)
      return freezeAuthInfo(verified)
    }
    // One AuthInfo serves every request with this token: frozen, so a handler cannot change what the next sees.
    const info = freezeAuthInfo(cache ? cache.compact(verified) : verified)
    if (cache) {
      const extra = authInfoExtra(info)
      const nbf = extra.claims?.nbf
      const ttl = extra.verifiedBy === 'introspection' && extra.issuer ? this.issuers.get(extra.issuer)?.config.introspection?.cacheTtl : undefined
      cache.set(token, key, { info, exp: info.expiresAt, nbf: typeof nbf === 'number' ? nbf : undefined }, nowMs, ttl)
    }
    return info
  }

  private async uncached(token: string, now: number): Promise<AuthInfo> {
    const config = this.config
    if (config.verify) return runCustomVerifier(config.verify, token, config.resource, this.resourceUrl)
    if (config.tokenFormat === 'opaque') return this.verifyOpaque(token, now)
    const peeked = peekJwt(token)
    if (peeked) {
      const iss = peeked.payload.iss
      const issuer = typeof iss === 'string' ? this.issuers.get(iss) : undefined
      if (issuer) return this.verifyJwt(token, issuer, peeked, now)
      // No iss, or an untrusted one: refused before any request to any IdP (introspection included).
      throw new McpAuthError('ERR_TOKEN_ISSUER', 'The token issuer is not trusted')
    }
    // JOSE-shaped but not a well-formed JWS (a JWE, padding, a bad header) is judged here too: only tokens
    // that are not JOSE at all are the introspection endpoint's business.
    if (config.tokenFormat === 'jwt' || isCompactJose(token)) throw new McpAuthError('ERR_TOKEN_MALFORMED', 'The access token is not a JWT')
    return this.verifyOpaque(token, now)
  }

  private async verifyJwt(token: string, issuer: TrustedIssuer, peeked: PeekedJwt, now: number): Promise<AuthInfo> {
    const rules = issuer.config
    assertAccessTokenShape(peeked, rules.algorithms)
    let keys
    try {
      keys = await issuer.keySet()
    } catch (err) {
      throw this.unavailable(rules.issuer, 'discovery', err)
    }
    let payload: Record<string, unknown>
    try {
      payload = await verifyJwtAccessToken(token, {
        issuer: rules.issuer,
        audiences: rules.audiences,
        audienceClaim: rules.audienceClaim,
        algorithms: rules.algorithms,
        clockTolerance: this.config.clockTolerance,
        resolveKey: keys.resolve,
        native: this.config.nativeCrypto,
        path: this.config.verifyPath,
      }, now, peeked)
    } catch (err) {
      if (err instanceof McpAuthError && err.code === 'ERR_IDP_UNAVAILABLE') throw this.unavailable(rules.issuer, 'jwks', err.cause ?? err)
      throw err
    }
    return toAuthInfo(token, payload, rules, 'jwt', this.resourceUrl)
  }

  private async verifyOpaque(token: string, now: number): Promise<AuthInfo> {
    if (this.introspecting.length === 0) {
      throw new McpAuthError('ERR_TOKEN_MALFORMED', 'The access token is not a JWT')
    }
    let refusal: McpAuthError | undefined
    let failure: McpAuthError | undefined
    // With several introspecting issuers the token is shown to each in turn until one knows it.
    for (const issuer of this.introspecting) {
      const name = issuer.config.issuer
      try {
        const target = await issuer.introspectionTarget()
        const result = await introspect(token, target, this.fetchOptions, now, this.config.clockTolerance)
        this.emit?.({ type: 'introspection', issuer: name, ok: true, active: true })
        return toAuthInfo(token, result, issuer.config, 'introspection', this.resourceUrl)
      } catch (err) {
        if (err instanceof McpAuthError) {
          this.emit?.({ type: 'introspection', issuer: name, ok: true, active: false })
          refusal ??= err
        } else {
          this.emit?.({ type: 'introspection', issuer: name, ok: false, reason: err instanceof Error ? err.message : String(err) })
          failure ??= this.unavailable(name, 'introspection', err)
        }
      }
    }
    throw failure ?? refusal!
  }

  private unavailable(issuer: string, what: 'discovery' | 'jwks' | 'introspection', err: unknown): McpAuthError {
    const reason = err instanceof Error ? err.message : String(err)
    this.emit?.({ type: 'idp_unavailable', issuer, what, reason })
    return new McpAuthError('ERR_IDP_UNAVAILABLE', 'The authorization server cannot be reached to validate the token', {
      cause: err,
      retryAfter: this.config.retryAfter,
    })
  }
}
