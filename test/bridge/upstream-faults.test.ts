/**
 * The upstream misbehaving, for real (the dev IdP's failure injection, a user who cancels, a token that expires):
 * the MCP client is told with error= where it can be (RFC 6749 §4.1.2.1), with the bridge's own words, never the
 * upstream's body; a tool's upstreamToken() refreshes, or fails with a coded error; abandoned sign-ins expire
 * and leave nothing behind.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { BridgeError } from '@mcp-oauth/bridge'
import { connectWithOAuth } from '@mcp-oauth/demo/flow'
import { browse, Jar, pageError } from '../helpers/browser.js'
import { startBridgeWorld, type BridgeWorld, type WorldOptions } from '../helpers/bridge-world.js'
import { authorizationRequest, metadata, register } from '../helpers/oauth-client.js'

const REDIRECT = 'http://127.0.0.1:8090/callback'

async function client(world: BridgeWorld) {
  const as = await metadata(world.bridge.issuer)
  const reg = await register(as, { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' })
  return { as, clientId: reg.json['client_id'] as string }
}

/** Sign in at the bridge; returns where the browser ended (the client's redirect, normally). */
async function signIn(world: BridgeWorld, opts: { idpLogin?: 'sign-in' | 'cancel' } = {}) {
  const { as, clientId } = await client(world)
  const req = authorizationRequest(as, clientId, REDIRECT, { resource: world.mcpUrl })
  const r = await browse(req.url, { origins: [world.origin, world.idp.url], ...opts })
  return { r, req }
}

function errorBack(r: Awaited<ReturnType<typeof signIn>>['r']): URLSearchParams {
  if (r.kind !== 'redirect') throw new Error(`expected a redirect to the client, got ${r.kind}`)
  return r.url.searchParams
}

describe('errors at the upstream reach the MCP client as error=', () => {
  let world: BridgeWorld
  beforeAll(async () => {
    world = await startBridgeWorld({ mode: 'oidc-pkce', upstream: { timeoutMs: 400 } })
  })
  afterEach(() => world.idp.heal())
  afterAll(async () => world?.close())

  it('the user cancels at the IdP → access_denied', async () => {
    const { r, req } = await signIn(world, { idpLogin: 'cancel' })
    const back = errorBack(r)
    expect(back.get('error')).toBe('access_denied')
    expect(back.get('state')).toBe(req.state)
    expect(back.get('iss')).toBe(world.bridge.issuer)
  })

  it.each([
    ['HTTP 502', 'temporarily_unavailable', { kind: 'status', status: 502 }, /HTTP 502/],
    ['HTTP 503', 'temporarily_unavailable', { kind: 'status', status: 503 }, /HTTP 503/],
    ['garbage (not JSON)', 'server_error', { kind: 'garbage' }, /cannot use/],
    ['an OAuth error (invalid_grant)', 'server_error', { kind: 'oauth-error', status: 400, error: 'invalid_grant', description: '<b>secret upstream detail</b>' }, /refused the token request \(invalid_grant\)/],
    ['JSON without an access token', 'server_error', { kind: 'json', body: { token_type: 'Bearer' } }, /cannot use/],
    ['no answer in time', 'temporarily_unavailable', { kind: 'hang' }, /did not answer in time/],
  ] as const)('the token endpoint answers %s → %s', async (_name, error, mode, description) => {
    world.idp.fail('token', mode as never)
    const back = errorBack((await signIn(world)).r)
    expect(back.get('error')).toBe(error)
    expect(back.get('error_description')).toMatch(description)
    expect(back.get('error_description')).not.toContain('secret upstream detail')
    expect(back.has('code')).toBe(false)
  })
})

describe('a GitHub-like upstream whose user-info endpoint fails', () => {
  let world: BridgeWorld
  beforeAll(async () => {
    world = await startBridgeWorld({ mode: 'github-like' })
  })
  afterEach(() => world.idp.heal())
  afterAll(async () => world?.close())

  it.each([
    ['HTTP 502', 'temporarily_unavailable', { kind: 'status', status: 502 }, /user-info request: HTTP 502/],
    ['HTTP 401', 'server_error', { kind: 'status', status: 401 }, /refused the user-info request/],
    ['garbage (not JSON)', 'server_error', { kind: 'garbage' }, /not JSON/],
    ['more than 64 KB', 'server_error', { kind: 'huge', bytes: 200_000 }, /larger than/],
    ['JSON without an id', 'server_error', { kind: 'json', body: { login: 'octocat' } }, /did not say who the user is/],
  ] as const)('%s → %s', async (_name, error, mode, description) => {
    world.idp.fail('userinfo', mode as never)
    const back = errorBack((await signIn(world)).r)
    expect(back.get('error')).toBe(error)
    expect(back.get('error_description')).toMatch(description)
  })
})

describe('discovery of the upstream', () => {
  it('down when the user consents → temporarily_unavailable; tried again (not cached) once it is back', async () => {
    const world = await startBridgeWorld({ mode: 'oidc-pkce' })
    try {
      world.idp.fail('discovery', { kind: 'status', status: 503 })
      const back = errorBack((await signIn(world)).r)
      expect(back.get('error')).toBe('temporarily_unavailable')
      world.idp.heal()
      expect(errorBack((await signIn(world)).r).get('code')).toBeTruthy()
    } finally {
      await world.close()
    }
  })
})

describe("a tool's upstream token", () => {
  const signedIn = async (options: WorldOptions) => {
    const world = await startBridgeWorld(options)
    const flow = await connectWithOAuth({
      serverUrl: world.mcpUrl,
      authorize: async (url) => {
        const r = await browse(url, { origins: [world.origin, world.idp.url] })
        if (r.kind !== 'redirect') throw new Error(r.kind)
        return r.url
      },
    })
    return { world, flow }
  }

  it('expired upstream tokens are refreshed with the upstream refresh token, once per call', async () => {
    // Upstream tokens of 10 s are inside the bridge's 30 s refresh margin: every use refreshes.
    const { world, flow } = await signedIn({ mode: 'oidc-pkce', idp: { accessTokenTtl: 10 } })
    try {
      world.idp.resetCounts()
      const first = await flow.callTool('upstream-user')
      expect(first.isError).toBeFalsy()
      expect(world.idp.counts.token).toBe(1)
      await flow.callTool('upstream-user')
      expect(world.idp.counts.token).toBe(2)
    } finally {
      await flow.close()
      await world.close()
    }
  })

  it('GitHub-like upstream without refresh tokens: an expired upstream token is a coded error for the tool', async () => {
    const { world, flow } = await signedIn({ mode: 'github-like', idp: { accessTokenTtl: 10 }, upstream: { scopes: ['openid'] } })
    try {
      const result = await flow.callTool('upstream-user')
      expect(result.isError).toBe(true)
      expect(JSON.stringify(result.content)).toMatch(/expired and the identity provider gave no refresh token/)
    } finally {
      await flow.close()
      await world.close()
    }
  })

  it('the upstream down while refreshing → ERR_BRIDGE_UPSTREAM_UNAVAILABLE', async () => {
    const { world, flow } = await signedIn({ mode: 'oidc-pkce', idp: { accessTokenTtl: 10 } })
    try {
      world.idp.fail('token', { kind: 'status', status: 503 })
      const result = await flow.callTool('upstream-user')
      expect(result.isError).toBe(true)
      expect(JSON.stringify(result.content)).toMatch(/HTTP 503/)
    } finally {
      world.idp.heal()
      await flow.close()
      await world.close()
    }
  })

  it('upstreamToken() refuses an AuthInfo the bridge did not issue', async () => {
    const world = await startBridgeWorld({ mode: 'oidc-pkce' })
    try {
      const attempt = world.bridge.upstreamToken({ token: 'x', extra: { issuer: world.idp.issuer, subject: 'demo-user' } })
      await expect(attempt).rejects.toBeInstanceOf(BridgeError)
      await expect(attempt).rejects.toMatchObject({ code: 'ERR_BRIDGE_FOREIGN_TOKEN' })
      await expect(world.bridge.upstreamToken({ extra: { issuer: world.bridge.issuer, subject: 'nobody' } })).rejects.toMatchObject({ code: 'ERR_BRIDGE_NO_UPSTREAM_TOKEN' })
    } finally {
      await world.close()
    }
  })
})

describe('abandoned sign-ins', () => {
  it('expire after transactionTtl and leave no transaction, CSRF token or ticket behind', async () => {
    const world = await startBridgeWorld({ mode: 'oidc-pkce', bridge: { transactionTtl: 1 } })
    try {
      const { as, clientId } = await client(world)
      const jar = new Jar()
      const req = authorizationRequest(as, clientId, REDIRECT, { resource: world.mcpUrl })
      // The user consents, is sent upstream... and walks away.
      const stopped = await browse(req.url, { origins: [world.origin, world.idp.url], jar, onHop: (u) => !(u.origin === world.idp.url && u.pathname === '/auth') })
      if (stopped.kind !== 'stopped') throw new Error(stopped.kind)
      expect(world.store.countByKind()['bridge-txn']).toBe(1)
      await new Promise((resolve) => setTimeout(resolve, 1_100))
      const kinds = world.store.countByKind()
      expect(kinds['bridge-txn']).toBeUndefined()
      expect(kinds['bridge-csrf']).toBeUndefined()
      expect(kinds['bridge-ticket']).toBeUndefined()
      expect(kinds['bridge-oidc-Interaction']).toBeUndefined()
      // Coming back later: the upstream still signs the user in, but the bridge knows no such sign-in.
      const late = await browse(stopped.url, { origins: [world.origin, world.idp.url], jar })
      if (late.kind !== 'page') throw new Error(late.kind)
      expect(late.status).toBe(400)
      expect(pageError(late.html).description).toMatch(/unknown or expired/)
    } finally {
      await world.close()
    }
  })
})
