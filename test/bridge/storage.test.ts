/**
 * What the bridge keeps in its store: no credential in the clear — refresh tokens, codes and device codes are
 * stored under a hash (and not in the payload), upstream tokens are AES-GCM sealed — and keys rotate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MemoryBridgeStore, createBridge, github } from '@mcp-oauth/bridge'
import { browse } from '../helpers/browser.js'
import { startBridgeWorld, type BridgeWorld } from '../helpers/bridge-world.js'
import { authorizationRequest, metadata, register, token } from '../helpers/oauth-client.js'

/** A MemoryBridgeStore that also remembers every id and value ever written. */
class RecordingStore extends MemoryBridgeStore {
  readonly written: string[] = []
  override async set(kind: string, id: string, value: string, ttl: number): Promise<void> {
    this.written.push(`${kind} ${id} ${value}`)
    return super.set(kind, id, value, ttl)
  }
  override async indexAdd(kind: string, id: string, member: string, ttl: number): Promise<void> {
    this.written.push(`${kind} ${id} ${member}`)
    return super.indexAdd(kind, id, member, ttl)
  }
}

const REDIRECT = 'http://127.0.0.1:8090/callback'
const store = new RecordingStore()
const KEY_A = Buffer.alloc(32, 1).toString('base64url')
const KEY_B = Buffer.alloc(32, 2).toString('base64url')
let world: BridgeWorld

beforeAll(async () => {
  world = await startBridgeWorld({ mode: 'oidc-pkce', bridge: { store, encryptionKeys: [KEY_A] } })
})
afterAll(async () => world?.close())

describe('the store holds no credential in the clear', () => {
  it('after sign-in, code redemption, refresh and a device code', async () => {
    const as = await metadata(world.bridge.issuer)
    const reg = await register(as, { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'] })
    const clientId = reg.json['client_id'] as string
    const req = authorizationRequest(as, clientId, REDIRECT, { resource: world.mcpUrl })
    const r = await browse(req.url, { origins: [world.origin, world.idp.url] })
    if (r.kind !== 'redirect') throw new Error(r.kind)
    const code = r.url.searchParams.get('code')!
    const first = await token(as, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: req.verifier, client_id: clientId, resource: world.mcpUrl })
    const refreshed = await token(as, { grant_type: 'refresh_token', refresh_token: first.json['refresh_token'] as string, client_id: clientId })
    const device = (await (await fetch(as.device_authorization_endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ client_id: clientId, scope: 'mcp:tools' }) })).json()) as { device_code: string; user_code: string }
    const upstreamAccessToken = await world.bridge.upstreamToken({ extra: { issuer: world.bridge.issuer, subject: 'demo-user' } })

    const secrets = {
      code,
      'refresh token': first.json['refresh_token'] as string,
      'rotated refresh token': refreshed.json['refresh_token'] as string,
      'device code': device.device_code,
      'user code': device.user_code,
      'upstream access token': upstreamAccessToken,
    }
    const everything = store.written.join('\n')
    for (const [name, secret] of Object.entries(secrets)) {
      expect(secret, name).toBeTruthy()
      expect(everything.includes(secret), `${name} stored in the clear`).toBe(false)
    }
    expect(everything).toMatch(/bridge-upstream-token \S+ v1\./)
    // The session id is the browser's cookie value: behind its uid it is sealed too.
    const sessionIndex = store.written.filter((line) => line.startsWith('bridge-oidc-session-uid '))
    expect(sessionIndex.length).toBeGreaterThan(0)
    for (const line of sessionIndex) expect(line.split(' ')[2], 'session id behind its uid').toMatch(/^v1\./)
  })
})

describe('encryption key rotation', () => {
  it('a bridge with a new first key still opens tokens sealed with the old key; without the old key they are gone', async () => {
    const common = { issuer: world.bridge.issuer, resource: world.mcpUrl, scopes: ['mcp:tools'], upstream: github({ clientId: 'x', clientSecret: 'y' }), store }
    const rotated = createBridge({ ...common, encryptionKeys: [KEY_B, KEY_A] })
    const authInfo = { extra: { issuer: world.bridge.issuer, subject: 'demo-user' } }
    const before = await world.bridge.upstreamToken(authInfo)
    expect(await rotated.upstreamToken(authInfo)).toBe(before)
    const withoutOld = createBridge({ ...common, encryptionKeys: [KEY_B] })
    await expect(withoutOld.upstreamToken(authInfo)).rejects.toMatchObject({ code: 'ERR_BRIDGE_NO_UPSTREAM_TOKEN' })
  })
})
