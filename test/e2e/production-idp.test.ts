/**
 * Issue 12, on every host, against the real dev IdP set up like a production one: RS256 keys, introspection
 * enabled (so `tokenFormat` is `auto`) and answered by oidc-provider itself (`introspectJwts: false`: a JWT
 * sent there gets `400 unsupported_token_type`, as from any oidc-provider deployment).
 *
 *   - hostile JOSE-shaped tokens → 401 `invalid_token` and not one request to the IdP;
 *   - introspection answers classified (RFC 7662, RFC 6749 §5.2): token errors → 401 (remembered), our own
 *     credentials refused → 503 with an `idp_unavailable` event that says so (never cached);
 *   - key rotation right after a JWKS fetch → 200 with one extra fetch; 50 concurrent new kids → one fetch;
 *     a flood of random kids → all 401, at most one fetch per `jwks.cooldown` (time moved, never slept);
 *   - a revoked opaque token is refused once the default 10 s `introspection.cacheTtl` has passed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { CompactEncrypt, SignJWT, exportJWK, generateKeyPair, importJWK, type JWTPayload } from 'jose'
import { startDevIdp, type DevIdp } from '@mcp-oauth/dev-idp'
import type { McpAuthEvent } from '@mcp-oauth/core'
import { hosts, type HostOptions, type RunningHost } from '../adapters/hosts.js'
import { send, type RawResponse } from '../adapters/http-client.js'

let idp: DevIdp
let attacker: { privateKey: CryptoKey; publicJwk: Record<string, unknown> }

beforeAll(async () => {
  idp = await startDevIdp({ signingAlg: 'RS256', introspectJwts: false })
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  attacker = { privateKey, publicJwk: { ...(await exportJWK(publicKey)), alg: 'ES256' } }
})
afterAll(() => idp.close())
afterEach(() => {
  idp.heal()
  vi.useRealTimers()
})

/** Move `Date` (only) forward; sockets and timers stay real, so nothing sleeps. */
function advance(seconds: number): void {
  vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + seconds * 1000 })
}

const post = (app: RunningHost, token: string): Promise<RawResponse> => send(app.url, 'POST', '/mcp', { authorization: `Bearer ${token}` })

/** The IdP's own signing key, to forge tokens that differ from good ones in one detail only. */
async function idpKey() {
  const { privateJwk, alg, kid } = idp.currentSigningKey()
  return { key: await importJWK(privateJwk, alg), alg, kid }
}

function claims(app: RunningHost, extra: Record<string, unknown> = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000)
  return { iss: idp.issuer, aud: app.resource, iat: now, exp: now + 300, sub: 'demo-user', client_id: 'mcp-dev-client', scope: 'mcp:tools', ...extra }
}

/** The hostile tokens of issue 12: each was answered 503 (and cost an IdP request) in `auto` mode. */
const HOSTILE: [string, (app: RunningHost) => Promise<string>][] = [
  ['a 5-segment JWE', async (app) =>
    new CompactEncrypt(new TextEncoder().encode(JSON.stringify(claims(app)))).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(crypto.getRandomValues(new Uint8Array(32)))],
  ['a valid JWS with "==" padding on the signature', async (app) => `${await idp.issueAccessToken({ resource: app.resource, scopes: ['mcp:tools'] })}==`],
  ['a JWS whose kid names a key of another type', async (app) => {
    const { kid } = await idpKey()
    return new SignJWT(claims(app)).setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' }).sign(attacker.privateKey)
  }],
  ['an embedded jwk, signed with the attacker\'s key', async (app) =>
    new SignJWT(claims(app)).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', jwk: attacker.publicJwk } as never).sign(attacker.privateKey)],
  ['a jku pointing at the attacker, signed with the attacker\'s key', async (app) =>
    new SignJWT(claims(app)).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'attacker-1', jku: 'https://attacker.example/jwks' }).sign(attacker.privateKey)],
  ['an x5u pointing at the attacker, signed with the attacker\'s key', async (app) =>
    new SignJWT(claims(app)).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'attacker-2', x5u: 'https://attacker.example/cert.pem' }).sign(attacker.privateKey)],
  ['a 10 kB kid', async (app) => {
    const { key, alg } = await idpKey()
    return new SignJWT(claims(app)).setProtectedHeader({ alg, kid: 'k'.repeat(10 * 1024), typ: 'at+jwt' }).sign(key)
  }],
  ['a numeric kid', async (app) => {
    const { key, alg } = await idpKey()
    return new SignJWT(claims(app)).setProtectedHeader({ alg, kid: 7, typ: 'at+jwt' } as never).sign(key)
  }],
  ['a JWT without iss, signed by the IdP\'s own key', async (app) => {
    const { key, alg, kid } = await idpKey()
    return new SignJWT(claims(app, { iss: undefined })).setProtectedHeader({ alg, kid, typ: 'at+jwt' }).sign(key)
  }],
]

describe.each(hosts)('$name against a production-like IdP', (host) => {
  const started: RunningHost[] = []
  afterAll(async () => {
    await Promise.all(started.map((a) => a.close()))
  })

  /** A host with introspection (auto mode), warmed up: discovery, the JWKS and introspection have been used once. */
  async function start(extra: Partial<HostOptions> = {}, introspection: Record<string, unknown> = {}): Promise<{ app: RunningHost; events: McpAuthEvent[] }> {
    const events: McpAuthEvent[] = []
    const app = await host.start({
      issuer: idp.issuer,
      scopesSupported: ['mcp:tools'],
      introspection: { clientId: idp.resourceServerClient.clientId, clientSecret: idp.resourceServerClient.clientSecret, ...introspection },
      onEvent: (e) => events.push(e),
      timeout: 2000,
      ...extra,
    })
    started.push(app)
    return { app, events }
  }

  async function warm(app: RunningHost): Promise<void> {
    expect((await post(app, await idp.issueAccessToken({ resource: app.resource, scopes: ['mcp:tools'] }))).status).toBe(200)
    expect((await post(app, await idp.issueAccessToken({ format: 'opaque', resource: app.resource, scopes: ['mcp:tools'] }))).status).toBe(200)
  }

  describe('hostile JOSE-shaped tokens are judged locally', () => {
    let app: RunningHost
    beforeAll(async () => {
      ;({ app } = await start())
      await warm(app)
    })

    it.each(HOSTILE)('%s → 401 invalid_token, zero IdP requests', async (_name, forge) => {
      const token = await forge(app)
      idp.resetCounts()
      const res = await post(app, token)
      expect(res.status, res.text).toBe(401)
      expect(res.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/)
      expect(res.text).not.toContain(token)
      expect(idp.counts.total).toBe(0)
    })

    it("tokenFormat 'opaque' still sends a JWT to introspection: oidc-provider's 400 unsupported_token_type → 401, remembered", async () => {
      const { app: opaque } = await start({ tokenFormat: 'opaque' })
      const jwt = await idp.issueAccessToken({ resource: opaque.resource, scopes: ['mcp:tools'] })
      idp.resetCounts()
      for (let i = 0; i < 3; i++) {
        const res = await post(opaque, jwt)
        expect(res.status, res.text).toBe(401)
        expect(res.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/)
      }
      expect(idp.counts.introspection).toBe(1)
    })
  })

  describe('introspection answers, classified', () => {
    const opaque = (app: RunningHost) => idp.issueAccessToken({ format: 'opaque', resource: app.resource, scopes: ['mcp:tools'] })

    it.each([
      ['400 unsupported_token_type', { status: 400, error: 'unsupported_token_type', description: 'the token type is not supported' }],
      ['400 invalid_token', { status: 400, error: 'invalid_token', description: 'token is malformed' }],
      ['400 invalid_request naming the token', { status: 400, error: 'invalid_request', description: "missing required parameter 'token'" }],
    ])('%s → 401 invalid_token, remembered like an inactive answer', async (_name, answer) => {
      const { app } = await start()
      await warm(app)
      const token = await opaque(app)
      idp.fail('introspection', { kind: 'oauth-error', ...answer })
      idp.resetCounts()
      for (let i = 0; i < 3; i++) {
        const res = await post(app, token)
        expect(res.status, res.text).toBe(401)
        expect(res.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/)
      }
      expect(idp.counts.introspection).toBe(1)
    })

    it('our credentials refused for real (wrong secret: oidc-provider answers 401 invalid_client) → 503, never cached, and the event says so', async () => {
      const { app, events } = await start({}, { clientSecret: 'not-the-secret' })
      const token = await opaque(app)
      idp.resetCounts()
      for (let i = 0; i < 2; i++) {
        const res = await post(app, token)
        expect(res.status, res.text).toBe(503)
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0)
        expect(res.headers['www-authenticate']).toBeUndefined()
      }
      expect(idp.counts.introspection).toBe(2)
      const down = events.filter((e): e is Extract<McpAuthEvent, { type: 'idp_unavailable' }> => e.type === 'idp_unavailable')
      expect(down.length).toBeGreaterThan(0)
      for (const e of down) expect(e).toMatchObject({ what: 'introspection', reason: expect.stringMatching(/credentials.*refused/i) })
    })

    it.each([
      ['403 access_denied', { status: 403, error: 'access_denied' }],
      ['400 invalid_client (client_secret_post)', { status: 400, error: 'invalid_client' }],
      ['400 unauthorized_client', { status: 400, error: 'unauthorized_client' }],
    ])('%s → 503 "credentials refused", never cached', async (_name, answer) => {
      const { app, events } = await start()
      await warm(app)
      const token = await opaque(app)
      idp.fail('introspection', { kind: 'oauth-error', ...answer })
      idp.resetCounts()
      expect((await post(app, token)).status).toBe(503)
      expect(events.findLast((e) => e.type === 'idp_unavailable')).toMatchObject({ reason: expect.stringMatching(/credentials.*refused/i) })
      idp.heal()
      expect((await post(app, token)).status).toBe(200)
      expect(idp.counts.introspection).toBe(2)
    })

    it('a 400 about our request, not the token → 503, never cached', async () => {
      const { app } = await start()
      await warm(app)
      const token = await opaque(app)
      idp.fail('introspection', { kind: 'oauth-error', status: 400, error: 'invalid_request', description: 'unrecognized client_assertion_type' })
      expect((await post(app, token)).status).toBe(503)
      idp.heal()
      expect((await post(app, token)).status).toBe(200)
    })
  })

  describe('key rotation', () => {
    it('the IdP rotates right after our JWKS fetch → the next token is 200, with exactly one extra JWKS fetch', async () => {
      const { app } = await start({ cache: false })
      await warm(app)
      await idp.rotateKeys()
      idp.resetCounts()
      const res = await post(app, await idp.issueAccessToken({ resource: app.resource, scopes: ['mcp:tools'] }))
      expect(res.status, res.text).toBe(200)
      expect(idp.counts.jwks).toBe(1)
      expect(idp.counts.total).toBe(1)
    })

    it('50 concurrent first requests with the new kid → all 200, one JWKS fetch', async () => {
      const { app } = await start({ cache: false })
      await warm(app)
      await idp.rotateKeys()
      const tokens = await Promise.all(Array.from({ length: 50 }, () => idp.issueAccessToken({ resource: app.resource, scopes: ['mcp:tools'] })))
      idp.resetCounts()
      const answers = await Promise.all(tokens.map((t) => post(app, t)))
      expect(answers.map((a) => a.status)).toEqual(tokens.map(() => 200))
      expect(idp.counts.jwks).toBe(1)
    })

    it('a flood of random kids → all 401, at most one JWKS fetch per cooldown', async () => {
      const { app } = await start({ jwks: { cooldown: 30 } })
      await warm(app)
      const { key, alg } = await idpKey()
      const flood = async (n: number): Promise<number[]> => {
        const tokens = await Promise.all(Array.from({ length: n }, () =>
          new SignJWT(claims(app)).setProtectedHeader({ alg, kid: crypto.randomUUID(), typ: 'at+jwt' }).sign(key)))
        const statuses: number[] = []
        for (let i = 0; i < tokens.length; i += 25) statuses.push(...(await Promise.all(tokens.slice(i, i + 25).map((t) => post(app, t)))).map((r) => r.status))
        return statuses
      }
      idp.resetCounts()
      expect(new Set(await flood(100))).toEqual(new Set([401]))
      expect(idp.counts.jwks).toBeLessThanOrEqual(1)
      advance(20)
      expect(new Set(await flood(50))).toEqual(new Set([401]))
      expect(idp.counts.jwks).toBeLessThanOrEqual(1)
      advance(31)
      expect(new Set(await flood(50))).toEqual(new Set([401]))
      expect(idp.counts.jwks).toBeLessThanOrEqual(2)
      expect(idp.counts.total).toBe(idp.counts.jwks)
      // Good tokens keep passing throughout.
      expect((await post(app, await idp.issueAccessToken({ resource: app.resource, scopes: ['mcp:tools'] }))).status).toBe(200)
    })
  })

  describe('revocation', () => {
    it('a revoked opaque token is refused once the default 10 s cache TTL has passed', async () => {
      const { app } = await start()
      await warm(app)
      const token = await idp.issueAccessToken({ format: 'opaque', resource: app.resource, scopes: ['mcp:tools'] })
      expect((await post(app, token)).status).toBe(200)
      await idp.revoke(token)
      // Inside the TTL the cached answer stands: the documented trade-off.
      expect((await post(app, token)).status).toBe(200)
      advance(11)
      const res = await post(app, token)
      expect(res.status, res.text).toBe(401)
      expect(res.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/)
    })
  })
})
