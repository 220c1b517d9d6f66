/**
 * The DPoP proof replay store (RFC 9449 §11.1): every proof's `jti` is remembered for as long as the proof
 * could still be accepted (its `iat` window), so a proof captured in transit or from a log cannot be sent
 * again. In memory by default (one process); `RedisDpopReplayStore` from `@mcp-oauth/redis` when several
 * instances serve one resource — a proof refused by one must be refused by all.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
 */
import { LRUCache } from 'lru-cache'

/**
 * Where proof identifiers are remembered. `firstSeen` must be atomic across everyone sharing the store: of two
 * concurrent calls with one id, exactly one gets `true`. It rejects with `StoreUnavailableError` when the
 * store cannot answer (the request then gets 503 with `Retry-After`, never an accepted proof).
 *
 * @example
 * ```ts
 * import { RedisStore, RedisDpopReplayStore } from '@mcp-oauth/redis'
 * createMcpAuth({ resource, issuer, dpop: { replayStore: new RedisDpopReplayStore(new RedisStore({ url })) } })
 * ```
 */
export interface DpopReplayStore {
  /** Remember `id` for `ttlSeconds`. `true` when it was not known yet (the proof is fresh), `false` for a replay. */
  firstSeen(id: string, ttlSeconds: number): boolean | Promise<boolean>
}

/** Is `value` a {@link DpopReplayStore}? */
export function isDpopReplayStore(value: unknown): value is DpopReplayStore {
  return typeof value === 'object' && value !== null && typeof (value as { firstSeen?: unknown }).firstSeen === 'function'
}

/**
 * The in-memory replay store: one process, bounded (LRU, default 100,000 proof ids). Synchronous, so a
 * request with a cached token and a valid proof needs no store round trip. When more distinct proofs arrive
 * within one window than it holds, the oldest are forgotten first — size it above your peak proofs per window.
 */
export class MemoryDpopReplayStore implements DpopReplayStore {
  readonly #max: number
  /** Made on first use: lru-cache allocates its whole capacity up front, and most servers never see a DPoP request. */
  #seen: LRUCache<string, true> | undefined

  constructor(options: { max?: number } = {}) {
    const max = options.max ?? 100_000
    if (!Number.isInteger(max) || max < 1) throw new TypeError('MemoryDpopReplayStore: max must be a positive integer, e.g. 100000.')
    this.#max = max
  }

  firstSeen(id: string, ttlSeconds: number): boolean {
    if (typeof ttlSeconds !== 'number' || !Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
      throw new TypeError('MemoryDpopReplayStore: ttlSeconds must be a positive number of seconds.')
    }
    const seen = (this.#seen ??= new LRUCache({ max: this.#max }))
    // `has` does not refresh recency or extend the entry: a replayed id keeps its first expiry.
    if (seen.has(id)) return false
    seen.set(id, true, { ttl: Math.ceil(ttlSeconds * 1000) })
    return true
  }

  /** Ids remembered (expired ones may count until they are next touched). */
  get size(): number {
    return this.#seen?.size ?? 0
  }
}
