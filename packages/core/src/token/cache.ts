import { LRUCache } from 'lru-cache'
import { authInfoExtra, type AuthInfo } from '../auth-info.js'

/**
 * Claims whose values repeat across a deployment's tokens (one issuer, a few audiences, clients and scope
 * strings). A cached entry keeps one shared copy of each such value instead of its own parsed copy: about a
 * third of an entry's heap.
 */
const SHARED_CLAIMS = ['iss', 'aud', 'azp', 'client_id', 'scope', 'scp'] as const
const MAX_SHARED_VALUES = 1024
const MAX_SHARED_LENGTH = 256

/** A verified token, kept until the earliest of its `exp` and the cache's own limit. */
export interface CachedToken {
  info: AuthInfo
  /** `exp` in seconds as verified (a copy: later changes to `info` do not extend it), re-checked on every hit. */
  exp: number | undefined
  /** `nbf` in seconds, re-checked on every hit. */
  nbf: number | undefined
}

/** An entry as stored: with the wall-clock time (`Date.now()`, ms) it ends at. */
type Stored = CachedToken & { until: number }

/**
 * The verified-token cache: bounded (LRU), keyed by a hash of the token, and an entry never outlives the
 * token's `exp` (its TTL is `min(maxTtl, exp - now)`, and `exp` and `nbf` are checked again on every hit).
 * An entry's end is kept in wall-clock time and checked on every hit, so it ends by the same clock as `exp`
 * (and a test that moves `Date` moves it too).
 */
export class TokenCache {
  readonly #lru: LRUCache<string, Stored>
  readonly #maxTtlMs: number
  readonly #shared = new Map<string, string>()

  constructor(max: number, maxTtlSeconds: number) {
    this.#maxTtlMs = maxTtlSeconds * 1000
    // No ttl of lru-cache's own: it would run on performance.now(), a second clock; `until` is the one.
    this.#lru = new LRUCache<string, Stored>({ max })
  }

  /** The entry if it is still valid at `nowMs` (`Date.now()`); an entry that is no longer valid is dropped. */
  get(key: string, nowMs: number, tolerance: number): CachedToken | undefined {
    const entry = this.#lru.get(key)
    if (entry === undefined) return undefined
    const nowSeconds = Math.floor(nowMs / 1000)
    if (entry.until <= nowMs || (entry.exp !== undefined && entry.exp <= nowSeconds - tolerance) || (entry.nbf !== undefined && entry.nbf > nowSeconds + tolerance)) {
      this.#lru.delete(key)
      return undefined
    }
    return entry
  }

  /** Cache for at most `ttlSeconds` (default the cache's maximum), and never past `exp`. */
  set(key: string, entry: CachedToken, nowMs: number, ttlSeconds?: number): void {
    let ttl = ttlSeconds === undefined ? this.#maxTtlMs : Math.min(this.#maxTtlMs, ttlSeconds * 1000)
    if (entry.exp !== undefined) ttl = Math.min(ttl, entry.exp * 1000 - nowMs)
    if (!(ttl >= 1)) return
    // A literal with every field, not a spread: V8 gave each spread copy a hidden class of its own (a Map and a
    // DescriptorArray per cached token, 24 MB for 100,000 tokens).
    this.#lru.set(key, { info: entry.info, exp: entry.exp, nbf: entry.nbf, until: nowMs + Math.floor(ttl) })
  }

  delete(key: string): void {
    this.#lru.delete(key)
  }

  clear(): void {
    this.#lru.clear()
  }

  get size(): number {
    return this.#lru.size
  }

  /**
   * Swap repeated string values in a fresh, not yet frozen result for one shared copy, before it is cached.
   * Only objects mcp-oauth built itself (from a JWT or an introspection response) are touched, never a custom
   * verifier's; the values stay equal, so nothing a reader can observe changes.
   */
  compact(info: AuthInfo): AuthInfo {
    const extra = authInfoExtra(info)
    if (extra.verifiedBy !== 'jwt' && extra.verifiedBy !== 'introspection') return info
    info.clientId = this.#one(info.clientId)
    for (let i = 0; i < info.scopes.length; i++) info.scopes[i] = this.#one(info.scopes[i]!)
    const claims = extra.claims
    if (!claims) return info
    for (const name of SHARED_CLAIMS) {
      const value = claims[name]
      if (typeof value === 'string') claims[name] = this.#one(value)
      else if (Array.isArray(value)) for (let i = 0; i < value.length; i++) if (typeof value[i] === 'string') value[i] = this.#one(value[i] as string)
    }
    return info
  }

  #one(value: string): string {
    if (value.length > MAX_SHARED_LENGTH) return value
    const known = this.#shared.get(value)
    if (known !== undefined) return known
    // Bounded: past the limit new values are simply kept as they are.
    if (this.#shared.size < MAX_SHARED_VALUES) this.#shared.set(value, value)
    return value
  }
}
