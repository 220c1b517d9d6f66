/**
 * One battery, every host: the same requests against Express 4, Express 5, Fastify, node:http and a fetch
 * handler, with the same expected answers. The last test checks that every host answered every case with the
 * same status, challenge and body, so an adapter cannot drift from the core on its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js'
import { startTestIssuer, type TestIssuer } from '../helpers/test-issuer.js'
import { hosts, type RunningHost } from './hosts.js'
import { send, type RawResponse } from './http-client.js'
import { DPOP_CHALLENGE, DPOP_PRM } from '../helpers/dpop.js'

let idp: TestIssuer
let downIdp: TestIssuer

beforeAll(async () => {
  idp = await startTestIssuer()
  downIdp = await startTestIssuer()
  downIdp.route = (_req, res) => {
    res.writeHead(500).end()
    return true
  }
})
afterAll(async () => {
  await idp.close()
  await downIdp.close()
})

const OPTIONS = { scopesSupported: ['mcp:tools', 'mcp:read'], requiredScopes: ['mcp:tools'] }

/** What must be identical across hosts, with the host's own origin replaced. */
const seen = new Map<string, Map<string, string>>()
function record(host: string, name: string, origin: string, res: RawResponse): void {
  const cases = seen.get(name) ?? new Map<string, string>()
  seen.set(name, cases)
  const { status, headers, text } = res
  cases.set(host, JSON.stringify({
    status,
    challenge: headers['www-authenticate'],
    retryAfter: headers['retry-after'],
    allow: headers.allow,
    cors: headers['access-control-allow-origin'],
    expose: headers['access-control-expose-headers'],
    cacheControl: headers['cache-control'],
    type: headers['content-type']?.split(';')[0],
    text,
  }).replaceAll(origin, '<origin>'))
}

describe.each(hosts)('$name', (host) => {
  let app: RunningHost
  let prm: string
  beforeAll(async () => {
    app = await host.start({ issuer: idp.issuer, ...OPTIONS })
    prm = `${app.url}/.well-known/oauth-protected-resource/mcp`
  })
  afterAll(() => app.close())

  async function call(name: string, method: string, path: string, headers?: Record<string, string | string[]>, body?: string): Promise<RawResponse> {
    const res = await send(app.url, method, path, headers, body)
    record(host.name, name, app.url, res)
    return res
  }
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
  // Every 401 also offers the DPoP scheme (RFC 9449 §7.2, `dpop: 'allowed'` by default); a 403 does not.
  const challenge = (error?: { error: string; description: string }, scope = 'mcp:tools') =>
    `Bearer ${error ? `error="${error.error}", error_description="${error.description}", ` : ''}resource_metadata="${prm}", scope="${scope}"${error?.error === 'insufficient_scope' ? '' : `, ${DPOP_CHALLENGE}`}`

  describe('RFC 9728 metadata', () => {
    it.each(['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp/'])('GET %s', async (path) => {
      const res = await call(`GET ${path}`, 'GET', path)
      expect(res.status).toBe(200)
      expect(res.headers['content-type']).toMatch(/^application\/json/)
      expect(res.headers['access-control-allow-origin']).toBe('*')
      expect(res.json).toEqual({
        resource: app.resource,
        authorization_servers: [idp.issuer],
        scopes_supported: ['mcp:tools', 'mcp:read'],
        bearer_methods_supported: ['header'],
        ...DPOP_PRM,
      })
    })

    it('is public: a bad token does not matter', async () => {
      const res = await call('metadata with a bad token', 'GET', '/.well-known/oauth-protected-resource/mcp', bearer('garbage'))
      expect(res.status).toBe(200)
    })

    it('HEAD has the headers and no body', async () => {
      const res = await call('HEAD metadata', 'HEAD', '/.well-known/oauth-protected-resource/mcp')
      expect(res.status).toBe(200)
      expect(res.text).toBe('')
      expect(res.headers['content-type']).toMatch(/^application\/json/)
      expect(Number(res.headers['content-length'])).toBeGreaterThan(50)
    })

    it('answers a CORS preflight', async () => {
      const res = await call('OPTIONS metadata', 'OPTIONS', '/.well-known/oauth-protected-resource/mcp', {
        origin: 'http://localhost:6274', 'access-control-request-method': 'GET', 'access-control-request-headers': 'mcp-protocol-version',
      })
      expect(res.status).toBe(204)
      expect(res.headers['access-control-allow-origin']).toBe('*')
      expect(res.headers['access-control-allow-headers']).toMatch(/MCP-Protocol-Version/)
      expect(res.headers['access-control-allow-methods']).toMatch(/GET/)
    })

    it.each(['POST', 'PUT', 'DELETE', 'PATCH'])('%s → 405 with Allow', async (method) => {
      const res = await call(`${method} metadata`, method, '/.well-known/oauth-protected-resource', { 'content-type': 'application/json' }, '{}')
      expect(res.status).toBe(405)
      expect(res.headers.allow).toBe('GET, HEAD, OPTIONS')
    })
  })

  describe('challenges', () => {
    it.each(['GET', 'POST', 'DELETE', 'PUT'])('%s /mcp without a token → 401 with the exact challenge', async (method) => {
      const res = await call(`${method} no token`, method, '/mcp')
      expect(res.status).toBe(401)
      expect(res.headers['www-authenticate']).toBe(challenge())
      expect(res.headers['access-control-expose-headers']).toMatch(/WWW-Authenticate/)
      expect(res.json).toEqual({ error: 'unauthorized', error_description: 'Authentication required' })
      const parsed = extractWWWAuthenticateParams(new Response(null, { status: 401, headers: { 'www-authenticate': res.headers['www-authenticate']! } }))
      expect(parsed.resourceMetadataUrl?.href).toBe(prm)
      expect(parsed.scope).toBe('mcp:tools')
    })

    it('another scheme is no bearer credentials → 401 without error', async () => {
      const res = await call('Basic', 'POST', '/mcp', { authorization: 'Basic dXNlcjpwYXNz' })
      expect(res.status).toBe(401)
      expect(res.headers['www-authenticate']).toBe(challenge())
    })

    it.each([
      ['scheme only', 'Bearer'],
      ['a space inside the token', 'Bearer abc def'],
      ['a comma inside the token', 'Bearer abc,def'],
      ['two credentials in one header', 'Bearer abc, Bearer def'],
      ['padding in the middle', 'Bearer ab=c'],
    ])('%s → 400 invalid_request', async (name, header) => {
      const res = await call(`400 ${name}`, 'POST', '/mcp', { authorization: header })
      expect(res.status).toBe(400)
      expect(res.headers['www-authenticate']).toMatch(new RegExp(`^Bearer error="invalid_request", error_description="[^"\\\\]+", resource_metadata="${prm}", scope="mcp:tools"$`))
      expect((res.json as { error: string }).error).toBe('invalid_request')
    })

    it('two Authorization headers, each with a valid token → 400', async () => {
      const token = await idp.sign({ aud: app.resource, scope: 'mcp:tools' })
      const res = await call('two headers', 'POST', '/mcp', { authorization: [`Bearer ${token}`, `Bearer ${token}`] })
      expect(res.status).toBe(400)
      expect(res.headers['www-authenticate']).toMatch(/^Bearer error="invalid_request"/)
      expect(res.text).not.toContain(token)
    })

    it('a token in the query → 400, with or without a header', async () => {
      const token = await idp.sign({ aud: app.resource, scope: 'mcp:tools' })
      const alone = await call('query token', 'GET', `/mcp?access_token=${token}`)
      expect(alone.status).toBe(400)
      expect(alone.headers['www-authenticate']).toMatch(/^Bearer error="invalid_request"/)
      const both = await call('query and header token', 'GET', `/mcp?access_token=${token}`, bearer(token))
      expect(both.status).toBe(400)
    })

    it('an expired token → 401 invalid_token', async () => {
      const now = Math.floor(Date.now() / 1000)
      const res = await call('expired', 'POST', '/mcp', bearer(await idp.sign({ aud: app.resource, scope: 'mcp:tools', iat: now - 600, exp: now - 300 })))
      expect(res.status).toBe(401)
      expect(res.headers['www-authenticate']).toBe(challenge({ error: 'invalid_token', description: 'The access token expired' }))
      expect(res.json).toEqual({ error: 'invalid_token', error_description: 'The access token expired' })
    })

    it('a token for another resource → 401 invalid_token', async () => {
      const res = await call('wrong audience', 'POST', '/mcp', bearer(await idp.sign({ aud: 'https://other.example.com/mcp', scope: 'mcp:tools' })))
      expect(res.status).toBe(401)
      expect(res.headers['www-authenticate']).toBe(challenge({ error: 'invalid_token', description: 'The token was not issued for this resource' }))
    })

    it('a token without the required scope → 403 insufficient_scope asking for old plus new', async () => {
      const res = await call('insufficient scope', 'POST', '/mcp', bearer(await idp.sign({ aud: app.resource, scope: 'mcp:read' })))
      expect(res.status).toBe(403)
      expect(res.headers['www-authenticate']).toBe(challenge(
        { error: 'insufficient_scope', description: 'The access token lacks a scope this request needs' }, 'mcp:read mcp:tools'))
      expect(res.headers['access-control-expose-headers']).toMatch(/WWW-Authenticate/)
    })
  })

  describe('the protected path', () => {
    it.each(['/MCP', '/mcp/', '//mcp', '/%6Dcp', '/Mcp?x=1', '/mcp/sub', '/mcp/./'])('%s is protected', async (path) => {
      for (const method of ['GET', 'POST']) {
        const res = await call(`${method} ${path}`, method, path)
        expect(res.status).toBe(401)
        expect(res.headers['www-authenticate']).toBe(challenge())
      }
    })

    it('other routes are left alone', async () => {
      const res = await call('public', 'GET', '/public')
      expect(res.status).toBe(200)
      expect(res.json).toEqual({ auth: null })
    })

    it('a CORS preflight to the resource is not challenged', async () => {
      const res = await send(app.url, 'OPTIONS', '/mcp', { origin: 'http://localhost:6274', 'access-control-request-method': 'POST' })
      expect(res.status).not.toBe(401)
      expect(res.headers['www-authenticate']).toBeUndefined()
    })
  })

  describe('a valid token', () => {
    it.each(['GET', 'POST'])('%s → 200 with req.auth', async (method) => {
      const token = await idp.sign({ aud: app.resource, scope: 'mcp:tools mcp:read', sub: 'alice', client_id: 'app-1' })
      const body = method === 'POST' ? JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }) : undefined
      const res = await call(`${method} valid`, method, '/mcp', { ...bearer(token), ...(body ? { 'content-type': 'application/json' } : {}) }, body)
      expect(res.status).toBe(200)
      expect(res.json).toEqual({ clientId: 'app-1', scopes: ['mcp:tools', 'mcp:read'], subject: 'alice' })
    })

    it('the scheme is case-insensitive', async () => {
      const token = await idp.sign({ aud: app.resource, scope: 'mcp:tools' })
      const res = await call('lowercase scheme', 'GET', '/mcp', { authorization: `bearer ${token}` })
      expect(res.status).toBe(200)
    })
  })

  describe('the IdP is down', () => {
    let down: RunningHost
    beforeAll(async () => {
      down = await host.start({ issuer: downIdp.issuer, ...OPTIONS })
    })
    afterAll(() => down.close())

    it('→ 503 with Retry-After, never 401 or 200', async () => {
      const token = await downIdp.sign({ aud: down.resource, scope: 'mcp:tools' })
      const res = await send(down.url, 'POST', '/mcp', bearer(token))
      record(host.name, 'IdP down', down.url, res)
      expect(res.status).toBe(503)
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0)
      expect(res.headers['www-authenticate']).toBeUndefined()
      expect((res.json as { error: string }).error).toBe('temporarily_unavailable')
    })
  })
})

/** The cases that inject an outage: the only ones allowed a 5xx (then a 503). */
const OUTAGES = new Set(['IdP down'])

describe('all hosts', () => {
  it('answered no case with a 5xx but the injected outages, and those with 503', () => {
    for (const [name, answers] of seen) {
      for (const [host, answer] of answers) {
        const { status } = JSON.parse(answer) as { status: number }
        if (status >= 500) expect(OUTAGES.has(name) && status === 503, `${host}: ${name} answered ${status}`).toBe(true)
      }
    }
  })

  it('answered every case identically', () => {
    expect(seen.size).toBeGreaterThan(30)
    for (const [name, answers] of seen) {
      expect([...answers.keys()], name).toEqual(hosts.map((h) => h.name))
      const [first, ...rest] = [...answers.values()]
      for (const answer of rest) expect(answer, name).toBe(first)
    }
  })
})
