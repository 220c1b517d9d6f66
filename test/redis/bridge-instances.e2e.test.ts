/**
 * The bridge on many instances, each step pinned to one: register on A, authorize on B, both instances
 * restarted (fresh memory) while the user is at the upstream login, the code exchanged on A, refreshed on B,
 * B restarted, refreshed again; Redis itself restarted (append-only file) without losing the grant; Redis down:
 * 503 with Retry-After from the bridge, metadata and bridge JWTs unaffected; what Redis holds: no code,
 * access token or refresh token, in any key or value, and every key expires; and the device flow with its
 * user code looked up on the other instance.
 * (test/bridge/redis.e2e.test.ts runs the SDK client's whole flow round robin and the replayed refresh token.)
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportJWK, generateKeyPair } from 'jose'
import { createBridge, oidc, type BridgeOptions } from '@mcp-oauth/bridge'
import { RedisStore } from '@mcp-oauth/redis'
import { startDevIdp, type DevIdp } from '@mcp-oauth/dev-idp'
import { createApp } from '@mcp-oauth/example-bridge'
import { browse, Jar } from '../helpers/browser.js'
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js'
import { startRoundRobinProxy, type Backend, type RoundRobinProxy } from '../helpers/round-robin-proxy.js'
import { authorizationRequest, metadata, register, token, type AsMetadata } from '../helpers/oauth-client.js'

const SECRET = 'bridge-secret-for-tests-only-0123456789'
const REDIRECT = 'http://127.0.0.1:9/callback'
let redis: RedisServer
let idp: DevIdp
let proxy: RoundRobinProxy
let as: AsMetadata
let resource: string
const backends: Backend[] = []

interface Instance {
  name: string
  port: number
  server: Server | undefined
  store: RedisStore | undefined
}
const instances: Instance[] = []
let shared: BridgeOptions

async function start(i: Instance): Promise<void> {
  const store = new RedisStore({ url: redis.url })
  await store.ready()
  const bridge = createBridge({ ...shared, store })
  const server = createServer(createApp(bridge, resource, `${idp.issuer}/me`, ['mcp:tools']))
  await new Promise<void>((resolve) => server.listen(i.port, '127.0.0.1', resolve))
  await bridge.ready()
  i.port = (server.address() as AddressInfo).port
  i.server = server
  i.store = store
}

async function stop(i: Instance): Promise<void> {
  const server = i.server
  i.server = undefined
  if (server) {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  await i.store?.close()
}

/** A restart: a new bridge object, a new Redis connection, nothing in memory; same port and keys. */
async function restart(i: Instance): Promise<void> {
  await stop(i)
  await start(i)
}

beforeAll(async () => {
  redis = await startRedisServer({ persistence: true })
  proxy = await startRoundRobinProxy(backends)
  const issuer = `${proxy.origin}/oauth`
  resource = `${proxy.origin}/mcp`
  idp = await startDevIdp({ clients: [{ client_id: 'mcp-bridge', client_secret: SECRET, redirect_uris: [`${issuer}/callback`], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' }] })
  const { privateKey } = await generateKeyPair('ES256', { extractable: true })
  shared = {
    issuer, resource, scopes: ['mcp:tools'],
    upstream: oidc({ issuer: idp.issuer, clientId: 'mcp-bridge', clientSecret: SECRET }),
    signingKeys: [{ ...(await exportJWK(privateKey)), kid: 'fleet-1', alg: 'ES256', use: 'sig' }],
    encryptionKeys: [Buffer.alloc(32, 3).toString('base64url')],
    cookieKeys: [Buffer.alloc(32, 5).toString('base64url')],
  }
  for (const name of ['A', 'B']) {
    const i: Instance = { name, port: 0, server: undefined, store: undefined }
    await start(i)
    instances.push(i)
    backends.push({ name, get origin() { return `http://127.0.0.1:${i.port}` } })
  }
  as = await metadata(issuer)
})

afterAll(async () => {
  await proxy?.close()
  for (const i of instances) await stop(i)
  await idp?.close()
  await redis?.close()
})

const [A, B] = [() => instances[0]!, () => instances[1]!]
const servedBy = () => proxy.log[proxy.log.length - 1]!.backend

async function whoami(accessToken: string): Promise<{ status: number; text: string }> {
  const res = await fetch(resource, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } }),
  })
  return { status: res.status, text: await res.text() }
}

let clientId: string
let refreshToken: string
let accessToken: string
let code: string

describe('one login, each step on the other instance, restarts in between', () => {
  it('registers on A', async () => {
    proxy.route = () => 'A'
    const reg = await register(as, { client_name: 'fleet client', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] })
    expect(reg.status).toBe(201)
    expect(servedBy()).toBe('A')
    clientId = reg.json['client_id'] as string
  })

  it('authorizes on B; both instances restart while the user is at the upstream login; the login completes on either', async () => {
    const request = authorizationRequest(as, clientId, REDIRECT, { resource })
    const jar = new Jar()
    proxy.route = () => 'B'
    const before = proxy.log.length
    const atUpstream = await browse(request.url, { jar, origins: [proxy.origin, idp.url], onHop: (u) => (u.origin === idp.url ? false : undefined) })
    expect(atUpstream.kind).toBe('stopped')
    expect(new Set(proxy.log.slice(before).map((e) => e.backend))).toEqual(new Set(['B']))

    // Mid-flow: the interaction, the consent and the upstream transaction (state, PKCE verifier) are only in Redis now.
    await restart(A())
    await restart(B())
    proxy.route = undefined
    if (atUpstream.kind !== 'stopped') return
    const done = await browse(atUpstream.url, { jar, origins: [proxy.origin, idp.url] })
    expect(done.kind).toBe('redirect')
    if (done.kind !== 'redirect') return
    expect(done.url.origin + done.url.pathname).toBe(REDIRECT)
    expect(done.url.searchParams.get('state')).toBe(request.state)
    expect(done.url.searchParams.get('iss')).toBe(as.issuer)
    code = done.url.searchParams.get('code')!
    expect(code).toBeTruthy()
    ;(globalThis as { verifier?: string }).verifier = request.verifier
  })

  it('exchanges the code on A', async () => {
    proxy.route = (_m, path) => (path.startsWith('/oauth/') ? 'A' : undefined)
    const verifier = (globalThis as { verifier?: string }).verifier!
    const exchanged = await token(as, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: clientId, code_verifier: verifier, resource })
    expect(exchanged.status).toBe(200)
    expect(proxy.log.filter((e) => e.path === '/oauth/token').at(-1)!.backend).toBe('A')
    accessToken = exchanged.json['access_token'] as string
    refreshToken = exchanged.json['refresh_token'] as string
    expect(refreshToken).toBeTruthy()
  })

  it('the bridge token works on both MCP instances', async () => {
    proxy.route = undefined
    const seen = new Set<string>()
    for (let n = 0; n < 4; n++) {
      const res = await whoami(accessToken)
      expect(res.status).toBe(200)
      expect(res.text).toContain('demo-user')
      seen.add(servedBy())
    }
    expect(seen).toEqual(new Set(['A', 'B']))
  })

  it('refreshes on B; B restarts; refreshes on B again with the rotated token', async () => {
    proxy.route = () => 'B'
    const first = await token(as, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId })
    expect(first.status).toBe(200)
    expect(servedBy()).toBe('B')
    await restart(B())
    const second = await token(as, { grant_type: 'refresh_token', refresh_token: first.json['refresh_token'] as string, client_id: clientId })
    expect(second.status).toBe(200)
    refreshToken = second.json['refresh_token'] as string
    accessToken = second.json['access_token'] as string
  })

  it('a Redis restart loses no grant: the refresh token still works', async () => {
    await redis.stop()
    await redis.start()
    for (const i of instances) await i.store!.ready(10_000)
    proxy.route = () => 'A'
    const after = await token(as, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId })
    expect(after.status).toBe(200)
    refreshToken = after.json['refresh_token'] as string
    accessToken = after.json['access_token'] as string
  })

  it('while Redis is down the bridge answers 503 with Retry-After (never 500), metadata and bridge JWTs keep working, and it recovers', async () => {
    await redis.stop()
    try {
      for (const pin of ['A', 'B']) {
        proxy.route = () => pin
        const refresh = await fetch(as.token_endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId }) })
        expect(refresh.status).toBe(503)
        expect(refresh.headers.get('retry-after')).toBe('2')
        expect(await refresh.json()).toMatchObject({ error: 'temporarily_unavailable' })
        const reg = await register(as, { client_name: 'during the outage', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' })
        expect(reg.status).toBe(503)
        const page = await fetch(authorizationRequest(as, clientId, REDIRECT, { resource }).url, { redirect: 'manual', headers: { accept: 'text/html' } })
        expect(page.status).toBe(503)
        expect(page.headers.get('retry-after')).toBe('2')
        expect(await page.text()).toContain('temporarily_unavailable')
        expect((await fetch(`${proxy.origin}/.well-known/oauth-authorization-server/oauth`)).status).toBe(200)
      }
      proxy.route = undefined
      expect((await whoami(accessToken)).status).toBe(200)
    } finally {
      await redis.start()
    }
    for (const i of instances) await i.store!.ready(10_000)
    proxy.route = () => 'B'
    const after = await token(as, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId })
    expect(after.status).toBe(200)
    refreshToken = after.json['refresh_token'] as string
    accessToken = after.json['access_token'] as string
  })

  it('no code, access token or refresh token in any key or value; every key expires', async () => {
    const keys = [...(await redis.command('KEYS', '*')).matchAll(/\$\d+\r\n([^\r]*)\r\n/g)].map((m) => m[1]!)
    expect(keys.some((k) => k.startsWith('mcp-oauth:v1:bridge-oidc-RefreshToken:'))).toBe(true)
    let everything = keys.join('\n')
    for (const key of keys) {
      const type = await redis.command('TYPE', key)
      everything += type.includes('set') ? await redis.command('SMEMBERS', key) : await redis.command('GET', key)
      expect(Number(/:(-?\d+)/.exec(await redis.command('PTTL', key))![1]), key).toBeGreaterThan(0)
    }
    for (const secret of [code, refreshToken, accessToken, accessToken.split('.')[2]!]) expect(everything).not.toContain(secret)
  })

  it('the code replayed on B revokes the grant issued on A: the refresh token dies on every instance', async () => {
    proxy.route = () => 'B'
    const verifier = (globalThis as { verifier?: string }).verifier!
    const again = await token(as, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: clientId, code_verifier: verifier, resource })
    expect(again.json['error']).toBe('invalid_grant')
    for (const pin of ['A', 'B']) {
      proxy.route = () => pin
      const refused = await token(as, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId })
      expect(refused.json['error']).toBe('invalid_grant')
    }
  })
})

describe('the device flow across instances', () => {
  it('device authorization on A, the user code looked up on B, consent and login round robin, the device polls on A', async () => {
    proxy.route = () => 'A'
    const reg = await register(as, {
      client_name: 'fleet CLI', application_type: 'native', token_endpoint_auth_method: 'none',
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'], response_types: [], redirect_uris: [],
    })
    expect(reg.status).toBe(201)
    const cli = reg.json['client_id'] as string
    const start = await fetch(as.device_authorization_endpoint, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: cli, scope: 'mcp:tools', resource }),
    })
    expect(start.status).toBe(200)
    expect(servedBy()).toBe('A')
    const device = (await start.json()) as { device_code: string; user_code: string; verification_uri_complete: string }
    const poll = () => token(as, { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: device.device_code, client_id: cli })
    expect((await poll()).json['error']).toBe('authorization_pending')

    // The user-code pages on B (oidc-provider's findByUserCode runs there), everything else round robin.
    proxy.route = (_m, path) => (path.startsWith('/oauth/device') ? 'B' : undefined)
    const before = proxy.log.length
    const done = await browse(device.verification_uri_complete, { jar: new Jar(), origins: [proxy.origin, idp.url] })
    expect(done.kind).toBe('device-done')
    const hops = proxy.log.slice(before)
    expect(hops.filter((e) => e.path.startsWith('/oauth/device')).every((e) => e.backend === 'B')).toBe(true)
    expect(new Set(hops.map((e) => e.backend))).toEqual(new Set(['A', 'B']))

    proxy.route = () => 'A'
    const granted = await poll()
    expect(granted.status).toBe(200)
    expect((await whoami(granted.json['access_token'] as string)).status).toBe(200)
    // A device code is redeemed once, on any instance.
    proxy.route = () => 'B'
    expect((await poll()).json['error']).toBe('invalid_grant')
  })
})
