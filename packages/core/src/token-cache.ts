import { LRUCache } from 'lru-cache'
import type { AuthInfo } from './auth-info.js'

/** A verified token, kept until the earliest of its `exp` and the cache's own limit. */
export interface CachedToken {
  info: AuthInfo
  /** `exp` in seconds, re-checked on every hit. */
  exp: number | undefined
  /** `nbf` in seconds, re-checked on every hit. */
  nbf: number | undefined
}

/**
 * The verified-token cache: bounded (LRU), keyed by a hash of the token, and an entry never outlives the
 * token's `exp` (its TTL is `min(maxTtl, exp - now)`, and `exp` is checked again on every hit).
 */
export class TokenCache {
  readonly #lru: LRUCache<string, CachedToken>
  readonly #maxTtlMs: number

  constructor(max: number, maxTtlSeconds: number) {
    this.#maxTtlMs = maxTtlSeconds * 1000
    this.#lru = new LRUCache<string, CachedToken>({ max, ttl: this.#maxTtlMs, ttlAutopurge: false, updateAgeOnGet: false })
  }

  /** The entry if it is still valid at `nowSeconds`; an entry that is no longer valid is dropped. */
  get(key: string, nowSeconds: number, tolerance: number): CachedToken | undefined {
    const entry = this.#lru.get(key)
    if (entry === undefined) return undefined
    if ((entry.exp !== undefined && entry.exp <= nowSeconds - tolerance) || (entry.nbf !== undefined && entry.nbf > nowSeconds + tolerance)) {
      this.#lru.delete(key)
      return undefined
    }
    return entry
  }

  /** Cache for at most `ttlSeconds` (default the cache's maximum), and never past `exp`. */
  set(key: string, entry: CachedToken, nowSeconds: number, ttlSeconds?: number): void {
    let ttl = ttlSeconds === undefined ? this.#maxTtlMs : Math.min(this.#maxTtlMs, ttlSeconds * 1000)
    if (entry.exp !== undefined) ttl = Math.min(ttl, (entry.exp - nowSeconds) * 1000)
    if (!(ttl >= 1)) return
    this.#lru.set(key, entry, { ttl: Math.floor(ttl) })
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
}
