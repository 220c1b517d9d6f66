/**
 * DPoP proof replay across instances (RFC 9449 §11.1) on a real redis-server: RedisDpopReplayStore's
 * "first seen" is atomic across connections and expires.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisDpopReplayStore, RedisStore } from '@mcp-oauth/redis'
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js'

let redis: RedisServer
const stores: RedisStore[] = []

beforeAll(async () => {
  redis = await startRedisServer()
})
afterAll(async () => {
  for (const s of stores) await s.close()
  await redis?.close()
})

describe('RedisDpopReplayStore', () => {
  it('firstSeen is atomic: of 25 concurrent calls with one id over two connections exactly one is first; the key expires', async () => {
    // Two connections, as two instances would have.
    const [store, other] = [new RedisStore({ url: redis.url }), new RedisStore({ url: redis.url })]
    stores.push(store, other)
    await Promise.all([store.ready(), other.ready()])
    const replays = [new RedisDpopReplayStore(store), new RedisDpopReplayStore(other)]
    const results = await Promise.all(Array.from({ length: 25 }, (_, i) => replays[i % 2]!.firstSeen('jti-1', 60)))
    expect(results.filter(Boolean)).toHaveLength(1)
    expect(Number(/:(-?\d+)/.exec(await redis.command('PTTL', store.key('dpop-jti', 'jti-1')))![1])).toBeGreaterThan(0)
  })
})
