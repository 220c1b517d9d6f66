/**
 * DPoP proof replay protection shared by every instance (RFC 9449 §11.1): a proof's `jti` seen by one instance
 * is a replay on all of them. Each id is one key (`mcp-oauth:v1:dpop-jti:<SHA-256>`) written with `SET NX` and
 * an expiry of the proof's acceptance window, so the check is atomic and nothing outlives the window.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
 */
import type { DpopReplayStore } from '@mcp-oauth/core'
import type { RedisStore } from './redis-store.js'

/**
 * @example
 * ```ts
 * const store = new RedisStore({ url: process.env.REDIS_URL })
 * createMcpAuth({ resource, issuer, dpop: { replayStore: new RedisDpopReplayStore(store) } })
 * ```
 */
export class RedisDpopReplayStore implements DpopReplayStore {
  constructor(readonly store: RedisStore) {}

  /** `true` the first time `id` is seen within `ttlSeconds`; rejects with `StoreUnavailableError` on an outage. */
  firstSeen(id: string, ttlSeconds: number): Promise<boolean> {
    return this.store.setIfAbsent('dpop-jti', id, '1', ttlSeconds)
  }
}
