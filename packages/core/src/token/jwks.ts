/**
 * An issuer's signing keys, from its `jwks_uri` (RFC 7517 key set), kept the way a key rotation and a flood of
 * forged tokens both need:
 *
 *   - fetched on first use and again once `maxAge` old, one fetch shared by concurrent requests;
 *   - refetched at once when a token names a `kid` the set does not have — even right after a fetch, so the
 *     first token signed with a key the IdP has just published passes — but such refetches are limited to
 *     one per `cooldown`, shared by concurrent requests, so a flood of invented kids costs one fetch per
 *     cooldown; a kid still unknown after that refetch, or inside the cooldown after one, is a token problem;
 *   - when the endpoint fails, the last good set keeps working for `staleIfError` and the endpoint is asked
 *     again at most once per cooldown; a kid that is not in that set is "cannot validate" (503), not invalid.
 *
 * Keys come only from the configured or discovered `jwks_uri`: the token's `jku`, `x5u`, `jwk` and `x5c`
 * headers are never read (RFC 8725 §3.10), and a token carrying `jku`, `x5u` or `jwk` never causes a refetch
 * (an IdP that publishes its keys has no reason to point elsewhere; a forger does).
 *
 * @see https://www.rfc-editor.org/rfc/rfc7517
 */
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWSHeaderParameters, type FlattenedJWSInput } from 'jose'
import { IdpUnavailable, idpFetch, parseJsonObject, type IdpFetchOptions } from '../http/idp-fetch.js'
import type { EventSink } from '../events.js'

type KeyResolver = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>

export interface JwksSettings {
  /** Seconds between refetches caused by unknown kids, and between attempts at a failing endpoint. */
  cooldown: number
  /** Seconds a fetched key set is used before it is fetched again. */
  maxAge: number
  /** Seconds the last good key set is used while the endpoint fails. */
  staleIfError: number
}

/** Thrown when no key in the issuer's set matches the token: a token problem, not an IdP problem. */
export class KeyNotFound extends Error {
  override readonly name = 'KeyNotFound'
}

/** Longest kid that may cause a refetch. Real kids are ids or thumbprints of tens of characters. */
const MAX_REFETCH_KID_LENGTH = 256

/** Header members that name a key source other than the issuer's `jwks_uri`. */
const FOREIGN_KEY_HEADERS = ['jku', 'x5u', 'jwk'] as const

interface KeySet {
  resolver: KeyResolver
  kids: ReadonlySet<string>
  /** `Date.now()` when it was fetched. */
  fetchedAt: number
}

export class IssuerKeys {
  readonly #issuer: string
  readonly #uri: string
  readonly #fetchOptions: IdpFetchOptions
  readonly #settings: JwksSettings
  readonly #emit: EventSink | undefined
  #set: KeySet | undefined
  #loading: Promise<KeySet> | undefined
  /** When a fetch last failed (ms); the endpoint is not asked again within `cooldown`. */
  #failedAt = -Infinity
  /** When an unknown kid last caused a refetch (ms). */
  #kidRefetchAt = -Infinity

  constructor(issuer: string, jwksUri: string, fetchOptions: IdpFetchOptions, settings: JwksSettings, emit: EventSink | undefined) {
    this.#issuer = issuer
    this.#uri = jwksUri
    this.#fetchOptions = fetchOptions
    this.#settings = settings
    this.#emit = emit
  }

  /** A jose key resolver for `jwtVerify`. Throws {@link KeyNotFound} or {@link IdpUnavailable}. */
  readonly resolve: KeyResolver = async (header, token) => {
    const now = Date.now()
    const { set, fetched } = await this.#usable(now)
    const key = await this.#lookup(set, header, token)
    if (key) return key
    // The set was swapped while we looked (a refetch finished): look in the new one first.
    const latest = this.#set
    if (latest && latest !== set) {
      const again = await this.#lookup(latest, header, token)
      if (again) return again
    }
    // Concurrent requests with a new kid wait for the one refetch the first of them started.
    if (this.#loading) return this.#afterRefetch(await this.#loaded(now), header, token)
    if (!this.#mayRefetchFor(header, latest ?? set)) throw new KeyNotFound('no matching key')
    if (now - this.#failedAt < this.#settings.cooldown * 1000) {
      // The endpoint that would tell us about a new key is failing: "cannot validate", not "invalid".
      throw this.#unavailable('JWKS unavailable and the key is not in the last good set')
    }
    // Fetched for this very request: the set is as new as it gets.
    if (fetched) throw new KeyNotFound('no matching key')
    if (now - this.#kidRefetchAt < this.#settings.cooldown * 1000) throw new KeyNotFound('no matching key (refetch cooldown)')
    this.#kidRefetchAt = now
    return this.#afterRefetch(await this.#loaded(now), header, token)
  }

  /** The set to use now: the cached one while fresh, else a fetched one, else the last good one (stale). */
  async #usable(now: number): Promise<{ set: KeySet; fetched: boolean }> {
    const set = this.#set
    if (set && now - set.fetchedAt < this.#settings.maxAge * 1000) return { set, fetched: false }
    if (now - this.#failedAt < this.#settings.cooldown * 1000) return { set: this.#stale(now, 'endpoint failing, waiting before the next try'), fetched: false }
    return { set: await this.#loaded(now), fetched: true }
  }

  /** The fetched set, or the last good one when the fetch fails (throws when there is none fit for use). */
  async #loaded(now: number): Promise<KeySet> {
    try {
      return await (this.#loading ??= this.#fetch().finally(() => {
        this.#loading = undefined
      }))
    } catch (err) {
      return this.#stale(now, err instanceof Error ? err.message : 'fetch failed')
    }
  }

  #stale(now: number, reason: string): KeySet {
    const set = this.#set
    const age = set ? (now - set.fetchedAt) / 1000 : Infinity
    if (!set || age > this.#settings.staleIfError) throw this.#unavailable(`JWKS unavailable: ${reason}`)
    this.#emit?.({ type: 'jwks_stale', issuer: this.#issuer, ageSeconds: Math.round(age) })
    return set
  }

  /** The verifier turns this into a 503 and its `idp_unavailable` event. */
  #unavailable(reason: string): IdpUnavailable {
    return new IdpUnavailable(reason)
  }

  async #afterRefetch(set: KeySet, header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> {
    const key = await this.#lookup(set, header, token)
    if (key) return key
    if (Date.now() - this.#failedAt < this.#settings.cooldown * 1000) throw this.#unavailable('JWKS unavailable and the key is not in the last good set')
    throw new KeyNotFound('no matching key after a refetch')
  }

  /** May this token's kid cause a refetch? Only a plausible kid the set does not have, from a token that names no other key source. */
  #mayRefetchFor(header: JWSHeaderParameters, set: KeySet): boolean {
    const { kid } = header
    if (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_REFETCH_KID_LENGTH || set.kids.has(kid)) return false
    return FOREIGN_KEY_HEADERS.every((name) => (header as Record<string, unknown>)[name] === undefined)
  }

  /** The key for this token in `set`, or `undefined` when none matches. */
  async #lookup(set: KeySet, header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey | undefined> {
    try {
      return await set.resolver(header, token)
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey) return undefined
      if (err instanceof errors.JWKSMultipleMatchingKeys) throw new KeyNotFound('several keys match and the token names none', { cause: err })
      if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) throw err
      // A published key that cannot be imported: the IdP's problem, not the token's.
      throw new IdpUnavailable(`JWKS key unusable: ${err instanceof Error ? err.message : 'import failed'}`, { cause: err })
    }
  }

  async #fetch(): Promise<KeySet> {
    try {
      const { response, body } = await idpFetch(this.#uri, { headers: { accept: 'application/jwk-set+json, application/json' } }, this.#fetchOptions)
      if (response.status !== 200) throw new IdpUnavailable(`HTTP ${response.status}`)
      const json = parseJsonObject(body, this.#uri)
      let resolver: KeyResolver
      try {
        resolver = createLocalJWKSet(json as unknown as JSONWebKeySet) as KeyResolver
      } catch {
        throw new IdpUnavailable(`not a JWK Set from ${this.#uri}`)
      }
      const keys = json.keys as { kid?: unknown }[]
      const set: KeySet = {
        resolver,
        kids: new Set(keys.map((k) => k.kid).filter((kid): kid is string => typeof kid === 'string')),
        fetchedAt: Date.now(),
      }
      this.#set = set
      this.#failedAt = -Infinity
      this.#emit?.({ type: 'jwks_fetch', issuer: this.#issuer, ok: true })
      return set
    } catch (err) {
      this.#failedAt = Date.now()
      this.#emit?.({ type: 'jwks_fetch', issuer: this.#issuer, ok: false, reason: err instanceof Error ? err.message : 'fetch failed' })
      throw err
    }
  }
}
