/**
 * The TokenVerifier on its own (packages/core/src/token/verifier.ts), against the real dev IdP: no resource
 * server, no HTTP host around it. It owns the issuers (discovery, JWKS), JWT validation, introspection, the
 * verified-token cache, the inactive cache and single-flight; these tests hold it to each of those jobs.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startDevIdp, type DevIdp } from '@mcp-oauth/dev-idp'
import type { McpAuthEvent, McpAuthOptions } from '@mcp-oauth/core'
import { resolveOptions } from '../../packages/core/src/options/resolve.js'
import { TokenVerifier } from '../../packages/core/src/token/verifier.js'
import { authInfoExtra, type AuthInfo } from '../../packages/core/src/auth-info.js'

const RESOURCE = 'http://127.0.0.1:45680/mcp'
let idp: DevIdp

beforeAll(async () => {
  idp = await startDevIdp()
})
afterAll(() => idp.close())
afterEach(() => {
  idp.heal()
  idp.resetCounts()
})

function verifier(extra: Partial<McpAuthOptions> = {}): { v: TokenVerifier; events: McpAuthEvent[] } {
  const events: McpAuthEvent[] = []
  const config = resolveOptions({ resource: RESOURCE, issuer: idp.issuer, timeout: 2000, ...extra })
  return { v: new TokenVerifier(config, { emit: (e) => events.push(e) }), events }
}

const introspection = () => ({ introspection: { clientId: idp.resourceServerClient.clientId, clientSecret: idp.resourceServerClient.clientSecret } })

async function codeOf(result: AuthInfo | Promise<AuthInfo>): Promise<string | undefined> {
  try {
    await result
    return undefined
  } catch (err) {
    return (err as { code?: string }).code
  }
}

describe('TokenVerifier, JWT access tokens (RFC 9068)', () => {
  it('verifies a dev IdP token: client, scopes, subject, issuer, frozen; discovery and JWKS fetched once', async () => {
    const { v } = verifier()
    const token = await idp.issueAccessToken({ resource: RESOURCE, scopes: ['mcp:tools'], subject: 'alice', clientId: 'client-a' })
    const info = await v.verify(token)
    expect(info.clientId).toBe('client-a')
    expect(info.scopes).toEqual(['mcp:tools'])
    expect(info.resource?.href).toBe(RESOURCE)
    expect(authInfoExtra(info)).toMatchObject({ subject: 'alice', issuer: idp.issuer, verifiedBy: 'jwt' })
    expect(Object.isFrozen(info)).toBe(true)
    expect(Object.isFrozen(info.scopes)).toBe(true)
    await v.verify(await idp.issueAccessToken({ resource: RESOURCE }))
    expect(idp.counts.discovery).toBe(1)
    expect(idp.counts.jwks).toBe(1)
  })

  it('a JWT is cached from its second use; a hit is synchronous and returns the same AuthInfo; clear() forgets both uses', async () => {
    const { v, events } = verifier()
    const token = await idp.issueAccessToken({ resource: RESOURCE })
    const first = v.verify(token)
    expect(first).toBeInstanceOf(Promise)
    const once = await first
    // Used once: verified, not cached.
    const second = v.verify(token)
    expect(second).toBeInstanceOf(Promise)
    const info = await second
    expect(info).not.toBe(once)
    expect(info).toEqual(once)
    const hit = v.verify(token)
    expect(hit).not.toBeInstanceOf(Promise)
    expect(hit).toBe(info)
    expect(events.filter((e) => e.type === 'cache').map((e) => (e as { hit: boolean }).hit)).toEqual([false, false, true])
    v.clear()
    for (let i = 0; i < 2; i++) {
      const again = v.verify(token)
      expect(again).toBeInstanceOf(Promise)
      expect(await again).not.toBe(info)
    }
    expect(v.verify(token)).not.toBeInstanceOf(Promise)
  })

  it('an opaque token is cached from its first introspection: a second would be a request to the IdP', async () => {
    const calls: string[] = []
    const { v } = verifier({
      ...introspection(),
      fetch: (input, init) => {
        calls.push(String(input))
        return fetch(input, init)
      },
    })
    const token = await idp.issueAccessToken({ resource: RESOURCE, format: 'opaque' })
    await v.verify(token)
    expect(v.verify(token)).not.toBeInstanceOf(Promise)
    expect(calls.filter((url) => url.includes('introspect'))).toHaveLength(1)
  })

  it('with cache: false every call verifies again', async () => {
    const { v } = verifier({ cache: false })
    const token = await idp.issueAccessToken({ resource: RESOURCE })
    await v.verify(token)
    expect(v.verify(token)).toBeInstanceOf(Promise)
  })

  it('refuses an untrusted issuer before any IdP request, a wrong audience, and a token that is not a JWT', async () => {
    const { v } = verifier()
    const foreign = await idp.issueAccessToken({ resource: RESOURCE, extraClaims: { iss: 'https://evil.example' } })
    expect(await codeOf(v.verify(foreign))).toBe('ERR_TOKEN_ISSUER')
    expect(idp.counts.total).toBe(0)
    const elsewhere = await idp.issueAccessToken({ resource: 'http://127.0.0.1:45680/other' })
    expect(await codeOf(v.verify(elsewhere))).toBe('ERR_TOKEN_AUDIENCE')
    expect(await codeOf(v.verify('not-a-jwt'))).toBe('ERR_TOKEN_MALFORMED')
  })

  it('a JWKS outage is ERR_IDP_UNAVAILABLE, with an idp_unavailable event', async () => {
    const { v, events } = verifier()
    idp.fail('jwks', { kind: 'status', status: 500 })
    const token = await idp.issueAccessToken({ resource: RESOURCE })
    expect(await codeOf(v.verify(token))).toBe('ERR_IDP_UNAVAILABLE')
    expect(events.some((e) => e.type === 'idp_unavailable' && e.issuer === idp.issuer)).toBe(true)
  })
})

describe('TokenVerifier, opaque tokens (RFC 7662)', () => {
  it('introspects an opaque token once for 20 concurrent verifications (single-flight), then serves it from the cache', async () => {
    const { v } = verifier(introspection())
    const token = await idp.issueAccessToken({ resource: RESOURCE, format: 'opaque', scopes: ['mcp:read'] })
    const results = await Promise.all(Array.from({ length: 20 }, () => v.verify(token)))
    expect(new Set(results).size).toBe(1)
    expect(results[0]!.scopes).toEqual(['mcp:read'])
    expect(authInfoExtra(results[0]!).verifiedBy).toBe('introspection')
    expect(v.verify(token)).toBe(results[0])
    expect(idp.counts.introspection).toBe(1)
  })

  it('remembers an inactive answer: the same bad token twice costs one introspection', async () => {
    const { v } = verifier(introspection())
    expect(await codeOf(v.verify('unknown-opaque-token'))).toBe('ERR_TOKEN_INACTIVE')
    expect(await codeOf(v.verify('unknown-opaque-token'))).toBe('ERR_TOKEN_INACTIVE')
    expect(idp.counts.introspection).toBe(1)
  })

  it('an introspection outage is ERR_IDP_UNAVAILABLE and is not remembered', async () => {
    const { v } = verifier(introspection())
    const token = await idp.issueAccessToken({ resource: RESOURCE, format: 'opaque' })
    idp.fail('introspection', { kind: 'status', status: 502 })
    expect(await codeOf(v.verify(token))).toBe('ERR_IDP_UNAVAILABLE')
    idp.heal()
    expect(authInfoExtra(await v.verify(token)).verifiedBy).toBe('introspection')
  })
})

describe('TokenVerifier, requests and custom verifiers', () => {
  it('verifyRequest reads the bearer token (RFC 6750): none → ERR_MISSING_TOKEN, thrown synchronously', async () => {
    const { v } = verifier()
    const headers = (h: Record<string, string>) => ({ get: (name: string) => h[name] ?? null })
    expect(() => v.verifyRequest({ method: 'POST', url: '/mcp', headers: headers({}) })).toThrow(expect.objectContaining({ code: 'ERR_MISSING_TOKEN' }))
    const token = await idp.issueAccessToken({ resource: RESOURCE })
    const info = await v.verifyRequest({ method: 'POST', url: '/mcp', headers: headers({ authorization: `Bearer ${token}` }) })
    expect(info.token).toBe(token)
  })

  it('a custom verifier is used instead of JWT and introspection; its AuthInfo is checked and marked "custom"', async () => {
    const { v } = verifier({ verify: (token) => ({ token, clientId: 'c', scopes: ['x'] }) })
    const info = await v.verify('anything')
    expect(info).toMatchObject({ clientId: 'c', scopes: ['x'] })
    expect(authInfoExtra(info).verifiedBy).toBe('custom')
    expect(idp.counts.total).toBe(0)
    const broken = verifier({ verify: () => ({}) as never }).v
    expect(await codeOf(broken.verify('anything'))).toBe('ERR_TOKEN_REJECTED')
  })
})

describe('TokenVerifier, where the cache keeps a token (its tail, else its hash)', () => {
  /** A custom verifier that counts its calls and names the token it saw in clientId. */
  function counting() {
    const seen: string[] = []
    const { v, events } = verifier({ verify: (token) => { seen.push(token); return { token, clientId: `client-${token.slice(0, 8)}`, scopes: [] } } })
    return { v, events, seen }
  }
  const hits = (events: McpAuthEvent[]) => events.filter((e) => e.type === 'cache').map((e) => (e as { hit: boolean }).hit)

  it('tokens that end alike (a PASETO-like footer of 50 characters) each keep their own entry, found synchronously', async () => {
    const { v, events, seen } = counting()
    const footer = '.eyJraWQiOiJrZXktMjAyNi0xMiJ9eyJraWQiOiJrZXktMjAyNi0xMiJ9'
    const a = `aaaaaaaa${'1'.repeat(40)}${footer}`
    const b = `bbbbbbbb${'2'.repeat(40)}${footer}`
    expect(a.slice(-43)).toBe(b.slice(-43))
    await v.verify(a)
    await v.verify(b)
    for (let i = 0; i < 3; i++) {
      const hitA = v.verify(a)
      const hitB = v.verify(b)
      // Neither is a promise (both cached, b under its hash), and neither is the other's.
      expect(hitA).not.toBeInstanceOf(Promise)
      expect(hitB).not.toBeInstanceOf(Promise)
      expect((hitA as AuthInfo).clientId).toBe('client-aaaaaaaa')
      expect((hitB as AuthInfo).clientId).toBe('client-bbbbbbbb')
      expect((hitB as AuthInfo).token).toBe(b)
    }
    expect(seen).toEqual([a, b])
    expect(hits(events)).toEqual([false, false, true, true, true, true, true, true])
  })

  it('a forged JWT with a cached token\'s signature (so its tail) is refused, and the real one stays cached', async () => {
    const { v } = verifier()
    const token = await idp.issueAccessToken({ resource: RESOURCE, scopes: ['mcp:tools'] })
    await v.verify(token)
    const info = await v.verify(token)
    const [header, payload, signature] = token.split('.') as [string, string, string]
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, scope: 'mcp:tools mcp:admin' })).toString('base64url')}.${signature}`
    expect(forged.slice(-43)).toBe(token.slice(-43))
    for (let i = 0; i < 2; i++) {
      const answer = v.verify(forged)
      expect(answer).toBeInstanceOf(Promise)
      expect(await codeOf(answer)).toBe('ERR_TOKEN_SIGNATURE')
    }
    expect(v.verify(token)).toBe(info)
  })

  it('a short token (under 64 characters) is cached under its hash only', async () => {
    const { v, events, seen } = counting()
    const token = 'gho_16C7e42F292c6912E7710c838347Ae178B4a'
    await v.verify(token)
    const hit = v.verify(token)
    expect(hit).not.toBeInstanceOf(Promise)
    expect((hit as AuthInfo).token).toBe(token)
    expect(seen).toEqual([token])
    expect(hits(events)).toEqual([false, true])
  })

  it('a tail whose holder expired is taken by the next token; clear() forgets the hashed entries too', async () => {
    const footer = 'f'.repeat(50)
    let now = 1_000_000
    const { v, seen } = (() => {
      const seen: string[] = []
      // Each entry expires 10 s after it is verified.
      const { v } = verifier({ verify: (token) => { seen.push(token); return { token, clientId: 'c', scopes: [], expiresAt: Math.floor(now / 1000) + 10 } } })
      return { v, seen }
    })()
    const realNow = Date.now
    Date.now = () => now
    try {
      const a = `a${'1'.repeat(20)}${footer}`
      const b = `b${'2'.repeat(20)}${footer}`
      const c = `c${'3'.repeat(20)}${footer}`
      await v.verify(a)
      await v.verify(b) // the tail is a's: b is kept under its hash
      expect(v.verify(a)).not.toBeInstanceOf(Promise)
      expect(v.verify(b)).not.toBeInstanceOf(Promise)
      now += 11_000
      await v.verify(c) // a's entry has ended: c takes the tail
      expect(v.verify(c)).not.toBeInstanceOf(Promise)
      const ended = v.verify(b) // b's entry ended too
      expect(ended).toBeInstanceOf(Promise)
      await ended
      expect(v.verify(b)).not.toBeInstanceOf(Promise)
      v.clear()
      for (const token of [b, c]) {
        const again = v.verify(token)
        expect(again).toBeInstanceOf(Promise)
        await again
      }
      expect(seen).toEqual([a, b, c, b, b, c])
    } finally {
      Date.now = realNow
    }
  })
})
