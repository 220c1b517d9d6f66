/**
 * An issuer's signing keys: jose's remote JWK Set (cooldown, one refetch on an unknown `kid`, shared
 * in-flight fetches) plus what jose does not do: the last good key set keeps working for a bounded time
 * while the endpoint fails, and a failing endpoint is not asked again on every request.
 *
 * Keys come only from the configured or discovered `jwks_uri`: the token's `jku`, `x5u`, `jwk` and `x5c`
 * headers are never read (RFC 8725 §3.10).
 */
import { base64url, createLocalJWKSet, createRemoteJWKSet, customFetch, errors, jwksCache, type JSONWebKeySet, type JWSHeaderParameters, type FlattenedJWSInput } from 'jose'
import { IdpUnavailable, limitedFetch, type IdpFetchOptions } from '../http/idp-fetch.js'
import type { EventSink } from '../events.js'

type KeyResolver = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>

export interface JwksSettings {
  cooldown: number
  maxAge: number
  staleIfError: number
}

/** Thrown when no key in the issuer's set matches the token: a token problem, not an IdP problem. */
export class KeyNotFound extends Error {
  override readonly name = 'KeyNotFound'
}

/**
 * Was the token issued (`iat`, at second precision) no earlier than `sinceMs`? A token without `iat` (RFC 9068
 * requires it) gives no reason to wait, so it counts as no.
 */
function issuedSince(token: FlattenedJWSInput, sinceMs: number | undefined): boolean {
  if (sinceMs === undefined) return false
  try {
    const iat = (JSON.parse(new TextDecoder().decode(base64url.decode(token.payload as string))) as { iat?: unknown }).iat
    return typeof iat === 'number' && iat >= Math.floor(sinceMs / 1000)
  } catch {
    return false
  }
}

export class IssuerKeys {
  readonly #issuer: string
  readonly #settings: JwksSettings
  readonly #emit: EventSink | undefined
  readonly #remote: ReturnType<typeof createRemoteJWKSet>
  readonly #cache: { uat?: number; jwks?: JSONWebKeySet } = {}
  #stale: { jwks: JSONWebKeySet; resolver: KeyResolver } | undefined
  #downUntil = 0

  constructor(issuer: string, jwksUri: string, fetchOptions: IdpFetchOptions, settings: JwksSettings, emit: EventSink | undefined) {
    this.#issuer = issuer
    this.#settings = settings
    this.#emit = emit
    this.#remote = createRemoteJWKSet(new URL(jwksUri), {
      cooldownDuration: settings.cooldown * 1000,
      cacheMaxAge: settings.maxAge * 1000,
      timeoutDuration: fetchOptions.timeout,
      [customFetch]: limitedFetch(fetchOptions, (ok, reason) => emit?.({ type: 'jwks_fetch', issuer, ok, ...(reason ? { reason } : {}) })),
      [jwksCache]: this.#cache,
    } as Parameters<typeof createRemoteJWKSet>[1])
  }

  /** A jose key resolver for `jwtVerify`. Throws {@link KeyNotFound} or {@link IdpUnavailable}. */
  readonly resolve: KeyResolver = async (header, token) => {
    if (Date.now() < this.#downUntil) return this.#fromStale(header, token, 'endpoint failing, waiting before the next try')
    const fetchedAt = this.#cache.uat
    try {
      return (await this.#remote(header, token)) as CryptoKey
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey && this.#cache.uat === fetchedAt && this.#remote.coolingDown
        && issuedSince(token, fetchedAt)) {
        // jose did not refetch (the last fetch is under `cooldown` old) and the token is newer than our key set,
        // so its kid may be a key the IdP has just started signing with: "cannot validate yet" (503), not
        // "invalid" (401, which makes clients throw good tokens away). A token older than our set cannot be
        // signed by a key published after it, so that stays a 401. Floods still cost one fetch per cooldown.
        throw new IdpUnavailable('unknown key id within the JWKS refetch cooldown')
      }
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
        throw new KeyNotFound('no matching key', { cause: err })
      }
      if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) throw err
      // Anything else means the key set could not be fetched or parsed: wait a cooldown before asking again.
      this.#downUntil = Date.now() + this.#settings.cooldown * 1000
      return this.#fromStale(header, token, err instanceof Error ? err.message : 'fetch failed')
    }
  }

  async #fromStale(header: JWSHeaderParameters, token: FlattenedJWSInput, reason: string): Promise<CryptoKey> {
    const { jwks, uat } = this.#cache
    const age = uat === undefined ? Infinity : (Date.now() - uat) / 1000
    if (!jwks || age > this.#settings.staleIfError) {
      this.#emit?.({ type: 'idp_unavailable', issuer: this.#issuer, what: 'jwks', reason })
      throw new IdpUnavailable(`JWKS unavailable: ${reason}`)
    }
    if (this.#stale?.jwks !== jwks) this.#stale = { jwks, resolver: createLocalJWKSet(jwks) as KeyResolver }
    this.#emit?.({ type: 'jwks_stale', issuer: this.#issuer, ageSeconds: Math.round(age) })
    try {
      return await this.#stale.resolver(header, token)
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
        // The key may be new and the endpoint that would tell us is down: say "cannot validate", not "invalid".
        throw new IdpUnavailable('JWKS unavailable and the key is not in the last good set')
      }
      throw err
    }
  }
}
