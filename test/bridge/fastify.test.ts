/** The bridge on Fastify: its node handler behind an onRequest hook that hijacks the requests it takes. */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Fastify, { type FastifyInstance } from 'fastify'
import mcpAuth from '@mcp-oauth/fastify'
import { createBridge, type Bridge } from '@mcp-oauth/bridge'
import { startDevIdp, type DevIdp } from '@mcp-oauth/dev-idp'
import { devBridgeClient, devUpstream } from '@mcp-oauth/example-bridge/dev-upstream'
import { browse } from '../helpers/browser.js'
import { authorizationRequest, metadata, register, token } from '../helpers/oauth-client.js'

const SECRET = 'bridge-secret-for-tests-only-0123456789'
const REDIRECT = 'http://127.0.0.1:8090/callback'
let app: FastifyInstance
let idp: DevIdp
let bridge: Bridge
let origin: string

beforeAll(async () => {
  // Listen first (the issuer and the resource name the port), then let Fastify serve on that server.
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  idp = await startDevIdp({ githubLike: true, clients: [devBridgeClient(`${origin}/oauth/callback`, SECRET, true)] })
  bridge = createBridge({ issuer: `${origin}/oauth`, resource: `${origin}/mcp`, scopes: ['mcp:tools'], upstream: devUpstream(idp.issuer, SECRET, true) })
  app = Fastify({ serverFactory: (handler) => server.on('request', handler) })
  app.addHook('onRequest', (request, reply, done) => {
    // The bridge answers its own paths on the raw node objects (before Fastify reads the body); the rest goes on.
    if (!bridge.handles(request.raw)) return done()
    reply.hijack()
    bridge.handler(request.raw, reply.raw)
  })
  await app.register(mcpAuth, { resource: `${origin}/mcp`, issuer: bridge.issuer, scopesSupported: ['mcp:tools'] })
  app.post('/mcp', async (request) => ({ jsonrpc: '2.0', id: 1, result: { subject: (request.auth?.extra as { subject?: string } | undefined)?.subject } }))
  await app.ready()
})
afterAll(async () => {
  app?.server.closeAllConnections()
  await app?.close()
  await idp?.close()
})

describe('the bridge on Fastify', () => {
  it('serves the flow and the MCP route verifies its token', async () => {
    const as = await metadata(bridge.issuer)
    const reg = await register(as, { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' })
    const req = authorizationRequest(as, reg.json['client_id'] as string, REDIRECT, { resource: `${origin}/mcp` })
    const r = await browse(req.url, { origins: [origin, idp.url] })
    if (r.kind !== 'redirect') throw new Error(r.kind)
    const t = await token(as, { grant_type: 'authorization_code', code: r.url.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: req.verifier, client_id: reg.json['client_id'] as string, resource: `${origin}/mcp` })
    const res = await fetch(`${origin}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${t.json['access_token'] as string}`, 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ result: { subject: 'demo-user' } })
    expect((await fetch(`${origin}/mcp`, { method: 'POST' })).status).toBe(401)
  })
})
