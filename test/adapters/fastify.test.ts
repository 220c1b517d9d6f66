/**
 * What only the Fastify plugin has: registration the Fastify way, `app.mcpAuth.protect()`, route
 * `config.mcpAuth`, the `request.auth` decoration, and `request.raw.auth` for the MCP SDK transport.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMcpAuth, McpAuthConfigError } from '@mcp-oauth/core'
import mcpAuth from '@mcp-oauth/fastify'
import { startTestIssuer, type TestIssuer } from '../helpers/test-issuer.js'

const RESOURCE = 'https://mcp.example.com/mcp'
let idp: TestIssuer
let app: FastifyInstance
let tools: string
let admin: string

beforeAll(async () => {
  idp = await startTestIssuer()
  tools = await idp.sign({ aud: RESOURCE, scope: 'mcp:tools', sub: 'alice' })
  admin = await idp.sign({ aud: RESOURCE, scope: 'mcp:tools mcp:admin', sub: 'root' })
  app = Fastify()
  await app.register(mcpAuth, { resource: RESOURCE, issuer: idp.issuer, requiredScopes: ['mcp:tools'] })
  app.post('/mcp', async (request) => ({ sub: request.auth?.extra?.subject, raw: (request.raw as { auth?: unknown }).auth === request.auth }))
  app.get('/public', async (request) => ({ auth: request.auth }))
  app.get('/admin', { onRequest: app.mcpAuth.protect({ scopes: ['mcp:admin'] }) }, async (request) => ({ sub: request.auth?.extra?.subject }))
  app.get('/reports', { config: { mcpAuth: { scopes: ['mcp:admin'] } } }, async (request) => ({ sub: request.auth?.extra?.subject }))
  app.get('/status', { config: { mcpAuth: {} } }, async (request) => ({ sub: request.auth?.extra?.subject }))
  // fastify-plugin: the decoration and the hook reach encapsulated plugins registered later.
  await app.register(async (child) => {
    child.get('/child', { onRequest: child.mcpAuth.protect() }, async (request) => ({ sub: request.auth?.extra?.subject }))
  })
  await app.ready()
})
afterAll(async () => {
  await app.close()
  await idp.close()
})

const get = (url: string, token?: string) => app.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} })

describe('Fastify plugin', () => {
  it('sets request.auth, and request.raw.auth for the MCP SDK transport', async () => {
    const res = await app.inject({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${tools}` }, payload: {} })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ sub: 'alice', raw: true })
  })

  it('request.auth is null on routes it does not protect', async () => {
    expect((await get('/public')).json()).toEqual({ auth: null })
  })

  it('app.mcpAuth.protect({ scopes }) guards a route with its own scopes', async () => {
    expect((await get('/admin')).statusCode).toBe(401)
    const forbidden = await get('/admin', tools)
    expect(forbidden.statusCode).toBe(403)
    expect(forbidden.headers['www-authenticate']).toMatch(/error="insufficient_scope".*scope="mcp:tools mcp:admin"$/)
    expect((await get('/admin', admin)).json()).toEqual({ sub: 'root' })
  })

  it('route config.mcpAuth protects a route, with scopes or the defaults', async () => {
    expect((await get('/reports')).statusCode).toBe(401)
    expect((await get('/reports', tools)).statusCode).toBe(403)
    expect((await get('/reports', admin)).json()).toEqual({ sub: 'root' })
    expect((await get('/status')).headers['www-authenticate']).toMatch(/scope="mcp:tools", DPoP algs="[^"]+"$/)
    expect((await get('/status', tools)).json()).toEqual({ sub: 'alice' })
  })

  it('is visible inside encapsulated plugins', async () => {
    expect((await get('/child')).statusCode).toBe(401)
    expect((await get('/child', tools)).json()).toEqual({ sub: 'alice' })
  })

  it('takes an McpAuth created elsewhere', async () => {
    const auth = createMcpAuth({ resource: RESOURCE, issuer: idp.issuer })
    const other = Fastify()
    await other.register(mcpAuth, auth)
    expect(other.mcpAuth.auth).toBe(auth)
    expect((await other.inject({ method: 'GET', url: '/mcp' })).statusCode).toBe(401)
    await other.close()
  })

  it('bad options make register() and ready() reject with McpAuthConfigError', async () => {
    const bad = Fastify()
    await expect(bad.register(mcpAuth, { resource: 'mcp.example.com/mcp', issuer: idp.issuer })).rejects.toBeInstanceOf(McpAuthConfigError)
    const unawaited = Fastify()
    void unawaited.register(mcpAuth, { resource: RESOURCE, issuer: idp.issuer, requiredScope: ['x'] } as never)
    await expect(unawaited.ready()).rejects.toMatchObject({ name: 'McpAuthConfigError', option: 'requiredScope' })
  })

  it('registering twice on one instance is refused by Fastify', async () => {
    const twice = Fastify()
    await twice.register(mcpAuth, { resource: RESOURCE, issuer: idp.issuer })
    await expect(twice.register(mcpAuth, { resource: RESOURCE, issuer: idp.issuer })).rejects.toThrow(/mcpAuth/)
  })
})
