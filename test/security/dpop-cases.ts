/**
 * The DPoP part of the hostile battery (RFC 9449 §11 and §4.3): proof replay, a proof for another URL, host or
 * method, a stale or future `iat`, the hash of another token, another key than the token's `cnf.jkt`, `none` and
 * HMAC proofs, a private or symmetric key in the proof, two proofs, an oversized proof, the Bearer downgrade, and
 * `required` / nonce modes. Each case is one request, run against the core and every host by battery.test.ts.
 */
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose'
import { createMcpAuth, MemoryDpopReplayStore, type McpAuthErrorCode, type McpAuthOptions } from '@mcp-oauth/core'
import { ath, forgeProof, proofKey, signRaw, type ProofKey } from '../helpers/dpop.js'
import type { Expectation, HostileCase } from './cases.js'
import { RESOURCE, baseOptions, type HostileContext, type HostileRequest } from './context.js'

const STATUS: Partial<Record<McpAuthErrorCode, { status: number; error: Expectation['error'] }>> = {
  ERR_DPOP_PROOF: { status: 401, error: 'invalid_dpop_proof' },
  ERR_DPOP_NONCE: { status: 401, error: 'use_dpop_nonce' },
  ERR_DPOP_BINDING: { status: 401, error: 'invalid_token' },
  ERR_TOKEN_TYPE: { status: 401, error: 'invalid_token' },
  ERR_INVALID_REQUEST: { status: 400, error: 'invalid_request' },
}
const refused = (code: McpAuthErrorCode): Expectation => ({ ...STATUS[code]!, code })
const OK: Expectation = { status: 200 }

interface Bound {
  key: ProofKey
  jkt: string
  token: string
}

/** A fresh proof key and an access token bound to it (`cnf.jkt`). */
async function bound(ctx: HostileContext, claims: Record<string, unknown> = {}): Promise<Bound> {
  const key = await proofKey()
  const jkt = await calculateJwkThumbprint(key.publicJwk, 'sha256')
  return { key, jkt, token: await ctx.token({ cnf: { jkt }, ...claims }) }
}

const dpop = (token: string, proof: string | string[] | undefined, path = '/mcp', method = 'POST'): HostileRequest => ({
  method, path, headers: { authorization: `DPoP ${token}`, ...(proof === undefined ? {} : { dpop: proof }) },
})

/** A DPoP request whose proof is forged with these changes (the rest as an honest client makes it). */
const forged = (o: { claims?: Record<string, unknown>; header?: (b: Bound) => Record<string, unknown>; url?: string; method?: string; now?: (ctx: HostileContext) => number; token?: string }) =>
  async (ctx: HostileContext): Promise<HostileRequest> => {
    const b = await bound(ctx)
    const proof = await forgeProof({
      key: b.key, url: o.url ?? RESOURCE, method: o.method ?? 'POST', token: o.token ?? b.token,
      ...(o.claims ? { claims: o.claims } : {}), ...(o.header ? { header: o.header(b) } : {}), ...(o.now ? { now: o.now(ctx) } : {}),
    })
    return dpop(b.token, proof)
  }

/** The replay case: the same store for the host and for an earlier, accepted use of the proof. */
let replayStore = new MemoryDpopReplayStore()

export const dpopCases: HostileCase[] = ([
  { name: 'an honest proof (control)', request: forged({}), expect: OK },
  { name: 'the scheme in lower case (control)', request: async (ctx) => { const r = await forged({})(ctx); r.headers!.authorization = (r.headers!.authorization as string).replace('DPoP', 'dpop'); return r }, expect: OK },
  { name: 'a query string on the request, htu without it (control)', request: async (ctx) => ({ ...(await forged({})(ctx)), path: '/mcp?x=1' }), expect: OK },
  { name: 'a jku and x5u in the proof header are never fetched (control)', request: forged({ header: (b) => ({ typ: 'dpop+jwt', alg: 'ES256', jwk: b.key.publicJwk, jku: 'https://keys.example.net/jwks', x5u: 'https://keys.example.net/x5u' }) }), expect: OK },
  {
    name: 'proof replay: a proof already accepted once',
    options: () => {
      replayStore = new MemoryDpopReplayStore()
      return { dpop: { replayStore } }
    },
    request: async (ctx) => {
      const r = await forged({})(ctx)
      // The proof's first use, on another instance sharing the store.
      const first = createMcpAuth({ ...baseOptions(ctx.idp, globalThis.fetch), dpop: { replayStore } } as McpAuthOptions)
      await first.authenticate(new Request(`https://mcp.example.com${r.path}`, { method: 'POST', headers: r.headers as Record<string, string> }))
      return r
    },
    expect: refused('ERR_DPOP_PROOF'),
  },
  { name: 'a proof for another path', request: forged({ url: 'https://mcp.example.com/other' }), expect: refused('ERR_DPOP_PROOF') },
  { name: 'a proof for another host', request: forged({ url: 'https://evil.example/mcp' }), expect: refused('ERR_DPOP_PROOF') },
  { name: 'a proof for http instead of https', request: forged({ url: 'http://mcp.example.com/mcp' }), expect: refused('ERR_DPOP_PROOF') },
  { name: 'a proof for another method (GET proof on a POST)', request: forged({ method: 'GET' }), expect: refused('ERR_DPOP_PROOF') },
  { name: 'a stale iat (two minutes old)', request: forged({ now: (ctx) => ctx.now - 120 }), expect: refused('ERR_DPOP_PROOF') },
  { name: 'a future iat (one minute ahead)', request: forged({ now: (ctx) => ctx.now + 60 }), expect: refused('ERR_DPOP_PROOF') },
  { name: 'an iat that is not a number', request: forged({ claims: { iat: 'now' } }), expect: refused('ERR_DPOP_PROOF') },
  { name: 'ath of another access token', request: forged({ token: 'another-token' }), expect: refused('ERR_DPOP_PROOF') },
  { name: 'no ath', request: forged({ claims: { ath: undefined } }), expect: refused('ERR_DPOP_PROOF') },
  { name: 'no jti', request: forged({ claims: { jti: undefined } }), expect: refused('ERR_DPOP_PROOF') },
  {
    name: 'key mismatch: a valid proof by another key than the token is bound to',
    request: async (ctx) => {
      const victim = await bound(ctx)
      const thief = await proofKey()
      return dpop(victim.token, await forgeProof({ key: thief, url: RESOURCE, token: victim.token }))
    },
    expect: refused('ERR_DPOP_BINDING'),
  },
  {
    name: 'alg none (an unsigned proof)',
    request: async (ctx) => {
      const b = await bound(ctx)
      const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
      const payload = { jti: crypto.randomUUID(), htm: 'POST', htu: RESOURCE, iat: ctx.now, ath: await ath(b.token) }
      return dpop(b.token, `${enc({ typ: 'dpop+jwt', alg: 'none', jwk: b.key.publicJwk })}.${enc(payload)}.`)
    },
    expect: refused('ERR_DPOP_PROOF'),
  },
  {
    name: 'HS256 with the public JWK as the MAC secret',
    request: async (ctx) => {
      const b = await bound(ctx)
      const payload = { jti: crypto.randomUUID(), htm: 'POST', htu: RESOURCE, iat: ctx.now, ath: await ath(b.token) }
      const proof = await new SignJWT(payload).setProtectedHeader({ typ: 'dpop+jwt', alg: 'HS256', jwk: b.key.publicJwk } as never).sign(new TextEncoder().encode(JSON.stringify(b.key.publicJwk)))
      return dpop(b.token, proof)
    },
    expect: refused('ERR_DPOP_PROOF'),
  },
  {
    name: 'an oct (symmetric) key in an ES256 proof',
    request: async (ctx) => {
      const b = await bound(ctx)
      const payload = { jti: crypto.randomUUID(), htm: 'POST', htu: RESOURCE, iat: ctx.now, ath: await ath(b.token) }
      return dpop(b.token, await signRaw(b.key, { typ: 'dpop+jwt', alg: 'ES256', jwk: { kty: 'oct', k: 'c2VjcmV0' } }, payload))
    },
    expect: refused('ERR_DPOP_PROOF'),
  },
  {
    name: 'the private key in the proof (jwk with d)',
    request: async (ctx) => {
      const b = await bound(ctx)
      const { privateKey } = await generateKeyPair('ES256', { extractable: true })
      return dpop(b.token, await forgeProof({ key: b.key, url: RESOURCE, token: b.token, header: { typ: 'dpop+jwt', alg: 'ES256', jwk: { ...b.key.publicJwk, d: (await exportJWK(privateKey)).d } } }))
    },
    expect: refused('ERR_DPOP_PROOF'),
  },
  { name: 'a signature by another key than the proof names', request: async (ctx) => { const b = await bound(ctx); const other = await proofKey(); return dpop(b.token, await forgeProof({ key: other, url: RESOURCE, token: b.token, header: { typ: 'dpop+jwt', alg: 'ES256', jwk: b.key.publicJwk } })) }, expect: refused('ERR_DPOP_PROOF') },
  { name: 'no jwk in the proof', request: forged({ header: () => ({ typ: 'dpop+jwt', alg: 'ES256' }) }), expect: refused('ERR_DPOP_PROOF') },
  { name: 'typ JWT instead of dpop+jwt', request: forged({ header: (b) => ({ typ: 'JWT', alg: 'ES256', jwk: b.key.publicJwk }) }), expect: refused('ERR_DPOP_PROOF') },
  {
    name: 'a critical header extension',
    request: async (ctx) => {
      const b = await bound(ctx)
      const payload = { jti: crypto.randomUUID(), htm: 'POST', htu: RESOURCE, iat: ctx.now, ath: await ath(b.token) }
      return dpop(b.token, await signRaw(b.key, { typ: 'dpop+jwt', alg: 'ES256', jwk: b.key.publicJwk, crit: ['exp'], exp: 1 }, payload))
    },
    expect: refused('ERR_DPOP_PROOF'),
  },
  { name: 'the access token itself as the proof', request: async (ctx) => { const b = await bound(ctx); return dpop(b.token, b.token) }, expect: refused('ERR_DPOP_PROOF') },
  {
    name: 'two proofs (two DPoP header fields)',
    request: async (ctx) => {
      const b = await bound(ctx)
      const one = () => forgeProof({ key: b.key, url: RESOURCE, token: b.token })
      return dpop(b.token, [await one(), await one()])
    },
    expect: refused('ERR_DPOP_PROOF'),
  },
  { name: 'two proofs in one DPoP field', request: async (ctx) => { const b = await bound(ctx); const p = await forgeProof({ key: b.key, url: RESOURCE, token: b.token }); return dpop(b.token, `${p}, ${p}`) }, expect: refused('ERR_DPOP_PROOF') },
  { name: 'an oversized proof (9 KB)', request: forged({ claims: { pad: 'x'.repeat(9000) } }), expect: refused('ERR_DPOP_PROOF') },
  { name: 'the DPoP scheme without a proof', request: async (ctx) => dpop((await bound(ctx)).token, undefined), expect: refused('ERR_DPOP_PROOF') },
  { name: 'an empty DPoP header', request: async (ctx) => dpop((await bound(ctx)).token, ''), expect: refused('ERR_DPOP_PROOF') },
  { name: 'the DPoP scheme with a malformed token', request: async (ctx) => dpop('abc def', await forgeProof({ key: await proofKey(), url: RESOURCE, token: 'abc def' })), expect: refused('ERR_INVALID_REQUEST') },
  { name: '"DPoP" without a token', request: () => ({ method: 'POST', path: '/mcp', headers: { authorization: 'DPoP' } }), expect: refused('ERR_INVALID_REQUEST') },
  {
    name: 'downgrade: a DPoP-bound token sent as Bearer, with its valid proof beside it',
    request: async (ctx) => {
      const b = await bound(ctx)
      return { method: 'POST', path: '/mcp', headers: { authorization: `Bearer ${b.token}`, dpop: await forgeProof({ key: b.key, url: RESOURCE, token: b.token }) } }
    },
    expect: refused('ERR_TOKEN_TYPE'),
  },
  {
    name: 'an unbound token with the DPoP scheme and a valid proof',
    request: async (ctx) => {
      const key = await proofKey()
      const token = await ctx.token()
      return dpop(token, await forgeProof({ key, url: RESOURCE, token }))
    },
    expect: refused('ERR_DPOP_BINDING'),
  },
  { name: 'cnf with jkt and x5t#S256 (a binding this server cannot check)', request: async (ctx) => { const b = await bound(ctx); const token = await ctx.token({ cnf: { jkt: b.jkt, 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' } }); return dpop(token, await forgeProof({ key: b.key, url: RESOURCE, token })) }, expect: refused('ERR_TOKEN_TYPE') },
  { name: 'required: a bearer token', options: () => ({ dpop: 'required' }), request: async (ctx) => ctx.bearer(await ctx.token()), expect: refused('ERR_DPOP_BINDING') },
  { name: 'required: no credentials', options: () => ({ dpop: 'required' }), request: () => ({ method: 'POST', path: '/mcp', headers: {} }), expect: { status: 401, error: null, code: 'ERR_MISSING_TOKEN' } },
  { name: 'required: an honest proof (control)', options: () => ({ dpop: 'required' }), request: forged({}), expect: OK },
  { name: 'nonces on: a proof without a nonce', options: () => ({ dpop: { nonce: { secret: 'battery-secret-of-at-least-32-bytes!' } } }), request: forged({}), expect: refused('ERR_DPOP_NONCE') },
  { name: 'nonces on: a made-up nonce', options: () => ({ dpop: { nonce: { secret: 'battery-secret-of-at-least-32-bytes!' } } }), request: forged({ claims: { nonce: '1.AAAA' } }), expect: refused('ERR_DPOP_NONCE') },
  { name: 'an ES256 proof algorithm not allowed by dpop.algorithms', options: () => ({ dpop: { algorithms: ['EdDSA'] } }), request: forged({}), expect: refused('ERR_DPOP_PROOF') },
] satisfies Omit<HostileCase, 'category'>[]).map((c) => ({ ...c, category: 'dpop' as const }))
