/**
 * Two bridge instances on one real redis-server (RedisStore from @mcp-oauth/redis implements BridgeStore as is),
 * behind a round-robin proxy that sends each request to the other instance: the real MCP SDK client registers on
 * one, consents on another, comes back from the upstream to either — and a replayed refresh token is caught
 * whichever instance sees it; with Redis down the bridge answers 503 with Retry-After, never 500.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportJWK, generateKeyPair } from 'jose'
import { createBridge, type Bridge, type BridgeStore } from '@mcp-oauth/bridge'
import { RedisStore } from '@mcp-oauth/redis'
import { startDevIdp, type DevIdp } from '@mcp-oauth/dev-idp'
import { createApp } from '@mcp-oauth/example-bridge'
import { devBridgeClient, devUpstream } from '@mcp-oauth/example-bridge/dev-upstream'
import { connectWithOAuth } from '@mcp-oauth/demo/flow'
import { browse } from '../helpers/browser.js'
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js'
import { startRoundRobinProxy, type Backend, type RoundRobinProxy } from '../helpers/round-robin-proxy.js'
import { metadata, token } from '../helpers/oauth-client.js'

const SECRET = 'bridge-secret-for-tests-only-0123456789'
let redis: RedisServer
let idp: DevIdp
let proxy: RoundRobinProxy
const backends: Backend[] = []
const instances: Array<{ server: Server; bridge: Bridge; store: RedisStore }> = []

beforeAll(async () => {
  redis = await startRedisServer()
  proxy = await startRoundRobinProxy(backends)
  const issuer = `${proxy.origin}/oauth`
  const resource = `${proxy.origin}/mcp`
  idp = await startDevIdp({ clients: [devBridgeClient(`${issuer}/callback`, SECRET, false)] })
  const { privateKey } = await generateKeyPair('ES256', { extractable: true })
  // Every instance shares the keys: tokens, sealed upstream tokens and cookies of one are valid at the other.
  const shared = {
    issuer, resource, scopes: ['mcp:tools'],
    upstream: devUpstream(idp.issuer, SECRET, false),
    signingKeys: [{ ...(await exportJWK(privateKey)), kid: 'shared-1', alg: 'ES256', use: 'sig' }],
    encryptionKeys: [Buffer.alloc(32, 7).toString('base64url')],
    cookieKeys: [Buffer.alloc(32, 9).toString('base64url')],
  }
  for (const name of ['A', 'B']) {
    const store = new RedisStore({ url: redis.url, prefix: 'mcp-oauth:v1:bridge-test:' })
    const storeContract: BridgeStore = store
    const bridge = createBridge({ ...shared, store: storeContract })
    const server = createServer(createApp(bridge, resource, `${idp.issuer}/me`, ['mcp:tools']))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    await bridge.ready()
    instances.push({ server, bridge, store })
    backends.push({ name, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })
  }
})

afterAll(async () => {
  await proxy?.close()
  for (const i of instances) {
    i.server.closeAllConnections()
    i.server.close()
    await i.store.close()
  }
  await idp?.close()
  await redis?.close()
})

describe('the bridge on Redis, two instances', () => {
  it('the whole SDK flow alternates between the instances and works; a replayed refresh token is caught by the other instance', async () => {
    proxy.log.length = 0
    const flow = await connectWithOAuth({
      serverUrl: `${proxy.origin}/mcp`,
      authorize: async (url) => {
        const r = await browse(url, { origins: [proxy.origin, idp.url] })
        if (r.kind !== 'redirect') throw new Error(r.kind)
        return r.url
      },
    })
    try {
      const result = await flow.callTool('upstream-user')
      expect(JSON.parse((result.content[0] as { text: string }).text)).toMatchObject({ status: 200, sub: 'demo-user' })
    } finally {
      await flow.close()
    }
    const bridgePaths = proxy.log.filter((e) => e.path.startsWith('/oauth/'))
    expect(new Set(bridgePaths.map((e) => e.backend))).toEqual(new Set(['A', 'B']))
    expect(proxy.log.some((e) => e.path === '/oauth/callback')).toBe(true)

    // Rotation across instances, then the replay: the grant is revoked everywhere.
    const as = await metadata(`${proxy.origin}/oauth`)
    const clientId = flow.provider.clientInformation()!.client_id
    const r1 = flow.provider.tokens()!.refresh_token!
    const second = await token(as, { grant_type: 'refresh_token', refresh_token: r1, client_id: clientId })
    expect(second.status).toBe(200)
    const replay = await token(as, { grant_type: 'refresh_token', refresh_token: r1, client_id: clientId })
    expect(replay.json['error']).toBe('invalid_grant')
    const after = await token(as, { grant_type: 'refresh_token', refresh_token: second.json['refresh_token'] as string, client_id: clientId })
    expect(after.json['error']).toBe('invalid_grant')
  })

  it('every key the bridge wrote to Redis expires', async () => {
    const keys = (await redis.command('KEYS', 'mcp-oauth:v1:bridge-test:*')).split(/\r?\n/).filter((l) => l.startsWith('mcp-oauth:'))
    expect(keys.length).toBeGreaterThan(0)
    for (const key of keys.slice(0, 40)) {
      const ttl = Number((await redis.command('PTTL', key)).replace(/^:/, '').trim())
      expect(ttl, key).toBeGreaterThan(0)
    }
  })

  it('Redis down: 503 with Retry-After from the token, registration and authorization endpoints (never 500); metadata still served', async () => {
    const as = await metadata(`${proxy.origin}/oauth`)
    await redis.stop()
    try {
      const refresh = await token(as, { grant_type: 'refresh_token', refresh_token: 'whatever', client_id: 'whoever' })
      expect(refresh.status).toBe(503)
      expect(refresh.json['error']).toBe('temporarily_unavailable')
      const reg = await fetch(as.registration_endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:8090/callback'], token_endpoint_auth_method: 'none' }) })
      expect(reg.status).toBe(503)
      expect(Number(reg.headers.get('retry-after'))).toBeGreaterThan(0)
      const page = await fetch(`${as.authorization_endpoint}?client_id=x&response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A8090%2Fcallback`, { redirect: 'manual', headers: { accept: 'text/html' } })
      expect(page.status).toBe(503)
      expect(await page.text()).toContain('temporarily_unavailable')
      expect((await fetch(`${proxy.origin}/.well-known/oauth-authorization-server/oauth`)).status).toBe(200)
    } finally {
      await redis.start()
      for (const i of instances) await i.store.ready(10_000)
    }
  })

})
