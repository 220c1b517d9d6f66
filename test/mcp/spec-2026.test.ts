/**
 * The MCP 2026-07-28 authorization chapter's server-side rules that are not about the headers: offline_access
 * never advertised or challenged (and configuring it is said at start-up), the step-up challenge per revision
 * (SEP-2350), the policy's new maps checked at start-up, and the opt-in header-only mode tested behind the
 * one kind of transport it is safe behind (the MCP SDK v2 createMcpHandler, which validates the headers).
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import express from 'express'
import { createMcpHandler, fromJsonSchema, McpServer } from '@modelcontextprotocol/server'
import { toNodeHandler } from '@modelcontextprotocol/node'
import { createMcpAuth, decodeHeaderValue, isModernVersion, McpAuthConfigError, type McpAuthEvent } from '@mcp-oauth/core'
import { mcpAuth } from '@mcp-oauth/express'
import { startTestIssuer, type TestIssuer } from '../helpers/test-issuer.js'
import { send } from '../adapters/http-client.js'

const RESOURCE = 'https://mcp.example.com/mcp'
const V = '2026-07-28'
const META = { 'io.modelcontextprotocol/protocolVersion': V, 'io.modelcontextprotocol/clientCapabilities': {} }

let idp: TestIssuer
beforeAll(async () => {
  idp = await startTestIssuer()
})
afterAll(() => idp.close())

function post(body: unknown, headers: Record<string, string>, token?: string): Request {
  return new Request(RESOURCE, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  })
}

describe('offline_access (MCP 2026-07-28: not a resource requirement)', () => {
  it('is never in PRM scopes_supported or a challenge, and configuring it warns once at start-up', async () => {
    const events: McpAuthEvent[] = []
    const auth = createMcpAuth({ resource: RESOURCE, issuer: idp.issuer, scopesSupported: ['mcp:tools', 'offline_access'], onEvent: (e) => events.push(e) })
    expect(events.filter((e) => e.type === 'config_warning')).toEqual([
      { type: 'config_warning', option: 'scopesSupported', message: expect.stringContaining('"offline_access" in scopesSupported') },
    ])
    const prm = await (await auth.metadataResponse(new Request('https://mcp.example.com/.well-known/oauth-protected-resource/mcp')))!.json()
    expect(prm.scopes_supported).toEqual(['mcp:tools'])
    const unauthenticated = auth.fetch(() => new Response('ok'))
    expect((await unauthenticated(post({}, {}))).headers.get('www-authenticate')).toMatch(/scope="mcp:tools"(?:,|$)/)
    // A token that has offline_access does not pass it on into a step-up challenge either.
    const strict = createMcpAuth({ resource: RESOURCE, issuer: idp.issuer, requiredScopes: ['mcp:admin'] })
    const token = await idp.sign({ aud: RESOURCE, scope: 'mcp:tools offline_access' })
    const res = await strict.fetch(() => new Response('ok'))(post({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, {}, token))
    expect(res.status).toBe(403)
    expect(res.headers.get('www-authenticate')).toMatch(/scope="mcp:tools mcp:admin"(?:,|$)/)
  })

  it('without onEvent the warning goes to console.warn', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      createMcpAuth({ resource: RESOURCE, issuer: idp.issuer, scopesSupported: ['offline_access'] })
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('offline_access'))
    } finally {
      warn.mockRestore()
    }
  })

  it('cannot be required: requiredScopes with offline_access is refused at start-up', () => {
    expect(() => createMcpAuth({ resource: RESOURCE, issuer: idp.issuer, requiredScopes: ['mcp:tools', 'offline_access'] }))
      .toThrow(McpAuthConfigError)
  })
})

describe('step-up challenge per revision (SEP-2350)', () => {
  const policy = { tools: { deploy: ['mcp:admin'] } }
  it('2026-07-28: the 403 names every scope the operation needs; 2025-11-25: the token\'s scopes plus the missing ones', async () => {
    const auth = createMcpAuth({ resource: RESOURCE, issuer: idp.issuer, requiredScopes: ['mcp:tools'], policy })
    const token = await idp.sign({ aud: RESOURCE, scope: 'mcp:tools profile' })
    const app = auth.fetch(() => new Response('ok'))
    const call = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'deploy', arguments: {} } }
    const modern = await app(post({ ...call, params: { ...call.params, _meta: META } }, { 'mcp-protocol-version': V, 'mcp-method': 'tools/call', 'mcp-name': 'deploy' }, token))
    expect(modern.status).toBe(403)
    expect(modern.headers.get('www-authenticate')).toMatch(/scope="mcp:tools mcp:admin"(?:,|$)/)
    const legacy = await app(post(call, { 'mcp-protocol-version': '2025-11-25' }, token))
    expect(legacy.status).toBe(403)
    expect(legacy.headers.get('www-authenticate')).toMatch(/scope="mcp:tools profile mcp:admin"(?:,|$)/)
  })
})

describe('SEP-2243 value encoding', () => {
  it.each([
    ['us-west1', 'us-west1'],
    ['=?base64?SGVsbG8sIOS4lueVjA==?=', 'Hello, 世界'],
    ['=?base64?IHBhZGRlZCA=?=', ' padded '],
    ['=?base64?bGluZTEKbGluZTI=?=', 'line1\nline2'],
    ['=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=', '=?base64?literal?='],
    ['  echo\t', 'echo'],
  ])('the spec\'s example %j decodes to %j', (header, value) => {
    expect(decodeHeaderValue(header)).toBe(value)
  })

  it.each([['=?base64?SGVsbG8?='], ['=?base64?@@@@?='], ['=?base64?/w==?='], ['caf\u00e9'], ['a\u0000b'], ['']])('%j is malformed', (header) => {
    expect(decodeHeaderValue(header)).toBeUndefined()
  })

  it('2026-07-28 and later revisions are the stateless era; older and malformed versions are not', () => {
    expect(['2026-07-28', '2027-01-01'].map(isModernVersion)).toEqual([true, true])
    expect(['2025-11-25', '2026-7-28', '2026-07-28x', undefined].map(isModernVersion)).toEqual([false, false, false, false])
  })
})

describe('a host of its own (auth.handle / auth.checkBody)', () => {
  it('an outcome decided from the headers says needsBody, and checkBody refuses a body that disagrees or needs more', async () => {
    const auth = createMcpAuth({ resource: RESOURCE, issuer: idp.issuer, requiredScopes: ['mcp:tools'], policy: { tools: { deploy: ['mcp:admin'] } } })
    const token = await idp.sign({ aud: RESOURCE, scope: 'mcp:tools' })
    const headers = new Headers({ authorization: `Bearer ${token}`, 'content-type': 'application/json', 'mcp-protocol-version': V, 'mcp-method': 'tools/call', 'mcp-name': 'echo' })
    const like = { method: 'POST', url: '/mcp', headers }
    const body = (name: string) => ({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name, arguments: {}, _meta: META } })
    for (const opts of [undefined, { bodyPending: true }]) {
      const outcome = await auth.handle(like, opts)
      expect(outcome).toMatchObject({ type: 'authenticated', revision: 'modern', decidedBy: 'headers', needsBody: true })
      const refused = await auth.checkBody(outcome, body('deploy'))
      expect(refused.type === 'respond' && refused.response.status).toBe(400)
    }
    const ok = await auth.checkBody(await auth.handle(like, { bodyPending: true }), body('echo'))
    expect(ok).toMatchObject({ type: 'authenticated', needsBody: false, requests: [{ method: 'tools/call', tool: 'echo', source: 'body' }] })
    // A 2025-11-25 request the headers cannot judge: the host is asked for the body first.
    const legacy = { method: 'POST', url: '/mcp', headers: new Headers({ authorization: `Bearer ${token}`, 'content-type': 'application/json' }) }
    expect(await auth.handle(legacy, { bodyPending: true })).toEqual({ type: 'needs-body' })
  })
})

describe('browser clients (CORS)', () => {
  it('the preflight of the MCP endpoint allows the 2026-07-28 request headers Mcp-Method and Mcp-Name', async () => {
    const auth = createMcpAuth({ resource: RESOURCE, issuer: idp.issuer })
    const res = await auth.fetch(() => new Response('never'))(new Request(RESOURCE, {
      method: 'OPTIONS', headers: { origin: 'http://localhost:6274', 'access-control-request-method': 'POST', 'access-control-request-headers': 'mcp-method, mcp-name' },
    }))
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-headers')).toMatch(/Mcp-Method, Mcp-Name/)
  })
})

describe('scope hierarchies (servers MUST account for a broader scope implying narrower ones)', () => {
  it('impliedScopes: mcp:admin implies mcp:tools (chains followed) for requiredScopes, per-tool rules and 2026-07-28 requests', async () => {
    const auth = createMcpAuth({
      resource: RESOURCE, issuer: idp.issuer, requiredScopes: ['mcp:tools'],
      policy: { tools: { deploy: ['mcp:deploy'] }, impliedScopes: { 'mcp:owner': ['mcp:admin'], 'mcp:admin': ['mcp:tools', 'mcp:deploy'] } },
    })
    const app = auth.fetch(() => new Response('ok'))
    const owner = await idp.sign({ aud: RESOURCE, scope: 'mcp:owner' })
    const admin = await idp.sign({ aud: RESOURCE, scope: 'mcp:admin' })
    const tools = await idp.sign({ aud: RESOURCE, scope: 'mcp:tools' })
    const deploy = (token: string) => app(post(
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'deploy', arguments: {}, _meta: META } },
      { 'mcp-protocol-version': V, 'mcp-method': 'tools/call', 'mcp-name': 'deploy' }, token))
    expect((await deploy(owner)).status).toBe(200)
    expect((await deploy(admin)).status).toBe(200)
    expect((await deploy(tools)).status).toBe(403)
    expect((await auth.authenticate(new Request(RESOURCE, { headers: { authorization: `Bearer ${admin}` } }))).scopes).toEqual(['mcp:admin'])
  })
})

describe('the policy\'s 2026-07-28 options are checked at start-up', () => {
  it.each([
    ['prompts not a map', { prompts: ['x'] }, 'policy.prompts'],
    ['a resource with a * inside', { resources: { 'file:///*/x': ['a'] } }, 'policy.resources.file:///*/x'],
    ['a resource that is only *', { resources: { '*': ['a'] } }, 'policy.resources.*'],
    ['trustHeaders not a boolean', { trustHeaders: 'yes' }, 'policy.trustHeaders'],
    ['impliedScopes with a bad scope', { impliedScopes: { 'mcp:admin': ['a b'] } }, 'policy.impliedScopes.mcp:admin'],
  ])('%s → TypeError naming the option', (_n, policy, option) => {
    try {
      createMcpAuth({ resource: RESOURCE, issuer: idp.issuer, policy } as never)
      throw new Error('no error')
    } catch (err) {
      expect(err).toBeInstanceOf(McpAuthConfigError)
      expect((err as McpAuthConfigError).option).toBe(option)
    }
  })
})

describe('policy.trustHeaders: header-only, behind a transport that validates the headers', () => {
  let url: string
  let close: () => void
  const ran: string[] = []
  beforeAll(async () => {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const app = express()
    // No body parser anywhere: mcp-oauth never reads the body, the SDK v2 handler reads and validates it.
    app.use(mcpAuth({ resource: `${url}/mcp`, issuer: idp.issuer, requiredScopes: ['mcp:tools'], policy: { tools: { deploy: ['mcp:admin'] }, trustHeaders: true } }))
    const mcp = toNodeHandler(createMcpHandler(() => {
      const s = new McpServer({ name: 't', version: '1' })
      for (const name of ['echo', 'deploy']) {
        s.registerTool(name, { inputSchema: fromJsonSchema({ type: 'object', properties: {} }) }, () => {
          ran.push(name)
          return { content: [{ type: 'text', text: name }] }
        })
      }
      return s
    }, { legacy: 'reject' }))
    app.post('/mcp', (req, res) => void mcp(req, res))
    server.on('request', app)
    close = () => {
      server.closeAllConnections()
      server.close()
    }
  })
  afterAll(() => close())

  const call = (name: string, header: string, token: string) => send(url, 'POST', '/mcp', {
    'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}`,
    'mcp-protocol-version': V, 'mcp-method': 'tools/call', 'mcp-name': header,
  }, JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name, arguments: {}, _meta: META } }))

  it('decides from the headers alone (403 for deploy), the transport runs what agrees, and refuses a mismatch with -32020 itself', async () => {
    const narrow = await idp.sign({ aud: `${url}/mcp`, scope: 'mcp:tools' })
    expect((await call('deploy', 'deploy', narrow)).status).toBe(403)
    const ok = await call('echo', 'echo', narrow)
    expect(ok.status).toBe(200)
    expect(ran).toEqual(['echo'])
    // The layer let it through (the header says echo); the SDK v2 transport compares and refuses: deploy never runs.
    const smuggled = await call('deploy', 'echo', narrow)
    expect(smuggled.status).toBe(400)
    expect(smuggled.json).toMatchObject({ id: 7, error: { code: -32020 } })
    expect(ran).toEqual(['echo'])
  })
})
