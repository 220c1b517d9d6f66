/**
 * The synchronous hot path (issue 18): a cached token is decided without a promise (`handleNow`), a request
 * naming a session bound in memory is checked with a lookup and no promise, the CORS headers go only where a
 * browser asked (a request with `Origin`), and the signature path is chosen per key (inline or on libuv's
 * thread pool) with the same answers either way.
 */
import { execFileSync } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMcpAuth, McpAuthConfigError, requestLikeFromNode, type McpAuthOutcome } from '@mcp-oauth/core'
import { importJWK } from 'jose'
import { chosenPath, verifyJwsNative } from '../../packages/core/src/token/jws-node.js'
import { TokenCache } from '../../packages/core/src/token/cache.js'
import { SessionStage } from '../../packages/core/src/mcp/session-stage.js'
import { MemorySessionStore, KeyValueSessionStore } from '../../packages/core/src/mcp/session-binding.js'
import { MemoryStore } from '../../packages/core/src/store.js'
import { makeKey, startTestIssuer, type TestIssuer, type Alg } from '../helpers/test-issuer.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

const RESOURCE = 'http://127.0.0.1:45690/mcp'
let idp: TestIssuer

beforeAll(async () => {
  idp = await startTestIssuer()
})
afterAll(() => idp.close())

function request(token: string, headers: Record<string, string> = {}, body: unknown = { jsonrpc: '2.0', id: 1, method: 'tools/list' }) {
  const all = { host: '127.0.0.1:45690', 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers }
  return requestLikeFromNode({ method: 'POST', url: '/mcp', headers: all, body })
}

describe('requestLikeFromNode', () => {
  it('reads each property of the request once, however many headers are asked for (Express gives every request its own hidden class)', () => {
    const reads: string[] = []
    const headers = { host: 'h', authorization: 'Bearer abc', 'mcp-session-id': 's' }
    const target = { method: 'POST', url: '/mcp', originalUrl: '/mcp', headers, rawHeaders: Object.entries(headers).flat(), body: { id: 1 } }
    const req = new Proxy(target, { get: (t, key) => { reads.push(String(key)); return t[key as keyof typeof t] } })
    const like = requestLikeFromNode(req)
    for (let i = 0; i < 3; i++) {
      expect(like.headers.get('authorization')).toBe('Bearer abc')
      expect(like.headers.get('Mcp-Session-Id')).toBe('s')
      expect(like.headers.get('mcp-protocol-version')).toBeNull()
    }
    expect(reads.sort()).toEqual(['body', 'headers', 'method', 'originalUrl', 'rawHeaders'])
    reads.length = 0
    // A body the caller already read is not read again.
    requestLikeFromNode(req, target.body)
    expect(reads).not.toContain('body')
  })
})

describe('handleNow', () => {
  it('a cached token is decided synchronously; the first uses (misses) and handle() are promises', async () => {
    const auth = createMcpAuth({ resource: RESOURCE, issuer: idp.issuer })
    const token = await idp.sign({ aud: RESOURCE })
    // A JWT is cached from its second use.
    for (let i = 0; i < 2; i++) {
      const first = auth.handleNow(request(token), { body: { jsonrpc: '2.0', id: 1, method: 'tools/list' } })
      expect(first).toBeInstanceOf(Promise)
      expect((await first).type).toBe('authenticated')
    }
    const hit = auth.handleNow(request(token), { body: { jsonrpc: '2.0', id: 1, method: 'tools/list' } })
    expect(hit).not.toBeInstanceOf(Promise)
    expect((hit as McpAuthOutcome).type).toBe('authenticated')
    expect(auth.handle(request(token))).toBeInstanceOf(Promise)
  })

  it('refusals with nothing to wait for are synchronous too, with the same answer as handle()', async () => {
    const auth = createMcpAuth({ resource: RESOURCE, issuer: idp.issuer })
    const none = requestLikeFromNode({ method: 'POST', url: '/mcp', headers: { host: '127.0.0.1:45690' } })
    const now = auth.handleNow(none) as McpAuthOutcome
    expect(now.type).toBe('respond')
    expect(now).toEqual(await auth.handle(none))
    expect(now.type === 'respond' && now.response.status).toBe(401)
  })

  it('a request naming a session bound in memory: checked without a promise; another user gets 404 at once', async () => {
    const auth = createMcpAuth({ resource: RESOURCE, issuer: idp.issuer })
    const alice = await idp.sign({ aud: RESOURCE, sub: 'alice' })
    const mallory = await idp.sign({ aud: RESOURCE, sub: 'mallory' })
    await auth.handle(request(alice))
    const outcome = await auth.handle(request(alice))
    if (outcome.type !== 'authenticated') throw new Error('alice refused')
    await auth.bindSession('s-1', outcome.auth)
    await auth.handle(request(mallory))
    await auth.handle(request(mallory))
    const mine = auth.handleNow(request(alice, { 'mcp-session-id': 's-1' }), { body: { jsonrpc: '2.0', id: 2, method: 'tools/list' } })
    expect(mine).not.toBeInstanceOf(Promise)
    expect((mine as McpAuthOutcome).type).toBe('authenticated')
    const theirs = auth.handleNow(request(mallory, { 'mcp-session-id': 's-1' }), { body: { jsonrpc: '2.0', id: 2, method: 'tools/list' } })
    expect(theirs).not.toBeInstanceOf(Promise)
    expect((theirs as McpAuthOutcome).type === 'respond' && (theirs as { response: { status: number } }).response.status).toBe(404)
  })

  it('the session stage answers in memory synchronously and on a store that is not in memory with a promise', async () => {
    const info = { token: 't', clientId: 'c', scopes: [] }
    expect(new SessionStage(new MemorySessionStore()).check('s', info)).toBeUndefined()
    const remote = new SessionStage(new KeyValueSessionStore(new MemoryStore()))
    const pending = remote.check('s', info)
    expect(pending).toBeInstanceOf(Promise)
    await pending
  })
})

describe('what a cache hit skips', () => {
  const isB64Token = (re: RegExp) => re.source === String.raw`^[A-Za-z0-9\-._~+/]+=*$`

  it('the token\'s b64token syntax is checked on a miss, not on a cache hit (whose key is the SHA-256 of a token that passed it)', async () => {
    const auth = createMcpAuth({ resource: RESOURCE, issuer: idp.issuer })
    const token = await idp.sign({ aud: RESOURCE })
    const calls: RegExp[] = []
    const test = RegExp.prototype.test
    RegExp.prototype.test = function (this: RegExp, s: string) {
      calls.push(this)
      return test.call(this, s)
    }
    try {
      expect((await auth.handle(request(token))).type).toBe('authenticated')
      expect((await auth.handle(request(token))).type).toBe('authenticated')
      expect(calls.filter(isB64Token)).toHaveLength(2)
      calls.length = 0
      expect((auth.handleNow(request(token)) as McpAuthOutcome).type).toBe('authenticated')
      expect(calls.filter(isB64Token)).toHaveLength(0)
    } finally {
      RegExp.prototype.test = test
    }
  })

  it('a malformed token is still refused with 400 invalid_request, first time and every time', async () => {
    const auth = createMcpAuth({ resource: RESOURCE, issuer: idp.issuer })
    const token = await idp.sign({ aud: RESOURCE })
    for (const bad of [`${token}!`, `${token}, ${token}`, 'a b']) {
      for (let i = 0; i < 2; i++) {
        const outcome = auth.handleNow(request(bad)) as McpAuthOutcome
        expect(outcome.type === 'respond' && outcome.response.status).toBe(400)
        expect(outcome.type === 'respond' && outcome.response.headers['www-authenticate']).toContain('error="invalid_request"')
      }
    }
    // extractCredentials (public) still checks the syntax itself.
    const { extractCredentials } = await import('@mcp-oauth/core')
    expect(() => extractCredentials(request(`${token}!`), 8192, false)).toThrow(/not allowed by RFC 6750/)
  })

  it('an outcome waiting for its body carries that state privately: not enumerable, not copied by a spread', async () => {
    const auth = createMcpAuth({ resource: RESOURCE, issuer: idp.issuer })
    const token = await idp.sign({ aud: RESOURCE })
    await auth.handle(request(token))
    await auth.handle(request(token))
    const modern = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' }
    const outcome = auth.handleNow(request(token, modern, undefined), { bodyPending: true }) as McpAuthOutcome
    if (outcome.type !== 'authenticated') throw new Error('refused')
    expect(Object.keys(outcome).sort()).toEqual(['auth', 'decidedBy', 'mayCreateSession', 'needsBody', 'requests', 'revision', 'sessionId', 'type'])
    expect(Object.getOwnPropertySymbols(outcome)).toEqual([])
    // The body disagrees with the headers: the outcome itself is checked (400); a spread copy has nothing to check.
    const mismatch = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } }
    const checked = auth.checkBodyNow(outcome, mismatch) as McpAuthOutcome
    expect(checked.type === 'respond' && checked.response.status).toBe(400)
    const copy = { ...outcome }
    expect(auth.checkBodyNow(copy, mismatch)).toBe(copy)
  })
})

describe('the token cache\'s recency', () => {
  const info = (n: number) => ({ token: `t${n}`, clientId: 'c', scopes: [] })
  const token = (n: number) => `${'x'.repeat(60)}${String(n).repeat(20)}`

  it('a hit peeks; it moves its entry to the recent end at most once a second, so eviction is LRU to within a second', () => {
    const t0 = 1_800_000_000_000
    const cache = new TokenCache(2, 3600)
    cache.set(token(1), 'h1', { info: info(1), exp: undefined, nbf: undefined }, t0)
    cache.set(token(2), 'h2', { info: info(2), exp: undefined, nbf: undefined }, t0)
    // Within a second of being stored: the hit does not move token 1, so the third token evicts it.
    expect(cache.get(token(1), t0 + 10, 0)?.info).toEqual(info(1))
    cache.set(token(3), 'h3', { info: info(3), exp: undefined, nbf: undefined }, t0 + 20)
    expect(cache.get(token(1), t0 + 30, 0)).toBeUndefined()
    expect(cache.get(token(2), t0 + 30, 0)?.info).toEqual(info(2))

    // A second later a hit moves its entry: token 2 (hit at t0 + 1500) outlives token 3 (stored later, not hit since).
    const later = new TokenCache(2, 3600)
    later.set(token(2), 'h2', { info: info(2), exp: undefined, nbf: undefined }, t0)
    later.set(token(3), 'h3', { info: info(3), exp: undefined, nbf: undefined }, t0 + 100)
    expect(later.get(token(2), t0 + 1500, 0)?.info).toEqual(info(2))
    later.set(token(4), 'h4', { info: info(4), exp: undefined, nbf: undefined }, t0 + 1600)
    expect(later.get(token(3), t0 + 1700, 0)).toBeUndefined()
    expect(later.get(token(2), t0 + 1700, 0)?.info).toEqual(info(2))
    expect(later.get(token(4), t0 + 1700, 0)?.info).toEqual(info(4))
  })
})

describe('CORS on the handler\'s answers', () => {
  const fakeResponse = (origin?: string) => {
    const set: Record<string, string> = {}
    return {
      set,
      res: {
        req: { headers: origin ? { origin } : {} },
        writeHead: () => undefined, write: () => true, end: () => undefined,
        getHeader: (name: string) => set[name], setHeader: (name: string, value: string) => { set[name] = value },
      },
    }
  }

  it('only when the request carries Origin (a browser\'s); without cors: never', async () => {
    const auth = createMcpAuth({ resource: RESOURCE, issuer: idp.issuer })
    const outcome = await auth.handle(request(await idp.sign({ aud: RESOURCE })))
    const browser = fakeResponse('http://127.0.0.1:6274')
    auth.watchNodeResponse(outcome, browser.res)
    expect(browser.set['access-control-allow-origin']).toBe('*')
    const server = fakeResponse()
    auth.watchNodeResponse(outcome, server.res)
    expect(server.set).toEqual({})
    // A response whose request is unknown keeps them (the safe side for a browser).
    const unknown = fakeResponse('x')
    delete (unknown.res as { req?: unknown }).req
    auth.watchNodeResponse(outcome, unknown.res)
    expect(unknown.set['access-control-allow-origin']).toBe('*')
    // Given the request (as the adapters give it), its Origin decides, and `res.req` is not read.
    const withOrigin = request(await idp.sign({ aud: RESOURCE }), { origin: 'http://127.0.0.1:6274' })
    const fromRequest = fakeResponse()
    auth.watchNodeResponse(outcome, fromRequest.res, withOrigin)
    expect(fromRequest.set['access-control-allow-origin']).toBe('*')
    const notFromRequest = fakeResponse('http://127.0.0.1:6274')
    auth.watchNodeResponse(outcome, notFromRequest.res, request(await idp.sign({ aud: RESOURCE })))
    expect(notFromRequest.set).toEqual({})
    const off = createMcpAuth({ resource: RESOURCE, issuer: idp.issuer, cors: false })
    const quiet = fakeResponse('http://127.0.0.1:6274')
    off.watchNodeResponse(await off.handle(request(await idp.sign({ aud: RESOURCE }))), quiet.res)
    expect(quiet.set).toEqual({})
  })
})

describe('the signature path, per key', () => {
  const algs: Alg[] = ['RS256', 'ES256', 'EdDSA', 'PS256', 'ES384']

  it.each(algs)('%s: inline, thread-pool and auto (calibrating, then keeping one path) all agree', async (alg) => {
    const key = await makeKey(alg)
    const publicKey = await importJWK(key.publicJwk, alg) as CryptoKey
    const own = await startTestIssuer({ alg })
    try {
      own.keys.splice(0, own.keys.length, key)
      const token = await own.sign({ aud: RESOURCE })
      const [h, p, s] = token.split('.') as [string, string, string]
      const forged = `${s.slice(0, -4)}${s.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`
      expect(await verifyJwsNative!(alg, publicKey, `${h}.${p}`, s, 'inline')).toBe(true)
      expect(await verifyJwsNative!(alg, publicKey, `${h}.${p}`, forged, 'inline')).toBe(false)
      const pooled = verifyJwsNative!(alg, publicKey, `${h}.${p}`, s, 'thread-pool')
      expect(pooled).toBeInstanceOf(Promise)
      expect(await pooled).toBe(true)
      expect(await verifyJwsNative!(alg, publicKey, `${h}.${p}`, forged, 'thread-pool')).toBe(false)
      // auto: the first checks run inline (timed); after them the key has a path, and answers stay right.
      const fresh = await importJWK(key.publicJwk, alg) as CryptoKey
      for (let i = 0; i < 16; i++) expect(await verifyJwsNative!(alg, fresh, `${h}.${p}`, s)).toBe(true)
      expect(['inline', 'thread-pool']).toContain(chosenPath(fresh))
      expect(await verifyJwsNative!(alg, fresh, `${h}.${p}`, s)).toBe(true)
      expect(await verifyJwsNative!(alg, fresh, `${h}.${p}`, forged)).toBe(false)
      // A key of another family never verifies, whatever the path.
      expect(await verifyJwsNative!(alg === 'RS256' ? 'ES256' : 'RS256', publicKey, `${h}.${p}`, s, 'inline')).toBe(false)
    } finally {
      await own.close()
    }
  })

  /** `run` with a key of `alg`, its CryptoKey, and a signer of tokens (signing input and signature) with it. */
  async function withKey(alg: Alg, run: (publicKey: CryptoKey, sign: () => Promise<[string, string]>) => Promise<void>): Promise<void> {
    const key = await makeKey(alg)
    const publicKey = await importJWK(key.publicJwk, alg) as CryptoKey
    const own = await startTestIssuer({ alg })
    try {
      own.keys.splice(0, own.keys.length, key)
      await run(publicKey, async () => {
        const [h, p, s] = (await own.sign({ aud: RESOURCE })).split('.') as [string, string, string]
        return [`${h}.${p}`, s]
      })
    } finally {
      await own.close()
    }
  }

  it('inline checks queued in one turn run together in the next check phase, and each gets its own answer', async () => {
    await withKey('RS256', async (publicKey, sign) => {
      const parts = await Promise.all([1, 2, 3, 4].map(() => sign()))
      const settled: boolean[] = []
      const checks = parts.map(([input, s], i) => verifyJwsNative!('RS256', publicKey, input, i === 2 ? `${s.slice(0, -4)}${s.endsWith('AAAA') ? 'BBBB' : 'AAAA'}` : s, 'inline'))
      for (const check of checks) void check.then((ok) => settled.push(ok))
      // Nothing is checked while the turn that queued them runs, microtasks included...
      await Promise.resolve()
      await Promise.resolve()
      expect(settled).toEqual([])
      // ...and all are checked before anything scheduled after them in the check phase.
      await new Promise((resolve) => setImmediate(resolve))
      expect(settled).toEqual([true, true, false, true])
    })
  })

  it('more than 64 queued inline checks: the first 64 in one turn, the rest in the next', async () => {
    await withKey('EdDSA', async (publicKey, sign) => {
      const [input, s] = await sign()
      let done = 0
      const checks = Array.from({ length: 70 }, () => verifyJwsNative!('EdDSA', publicKey, input, s, 'inline').then((ok) => { done++; return ok }))
      await new Promise((resolve) => setImmediate(resolve))
      expect(done).toBe(64)
      expect(await Promise.all(checks)).toEqual(Array(70).fill(true))
    })
  })

  it.skipIf(!hasTaskset)('auto on a process that may use one CPU only (taskset): every key inline, no calibration', () => {
    const script = [
      "import { importJWK, generateKeyPair, exportJWK } from 'jose'",
      "import { chosenPath, verifyJwsNative } from './src/token/jws-node.ts'",
      "const { publicKey } = await generateKeyPair('ES256')",
      "const key = await importJWK(await exportJWK(publicKey), 'ES256')",
      "await verifyJwsNative('ES256', key, 'a.b', 'c')",
      "process.stdout.write(String(chosenPath(key)))",
    ].join('\n')
    const run = (cpus: string[]) => execFileSync('taskset', ['-c', ...cpus, process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], { cwd: join(ROOT, 'packages/core'), encoding: 'utf8' })
    expect(run(['0'])).toBe('inline')
    // With more CPUs the key is still being calibrated after one check.
    if (availableParallelism() > 1) expect(run(['0,1'])).toBe('undefined')
  })

  it.each(['inline', 'thread-pool', true, false] as const)('nativeCrypto %s: tokens accepted and forgeries refused through the resource server', async (nativeCrypto) => {
    const auth = createMcpAuth({ resource: RESOURCE, issuer: idp.issuer, nativeCrypto })
    const token = await idp.sign({ aud: RESOURCE })
    expect((await auth.handle(request(token))).type).toBe('authenticated')
    const forged = `${token.slice(0, -6)}${token.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA'}`
    const refused = await auth.handle(request(forged))
    expect(refused.type === 'respond' && refused.response.status).toBe(401)
    expect(auth.options.verifyPath).toBe(typeof nativeCrypto === 'string' ? nativeCrypto : 'auto')
  })

  it('a nativeCrypto that is none of these fails at start-up, saying what to write', () => {
    expect(() => createMcpAuth({ resource: RESOURCE, issuer: idp.issuer, nativeCrypto: 'fast' as never })).toThrow(McpAuthConfigError)
    expect(() => createMcpAuth({ resource: RESOURCE, issuer: idp.issuer, nativeCrypto: 'fast' as never })).toThrow(/'inline' or 'thread-pool'/)
  })
})
