/**
 * The store contract, as @mcp-oauth/core defines it. Kept here until the core exports it; then this file
 * re-exports the core's.
 */

/** A shared key-value store with expiring entries. Every method rejects with {@link StoreUnavailableError} on an outage. */
export interface KeyValueStore {
  get(kind: string, id: string, options?: { ttlSeconds?: number }): Promise<string | undefined>
  set(kind: string, id: string, value: string, ttlSeconds: number): Promise<void>
  delete(kind: string, id: string): Promise<void>
  take(kind: string, id: string): Promise<string | undefined>
}

/** The store could not answer (connection lost, timeout, refused): the request gets 503 with `Retry-After`. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError'
  readonly code = 'ERR_STORE_UNAVAILABLE'
  readonly retryAfter: number | undefined
  constructor(message: string, options?: { cause?: unknown; retryAfter?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.retryAfter = options?.retryAfter
  }
}
