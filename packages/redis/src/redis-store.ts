/**
 * `RedisStore`: the core's key-value store contract on Redis (or Valkey) through ioredis.
 *
 * Keys are `<prefix><kind>:<SHA-256 of the id, base64url>` with the prefix `mcp-oauth:v1:` by default: the
 * version lets a later release change a value's format without reading the old one, and hashing the id means
 * a key listing (`SCAN`, `MONITOR`, a dump) never shows a session id, a code or a token. Every write carries an
 * expiry: nothing this store writes lives forever.
 *
 * An outage fails fast instead of queueing: a client this store creates has no offline queue, one retry per
 * command and a command timeout, so a request that needs the store gets a `StoreUnavailableError` (the core
 * answers 503 with `Retry-After`) within about a second instead of hanging until Redis returns.
 */
import { createHash } from 'node:crypto'
import { Redis, type RedisOptions } from 'ioredis'
import { StoreUnavailableError, type KeyValueStore } from './contract.js'

/** Connection events, for logs and metrics. None carries a key, a value or a password. */
export type RedisStoreEvent =
  | { type: 'store_ready'; store: 'redis' }
  | { type: 'store_error'; store: 'redis'; reason: string }
  | { type: 'store_reconnecting'; store: 'redis'; delayMs: number }
  | { type: 'store_closed'; store: 'redis' }
  /** An operation failed: it was answered with `StoreUnavailableError`. */
  | { type: 'store_unavailable'; store: 'redis'; operation: 'get' | 'set' | 'delete' | 'take' | 'index'; reason: string }

export interface RedisStoreOptions {
  /**
   * An ioredis client you configured (you close it). Give it `enableOfflineQueue: false` and a
   * `commandTimeout`, or requests wait for Redis during an outage instead of failing with 503.
   */
  client?: Redis
  /** A Redis URL (`redis://`, `rediss://`) for a client this store creates and closes. Default `redis://127.0.0.1:6379`. */
  url?: string
  /** ioredis options for the client this store creates, over the fail-fast defaults (see {@link FAIL_FAST}). */
  redis?: RedisOptions
  /** Key prefix. Default `mcp-oauth:v1:`. Give each deployment sharing one Redis its own (`mcp-oauth:v1:prod-a:`). */
  prefix?: string
  /** Seconds for `Retry-After` when the store is down. Default 2. */
  retryAfter?: number
  /** Connection and failure events. A throwing hook is ignored. */
  onEvent?: (event: RedisStoreEvent) => void
}

/** The ioredis settings of a client this store creates: fail within about a second, reconnect in the background. */
export const FAIL_FAST: Readonly<RedisOptions> = Object.freeze({
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  commandTimeout: 1_000,
  connectTimeout: 2_000,
  retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
})

// SADD, then raise the set's expiry to the member's if it is shorter (PEXPIRE GT needs Redis 7; this works on 6.2).
const INDEX_ADD = `redis.call('SADD', KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[2])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1`

const KIND = /^[a-z][a-z0-9_-]{0,63}$/i

/** SHA-256 of an id, base64url: how ids appear in keys. */
export function hashId(id: string): string {
  return createHash('sha256').update(id).digest('base64url')
}

function ttlMs(ttlSeconds: number, what: string): number {
  if (typeof ttlSeconds !== 'number' || !Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new TypeError(`@mcp-oauth/redis: ${what} must be a positive number of seconds; every key expires.`)
  }
  return Math.ceil(ttlSeconds * 1000)
}

function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  return message.slice(0, 200)
}

/**
 * @example
 * ```ts
 * import { RedisStore } from '@mcp-oauth/redis'
 * const store = new RedisStore({ url: process.env.REDIS_URL, onEvent: (e) => log(e) })
 * app.use(mcpAuth({ resource, issuer, sessionBinding: { store } }))
 * ```
 */
export class RedisStore implements KeyValueStore {
  /** The ioredis client (given or created). */
  readonly client: Redis
  readonly prefix: string
  readonly retryAfter: number
  readonly #owned: boolean
  readonly #emit: (event: RedisStoreEvent) => void

  constructor(options: RedisStoreOptions = {}) {
    if (options.client && (options.url || options.redis)) {
      throw new TypeError('@mcp-oauth/redis: give either `client` or `url`/`redis`, not both.')
    }
    const prefix = options.prefix ?? 'mcp-oauth:v1:'
    if (typeof prefix !== 'string' || !prefix.endsWith(':')) throw new TypeError('@mcp-oauth/redis: `prefix` must end with ":" (e.g. "mcp-oauth:v1:").')
    const retryAfter = options.retryAfter ?? 2
    if (!Number.isInteger(retryAfter) || retryAfter < 1) throw new TypeError('@mcp-oauth/redis: `retryAfter` must be a whole number of seconds ≥ 1.')
    this.prefix = prefix
    this.retryAfter = retryAfter
    const hook = options.onEvent
    this.#emit = (event) => {
      try {
        hook?.(event)
      } catch {
        // An observability hook must not break the store.
      }
    }
    this.#owned = !options.client
    this.client = options.client ?? (options.url
      ? new Redis(options.url, { ...FAIL_FAST, ...options.redis })
      : new Redis({ host: '127.0.0.1', port: 6379, ...FAIL_FAST, ...options.redis }))
    // A listener also keeps ioredis from printing "Unhandled error event" for every failed reconnect.
    this.client.on('error', (err: unknown) => this.#emit({ type: 'store_error', store: 'redis', reason: reasonOf(err) }))
    this.client.on('ready', () => this.#emit({ type: 'store_ready', store: 'redis' }))
    this.client.on('reconnecting', (delayMs: number) => this.#emit({ type: 'store_reconnecting', store: 'redis', delayMs }))
    this.client.on('end', () => this.#emit({ type: 'store_closed', store: 'redis' }))
  }

  /** The Redis key of (kind, id). */
  key(kind: string, id: string): string {
    if (!KIND.test(kind)) throw new TypeError(`@mcp-oauth/redis: kind "${kind}" must be a short name of letters, digits, "-" and "_".`)
    if (typeof id !== 'string' || id.length === 0) throw new TypeError('@mcp-oauth/redis: id must be a non-empty string.')
    return `${this.prefix}${kind}:${hashId(id)}`
  }

  /** Resolves when the connection is ready; rejects with `StoreUnavailableError` after `timeoutMs`. */
  async ready(timeoutMs = 5_000): Promise<void> {
    if (this.client.status === 'ready') return
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.client.off('ready', onReady)
        reject(new StoreUnavailableError('Redis is not reachable', { retryAfter: this.retryAfter }))
      }, timeoutMs)
      const onReady = (): void => {
        clearTimeout(timer)
        resolve()
      }
      this.client.once('ready', onReady)
    })
  }

  async get(kind: string, id: string, options?: { ttlSeconds?: number }): Promise<string | undefined> {
    const key = this.key(kind, id)
    const ms = options?.ttlSeconds === undefined ? undefined : ttlMs(options.ttlSeconds, 'ttlSeconds')
    const value = await this.#run('get', () => (ms === undefined ? this.client.get(key) : this.client.getex(key, 'PX', ms)))
    return value ?? undefined
  }

  async set(kind: string, id: string, value: string, ttlSeconds: number): Promise<void> {
    const key = this.key(kind, id)
    const ms = ttlMs(ttlSeconds, 'ttlSeconds')
    await this.#run('set', () => this.client.set(key, value, 'PX', ms))
  }

  async delete(kind: string, id: string): Promise<void> {
    const key = this.key(kind, id)
    await this.#run('delete', () => this.client.del(key))
  }

  /** Get and delete atomically (GETDEL, Redis ≥ 6.2): of two concurrent takes, exactly one gets the value. */
  async take(kind: string, id: string): Promise<string | undefined> {
    const key = this.key(kind, id)
    const value = await this.#run('take', () => this.client.getdel(key))
    return value ?? undefined
  }

  /**
   * Store a value only if none is there (`SET NX`), in one atomic step: of two concurrent calls with one id,
   * exactly one gets `true`. For "first seen" checks such as DPoP proof replay ({@link RedisDpopReplayStore}).
   */
  async setIfAbsent(kind: string, id: string, value: string, ttlSeconds: number): Promise<boolean> {
    const key = this.key(kind, id)
    const ms = ttlMs(ttlSeconds, 'ttlSeconds')
    return (await this.#run('set', () => this.client.set(key, value, 'PX', ms, 'NX'))) === 'OK'
  }

  /**
   * Add `member` to the set (kind, id) and keep the set alive at least `ttlSeconds` (its expiry only grows).
   * One atomic step (a Lua script), so members written at once by several instances are all kept: this is
   * the grant index oidc-provider's `revokeByGrantId` needs (grant → its codes, tokens and device codes).
   */
  async indexAdd(kind: string, id: string, member: string, ttlSeconds: number): Promise<void> {
    const key = this.key(kind, id)
    const ms = ttlMs(ttlSeconds, 'ttlSeconds')
    await this.#run('index', () => this.client.eval(INDEX_ADD, 1, key, member, String(ms)))
  }

  /** Read and delete the set (kind, id) in one step (MULTI): every member once, to exactly one caller. */
  async indexTake(kind: string, id: string): Promise<string[]> {
    const key = this.key(kind, id)
    const replies = await this.#run('index', () => this.client.multi().smembers(key).del(key).exec())
    const first = replies?.[0]
    if (!first || first[0]) throw this.unavailable('index', first?.[0] ?? new Error('transaction aborted'))
    return first[1] as string[]
  }

  /** Close the connection if this store created it. */
  async close(): Promise<void> {
    if (!this.#owned) return
    try {
      await this.client.quit()
    } catch {
      this.client.disconnect()
    }
  }

  /** Run one command; any failure becomes a `StoreUnavailableError` and a `store_unavailable` event. */
  async #run<T>(operation: 'get' | 'set' | 'delete' | 'take' | 'index', command: () => Promise<T>): Promise<T> {
    try {
      return await command()
    } catch (err) {
      throw this.unavailable(operation, err)
    }
  }

  /** @internal The error (and event) for a failed operation; also used by the oidc-provider adapter. */
  unavailable(operation: 'get' | 'set' | 'delete' | 'take' | 'index', err: unknown): StoreUnavailableError {
    const reason = reasonOf(err)
    this.#emit({ type: 'store_unavailable', store: 'redis', operation, reason })
    return new StoreUnavailableError(`Redis did not answer (${operation})`, { cause: err, retryAfter: this.retryAfter })
  }
}
