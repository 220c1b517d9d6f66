import express5 from 'express'
import express4 from 'express4'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mcpAuth } from '@mcp-oauth/express'
import { startTestIssuer, type TestIssuer } from '../helpers/test-issuer.js'

const RESOURCE = 'https://mcp.example.com/mcp'
let idp: TestIssuer
beforeAll(async () => {
  idp = await startTestIssuer()
})
afterAll(() => idp.close())

describe.each([
  ['Express 4', express4 as unknown as typeof express5],
  ['Express 5', express5],
])('%s', (_name, express) => {
  function app() {
    const a = express()
    a.use(express.json())
    const auth = mcpAuth({ resource: RESOURCE, issuer: idp.issuer, requiredScopes: ['mcp:tools'] })
    a.use(auth)
    a.all('/mcp', (req, res) => { res.json({ clientId: req.auth?.clientId, scopes: req.auth?.scopes }) })
    a.get('/public', (req, res) => { res.json({ auth: req.auth ?? null }) })
    a.get('/admin', auth.protect({ scopes: ['mcp:admin'] }), (req, res) => { res.json({ sub: req.auth?.extra?.subject }) })
    const router = express.Router()
    router.get('/status', auth.protect(), (_req, res) => { res.json({ ok: true }) })
    a.use('/api', router)
    return a
  }

  it('serves both metadata URLs', async () => {
    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
      const res = await request(app()).get(path).expect(200)
      expect(res.body.resource).toBe(RESOURCE)
    }
  })

  it('protects every method on the resource path and sets req.auth', async () => {
    const token = await idp.sign({ aud: RESOURCE, scope: 'mcp:tools', client_id: 'c1' })
    for (const method of ['get', 'post', 'delete', 'put'] as const) {
      await request(app())[method]('/mcp').expect(401)
      const ok = await request(app())[method]('/mcp').set('authorization', `Bearer ${token}`).expect(200)
      expect(ok.body).toEqual({ clientId: 'c1', scopes: ['mcp:tools'] })
    }
  })

  it('leaves other routes alone, and protect() guards them with their own scopes', async () => {
    expect((await request(app()).get('/public').expect(200)).body).toEqual({ auth: null })
    const tools = await idp.sign({ aud: RESOURCE, scope: 'mcp:tools' })
    const admin = await idp.sign({ aud: RESOURCE, scope: 'mcp:admin', sub: 'root' })
    await request(app()).get('/admin').expect(401)
    const forbidden = await request(app()).get('/admin').set('authorization', `Bearer ${tools}`).expect(403)
    expect(forbidden.headers['www-authenticate']).toMatch(/scope="mcp:tools mcp:admin"$/)
    expect((await request(app()).get('/admin').set('authorization', `Bearer ${admin}`).expect(200)).body).toEqual({ sub: 'root' })
    await request(app()).get('/api/status').expect(401)
  })

  it('a malformed header is a 400 with a challenge, never a 500', async () => {
    const res = await request(app()).post('/mcp').set('authorization', 'Bearer a b').expect(400)
    expect(res.headers['www-authenticate']).toMatch(/^Bearer error="invalid_request"/)
    expect(res.body.error).toBe('invalid_request')
  })

  it('a token in a form body → 400', async () => {
    await request(app()).post('/mcp').use((r) => r).type('form').send({ access_token: 'abc' }).expect((res) => {
      // express.json() does not parse forms; parse it the way an app with urlencoded() would.
      expect([400, 401]).toContain(res.status)
    })
    const a = express()
    a.use(express.urlencoded({ extended: false }))
    a.use(mcpAuth({ resource: RESOURCE, issuer: idp.issuer }))
    a.post('/mcp', (_req, res) => { res.send('reached') })
    await request(a).post('/mcp').type('form').send({ access_token: 'abc' }).expect(400)
  })

  it('path variants cannot slip past: /MCP, /mcp/, /mcp/x', async () => {
    for (const path of ['/MCP', '/mcp/', '/mcp/x']) await request(app()).post(path).expect(401)
  })
})
