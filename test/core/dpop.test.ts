/**
 * DPoP (RFC 9449) through createMcpAuth: DPoP-bound tokens (JWT and introspection) with proofs made by the MCP SDK
 * v2 client's DpopSession and its `withDpop` fetch middleware; the proof checked on every request, cache hits
 * included; the Bearer downgrade refused; `required` and `false`; the challenges, the PRM fields, server nonces,
 * the public URL behind a proxy, the replay store, and the option checks.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { calculateJwkThumbprint } from 'jose'
import { extractWWWAuthenticateParams, withDpop } from '@modelcontextprotocol/client'
import { extractWWWAuthenticateParams as extractV1 } from '@modelcontextprotocol/sdk/client/auth.js'
import { createMcpAuth, McpAuthError, StoreUnavailableError, type DpopReplayStore, type McpAuth, type McpAuthOptions } from '@mcp-oauth/core'
import { startTestIssuer, type TestIssuer } from '../helpers/test-issuer.js'
import { DpopSession, forgeProof, proofKey } from '../helpers/dpop.js'

const RESOURCE = 'https://mcp.example.com/mcp'
const PRM = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp'
let idp: TestIssuer

beforeAll(async () => {
  idp = await startTestIssuer()
})
afterAll(() => idp.close())
afterEach(() => {
  idp.route = undefined
})

function make(extra: Partial<McpAuthOptions> = {}): McpAuth {
  return createMcpAuth({ resource: RESOURCE, issuer: idp.issuer, scopesSupported: ['mcp:tools'], ...extra })
}

const boundToken = (session: DpopSession, claims: Record<string, unknown> = {}) =>
  idp.sign({ aud: RESOURCE, scope: 'mcp:tools', cnf: { jkt: session.thumbprint }, ...claims })

async function dpopRequest(session: DpopSession, token: string, o: { url?: string; method?: string; proof?: string | null; headers?: Record<string, string> } = {}): Promise<Request> {
  const url = o.url ?? RESOURCE
  const method = o.method ?? 'POST'
  const headers = new Headers({ authorization: `DPoP ${token}`, ...o.headers })
  const proof = o.proof === undefined ? await session.buildProof({ htm: method, htu: url, accessToken: token }) : o.proof
  if (proof !== null) headers.set('dpop', proof)
  return new Request(url, { method, headers })
}

async function refusal(auth: McpAuth, req: Request): Promise<{ err: McpAuthError; res: Response }> {
  try {
    await auth.authenticate(req)
  } catch (err) {
    expect(err).toBeInstanceOf(McpAuthError)
    return { err: err as McpAuthError, res: auth.errorResponse(err) }
  }
  throw new Error('expected a refusal')
}

describe('DPoP allowed (the default)', () => {
  let auth: McpAuth
  let session: DpopSession
  beforeAll(async () => {
    auth = make()
    session = await DpopSession.create()
  })

  it('a DPoP-bound JWT with a proof from the SDK v2 DpopSession is authenticated', async () => {
    const token = await boundToken(session)
    const info = await auth.authenticate(await dpopRequest(session, token))
    expect(info.clientId).toBe('client-1')
    expect(info.extra?.claims).toMatchObject({ cnf: { jkt: session.thumbprint } })
  })

  it('a cache hit still needs a fresh proof for that key: a new proof passes, the same proof again, none, or another key does not', async () => {
    const token = await boundToken(session)
    const first = await dpopRequest(session, token)
    const proof = first.headers.get('dpop')!
    await auth.authenticate(first)
    await expect(auth.authenticate(await dpopRequest(session, token))).resolves.toMatchObject({ clientId: 'client-1' })

    const replay = await refusal(auth, await dpopRequest(session, token, { proof }))
    expect(replay.err.code).toBe('ERR_DPOP_PROOF')
    expect(replay.err.description).toBe('The DPoP proof was already used')

    const none = await refusal(auth, await dpopRequest(session, token, { proof: null }))
    expect(none.err.code).toBe('ERR_DPOP_PROOF')

    const thief = await DpopSession.create()
    const stolen = await refusal(auth, await dpopRequest(thief, token))
    expect(stolen.err.code).toBe('ERR_DPOP_BINDING')
    expect(stolen.err.description).toBe('The DPoP proof key is not the key the access token is bound to')
  })

  it('a DPoP-bound token sent as Bearer is refused (downgrade), also once it is cached', async () => {
    const token = await boundToken(session)
    await auth.authenticate(await dpopRequest(session, token))
    const { err, res } = await refusal(auth, new Request(RESOURCE, { method: 'POST', headers: { authorization: `Bearer ${token}` } }))
    expect(err.code).toBe('ERR_TOKEN_TYPE')
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token", error_description="A sender-constrained token cannot be used as a bearer token", resource_metadata="[^"]+", scope="mcp:tools", DPoP algs="ES256 [^"]+"$/)
  })

  it('an unbound token with the DPoP scheme is refused; a plain bearer token still works', async () => {
    const token = await idp.sign({ aud: RESOURCE, scope: 'mcp:tools' })
    const { err } = await refusal(auth, await dpopRequest(session, token))
    expect(err.code).toBe('ERR_DPOP_BINDING')
    await expect(auth.authenticate(new Request(RESOURCE, { method: 'POST', headers: { authorization: `Bearer ${token}` } }))).resolves.toMatchObject({ clientId: 'client-1' })
  })

  it('challenges: Bearer first (with resource_metadata) and DPoP algs beside it; a DPoP refusal carries its error in the DPoP challenge', async () => {
    const missing = auth.errorResponse(new McpAuthError('ERR_MISSING_TOKEN', 'Authentication required'))
    const header = missing.headers.get('www-authenticate')!
    expect(header).toBe(`Bearer resource_metadata="${PRM}", scope="mcp:tools", DPoP algs="ES256 ES384 ES512 PS256 PS384 PS512 RS256 RS384 RS512 EdDSA Ed25519"`)
    // Both SDK clients still find the metadata URL and the scope.
    for (const parse of [extractWWWAuthenticateParams, extractV1]) {
      const p = parse(new Response(null, { status: 401, headers: { 'www-authenticate': header } }))
      expect(p.resourceMetadataUrl?.href).toBe(PRM)
      expect(p.scope).toBe('mcp:tools')
    }
    const token = await boundToken(session)
    const { res } = await refusal(auth, await dpopRequest(session, token, { url: 'https://mcp.example.com/mcp', proof: await session.buildProof({ htm: 'GET', htu: RESOURCE, accessToken: token }) }))
    expect(res.status).toBe(401)
    const dpopHeader = res.headers.get('www-authenticate')!
    expect(dpopHeader).toBe(`Bearer resource_metadata="${PRM}", scope="mcp:tools", DPoP error="invalid_dpop_proof", error_description="The DPoP proof was made for another HTTP method", algs="ES256 ES384 ES512 PS256 PS384 PS512 RS256 RS384 RS512 EdDSA Ed25519"`)
    expect(extractWWWAuthenticateParams(new Response(null, { status: 401, headers: { 'www-authenticate': dpopHeader } })).error).toBe('invalid_dpop_proof')
    expect(res.headers.get('access-control-expose-headers')).toMatch(/^WWW-Authenticate, .*DPoP-Nonce/)
    expect(await res.json()).toEqual({ error: 'invalid_dpop_proof', error_description: 'The DPoP proof was made for another HTTP method' })
  })

  it('a DPoP request refused for its token (expired) answers in the DPoP challenge; the same token as Bearer answers in Bearer', async () => {
    const token = await boundToken(session, { exp: Math.floor(Date.now() / 1000) - 60 })
    const dpop = await refusal(auth, await dpopRequest(session, token))
    expect(dpop.err.code).toBe('ERR_TOKEN_EXPIRED')
    expect(dpop.res.headers.get('www-authenticate')).toMatch(/^Bearer resource_metadata="[^"]+", scope="mcp:tools", DPoP error="invalid_token", error_description="[^"]+", algs="/)
    const bearer = await refusal(auth, new Request(RESOURCE, { method: 'POST', headers: { authorization: `Bearer ${token}` } }))
    expect(bearer.res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token", /)
  })

  it('PRM advertises dpop_signing_alg_values_supported and dpop_bound_access_tokens_required: false (RFC 9728 §2)', async () => {
    const res = await auth.metadataResponse(new Request(PRM))
    expect(await res!.json()).toMatchObject({
      dpop_signing_alg_values_supported: ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'EdDSA', 'Ed25519'],
      dpop_bound_access_tokens_required: false,
    })
  })

  it('the SDK v2 withDpop middleware over auth.fetch: DPoP scheme, a proof per request, 200', async () => {
    const token = await boundToken(session)
    const handler = make().fetch(async (_req, info) => Response.json({ client: info.clientId }))
    const seen: Request[] = []
    const fetchLike = withDpop(session, () => token)(async (input, init) => {
      const req = new Request(input, init)
      seen.push(req.clone())
      return handler(req)
    })
    for (let i = 0; i < 3; i++) {
      const res = await fetchLike(RESOURCE, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })
      expect(res.status).toBe(200)
    }
    expect(new Set(seen.map((r) => r.headers.get('dpop'))).size).toBe(3)
    expect(seen.every((r) => r.headers.get('authorization') === `DPoP ${token}`)).toBe(true)
  })

  it('DPoP-bound introspection answers (token_type DPoP, cnf.jkt): accepted with a proof, refused as Bearer', async () => {
    const introspecting = make({ introspection: { clientId: 'rs', clientSecret: 'secret', inactiveCacheTtl: 0 } })
    idp.route = (req, res, path) => {
      if (path !== '/introspect') return false
      req.resume()
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
        active: true, iss: idp.issuer, aud: RESOURCE, client_id: 'client-9', scope: 'mcp:tools', token_type: 'DPoP',
        exp: Math.floor(Date.now() / 1000) + 300, cnf: { jkt: session.thumbprint },
      }))
      return true
    }
    const opaque = `opaque-${crypto.randomUUID()}`
    await expect(introspecting.authenticate(await dpopRequest(session, opaque))).resolves.toMatchObject({ clientId: 'client-9' })
    const { err } = await refusal(introspecting, new Request(RESOURCE, { method: 'POST', headers: { authorization: `Bearer ${opaque}-2` } }))
    expect(err.code).toBe('ERR_TOKEN_TYPE')
  })

  it('htu is the public URL: behind a trusted proxy that strips a prefix, the proof names https://host/prefix/path', async () => {
    const proxied = createMcpAuth({ resource: 'https://mcp.example.com/api/mcp', issuer: idp.issuer, trustProxy: true })
    const token = await idp.sign({ aud: 'https://mcp.example.com/api/mcp', cnf: { jkt: session.thumbprint } })
    const headers = { 'x-forwarded-prefix': '/api', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'mcp.example.com' }
    const publicProof = await session.buildProof({ htm: 'POST', htu: 'https://mcp.example.com/api/mcp', accessToken: token })
    await expect(proxied.authenticate(await dpopRequest(session, token, { url: 'http://app:3000/mcp', proof: publicProof, headers }))).resolves.toBeDefined()
    // A proof for the internal URL the proxy forwarded to is not for this resource.
    const internal = await session.buildProof({ htm: 'POST', htu: 'http://app:3000/mcp', accessToken: token })
    const { err } = await refusal(proxied, await dpopRequest(session, token, { url: 'http://app:3000/mcp', proof: internal, headers }))
    expect(err.description).toBe('The DPoP proof was made for another URL')
  })

  it('the Host header never decides htu: a request sent to another host with a proof for it is refused', async () => {
    const token = await boundToken(session)
    const { err } = await refusal(auth, await dpopRequest(session, token, { url: 'https://evil.example/mcp' }))
    expect(err.description).toBe('The DPoP proof was made for another URL')
  })
})

describe('DPoP required', () => {
  it('a bearer token is refused with a DPoP-only challenge; a DPoP-bound one with its proof passes; PRM says required', async () => {
    const auth = make({ dpop: 'required' })
    const session = await DpopSession.create({ alg: 'EdDSA' })
    const bearer = await idp.sign({ aud: RESOURCE, scope: 'mcp:tools' })
    const { err, res } = await refusal(auth, new Request(RESOURCE, { method: 'POST', headers: { authorization: `Bearer ${bearer}` } }))
    expect(err.code).toBe('ERR_DPOP_BINDING')
    const header = res.headers.get('www-authenticate')!
    expect(header).toBe(`DPoP error="invalid_token", error_description="This resource accepts only DPoP-bound access tokens", resource_metadata="${PRM}", scope="mcp:tools", algs="ES256 ES384 ES512 PS256 PS384 PS512 RS256 RS384 RS512 EdDSA Ed25519"`)
    // The SDK v2 client reads a DPoP-first challenge.
    expect(extractWWWAuthenticateParams(new Response(null, { status: 401, headers: { 'www-authenticate': header } })).resourceMetadataUrl?.href).toBe(PRM)
    expect(auth.errorResponse(new McpAuthError('ERR_MISSING_TOKEN', 'x')).headers.get('www-authenticate')).toMatch(/^DPoP resource_metadata="[^"]+", scope="mcp:tools", algs="/)
    await expect(auth.authenticate(await dpopRequest(session, await boundToken(session)))).resolves.toBeDefined()
    expect(await (await auth.metadataResponse(new Request(PRM)))!.json()).toMatchObject({ dpop_bound_access_tokens_required: true })
  })

  it('only the configured proof algorithms are accepted and advertised', async () => {
    const auth = make({ dpop: { mode: 'required', algorithms: ['ES256'] } })
    const ed = await DpopSession.create({ alg: 'EdDSA' })
    const { err, res } = await refusal(auth, await dpopRequest(ed, await boundToken(ed)))
    expect(err.code).toBe('ERR_DPOP_PROOF')
    expect(res.headers.get('www-authenticate')).toMatch(/algs="ES256"$/)
  })
})

describe('DPoP off (dpop: false)', () => {
  it('the DPoP scheme is "no credentials", a bound token is refused as Bearer, and nothing advertises DPoP', async () => {
    const auth = make({ dpop: false })
    const session = await DpopSession.create()
    const token = await boundToken(session)
    const none = await refusal(auth, await dpopRequest(session, token))
    expect(none.err.code).toBe('ERR_MISSING_TOKEN')
    expect(none.res.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${PRM}", scope="mcp:tools"`)
    const bearer = await refusal(auth, new Request(RESOURCE, { method: 'POST', headers: { authorization: `Bearer ${token}` } }))
    expect(bearer.err.code).toBe('ERR_TOKEN_TYPE')
    const doc = await (await auth.metadataResponse(new Request(PRM)))!.json()
    expect(doc).not.toHaveProperty('dpop_signing_alg_values_supported')
    expect(doc).not.toHaveProperty('dpop_bound_access_tokens_required')
  })
})

describe('DPoP server nonces (RFC 9449 §8–9)', () => {
  const secret = 'a-secret-of-at-least-thirty-two-bytes!'

  it('a proof without a nonce gets 401 use_dpop_nonce with DPoP-Nonce; the SDK v2 withDpop retries with it and gets 200', async () => {
    const session = await DpopSession.create()
    const token = await boundToken(session)
    const handler = make({ dpop: { nonce: { secret } } }).fetch(async () => new Response('ok'))
    const answers: Response[] = []
    const fetchLike = withDpop(session, () => token)(async (input, init) => {
      const res = await handler(new Request(input, init))
      answers.push(res.clone())
      return res
    })
    const res = await fetchLike(RESOURCE, { method: 'POST' })
    expect(res.status).toBe(200)
    expect(answers.map((a) => a.status)).toEqual([401, 200])
    expect(answers[0]!.headers.get('www-authenticate')).toMatch(/DPoP error="use_dpop_nonce", error_description="This resource requires a nonce in the DPoP proof", algs=/)
    const nonce = answers[0]!.headers.get('dpop-nonce')
    expect(nonce).toMatch(/^[a-z0-9]+\.[A-Za-z0-9_-]{43}$/)
    expect(session.nonceFor(RESOURCE)).toBe(nonce)
    // The next request uses the remembered nonce at once.
    await fetchLike(RESOURCE, { method: 'POST' })
    expect(answers.map((a) => a.status)).toEqual([401, 200, 200])
  })

  it('a nonce of another secret, or a made-up one, is refused with a fresh nonce; instances sharing the secret accept each other\'s', async () => {
    const session = await DpopSession.create()
    const token = await boundToken(session)
    const a = make({ dpop: { nonce: { secret } } })
    const b = make({ dpop: { nonce: { secret } } })
    const other = make({ dpop: { nonce: { secret: `${secret}-other` } } })
    const first = await refusal(a, await dpopRequest(session, token))
    expect(first.err.code).toBe('ERR_DPOP_NONCE')
    const nonce = first.res.headers.get('dpop-nonce')!
    const withNonce = async () => dpopRequest(session, token, { proof: await session.buildProof({ htm: 'POST', htu: RESOURCE, accessToken: token, nonce }) })
    await expect(b.authenticate(await withNonce())).resolves.toBeDefined()
    const foreign = await refusal(other, await withNonce())
    expect(foreign.err.code).toBe('ERR_DPOP_NONCE')
    expect(foreign.err.description).toBe('The DPoP proof nonce is not current')
    expect(foreign.res.headers.get('dpop-nonce')).not.toBe(nonce)
    const madeUp = await refusal(a, await dpopRequest(session, token, { proof: await session.buildProof({ htm: 'POST', htu: RESOURCE, accessToken: token, nonce: 'x' }) }))
    expect(madeUp.err.code).toBe('ERR_DPOP_NONCE')
  })
})

describe('the replay store', () => {
  it('a custom (async) store is asked once per accepted proof, with a hashed id and the proof window as TTL', async () => {
    const calls: [string, number][] = []
    const seen = new Set<string>()
    const store: DpopReplayStore = {
      async firstSeen(id, ttl) {
        calls.push([id, ttl])
        if (seen.has(id)) return false
        seen.add(id)
        return true
      },
    }
    const auth = make({ dpop: { replayStore: store, maxAge: 30, clockTolerance: 2 } })
    const session = await DpopSession.create()
    const token = await boundToken(session)
    const req = await dpopRequest(session, token)
    const proof = req.headers.get('dpop')!
    await auth.authenticate(req)
    const { err } = await refusal(auth, await dpopRequest(session, token, { proof }))
    expect(err.description).toBe('The DPoP proof was already used')
    expect(calls).toHaveLength(2)
    expect(calls[0]![0]).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(calls[0]![0]).not.toContain(JSON.parse(Buffer.from(proof.split('.')[1]!, 'base64url').toString()).jti)
    expect(calls[0]![1]).toBe(34)
  })

  it('a proof refused for another reason does not take a place in the store', async () => {
    const calls: string[] = []
    const auth = make({ dpop: { replayStore: { firstSeen: (id) => (calls.push(id), true) } } })
    const session = await DpopSession.create()
    const key = await proofKey()
    await refusal(auth, await dpopRequest(session, await boundToken(session), { proof: await forgeProof({ key, url: RESOURCE, token: 'other' }) }))
    expect(calls).toHaveLength(0)
  })

  it('a store that cannot answer gives 503 with Retry-After, never an accepted proof', async () => {
    const auth = make({ dpop: { replayStore: { firstSeen: async () => { throw new StoreUnavailableError('Redis did not answer', { retryAfter: 7 }) } } } })
    const session = await DpopSession.create()
    const handler = auth.fetch(async () => new Response('ok'))
    const res = await handler(await dpopRequest(session, await boundToken(session)))
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('7')
    expect(res.headers.get('www-authenticate')).toBeNull()
    const { err } = await refusal(auth, await dpopRequest(session, await boundToken(session)))
    expect(err.code).toBe('ERR_STORE_UNAVAILABLE')
    // Any other failure of a custom store counts the same.
    const broken = make({ dpop: { replayStore: { firstSeen: () => { throw new Error('bug') } } } })
    expect((await refusal(broken, await dpopRequest(session, await boundToken(session)))).err).toMatchObject({ code: 'ERR_STORE_UNAVAILABLE', retryAfter: 10 })
  })
})

describe('dpop option checks (at creation)', () => {
  it.each([
    [{ dpop: 'sometimes' }, /option "dpop": must be "allowed" or "required"/],
    [{ dpop: { mode: 'maybe' } }, /option "dpop.mode"/],
    [{ dpop: { algorithms: ['HS256'] } }, /option "dpop.algorithms": "HS256" is not allowed/],
    [{ dpop: { algorithms: ['none'] } }, /option "dpop.algorithms": "none" is not allowed/],
    [{ dpop: { algorithms: [] } }, /option "dpop.algorithms": must not be empty/],
    [{ dpop: { maxAge: 0 } }, /option "dpop.maxAge"/],
    [{ dpop: { maxAge: 86_400 } }, /option "dpop.maxAge": must be at most 3600/],
    [{ dpop: { maxProofLength: 10 } }, /option "dpop.maxProofLength"/],
    [{ dpop: { replayStore: {} } }, /option "dpop.replayStore": must have firstSeen/],
    [{ dpop: { replayStore: { get() {}, set() {}, delete() {}, take() {} } } }, /option "dpop.replayStore": needs an atomic "first seen" check/],
    [{ dpop: { nonce: { secret: 'short' } } }, /option "dpop.nonce.secret": must be a string or Uint8Array of at least 32 bytes/],
    [{ dpop: { nonce: { secret: 'x'.repeat(32), lifetime: 1 } } }, /option "dpop.nonce.lifetime"/],
    [{ dpop: { replay: {} } }, /option "dpop.replay": unknown option/],
  ])('%j is refused', (extra, message) => {
    expect(() => make(extra as Partial<McpAuthOptions>)).toThrow(message)
  })

  it('the proof key thumbprint matches jose (RFC 7638)', async () => {
    const session = await DpopSession.create()
    expect(session.thumbprint).toBe(await calculateJwkThumbprint(session.publicJwk))
  })
})
