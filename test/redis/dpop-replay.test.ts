/**
 * DPoP proof replay across instances (RFC 9449 §11.1) on a real redis-server: a proof accepted by one
 * instance is refused by another that shares the RedisDpopReplayStore; while Redis is down a DPoP request gets
 * 503, never an accepted proof.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMcpAuth, McpAuthError, type McpAuth } from '@mcp-oauth/core'
import { RedisDpopReplayStore, RedisStore } from '@mcp-oauth/redis'
import { DpopSession } from '../helpers/dpop.js'
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js'
import { startTestIssuer, type TestIssuer } from '../helpers/test-issuer.js'

const RESOURCE = 'https://mcp.example.com/mcp'
let redis: RedisServer
let idp: TestIssuer
const stores: RedisStore[] = []

beforeAll(async () => {
  redis = await startRedisServer()
  idp = await startTestIssuer()
})
afterAll(async () => {
  for (const s of stores) await s.close()
  await idp?.close()
  await redis?.close()
})

async function instance(): Promise<McpAuth> {
  const store = new RedisStore({ url: redis.url })
  await store.ready()
  stores.push(store)
  return createMcpAuth({ resource: RESOURCE, issuer: idp.issuer, dpop: { replayStore: new RedisDpopReplayStore(store) } })
}

async function dpopRequest(session: DpopSession, token: string, proof?: string): Promise<Request> {
  const headers = new Headers({ authorization: `DPoP ${token}`, dpop: proof ?? await session.buildProof({ htm: 'POST', htu: RESOURCE, accessToken: token }) })
  return new Request(RESOURCE, { method: 'POST', headers })
}

async function outcome(auth: McpAuth, req: Request): Promise<string> {
  try {
    await auth.authenticate(req)
    return 'ok'
  } catch (err) {
    return err instanceof McpAuthError ? `${err.status} ${err.code}` : String(err)
  }
}

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

  it('a proof accepted by instance A is a replay on instance B', async () => {
    const [a, b] = [await instance(), await instance()]
    const session = await DpopSession.create()
    const token = await idp.sign({ aud: RESOURCE, scope: 'mcp:tools', cnf: { jkt: session.thumbprint } })
    const proof = await session.buildProof({ htm: 'POST', htu: RESOURCE, accessToken: token })
    expect(await outcome(a, await dpopRequest(session, token, proof))).toBe('ok')
    expect(await outcome(b, await dpopRequest(session, token, proof))).toBe('401 ERR_DPOP_PROOF')
    expect(await outcome(b, await dpopRequest(session, token))).toBe('ok')
  })

  it('while Redis is down a DPoP request gets 503 (never an unchecked proof), and works when it is back', async () => {
    const a = await instance()
    const session = await DpopSession.create()
    const token = await idp.sign({ aud: RESOURCE, scope: 'mcp:tools', cnf: { jkt: session.thumbprint } })
    await redis.stop()
    try {
      const res = await a.authenticate(await dpopRequest(session, token)).catch((err: unknown) => err)
      expect(res).not.toHaveProperty('clientId')
      const response = a.errorResponse(res)
      expect(response.status).toBe(503)
      expect(response.headers.get('retry-after')).toBe('2')
      expect(res).toBeInstanceOf(McpAuthError)
      expect((res as McpAuthError).code).toBe('ERR_STORE_UNAVAILABLE')
    } finally {
      await redis.start()
    }
    await stores.at(-1)!.ready(10_000)
    expect(await outcome(a, await dpopRequest(session, token))).toBe('ok')
  })
})
