/**
 * Authorization server metadata discovery (RFC 8414, OpenID Connect Discovery), in the order the MCP
 * 2025-11-25 specification gives clients, with the issuer check of RFC 8414 §3.3.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8414
 */
import { IdpUnavailable, idpFetch, parseJsonObject, type IdpFetchOptions } from '../http/idp-fetch.js'
import { checkHttpsUri } from './resource-uri.js'
import type { EventSink } from '../events.js'

/** The fields of the AS metadata this library reads; the rest is kept as is. */
export interface AuthorizationServerMetadata extends Record<string, unknown> {
  issuer: string
  jwks_uri?: string
  introspection_endpoint?: string
  token_endpoint?: string
}

/** Metadata is refreshed after this long (the previous document keeps serving if the refresh fails). */
const METADATA_MAX_AGE_MS = 60 * 60 * 1000
const BACKOFF_START_MS = 1000
const BACKOFF_MAX_MS = 60_000

/**
 * One issuer's metadata: fetched once, shared by concurrent callers, refreshed hourly, and after a failure
 * retried with exponential backoff (1 s … 60 s) instead of on every request.
 */
export class AuthorizationServerDiscovery {
  readonly issuer: string
  readonly #candidates: string[]
  readonly #fetch: IdpFetchOptions
  readonly #emit: EventSink | undefined
  readonly #allowInsecure: boolean
  #metadata: AuthorizationServerMetadata | undefined
  #fetchedAt = 0
  #pending: Promise<AuthorizationServerMetadata> | undefined
  #failure: IdpUnavailable | undefined
  #retryAt = 0
  #backoff = BACKOFF_START_MS

  constructor(issuer: string, candidates: string[], fetchOptions: IdpFetchOptions, emit: EventSink | undefined, allowInsecure: boolean) {
    this.issuer = issuer
    this.#candidates = candidates
    this.#fetch = fetchOptions
    this.#emit = emit
    this.#allowInsecure = allowInsecure
  }

  /** The metadata, or throws {@link IdpUnavailable}. */
  get(): Promise<AuthorizationServerMetadata> {
    const now = Date.now()
    if (this.#metadata && now - this.#fetchedAt < METADATA_MAX_AGE_MS) return Promise.resolve(this.#metadata)
    if (this.#pending) return this.#metadata ? Promise.resolve(this.#metadata) : this.#pending
    if (now < this.#retryAt) {
      return this.#metadata ? Promise.resolve(this.#metadata) : Promise.reject(this.#failure ?? new IdpUnavailable('discovery backing off'))
    }
    const pending = this.#discover().then(
      (metadata) => {
        this.#metadata = metadata
        this.#fetchedAt = Date.now()
        this.#backoff = BACKOFF_START_MS
        this.#failure = undefined
        return metadata
      },
      (err: unknown) => {
        const failure = err instanceof IdpUnavailable ? err : new IdpUnavailable(String(err))
        this.#failure = failure
        this.#retryAt = Date.now() + this.#backoff
        this.#backoff = Math.min(this.#backoff * 2, BACKOFF_MAX_MS)
        this.#emit?.({ type: 'discovery', issuer: this.issuer, ok: false, reason: failure.message })
        if (this.#metadata) return this.#metadata
        throw failure
      },
    ).finally(() => {
      this.#pending = undefined
    })
    this.#pending = pending
    return pending
  }

  /** Try each well-known URL in order; a 4xx moves on, a network failure stops (the next URL is the same host). */
  async #discover(): Promise<AuthorizationServerMetadata> {
    const reasons: string[] = []
    for (const url of this.#candidates) {
      const { response, body } = await idpFetch(url, { method: 'GET', headers: { accept: 'application/json' } }, this.#fetch)
      if (response.status !== 200) {
        reasons.push(`HTTP ${response.status} at ${url}`)
        continue
      }
      let doc: Record<string, unknown>
      try {
        doc = parseJsonObject(body, url)
      } catch (err) {
        reasons.push((err as Error).message)
        continue
      }
      if (doc.issuer !== this.issuer) {
        // RFC 8414 §3.3: a document for another issuer must not be used (it could come from a mix-up attack).
        reasons.push(`${url} names issuer ${JSON.stringify(String(doc.issuer).slice(0, 200))}, expected ${this.issuer}`)
        continue
      }
      for (const field of ['jwks_uri', 'introspection_endpoint'] as const) {
        const value = doc[field]
        if (value === undefined) continue
        if (typeof value !== 'string' || typeof checkHttpsUri(value, { allowInsecure: this.#allowInsecure, allowQuery: true }) === 'string') {
          reasons.push(`${field} in ${url} is not an https URL`)
          delete doc[field]
        }
      }
      this.#emit?.({ type: 'discovery', issuer: this.issuer, ok: true, url })
      return doc as AuthorizationServerMetadata
    }
    throw new IdpUnavailable(`no usable metadata for ${this.issuer}: ${reasons.join('; ')}`)
  }
}

