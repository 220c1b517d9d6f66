import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import express from 'express'
import request from 'supertest'
import { createMcpAuth, McpAuthConfigError, type McpAuthOptions } from '@mcp-oauth/core'
import { mcpAuth } from '@mcp-oauth/express'
import { startTestIssuer, type TestIssuer } from '../helpers/test-issuer.js'

let idp: TestIssuer
beforeAll(async () => {
  idp = await startTestIssuer()
  // Like Entra ID or GitHub: PKCE works, but the metadata does not say so.
  delete idp.metadata.code_challenge_methods_supported
})
afterAll(() => idp.close())

const get = (path: string, init: RequestInit & { headers?: Record<string, string> } = {}) => new Request(`https://mcp.example.com${path}`, init)

describe('the AS-metadata mirror', () => {
  it('is on by default with one issuer and serves the upstream document unchanged, issuer included', async () => {
    const auth = createMcpAuth({ resource: 'https://mcp.example.com/mcp', issuer: idp.issuer })
    const res = await auth.metadataResponse(get('/.well-known/oauth-authorization-server'))
    expect(res?.status).toBe(200)
    expect(res?.headers.get('access-control-allow-origin')).toBe('*')
    const doc = await res!.json()
    expect(doc.issuer).toBe(idp.issuer)
    expect(doc.code_challenge_methods_supported).toBeUndefined()
    expect(await auth.metadataResponse(get('/.well-known/openid-configuration'))).toBeUndefined()
  })

  it('adds S256 when told the IdP supports it, applies a patch, and never changes the issuer', async () => {
    const auth = createMcpAuth({
      resource: 'https://mcp.example.com/mcp',
      issuer: idp.issuer,
      authorizationServerMetadata: { supportsPkceS256: true, openid: true, patch: (m) => ({ ...m, issuer: 'https://evil.example.com', service_documentation: 'https://docs.example.com' }) },
    })
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const doc = await (await auth.metadataResponse(get(path)))!.json()
      expect(doc.code_challenge_methods_supported).toEqual(['S256'])
      expect(doc.service_documentation).toBe('https://docs.example.com')
      expect(doc.issuer).toBe(idp.issuer)
    }
  })

  it('is off with several issuers, can be turned off, and refuses to mirror an ambiguous set', async () => {
    const two = createMcpAuth({ resource: 'https://mcp.example.com/mcp', issuer: [idp.issuer, 'https://other.example.com'] })
    expect(await two.metadataResponse(get('/.well-known/oauth-authorization-server'))).toBeUndefined()
    const off = createMcpAuth({ resource: 'https://mcp.example.com/mcp', issuer: idp.issuer, authorizationServerMetadata: false })
    expect(await off.metadataResponse(get('/.well-known/oauth-authorization-server'))).toBeUndefined()
    expect(() => createMcpAuth({ resource: 'https://mcp.example.com/mcp', issuer: [idp.issuer, 'https://o.example.com'], authorizationServerMetadata: true }))
      .toThrow(McpAuthConfigError)
  })

  it('answers 503 when the upstream metadata cannot be fetched', async () => {
    const down = await startTestIssuer()
    const issuer = down.issuer
    await down.close()
    const auth = createMcpAuth({ resource: 'https://mcp.example.com/mcp', issuer, timeout: 500 })
    const res = await auth.metadataResponse(get('/.well-known/oauth-authorization-server'))
    expect(res?.status).toBe(503)
    expect(res?.headers.get('retry-after')).toBeTruthy()
  })
})

describe('public URLs behind a proxy (trustProxy)', () => {
  const resource = 'https://mcp.example.com/api/mcp'
  const opts: McpAuthOptions = { resource, issuer: idp?.issuer ?? 'https://placeholder.example.com', trustProxy: true }

  function app(options: McpAuthOptions) {
    const a = express()
    a.use(mcpAuth(options))
    a.all('/mcp', (_req, res) => { res.send('reached') })
    a.get('/health', (_req, res) => { res.send('ok') })
    return a
  }

  it('a proxy that strips /api: the internal /mcp is still protected, and the metadata is served at the public path', async () => {
    const a = app({ ...opts, issuer: idp.issuer })
    const challenge = await request(a).post('/mcp').set('x-forwarded-prefix', '/api').set('x-forwarded-proto', 'https').set('x-forwarded-host', 'mcp.example.com').expect(401)
    expect(challenge.headers['www-authenticate']).toContain('resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/api/mcp"')
    const token = await idp.sign({ aud: resource })
    await request(a).post('/mcp').set('x-forwarded-prefix', '/api').set('authorization', `Bearer ${token}`).expect(200)
    const prm = await request(a).get('/.well-known/oauth-protected-resource/api/mcp').expect(200)
    expect(prm.body.resource).toBe(resource)
    await request(a).get('/health').set('x-forwarded-prefix', '/api').expect(200)
  })

  it('RFC 7239 Forwarded is read too', async () => {
    const a = app({ ...opts, issuer: idp.issuer })
    await request(a).get('/health').set('forwarded', 'for=1.2.3.4;proto=https;host=mcp.example.com').expect(200)
  })

  it.each([
    ['x-forwarded-host', 'evil.example.com/path'],
    ['x-forwarded-host', 'a b'],
    ['x-forwarded-host', 'evil.com@mcp.example.com'],
    ['x-forwarded-proto', 'javascript'],
    ['x-forwarded-prefix', '/api/../admin'],
    ['x-forwarded-prefix', 'api'],
    ['x-forwarded-prefix', '/api%2f..'],
    ['x-forwarded-prefix', '//evil.example.com'],
    ['forwarded', 'proto'],
    ['forwarded', 'host="a\\"b"'],
  ])('a malformed %s (%s) → 400, never used', async (name, value) => {
    const res = await request(app({ ...opts, issuer: idp.issuer })).post('/mcp').set(name, value).expect(400)
    expect(res.headers['www-authenticate']).toMatch(/error="invalid_request"/)
  })

  it('without trustProxy the headers are ignored: the internal path is what counts', async () => {
    const plain = createMcpAuth({ resource: 'https://mcp.example.com/mcp', issuer: idp.issuer })
    const outcome = await plain.handle({ method: 'POST', url: '/mcp', headers: new Headers({ 'x-forwarded-prefix': '/../x', 'x-forwarded-host': 'a b' }) })
    expect(outcome.type === 'respond' && outcome.response.status).toBe(401)
  })

  it('mounting under a prefix with Express works without a proxy', async () => {
    const a = express()
    const router = express.Router()
    router.use(mcpAuth({ resource: 'https://mcp.example.com/v1/mcp', issuer: idp.issuer }))
    router.post('/mcp', (_req, res) => { res.send('reached') })
    a.use('/v1', router)
    await request(a).post('/v1/mcp').expect(401)
    const token = await idp.sign({ aud: 'https://mcp.example.com/v1/mcp' })
    await request(a).post('/v1/mcp').set('authorization', `Bearer ${token}`).expect(200)
  })
})
