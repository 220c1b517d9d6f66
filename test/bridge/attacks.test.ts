/**
 * Every attack on an authorization-server façade from the MCP security best practices and RFC 9700, against the
 * real bridge with the real dev IdP upstream — refused, with the right error, never a 5xx, and with every error
 * page escaping what it shows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeJwt } from 'jose'
import { browse, Jar, pageError } from '../helpers/browser.js'
import { startBridgeWorld, type BridgeWorld } from '../helpers/bridge-world.js'
import { authorizationRequest, metadata, register, token, type AsMetadata } from '../helpers/oauth-client.js'

const REDIRECT = 'http://127.0.0.1:8090/callback'
let world: BridgeWorld
let as: AsMetadata
let clientId: string

beforeAll(async () => {
  world = await startBridgeWorld({ mode: 'oidc-pkce' })
  as = await metadata(world.bridge.issuer)
  const reg = await register(as, { client_name: 'attack tests', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] })
  clientId = reg.json['client_id'] as string
})
afterAll(async () => world?.close())

const origins = () => [world.origin, world.idp.url]

/** A complete authorization: the client's redirect with its code, the request and the jar. */
async function authorize(params: Record<string, string | undefined> = {}) {
  const req = authorizationRequest(as, clientId, REDIRECT, { resource: world.mcpUrl, ...params })
  const jar = new Jar()
  const result = await browse(req.url, { origins: origins(), jar })
  if (result.kind !== 'redirect') throw new Error(`ended at ${result.kind}`)
  return { req, jar, back: result.url }
}

const redeem = (req: { verifier: string }, code: string, extra: Record<string, string | undefined> = {}) =>
  token(as, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: req.verifier, client_id: clientId, resource: world.mcpUrl, ...extra })

function expectEscapedPage(html: string): void {
  expect(html).not.toMatch(/<script/i)
  expect(html).not.toContain('<img')
}

describe('RFC 9207: the bridge names itself in every authorization response', () => {
  it('iss = the bridge issuer on success', async () => {
    const { back } = await authorize()
    expect(back.searchParams.get('iss')).toBe(world.bridge.issuer)
    expect(back.searchParams.get('code')).toBeTruthy()
  })

  it('metadata promises it, and advertises S256 only, CIMD, DCR and the device flow', () => {
    expect(as['authorization_response_iss_parameter_supported']).toBe(true)
    expect(as['code_challenge_methods_supported']).toEqual(['S256'])
    expect(as['client_id_metadata_document_supported']).toBe(true)
    expect(as.registration_endpoint).toBe(`${world.bridge.issuer}/reg`)
    expect(as.device_authorization_endpoint).toBe(`${world.bridge.issuer}/device/auth`)
  })
})

describe('redirect_uri manipulation', () => {
  it.each([
    ['another host', 'https://evil.example/callback'],
    ['another path', 'http://127.0.0.1:8090/callback/../evil'],
    ['another port (web client: exact match)', 'http://127.0.0.1:8091/callback'],
    ['a query added', 'http://127.0.0.1:8090/callback?next=https://evil.example'],
    ['a script URL', 'javascript:alert(document.cookie)'],
  ])('%s → an error page at the bridge, never a redirect', async (_name, redirectUri) => {
    const req = authorizationRequest(as, clientId, redirectUri, { resource: world.mcpUrl })
    const res = await fetch(req.url, { redirect: 'manual' })
    expect(res.status).toBe(400)
    expect(res.headers.get('location')).toBeNull()
    const html = await res.text()
    expect(pageError(html).error).toBe('invalid_redirect_uri')
    expectEscapedPage(html)
  })

  it('the code is bound to the redirect_uri: redeeming it with another one fails', async () => {
    const { req, back } = await authorize()
    const res = await redeem(req, back.searchParams.get('code')!, { redirect_uri: 'http://127.0.0.1:8090/other' })
    expect(res.status).toBe(400)
    expect(res.json['error']).toBe('invalid_grant')
  })

  it.each([
    ['http on a public host', ['http://evil.example/callback']],
    ['a custom scheme for a web client', ['com.example.app:/callback']],
    ['a fragment', ['https://app.example/cb#x']],
  ])('DCR refuses %s', async (_name, uris) => {
    const res = await register(as, { redirect_uris: uris, token_endpoint_auth_method: 'none' })
    expect(res.status).toBe(400)
    expect(res.json['error']).toBe('invalid_redirect_uri')
  })

  it('native clients (RFC 8252): a loopback redirect on any port, a reverse-domain scheme', async () => {
    const reg = await register(as, { application_type: 'native', redirect_uris: ['http://127.0.0.1/cb', 'com.example.app:/cb'], token_endpoint_auth_method: 'none' })
    expect(reg.status).toBe(201)
    const req = authorizationRequest(as, reg.json['client_id'] as string, 'http://127.0.0.1:53123/cb', { resource: world.mcpUrl })
    const res = await fetch(req.url, { redirect: 'manual' })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toContain('/interaction/')
  })

  it('the allow-list, when configured, refuses every other redirect URI at registration', async () => {
    const strict = await startBridgeWorld({ mode: 'oidc-pkce', bridge: { allowedRedirectUris: [/^http:\/\/127\.0\.0\.1:\d+\/callback$/] } })
    try {
      const m = await metadata(strict.bridge.issuer)
      expect((await register(m, { redirect_uris: ['http://127.0.0.1:9/callback'], token_endpoint_auth_method: 'none' })).status).toBe(201)
      const refused = await register(m, { redirect_uris: ['https://app.example/callback'], token_endpoint_auth_method: 'none' })
      expect(refused.status).toBe(400)
      expect(refused.json['error_description']).toMatch(/allow-list/)
    } finally {
      await strict.close()
    }
  })
})

describe('authorization codes and PKCE', () => {
  it('a code works once; the second redemption fails and revokes what the first one issued', async () => {
    const { req, back } = await authorize()
    const code = back.searchParams.get('code')!
    const first = await redeem(req, code)
    expect(first.status).toBe(200)
    const second = await redeem(req, code)
    expect(second.status).toBe(400)
    expect(second.json['error']).toBe('invalid_grant')
    const refresh = await token(as, { grant_type: 'refresh_token', refresh_token: first.json['refresh_token'] as string, client_id: clientId })
    expect(refresh.json['error']).toBe('invalid_grant')
  })

  it('two redemptions of one code racing past the consumed check: exactly one consumes it (take-once marker)', async () => {
    // Two token requests on two instances can both read the code before either consumes it; oidc-provider's own
    // check is read-then-write. Replay that interleaving exactly, through oidc-provider's models and the store.
    const { back } = await authorize()
    const provider = await world.bridge.provider()
    const code = back.searchParams.get('code')!
    const [a, b] = await Promise.all([provider.AuthorizationCode.find(code), provider.AuthorizationCode.find(code)])
    expect((a as { consumed?: unknown } | undefined)?.consumed).toBeFalsy()
    expect((b as { consumed?: unknown } | undefined)?.consumed).toBeFalsy()
    const outcomes = await Promise.allSettled([a!.consume(), b!.consume()])
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected'])
    const lost = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult
    expect(lost.reason).toMatchObject({ error: 'invalid_grant', error_description: 'authorization code already used' })
  })

  it('no code_challenge → error=invalid_request back to the client (PKCE is required)', async () => {
    const req = authorizationRequest(as, clientId, REDIRECT, { resource: world.mcpUrl, code_challenge: undefined, code_challenge_method: undefined })
    const res = await fetch(req.url, { redirect: 'manual' })
    const location = new URL(res.headers.get('location')!)
    expect(location.origin + location.pathname).toBe(REDIRECT)
    expect(location.searchParams.get('error')).toBe('invalid_request')
    expect(location.searchParams.get('iss')).toBe(world.bridge.issuer)
  })

  it('code_challenge_method=plain (a downgrade) → error=invalid_request', async () => {
    const req = authorizationRequest(as, clientId, REDIRECT, { resource: world.mcpUrl, code_challenge_method: 'plain', code_challenge: 'a'.repeat(43) })
    const res = await fetch(req.url, { redirect: 'manual' })
    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('invalid_request')
  })

  it.each([
    ['a wrong verifier', 'x'.repeat(43)],
    ['no verifier', undefined],
  ])('%s at the token endpoint → invalid_grant', async (_name, verifier) => {
    const { req, back } = await authorize()
    const res = await redeem(req, back.searchParams.get('code')!, { code_verifier: verifier })
    expect(res.status).toBe(400)
    expect(['invalid_grant', 'invalid_request']).toContain(res.json['error'])
  })

  it('RFC 8707: a token for another resource is refused', async () => {
    const req = authorizationRequest(as, clientId, REDIRECT, { resource: 'https://other.example/mcp' })
    const res = await fetch(req.url, { redirect: 'manual' })
    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('invalid_target')
  })
})

describe('consent', () => {
  it('names the client, its redirect URI and the scopes, escaping what the client chose to say', async () => {
    const reg = await register(as, { client_name: '<script>alert(1)</script><img src=x>', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' })
    const req = authorizationRequest(as, reg.json['client_id'] as string, REDIRECT, { resource: world.mcpUrl, scope: 'mcp:tools' })
    const r = await browse(req.url, { origins: origins(), consent: () => 'stop' })
    if (r.kind !== 'consent') throw new Error(r.kind)
    expect(r.form.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x&gt;')
    expectEscapedPage(r.form.html)
    expect(r.form.html).toContain(REDIRECT)
    expect(r.form.html).toContain('<code>mcp:tools</code>')
    expect(r.form.html).toContain(reg.json['client_id'] as string)
  })

  it('deny → error=access_denied back to the client, and nobody went upstream', async () => {
    world.idp.resetCounts()
    const req = authorizationRequest(as, clientId, REDIRECT, { resource: world.mcpUrl })
    const r = await browse(req.url, { origins: origins(), consent: () => 'deny' })
    if (r.kind !== 'redirect') throw new Error(r.kind)
    expect(r.url.searchParams.get('error')).toBe('access_denied')
    expect(r.url.searchParams.get('state')).toBe(req.state)
    expect(world.idp.counts.authorization).toBe(0)
  })

  async function consentForm() {
    const jar = new Jar()
    const req = authorizationRequest(as, clientId, REDIRECT, { resource: world.mcpUrl })
    const r = await browse(req.url, { origins: origins(), jar, consent: () => 'stop' })
    if (r.kind !== 'consent') throw new Error(r.kind)
    return { jar, form: r.form }
  }

  const post = (jar: Jar, action: URL, fields: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(action, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header(action) ?? '', ...headers },
      body: new URLSearchParams(fields),
    })

  it.each([
    ['no CSRF token', {}],
    ['a wrong CSRF token', { csrf: 'forged' }],
  ])('CSRF: %s → 403, nothing allowed', async (_name, fields) => {
    const { jar, form } = await consentForm()
    const res = await post(jar, form.action, { decision: 'allow', ...fields })
    expect(res.status).toBe(403)
    expect(res.headers.get('location')).toBeNull()
  })

  it('CSRF: the token works once', async () => {
    const { jar, form } = await consentForm()
    const first = await post(jar, form.action, { decision: 'allow', csrf: form.csrf })
    expect(first.status).toBe(303)
    const again = await post(jar, form.action, { decision: 'allow', csrf: form.csrf })
    expect(again.status).toBe(403)
  })

  it.each([
    ['Origin of another site', { origin: 'https://evil.example' }],
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
  ])('CSRF: a cross-site post (%s) → 403 even with the right token', async (_name, headers) => {
    const { jar, form } = await consentForm()
    const res = await post(jar, form.action, { decision: 'allow', csrf: form.csrf }, headers)
    expect(res.status).toBe(403)
  })

  it('the consent form of one browser cannot be submitted from another (no interaction cookie)', async () => {
    const { form } = await consentForm()
    const res = await post(new Jar(), form.action, { decision: 'allow', csrf: form.csrf })
    expect(res.status).toBe(400)
    expect(res.headers.get('location')).toBeNull()
  })

  it('is remembered per (user, client): a second authorization in the same browser asks nothing', async () => {
    const jar = new Jar()
    const first = await browse(authorizationRequest(as, clientId, REDIRECT, { resource: world.mcpUrl }).url, { origins: origins(), jar })
    expect(first.kind).toBe('redirect')
    let asked = false
    const second = await browse(authorizationRequest(as, clientId, REDIRECT, { resource: world.mcpUrl }).url, { origins: origins(), jar, consent: () => ((asked = true), 'allow') })
    expect(second.kind).toBe('redirect')
    expect(asked).toBe(false)
    // Another client in the same browser session: asked again, without a trip upstream.
    const other = await register(as, { client_name: 'another client', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' })
    world.idp.resetCounts()
    const third = await browse(authorizationRequest(as, other.json['client_id'] as string, REDIRECT, { resource: world.mcpUrl }).url, { origins: origins(), jar, consent: (f) => ((asked = f.html.includes('another client')), 'allow') })
    expect(third.kind).toBe('redirect')
    expect(asked).toBe(true)
    expect(world.idp.counts.authorization).toBe(0)
  })
})

describe('the upstream callback', () => {
  /** Run a sign-in up to the moment the upstream redirects back to the bridge; return that callback URL. */
  async function upToCallback() {
    const jar = new Jar()
    const req = authorizationRequest(as, clientId, REDIRECT, { resource: world.mcpUrl })
    let uid = ''
    const r = await browse(req.url, {
      origins: origins(),
      jar,
      onHop: (u) => {
        const m = /^\/oauth\/interaction\/([^/]+)$/.exec(u.pathname)
        if (m && u.origin === world.origin) uid = m[1]!
        return !u.href.startsWith(world.bridge.callbackUrl)
      },
    })
    if (r.kind !== 'stopped') throw new Error(r.kind)
    return { jar, callback: r.url, req, uid }
  }

  it('consent bypass: straight to the callback with a code and no sign-in in progress → 400 page, no redirect', async () => {
    const res = await fetch(`${world.bridge.callbackUrl}?code=stolen&state=whatever`, { redirect: 'manual' })
    expect(res.status).toBe(400)
    expect(res.headers.get('location')).toBeNull()
    expect(pageError(await res.text()).error).toBe('invalid_request')
  })

  it('a forged state → 400 page, and what it echoes is escaped', async () => {
    const { jar, callback } = await upToCallback()
    callback.searchParams.set('state', '<script>alert(1)</script>')
    const r = await browse(callback, { origins: origins(), jar })
    if (r.kind !== 'page') throw new Error(r.kind)
    expect(r.status).toBe(400)
    expectEscapedPage(r.html)
  })

  it('a replayed callback (state already redeemed) → 400 page', async () => {
    const { jar, callback } = await upToCallback()
    const first = await browse(callback, { origins: origins(), jar })
    expect(first.kind).toBe('redirect')
    const replay = await fetch(callback, { redirect: 'manual' })
    expect(replay.status).toBe(400)
  })

  it('the callback opened in another browser (login CSRF): the result never reaches that browser', async () => {
    const { callback } = await upToCallback()
    const r = await browse(callback, { origins: origins(), jar: new Jar() })
    if (r.kind !== 'page') throw new Error(r.kind)
    expect(r.status).toBe(400)
    expect(pageError(r.html).description).toMatch(/another browser/)
  })

  it('mix-up: an authorization response naming another issuer → error=server_error to the client, no token', async () => {
    const { jar, callback, req } = await upToCallback()
    callback.searchParams.set('iss', 'https://evil.example')
    const r = await browse(callback, { origins: origins(), jar })
    if (r.kind !== 'redirect') throw new Error(r.kind)
    expect(r.url.searchParams.get('error')).toBe('server_error')
    expect(r.url.searchParams.get('error_description')).toMatch(/issuer/)
    expect(r.url.searchParams.get('state')).toBe(req.state)
    expect(r.url.searchParams.has('code')).toBe(false)
  })

  it("a ticket from one sign-in cannot finish another, even on that browser's own interaction", async () => {
    const a = await upToCallback()
    const b = await upToCallback()
    const res = await fetch(a.callback, { redirect: 'manual' })
    const aComplete = new URL(res.headers.get('location')!, a.callback)
    // b's browser presents a's ticket on b's own interaction (where b's cookie is valid): refused.
    const bComplete = new URL(aComplete.href.replace(a.uid, b.uid))
    const r = await browse(bComplete, { origins: origins(), jar: b.jar })
    if (r.kind !== 'page') throw new Error(r.kind)
    expect(r.status).toBe(400)
    expect(pageError(r.html).description).toMatch(/not valid/)
  })
})

describe('refresh tokens', () => {
  it('rotation with reuse detection: replaying a rotated refresh token revokes the whole grant', async () => {
    const { req, back } = await authorize()
    const first = await redeem(req, back.searchParams.get('code')!)
    const r1 = first.json['refresh_token'] as string
    const second = await token(as, { grant_type: 'refresh_token', refresh_token: r1, client_id: clientId })
    expect(second.status).toBe(200)
    const r2 = second.json['refresh_token'] as string
    expect(r2).not.toBe(r1)
    const replay = await token(as, { grant_type: 'refresh_token', refresh_token: r1, client_id: clientId })
    expect(replay.status).toBe(400)
    expect(replay.json['error']).toBe('invalid_grant')
    const after = await token(as, { grant_type: 'refresh_token', refresh_token: r2, client_id: clientId })
    expect(after.json['error']).toBe('invalid_grant')
  })

  it('a refresh token consumed by a racing request: the loser is a replay and the grant is revoked', async () => {
    const { req, back } = await authorize()
    const issued = await redeem(req, back.searchParams.get('code')!)
    const provider = await world.bridge.provider()
    const [a, b] = await Promise.all([1, 2].map(() => provider.RefreshToken.find(issued.json['refresh_token'] as string)))
    const outcomes = await Promise.allSettled([a!.consume(), b!.consume()])
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected'])
    // The grant is gone: not even a fresh refresh of that chain works.
    expect((await token(as, { grant_type: 'refresh_token', refresh_token: issued.json['refresh_token'] as string, client_id: clientId })).json['error']).toBe('invalid_grant')
  })

  it('a refresh token of one client is useless to another', async () => {
    const { req, back } = await authorize()
    const first = await redeem(req, back.searchParams.get('code')!)
    const other = await register(as, { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' })
    const res = await token(as, { grant_type: 'refresh_token', refresh_token: first.json['refresh_token'] as string, client_id: other.json['client_id'] as string })
    expect(res.json['error']).toBe('invalid_grant')
  })

  it('revocation (RFC 7009) of the refresh token ends it', async () => {
    const { req, back } = await authorize()
    const first = await redeem(req, back.searchParams.get('code')!)
    const rt = first.json['refresh_token'] as string
    const res = await fetch(as.revocation_endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: rt, client_id: clientId }) })
    expect(res.status).toBe(200)
    expect((await token(as, { grant_type: 'refresh_token', refresh_token: rt, client_id: clientId })).json['error']).toBe('invalid_grant')
  })

  it('access tokens are JWTs for the resource only (aud), typ at+jwt', async () => {
    const { req, back } = await authorize()
    const at = (await redeem(req, back.searchParams.get('code')!)).json['access_token'] as string
    expect(decodeJwt(at)).toMatchObject({ iss: world.bridge.issuer, aud: world.mcpUrl, client_id: clientId })
    expect(JSON.parse(Buffer.from(at.split('.')[0]!, 'base64url').toString())).toMatchObject({ typ: 'at+jwt' })
  })
})
