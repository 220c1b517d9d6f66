/**
 * Regressions found by the MCP Inspector v1 in Direct mode (test/browser/inspector-v1.test.ts): the browser
 * fetches the MCP endpoint itself, and Chromium refused
 *   - the preflight of POST /mcp on Express, Fastify and node:http (not answered: the examples have no CORS
 *     middleware, and the README left it to one), and
 *   - the 401 on every host, the fetch host included (`Access-Control-Expose-Headers` without
 *     `Access-Control-Allow-Origin` lets a page read nothing), so the Inspector never saw the challenge;
 *   - the MCP answers and their `Mcp-Session-Id` (no CORS on the handler's response).
 * Now the core answers CORS on the MCP endpoint for every host (option `cors`, default on).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import express from 'express'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mcpAuth } from '@mcp-oauth/express'
import { hosts, type RunningHost } from '../adapters/hosts.js'
import { send } from '../adapters/http-client.js'
import { startTestIssuer, type TestIssuer } from '../helpers/test-issuer.js'

const ORIGIN = 'http://127.0.0.1:6274'
let idp: TestIssuer

beforeAll(async () => {
  idp = await startTestIssuer()
})
afterAll(() => idp?.close())

describe.each(hosts)('CORS on the MCP endpoint: $name', (host) => {
  let app: RunningHost
  beforeAll(async () => {
    app = await host.start({ issuer: idp.issuer, requiredScopes: ['mcp:tools'] })
  })
  afterAll(() => app?.close())

  it('answers the preflight of POST /mcp: every method, the headers the browser asks for', async () => {
    const res = await send(app.url, 'OPTIONS', '/mcp', {
      origin: ORIGIN,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type,mcp-protocol-version,mcp-method,mcp-name,x-custom',
    })
    expect(res.status).toBe(204)
    expect(res.headers['access-control-allow-origin']).toBe('*')
    expect(res.headers['access-control-allow-methods']).toBe('GET, POST, DELETE, OPTIONS')
    expect(res.headers['access-control-allow-headers']).toBe('Authorization, Content-Type, Accept, MCP-Protocol-Version, Mcp-Method, Mcp-Name, Mcp-Session-Id, Last-Event-ID, DPoP, x-custom')
    expect(res.headers['www-authenticate']).toBeUndefined()
  })

  it('a preflight naming headers in a form that is not a field-name list gets the MCP headers only, never an echo', async () => {
    const res = await send(app.url, 'OPTIONS', '/mcp', { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, "x"; y=<z>' })
    expect(res.status).toBe(204)
    expect(res.headers['access-control-allow-headers']).toBe('Authorization, Content-Type, Accept, MCP-Protocol-Version, Mcp-Method, Mcp-Name, Mcp-Session-Id, Last-Event-ID, DPoP')
  })

  it('the 401 can be read by a page on another origin: Allow-Origin, and WWW-Authenticate exposed', async () => {
    const res = await send(app.url, 'POST', '/mcp', { origin: ORIGIN, 'content-type': 'application/json' }, '{"jsonrpc":"2.0","id":1,"method":"ping"}')
    expect(res.status).toBe(401)
    expect(res.headers['access-control-allow-origin']).toBe('*')
    expect(res.headers['access-control-expose-headers']).toMatch(/\bWWW-Authenticate\b/)
    expect(res.headers['www-authenticate']).toMatch(/^Bearer resource_metadata="/)
  })

  it('403 insufficient_scope and 401 invalid_token too', async () => {
    const narrow = await idp.sign({ aud: app.resource, scope: 'mcp:read' })
    const forbidden = await send(app.url, 'GET', '/mcp', { origin: ORIGIN, authorization: `Bearer ${narrow}` })
    expect(forbidden.status).toBe(403)
    expect(forbidden.headers['access-control-allow-origin']).toBe('*')
    const bad = await send(app.url, 'GET', '/mcp', { origin: ORIGIN, authorization: 'Bearer not-a-token' })
    expect(bad.status).toBe(401)
    expect(bad.headers['access-control-allow-origin']).toBe('*')
  })

  it("the handler's own answer carries Allow-Origin and exposes Mcp-Session-Id", async () => {
    const token = await idp.sign({ aud: app.resource, scope: 'mcp:tools' })
    const res = await send(app.url, 'GET', '/mcp', { origin: ORIGIN, authorization: `Bearer ${token}` })
    expect(res.status).toBe(200)
    expect(res.headers['access-control-allow-origin']).toBe('*')
    expect(res.headers['access-control-expose-headers']).toMatch(/\bMcp-Session-Id\b/)
  })

  it("the handler's answer to a request without Origin (no browser) carries no CORS headers; refusals still do", async () => {
    const token = await idp.sign({ aud: app.resource, scope: 'mcp:tools' })
    const res = await send(app.url, 'GET', '/mcp', { authorization: `Bearer ${token}` })
    expect(res.status).toBe(200)
    expect(res.headers['access-control-allow-origin']).toBeUndefined()
    expect(res.headers['access-control-expose-headers']).toBeUndefined()
    const refused = await send(app.url, 'GET', '/mcp', {})
    expect(refused.status).toBe(401)
    expect(refused.headers['access-control-allow-origin']).toBe('*')
  })

  it('routes outside the resource are left alone', async () => {
    const res = await send(app.url, 'GET', '/public', { origin: ORIGIN })
    expect(res.status).toBe(200)
    expect(res.headers['access-control-allow-origin']).toBeUndefined()
  })
})

describe.each(hosts)('cors: false: $name', (host) => {
  let app: RunningHost
  beforeAll(async () => {
    app = await host.start({ issuer: idp.issuer, cors: false })
  })
  afterAll(() => app?.close())

  it('no Allow-Origin from the core, WWW-Authenticate still exposed for the application\'s own CORS middleware', async () => {
    const res = await send(app.url, 'GET', '/mcp', { origin: ORIGIN })
    expect(res.status).toBe(401)
    expect(res.headers['access-control-allow-origin']).toBeUndefined()
    expect(res.headers['access-control-expose-headers']).toMatch(/^WWW-Authenticate\b/)
    const preflight = await send(app.url, 'OPTIONS', '/mcp', { origin: ORIGIN, 'access-control-request-method': 'POST' })
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined()
  })
})

describe('an application that sets its own CORS headers', () => {
  let server: Server
  let url: string
  beforeAll(async () => {
    server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const app = express()
    app.use((_req, res, next) => {
      res.setHeader('access-control-allow-origin', 'https://app.example')
      next()
    })
    app.use(mcpAuth({ resource: `${url}/mcp`, issuer: idp.issuer }))
    app.get('/mcp', (_req, res) => void res.json({ ok: true }))
    server.on('request', app)
  })
  afterAll(() => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  }))

  it('keeps its Access-Control-Allow-Origin on the answers it writes', async () => {
    const token = await idp.sign({ aud: `${url}/mcp` })
    const res = await send(url, 'GET', '/mcp', { origin: 'https://app.example', authorization: `Bearer ${token}` })
    expect(res.status).toBe(200)
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example')
  })
})
