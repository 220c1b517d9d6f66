/**
 * Fault injection against the real dev IdP (oidc-provider): its JWKS and introspection endpoints fail, hang,
 * answer garbage or huge bodies, rotate keys under load; floods of unknown kids and of distinct bad tokens.
 * Asserted: status codes (503 with Retry-After, never a 5xx of our own, never 200 on a failure), how many
 * requests reach the IdP, and that memory stays bounded.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { SignJWT, base64url, importJWK } from 'jose'
import { startDevIdp, type DevIdp, type FailureMode } from '@mcp-oauth/dev-idp'
import { createMcpAuth, type McpAuth, type McpAuthErrorCode, type McpAuthOptions } from '@mcp-oauth/core'

const RESOURCE = 'http://127.0.0.1:45699/mcp'
let idp: DevIdp

beforeAll(async () => {
  idp = await startDevIdp()
})
afterAll(() => idp.close())
afterEach(() => {
  idp.heal()
  idp.resetCounts()
  vi.useRealTimers()
})

interface Result {
  status: number
  code: McpAuthErrorCode | undefined
  retryAfter: string | undefined
}

async function call(auth: McpAuth, token: string): Promise<Result> {
  const outcome = await auth.handle({ method: 'POST', url: '/mcp', headers: new Headers({ authorization: `Bearer ${token}` }) })
  if (outcome.type === 'authenticated') return { status: 200, code: undefined, retryAfter: undefined }
  if (outcome.type !== 'respond') throw new Error(`the resource path must be protected and answered (got ${outcome.type})`)
  return { status: outcome.response.status, code: outcome.error?.code, retryAfter: outcome.response.headers['retry-after'] }
}

const make = (extra: Partial<McpAuthOptions> = {}) => createMcpAuth({ resource: RESOURCE, issuer: idp.issuer, timeout: 300, ...extra })
const introspecting = (extra: Partial<McpAuthOptions> = {}) => make({
  introspection: { clientId: idp.resourceServerClient.clientId, clientSecret: idp.resourceServerClient.clientSecret },
  ...extra,
})
const jwt = (extra: Parameters<DevIdp['issueAccessToken']>[0] = {}) => idp.issueAccessToken({ resource: RESOURCE, ...extra })
const opaque = () => idp.issueAccessToken({ format: 'opaque' })
const UNAVAILABLE = { status: 503, code: 'ERR_IDP_UNAVAILABLE', retryAfter: '10' }

/** Move `Date` (only) forward, past a cooldown; network I/O keeps real timers. */
function advance(seconds: number): void {
  vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + seconds * 1000 })
}

const FAULTS: [string, FailureMode][] = [
  ['HTTP 500', { kind: 'status', status: 500 }],
  ['HTTP 404', { kind: 'status', status: 404 }],
  ['an HTML body', { kind: 'garbage' }],
  ['an 8 MB body', { kind: 'huge', bytes: 8 * 1024 * 1024 }],
  ['a body that is valid JSON of the wrong shape', { kind: 'json', body: { keys: 'none', active: 'true' } }],
  ['no answer at all', { kind: 'hang' }],
]

describe('the JWKS endpoint fails', () => {
  it.each(FAULTS)('%s on a cold start → 503 for everyone, one JWKS request, then recovery', async (_name, mode) => {
    const auth = make()
    const token = await jwt()
    idp.fail('jwks', mode)
    const results = await Promise.all(Array.from({ length: 30 }, () => call(auth, token)))
    for (const r of results) expect(r).toEqual(UNAVAILABLE)
    // Later requests inside the cooldown are not sent to a failing endpoint either.
    for (let i = 0; i < 10; i++) expect(await call(auth, token)).toEqual(UNAVAILABLE)
    expect(idp.counts.jwks).toBe(1)
    idp.heal()
    advance(31)
    expect((await call(auth, token)).status).toBe(200)
    expect(idp.counts.jwks).toBe(2)
  })

  it('after warm-up, the JWKS failing changes nothing for known keys; a new kid is 503, never 401', async () => {
    const auth = make({ cache: false })
    expect((await call(auth, await jwt())).status).toBe(200)
    idp.fail('jwks', { kind: 'garbage' })
    await idp.rotateKeys()
    advance(31)
    const fresh = await jwt()
    expect(await call(auth, fresh)).toEqual(UNAVAILABLE)
    idp.heal()
    advance(62)
    expect((await call(auth, fresh)).status).toBe(200)
  })
})

describe('the introspection endpoint fails', () => {
  it.each(FAULTS)('%s → 503 for every concurrent caller, one request, nothing cached', async (_name, mode) => {
    const auth = introspecting()
    const token = await opaque()
    await call(auth, await opaque()) // discovery done; only the failure is measured
    idp.resetCounts()
    idp.fail('introspection', mode)
    const results = await Promise.all(Array.from({ length: 30 }, () => call(auth, token)))
    for (const r of results) expect(r).toEqual(UNAVAILABLE)
    expect(idp.counts.introspection).toBe(1)
    idp.heal()
    // A failure is never cached as "inactive": the same token passes as soon as the IdP answers.
    expect((await call(auth, token)).status).toBe(200)
    expect(idp.counts.introspection).toBe(2)
  })

  it.each([
    ['active 1', { active: 1 }],
    ['active "true"', { active: 'true' }],
    ['no active', { scope: 'mcp:tools' }],
    ['an array', [{ active: true }]],
  ])('a lying answer (%s) is "cannot validate" → 503', async (_name, body) => {
    const auth = introspecting()
    idp.fail('introspection', { kind: 'json', body })
    expect(await call(auth, await opaque())).toEqual(UNAVAILABLE)
  })
})

describe('key rotation under load', () => {
  it('tokens signed with the old key keep passing through a rotation, with no extra JWKS request', async () => {
    const auth = make({ cache: false })
    const before = await Promise.all(Array.from({ length: 40 }, () => jwt()))
    expect((await call(auth, before[0]!)).status).toBe(200)
    const load = before.map((t, i) => new Promise<Result>((resolve) => setTimeout(() => resolve(call(auth, t)), i)))
    await idp.rotateKeys({ keepOld: true })
    for (const r of await Promise.all(load)) expect(r.status).toBe(200)
    expect(idp.counts.jwks).toBe(1)
  })

  it('after the cooldown, a burst of tokens with the new key costs one JWKS request; a withdrawn key is refused', async () => {
    const auth = make({ cache: false })
    const old = await jwt()
    expect((await call(auth, old)).status).toBe(200)
    await idp.rotateKeys({ keepOld: false })
    advance(31)
    idp.resetCounts()
    const fresh = await Promise.all(Array.from({ length: 50 }, () => jwt()))
    for (const r of await Promise.all(fresh.map((t) => call(auth, t)))) expect(r.status).toBe(200)
    expect(idp.counts.jwks).toBe(1)
    // The IdP withdrew the old key and we have its new set: the old token is no longer verifiable.
    expect(await call(auth, old)).toMatchObject({ status: 401, code: 'ERR_TOKEN_KEY_NOT_FOUND' })
  })

  // Regression (issue 12): a kid unseen within `jwks.cooldown` of the last JWKS fetch was first answered 401
  // without asking the IdP, then 503 until the cooldown ended, so the first tokens after a rotation failed
  // either way. The first unknown kid now refetches at once, whenever the last fetch was.
  it('a token with a key published right after our JWKS fetch passes, with one refetch', async () => {
    const auth = make({ cache: false })
    expect((await call(auth, await jwt())).status).toBe(200)
    await idp.rotateKeys()
    idp.resetCounts()
    expect(await call(auth, await jwt())).toEqual({ status: 200, code: undefined, retryAfter: undefined })
    expect(idp.counts.jwks).toBe(1)
  })

  it('inside the cooldown after a refetch for an unknown kid, another unknown kid is a 401 without a fetch; after it, one more fetch', async () => {
    const auth = make({ cache: false })
    expect((await call(auth, await jwt())).status).toBe(200)
    const { privateJwk, alg } = idp.currentSigningKey()
    const key = await importJWK(privateJwk, alg)
    const forged = (kid: string) => new SignJWT({ iss: idp.issuer, aud: RESOURCE, exp: Math.floor(Date.now() / 1000) + 600 }).setProtectedHeader({ alg, kid }).sign(key)
    idp.resetCounts()
    expect(await call(auth, await forged('invented-1'))).toMatchObject({ status: 401, code: 'ERR_TOKEN_KEY_NOT_FOUND' })
    expect(idp.counts.jwks).toBe(1)
    advance(29)
    expect(await call(auth, await forged('invented-2'))).toMatchObject({ status: 401, code: 'ERR_TOKEN_KEY_NOT_FOUND' })
    expect(idp.counts.jwks).toBe(1)
    // A rotation now is picked up once the cooldown after the last refetch has passed.
    await idp.rotateKeys()
    advance(2)
    expect((await call(auth, await jwt())).status).toBe(200)
    expect(idp.counts.jwks).toBe(2)
  })
})

describe('floods', () => {
  async function signer() {
    const { privateJwk, alg } = idp.currentSigningKey()
    return { key: await importJWK(privateJwk, alg), alg }
  }

  it('500 distinct unknown kids → all refused with 401, at most 2 JWKS requests', async () => {
    // A generous timeout: this is about counts, and a JWKS fetch that times out on a busy machine is a real 503.
    const auth = make({ timeout: 5000 })
    const { key, alg } = await signer()
    const now = Math.floor(Date.now() / 1000)
    const tokens = await Promise.all(Array.from({ length: 500 }, (_, i) =>
      new SignJWT({ iss: idp.issuer, aud: RESOURCE, exp: now + 60 }).setProtectedHeader({ alg, kid: `kid-${i}-${Math.random()}` }).sign(key)))
    const results = await Promise.all(tokens.map((t) => call(auth, t)))
    for (const r of results) expect(`${r.status} ${r.code}`).toBe('401 ERR_TOKEN_KEY_NOT_FOUND')
    expect(idp.counts.jwks).toBeLessThanOrEqual(2)
  })

  it('1,000 distinct bad opaque tokens → 1,000 introspection requests (no amplification), all 401', async () => {
    const auth = introspecting({ timeout: 5000 })
    const tokens = Array.from({ length: 1000 }, () => `bad-${crypto.randomUUID()}`)
    const results: Result[] = []
    for (let i = 0; i < tokens.length; i += 50) results.push(...await Promise.all(tokens.slice(i, i + 50).map((t) => call(auth, t))))
    expect(new Set(results.map((r) => `${r.status} ${r.code}`))).toEqual(new Set(['401 ERR_TOKEN_INACTIVE']))
    expect(idp.counts.introspection).toBe(1000)
    // The same flood again is answered from the bounded inactive cache.
    for (const t of tokens.slice(-100)) await call(auth, t)
    expect(idp.counts.introspection).toBe(1000)
  })

  it('20,000 distinct bad JWTs: no IdP request after warm-up, and the heap does not grow', async () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const auth = make({ timeout: 5000 })
    const good = await jwt()
    expect((await call(auth, good)).status).toBe(200)
    const [h, p, s] = good.split('.') as [string, string, string]
    const payload = JSON.parse(new TextDecoder().decode(base64url.decode(p))) as Record<string, unknown>
    const forge = (i: number): string => {
      switch (i % 4) {
        case 0: return `${h}.${base64url.encode(JSON.stringify({ ...payload, sub: `u${i}` }))}.${s}` // bad signature
        case 1: return `${base64url.encode(JSON.stringify({ alg: 'ES256', kid: `k${i}` }))}.${p}.${s}` // unknown kid
        case 2: return `${h}.${base64url.encode(JSON.stringify({ ...payload, iss: `https://evil${i}.example` }))}.${s}` // untrusted issuer
        default: return `${h}.${p}.${s.slice(0, -4)}${String(i).padStart(4, '0').slice(-4)}` // mangled signature
      }
    }
    const run = async (from: number, to: number) => {
      for (let i = from; i < to; i += 200) {
        const batch = await Promise.all(Array.from({ length: Math.min(200, to - i) }, (_, j) => call(auth, forge(i + j))))
        for (const r of batch) expect(r.status).toBe(401)
      }
    }
    await run(0, 2000) // warm up code paths and caches that are allowed to fill
    idp.resetCounts()
    gc()
    const before = process.memoryUsage().heapUsed
    await run(2000, 22_000)
    gc()
    const grown = process.memoryUsage().heapUsed - before
    // 20,000 tokens: keeping even 200 bytes of each (a cache entry, a listener) would pass 4 MB.
    expect(grown).toBeLessThan(4 * 1024 * 1024)
    // At most one refetch for the unknown kids (cooldown), nothing else.
    expect(idp.counts.total).toBeLessThanOrEqual(1)
  })
})
