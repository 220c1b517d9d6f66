/**
 * RedisStore against a real redis-server: the store contract (get / set with TTL / delete / take-once),
 * hashed and versioned keys, an expiry on every key, and an outage answered with StoreUnavailableError
 * (never a hang, never "not found") that ends when the server returns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisStore, StoreUnavailableError, hashId, type RedisStoreEvent } from '@mcp-oauth/redis'
import { replyValue, startRedisServer, type RedisServer } from '../helpers/redis-server.js'

let redis: RedisServer
let store: RedisStore
const events: RedisStoreEvent[] = []

beforeAll(async () => {
  redis = await startRedisServer()
  store = new RedisStore({ url: redis.url, onEvent: (e) => events.push(e) })
  await store.ready()
})
afterAll(async () => {
  await store?.close()
  await redis?.close()
})

async function keys(): Promise<string[]> {
  // KEYS answers an array; the test server is tiny, so parse the bulk strings out of the raw reply.
  const reply = await redis.command('KEYS', '*')
  return [...reply.matchAll(/\$\d+\r\n([^\r]*)\r\n/g)].map((m) => m[1]!)
}

describe('the store contract on a real redis-server', () => {
  it('set then get; delete; a missing key is undefined', async () => {
    await store.set('session', 'sid-1', '{"a":1}', 60)
    expect(await store.get('session', 'sid-1')).toBe('{"a":1}')
    expect(await store.get('session', 'sid-2')).toBeUndefined()
    await store.delete('session', 'sid-1')
    expect(await store.get('session', 'sid-1')).toBeUndefined()
  })

  it('keys are namespaced, versioned and hashed: no id appears in any key or value', async () => {
    const secret = 'session-id-that-is-a-credential'
    await store.set('session', secret, 'v', 60)
    const all = await keys()
    expect(all).toContain(`mcp-oauth:v1:session:${hashId(secret)}`)
    expect(all.join('\n')).not.toContain(secret)
  })

  it('every key has an expiry; get with ttlSeconds slides it (GETEX)', async () => {
    await store.set('session', 'ttl', 'v', 30)
    const key = store.key('session', 'ttl')
    const first = Number(replyValue(await redis.command('PTTL', key)))
    expect(first).toBeGreaterThan(0)
    expect(first).toBeLessThanOrEqual(30_000)
    await store.get('session', 'ttl', { ttlSeconds: 3600 })
    expect(Number(replyValue(await redis.command('PTTL', key)))).toBeGreaterThan(30_000)
    for (const k of await keys()) expect(Number(replyValue(await redis.command('PTTL', k)))).toBeGreaterThan(0)
  })

  it('an entry expires when its TTL runs out', async () => {
    await store.set('code', 'short', 'v', 0.05)
    // Redis expires the key on its own clock; ask it rather than sleeping past the TTL.
    await expect.poll(() => store.get('code', 'short'), { interval: 20, timeout: 5_000 }).toBeUndefined()
  })

  it('take is once: of 25 concurrent takes exactly one gets the value', async () => {
    await store.set('code', 'one-time', 'payload', 60)
    const results = await Promise.all(Array.from({ length: 25 }, () => store.take('code', 'one-time')))
    expect(results.filter((r) => r === 'payload')).toHaveLength(1)
    expect(results.filter((r) => r === undefined)).toHaveLength(24)
  })

  it('bad arguments are TypeErrors, never a key without expiry', async () => {
    await expect(store.set('session', 'x', 'v', 0)).rejects.toThrow(TypeError)
    await expect(store.set('session', 'x', 'v', Number.POSITIVE_INFINITY)).rejects.toThrow(TypeError)
    await expect(store.get('bad kind', 'x')).rejects.toThrow(TypeError)
    await expect(store.get('session', '')).rejects.toThrow(TypeError)
    expect(() => new RedisStore({ prefix: 'no-colon' })).toThrow(TypeError)
  })

  it('the grant index keeps every member written at once, its expiry only grows, and a take is once', async () => {
    await Promise.all(Array.from({ length: 40 }, (_, i) => store.indexAdd('grant-index', 'grant-1', `member-${i}`, i === 7 ? 600 : 30)))
    const key = store.key('grant-index', 'grant-1')
    expect(Number(replyValue(await redis.command('PTTL', key)))).toBeGreaterThan(30_000)
    const [first, second] = await Promise.all([store.indexTake('grant-index', 'grant-1'), store.indexTake('grant-index', 'grant-1')])
    const taken = [...first, ...second].sort()
    expect(taken).toEqual(Array.from({ length: 40 }, (_, i) => `member-${i}`).sort())
    expect(first.length === 0 || second.length === 0).toBe(true)
    expect(await store.indexTake('grant-index', 'grant-1')).toEqual([])
  })

  it('a prefix keeps two deployments on one Redis apart', async () => {
    const other = new RedisStore({ url: redis.url, prefix: 'mcp-oauth:v1:other:' })
    try {
      await other.ready()
      await store.set('session', 'shared-id', 'mine', 60)
      expect(await other.get('session', 'shared-id')).toBeUndefined()
    } finally {
      await other.close()
    }
  })
})

describe('an outage of the real server', () => {
  it('fails fast with StoreUnavailableError and an event, then recovers when Redis returns', async () => {
    await store.set('session', 'before', 'v', 60)
    await redis.stop()
    events.length = 0
    const failure = await store.get('session', 'before').catch((err: unknown) => err)
    expect(failure).toBeInstanceOf(StoreUnavailableError)
    expect(failure).toMatchObject({ code: 'ERR_STORE_UNAVAILABLE', retryAfter: 2 })
    await expect(store.take('code', 'x')).rejects.toBeInstanceOf(StoreUnavailableError)
    await expect(store.set('session', 'x', 'v', 60)).rejects.toBeInstanceOf(StoreUnavailableError)
    expect(events.some((e) => e.type === 'store_unavailable' && e.operation === 'get')).toBe(true)
    await expect.poll(() => events.some((e) => e.type === 'store_error' || e.type === 'store_reconnecting'), { timeout: 5_000 }).toBe(true)
    // Nothing in an event names a key or a value.
    expect(JSON.stringify(events)).not.toContain('before')

    await redis.start()
    await store.ready(10_000)
    // No persistence on this server: the data is gone, but the store answers again.
    expect(await store.get('session', 'before')).toBeUndefined()
    await store.set('session', 'after', 'v', 60)
    expect(await store.get('session', 'after')).toBe('v')
    expect(events.some((e) => e.type === 'store_ready')).toBe(true)
  })

  it('with persistence, a restart of the server loses nothing', async () => {
    const durable = await startRedisServer({ persistence: true })
    const s = new RedisStore({ url: durable.url })
    try {
      await s.ready()
      await s.set('grant', 'g1', 'kept', 600)
      await durable.stop()
      await durable.start()
      await s.ready(10_000)
      expect(await s.get('grant', 'g1')).toBe('kept')
    } finally {
      await s.close()
      await durable.close()
    }
  })
})

describe('CommonJS consumers', () => {
  it('require("@mcp-oauth/redis") works on this Node', async () => {
    const { execFileSync } = await import('node:child_process')
    const out = execFileSync(process.execPath, ['-e', 'console.log(Object.keys(require("@mcp-oauth/redis")).sort().join(","))'], {
      cwd: new URL('..', import.meta.url),
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    })
    expect(out).toContain('RedisStore')
  })
})
