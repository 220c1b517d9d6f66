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

/**
 * An entry as stored: with the token it is for, the wall-clock time (`Date.now()`, ms) it ends at, and when a
 * hit last moved it to the recent end of the LRU.
 */
type Stored = CachedToken & { token: string; until: number; touched: number }

/**
 * A hit moves its entry to the recent end of the LRU at most once per this many ms; other hits only peek. The
 * eviction order is the LRU's to within a second, and a hit costs a Map lookup instead of relinking the list.
 */
const TOUCH_EVERY_MS = 1000

/**
 * The options object of every lookup: lru-cache writes `status` into the one it is given (and makes a new one
 * per call when given none), so one object serves all lookups.
 */
const LOOKUP: { status?: undefined } = {}

/**
 * How many of a token's last characters name its slot. For a JWS they are the end of the signature (43
 * characters: 258 bits), which only the signer can choose; for an opaque token, the end of its random part.
 */
const TAIL = 43
/** Shorter tokens are only ever kept under their hash: a slot named by most of the token would be the token. */
const MIN_TAIL_TOKEN = 64

/** The slot a token is looked up in first: its tail, or undefined for a short token. */
function tailOf(token: string): string | undefined {
  return token.length >= MIN_TAIL_TOKEN ? token.slice(-TAIL) : undefined
}

/** A hashed key: 44 characters, so it can never equal a tail (43). */
function hashedKey(hash: string): string {
  return `#${hash}`
}

/**
 * The verified-token cache: bounded (LRU), and an entry never outlives the token's `exp` (its TTL is
 * `min(maxTtl, exp - now)`, and `exp` and `nbf` are checked again on every hit). An entry's end is kept in
 * wall-clock time and checked on every hit, so it ends by the same clock as `exp` (and a test that moves
 * `Date` moves it too).
 *
 * Where an entry is kept: under the token's last 43 characters (its tail), and a hit is the entry whose own
 * token equals the one presented, all of it. Slicing a tail costs a tenth of hashing the whole token, which
 * was half of what a cache hit cost. Two tokens with the same tail (a crafted one, or a format that ends every
 * token alike, such as a PASETO footer) share no entry: the one that finds the tail taken by another live token
 * is kept under its SHA-256 instead ({@link #hashed} counts those), and is looked up there on every use. So a
 * tail can only make a lookup miss, never find another token's entry; and a forged token with a real token's
 * tail is refused like any other (its verification fails) and takes nothing from the cache. Comparing the
 * whole token leaks, at most, timing to someone who already holds 258 bits of a live token's end. Short
 * tokens (under 64 characters) are kept under their hash only, so no key is most of a token. The entry's
 * `info.token` holds the token anyway: the MCP SDK's `AuthInfo` carries it.
 */
export class TokenCache {
  readonly #lru: LRUCache<string, Stored>
  readonly #maxTtlMs: number
  readonly #shared = new Map<string, string>()
  /** Entries kept under their hash (a short token, or a tail taken by another token): while 0, no lookup hashes. */
  #hashed = 0

  constructor(max: number, maxTtlSeconds: number) {
    this.#maxTtlMs = maxTtlSeconds * 1000
    // No ttl of lru-cache's own: it would run on performance.now(), a second clock; `until` is the one.
    this.#lru = new LRUCache<string, Stored>({
      max,
      // Every way an entry leaves (evicted, deleted, cleared) but being replaced under the same key.
      dispose: (_value, key, reason) => {
        if (reason !== 'set' && key.length !== TAIL) this.#hashed--
      },
    })
  }

  /**
   * The entry for `token` if it is kept under its tail and still valid at `nowMs` (`Date.now()`). Undefined
   * does not mean it is not cached: see {@link getHashed}.
   */
  get(token: string, nowMs: number, tolerance: number): CachedToken | undefined {
    const tail = tailOf(token)
    return tail === undefined ? undefined : this.#valid(tail, token, nowMs, tolerance)
  }

  /** The entry for `token` kept under its hash (`hash`: hashToken's), if still valid at `nowMs`; no lookup while none is. */
  getHashed(token: string, hash: string, nowMs: number, tolerance: number): CachedToken | undefined {
    return this.#hashed > 0 ? this.#valid(hashedKey(hash), token, nowMs, tolerance) : undefined
  }

  #valid(key: string, token: string, nowMs: number, tolerance: number): CachedToken | undefined {
    LOOKUP.status = undefined
    const entry = this.#lru.peek(key, LOOKUP)
    if (entry === undefined || entry.token !== token) return undefined
    const nowSeconds = Math.floor(nowMs / 1000)
    if (entry.until <= nowMs || (entry.exp !== undefined && entry.exp <= nowSeconds - tolerance) || (entry.nbf !== undefined && entry.nbf > nowSeconds + tolerance)) {
      this.#lru.delete(key)
      return undefined
    }
    if (nowMs - entry.touched >= TOUCH_EVERY_MS) {
      entry.touched = nowMs
      LOOKUP.status = undefined
      this.#lru.get(key, LOOKUP)
    }
    return entry
  }

  /**
   * Cache `token` (`hash`: hashToken's) for at most `ttlSeconds` (default the cache's maximum), and
   * never past `exp`: under its tail, unless the tail is another live token's.
   */
  set(token: string, hash: string, entry: CachedToken, nowMs: number, ttlSeconds?: number): void {
    let ttl = ttlSeconds === undefined ? this.#maxTtlMs : Math.min(this.#maxTtlMs, ttlSeconds * 1000)
    if (entry.exp !== undefined) ttl = Math.min(ttl, entry.exp * 1000 - nowMs)
    if (!(ttl >= 1)) return
    const tail = tailOf(token)
    // peek: neither refreshes the other token's place in the LRU nor drops it.
    const holder = tail === undefined ? undefined : this.#lru.peek(tail)
    const free = tail !== undefined && (holder === undefined || holder.token === token || holder.until <= nowMs)
    const key = free ? tail : hashedKey(hash)
    // A literal with every field, not a spread: V8 gave each spread copy a hidden class of its own (a Map and a
    // DescriptorArray per cached token, 24 MB for 100,000 tokens).
    const stored: Stored = { info: entry.info, exp: entry.exp, nbf: entry.nbf, token, until: nowMs + Math.floor(ttl), touched: nowMs }
    if (!free && !this.#lru.has(key)) this.#hashed++
    this.#lru.set(key, stored)
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
