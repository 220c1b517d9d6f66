import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { SignJWT, base64url } from 'jose'
import { extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js'
import { createMcpAuth, McpAuthError, type McpAuth, type McpAuthEvent, type McpAuthOptions } from '@mcp-oauth/core'
import { startTestIssuer, type TestIssuer } from '../helpers/test-issuer.js'
import { DPOP_CHALLENGE } from '../helpers/dpop.js'

const RESOURCE = 'https://mcp.example.com/mcp'
let idp: TestIssuer

beforeAll(async () => {
  idp = await startTestIssuer()
})
afterAll(() => idp.close())
afterEach(() => {
  idp.route = undefined
  vi.useRealTimers()
})

function make(extra: Partial<McpAuthOptions> = {}): { auth: McpAuth; events: McpAuthEvent[] } {
  const events: McpAuthEvent[] = []
  const auth = createMcpAuth({ resource: RESOURCE, issuer: idp.issuer, scopesSupported: ['mcp:tools'], onEvent: (e) => events.push(e), ...extra })
  return { auth, events }
}

function request(authorization?: string | string[], path = '/mcp', init: RequestInit = {}): Request {
  const headers = new Headers(init.headers)
  for (const value of [authorization ?? []].flat()) headers.append('authorization', value)
  return new Request(`https://mcp.example.com${path}`, { method: 'POST', ...init, headers })
}

async function refusal(auth: McpAuth, req: Request, opts?: { scopes?: string[] }): Promise<{ err: McpAuthError; res: Response }> {
  try {
    await auth.authenticate(req, opts)
  } catch (err) {
    expect(err).toBeInstanceOf(McpAuthError)
    return { err: err as McpAuthError, res: auth.errorResponse(err, opts) }
  }
  throw new Error('expected a refusal')
}

describe('RFC 6750 bearer extraction', () => {
  let auth: McpAuth
  beforeAll(() => {
    auth = make().auth
  })

  it('no credentials → 401 with resource_metadata and scope, no error attribute', async () => {
    const { err, res } = await refusal(auth, request())
    expect(err.code).toBe('ERR_MISSING_TOKEN')
    expect(res.status).toBe(401)
    const challenge = res.headers.get('www-authenticate')!
    expect(challenge).toBe(`Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp:tools", ${DPOP_CHALLENGE}`)
    expect(challenge).not.toMatch(/error=/)
    expect(res.headers.get('access-control-expose-headers')).toMatch(/WWW-Authenticate/)
    expect(res.headers.get('content-type')).toBe('application/json')
    // The MCP SDK client reads it.
    const parsed = extractWWWAuthenticateParams(res)
    expect(parsed.resourceMetadataUrl?.href).toBe('https://mcp.example.com/.well-known/oauth-protected-resource/mcp')
    expect(parsed.scope).toBe('mcp:tools')
    expect(parsed.error).toBeUndefined()
  })

  it.each([
    ['another scheme', 'Basic dXNlcjpwYXNz'],
    ['an empty header', ''],
  ])('%s counts as no bearer credentials → 401 without error', async (_n, header) => {
    const { err } = await refusal(auth, request(header))
    expect(err.code).toBe('ERR_MISSING_TOKEN')
  })

  it.each([
    ['scheme only', 'Bearer'],
    ['empty token', 'Bearer '],
    ['token with a space inside', 'Bearer abc def'],
    ['token with a quote', 'Bearer abc"def'],
    ['token with a comma', 'Bearer abc,def'],
    ['padding in the middle', 'Bearer ab=c'],
    ['non-ASCII', 'Bearer abcé'],
    ['two credentials in one header', 'Bearer abc, Bearer def'],
  ])('%s → 400 invalid_request', async (_n, header) => {
    const { err, res } = await refusal(auth, request(header))
    expect(err.code).toBe('ERR_INVALID_REQUEST')
    expect(res.status).toBe(400)
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_request", error_description="[^"\\]+", resource_metadata="/)
  })

  it('two Authorization headers → 400', async () => {
    const { err } = await refusal(auth, request(['Bearer abc', 'Bearer def']))
    expect(err.code).toBe('ERR_INVALID_REQUEST')
  })

  it('a token in the query string → 400, with or without a header', async () => {
    expect((await refusal(auth, request(undefined, '/mcp?access_token=abc'))).err.code).toBe('ERR_INVALID_REQUEST')
    expect((await refusal(auth, request('Bearer abc', '/mcp?x=1&access_token=abc'))).err.code).toBe('ERR_INVALID_REQUEST')
  })

  it('accepts a case-insensitive scheme', async () => {
    const token = await idp.sign({ aud: RESOURCE })
    for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
      const info = await auth.authenticate(request(`${scheme} ${token}`))
      expect(info.token).toBe(token)
    }
  })

  it('an oversize token → 401 invalid_token without fetching anything', async () => {
    const before = idp.counts.total
    const { err, res } = await refusal(auth, request(`Bearer ${'a'.repeat(20_000)}`))
    expect(err.code).toBe('ERR_TOKEN_MALFORMED')
    expect(res.status).toBe(401)
    expect(idp.counts.total).toBe(before)
  })
})

describe('JWT access tokens', () => {
  it('a valid token gives the SDK-shaped AuthInfo', async () => {
    const { auth } = make()
    const token = await idp.sign({ aud: RESOURCE, scope: 'mcp:tools mcp:read', client_id: 'client-9', sub: 'alice' })
    const info = await auth.authenticate(request(`Bearer ${token}`))
    expect(info).toMatchObject({ token, clientId: 'client-9', scopes: ['mcp:tools', 'mcp:read'] })
    expect(info.resource?.href).toBe(RESOURCE)
    expect(typeof info.expiresAt).toBe('number')
    expect(info.extra).toMatchObject({ subject: 'alice', issuer: idp.issuer, verifiedBy: 'jwt' })
    expect((info.extra as { claims: { scope: string } }).claims.scope).toBe('mcp:tools mcp:read')
  })

  it('reads scp (array and string) and azp', async () => {
    const { auth } = make()
    const a = await auth.authenticate(request(`Bearer ${await idp.sign({ aud: RESOURCE, scp: ['a', 'b'], client_id: undefined, azp: 'spa' })}`))
    expect(a.scopes).toEqual(['a', 'b'])
    expect(a.clientId).toBe('spa')
    const b = await auth.authenticate(request(`Bearer ${await idp.sign({ aud: RESOURCE, scp: 'c d' })}`))
    expect(b.scopes).toEqual(['c', 'd'])
  })

  it('accepts aud as an array containing the resource, and the trailing-slash form of an origin resource', async () => {
    const { auth } = make()
    await auth.authenticate(request(`Bearer ${await idp.sign({ aud: ['https://other.example.com', RESOURCE] })}`))
    const origin = createMcpAuth({ resource: 'https://mcp.example.com', issuer: idp.issuer })
    await origin.authenticate(request(`Bearer ${await idp.sign({ aud: 'https://mcp.example.com/' })}`))
  })

  const now = () => Math.floor(Date.now() / 1000)
  it.each([
    ['a token for another resource', { aud: 'https://other.example.com/mcp' }, 'ERR_TOKEN_AUDIENCE'],
    ['a token for a look-alike resource', { aud: 'https://mcp.example.com/mcp2' }, 'ERR_TOKEN_AUDIENCE'],
    ['no aud', { aud: undefined }, 'ERR_TOKEN_AUDIENCE'],
    ['an expired token', { aud: RESOURCE, exp: now() - 60 }, 'ERR_TOKEN_EXPIRED'],
    ['no exp', { aud: RESOURCE, exp: undefined }, 'ERR_TOKEN_CLAIM'],
    ['exp as a string', { aud: RESOURCE, exp: String(now() + 60) }, 'ERR_TOKEN_CLAIM'],
    ['nbf in the future', { aud: RESOURCE, nbf: now() + 3600 }, 'ERR_TOKEN_NOT_YET_VALID'],
    ['iat in the future', { aud: RESOURCE, iat: now() + 3600 }, 'ERR_TOKEN_NOT_YET_VALID'],
    ['scope as an array', { aud: RESOURCE, scope: ['mcp:tools'] }, 'ERR_TOKEN_CLAIM'],
    ['sub as a number', { aud: RESOURCE, sub: 42 }, 'ERR_TOKEN_CLAIM'],
    ['an ID token (nonce, typ JWT)', { aud: RESOURCE, nonce: 'n' }, 'ERR_TOKEN_TYPE', { typ: 'JWT' }],
    ['a DPoP-bound token', { aud: RESOURCE, cnf: { jkt: 'abc' } }, 'ERR_TOKEN_TYPE'],
    ['a foreign typ', { aud: RESOURCE }, 'ERR_TOKEN_TYPE', { typ: 'logout+jwt' }],
  ] as const)('%s → 401 %s', async (_n, claims, code, header?: Record<string, unknown>) => {
    const { auth } = make()
    const { err, res } = await refusal(auth, request(`Bearer ${await idp.sign(claims as never, { header: header as never })}`))
    expect(err.code).toBe(code)
    expect(res.status).toBe(401)
    const challenge = res.headers.get('www-authenticate')!
    expect(challenge).toMatch(/^Bearer error="invalid_token", error_description="[^"\\]+", resource_metadata="https:\/\/mcp\.example\.com\/\.well-known\/oauth-protected-resource\/mcp"/)
    expect(extractWWWAuthenticateParams(res).error).toBe('invalid_token')
    expect(challenge).not.toContain(res.headers.get('x') ?? 'eyJ')
  })

  it('a crit header this server does not understand → 401', async () => {
    const { auth } = make()
    const token = await idp.signRaw({ alg: 'ES256', kid: idp.keys[0]!.kid, crit: ['x-custom'], 'x-custom': 1 },
      { iss: idp.issuer, aud: RESOURCE, exp: now() + 60 })
    const { err } = await refusal(auth, request(`Bearer ${token}`))
    expect(err.code).toBe('ERR_TOKEN_MALFORMED')
  })

  it('exp = 1e400 (Infinity after JSON.parse) is refused, not "never expires"', async () => {
    const { auth } = make()
    // Correctly signed, so only the exp check can refuse it.
    const forged = await idp.signRaw({ alg: 'ES256', kid: idp.keys[0]!.kid }, `{"iss":"${idp.issuer}","aud":"${RESOURCE}","exp":1e400,"sub":"x"}`)
    const { err } = await refusal(auth, request(`Bearer ${forged}`))
    expect(err.code).toBe('ERR_TOKEN_CLAIM')
  })

  it('a token from an untrusted issuer is refused without any outbound request', async () => {
    const { auth } = make()
    const before = idp.counts.total
    const token = await new SignJWT({ iss: 'https://evil.example.com', aud: RESOURCE, exp: now() + 60 })
      .setProtectedHeader({ alg: 'ES256', kid: idp.keys[0]!.kid }).sign(idp.keys[0]!.privateKey)
    const { err } = await refusal(auth, request(`Bearer ${token}`))
    expect(err.code).toBe('ERR_TOKEN_ISSUER')
    expect(idp.counts.total).toBe(before)
  })

  it('alg none and HS256-with-the-public-key are refused before any key lookup', async () => {
    const { auth } = make()
    const before = idp.counts.jwks
    const payload = base64url.encode(JSON.stringify({ iss: idp.issuer, aud: RESOURCE, exp: now() + 60 }))
    const none = `${base64url.encode('{"alg":"none"}')}.${payload}.`
    expect((await refusal(auth, request(`Bearer ${none}`))).err.code).toBe('ERR_TOKEN_ALGORITHM')
    const secret = new TextEncoder().encode(JSON.stringify(idp.keys[0]!.publicJwk))
    const hs = await new SignJWT({ iss: idp.issuer, aud: RESOURCE, exp: now() + 60 }).setProtectedHeader({ alg: 'HS256', kid: idp.keys[0]!.kid }).sign(secret)
    expect((await refusal(auth, request(`Bearer ${hs}`))).err.code).toBe('ERR_TOKEN_ALGORITHM')
    expect(idp.counts.jwks).toBe(before)
  })

  it('a bad signature → ERR_TOKEN_SIGNATURE', async () => {
    const { auth } = make()
    const token = await idp.sign({ aud: RESOURCE })
    const [h, p] = token.split('.')
    const other = await idp.sign({ aud: RESOURCE, sub: 'other' })
    const { err } = await refusal(auth, request(`Bearer ${h}.${p}.${other.split('.')[2]}`))
    expect(err.code).toBe('ERR_TOKEN_SIGNATURE')
  })

  it('ignores jku, x5u and an embedded jwk: keys come only from the issuer', async () => {
    const { auth } = make()
    const attacker = await import('../helpers/test-issuer.js').then((m) => m.makeKey('ES256', idp.keys[0]!.kid))
    const token = await idp.sign({ aud: RESOURCE }, {
      key: attacker,
      header: { jku: 'http://127.0.0.1:1/jwks', x5u: 'http://127.0.0.1:1/x5u', jwk: attacker.publicJwk },
    })
    const { err } = await refusal(auth, request(`Bearer ${token}`))
    expect(err.code).toBe('ERR_TOKEN_SIGNATURE')
  })

  it('a missing required scope → 403 insufficient_scope asking for the token\'s scopes plus the missing one', async () => {
    const { auth } = make({ requiredScopes: ['mcp:tools'] })
    const token = await idp.sign({ aud: RESOURCE, scope: 'profile' })
    const { err, res } = await refusal(auth, request(`Bearer ${token}`), { scopes: ['mcp:tools', 'mcp:admin'] })
    expect(err.code).toBe('ERR_INSUFFICIENT_SCOPE')
    expect(res.status).toBe(403)
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer error="insufficient_scope", error_description="The access token lacks a scope this request needs", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="profile mcp:tools mcp:admin"')
    const parsed = extractWWWAuthenticateParams(res)
    expect(parsed).toMatchObject({ error: 'insufficient_scope', scope: 'profile mcp:tools mcp:admin' })
    expect(await res.json()).toEqual({ error: 'insufficient_scope', error_description: 'The access token lacks a scope this request needs' })
  })

  it('the 401 challenge asks for requiredScopes, and never offline_access', async () => {
    const auth = createMcpAuth({ resource: RESOURCE, issuer: idp.issuer, scopesSupported: ['offline_access', 'mcp:tools'] })
    const { res } = await refusal(auth, request())
    expect(res.headers.get('www-authenticate')).toMatch(/scope="mcp:tools", DPoP algs="[^"]+"$/)
    const required = createMcpAuth({ resource: RESOURCE, issuer: idp.issuer, scopesSupported: ['a', 'b'], requiredScopes: ['b'] })
    expect((await refusal(required, request())).res.headers.get('www-authenticate')).toMatch(/scope="b", DPoP algs="[^"]+"$/)
  })
})

describe('the verified-token cache', () => {
  it('a repeated JWT is verified twice, then cached: later hits need no JWKS and no signature work', async () => {
    const { auth, events } = make()
    const token = await idp.sign({ aud: RESOURCE })
    for (let i = 0; i < 5; i++) await auth.authenticate(request(`Bearer ${token}`))
    const cacheEvents = events.filter((e) => e.type === 'cache')
    expect(cacheEvents.map((e) => (e as { hit: boolean }).hit)).toEqual([false, false, true, true, true])
  })

  it('a JWT used once leaves only its key: a flood of one-shot tokens does not evict the tokens in use', async () => {
    const { auth, events } = make({ cache: { max: 3 } })
    const kept = await idp.sign({ aud: RESOURCE })
    await auth.authenticate(request(`Bearer ${kept}`))
    await auth.authenticate(request(`Bearer ${kept}`))
    for (let i = 0; i < 10; i++) await auth.authenticate(request(`Bearer ${await idp.sign({ aud: RESOURCE, jti: `once-${i}` })}`))
    events.length = 0
    await auth.authenticate(request(`Bearer ${kept}`))
    expect(events.filter((e) => e.type === 'cache').map((e) => (e as { hit: boolean }).hit)).toEqual([true])
  })

  it('the cached AuthInfo is frozen, so one handler cannot change what the next request sees', async () => {
    const { auth } = make()
    const token = await idp.sign({ aud: RESOURCE, scope: 'mcp:tools' })
    await auth.authenticate(request(`Bearer ${token}`))
    const first = await auth.authenticate(request(`Bearer ${token}`))
    expect(() => (first.scopes as string[]).push('mcp:admin')).toThrow(TypeError)
    expect(() => { (first as { clientId: string }).clientId = 'x' }).toThrow(TypeError)
    expect((await auth.authenticate(request(`Bearer ${token}`))).scopes).toEqual(['mcp:tools'])
  })

  it('an entry never outlives exp: it is re-checked on every hit', async () => {
    const { auth } = make()
    const exp = Math.floor(Date.now() / 1000) + 30
    const token = await idp.sign({ aud: RESOURCE, exp })
    // Twice: the second use caches it.
    await auth.authenticate(request(`Bearer ${token}`))
    await auth.authenticate(request(`Bearer ${token}`))
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime((exp + 10) * 1000)
    const { err } = await refusal(auth, request(`Bearer ${token}`))
    expect(err.code).toBe('ERR_TOKEN_EXPIRED')
  })

  it('concurrent requests with one new token share one verification', async () => {
    const { auth, events } = make()
    const token = await idp.sign({ aud: RESOURCE })
    await Promise.all(Array.from({ length: 50 }, () => auth.authenticate(request(`Bearer ${token}`))))
    expect(events.filter((e) => e.type === 'authenticated' || (e.type === 'cache' && !e.hit)).length).toBeLessThanOrEqual(50)
  })

  it('events never carry the token', async () => {
    const { auth, events } = make()
    const token = await idp.sign({ aud: RESOURCE })
    await auth.authenticate(request(`Bearer ${token}`))
    await auth.handle({ method: 'POST', url: '/mcp', headers: new Headers({ authorization: `Bearer ${token}x` }) })
    const text = JSON.stringify(events)
    expect(text).not.toContain(token.slice(20))
    expect(events.some((e) => e.type === 'rejected')).toBe(true)
  })
})

describe('when the IdP cannot be reached', () => {
  it('cold start with discovery down → 503 with Retry-After, never 401', async () => {
    const down = await startTestIssuer()
    const issuer = down.issuer
    const token = await down.sign({ aud: RESOURCE })
    await down.close()
    const auth = createMcpAuth({ resource: RESOURCE, issuer, timeout: 1000 })
    const { err, res } = await refusal(auth, request(`Bearer ${token}`))
    expect(err.code).toBe('ERR_IDP_UNAVAILABLE')
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('10')
    expect(res.headers.get('www-authenticate')).toBeNull()
    expect(await res.json()).toMatchObject({ error: 'temporarily_unavailable' })
  })

  it('JWKS endpoint failing on a cold start → 503; after it recovers the token passes', async () => {
    const own = await startTestIssuer()
    try {
      own.route = (_req, res, path) => (path === '/jwks' ? (res.writeHead(500).end(), true) : false)
      const auth = createMcpAuth({ resource: RESOURCE, issuer: own.issuer, jwks: { cooldown: 0 } })
      const token = await own.sign({ aud: RESOURCE })
      expect((await refusal(auth, request(`Bearer ${token}`))).res.status).toBe(503)
      own.route = undefined
      expect((await auth.authenticate(request(`Bearer ${token}`))).clientId).toBe('client-1')
    } finally {
      await own.close()
    }
  })

  it('metadata naming another issuer is not used (RFC 8414 §3.3) → 503', async () => {
    const own = await startTestIssuer()
    try {
      own.metadata = { ...own.metadata, issuer: 'https://evil.example.com' }
      const auth = createMcpAuth({ resource: RESOURCE, issuer: own.issuer })
      const { res } = await refusal(auth, request(`Bearer ${await own.sign({ aud: RESOURCE })}`))
      expect(res.status).toBe(503)
    } finally {
      await own.close()
    }
  })

  it('discovery failures back off instead of hitting the IdP on every request', async () => {
    const own = await startTestIssuer()
    try {
      own.route = (_req, res, path) => (path.startsWith('/.well-known') ? (res.writeHead(500).end(), true) : false)
      const auth = createMcpAuth({ resource: RESOURCE, issuer: own.issuer })
      const token = await own.sign({ aud: RESOURCE })
      for (let i = 0; i < 20; i++) expect((await refusal(auth, request(`Bearer ${token}`))).res.status).toBe(503)
      // One round of the discovery URLs (two for an issuer without a path), not twenty.
      expect(own.counts.total).toBe(2)
    } finally {
      await own.close()
    }
  })
})

describe('signature checks on both verification paths (node:crypto and jose/WebCrypto)', () => {
  it.each([true, false])('nativeCrypto %s: a 1024-bit RSA key in the IdP\'s JWKS verifies nothing: 503, the key set is unusable', async (nativeCrypto) => {
    const { generateKeyPairSync, createSign } = await import('node:crypto')
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const own = await startTestIssuer()
    try {
      own.jwks = () => ({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'weak', alg: 'RS256', use: 'sig' }] })
      const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
      const input = `${enc({ alg: 'RS256', kid: 'weak' })}.${enc({ iss: own.issuer, aud: RESOURCE, exp: Math.floor(Date.now() / 1000) + 60 })}`
      const token = `${input}.${createSign('sha256').update(input).sign(privateKey).toString('base64url')}`
      const auth = createMcpAuth({ resource: RESOURCE, issuer: own.issuer, nativeCrypto })
      const { err } = await refusal(auth, request(`Bearer ${token}`))
      expect(err.status).toBe(503)
    } finally {
      await own.close()
    }
  })

  it.each(['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'] as const)('%s verifies the same way on both paths', async (alg) => {
    const own = await startTestIssuer({ alg })
    try {
      const token = await own.sign({ aud: RESOURCE, scope: 'a' })
      const [h, p, s] = token.split('.') as [string, string, string]
      const tampered = `${h}.${p}.${s.slice(0, -3)}${s.endsWith('AAA') ? 'BBB' : 'AAA'}`
      for (const nativeCrypto of [true, false]) {
        const auth = createMcpAuth({ resource: RESOURCE, issuer: own.issuer, nativeCrypto })
        expect((await auth.authenticate(request(`Bearer ${token}`))).scopes).toEqual(['a'])
        expect((await refusal(auth, request(`Bearer ${tampered}`))).err.code).toBe('ERR_TOKEN_SIGNATURE')
      }
    } finally {
      await own.close()
    }
  })
})

describe('scope claims handled deliberately', () => {
  it.each([
    ['no scope claim', {}],
    ['an empty scope string', { scope: '' }],
    ['an empty scp array', { scp: [] }],
  ])('%s: no scopes, so a required scope is a 403 asking for exactly it', async (_n, claims) => {
    const auth = createMcpAuth({ resource: RESOURCE, issuer: idp.issuer, requiredScopes: ['mcp:tools'] })
    const { err, res } = await refusal(auth, request(`Bearer ${await idp.sign({ aud: RESOURCE, ...claims })}`))
    expect(err.code).toBe('ERR_INSUFFICIENT_SCOPE')
    expect(res.headers.get('www-authenticate')).toMatch(/scope="mcp:tools"$/)
  })

  it('without requiredScopes a token with no scopes is accepted with scopes []', async () => {
    const auth = createMcpAuth({ resource: RESOURCE, issuer: idp.issuer })
    expect((await auth.authenticate(request(`Bearer ${await idp.sign({ aud: RESOURCE })}`))).scopes).toEqual([])
  })
})

describe('RFC 9701 JWT introspection responses', () => {
  async function withSignedIntrospection(answer: (now: number) => Record<string, unknown>, header: Record<string, unknown> = {}) {
    const own = await startTestIssuer()
    own.route = (_req, res, path) => {
      if (path !== '/introspect') return false
      const now = Math.floor(Date.now() / 1000)
      void own.sign({ iss: own.issuer, aud: 'rs-client', iat: now, token_introspection: answer(now), exp: undefined, sub: undefined, client_id: undefined } as never,
        { header: { typ: 'token-introspection+jwt', ...header } })
        .then((jwt) => res.writeHead(200, { 'content-type': 'application/token-introspection+jwt' }).end(jwt))
      return true
    }
    const auth = createMcpAuth({ resource: RESOURCE, issuer: own.issuer, introspection: { clientId: 'rs-client', clientSecret: 's' } })
    return { own, auth }
  }

  it('a signed answer is verified with the issuer\'s keys and used', async () => {
    const { own, auth } = await withSignedIntrospection((now) => ({ active: true, scope: 'mcp:tools', client_id: 'c9', sub: 'u9', exp: now + 60 }))
    try {
      const info = await auth.authenticate(request('Bearer opaque-token-1234567890'))
      expect(info).toMatchObject({ clientId: 'c9', scopes: ['mcp:tools'] })
      expect(info.extra).toMatchObject({ verifiedBy: 'introspection', subject: 'u9' })
    } finally {
      await own.close()
    }
  })

  it('a signed answer with the wrong typ, or inactive, is not accepted', async () => {
    const wrongTyp = await withSignedIntrospection((now) => ({ active: true, exp: now + 60 }), { typ: 'JWT' })
    try {
      expect((await refusal(wrongTyp.auth, request('Bearer opaque-token-1234567890'))).res.status).toBe(503)
    } finally {
      await wrongTyp.own.close()
    }
    const inactive = await withSignedIntrospection(() => ({ active: false }))
    try {
      expect((await refusal(inactive.auth, request('Bearer opaque-token-1234567890'))).err.code).toBe('ERR_TOKEN_INACTIVE')
    } finally {
      await inactive.own.close()
    }
  })
})
