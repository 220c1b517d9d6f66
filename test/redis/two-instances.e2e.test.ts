/**
 * Two MCP server instances, one real redis-server, a round-robin proxy in front, the real dev IdP and the real
 * MCP SDK client (1.32, 2025-11-25 sessions): a session created on one instance is served by the other, is
 * refused on either for another user, survives a restart of an instance and of Redis; while Redis is down,
 * requests that need no store keep working and those that need it get 503 with Retry-After.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDevIdp, type DevIdp } from '@mcp-oauth/dev-idp'
import { connectWithOAuth, type FlowResult } from '@mcp-oauth/demo/flow'
import { connectWithOAuthV2 } from '@mcp-oauth/demo/flow-v2'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js'
import { startRoundRobinProxy, type Backend, type RoundRobinProxy } from '../helpers/round-robin-proxy.js'
import { startMcpInstance, type McpInstance } from '../helpers/mcp-instance.js'

let redis: RedisServer
let idp: DevIdp
let proxy: RoundRobinProxy
let a: McpInstance
let b: McpInstance
let resource: string
const backends: Backend[] = []

beforeAll(async () => {
  redis = await startRedisServer({ persistence: true })
  idp = await startDevIdp({ users: [
    { id: 'alice', username: 'demo', password: 'demo' },
    { id: 'mallory', username: 'mallory', password: 'mallory' },
  ] })
  proxy = await startRoundRobinProxy(backends)
  resource = `${proxy.origin}/mcp`
  const auth = { resource, issuer: idp.issuer, scopesSupported: ['mcp:tools'], requiredScopes: ['mcp:tools'] }
  a = await startMcpInstance({ name: 'A', redisUrl: redis.url, auth })
  b = await startMcpInstance({ name: 'B', redisUrl: redis.url, auth })
  backends.push({ name: 'A', get origin() { return a.origin } }, { name: 'B', get origin() { return b.origin } })
})

afterAll(async () => {
  await proxy?.close()
  await a?.stop()
  await b?.stop()
  await idp?.close()
  await redis?.close()
})

function token(subject: string, clientId?: string): Promise<string> {
  return idp.issueAccessToken({ resource, scopes: ['mcp:tools'], subject, ...(clientId ? { clientId } : {}) })
}

/** One raw JSON-RPC POST to an instance (or the proxy), as the SDK client would send it. */
async function post(origin: string, bearer: string, sessionId: string | undefined, message: unknown): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(`${origin}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${bearer}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
      ...(sessionId ? { 'mcp-session-id': sessionId } : {}),
    },
    body: JSON.stringify(message),
  })
  return { status: res.status, text: await res.text(), headers: res.headers }
}

const initialize = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }
const echo = (message: string, id = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { message } } })

async function sessionOn(origin: string, bearer: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport; sessionId: string }> {
  const transport = new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { requestInit: { headers: { authorization: `Bearer ${bearer}` } } })
  const client = new Client({ name: 'two-instances', version: '1' })
  await client.connect(transport)
  return { client, transport, sessionId: transport.sessionId! }
}

function clientIdOf(flow: FlowResult): string {
  const registration = flow.exchanges.find((e) => e.kind === 'registration')
  return (JSON.parse(registration!.responseBody!) as { client_id: string }).client_id
}

function subjectOf(result: { content: Array<{ type: string; text?: string }> }): string {
  return (JSON.parse(result.content[0]!.text!) as { subject: string }).subject
}

describe('one session, two instances', () => {
  it('the SDK client goes through the OAuth flow at the proxy and its session is served by both instances', async () => {
    const flow = await connectWithOAuth({ serverUrl: resource, authorize: (url) => idp.completeAuthorization(url) })
    try {
      const sessionId = flow.transport.sessionId!
      expect(sessionId).toBeTruthy()
      for (let i = 0; i < 4; i++) expect(subjectOf(await flow.callTool('whoami'))).toBe('alice')
      const served = proxy.log.filter((e) => e.sessionId === sessionId && e.method === 'POST')
      expect(new Set(served.map((e) => e.backend))).toEqual(new Set(['A', 'B']))
      expect(served.every((e) => e.status === 200 || e.status === 202)).toBe(true)
    } finally {
      await flow.close()
    }
  })

  it('a session created on A is refused on B (and on A) for another user: 404; the same user is served on B', async () => {
    const alice = await sessionOn(a.origin, await token('alice'))
    try {
      const mallory = await token('mallory')
      for (const origin of [b.origin, a.origin]) {
        const hijack = await post(origin, mallory, alice.sessionId, echo('steal'))
        expect(hijack.status).toBe(404)
        expect(hijack.text).toContain('Session not found')
      }
      const same = await post(b.origin, await token('alice'), alice.sessionId, echo('hello from B'))
      expect(same.status).toBe(200)
      expect(same.text).toContain('hello from B')
      // Same subject, other client: another principal, refused too.
      const otherClient = await post(b.origin, await token('alice', 'other-client'), alice.sessionId, echo('x'))
      expect(otherClient.status).toBe(404)
    } finally {
      await alice.client.close()
    }
  })

  it('an unknown session id is 404 on every instance', async () => {
    const res = await post(b.origin, await token('alice'), 'no-such-session', echo('x'))
    expect(res.status).toBe(404)
  })
})

describe('restarts', () => {
  it('an instance killed and restarted mid-flow loses nothing: the session goes on, the binding still holds', async () => {
    const flow = await connectWithOAuth({ serverUrl: resource, authorize: (url) => idp.completeAuthorization(url) })
    try {
      const sessionId = flow.transport.sessionId!
      expect(subjectOf(await flow.callTool('whoami'))).toBe('alice')
      await a.stop()
      // A is down: the proxy sends everything to B, which serves A's session from Redis.
      expect((await flow.callTool('echo', { message: 'while A is down' })).content[0]).toMatchObject({ text: 'while A is down' })
      await a.start()
      const before = proxy.log.length
      for (let i = 0; i < 4; i++) expect(subjectOf(await flow.callTool('whoami'))).toBe('alice')
      expect(proxy.log.slice(before).filter((e) => e.sessionId === sessionId).map((e) => e.backend)).toContain('A')
      // The restarted A has no memory of the session, yet refuses another user with it.
      expect((await post(a.origin, await token('mallory'), sessionId, echo('steal'))).status).toBe(404)
      expect((await post(a.origin, await token('alice', clientIdOf(flow)), sessionId, echo('mine'))).status).toBe(200)
    } finally {
      await flow.close()
    }
  })
})

describe('a Redis outage', () => {
  it('JWT requests keep working, session requests get 503 with Retry-After (never 404, never served unbound), and recover', async () => {
    const alice = await sessionOn(a.origin, await token('alice'))
    const aliceToken = await token('alice')
    const malloryToken = await token('mallory')
    try {
      await redis.stop()
      for (const origin of [a.origin, b.origin]) {
        // No session: only the JWT is checked, and that never touches Redis.
        const stateless = await post(origin, aliceToken, undefined, echo('no store needed'))
        expect(stateless.status).toBe(200)
        expect(stateless.text).toContain('no store needed')
        for (const bearer of [aliceToken, malloryToken]) {
          const res = await post(origin, bearer, alice.sessionId, echo('needs the store'))
          expect(res.status).toBe(503)
          expect(res.headers.get('retry-after')).toBe('2')
          expect(JSON.parse(res.text)).toEqual({ error: 'temporarily_unavailable', error_description: 'Session state is temporarily unavailable' })
        }
        // Starting a session: the binding could not be written, so no session is started.
        const init = await post(origin, aliceToken, undefined, initialize)
        expect(init.status).toBe(503)
        expect(init.headers.get('mcp-session-id')).toBeNull()
      }
      expect(a.events.some((e) => e.type === 'store_unavailable')).toBe(true)
      expect(a.authEvents).toContainEqual(expect.objectContaining({ type: 'store_unavailable', what: 'session', operation: 'get' }))
      expect(b.authEvents).toContainEqual(expect.objectContaining({ type: 'store_unavailable', what: 'session', operation: 'probe' }))

      await redis.start()
      // Both instances reconnect on their own; the append-only file kept every binding and session.
      await expect.poll(async () => (await post(b.origin, aliceToken, alice.sessionId, echo('back'))).status, { interval: 100, timeout: 15_000 }).toBe(200)
      await expect.poll(async () => (await post(a.origin, aliceToken, alice.sessionId, echo('back'))).status, { interval: 100, timeout: 15_000 }).toBe(200)
      expect((await post(b.origin, malloryToken, alice.sessionId, echo('steal'))).status).toBe(404)
      expect(b.events.some((e) => e.type === 'store_ready')).toBe(true)
      // New sessions start again.
      const fresh = await sessionOn(resource.replace('/mcp', ''), aliceToken)
      await fresh.client.callTool({ name: 'echo', arguments: { message: 'new' } })
      await fresh.client.close()
    } finally {
      if (!redis.running) await redis.start()
      await alice.client.close()
    }
  })
})

describe('MCP 2026-07-28: no session, so no sticky routing and no Redis on the request path', () => {
  it('the SDK v2 client is served by both instances, and keeps working while Redis is down', async () => {
    const flow = await connectWithOAuthV2({ serverUrl: resource, authorize: (url) => idp.completeAuthorization(url) })
    try {
      expect(flow.era).toBe('modern')
      const before = proxy.log.length
      for (let i = 0; i < 4; i++) expect(subjectOf(await flow.callTool('whoami'))).toBe('alice')
      const served = proxy.log.slice(before)
      expect(new Set(served.map((e) => e.backend))).toEqual(new Set(['A', 'B']))
      expect(served.every((e) => e.sessionId === undefined && e.status === 200)).toBe(true)
      await redis.stop()
      const failures = () => [...a.events, ...b.events, ...a.authEvents, ...b.authEvents].filter((e) => e.type === 'store_unavailable').length
      const failed = failures()
      for (let i = 0; i < 4; i++) expect(subjectOf(await flow.callTool('whoami'))).toBe('alice')
      // Not one store operation was attempted for them.
      expect(failures()).toBe(failed)
    } finally {
      if (!redis.running) await redis.start()
      await flow.close()
    }
    for (const i of [a, b]) await expect.poll(async () => (await post(i.origin, await token('alice'), 'x', echo('x'))).status, { interval: 100, timeout: 15_000 }).toBe(404)
  })
})

describe('what Redis holds', () => {
  it('no session id and no token in any key or value; every key expires', async () => {
    const alice = await sessionOn(resource.replace('/mcp', ''), await token('alice'))
    const bearer = await token('alice')
    try {
      await alice.client.callTool({ name: 'echo', arguments: { message: 'x' } })
      const keys = [...(await redis.command('KEYS', '*')).matchAll(/\$\d+\r\n([^\r]*)\r\n/g)].map((m) => m[1]!)
      expect(keys.some((k) => k.startsWith('mcp-oauth:v1:session:'))).toBe(true)
      let everything = keys.join('\n')
      for (const key of keys) {
        everything += await redis.command('GET', key)
        expect(Number(/:(-?\d+)/.exec(await redis.command('PTTL', key))![1])).toBeGreaterThan(0)
      }
      expect(everything).not.toContain(alice.sessionId)
      expect(everything).not.toContain(bearer)
      expect(everything).not.toContain(bearer.split('.')[2]!)
    } finally {
      await alice.client.close()
    }
  })
})
