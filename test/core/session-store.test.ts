/**
 * The store contract in the core: MemoryStore, session binding on any KeyValueStore, and a store that cannot
 * answer turned into 503 with Retry-After (never 500, never a session taken as unbound). The same behaviour
 * on a real redis-server is in test/redis/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createMcpAuth, isKeyValueStore, McpAuthConfigError, MemorySessionStore, MemoryStore, StoreUnavailableError,
  type KeyValueStore, type McpAuthEvent, type McpAuthOptions, type SessionBinding, type SessionStore,
} from '@mcp-oauth/core'
import { startTestIssuer, type TestIssuer } from '../helpers/test-issuer.js'

const RESOURCE = 'https://mcp.example.com/mcp'
let idp: TestIssuer
beforeAll(async () => {
  idp = await startTestIssuer()
})
afterAll(() => idp.close())

const initialize = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }
const call = { jsonrpc: '2.0', id: 1, method: 'tools/list' }

function make(sessionBinding: McpAuthOptions['sessionBinding']) {
  const events: McpAuthEvent[] = []
  const auth = createMcpAuth({ resource: RESOURCE, issuer: idp.issuer, sessionBinding, onEvent: (e) => events.push(e) })
  return { auth, events }
}

async function bearer(sub: string): Promise<string> {
  return idp.sign({ sub, aud: RESOURCE, client_id: 'c1', scope: 'mcp:tools', exp: Math.floor(Date.now() / 1000) + 600 })
}

function req(token: string, sessionId?: string) {
  const headers = new Headers({ authorization: `Bearer ${token}`, 'content-type': 'application/json' })
  if (sessionId) headers.set('mcp-session-id', sessionId)
  return { method: 'POST', url: '/mcp', headers }
}

/** A store whose every call fails the way a real client does on an outage. */
class DownStore implements KeyValueStore {
  calls = 0
  constructor(private readonly error: Error) {}
  async get(): Promise<string | undefined> {
    this.calls++
    throw this.error
  }
  async set(): Promise<void> {
    this.calls++
    throw this.error
  }
  async delete(): Promise<void> {
    throw this.error
  }
  async take(): Promise<string | undefined> {
    throw this.error
  }
}

describe('MemoryStore', () => {
  it('get / set / delete / take, namespaced by kind', async () => {
    const m = new MemoryStore()
    await m.set('session', 'a', '1', 60)
    expect(await m.get('session', 'a')).toBe('1')
    expect(await m.get('code', 'a')).toBeUndefined()
    expect(await m.take('session', 'a')).toBe('1')
    expect(await m.take('session', 'a')).toBeUndefined()
    await m.set('session', 'b', '2', 60)
    await m.delete('session', 'b')
    expect(await m.get('session', 'b')).toBeUndefined()
    expect(isKeyValueStore(m)).toBe(true)
  })

  it('every entry expires: a TTL is required and kept', async () => {
    const m = new MemoryStore()
    await expect(m.set('code', 'x', 'v', 0)).rejects.toThrow(TypeError)
    await m.set('code', 'x', 'v', 0.02)
    await expect.poll(() => m.get('code', 'x'), { interval: 10, timeout: 2_000 }).toBeUndefined()
  })

  it('is bounded: past max, the least recently used entry goes', async () => {
    const m = new MemoryStore({ max: 2 })
    await m.set('s', '1', 'a', 60)
    await m.set('s', '2', 'b', 60)
    await m.set('s', '3', 'c', 60)
    expect(m.size).toBe(2)
    expect(await m.get('s', '1')).toBeUndefined()
  })
})

describe('session binding on a KeyValueStore', () => {
  it('binds, refuses another user with 404, accepts the same user', async () => {
    const store = new MemoryStore()
    const { auth } = make({ store })
    const alice = await auth.handle(req(await bearer('alice')), { body: initialize })
    expect(alice.type).toBe('authenticated')
    if (alice.type !== 'authenticated') return
    await auth.bindSession('s-1', alice.auth)
    expect(JSON.parse((await store.get('session', 's-1'))!)).toEqual({ iss: idp.issuer, sub: 'alice', cid: 'c1' })
    const mallory = await auth.handle(req(await bearer('mallory'), 's-1'), { body: call })
    expect(mallory.type === 'respond' && mallory.response.status).toBe(404)
    expect((await auth.handle(req(await bearer('alice'), 's-1'), { body: call })).type).toBe('authenticated')
  })

  it('the SessionStore API keeps working (get/set of bindings)', async () => {
    const map = new Map<string, SessionBinding>()
    const own: SessionStore = { get: (id) => map.get(id), set: (id, b) => void map.set(id, b) }
    const { auth } = make({ store: own })
    const alice = await auth.handle(req(await bearer('alice')), { body: initialize })
    if (alice.type !== 'authenticated') throw new Error('refused')
    await auth.bindSession('s-2', alice.auth)
    expect(map.get('s-2')).toEqual({ issuer: idp.issuer, subject: 'alice', clientId: 'c1' })
    const mallory = await auth.handle(req(await bearer('mallory'), 's-2'), { body: call })
    expect(mallory.type === 'respond' && mallory.response.status).toBe(404)
  })

  it('a misspelt option is a start-up error, not a silent in-memory store', () => {
    expect(() => make({ stroe: new MemoryStore() } as never)).toThrow(McpAuthConfigError)
    expect(() => make({ store: { get: () => undefined } } as never)).toThrow(/sessionBinding\.store/)
    expect(() => make({ store: new MemoryStore(), ttlSeconds: 0 })).toThrow(/sessionBinding\.ttlSeconds/)
  })
})

describe('a store that cannot answer', () => {
  it('a request naming a session gets 503 with the store\'s Retry-After, and an event; never 404 or authenticated', async () => {
    const store = new DownStore(new StoreUnavailableError('down', { retryAfter: 3 }))
    const { auth, events } = make({ store })
    for (const sub of ['alice', 'mallory']) {
      const out = await auth.handle(req(await bearer(sub), 's-1'), { body: call })
      expect(out.type).toBe('respond')
      if (out.type !== 'respond') return
      expect(out.response.status).toBe(503)
      expect(out.response.headers['retry-after']).toBe('3')
      expect(out.error?.code).toBe('ERR_STORE_UNAVAILABLE')
      expect(JSON.parse(out.response.body)).toEqual({ error: 'temporarily_unavailable', error_description: 'Session state is temporarily unavailable' })
    }
    expect(events).toContainEqual({ type: 'store_unavailable', what: 'session', operation: 'get', reason: 'down' })
  })

  it('any error of a custom store counts as an outage (Retry-After from the retryAfter option)', async () => {
    const failing: SessionStore = { get: () => { throw new Error('ECONNRESET') }, set: () => undefined }
    const out = await make({ store: failing }).auth.handle(req(await bearer('alice'), 's-1'), { body: call })
    expect(out.type === 'respond' && out.response.status).toBe(503)
    expect(out.type === 'respond' && out.response.headers['retry-after']).toBe('10')
  })

  it('a request starting a session gets 503 before the transport creates it; a sessionless request never asks the store', async () => {
    const store = new DownStore(new StoreUnavailableError('down'))
    const { auth, events } = make({ store })
    const init = await auth.handle(req(await bearer('alice')), { body: initialize })
    expect(init.type === 'respond' && init.response.status).toBe(503)
    expect(events).toContainEqual(expect.objectContaining({ type: 'store_unavailable', operation: 'probe' }))
    const calls = store.calls
    expect((await auth.handle(req(await bearer('alice')), { body: call })).type).toBe('authenticated')
    expect(store.calls).toBe(calls)
  })

  it('a binding that fails after the response started is reported, not thrown', async () => {
    const store = new DownStore(new StoreUnavailableError('down'))
    const { auth, events } = make({ store })
    const ok = await make(true).auth.handle(req(await bearer('alice')), { body: call })
    if (ok.type !== 'authenticated') throw new Error('refused')
    await expect(auth.bindSession('s-9', ok.auth)).resolves.toBeUndefined()
    expect(events).toContainEqual(expect.objectContaining({ type: 'store_unavailable', operation: 'set' }))
  })

  it('the in-memory default is never probed', async () => {
    class Counting extends MemorySessionStore {
      gets = 0
      override get(id: string) {
        this.gets++
        return super.get(id)
      }
    }
    const store = new Counting()
    const { auth } = make({ store })
    expect((await auth.handle(req(await bearer('alice')), { body: initialize })).type).toBe('authenticated')
    expect(store.gets).toBe(0)
  })
})

describe('a store that cannot answer, on a node:http host that reads the body itself', () => {
  it('an initialize whose body is read after the headers passed gets 503 too', async () => {
    const { createServer } = await import('node:http')
    const { withMcpAuth } = await import('@mcp-oauth/node')
    const store = new DownStore(new StoreUnavailableError('down', { retryAfter: 4 }))
    let reached = false
    const server = createServer(withMcpAuth({ resource: RESOURCE, issuer: idp.issuer, sessionBinding: { store }, policy: { tools: {} } }, (_req, res) => {
      reached = true
      res.writeHead(200).end('{}')
    }))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = server.address() as { port: number }
      const res = await fetch(`http://127.0.0.1:${port}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await bearer('alice')}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify(initialize),
      })
      expect(res.status).toBe(503)
      expect(res.headers.get('retry-after')).toBe('4')
      expect(reached).toBe(false)
    } finally {
      server.close()
    }
  })
})

describe('a store that cannot answer, on Fastify (decided in onRequest, the body confirmed in preHandler)', () => {
  it('an initialize gets 503 before the route runs', async () => {
    const Fastify = (await import('fastify')).default
    const mcpAuth = (await import('@mcp-oauth/fastify')).default
    const store = new DownStore(new StoreUnavailableError('down', { retryAfter: 5 }))
    const app = Fastify()
    await app.register(mcpAuth, { resource: RESOURCE, issuer: idp.issuer, sessionBinding: { store } })
    let reached = false
    app.post('/mcp', async () => {
      reached = true
      return {}
    })
    try {
      const res = await app.inject({
        method: 'POST', url: '/mcp', payload: initialize,
        headers: { authorization: `Bearer ${await bearer('alice')}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      })
      expect(res.statusCode).toBe(503)
      expect(res.headers['retry-after']).toBe('5')
      expect(reached).toBe(false)
      const call = await app.inject({
        method: 'POST', url: '/mcp', payload: { jsonrpc: '2.0', id: 2, method: 'tools/list' },
        headers: { authorization: `Bearer ${await bearer('alice')}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      })
      expect(call.statusCode).toBe(200)
    } finally {
      await app.close()
    }
  })
})
