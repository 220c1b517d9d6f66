/**
 * MCP 2026-07-28 request metadata (SEP-2243) on every host: the policy decided from `Mcp-Method`/`Mcp-Name`,
 * always cross-checked with the body the layer has, so a call never runs with fewer scopes than its body
 * needs; missing, malformed, badly Base64-encoded or disagreeing headers → 400 with JSON-RPC -32020 before
 * any handler runs; batches judged message by message; sessions only for 2025-11-25 requests. The last test
 * checks every host answered every case the same.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import express5 from 'express'
import { mcpAuth as expressMcpAuth } from '@mcp-oauth/express'
import { MemorySessionStore } from '@mcp-oauth/core'
import { startTestIssuer, type TestIssuer } from '../helpers/test-issuer.js'
import { hosts, view, type Host, type RunningHost } from '../adapters/hosts.js'
import { send, type RawResponse } from '../adapters/http-client.js'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

/** Express with mcpAuth in front of the body parser: the layer gets no parsed body from the app. */
const expressRaw: Host = {
  name: 'express5',
  start: async (options) => {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const resource = `${url}/mcp`
    const app = express5()
    const middleware = expressMcpAuth({ ...options, resource } as never)
    app.use(middleware)
    app.use(express5.json())
    app.route('/mcp').get((req, res) => void res.json(view(req.auth))).post((req, res) => void res.json(view(req.auth)))
    server.on('request', app)
    return {
      url, resource, auth: middleware.auth,
      close: () => new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
    }
  },
}
const allHosts = [...hosts.map((h) => ({ label: h.name, host: h })), { label: 'express5 (auth before the body parser)', host: expressRaw }]

let idp: TestIssuer
beforeAll(async () => {
  idp = await startTestIssuer()
})
afterAll(() => idp.close())

const POLICY = {
  tools: { deploy: ['mcp:admin'] },
  prompts: { secret: ['mcp:admin'] },
  resources: { 'file:///secret/*': ['mcp:admin'], 'file:///exact.txt': ['mcp:admin'] },
}
const V = '2026-07-28'
const META = { 'io.modelcontextprotocol/protocolVersion': V, 'io.modelcontextprotocol/clientCapabilities': {} }
const b64 = (s: string) => `=?base64?${Buffer.from(s, 'utf8').toString('base64')}?=`

/** A 2026-07-28 request: body with the `_meta` envelope and the headers the SDK v2 client sends. */
function modern(method: string, params: Record<string, unknown> = {}, headers: Record<string, string | undefined> = {}, id: number | undefined = 1) {
  const body = { jsonrpc: '2.0', ...(id === undefined ? {} : { id }), method, params: { ...params, _meta: META } }
  const nameField = method === 'resources/read' ? 'uri' : 'name'
  const name = ['tools/call', 'prompts/get', 'resources/read'].includes(method) ? params[nameField] as string : undefined
  const base: Record<string, string | undefined> = {
    'content-type': 'application/json', accept: 'application/json, text/event-stream',
    'mcp-protocol-version': V, 'mcp-method': method, ...(name === undefined ? {} : { 'mcp-name': name }),
  }
  const merged: Record<string, string> = {}
  for (const [k, v] of Object.entries({ ...base, ...headers })) if (v !== undefined) merged[k] = v
  return { headers: merged, body: JSON.stringify(body) }
}

const seen = new Map<string, Map<string, string>>()

describe.each(allHosts)('$label', ({ label, host }) => {
  let app: RunningHost
  let narrow: string
  let wide: string
  const store = new MemorySessionStore()
  beforeAll(async () => {
    app = await host.start({ issuer: idp.issuer, scopesSupported: ['mcp:tools'], requiredScopes: ['mcp:tools'], policy: POLICY, sessionBinding: { store } })
    narrow = await idp.sign({ aud: app.resource, scope: 'mcp:tools', sub: 'alice', client_id: 'app-1' })
    wide = await idp.sign({ aud: app.resource, scope: 'mcp:tools mcp:admin', sub: 'mallory', client_id: 'app-2' })
  })
  afterAll(() => app.close())

  async function post(name: string, token: string | undefined, req: { headers: Record<string, string>; body: string }): Promise<RawResponse> {
    const res = await send(app.url, 'POST', '/mcp', { ...req.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) }, req.body)
    const cases = seen.get(name) ?? new Map<string, string>()
    seen.set(name, cases)
    cases.set(label, JSON.stringify({ status: res.status, challenge: res.headers['www-authenticate'], text: res.text }).replaceAll(app.url, '<origin>'))
    return res
  }
  const reached = (res: RawResponse) => res.status === 200 && (res.json as { clientId?: string } | undefined)?.clientId !== undefined
  function expectMismatch(res: RawResponse, id: number | null = 1) {
    expect(res.status).toBe(400)
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    expect(res.json).toMatchObject({ jsonrpc: '2.0', id, error: { code: -32020 } })
  }

  describe('the policy from the headers', () => {
    it('a tools/call whose headers and body agree runs with the scopes its tool needs', async () => {
      expect(reached(await post('echo', narrow, modern('tools/call', { name: 'echo', arguments: {} })))).toBe(true)
      const denied = await post('deploy narrow', narrow, modern('tools/call', { name: 'deploy', arguments: {} }))
      expect(denied.status).toBe(403)
      // SEP-2350: the challenge names every scope this operation needs, in one go.
      expect(denied.headers['www-authenticate']).toMatch(/error="insufficient_scope".*scope="mcp:tools mcp:admin"(?:,|$)/)
      expect(reached(await post('deploy wide', wide, modern('tools/call', { name: 'deploy', arguments: {} })))).toBe(true)
    })

    it('the 401 of a 2026-07-28 tools/call already asks for its tool\'s scopes', async () => {
      const res = await post('deploy no token', undefined, modern('tools/call', { name: 'deploy', arguments: {} }))
      expect(res.status).toBe(401)
      expect(res.headers['www-authenticate']).toMatch(/scope="mcp:tools mcp:admin"(?:,|$)/)
    })

    it('prompts by name, resources by exact URI and by prefix', async () => {
      expect((await post('prompt secret', narrow, modern('prompts/get', { name: 'secret' }))).status).toBe(403)
      expect(reached(await post('prompt open', narrow, modern('prompts/get', { name: 'open' })))).toBe(true)
      expect((await post('resource prefix', narrow, modern('resources/read', { uri: 'file:///secret/keys.txt' }))).status).toBe(403)
      expect((await post('resource exact', narrow, modern('resources/read', { uri: 'file:///exact.txt' }))).status).toBe(403)
      expect(reached(await post('resource exact is exact', narrow, modern('resources/read', { uri: 'file:///exact.txt.bak' })))).toBe(true)
      expect(reached(await post('resource open', narrow, modern('resources/read', { uri: 'file:///public/readme' })))).toBe(true)
    })

    it('a Base64-sentinel Mcp-Name is decoded before it is used and compared', async () => {
      const res = await post('b64 deploy', narrow, modern('tools/call', { name: 'deploy', arguments: {} }, { 'mcp-name': b64('deploy') }))
      expect(res.status).toBe(403)
      const uni = await post('b64 unicode', narrow, modern('tools/call', { name: 'grüßen', arguments: {} }, { 'mcp-name': b64('grüßen') }))
      expect(reached(uni)).toBe(true)
    })

    it('server/discover needs a token like any request (it is how a 2026-07-28 client meets the 401)', async () => {
      const res = await post('discover no token', undefined, modern('server/discover'))
      expect(res.status).toBe(401)
      expect(res.headers['www-authenticate']).toMatch(/^Bearer resource_metadata="/)
      expect(reached(await post('discover', narrow, modern('server/discover')))).toBe(true)
    })
  })

  it.runIf(label !== 'express4' && label !== 'express5')('a refusal decided from the headers reads no body: 5 MB still get the 403, not the 413 of a read body', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'deploy', arguments: { pad: 'x'.repeat(5 * 1024 * 1024) }, _meta: META } })
    const res = await send(app.url, 'POST', '/mcp', { ...modern('tools/call', { name: 'deploy' }).headers, authorization: `Bearer ${narrow}` }, big)
    expect(res.status).toBe(403)
  })

  describe('headers that disagree with the body → 400 -32020, and nothing runs', () => {
    it('Mcp-Name names a harmless tool, the body calls deploy', async () => {
      expectMismatch(await post('name mismatch', narrow, modern('tools/call', { name: 'deploy', arguments: {} }, { 'mcp-name': 'echo' })))
      // Even a token that could call deploy: the body and its headers must agree.
      expectMismatch(await post('name mismatch wide', wide, modern('tools/call', { name: 'deploy', arguments: {} }, { 'mcp-name': 'echo' })))
    })

    it('Mcp-Name Base64 of another name', async () => {
      expectMismatch(await post('b64 mismatch', narrow, modern('tools/call', { name: 'deploy', arguments: {} }, { 'mcp-name': b64('echo') })))
    })

    it('Mcp-Method names another method', async () => {
      expectMismatch(await post('method mismatch', narrow, modern('tools/call', { name: 'deploy', arguments: {} }, { 'mcp-method': 'tools/list' })))
    })

    it('a resource URI that differs from the body', async () => {
      expectMismatch(await post('uri mismatch', narrow, modern('resources/read', { uri: 'file:///secret/keys.txt' }, { 'mcp-name': 'file:///public/readme' })))
    })

    it('MCP-Protocol-Version that disagrees with the body, or a modern header on a body without the envelope', async () => {
      expectMismatch(await post('version mismatch', narrow, modern('tools/call', { name: 'echo', arguments: {} }, { 'mcp-protocol-version': '2026-12-01' })))
      const legacyBody = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'deploy', arguments: {} } })
      expectMismatch(await post('modern header, legacy body', narrow, { headers: modern('tools/call', { name: 'echo' }).headers, body: legacyBody }))
    })

    it('a 2026-07-28 body with a 2025-11-25 header, or with none (judged by the body first: deploy is 403 either way)', async () => {
      for (const tool of ['echo', 'deploy']) {
        const req = modern('tools/call', { name: tool, arguments: {} })
        const { 'mcp-protocol-version': _drop, ...rest } = req.headers
        const legacyHeader = await post(`legacy header, modern body, ${tool}`, narrow, { headers: { ...req.headers, 'mcp-protocol-version': '2025-11-25' }, body: req.body })
        const noHeader = await post(`no version header, modern body, ${tool}`, narrow, { headers: rest, body: req.body })
        for (const res of [legacyHeader, noHeader]) {
          if (tool === 'echo') expectMismatch(res)
          else expect(res.status).toBe(403)
        }
      }
    })
  })

  describe('missing or malformed headers → 400 -32020', () => {
    it('no Mcp-Method on a 2026-07-28 request', async () => {
      expectMismatch(await post('no method', narrow, modern('tools/call', { name: 'echo', arguments: {} }, { 'mcp-method': undefined })))
    })

    it('no Mcp-Name on a tools/call, prompts/get or resources/read', async () => {
      expectMismatch(await post('no name', narrow, modern('tools/call', { name: 'echo', arguments: {} }, { 'mcp-name': undefined })))
      expectMismatch(await post('no name prompt', narrow, modern('prompts/get', { name: 'open' }, { 'mcp-name': undefined })))
      expectMismatch(await post('no name resource', narrow, modern('resources/read', { uri: 'file:///public/readme' }, { 'mcp-name': undefined })))
    })

    it.each([
      ['not Base64', '=?base64?not base64!?='],
      ['not canonical Base64', '=?base64?ZGVwbG95?='.replace('?=', '=?=')],
      ['not UTF-8', '=?base64?/w==?='],
      ['raw non-ASCII', 'gr\u00fc\u00dfen'],
    ])('Mcp-Name %s', async (_n, value) => {
      const res = await send(app.url, 'POST', '/mcp', { ...modern('tools/call', { name: 'grüßen', arguments: {} }).headers, 'mcp-name': value, authorization: `Bearer ${narrow}` }, modern('tools/call', { name: 'grüßen', arguments: {} }).body)
      expect(res.status).toBe(400)
      expect(res.json).toMatchObject({ error: { code: -32020 } })
    })

    it('a malformed header is refused before the token is looked at, so it costs no verification', async () => {
      expectMismatch(await post('bad b64 no token', undefined, modern('tools/call', { name: 'echo', arguments: {} }, { 'mcp-name': '=?base64?%%%?=' })), null)
    })

    it('a mismatch without a token is a 401 first (the body is only compared once the token is good)', async () => {
      const res = await post('mismatch no token', undefined, modern('tools/call', { name: 'deploy', arguments: {} }, { 'mcp-name': 'echo' }))
      expect(res.status).toBe(401)
    })
  })

  describe('batches', () => {
    it('a 2025-11-25 batch is judged message by message, never by the headers', async () => {
      const batch = JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: {} } },
        { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'deploy', arguments: {} } },
      ])
      const headers = { 'content-type': 'application/json', 'mcp-method': 'tools/call', 'mcp-name': 'echo' }
      const res = await post('legacy batch', narrow, { headers, body: batch })
      expect(res.status).toBe(403)
      expect(res.headers['www-authenticate']).toMatch(/scope="mcp:tools mcp:admin"(?:,|$)/)
      expect(reached(await post('legacy batch wide', wide, { headers, body: batch }))).toBe(true)
    })

    it('a batch with a modern header is still judged by its messages', async () => {
      const batch = JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: {} } },
        { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'deploy', arguments: {} } },
      ])
      const res = await post('batch modern header', narrow, { headers: modern('tools/call', { name: 'echo' }).headers, body: batch })
      expect(res.status).toBe(403)
    })

    it('a batch holding a 2026-07-28 message → 400 invalid request', async () => {
      const batch = JSON.stringify([JSON.parse(modern('tools/call', { name: 'echo', arguments: {} }).body)])
      const res = await post('modern batch', narrow, { headers: modern('tools/call', { name: 'echo' }).headers, body: batch })
      expect(res.status).toBe(400)
      expect(res.json).toMatchObject({ error: { code: -32600 } })
    })
  })

  describe('sessions only for 2025-11-25 requests', () => {
    it('a 2025-11-25 request with another user\'s session → 404; a 2026-07-28 request has no session to check', async () => {
      const alice = await app.auth.verifyAccessToken(narrow)
      await app.auth.bindSession('sess-alice', alice)
      const legacy = await post('legacy foreign session', wide, {
        headers: { 'content-type': 'application/json', 'mcp-session-id': 'sess-alice', 'mcp-protocol-version': '2025-11-25' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      })
      expect(legacy.status).toBe(404)
      const req = modern('tools/list')
      const res = await post('modern with a session id', wide, { headers: { ...req.headers, 'mcp-session-id': 'sess-alice' }, body: req.body })
      expect(reached(res)).toBe(true)
    })

    it('a session is never authentication: naming a bound session without a token is a 401', async () => {
      const res = await post('session without token', undefined, {
        headers: { 'content-type': 'application/json', 'mcp-session-id': 'sess-alice', 'mcp-protocol-version': '2025-11-25' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      })
      expect(res.status).toBe(401)
    })

    it('GET and DELETE are 2025-11-25 session operations whatever the version header says: the binding holds', async () => {
      await app.auth.bindSession('sess-alice-2', await app.auth.verifyAccessToken(narrow))
      for (const method of ['GET', 'DELETE']) {
        const res = await send(app.url, method, '/mcp', { authorization: `Bearer ${wide}`, 'mcp-session-id': 'sess-alice-2', 'mcp-protocol-version': V })
        expect([method, res.status, res.text]).toEqual([method, 404, expect.stringContaining('Session not found')])
      }
    })
  })
})

describe('all hosts', () => {
  it('answered every case identically', () => {
    for (const [name, byHost] of seen) {
      const answers = new Set(byHost.values())
      expect(answers.size, `${name}: ${[...byHost].map(([h, a]) => `${h}: ${a}`).join('\n')}`).toBe(1)
    }
  })
})
