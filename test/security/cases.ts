/**
 * The hostile-input battery as data: each case builds one request an attacker (or a broken IdP) could produce
 * and states what every host must answer. `battery.test.ts` runs each case against the core and every adapter.
 *
 * Sources: RFC 6750, RFC 7519/7515 and RFC 8725 (JWT BCP), RFC 9068, RFC 7662, RFC 8414, RFC 9728, and the JWT CVE
 * history (alg none, HMAC with a public key, embedded/remote keys, psychic ECDSA signatures, parser differentials,
 * numeric edge cases, oversize input, path-matching bypasses).
 */
import { CompactEncrypt, SignJWT, exportSPKI, importJWK } from 'jose'
import type { McpAuthErrorCode, McpAuthOptions, OAuthErrorValue } from '@mcp-oauth/core'
import { makeKey } from '../helpers/test-issuer.js'
import { FAR_HOST, INTROSPECTION, RESOURCE, b64, b64json, type HostileContext, type HostileRequest } from './context.js'

export type Category =
  | 'authorization-header'
  | 'jwt-structure'
  | 'algorithms-keys'
  | 'claims'
  | 'issuer-audience'
  | 'token-type'
  | 'introspection'
  | 'idp-metadata'
  | 'request-target'
  | 'dpop'

export interface Expectation {
  /** The status every host answers; a list when hosts may differ (e.g. refused by the core vs not routed). */
  status: number | readonly number[]
  /** The challenge's `error`; `null` for a challenge without one. Omitted for 200/404/405/503. */
  error?: OAuthErrorValue | null
  /** The core's `McpAuthError.code` (checked where the host exposes it). */
  code?: McpAuthErrorCode
  /** The case injects an IdP outage (a failing endpoint, our credentials refused): the only reason a 503 is allowed. */
  outage?: true
}

export interface HostileCase {
  name: string
  category: Category
  /** Options on top of the battery's base options. */
  options?: (ctx: HostileContext) => Partial<McpAuthOptions>
  request: (ctx: HostileContext) => HostileRequest | Promise<HostileRequest>
  expect: Expectation
}

const REFUSAL: Record<McpAuthErrorCode, { status: number; error: OAuthErrorValue | null }> = {
  ERR_MISSING_TOKEN: { status: 401, error: null },
  ERR_INVALID_REQUEST: { status: 400, error: 'invalid_request' },
  ERR_TOKEN_MALFORMED: { status: 401, error: 'invalid_token' },
  ERR_TOKEN_SIGNATURE: { status: 401, error: 'invalid_token' },
  ERR_TOKEN_ALGORITHM: { status: 401, error: 'invalid_token' },
  ERR_TOKEN_KEY_NOT_FOUND: { status: 401, error: 'invalid_token' },
  ERR_TOKEN_EXPIRED: { status: 401, error: 'invalid_token' },
  ERR_TOKEN_NOT_YET_VALID: { status: 401, error: 'invalid_token' },
  ERR_TOKEN_ISSUER: { status: 401, error: 'invalid_token' },
  ERR_TOKEN_AUDIENCE: { status: 401, error: 'invalid_token' },
  ERR_TOKEN_CLAIM: { status: 401, error: 'invalid_token' },
  ERR_TOKEN_TYPE: { status: 401, error: 'invalid_token' },
  ERR_TOKEN_INACTIVE: { status: 401, error: 'invalid_token' },
  ERR_TOKEN_REJECTED: { status: 401, error: 'invalid_token' },
  ERR_INSUFFICIENT_SCOPE: { status: 403, error: 'insufficient_scope' },
  ERR_IDP_UNAVAILABLE: { status: 503, error: 'temporarily_unavailable' },
  ERR_SESSION_MISMATCH: { status: 404, error: null },
  ERR_DPOP_PROOF: { status: 401, error: 'invalid_dpop_proof' },
  ERR_DPOP_NONCE: { status: 401, error: 'use_dpop_nonce' },
  ERR_DPOP_BINDING: { status: 401, error: 'invalid_token' },
  ERR_STORE_UNAVAILABLE: { status: 503, error: 'temporarily_unavailable' },
  ERR_MCP_HEADER_MISMATCH: { status: 400, error: null },
  ERR_MCP_BATCH: { status: 400, error: null },
}

/** Give every case of a list its category (a function, so the literals are typed by HostileCase). */
const group = (category: Category, list: Omit<HostileCase, 'category'>[]): HostileCase[] => list.map((c) => ({ ...c, category }))

const refused = (code: McpAuthErrorCode): Expectation => {
  const { status, error } = REFUSAL[code]
  return status === 503 ? { status, code } : { status, error, code }
}
const OK: Expectation = { status: 200 }
const UNAVAILABLE: Expectation = { ...refused('ERR_IDP_UNAVAILABLE'), outage: true }
/** Outside the protected path: the core lets it through to a router that has nothing there (404), or a host that protects everything refuses it. */
const NOT_SERVED: Expectation = { status: [401, 404] }

const opaque = (): string => `opaque-${crypto.randomUUID()}`
const withIntrospection = (): Partial<McpAuthOptions> => INTROSPECTION
/** A correctly signed token with these claims, sent as a bearer token. */
const signed = (claims: Record<string, unknown>, header?: Record<string, unknown>) =>
  async (ctx: HostileContext) => ctx.bearer(await ctx.token(claims, header))
/** A correctly signed token whose payload is exactly this JSON text (for numbers and keys JSON.stringify cannot write). */
const rawPayload = (text: (ctx: HostileContext) => string) =>
  async (ctx: HostileContext) => ctx.bearer(await ctx.raw({ alg: 'ES256', kid: ctx.idp.keys[0]!.kid, typ: 'at+jwt' }, text(ctx)))
const header = (authorization: string | string[], path = '/mcp'): HostileRequest => ({ method: 'POST', path, headers: { authorization } })
const noToken = (path: string, method = 'POST', headers: Record<string, string> = {}): HostileRequest => ({ method, path, headers })
/** An opaque token sent to an introspection endpoint that answers `answer`. */
const introspected = (answer: Parameters<HostileContext['introspection']>[0]) => (ctx: HostileContext) => {
  ctx.introspection(answer)
  return ctx.bearer(opaque())
}
const active = (extra: Record<string, unknown> = {}) => introspected({ json: { active: true, client_id: 'client-1', scope: 'mcp:tools', ...extra } })
/** Re-encode base64url text as standard base64 with padding. */
const toStdB64 = (s: string): string => Buffer.from(s, 'base64url').toString('base64')

// ---------------------------------------------------------------------------------------------------------------
const authorizationHeader: HostileCase[] = group('authorization-header', [
  { name: 'no Authorization header', request: () => noToken('/mcp'), expect: refused('ERR_MISSING_TOKEN') },
  { name: 'an empty Authorization header', request: () => header(''), expect: refused('ERR_MISSING_TOKEN') },
  { name: 'Basic credentials', request: () => header('Basic dXNlcjpwYXNz'), expect: refused('ERR_MISSING_TOKEN') },
  { name: 'the DPoP scheme with dpop: false (not spoken here)', options: () => ({ dpop: false }), request: async (ctx) => header(`DPoP ${await ctx.token()}`), expect: refused('ERR_MISSING_TOKEN') },
  { name: '"Bearer" without a token', request: () => header('Bearer'), expect: refused('ERR_INVALID_REQUEST') },
  { name: '"Bearer" and only spaces', request: () => header('Bearer     '), expect: refused('ERR_INVALID_REQUEST') },
  { name: 'a space inside the token', request: () => header('Bearer abc def'), expect: refused('ERR_INVALID_REQUEST') },
  { name: 'a quote inside the token', request: () => header('Bearer abc"def'), expect: refused('ERR_INVALID_REQUEST') },
  { name: 'Latin-1 bytes in the token', request: () => header('Bearer t\u00f6k\u00e9n'), expect: refused('ERR_INVALID_REQUEST') },
  { name: '"=" before the end of the token', request: () => header('Bearer ab=cd'), expect: refused('ERR_INVALID_REQUEST') },
  { name: 'a token of only "="', request: () => header('Bearer ===='), expect: refused('ERR_INVALID_REQUEST') },
  { name: 'a lone comma as the token', request: () => header('Bearer ,'), expect: refused('ERR_INVALID_REQUEST') },
  { name: 'two Authorization headers (valid + junk)', request: async (ctx) => header([`Bearer ${await ctx.token()}`, 'Bearer junk']), expect: refused('ERR_INVALID_REQUEST') },
  { name: 'the same valid token in two Authorization headers', request: async (ctx) => { const t = await ctx.token(); return header([`Bearer ${t}`, `Bearer ${t}`]) }, expect: refused('ERR_INVALID_REQUEST') },
  { name: 'two credentials in one header', request: async (ctx) => { const t = await ctx.token(); return header(`Bearer ${t}, Bearer ${t}`) }, expect: refused('ERR_INVALID_REQUEST') },
  { name: 'a valid header plus access_token in the query', request: async (ctx) => { const t = await ctx.token(); return header(`Bearer ${t}`, `/mcp?access_token=${t}`) }, expect: refused('ERR_INVALID_REQUEST') },
  { name: 'access_token in the query only (OAuth 2.1 forbids it)', request: async (ctx) => noToken(`/mcp?access_token=${await ctx.token()}`), expect: refused('ERR_INVALID_REQUEST') },
  { name: 'a tab instead of a space after the scheme (not 1*SP)', request: async (ctx) => header(`Bearer\t${await ctx.token()}`), expect: refused('ERR_MISSING_TOKEN') },
  { name: 'no separator: "Bearer<token>"', request: async (ctx) => header(`Bearer${await ctx.token()}`), expect: refused('ERR_MISSING_TOKEN') },
  { name: 'the token in a cookie and X-Access-Token instead', request: async (ctx) => { const t = await ctx.token(); return noToken('/mcp', 'POST', { cookie: `access_token=${t}`, 'x-access-token': t }) }, expect: refused('ERR_MISSING_TOKEN') },
  { name: 'the token in Proxy-Authorization', request: async (ctx) => noToken('/mcp', 'POST', { 'proxy-authorization': `Bearer ${await ctx.token()}` }), expect: refused('ERR_MISSING_TOKEN') },
  { name: 'a token over maxTokenLength (refused before any parsing)', options: () => ({ maxTokenLength: 4096 }), request: () => header(`Bearer ${'A'.repeat(5000)}`), expect: refused('ERR_TOKEN_MALFORMED') },
  { name: 'control: scheme in lower case is accepted', request: async (ctx) => header(`bearer ${await ctx.token()}`), expect: OK },
  { name: 'control: upper-case scheme and two spaces are accepted', request: async (ctx) => header(`BEARER  ${await ctx.token()}`), expect: OK },
])

// ---------------------------------------------------------------------------------------------------------------
const jwtStructure: HostileCase[] = group('jwt-structure', [
  { name: 'a single opaque word (JWT-only server)', request: () => header('Bearer abcdefghijklmnop'), expect: refused('ERR_TOKEN_MALFORMED') },
  { name: 'two segments', request: async (ctx) => header(`Bearer ${(await ctx.token()).split('.').slice(0, 2).join('.')}`), expect: refused('ERR_TOKEN_MALFORMED') },
  { name: 'four segments', request: async (ctx) => header(`Bearer ${await ctx.token()}.e30`), expect: refused('ERR_TOKEN_MALFORMED') },
  { name: 'five segments (JWE shape)', request: async (ctx) => header(`Bearer ${await ctx.token()}.e30.e30`), expect: refused('ERR_TOKEN_MALFORMED') },
  { name: 'only dots', request: () => header('Bearer ..'), expect: refused('ERR_TOKEN_MALFORMED') },
  { name: 'an empty header segment', request: async (ctx) => header(`Bearer .${(await ctx.token()).split('.').slice(1).join('.')}`), expect: refused('ERR_TOKEN_MALFORMED') },
  {
    name: 'standard base64 ("+", "/") instead of base64url in the header',
    request: async (ctx) => {
      // "?" and ">" encode to "/" and "+" at some alignment: find one where the segment is base64 but not base64url.
      for (let n = 0; ; n++) {
        const t = await ctx.raw({ alg: 'ES256', kid: ctx.idp.keys[0]!.kid, typ: 'at+jwt', p: `${'?'.repeat(n)}???>>>` }, ctx.claims())
        const [h, p, s] = t.split('.') as [string, string, string]
        const std = toStdB64(h).replace(/=+$/, '')
        if (/[+/]/.test(std)) return header(`Bearer ${std}.${p}.${s}`)
      }
    },
    expect: refused('ERR_TOKEN_MALFORMED'),
  },
  { name: 'base64 padding inside the token', request: async (ctx) => { const [h, p, s] = (await ctx.token()).split('.'); return header(`Bearer ${h}==.${p}.${s}`) }, expect: refused('ERR_INVALID_REQUEST') },
  { name: 'base64 padding on the signature (not a JWS compact serialization)', request: async (ctx) => header(`Bearer ${await ctx.token()}==`), expect: refused('ERR_TOKEN_MALFORMED') },
  {
    name: 'a real JWE (dir, A256GCM) carrying valid claims',
    request: async (ctx) => ctx.bearer(await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(ctx.claims())))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', cty: 'at+jwt' }).encrypt(crypto.getRandomValues(new Uint8Array(32)))),
    expect: refused('ERR_TOKEN_MALFORMED'),
  },
  { name: 'a JWT without iss, signed by the issuer\'s own key', request: signed({ iss: undefined }), expect: refused('ERR_TOKEN_ISSUER') },
  { name: 'payload is a JSON array', request: rawPayload((ctx) => JSON.stringify([ctx.claims()])), expect: refused('ERR_TOKEN_MALFORMED') },
  { name: 'payload is a JSON string', request: rawPayload(() => '"hello"'), expect: refused('ERR_TOKEN_MALFORMED') },
  { name: 'payload is null', request: rawPayload(() => 'null'), expect: refused('ERR_TOKEN_MALFORMED') },
  { name: 'header is a JSON array', request: async (ctx) => header(`Bearer ${await ctx.raw('[{"alg":"ES256"}]', ctx.claims())}`), expect: refused('ERR_TOKEN_MALFORMED') },
  { name: 'duplicate "iss": trusted first, foreign last (last wins everywhere)', request: rawPayload((ctx) => `{"iss":"${ctx.idp.issuer}","aud":"${RESOURCE}","exp":${ctx.now + 300},"iss":"https://evil.example"}`), expect: refused('ERR_TOKEN_ISSUER') },
  { name: 'duplicate "aud": this resource first, another last', request: rawPayload((ctx) => `{"iss":"${ctx.idp.issuer}","aud":"${RESOURCE}","exp":${ctx.now + 300},"aud":"https://other.example/mcp"}`), expect: refused('ERR_TOKEN_AUDIENCE') },
  { name: 'duplicate "alg" in the header: ES256 then none', request: async (ctx) => header(`Bearer ${await ctx.raw(`{"alg":"ES256","kid":"${ctx.idp.keys[0]!.kid}","alg":"none"}`, ctx.claims())}`), expect: refused('ERR_TOKEN_ALGORITHM') },
  { name: 'a 6 KB header over maxTokenLength 4096', options: () => ({ maxTokenLength: 4096 }), request: async (ctx) => ctx.bearer(await ctx.token({}, { pad: 'x'.repeat(6000) })), expect: refused('ERR_TOKEN_MALFORMED') },
  { name: 'payload bytes that are not UTF-8', request: async (ctx) => ctx.bearer(await ctx.rawBytes(`{"alg":"ES256","kid":"${ctx.idp.keys[0]!.kid}"}`, Uint8Array.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]))), expect: refused('ERR_TOKEN_MALFORMED') },
  {
    name: 'an overlong UTF-8 sequence in a claim (parser differential bait)',
    request: async (ctx) => {
      const json = new TextEncoder().encode(JSON.stringify(ctx.claims({ sub: 'A' })))
      const at = json.indexOf(0x41) // the "A" of sub becomes the overlong 0xC1 0x81
      const bytes = new Uint8Array([...json.slice(0, at), 0xc1, 0x81, ...json.slice(at + 1)])
      return ctx.bearer(await ctx.rawBytes(`{"alg":"ES256","kid":"${ctx.idp.keys[0]!.kid}"}`, bytes))
    },
    expect: refused('ERR_TOKEN_MALFORMED'),
  },
  { name: 'payload in UTF-16', request: async (ctx) => ctx.bearer(await ctx.rawBytes(`{"alg":"ES256","kid":"${ctx.idp.keys[0]!.kid}"}`, new Uint8Array(Buffer.from(JSON.stringify(ctx.claims()), 'utf16le')))), expect: refused('ERR_TOKEN_MALFORMED') },
  { name: 'an empty signature', request: async (ctx) => { const [h, p] = (await ctx.token()).split('.'); return header(`Bearer ${h}.${p}.`) }, expect: refused('ERR_TOKEN_SIGNATURE') },
  { name: 'control: a deeply nested unknown claim does not crash the parser', request: signed({ deep: JSON.parse(`${'['.repeat(2000)}${']'.repeat(2000)}`) }), expect: OK },
  { name: 'control: "__proto__" and "constructor" claims pollute nothing', request: rawPayload((ctx) => JSON.stringify(ctx.claims()).replace(/^\{/, '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},')), expect: OK },
])

// ---------------------------------------------------------------------------------------------------------------
const unsigned = (ctx: HostileContext, alg: string): string => `${b64json({ alg, typ: 'at+jwt' })}.${b64json(ctx.claims())}.`
const hmacWith = async (ctx: HostileContext, alg: 'HS256' | 'HS512', secret: Uint8Array): Promise<string> =>
  new SignJWT(ctx.claims()).setProtectedHeader({ alg, kid: ctx.idp.keys[0]!.kid, typ: 'at+jwt' }).sign(secret)
const foreignSigned = async (ctx: HostileContext, alg: 'RS256' | 'ES256', headerExtra: Record<string, unknown>): Promise<string> => {
  const key = await makeKey(alg, ctx.idp.keys[0]!.kid)
  return new SignJWT(ctx.claims()).setProtectedHeader({ alg, kid: key.kid, typ: 'at+jwt', ...headerExtra } as never).sign(key.privateKey)
}
const withHeader = (h: Record<string, unknown>) => async (ctx: HostileContext) => ctx.bearer(await ctx.raw({ typ: 'at+jwt', ...h }, ctx.claims()))

const algorithmsAndKeys: HostileCase[] = group('algorithms-keys', [
  { name: 'alg "none" without a signature', request: (ctx) => header(`Bearer ${unsigned(ctx, 'none')}`), expect: refused('ERR_TOKEN_ALGORITHM') },
  { name: 'alg "None"', request: (ctx) => header(`Bearer ${unsigned(ctx, 'None')}`), expect: refused('ERR_TOKEN_ALGORITHM') },
  { name: 'alg "NONE" with a valid ES256 signature attached', request: async (ctx) => { const s = (await ctx.token()).split('.')[2]; return header(`Bearer ${unsigned(ctx, 'NONE')}${s}`) }, expect: refused('ERR_TOKEN_ALGORITHM') },
  { name: 'HS256 keyed with the issuer\'s public JWK (alg confusion)', request: async (ctx) => ctx.bearer(await hmacWith(ctx, 'HS256', new TextEncoder().encode(JSON.stringify(ctx.idp.keys[0]!.publicJwk)))), expect: refused('ERR_TOKEN_ALGORITHM') },
  {
    name: 'HS256 keyed with the issuer\'s public key PEM (CVE-2015-9235 style)',
    request: async (ctx) => {
      const pem = await exportSPKI(await importJWK(ctx.idp.keys[0]!.publicJwk, 'ES256', { extractable: true }) as CryptoKey)
      return ctx.bearer(await hmacWith(ctx, 'HS256', new TextEncoder().encode(pem)))
    },
    expect: refused('ERR_TOKEN_ALGORITHM'),
  },
  { name: 'HS512 with a guessable secret', request: async (ctx) => ctx.bearer(await hmacWith(ctx, 'HS512', new TextEncoder().encode('secret'))), expect: refused('ERR_TOKEN_ALGORITHM') },
  { name: 'alg "ES256 " with a trailing space', request: withHeader({ alg: 'ES256 ' }), expect: refused('ERR_TOKEN_ALGORITHM') },
  { name: 'alg null', request: withHeader({ alg: null }), expect: refused('ERR_TOKEN_MALFORMED') },
  { name: 'RS256 header naming the issuer\'s EC key (alg/key mismatch)', request: async (ctx) => ctx.bearer(await foreignSigned(ctx, 'RS256', {})), expect: refused('ERR_TOKEN_KEY_NOT_FOUND') },
  { name: 'ES384 header over a P-256 signature', request: async (ctx) => ctx.bearer(await ctx.raw({ alg: 'ES384', kid: ctx.idp.keys[0]!.kid, typ: 'at+jwt' }, ctx.claims())), expect: refused('ERR_TOKEN_KEY_NOT_FOUND') },
  { name: 'EdDSA header naming the EC key', request: async (ctx) => ctx.bearer(await ctx.raw({ alg: 'EdDSA', kid: ctx.idp.keys[0]!.kid, typ: 'at+jwt' }, ctx.claims())), expect: refused('ERR_TOKEN_KEY_NOT_FOUND') },
  { name: 'an algorithm outside this issuer\'s allow-list', options: () => ({ algorithms: ['RS256'] }), request: signed({}), expect: refused('ERR_TOKEN_ALGORITHM') },
  { name: 'an unknown kid', request: withHeader({ alg: 'ES256', kid: 'no-such-key' }), expect: refused('ERR_TOKEN_KEY_NOT_FOUND') },
  { name: 'a kid with path traversal and SQL', request: withHeader({ alg: 'ES256', kid: "../../../../dev/null'; DROP TABLE keys;--" }), expect: refused('ERR_TOKEN_KEY_NOT_FOUND') },
  { name: 'a numeric kid', request: withHeader({ alg: 'ES256', kid: 1 }), expect: refused('ERR_TOKEN_KEY_NOT_FOUND') },
  { name: 'a 10 kB kid', request: withHeader({ alg: 'ES256', kid: 'k'.repeat(10 * 1024) }), expect: refused('ERR_TOKEN_KEY_NOT_FOUND') },
  { name: 'jku at the attacker with an unknown kid, signed with the attacker\'s key', request: async (ctx) => ctx.bearer(await foreignSigned(ctx, 'ES256', { kid: 'attacker-kid', jku: `${ctx.attacker.origin}/jwks` })), expect: refused('ERR_TOKEN_KEY_NOT_FOUND') },
  { name: 'an object kid', request: withHeader({ alg: 'ES256', kid: { $ne: null } }), expect: refused('ERR_TOKEN_KEY_NOT_FOUND') },
  { name: 'jku pointing at the attacker, signed with the attacker\'s key', request: async (ctx) => ctx.bearer(await foreignSigned(ctx, 'ES256', { jku: `${ctx.attacker.origin}/jwks` })), expect: refused('ERR_TOKEN_SIGNATURE') },
  { name: 'x5u pointing at the attacker', request: async (ctx) => ctx.bearer(await foreignSigned(ctx, 'ES256', { x5u: `${ctx.attacker.origin}/cert.pem` })), expect: refused('ERR_TOKEN_SIGNATURE') },
  {
    name: 'the attacker\'s key embedded as "jwk" (CVE-2018-0114 style)',
    request: async (ctx) => {
      const key = await makeKey('ES256', 'attacker')
      return ctx.bearer(await new SignJWT(ctx.claims()).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', jwk: key.publicJwk } as never).sign(key.privateKey))
    },
    expect: refused('ERR_TOKEN_SIGNATURE'),
  },
  { name: 'an x5c chain from the attacker', request: async (ctx) => ctx.bearer(await foreignSigned(ctx, 'ES256', { x5c: ['MIIBszCCAVmgAwIBAgIUattacker'] })), expect: refused('ERR_TOKEN_SIGNATURE') },
  { name: 'ECDSA "psychic signature" r = s = 0 (CVE-2022-21449)', request: async (ctx) => { const [h, p] = (await ctx.token()).split('.'); return header(`Bearer ${h}.${p}.${b64(new Uint8Array(64))}`) }, expect: refused('ERR_TOKEN_SIGNATURE') },
  {
    name: 'a DER-encoded ECDSA signature instead of r||s',
    request: async (ctx) => {
      const [h, p, s] = (await ctx.token()).split('.') as [string, string, string]
      const raw = Buffer.from(s, 'base64url')
      const int = (b: Buffer) => { const v = b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b; return Buffer.concat([Buffer.from([2, v.length]), v]) }
      const body = Buffer.concat([int(raw.subarray(0, 32)), int(raw.subarray(32))])
      return header(`Bearer ${h}.${p}.${Buffer.concat([Buffer.from([0x30, body.length]), body]).toString('base64url')}`)
    },
    expect: refused('ERR_TOKEN_SIGNATURE'),
  },
  { name: 'crit ["b64"] with b64 false (RFC 7797 unencoded payload)', request: withHeader({ alg: 'ES256', kid: 'k', crit: ['b64'], b64: false }), expect: refused('ERR_TOKEN_MALFORMED') },
  { name: 'control: no kid, the issuer\'s single key is selected by alg', request: async (ctx) => ctx.bearer(await ctx.raw({ alg: 'ES256', typ: 'at+jwt' }, ctx.claims())), expect: OK },
])

// ---------------------------------------------------------------------------------------------------------------
type ClaimRow = [name: string, claims: (ctx: HostileContext) => Record<string, unknown>, expect: Expectation, options?: Partial<McpAuthOptions>]
const v = (claims: Record<string, unknown>) => () => claims
const claimRows: ClaimRow[] = [
  ['iss missing', v({ iss: undefined }), refused('ERR_TOKEN_ISSUER')],
  ['iss a number', v({ iss: 1 }), refused('ERR_TOKEN_ISSUER')],
  ['iss an array holding the issuer', (ctx) => ({ iss: [ctx.idp.issuer] }), refused('ERR_TOKEN_ISSUER')],
  ['iss null', v({ iss: null }), refused('ERR_TOKEN_ISSUER')],
  ['iss an object', (ctx) => ({ iss: { toString: ctx.idp.issuer } }), refused('ERR_TOKEN_ISSUER')],
  ['aud missing', v({ aud: undefined }), refused('ERR_TOKEN_AUDIENCE')],
  ['aud a number', v({ aud: 1 }), refused('ERR_TOKEN_AUDIENCE')],
  ['aud an empty array', v({ aud: [] }), refused('ERR_TOKEN_AUDIENCE')],
  ['aud null', v({ aud: null }), refused('ERR_TOKEN_AUDIENCE')],
  ['aud an object', v({ aud: { [RESOURCE]: true } }), refused('ERR_TOKEN_AUDIENCE')],
  ['aud an array mixing the resource and a number', v({ aud: [RESOURCE, 42] }), refused('ERR_TOKEN_CLAIM')],
  ['exp missing', v({ exp: undefined }), refused('ERR_TOKEN_CLAIM')],
  ['exp a numeric string', (ctx) => ({ exp: String(ctx.now + 300) }), refused('ERR_TOKEN_CLAIM')],
  ['exp null', v({ exp: null }), refused('ERR_TOKEN_CLAIM')],
  ['exp an array', (ctx) => ({ exp: [ctx.now + 300] }), refused('ERR_TOKEN_CLAIM')],
  ['exp true', v({ exp: true }), refused('ERR_TOKEN_CLAIM')],
  ['exp -1', v({ exp: -1 }), refused('ERR_TOKEN_EXPIRED')],
  ['exp 0', v({ exp: 0 }), refused('ERR_TOKEN_EXPIRED')],
  ['exp just outside the 5 s clock tolerance', (ctx) => ({ exp: ctx.now - 10 }), refused('ERR_TOKEN_EXPIRED')],
  ['control: exp just inside the clock tolerance', (ctx) => ({ exp: ctx.now - 2 }), OK],
  ['control: exp in the year 9999', v({ exp: 253_402_300_799 }), OK],
  ['nbf in the future', (ctx) => ({ nbf: ctx.now + 3600 }), refused('ERR_TOKEN_NOT_YET_VALID')],
  ['nbf a string', v({ nbf: '0' }), refused('ERR_TOKEN_CLAIM')],
  ['nbf -1', v({ nbf: -1 }), refused('ERR_TOKEN_CLAIM')],
  ['iat in the future', (ctx) => ({ iat: ctx.now + 3600 }), refused('ERR_TOKEN_NOT_YET_VALID')],
  ['iat a string', v({ iat: 'now' }), refused('ERR_TOKEN_CLAIM')],
  ['iat -1', v({ iat: -1 }), refused('ERR_TOKEN_CLAIM')],
  ['iat null', v({ iat: null }), refused('ERR_TOKEN_CLAIM')],
  ['sub a number', v({ sub: 42 }), refused('ERR_TOKEN_CLAIM')],
  ['sub null', v({ sub: null }), refused('ERR_TOKEN_CLAIM')],
  ['sub an array', v({ sub: ['admin'] }), refused('ERR_TOKEN_CLAIM')],
  ['sub an object', v({ sub: { id: 'admin' } }), refused('ERR_TOKEN_CLAIM')],
  ['control: no sub (client-credentials tokens)', v({ sub: undefined }), OK],
  ['jti a number', v({ jti: 42 }), refused('ERR_TOKEN_CLAIM')],
  ['jti an object', v({ jti: { id: 1 } }), refused('ERR_TOKEN_CLAIM')],
  ['client_id a number', v({ client_id: 7 }), refused('ERR_TOKEN_CLAIM')],
  ['client_id an array', v({ client_id: ['a', 'b'] }), refused('ERR_TOKEN_CLAIM')],
  ['client_id null', v({ client_id: null }), refused('ERR_TOKEN_CLAIM')],
  ['no client_id and azp a number', v({ client_id: undefined, azp: 7 }), refused('ERR_TOKEN_CLAIM')],
  ['control: neither client_id nor azp', v({ client_id: undefined }), OK],
  ['scope an array', v({ scope: ['mcp:tools'] }), refused('ERR_TOKEN_CLAIM')],
  ['scope a number', v({ scope: 1 }), refused('ERR_TOKEN_CLAIM')],
  ['scope null', v({ scope: null }), refused('ERR_TOKEN_CLAIM')],
  ['scope an object', v({ scope: { 'mcp:tools': true } }), refused('ERR_TOKEN_CLAIM')],
  ['scp a number', v({ scp: 1 }), refused('ERR_TOKEN_CLAIM')],
  ['scp an array with a non-string', v({ scp: ['mcp:tools', null] }), refused('ERR_TOKEN_CLAIM')],
  ['scp an object', v({ scp: {} }), refused('ERR_TOKEN_CLAIM')],
  ['a required scope in the wrong case', v({ scope: 'MCP:TOOLS' }), refused('ERR_INSUFFICIENT_SCOPE'), { requiredScopes: ['mcp:tools'] }],
  ['header-breaking characters in scope (challenge must stay clean)', v({ scope: 'a"b c\\d e,f=g\r\nX-Injected: 1 \u00e9' }), refused('ERR_INSUFFICIENT_SCOPE'), { requiredScopes: ['mcp:admin'] }],
  ['an empty scope with a required scope', v({ scope: '' }), refused('ERR_INSUFFICIENT_SCOPE'), { requiredScopes: ['mcp:tools'] }],
  ['control: the required scope present (via scp array)', v({ scope: undefined, scp: ['mcp:tools'] }), OK, { requiredScopes: ['mcp:tools'] }],
]
const rawRows: [string, (ctx: HostileContext) => string, Expectation][] = [
  ['exp 1e400 (Infinity after JSON.parse)', (ctx) => `{"iss":"${ctx.idp.issuer}","aud":"${RESOURCE}","exp":1e400}`, refused('ERR_TOKEN_CLAIM')],
  ['exp -1e400', (ctx) => `{"iss":"${ctx.idp.issuer}","aud":"${RESOURCE}","exp":-1e400}`, refused('ERR_TOKEN_EXPIRED')],
  ['nbf 1e400', (ctx) => `{"iss":"${ctx.idp.issuer}","aud":"${RESOURCE}","exp":${ctx.now + 300},"nbf":1e400}`, refused('ERR_TOKEN_NOT_YET_VALID')],
  ['iat 1e400', (ctx) => `{"iss":"${ctx.idp.issuer}","aud":"${RESOURCE}","exp":${ctx.now + 300},"iat":1e400}`, refused('ERR_TOKEN_CLAIM')],
  ['iat -1e400', (ctx) => `{"iss":"${ctx.idp.issuer}","aud":"${RESOURCE}","exp":${ctx.now + 300},"iat":-1e400}`, refused('ERR_TOKEN_CLAIM')],
]
const claims: HostileCase[] = [
  ...claimRows.map(([name, c, expect, options]): HostileCase => ({
    name, category: 'claims', expect, request: async (ctx) => ctx.bearer(await ctx.token(c(ctx))), ...(options ? { options: () => options } : {}),
  })),
  ...rawRows.map(([name, text, expect]): HostileCase => ({ name, category: 'claims', expect, request: rawPayload(text) })),
]

// ---------------------------------------------------------------------------------------------------------------
const lookalikeIssuer = (make: (ctx: HostileContext) => string) => async (ctx: HostileContext) => ctx.bearer(await ctx.token({ iss: make(ctx) }))
const lookalikeAudience = (aud: unknown) => async (ctx: HostileContext) => ctx.bearer(await ctx.token({ aud }))
const port = (ctx: HostileContext): string => new URL(ctx.idp.issuer).port
const issuerAudience: HostileCase[] = group('issuer-audience', [
  { name: 'iss with a trailing slash', request: lookalikeIssuer((ctx) => `${ctx.idp.issuer}/`), expect: refused('ERR_TOKEN_ISSUER') },
  { name: 'iss in upper case', request: lookalikeIssuer((ctx) => ctx.idp.issuer.toUpperCase()), expect: refused('ERR_TOKEN_ISSUER') },
  { name: 'iss naming localhost instead of 127.0.0.1', request: lookalikeIssuer((ctx) => `http://localhost:${port(ctx)}`), expect: refused('ERR_TOKEN_ISSUER') },
  { name: 'iss with an extra path', request: lookalikeIssuer((ctx) => `${ctx.idp.issuer}/evil`), expect: refused('ERR_TOKEN_ISSUER') },
  { name: 'iss with the trusted issuer as a prefix of the host', request: lookalikeIssuer((ctx) => `${ctx.idp.issuer}.evil.example`), expect: refused('ERR_TOKEN_ISSUER') },
  { name: 'iss with the trusted issuer as userinfo before the attacker', request: lookalikeIssuer((ctx) => `http://127.0.0.1:${port(ctx)}@${ctx.attacker.origin.slice(7)}`), expect: refused('ERR_TOKEN_ISSUER') },
  { name: 'iss = the attacker (no discovery of untrusted issuers)', request: lookalikeIssuer((ctx) => ctx.attacker.origin), expect: refused('ERR_TOKEN_ISSUER') },
  { name: 'iss with full-width digits', request: lookalikeIssuer((ctx) => ctx.idp.issuer.replace('127', '\uff11\uff12\uff17')), expect: refused('ERR_TOKEN_ISSUER') },
  { name: 'iss with a trailing NUL', request: lookalikeIssuer((ctx) => `${ctx.idp.issuer}\u0000`), expect: refused('ERR_TOKEN_ISSUER') },
  { name: 'aud with a trailing slash', request: lookalikeAudience(`${RESOURCE}/`), expect: refused('ERR_TOKEN_AUDIENCE') },
  { name: 'aud with an upper-case path', request: lookalikeAudience('https://mcp.example.com/MCP'), expect: refused('ERR_TOKEN_AUDIENCE') },
  { name: 'aud = the origin only (a prefix of the resource)', request: lookalikeAudience('https://mcp.example.com'), expect: refused('ERR_TOKEN_AUDIENCE') },
  { name: 'aud on a look-alike host suffix', request: lookalikeAudience('https://mcp.example.com.evil.example/mcp'), expect: refused('ERR_TOKEN_AUDIENCE') },
  { name: 'aud with userinfo', request: lookalikeAudience('https://evil@mcp.example.com/mcp'), expect: refused('ERR_TOKEN_AUDIENCE') },
  { name: 'aud with a query', request: lookalikeAudience(`${RESOURCE}?tenant=other`), expect: refused('ERR_TOKEN_AUDIENCE') },
  { name: 'aud with a fragment', request: lookalikeAudience(`${RESOURCE}#x`), expect: refused('ERR_TOKEN_AUDIENCE') },
  { name: 'aud with an explicit :443', request: lookalikeAudience('https://mcp.example.com:443/mcp'), expect: refused('ERR_TOKEN_AUDIENCE') },
  { name: 'aud with a Cyrillic "с" in the host', request: lookalikeAudience('https://m\u0441p.example.com/mcp'), expect: refused('ERR_TOKEN_AUDIENCE') },
  { name: 'aud over http', request: lookalikeAudience('http://mcp.example.com/mcp'), expect: refused('ERR_TOKEN_AUDIENCE') },
  { name: 'aud "*"', request: lookalikeAudience('*'), expect: refused('ERR_TOKEN_AUDIENCE') },
  { name: 'control: aud array containing the resource among others', request: lookalikeAudience(['https://other.example/api', RESOURCE]), expect: OK },
])

// ---------------------------------------------------------------------------------------------------------------
const tokenType: HostileCase[] = group('token-type', [
  { name: 'an OIDC ID token (typ JWT, nonce, at_hash) for this audience', request: signed({ nonce: 'n-0S6_WzA2Mj', at_hash: 'HK6E_P6Dh8Y93mRNtsDB1Q' }, { typ: 'JWT' }), expect: refused('ERR_TOKEN_TYPE') },
  { name: 'an ID token without typ', request: async (ctx) => ctx.bearer(await ctx.raw({ alg: 'ES256', kid: ctx.idp.keys[0]!.kid }, ctx.claims({ nonce: 'n' }))), expect: refused('ERR_TOKEN_TYPE') },
  { name: 'an ID token with c_hash (hybrid flow)', request: signed({ c_hash: 'LDktKdoQak3Pk0cnXxCltA' }, { typ: 'JWT' }), expect: refused('ERR_TOKEN_TYPE') },
  { name: 'typ "dpop+jwt" (a DPoP proof as a token)', request: signed({}, { typ: 'dpop+jwt' }), expect: refused('ERR_TOKEN_TYPE') },
  { name: 'typ "secevent+jwt"', request: signed({}, { typ: 'secevent+jwt' }), expect: refused('ERR_TOKEN_TYPE') },
  { name: 'typ ""', request: signed({}, { typ: '' }), expect: refused('ERR_TOKEN_TYPE') },
  { name: 'typ a number', request: signed({}, { typ: 42 }), expect: refused('ERR_TOKEN_TYPE') },
  { name: 'DPoP-bound (cnf.jkt) token sent as bearer', request: signed({ cnf: { jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I' } }), expect: refused('ERR_TOKEN_TYPE') },
  { name: 'certificate-bound (cnf.x5t#S256) token sent as bearer', request: signed({ cnf: { 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' } }), expect: refused('ERR_TOKEN_TYPE') },
  { name: 'PoP key (cnf.jwk) token sent as bearer', request: signed({ cnf: { jwk: { kty: 'EC', crv: 'P-256', x: 'a', y: 'b' } } }), expect: refused('ERR_TOKEN_TYPE') },
  { name: 'introspection: token_type refresh_token', options: withIntrospection, request: active({ token_type: 'refresh_token' }), expect: refused('ERR_TOKEN_TYPE') },
  { name: 'introspection: token_type DPoP', options: withIntrospection, request: active({ token_type: 'DPoP' }), expect: refused('ERR_TOKEN_TYPE') },
  { name: 'introspection: cnf.jkt', options: withIntrospection, request: active({ cnf: { jkt: 'abc' } }), expect: refused('ERR_TOKEN_TYPE') },
  { name: 'control: typ "AT+JWT" (case-insensitive media type)', request: signed({}, { typ: 'AT+JWT' }), expect: OK },
  { name: 'control: typ "application/at+jwt"', request: signed({}, { typ: 'application/at+jwt' }), expect: OK },
])

// ---------------------------------------------------------------------------------------------------------------
const introspection: HostileCase[] = group('introspection', [
  { name: 'active "true" (a string)', request: introspected({ json: { active: 'true' } }), expect: UNAVAILABLE },
  { name: 'active 1', request: introspected({ json: { active: 1 } }), expect: UNAVAILABLE },
  { name: 'active missing', request: introspected({ json: { scope: 'mcp:tools' } }), expect: UNAVAILABLE },
  { name: 'active null', request: introspected({ json: { active: null } }), expect: UNAVAILABLE },
  { name: 'active false', request: introspected({ json: { active: false } }), expect: refused('ERR_TOKEN_INACTIVE') },
  { name: 'duplicate "active": true then false (last wins)', request: introspected({ text: '{"active":true,"active":false}' }), expect: refused('ERR_TOKEN_INACTIVE') },
  { name: 'active, exp in the past', request: (ctx) => active({ exp: ctx.now - 60 })(ctx), expect: refused('ERR_TOKEN_EXPIRED') },
  { name: 'active, exp 1e400', request: introspected({ text: '{"active":true,"exp":1e400}' }), expect: refused('ERR_TOKEN_CLAIM') },
  { name: 'active, exp a string', request: active({ exp: '9999999999' }), expect: refused('ERR_TOKEN_CLAIM') },
  { name: 'active, nbf in the future', request: (ctx) => active({ nbf: ctx.now + 3600 })(ctx), expect: refused('ERR_TOKEN_NOT_YET_VALID') },
  { name: 'active, aud another resource', request: active({ aud: 'https://other.example/mcp' }), expect: refused('ERR_TOKEN_AUDIENCE') },
  { name: 'active, aud an empty array', request: active({ aud: [] }), expect: refused('ERR_TOKEN_AUDIENCE') },
  { name: 'active, iss another issuer', request: active({ iss: 'https://evil.example' }), expect: refused('ERR_TOKEN_ISSUER') },
  { name: 'active, scope an array', request: active({ scope: ['mcp:tools'] }), expect: refused('ERR_TOKEN_CLAIM') },
  { name: 'active, sub a number', request: active({ sub: 1 }), expect: refused('ERR_TOKEN_CLAIM') },
  { name: 'active, client_id an object', request: active({ client_id: {} }), expect: refused('ERR_TOKEN_CLAIM') },
  { name: 'a JSON array body', request: introspected({ json: [{ active: true }] }), expect: UNAVAILABLE },
  { name: 'an HTML body', request: introspected({ text: '<html>login</html>', contentType: 'text/html' }), expect: UNAVAILABLE },
  { name: 'a 1 MB body', request: introspected({ bytes: 1024 * 1024 }), expect: UNAVAILABLE },
  { name: 'HTTP 500', request: introspected({ json: { error: 'server_error' }, status: 500 }), expect: UNAVAILABLE },
  { name: 'HTTP 401 (our client credentials refused)', request: introspected({ json: { error: 'invalid_client' }, status: 401 }), expect: UNAVAILABLE },
  { name: 'HTTP 400 invalid_client (credentials refused, client_secret_post)', request: introspected({ json: { error: 'invalid_client' }, status: 400 }), expect: UNAVAILABLE },
  { name: 'HTTP 403 (not allowed to introspect)', request: introspected({ json: { error: 'access_denied' }, status: 403 }), expect: UNAVAILABLE },
  { name: 'HTTP 400 invalid_request about our request, not the token', request: introspected({ json: { error: 'invalid_request', error_description: 'unsupported client_assertion_type' }, status: 400 }), expect: UNAVAILABLE },
  { name: 'HTTP 400 with an HTML body', request: introspected({ text: '<html>Bad Request</html>', status: 400, contentType: 'text/html' }), expect: UNAVAILABLE },
  { name: 'HTTP 404', request: introspected({ json: { error: 'not_found' }, status: 404 }), expect: UNAVAILABLE },
  { name: 'HTTP 429', request: introspected({ json: { error: 'slow_down' }, status: 429 }), expect: UNAVAILABLE },
  { name: 'HTTP 400 unsupported_token_type (what oidc-provider answers for a JWT)', request: introspected({ json: { error: 'unsupported_token_type', error_description: 'Structured JWT Tokens cannot be introspected via the introspection_endpoint' }, status: 400 }), expect: refused('ERR_TOKEN_INACTIVE') },
  { name: 'HTTP 400 invalid_token', request: introspected({ json: { error: 'invalid_token' }, status: 400 }), expect: refused('ERR_TOKEN_INACTIVE') },
  { name: 'HTTP 400 invalid_request naming the token', request: introspected({ json: { error: 'invalid_request', error_description: 'the token is malformed' }, status: 400 }), expect: refused('ERR_TOKEN_INACTIVE') },
  { name: 'HTTP 400 invalid_token with a non-boolean "active" next to it', request: introspected({ json: { error: 'invalid_token', active: 'maybe' }, status: 400 }), expect: refused('ERR_TOKEN_INACTIVE') },
  { name: 'a redirect to the attacker (not followed)', request: (ctx) => introspected({ redirect: `${ctx.attacker.origin}/introspect` })(ctx), expect: UNAVAILABLE },
  { name: 'an endpoint that never answers (timeout)', options: () => ({ ...INTROSPECTION, timeout: 150 }), request: introspected({ hang: true }), expect: UNAVAILABLE },
  { name: 'a "signed" RFC 9701 response that is garbage', request: introspected({ text: 'eyJhbGciOiJub25lIn0.eyJhY3RpdmUiOnRydWV9.', contentType: 'application/token-introspection+jwt' }), expect: UNAVAILABLE },
  { name: 'control: active true with this audience', request: active({ aud: RESOURCE }), expect: OK },
]).map((c) => ({ options: withIntrospection, ...c }))

// ---------------------------------------------------------------------------------------------------------------
const withMetadata = (doc: (ctx: HostileContext) => Parameters<HostileContext['metadata']>[0]) => async (ctx: HostileContext) => {
  ctx.metadata(doc(ctx))
  return ctx.bearer(await ctx.token())
}
const withJwks = (answer: (ctx: HostileContext) => Parameters<HostileContext['jwks']>[0]) => async (ctx: HostileContext) => {
  ctx.jwks(answer(ctx))
  return ctx.bearer(await ctx.token())
}
const meta = (ctx: HostileContext, extra: Record<string, unknown>) => ({ json: { ...ctx.idp.metadata, ...extra } })
const octKid = 'shared-secret'
const octSecret = 'c2hhcmVkLXNlY3JldC1zaGFyZWQtc2VjcmV0LTEyMzQ'
const idpMetadata: HostileCase[] = group('idp-metadata', [
  { name: 'metadata naming another issuer (RFC 8414 §3.3 mix-up)', request: withMetadata((ctx) => meta(ctx, { issuer: 'https://evil.example' })), expect: UNAVAILABLE },
  { name: 'metadata issuer with a trailing slash', request: withMetadata((ctx) => meta(ctx, { issuer: `${ctx.idp.issuer}/` })), expect: UNAVAILABLE },
  { name: 'jwks_uri over http on a non-loopback host', request: withMetadata((ctx) => meta(ctx, { jwks_uri: 'http://keys.example.net/jwks' })), expect: UNAVAILABLE },
  { name: 'jwks_uri with a file: scheme', request: withMetadata((ctx) => meta(ctx, { jwks_uri: 'file:///etc/passwd' })), expect: UNAVAILABLE },
  { name: 'jwks_uri a number', request: withMetadata((ctx) => meta(ctx, { jwks_uri: 443 })), expect: UNAVAILABLE },
  { name: 'jwks_uri missing', request: withMetadata((ctx) => meta(ctx, { jwks_uri: undefined })), expect: UNAVAILABLE },
  { name: 'jwks_uri on another https host that is down', request: withMetadata((ctx) => meta(ctx, { jwks_uri: `${FAR_HOST}/jwks` })), expect: UNAVAILABLE },
  { name: 'a 1 MB metadata document', request: withMetadata(() => ({ bytes: 1024 * 1024 })), expect: UNAVAILABLE },
  { name: 'an HTML metadata document', request: withMetadata(() => ({ text: '<!doctype html><title>Sign in</title>', contentType: 'text/html' })), expect: UNAVAILABLE },
  { name: 'a JSON array as metadata', request: withMetadata((ctx) => ({ json: [ctx.idp.metadata] })), expect: UNAVAILABLE },
  { name: 'metadata redirecting to the attacker (not followed)', request: withMetadata((ctx) => ({ redirect: `${ctx.attacker.origin}/.well-known/oauth-authorization-server` })), expect: UNAVAILABLE },
  { name: 'metadata HTTP 500', request: withMetadata(() => ({ json: {}, status: 500 })), expect: UNAVAILABLE },
  { name: 'an HTML JWKS', request: withJwks(() => ({ text: '<html>', contentType: 'text/html' })), expect: UNAVAILABLE },
  { name: 'a 1 MB JWKS', request: withJwks(() => ({ bytes: 1024 * 1024 })), expect: UNAVAILABLE },
  { name: 'a JWKS redirecting to the attacker (not followed)', request: withJwks((ctx) => ({ redirect: `${ctx.attacker.origin}/jwks` })), expect: UNAVAILABLE },
  { name: 'a JWKS whose "keys" is not an array', request: withJwks(() => ({ json: { keys: { kty: 'EC' } } })), expect: UNAVAILABLE },
  { name: 'a JWKS that never answers (timeout)', options: () => ({ timeout: 150 }), request: withJwks(() => ({ hang: true })), expect: UNAVAILABLE },
  { name: 'an empty JWKS', request: withJwks(() => ({ json: { keys: [] } })), expect: refused('ERR_TOKEN_KEY_NOT_FOUND') },
  {
    name: 'a JWKS publishing a symmetric key, token HS256 with it',
    request: async (ctx) => {
      ctx.jwks({ json: { keys: [...(ctx.idp.jwks() as { keys: unknown[] }).keys, { kty: 'oct', kid: octKid, alg: 'HS256', k: octSecret }] } })
      const token = await new SignJWT(ctx.claims()).setProtectedHeader({ alg: 'HS256', kid: octKid, typ: 'at+jwt' }).sign(Buffer.from(octSecret, 'base64url'))
      return ctx.bearer(token)
    },
    expect: refused('ERR_TOKEN_ALGORITHM'),
  },
  {
    name: 'a JWKS publishing a symmetric key under the kid an ES256 token names',
    request: async (ctx) => {
      ctx.jwks({ json: { keys: [{ kty: 'oct', kid: octKid, k: octSecret }] } })
      return ctx.bearer(await ctx.raw({ alg: 'ES256', kid: octKid, typ: 'at+jwt' }, ctx.claims()))
    },
    expect: refused('ERR_TOKEN_KEY_NOT_FOUND'),
  },
  {
    name: 'introspection_endpoint over http on a non-loopback host',
    options: withIntrospection,
    request: (ctx) => {
      ctx.metadata(meta(ctx, { introspection_endpoint: 'http://introspect.example.net/introspect' }))
      return ctx.bearer(opaque())
    },
    expect: UNAVAILABLE,
  },
])

// ---------------------------------------------------------------------------------------------------------------
const MISSING = refused('ERR_MISSING_TOKEN')
const requestTarget: HostileCase[] = group('request-target', [
  { name: 'POST /mcp', request: () => noToken('/mcp'), expect: MISSING },
  { name: '/MCP (case-insensitive routers)', request: () => noToken('/MCP'), expect: MISSING },
  { name: '/mcp/ (trailing slash)', request: () => noToken('/mcp/'), expect: MISSING },
  { name: '//mcp (an empty first segment, not an authority)', request: () => noToken('//mcp'), expect: MISSING },
  { name: '/%6Dcp (percent-encoded letter)', request: () => noToken('/%6Dcp'), expect: MISSING },
  { name: '/%6d%63%70 (fully encoded)', request: () => noToken('/%6d%63%70'), expect: MISSING },
  { name: '/x/../mcp (dot segments)', request: () => noToken('/x/../mcp'), expect: MISSING },
  { name: '/%2e%2e/mcp (encoded dot segments)', request: () => noToken('/%2e%2e/mcp'), expect: MISSING },
  { name: '/mcp/./ (dot segment at the end)', request: () => noToken('/mcp/./'), expect: MISSING },
  { name: '/mcp%2F (encoded slash)', request: () => noToken('/mcp%2F'), expect: MISSING },
  { name: '/mcp;jsessionid=1 (path parameter)', request: () => noToken('/mcp;jsessionid=1'), expect: MISSING },
  { name: '/mcp#frag (a raw fragment Express routes to /mcp)', request: () => noToken('/mcp#frag'), expect: MISSING },
  // @hono/node-server refuses a backslash in the target with a bare 400 before any handler runs; elsewhere it is /mcp.
  { name: '/mcp\\ (backslash)', request: () => noToken('/mcp\\'), expect: { status: [401, 400] } },
  { name: '/mcp?x=1', request: () => noToken('/mcp?x=1'), expect: MISSING },
  { name: '/mcp/sub/path', request: () => noToken('/mcp/sub/path'), expect: MISSING },
  { name: 'absolute-form request target naming another host', request: () => noToken('http://evil.example/mcp'), expect: MISSING },
  { name: 'GET /mcp (SSE stream)', request: () => noToken('/mcp', 'GET'), expect: MISSING },
  { name: 'DELETE /mcp (session end)', request: () => noToken('/mcp', 'DELETE'), expect: MISSING },
  { name: 'HEAD /mcp', request: () => noToken('/mcp', 'HEAD'), expect: MISSING },
  { name: 'OPTIONS /mcp that is not a CORS preflight', request: () => noToken('/mcp', 'OPTIONS'), expect: MISSING },
  { name: 'a forged Host header does not move resource_metadata', request: () => noToken('/mcp', 'POST', { host: 'evil.example' }), expect: MISSING },
  { name: 'forged X-Forwarded-Host/Proto do not move resource_metadata', request: () => noToken('/mcp', 'POST', { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http', forwarded: 'host=evil.example' }), expect: MISSING },
  { name: 'a forged X-Forwarded-Prefix does not unprotect the path (trustProxy is off)', request: () => noToken('/mcp', 'POST', { 'x-forwarded-prefix': '/public', forwarded: 'proto=https;host=evil.example' }), expect: MISSING },
  { name: '/mcpx (a sibling path, not ours)', request: () => noToken('/mcpx'), expect: NOT_SERVED },
  { name: '/mcp%00 (NUL, routed nowhere)', request: () => noToken('/mcp%00'), expect: NOT_SERVED },
  { name: 'POST to the metadata URL → 405', request: () => noToken('/.well-known/oauth-protected-resource/mcp'), expect: { status: 405 } },
  { name: 'control: GET the metadata URL', request: () => noToken('/.well-known/oauth-protected-resource/mcp', 'GET'), expect: OK },
])

export const cases: HostileCase[] = [
  ...authorizationHeader,
  ...jwtStructure,
  ...algorithmsAndKeys,
  ...claims,
  ...issuerAudience,
  ...tokenType,
  ...introspection,
  ...idpMetadata,
  ...requestTarget,
]
