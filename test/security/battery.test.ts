/**
 * The hostile-input battery (cases.ts) against the core directly and against every adapter host
 * (test/adapters/hosts.ts). Besides each case's status and challenge, every answer must hold the invariants:
 * no 5xx except a 503 for an outage the case injects, no request to an attacker-chosen URL, the token never echoed, nothing polluted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js'
import { extractWWWAuthenticateParams as extractV2 } from '@modelcontextprotocol/client'
import { createMcpAuth, type McpAuthErrorCode, type McpAuthEvent, type McpAuthOptions } from '@mcp-oauth/core'
import { startTestIssuer, type TestIssuer } from '../helpers/test-issuer.js'
import { hosts as adapterHosts } from '../adapters/hosts.js'
import { send } from '../adapters/http-client.js'
import { cases as tokenCases, type Category, type HostileCase } from './cases.js'
import { dpopCases } from './dpop-cases.js'
import {
  FAR_HOST, INTROSPECTION, METADATA_URL, RESOURCE, baseOptions, makeContext, recordingFetch, startAttacker, type Attacker, type HostileRequest,
} from './context.js'

const cases: HostileCase[] = [...tokenCases, ...dpopCases]

interface Answer {
  status: number
  headers: Record<string, string | undefined>
  body: string
}

interface Started {
  send(request: HostileRequest): Promise<Answer>
  close(): Promise<void>
}

interface BatteryHost {
  name: string
  start(options: McpAuthOptions): Promise<Started>
}

/** The core on its own: `handle()` with a fetch `Headers` (repeated fields joined by ", "), as an adapter calls it. */
const coreHost: BatteryHost = {
  name: 'core',
  async start(options) {
    const auth = createMcpAuth(options)
    return {
      async send({ method = 'POST', path = '/mcp', headers = {} }) {
        const h = new Headers()
        for (const [name, value] of Object.entries(headers)) for (const v of [value].flat()) h.append(name, v)
        const outcome = await auth.handle({ method, url: path, headers: h })
        if (outcome.type === 'respond') return { status: outcome.response.status, headers: { ...outcome.response.headers }, body: outcome.response.body }
        if (outcome.type === 'authenticated') return { status: 200, headers: {}, body: JSON.stringify({ clientId: outcome.auth.clientId }) }
        return { status: 404, headers: {}, body: '' }
      },
      close: async () => {},
    }
  },
}

const networkHosts: BatteryHost[] = adapterHosts.map((host) => ({
  name: host.name,
  async start(options) {
    const running = await host.start({ ...options, resource: RESOURCE })
    return {
      send: async ({ method = 'POST', path = '/mcp', headers = {} }) => {
        const res = await send(running.url, method, path, headers)
        return { status: res.status, headers: res.headers, body: res.text }
      },
      close: () => running.close(),
    }
  },
}))

/** The core again, with JWS signatures checked by jose/WebCrypto (what Workers, Deno and browsers run) instead of node:crypto. */
const coreViaJose: BatteryHost = {
  name: 'core (jose/WebCrypto)',
  start: (options) => coreHost.start({ ...options, nativeCrypto: false }),
}

/** The core with every signature checked synchronously, and with every one on libuv's thread pool (nativeCrypto). */
const coreInline: BatteryHost = { name: 'core (node:crypto inline)', start: (options) => coreHost.start({ ...options, nativeCrypto: 'inline' }) }
const corePool: BatteryHost = { name: 'core (node:crypto thread pool)', start: (options) => coreHost.start({ ...options, nativeCrypto: 'thread-pool' }) }

const allHosts: BatteryHost[] = [coreHost, coreViaJose, coreInline, corePool, ...networkHosts]

let idp: TestIssuer
let attacker: Attacker
beforeAll(async () => {
  idp = await startTestIssuer()
  attacker = await startAttacker()
})
afterAll(async () => {
  await idp.close()
  await attacker.close()
})

/** Every credential the request carries, to look for in the answer. */
function credentials(request: HostileRequest): string[] {
  const out: string[] = []
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    for (const v of [value].flat()) {
      if (name === 'authorization' || name === 'proxy-authorization') out.push(v.slice(v.indexOf(' ') + 1))
      else if (name === 'cookie') out.push(v.slice(v.indexOf('=') + 1))
      else if (name === 'x-access-token') out.push(v)
    }
  }
  const query = request.path?.split('?')[1]
  if (query) for (const [k, v] of new URLSearchParams(query)) if (k === 'access_token') out.push(v)
  // A short string ("abc") could appear by chance; every token the battery forges that matters is longer.
  return out.filter((t) => t.length >= 16)
}

const statuses = (c: HostileCase): readonly number[] => [c.expect.status].flat()

/** Compact JOSE (a JWS or a JWE): a first segment that is base64url of a JSON object, then a dot. */
function joseShaped(request: HostileRequest): boolean {
  const header = [request.headers?.authorization ?? ''].flat()[0]!
  const token = header.slice(header.indexOf(' ') + 1)
  const first = token.split('.')[0]!
  if (!token.includes('.') || !/^[A-Za-z0-9_-]+$/.test(first)) return false
  try {
    const json: unknown = JSON.parse(Buffer.from(first, 'base64url').toString('utf8'))
    return json !== null && typeof json === 'object' && !Array.isArray(json)
  } catch {
    return false
  }
}

async function run(host: BatteryHost, c: HostileCase, mode: { auto?: boolean } = {}): Promise<void> {
  const ctx = makeContext(idp, attacker)
  const outbound = recordingFetch()
  const events: McpAuthEvent[] = []
  const options: McpAuthOptions = {
    ...baseOptions(idp, outbound.fetch), ...(mode.auto ? INTROSPECTION : {}), ...c.options?.(ctx), onEvent: (e) => events.push(e),
  }
  const request = await c.request(ctx)
  const attackerBefore = attacker.count
  const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).length
  const started = await host.start(options)
  let answer: Answer
  try {
    answer = await started.send(request)
  } finally {
    await started.close()
    idp.route = undefined
  }

  const code = events.findLast((e): e is Extract<McpAuthEvent, { type: 'rejected' }> => e.type === 'rejected')?.code
  const where = `${c.name}: ${answer.status} ${answer.headers['www-authenticate'] ?? ''} ${answer.body.slice(0, 200)} (code ${code})`
  expect(statuses(c), where).toContain(answer.status)
  // No hostile input ever yields a 5xx: a 503 only for an outage the case itself injects.
  if (answer.status >= 500) expect(answer.status === 503 && c.expect.outage === true, `${where}: a 5xx without an injected outage`).toBe(true)
  if (c.expect.code && !mode.auto) expect(code, where).toBe(c.expect.code)
  if (mode.auto && joseShaped(request)) {
    // tokenFormat 'auto': a JOSE-shaped token is judged locally, whatever it is; introspection is for the others.
    expect(outbound.urls.filter((u) => u.endsWith('/introspect')), `${where}: a JOSE-shaped token was introspected`).toEqual([])
  }

  const challenge = answer.headers['www-authenticate']
  // A host's HTTP layer may refuse a target outright (a bare 400) where the case allows it; the core never does.
  const refusedByServer = answer.status === 400 && challenge === undefined && c.expect.error === undefined && host.name !== 'core'
  if ([400, 401, 403].includes(answer.status) && !refusedByServer) {
    // Bearer first, with DPoP beside it on a 401 (RFC 9449 §7.2); or DPoP alone when it is required.
    expect(challenge, where).toMatch(/^Bearer (error="[a-z_]+", error_description="[^"\\\r\n]*", )?resource_metadata="[^"\\\r\n]+"(, scope="[^"\\\r\n]+")?(, DPoP (error="[a-z_]+", error_description="[^"\\\r\n]*", )?algs="[A-Za-z0-9 ]+")?$|^DPoP (error="[a-z_]+", error_description="[^"\\\r\n]*", )?resource_metadata="[^"\\\r\n]+"(, scope="[^"\\\r\n]+")?, algs="[A-Za-z0-9 ]+"$/)
    // The SDK 1.32 client reads Bearer-first challenges; the SDK v2 client (the one that speaks DPoP) both.
    const parse = challenge!.startsWith('DPoP ') ? extractV2 : extractWWWAuthenticateParams
    const parsed = parse(new Response(null, { status: answer.status, headers: { 'www-authenticate': challenge! } }))
    // A forged Host or X-Forwarded-* never moves the metadata URL.
    expect(parsed.resourceMetadataUrl?.href, where).toBe(METADATA_URL)
    if (c.expect.error !== undefined) expect(parsed.error ?? null, where).toBe(c.expect.error)
    expect(answer.headers['access-control-expose-headers'], where).toMatch(/WWW-Authenticate/)
  } else if (answer.status === 503) {
    expect(challenge, where).toBeUndefined()
    expect(Number(answer.headers['retry-after']), where).toBeGreaterThan(0)
  }

  // Nothing an attacker names is ever fetched; the only hosts asked are the trusted issuer and hosts its metadata names.
  expect(attacker.count - attackerBefore, `${where}: attacker asked for ${attacker.paths.slice(attackerBefore).join(', ')}`).toBe(0)
  for (const url of outbound.urls) {
    expect(url.startsWith(`${idp.origin}/`) || url.startsWith(`${FAR_HOST}/`), `${where}: fetched ${url}`).toBe(true)
  }
  // The token is never echoed, in a header or in the body.
  const text = `${JSON.stringify(answer.headers)}\n${answer.body}`
  for (const token of credentials(request)) expect(text.includes(token), `${where}: token echoed`).toBe(false)
  // No claim or header of a token reached Object.prototype.
  expect(Object.getOwnPropertyNames(Object.prototype).length, where).toBe(prototypeKeys)
  expect(({} as Record<string, unknown>).polluted, where).toBeUndefined()
}

describe('the case table', () => {
  it('has at least 60 cases, every category, unique names', () => {
    expect(cases.length).toBeGreaterThanOrEqual(60)
    const categories = new Set<Category>(cases.map((c) => c.category))
    expect([...categories].sort()).toEqual([
      'algorithms-keys', 'authorization-header', 'claims', 'dpop', 'idp-metadata', 'introspection', 'issuer-audience', 'jwt-structure',
      'request-target', 'token-type',
    ])
    expect(new Set(cases.map((c) => `${c.category}/${c.name}`)).size).toBe(cases.length)
  })

  it('allows a 503 only where the case injects an outage of the IdP', () => {
    for (const c of cases) {
      if (statuses(c).some((s) => s >= 500)) expect(c.expect.outage && ['introspection', 'idp-metadata'].includes(c.category), c.name).toBe(true)
    }
  })
})

describe.each(allHosts)('hostile battery on $name', (host) => {
  it.each(cases.map((c) => [`[${c.category}] ${c.name}`, c] as const))('%s', async (_name, c) => {
    await run(host, c)
  })
})

/**
 * The token cases again with introspection configured (`tokenFormat: 'auto'`, what a production IdP with an
 * introspection endpoint gives): the same status and challenge, never a 503, and no JOSE-shaped token ever
 * reaches introspection (issue 12). A token that is not JOSE-shaped is introspected (the test issuer answers
 * `active: false`), so only the code may differ. On the core with both crypto paths; test/e2e/production-idp.test.ts
 * runs the issue's tokens on every host against the real dev IdP.
 */
const TOKEN_CATEGORIES = new Set<Category>(['jwt-structure', 'algorithms-keys', 'claims', 'issuer-audience', 'token-type'])
const autoCases = cases.filter((c) => c.options === undefined && TOKEN_CATEGORIES.has(c.category))
describe.each([coreHost, coreViaJose])('hostile battery in auto mode on $name', (host) => {
  it.each(autoCases.map((c) => [`[${c.category}] ${c.name}`, c] as const))('%s', async (_name, c) => {
    await run(host, c, { auto: true })
  })
})

describe('bounded work under a flood (core)', () => {
  it('a flood of unknown kids costs at most one JWKS refetch', async () => {
    const own = await startTestIssuer()
    try {
      const auth = createMcpAuth({ resource: RESOURCE, issuer: own.issuer })
      const now = Math.floor(Date.now() / 1000)
      const answers = await Promise.all(Array.from({ length: 300 }, async (_, i) => {
        const token = await own.signRaw({ alg: 'ES256', kid: `flood-${i}`, typ: 'at+jwt' }, { iss: own.issuer, aud: RESOURCE, exp: now + 60 })
        return auth.handle({ method: 'POST', url: '/mcp', headers: new Headers({ authorization: `Bearer ${token}` }) })
      }))
      const codes = new Set(answers.map((a) => (a.type === 'respond' ? a.error?.code : a.type)))
      expect([...codes]).toEqual(['ERR_TOKEN_KEY_NOT_FOUND'])
      expect(own.counts.jwks).toBeLessThanOrEqual(2)
      expect(own.counts.metadata).toBe(1)
    } finally {
      await own.close()
    }
  })

  it('untrusted issuers in a flood of tokens cause no outbound request at all', async () => {
    const own = await startTestIssuer()
    try {
      const auth = createMcpAuth({ resource: RESOURCE, issuer: own.issuer })
      const before = attacker.count
      for (let i = 0; i < 200; i++) {
        const token = await own.signRaw({ alg: 'ES256', kid: own.keys[0]!.kid, jku: `${attacker.origin}/${i}` }, { iss: `${attacker.origin}/t${i}`, aud: RESOURCE, exp: 4e9 })
        const outcome = await auth.handle({ method: 'POST', url: '/mcp', headers: new Headers({ authorization: `Bearer ${token}` }) })
        expect(outcome.type === 'respond' && outcome.error?.code).toBe('ERR_TOKEN_ISSUER' satisfies McpAuthErrorCode)
      }
      expect(attacker.count).toBe(before)
      expect(own.counts.total).toBe(0)
    } finally {
      await own.close()
    }
  })
})

describe.each(networkHosts)('per-tool policy cannot be skipped by a path variant on $name', (host) => {
  it.each([
    ['/mcp', 'application/json'], ['/mcp?x=1', 'application/json'], ['/MCP', 'application/json'], ['/mcp/', 'application/json'],
    ['/mcp#x', 'application/json'], ['/mcp;a=b', 'application/json'], ['//mcp', 'application/json'],
    // Media types are case-insensitive (RFC 9110 §8.3.1): a reader that skips this body would skip the policy.
    ['/mcp', 'Application/JSON; charset=UTF-8'],
  ])('tools/call "deploy" at %s (%s) without mcp:admin → 403', async (path, contentType) => {
    const ctx = makeContext(idp, attacker)
    const token = await ctx.token({ scope: 'mcp:tools' })
    const started = await adapterHosts.find((h) => h.name === host.name)!.start({
      ...baseOptions(idp, globalThis.fetch), resource: RESOURCE, policy: { tools: { deploy: ['mcp:admin'] } },
    })
    try {
      const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'deploy', arguments: {} } })
      const res = await send(started.url, 'POST', path, { authorization: `Bearer ${token}`, 'content-type': contentType, accept: 'application/json, text/event-stream' }, body)
      expect(res.status, `${path}: ${res.text}`).toBe(403)
      expect(res.headers['www-authenticate']).toMatch(/error="insufficient_scope"/)
      expect(res.headers['www-authenticate']).toMatch(/scope="[^"]*mcp:admin[^"]*"/)
    } finally {
      await started.close()
      idp.route = undefined
    }
  })
})

describe('work done before the token is checked is bounded', () => {
  // Regression (found by this battery, see SECURITY.md "Request bodies"): with a `policy`, the fetch handler
  // read the whole JSON body before looking at the token, with no size limit. It now stops at 4 MB.
  it('a tokenless POST with an endless JSON body is refused without reading more than 8 MB of it', async () => {
    const auth = createMcpAuth({ ...baseOptions(idp, globalThis.fetch), policy: { tools: { deploy: ['mcp:admin'] } } })
    let pulled = 0
    const limit = 64 * 1024 * 1024
    const chunk = new TextEncoder().encode(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"deploy","pad":"${'a'.repeat(1024 * 1024)}`)
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= limit) return controller.close()
        pulled += chunk.byteLength
        controller.enqueue(chunk)
      },
    })
    const handler = auth.fetch(() => new Response('reached'))
    const res = await handler(new Request('https://mcp.example.com/mcp', { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit))
    // 413 once the 4 MB cap is passed (the body is read before the token to know the tool's scopes).
    expect(res.status).toBe(413)
    expect(pulled).toBeLessThanOrEqual(8 * 1024 * 1024)
  })
})
