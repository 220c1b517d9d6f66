/**
 * DPoP end to end (RFC 9449), real components only: the dev IdP (oidc-provider's dPoP feature) binds the tokens of
 * the MCP SDK v2 client, which holds a DpopSession, to its key; the client presents them with the DPoP scheme and a
 * fresh proof per request through the whole flow (401 → PRM → AS metadata → DCR → PKCE with a proof at the token
 * endpoint → DPoP-bound token → tool calls) on every host. A captured request cannot be replayed, the token alone
 * is worthless as Bearer, `required` refuses a client without DPoP, and both servers' nonces (IdP and resource)
 * are handled by the SDK's own retries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDevIdp, type DevIdp } from '@mcp-oauth/dev-idp'
import { startExampleServer as startExpress, type ExampleServer, type ExampleServerOptions } from '@mcp-oauth/example-express'
import { startExampleServer as startFastify } from '@mcp-oauth/example-fastify'
import { startExampleServer as startNode } from '@mcp-oauth/example-node'
import { startExampleServer as startWeb } from '@mcp-oauth/example-web'
import { startExampleServer as startWebV2 } from '@mcp-oauth/example-web-v2'
import { connectWithOAuthV2 } from '@mcp-oauth/demo/flow-v2'
import { DpopSession } from '../helpers/dpop.js'

let idp: DevIdp
beforeAll(async () => {
  idp = await startDevIdp()
})
afterAll(() => idp?.close())

const hosts: Array<{ name: string; start: (o: ExampleServerOptions) => Promise<ExampleServer> }> = [
  { name: 'express', start: startExpress },
  { name: 'fastify', start: startFastify },
  { name: 'node', start: startNode },
  { name: 'web (fetch)', start: startWeb },
  { name: 'web-v2 (SDK v2 alone)', start: startWebV2 },
]

const text = (r: { content: Array<{ type: string; text?: string }> }) => r.content[0]?.text
const authorize = (url: URL) => idp.completeAuthorization(url)

describe.each(hosts)('on $name', ({ start }) => {
  let server: ExampleServer
  beforeAll(async () => {
    server = await start({ auth: { issuer: idp.issuer, scopesSupported: ['mcp:tools'], requiredScopes: ['mcp:tools'] } })
  })
  afterAll(() => server?.close())

  it('the SDK v2 client with a DpopSession: a DPoP-bound token from the dev IdP, every MCP request with the DPoP scheme and a fresh proof', async () => {
    const session = await DpopSession.create()
    const flow = await connectWithOAuthV2({ serverUrl: server.url, authorize, dpop: session })
    try {
      expect(text(await flow.callTool('echo', { message: 'bound' }))).toBe('bound')
      const tokens = flow.provider.tokens()
      expect(tokens?.token_type).toMatch(/^dpop$/i)
      // The access token is a JWT bound to the session's key.
      const claims = JSON.parse(Buffer.from(tokens!.access_token.split('.')[1]!, 'base64url').toString())
      expect(claims.cnf).toEqual({ jkt: session.thumbprint })
      // The token request carried a proof; the first MCP request had no token; every later one the DPoP scheme.
      const token = flow.exchanges.find((e) => e.kind === 'token')!
      expect(token.status).toBe(200)
      expect(token.dpopProof).toBeDefined()
      const mcp = flow.exchanges.filter((e) => e.kind === 'mcp')
      expect(mcp[0]).toMatchObject({ status: 401 })
      const authenticated = mcp.filter((e) => e.authorizationScheme !== undefined)
      expect(authenticated.length).toBeGreaterThanOrEqual(2)
      for (const e of authenticated) {
        expect(e.authorizationScheme).toBe('DPoP')
        expect(e.status).toBe(200)
      }
      const proofs = authenticated.map((e) => e.dpopProof)
      expect(new Set(proofs).size).toBe(proofs.length)

      // A captured request replayed as is: the proof was already used.
      const last = authenticated.at(-1)!
      const replay = await fetch(server.url, {
        method: 'POST',
        headers: { authorization: `DPoP ${tokens!.access_token}`, dpop: last.dpopProof!, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: last.requestBody ?? '{}',
      })
      expect(replay.status).toBe(401)
      expect(replay.headers.get('www-authenticate')).toMatch(/DPoP error="invalid_dpop_proof", error_description="The DPoP proof was already used"/)

      // The stolen token alone, as Bearer: refused.
      const asBearer = await fetch(server.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens!.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
      })
      expect(asBearer.status).toBe(401)
      expect(asBearer.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token", error_description="A sender-constrained token cannot be used as a bearer token"/)

      // The stolen token with the thief's own proof: refused.
      const thief = await DpopSession.create()
      const stolen = await fetch(server.url, {
        method: 'POST',
        headers: {
          authorization: `DPoP ${tokens!.access_token}`,
          dpop: await thief.buildProof({ htm: 'POST', htu: server.url, accessToken: tokens!.access_token }),
          'content-type': 'application/json', accept: 'application/json, text/event-stream',
        },
        body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
      })
      expect(stolen.status).toBe(401)
      expect(stolen.headers.get('www-authenticate')).toMatch(/DPoP error="invalid_token", error_description="The DPoP proof key is not the key the access token is bound to"/)
    } finally {
      await flow.close()
    }
  })

  it('the SDK v2 client without DPoP still works (dpop allowed): a bearer token, the Bearer scheme', async () => {
    const flow = await connectWithOAuthV2({ serverUrl: server.url, authorize })
    try {
      expect(text(await flow.callTool('echo', { message: 'bearer' }))).toBe('bearer')
      expect(flow.provider.tokens()?.token_type).toMatch(/^bearer$/i)
      expect(flow.exchanges.filter((e) => e.authorizationScheme).every((e) => e.authorizationScheme === 'Bearer')).toBe(true)
    } finally {
      await flow.close()
    }
  })
})

describe.each(hosts)('dpop required, with resource-server nonces, on $name', ({ start }) => {
  let server: ExampleServer
  beforeAll(async () => {
    server = await start({
      auth: { issuer: idp.issuer, scopesSupported: ['mcp:tools'], requiredScopes: ['mcp:tools'], dpop: { mode: 'required', nonce: { secret: 'e2e-dpop-nonce-secret-of-32-bytes!' } } },
    })
  })
  afterAll(() => server?.close())

  it('the SDK v2 client with DPoP: PRM says required, the first proof gets use_dpop_nonce, the SDK retries with the nonce, tools work', async () => {
    const prm = await (await fetch(new URL('/.well-known/oauth-protected-resource/mcp', server.url))).json()
    expect(prm).toMatchObject({ dpop_bound_access_tokens_required: true, dpop_signing_alg_values_supported: expect.arrayContaining(['ES256']) })
    const session = await DpopSession.create({ alg: 'EdDSA' })
    const flow = await connectWithOAuthV2({ serverUrl: server.url, authorize, dpop: session })
    try {
      expect(text(await flow.callTool('echo', { message: 'nonce' }))).toBe('nonce')
      const dpop = flow.exchanges.filter((e) => e.kind === 'mcp' && e.authorizationScheme === 'DPoP')
      expect(dpop.some((e) => e.status === 401 && /use_dpop_nonce/.test(e.wwwAuthenticate ?? ''))).toBe(true)
      expect(dpop.at(-1)!.status).toBe(200)
      // After the first nonce, proofs carry it.
      const lastProof = JSON.parse(Buffer.from(dpop.at(-1)!.dpopProof!.split('.')[1]!, 'base64url').toString())
      expect(lastProof.nonce).toMatch(/^[a-z0-9]+\.[A-Za-z0-9_-]{43}$/)
    } finally {
      await flow.close()
    }
  })

  it('a client without DPoP cannot use it: its bearer token is refused with a DPoP challenge', async () => {
    await expect(connectWithOAuthV2({ serverUrl: server.url, authorize })).rejects.toThrow()
    const token = await idp.issueAccessToken({ resource: server.resource, scopes: ['mcp:tools'] })
    const res = await fetch(server.url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_token", error_description="This resource accepts only DPoP-bound access tokens", resource_metadata="[^"]+", scope="mcp:tools", algs="/)
  })
})

describe('the dev IdP demanding a DPoP nonce at its token endpoint', () => {
  it('the SDK v2 client retries the token request with the nonce (400 use_dpop_nonce) and gets a bound token', async () => {
    const strict = await startDevIdp({ dpop: { requireNonce: true } })
    const server = await startWeb({ auth: { issuer: strict.issuer, scopesSupported: ['mcp:tools'] } })
    try {
      const session = await DpopSession.create()
      const flow = await connectWithOAuthV2({ serverUrl: server.url, authorize: (url) => strict.completeAuthorization(url), dpop: session })
      try {
        expect(text(await flow.callTool('echo', { message: 'x' }))).toBe('x')
        const tokenExchanges = flow.exchanges.filter((e) => e.kind === 'token')
        expect(tokenExchanges.map((e) => e.status)).toEqual([400, 200])
        expect(tokenExchanges[0]!.responseBody).toMatch(/use_dpop_nonce/)
        expect(flow.provider.tokens()?.token_type).toMatch(/^dpop$/i)
      } finally {
        await flow.close()
      }
    } finally {
      await server.close()
      await strict.close()
    }
  })

  it('dpop: false issues bearer tokens even to a client with a proof; bad options are refused at start', async () => {
    await expect(startDevIdp({ dpop: { nonce: true } as never })).rejects.toThrow(/unknown dpop option "nonce"/)
    const plain = await startDevIdp({ dpop: false })
    const server = await startWeb({ auth: { issuer: plain.issuer, scopesSupported: ['mcp:tools'] } })
    try {
      const flow = await connectWithOAuthV2({ serverUrl: server.url, authorize: (url) => plain.completeAuthorization(url), dpop: await DpopSession.create() })
      try {
        expect(text(await flow.callTool('echo', { message: 'y' }))).toBe('y')
        expect(flow.provider.tokens()?.token_type).toMatch(/^bearer$/i)
      } finally {
        await flow.close()
      }
    } finally {
      await server.close()
      await plain.close()
    }
  })
})
