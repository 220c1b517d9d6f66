/**
 * The one store contract for state that several instances share: session bindings here, the bridge's
 * oidc-provider models, and anything an MCP server wants next to them. In memory by default
 * ({@link MemoryStore}); `RedisStore` from `@mcp-oauth/redis` for many instances.
 *
 * Entries are addressed by (kind, id): `kind` a short fixed name (`session`, `bridge-oidc-Grant`: letters,
 * digits, `-`, `_`), `id` any non-empty string — a store that writes it somewhere others can read (Redis)
 * hashes it, so session ids and codes never appear in a key. Values are strings. Every write has a TTL.
 */
import { LRUCache } from 'lru-cache'

/**
 * A key-value store with expiring entries. Every method rejects with {@link StoreUnavailableError} when the
 * store cannot answer (the resource server then answers 503 with `Retry-After`, never 500, and never treats
 * a session as unbound).
 *
 * @example
 * ```ts
 * import { RedisStore } from '@mcp-oauth/redis'
 * createMcpAuth({ resource, issuer, sessionBinding: { store: new RedisStore({ url }) } })
 * ```
 */
export interface KeyValueStore {
  /** The value, or `undefined` when absent or expired. With `ttlSeconds`, also restart the entry's expiry (sliding). */
  get(kind: string, id: string, options?: { ttlSeconds?: number }): Promise<string | undefined>
  /** Store a value that expires after `ttlSeconds` (> 0). */
  set(kind: string, id: string, value: string, ttlSeconds: number): Promise<void>
  delete(kind: string, id: string): Promise<void>
  /** Read and delete in one atomic step: of two concurrent takes of one entry, exactly one gets the value. */
  take(kind: string, id: string): Promise<string | undefined>
}

/**
 * The store could not answer (connection lost, timeout, refused write). Stores throw it; the resource server
 * turns it into 503 with `Retry-After` (`retryAfter` seconds when the store says, else the `retryAfter` option).
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError'
  readonly code = 'ERR_STORE_UNAVAILABLE' as const
  /** Seconds after which a retry may succeed, when the store knows. */
  readonly retryAfter: number | undefined
  constructor(message: string, options?: { cause?: unknown; retryAfter?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.retryAfter = options?.retryAfter
  }
}

/** Is `value` a {@link KeyValueStore} (get, set, delete and take)? */
export function isKeyValueStore(value: unknown): value is KeyValueStore {
  const v = value as Partial<Record<keyof KeyValueStore, unknown>> | null
  return typeof v === 'object' && v !== null
    && typeof v.get === 'function' && typeof v.set === 'function' && typeof v.delete === 'function' && typeof v.take === 'function'
}

/**
 * The in-memory store: one process, lost on restart, bounded (LRU, default 100,000 entries) so a flood of new
 * sessions evicts the least recently used instead of growing without end.
 */
export class MemoryStore implements KeyValueStore {
  readonly #lru: LRUCache<string, string>
  constructor(options: { max?: number } = {}) {
    const max = options.max ?? 100_000
    if (!Number.isInteger(max) || max < 1) throw new TypeError('MemoryStore: max must be a positive integer, e.g. 100000.')
    this.#lru = new LRUCache({ max })
  }

  async get(kind: string, id: string, options?: { ttlSeconds?: number }): Promise<string | undefined> {
    const key = `${kind}\u0000${id}`
    const value = this.#lru.get(key)
    if (value !== undefined && options?.ttlSeconds !== undefined) this.#lru.set(key, value, { ttl: ttlMs(options.ttlSeconds) })
    return value
  }

  async set(kind: string, id: string, value: string, ttlSeconds: number): Promise<void> {
    this.#lru.set(`${kind}\u0000${id}`, value, { ttl: ttlMs(ttlSeconds) })
  }

  async delete(kind: string, id: string): Promise<void> {
    this.#lru.delete(`${kind}\u0000${id}`)
  }

  async take(kind: string, id: string): Promise<string | undefined> {
    // One synchronous step: nothing runs between the read and the delete.
    const key = `${kind}\u0000${id}`
    const value = this.#lru.get(key)
    this.#lru.delete(key)
    return value
  }

  /** Live entries (expired ones may still count until they are next touched). */
  get size(): number {
    return this.#lru.size
  }
}

function ttlMs(ttlSeconds: number): number {
  if (typeof ttlSeconds !== 'number' || !Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new TypeError('MemoryStore: ttlSeconds must be a positive number of seconds (every entry expires).')
  }
  return Math.ceil(ttlSeconds * 1000)
}
