/**
 * Issue 3 against the real dev IdP: introspection (RFC 7662) with caching and single-flight, JWT-first auto
 * mode, several issuers, custom verifiers, and staying up when the IdP is not.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { exportJWK, generateKeyPair, SignJWT, importJWK } from 'jose'
import { startDevIdp, type DevIdp } from '@mcp-oauth/dev-idp'
import { createMcpAuth, McpAuthError, type McpAuth, type McpAuthEvent, type McpAuthOptions } from '@mcp-oauth/core'

const RESOURCE = 'http://127.0.0.1:3999/mcp'
let idp: DevIdp

beforeAll(async () => {
  idp = await startDevIdp()
})
afterAll(() => idp.close())
afterEach(() => {
  idp.heal()
  vi.useRealTimers()
})

function req(token: string): Request {
  return new Request(RESOURCE, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
}

async function refusal(auth: McpAuth, token: string): Promise<{ err: McpAuthError; res: Response }> {
  try {
    await auth.authenticate(req(token))
  } catch (err) {
    if (!(err instanceof McpAuthError)) throw err
    return { err, res: auth.errorResponse(err) }
  }
  throw new Error('expected a refusal')
}

function withIntrospection(extra: Partial<McpAuthOptions> = {}, introspection: Partial<NonNullable<McpAuthOptions['introspection']>> = {}) {
  const events: McpAuthEvent[] = []
  const auth = createMcpAuth({
    resource: RESOURCE,
    issuer: idp.issuer,
    introspection: { clientId: idp.resourceServerClient.clientId, clientSecret: idp.resourceServerClient.clientSecret, ...introspection },
    onEvent: (e) => events.push(e),
    ...extra,
  })
  return { auth, events }
}

describe('opaque tokens through introspection', () => {
  it('accepts an opaque token, mapping scopes, client id and subject (client_secret_basic)', async () => {
    const { auth } = withIntrospection()
    const token = await idp.issueAccessToken({ format: 'opaque', scopes: ['mcp:tools'], subject: 'demo-user' })
    const info = await auth.authenticate(req(token))
    expect(info).toMatchObject({ token, scopes: ['mcp:tools'], clientId: idp.publicClient.clientId })
    expect(info.extra).toMatchObject({ subject: 'demo-user', issuer: idp.issuer, verifiedBy: 'introspection' })
    expect(typeof info.expiresAt).toBe('number')
  })

  it('client_secret_post works too, and a wrong secret is "cannot validate" (503), not a 401', async () => {
    const token = await idp.issueAccessToken({ format: 'opaque', scopes: ['mcp:tools'] })
    const post = withIntrospection({}, { authMethod: 'client_secret_post' }).auth
    expect((await post.authenticate(req(token))).scopes).toEqual(['mcp:tools'])
    const wrong = withIntrospection({}, { clientSecret: 'wrong' }).auth
    expect((await refusal(wrong, token)).res.status).toBe(503)
  })

  it('private_key_jwt (RFC 7523) authenticates with a signed assertion', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
    const jwk = { ...(await exportJWK(privateKey)), alg: 'ES256', kid: 'rs-key' }
    const pkIdp = await startDevIdp({
      clients: [{
        client_id: 'rs-pkjwt', token_endpoint_auth_method: 'private_key_jwt', grant_types: [], response_types: [], redirect_uris: [],
        jwks: { keys: [{ ...(await exportJWK(publicKey)), alg: 'ES256', kid: 'rs-key', use: 'sig' }] },
      }],
    })
    try {
      const auth = createMcpAuth({ resource: RESOURCE, issuer: pkIdp.issuer, introspection: { clientId: 'rs-pkjwt', privateKey: jwk } })
      const token = await pkIdp.issueAccessToken({ format: 'opaque', scopes: ['mcp:read'] })
      expect((await auth.authenticate(req(token))).scopes).toEqual(['mcp:read'])
    } finally {
      await pkIdp.close()
    }
  })

  it('a revoked token is refused once its cache entry ends', async () => {
    const { auth } = withIntrospection({}, { cacheTtl: 1 })
    const token = await idp.issueAccessToken({ format: 'opaque', scopes: ['mcp:tools'] })
    await auth.authenticate(req(token))
    await idp.revoke(token)
    // Within the cache TTL the answer is the cached one: that is the documented trade-off.
    await auth.authenticate(req(token))
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 1100 })
    expect((await refusal(auth, token)).err.code).toBe('ERR_TOKEN_INACTIVE')
  })

  it('100 concurrent requests with one new opaque token → exactly one introspection call', async () => {
    const { auth } = withIntrospection()
    const token = await idp.issueAccessToken({ format: 'opaque', scopes: ['mcp:tools'] })
    await auth.authenticate(req(await idp.issueAccessToken({ format: 'opaque' }))) // discovery out of the way
    idp.resetCounts()
    const results = await Promise.all(Array.from({ length: 100 }, () => auth.authenticate(req(token))))
    expect(results.every((r) => r.token === token)).toBe(true)
    expect(idp.counts.introspection).toBe(1)
    // And the next 100 come from the cache.
    await Promise.all(Array.from({ length: 100 }, () => auth.authenticate(req(token))))
    expect(idp.counts.introspection).toBe(1)
  })

  it('an inactive answer is cached briefly, so a flood of one bad token reaches the IdP once', async () => {
    const { auth } = withIntrospection()
    await auth.authenticate(req(await idp.issueAccessToken({ format: 'opaque' })))
    idp.resetCounts()
    for (let i = 0; i < 20; i++) expect((await refusal(auth, 'not-a-real-token')).err.code).toBe('ERR_TOKEN_INACTIVE')
    expect(idp.counts.introspection).toBe(1)
  })

  it('introspection failing (500) or hanging → 503 and nothing cached', async () => {
    const { auth } = withIntrospection({ timeout: 300 })
    const token = await idp.issueAccessToken({ format: 'opaque', scopes: ['mcp:tools'] })
    await auth.authenticate(req(await idp.issueAccessToken({ format: 'opaque' })))
    idp.fail('introspection', { kind: 'status', status: 500 })
    const failed = await refusal(auth, token)
    expect(failed.res.status).toBe(503)
    expect(failed.res.headers.get('retry-after')).toBeTruthy()
    idp.fail('introspection', { kind: 'hang' })
    expect((await refusal(auth, token)).res.status).toBe(503)
    idp.fail('introspection', { kind: 'garbage' })
    expect((await refusal(auth, token)).res.status).toBe(503)
    idp.fail('introspection', { kind: 'json', body: { active: 'true' } })
    expect((await refusal(auth, token)).res.status).toBe(503)
    idp.heal()
    idp.resetCounts()
    expect((await auth.authenticate(req(token))).scopes).toEqual(['mcp:tools'])
    expect(idp.counts.introspection).toBe(1)
  })

  it('tokenFormat auto: a JWT from the trusted issuer never reaches introspection', async () => {
    const { auth } = withIntrospection()
    const jwt = await idp.issueAccessToken({ resource: RESOURCE, scopes: ['mcp:tools'] })
    idp.resetCounts()
    expect((await auth.authenticate(req(jwt))).extra).toMatchObject({ verifiedBy: 'jwt' })
    expect(idp.counts.introspection).toBe(0)
  })

  it("tokenFormat 'opaque' sends even JWTs to introspection; 'jwt' refuses opaque tokens", async () => {
    const opaqueOnly = withIntrospection({ tokenFormat: 'opaque' }).auth
    const jwt = await idp.issueAccessToken({ resource: RESOURCE, scopes: ['mcp:tools'] })
    expect((await opaqueOnly.authenticate(req(jwt))).extra).toMatchObject({ verifiedBy: 'introspection' })
    const jwtOnly = withIntrospection({ tokenFormat: 'jwt' }).auth
    const opaque = await idp.issueAccessToken({ format: 'opaque' })
    idp.resetCounts()
    expect((await refusal(jwtOnly, opaque)).err.code).toBe('ERR_TOKEN_MALFORMED')
    expect(idp.counts.introspection).toBe(0)
  })

  it('an introspection answer whose aud names another resource is refused', async () => {
    const { auth } = withIntrospection()
    const token = await idp.issueAccessToken({ format: 'opaque', resource: 'http://127.0.0.1:1/other', scopes: ['mcp:tools'] })
    expect((await refusal(auth, token)).err.code).toBe('ERR_TOKEN_AUDIENCE')
  })
})

describe('several issuers', () => {
  it('two issuers are both accepted, a third is refused without any request', async () => {
    const second = await startDevIdp({ signingAlg: 'RS256' })
    const third = await startDevIdp()
    try {
      const auth = createMcpAuth({
        resource: RESOURCE,
        authorizationServers: [{ issuer: idp.issuer }, { issuer: second.issuer }],
      })
      const a = await auth.authenticate(req(await idp.issueAccessToken({ resource: RESOURCE, scopes: ['mcp:tools'] })))
      const b = await auth.authenticate(req(await second.issueAccessToken({ resource: RESOURCE, scopes: ['mcp:read'] })))
      expect(a.extra?.issuer).toBe(idp.issuer)
      expect(b.extra?.issuer).toBe(second.issuer)
      const prm = await (await auth.metadataResponse(new Request(`${RESOURCE.replace('/mcp', '')}/.well-known/oauth-protected-resource/mcp`)))!.json()
      expect(prm.authorization_servers).toEqual([idp.issuer, second.issuer])
      third.resetCounts()
      const { err } = await refusal(auth, await third.issueAccessToken({ resource: RESOURCE }))
      expect(err.code).toBe('ERR_TOKEN_ISSUER')
      expect(third.counts.total).toBe(0)
    } finally {
      await second.close()
      await third.close()
    }
  })

  it('each issuer has its own audience rule', async () => {
    const second = await startDevIdp()
    try {
      const auth = createMcpAuth({
        resource: RESOURCE,
        authorizationServers: [{ issuer: idp.issuer }, { issuer: second.issuer, audience: 'api://mcp' }],
      })
      await auth.authenticate(req(await second.issueAccessToken({ resource: 'api://mcp' })))
      expect((await refusal(auth, await second.issueAccessToken({ resource: RESOURCE }))).err.code).toBe('ERR_TOKEN_AUDIENCE')
      expect((await refusal(auth, await idp.issueAccessToken({ resource: 'api://mcp' }))).err.code).toBe('ERR_TOKEN_AUDIENCE')
    } finally {
      await second.close()
    }
  })
})

describe('keys and outages', () => {
  it('a key rotation is picked up with one JWKS fetch', async () => {
    const auth = createMcpAuth({ resource: RESOURCE, issuer: idp.issuer })
    await auth.authenticate(req(await idp.issueAccessToken({ resource: RESOURCE })))
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 31_000 }) // past the refetch cooldown
    await idp.rotateKeys()
    idp.resetCounts()
    const info = await auth.authenticate(req(await idp.issueAccessToken({ resource: RESOURCE })))
    expect(info.clientId).toBeTruthy()
    expect(idp.counts.jwks).toBe(1)
  })

  it('a flood of random kids does not become a flood of JWKS requests', async () => {
    const auth = createMcpAuth({ resource: RESOURCE, issuer: idp.issuer })
    await auth.authenticate(req(await idp.issueAccessToken({ resource: RESOURCE })))
    const { privateJwk, alg } = idp.currentSigningKey()
    const key = await importJWK(privateJwk, alg)
    idp.resetCounts()
    const now = Math.floor(Date.now() / 1000)
    const results = await Promise.all(Array.from({ length: 200 }, async (_, i) => {
      const token = await new SignJWT({ iss: idp.issuer, aud: RESOURCE, exp: now + 60 }).setProtectedHeader({ alg, kid: `random-${i}` }).sign(key)
      return auth.authenticate(req(token)).then(() => 200, (e: McpAuthError) => e.status)
    }))
    expect(new Set(results)).toEqual(new Set([401]))
    expect(idp.counts.jwks).toBeLessThanOrEqual(1)
  })

  it('JWKS endpoint down after warm-up → valid tokens still accepted with the last good keys', async () => {
    const events: McpAuthEvent[] = []
    const auth = createMcpAuth({ resource: RESOURCE, issuer: idp.issuer, onEvent: (e) => events.push(e), cache: false })
    await auth.authenticate(req(await idp.issueAccessToken({ resource: RESOURCE })))
    idp.fail('jwks', { kind: 'status', status: 503 })
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 11 * 60_000 }) // the key set is no longer fresh
    const token = await idp.issueAccessToken({ resource: RESOURCE, ttl: 3600 })
    expect((await auth.authenticate(req(token))).clientId).toBeTruthy()
    expect(events.some((e) => e.type === 'jwks_stale')).toBe(true)
    expect(events.some((e) => e.type === 'jwks_fetch' && !e.ok)).toBe(true)
  })

  it('cold start with the IdP down → 503 with Retry-After', async () => {
    const auth = createMcpAuth({ resource: RESOURCE, issuer: idp.issuer, timeout: 500 })
    const token = await idp.issueAccessToken({ resource: RESOURCE })
    idp.fail('all', { kind: 'status', status: 500 })
    const { res } = await refusal(auth, token)
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('10')
  })

  it('discovery answering garbage or hanging → 503', async () => {
    const token = await idp.issueAccessToken({ resource: RESOURCE })
    idp.fail('discovery', { kind: 'garbage' })
    expect((await refusal(createMcpAuth({ resource: RESOURCE, issuer: idp.issuer }), token)).res.status).toBe(503)
    idp.fail('discovery', { kind: 'hang' })
    expect((await refusal(createMcpAuth({ resource: RESOURCE, issuer: idp.issuer, timeout: 200 }), token)).res.status).toBe(503)
  })
})

describe('a custom verifier', () => {
  it('may return AuthInfo', async () => {
    const auth = createMcpAuth({ resource: RESOURCE, verify: (token) => ({ token, clientId: 'custom', scopes: ['x'] }) })
    expect(await auth.authenticate(req('anything'))).toMatchObject({ clientId: 'custom', scopes: ['x'], extra: { verifiedBy: 'custom' } })
  })

  it('a plain Error from it becomes 401 invalid_token, not 500', async () => {
    const auth = createMcpAuth({ resource: RESOURCE, verify: () => { throw new Error('nope') } })
    const { err, res } = await refusal(auth, 'anything')
    expect(err.code).toBe('ERR_TOKEN_REJECTED')
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token"/)
  })

  it('a malformed return value is refused too', async () => {
    const auth = createMcpAuth({ resource: RESOURCE, verify: () => ({ nope: true }) as never })
    expect((await refusal(auth, 'anything')).res.status).toBe(401)
  })
})
