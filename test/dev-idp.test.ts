import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHash, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as jose from 'jose'
import { auth } from '@modelcontextprotocol/sdk/client/auth.js'
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js'
import type { OAuthClientInformationMixed, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js'
import { startDevIdp, DevIdpAuthorizationError } from '@mcp-oauth/dev-idp'
import type { DevIdp } from '@mcp-oauth/dev-idp'

const RESOURCE = 'http://127.0.0.1:45678/mcp'
const REDIRECT = 'http://127.0.0.1:45679/callback'

interface Discovery {
  issuer: string
  authorization_endpoint: string
  token_endpoint: string
  registration_endpoint: string
  introspection_endpoint: string
  revocation_endpoint: string
  jwks_uri: string
  userinfo_endpoint: string
  device_authorization_endpoint: string
  code_challenge_methods_supported: string[]
  client_id_metadata_document_supported: boolean
  scopes_supported: string[]
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

function basic(id: string, secret: string) {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`
}

async function postForm(url: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  })
  const text = await res.text()
  let json: Record<string, unknown> = {}
  try {
    json = JSON.parse(text) as Record<string, unknown>
  } catch {}
  return { status: res.status, json, text }
}

function authorizationUrl(d: Discovery, params: Record<string, string>) {
  const url = new URL(d.authorization_endpoint)
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v)
  return url
}

describe('dev-idp', () => {
  let idp: DevIdp
  let d: Discovery
  const introspect = (token: string) =>
    postForm(d.introspection_endpoint, { token }, { authorization: basic(idp.resourceServerClient.clientId, idp.resourceServerClient.clientSecret) })

  beforeAll(async () => {
    idp = await startDevIdp({ refreshTokens: 'always' })
    d = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as Discovery
  })
  afterAll(async () => {
    await idp.close()
  })

  it('serves OIDC discovery and RFC 8414 metadata with the same JSON', async () => {
    expect(idp.issuer).toBe(`http://127.0.0.1:${idp.port}`)
    expect(idp.url).toBe(idp.issuer)
    const oauth = await (await fetch(`${idp.url}/.well-known/oauth-authorization-server`)).json()
    expect(oauth).toEqual(d)
    expect(d.issuer).toBe(idp.issuer)
    expect(d.code_challenge_methods_supported).toEqual(['S256'])
    expect(d.client_id_metadata_document_supported).toBe(true)
    expect(d.introspection_endpoint).toBe(`${idp.issuer}/token/introspection`)
    expect(d.registration_endpoint).toBe(`${idp.issuer}/reg`)
    expect(d.jwks_uri).toBe(`${idp.issuer}/jwks`)
    expect(d.revocation_endpoint).toBeTruthy()
    expect(d.device_authorization_endpoint).toBeTruthy()
    expect(d.scopes_supported).toEqual(expect.arrayContaining(['openid', 'mcp:read', 'mcp:tools', 'mcp:admin']))
  })

  it('DCR + authorization code with PKCE gives an RFC 9068 JWT for the resource, an ID token and a refresh token', async () => {
    const reg = await fetch(d.registration_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'test client',
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      }),
    })
    expect(reg.status).toBe(201)
    const client = (await reg.json()) as { client_id: string }
    const { verifier, challenge } = pkce()
    const redirect = await idp.completeAuthorization(
      authorizationUrl(d, {
        response_type: 'code',
        client_id: client.client_id,
        redirect_uri: REDIRECT,
        scope: 'openid mcp:read mcp:tools',
        state: 'xyz',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        resource: RESOURCE,
      }),
    )
    expect(redirect.origin + redirect.pathname).toBe(REDIRECT)
    expect(redirect.searchParams.get('state')).toBe('xyz')
    expect(redirect.searchParams.get('iss')).toBe(idp.issuer)
    const code = redirect.searchParams.get('code')
    expect(code).toBeTruthy()

    const tok = await postForm(d.token_endpoint, {
      grant_type: 'authorization_code',
      code: code!,
      redirect_uri: REDIRECT,
      client_id: client.client_id,
      code_verifier: verifier,
      resource: RESOURCE,
    })
    expect(tok.status).toBe(200)
    const at = tok.json['access_token'] as string
    const jwks = jose.createRemoteJWKSet(new URL(d.jwks_uri))
    const { payload, protectedHeader } = await jose.jwtVerify(at, jwks, { issuer: idp.issuer, audience: RESOURCE })
    expect(protectedHeader.typ).toBe('at+jwt')
    expect(protectedHeader.alg).toBe('ES256')
    expect(protectedHeader.kid).toBe(idp.currentSigningKey().kid)
    expect(payload.aud).toBe(RESOURCE)
    expect(payload.scope).toBe('mcp:read mcp:tools')
    expect(payload['client_id']).toBe(client.client_id)
    expect(payload.sub).toBe('demo-user')

    const idToken = tok.json['id_token'] as string
    expect(idToken).toBeTruthy()
    expect(jose.decodeProtectedHeader(idToken).typ).not.toBe('at+jwt')
    expect(jose.decodeJwt(idToken).aud).toBe(client.client_id)

    // refresh without repeating the resource keeps the granted resource
    const refreshed = await postForm(d.token_endpoint, {
      grant_type: 'refresh_token',
      refresh_token: tok.json['refresh_token'] as string,
      client_id: client.client_id,
    })
    expect(refreshed.status).toBe(200)
    expect(jose.decodeJwt(refreshed.json['access_token'] as string).aud).toBe(RESOURCE)

    // JWT access tokens are introspectable too
    const intro = await introspect(at)
    expect(intro.json).toMatchObject({ active: true, aud: RESOURCE, scope: 'mcp:read mcp:tools', client_id: client.client_id })
  })

  it('requires PKCE and reports authorization errors', async () => {
    await expect(
      idp.completeAuthorization(
        authorizationUrl(d, {
          response_type: 'code',
          client_id: idp.publicClient.clientId,
          redirect_uri: 'http://127.0.0.1:5555/callback',
          scope: 'mcp:read',
          state: 's',
        }),
      ),
    ).rejects.toThrow(DevIdpAuthorizationError)
    await expect(
      idp.completeAuthorization(
        authorizationUrl(d, {
          response_type: 'code',
          client_id: idp.publicClient.clientId,
          redirect_uri: 'http://127.0.0.1:5555/callback',
          code_challenge: pkce().challenge,
          code_challenge_method: 'plain',
        }),
      ),
    ).rejects.toThrow(/code_challenge_method|invalid_request/)
  })

  it('resolves a Client ID Metadata Document served on loopback http', async () => {
    let cimdServer: Server | undefined
    try {
      let clientId = ''
      let fetched = 0
      cimdServer = createServer((req, res) => {
        fetched++
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(
          JSON.stringify({
            client_id: clientId,
            client_name: 'CIMD client',
            redirect_uris: [REDIRECT],
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
            token_endpoint_auth_method: 'none',
          }),
        )
      })
      await new Promise<void>((r) => cimdServer!.listen(0, '127.0.0.1', r))
      clientId = `http://127.0.0.1:${(cimdServer.address() as AddressInfo).port}/client.json`

      const { verifier, challenge } = pkce()
      const redirect = await idp.completeAuthorization(
        authorizationUrl(d, {
          response_type: 'code',
          client_id: clientId,
          redirect_uri: REDIRECT,
          scope: 'mcp:read',
          state: 'c',
          code_challenge: challenge,
          code_challenge_method: 'S256',
          resource: RESOURCE,
        }),
      )
      const tok = await postForm(d.token_endpoint, {
        grant_type: 'authorization_code',
        code: redirect.searchParams.get('code')!,
        redirect_uri: REDIRECT,
        client_id: clientId,
        code_verifier: verifier,
        resource: RESOURCE,
      })
      expect(tok.status).toBe(200)
      const claims = jose.decodeJwt(tok.json['access_token'] as string)
      expect(claims['client_id']).toBe(clientId)
      expect(claims.aud).toBe(RESOURCE)
      expect(claims.scope).toBe('mcp:read')
      expect(fetched).toBeGreaterThan(0)

      // a document whose client_id does not match its URL is refused
      const wrong = `${clientId}?other`
      const { challenge: c2 } = pkce()
      await expect(
        idp.completeAuthorization(
          authorizationUrl(d, {
            response_type: 'code',
            client_id: wrong,
            redirect_uri: REDIRECT,
            scope: 'mcp:read',
            code_challenge: c2,
            code_challenge_method: 'S256',
          }),
        ),
      ).rejects.toThrow(/invalid_client/)
    } finally {
      await new Promise((r) => cimdServer?.close(r))
    }
  })

  it('opaque token without resource: introspection active, revoke → inactive', async () => {
    const { verifier, challenge } = pkce()
    const redirectUri = 'http://127.0.0.1:5555/callback'
    const redirect = await idp.completeAuthorization(
      authorizationUrl(d, {
        response_type: 'code',
        client_id: idp.publicClient.clientId,
        redirect_uri: redirectUri,
        scope: 'openid profile email',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
    )
    const tok = await postForm(d.token_endpoint, {
      grant_type: 'authorization_code',
      code: redirect.searchParams.get('code')!,
      redirect_uri: redirectUri,
      client_id: idp.publicClient.clientId,
      code_verifier: verifier,
    })
    expect(tok.status).toBe(200)
    const at = tok.json['access_token'] as string
    expect(at.split('.').length).toBe(1)

    const userinfo = await fetch(d.userinfo_endpoint, { headers: { authorization: `Bearer ${at}` } })
    expect(await userinfo.json()).toMatchObject({ sub: 'demo-user', name: 'Demo User', email: 'demo@example.com' })

    // client_secret_post works as well as basic
    const intro = await postForm(d.introspection_endpoint, {
      token: at,
      client_id: idp.resourceServerClient.clientId,
      client_secret: idp.resourceServerClient.clientSecret,
    })
    expect(intro.json).toMatchObject({ active: true, sub: 'demo-user', client_id: idp.publicClient.clientId })

    await idp.revoke(at)
    expect((await introspect(at)).json).toEqual({ active: false })

    // a wrong secret is refused
    const bad = await postForm(d.introspection_endpoint, { token: at }, { authorization: basic(idp.resourceServerClient.clientId, 'nope') })
    expect(bad.status).toBe(401)
  })

  it('issueAccessToken mints JWT and opaque tokens; revoking a JWT makes introspection inactive', async () => {
    const jwt = await idp.issueAccessToken({ resource: RESOURCE, scopes: ['mcp:read'], extraClaims: { tenant: 't1' } })
    const { payload, protectedHeader } = await jose.jwtVerify(jwt, jose.createRemoteJWKSet(new URL(d.jwks_uri)), {
      issuer: idp.issuer,
      audience: RESOURCE,
      typ: 'at+jwt',
    })
    expect(protectedHeader.kid).toBe(idp.currentSigningKey().kid)
    expect(payload).toMatchObject({ scope: 'mcp:read', sub: 'demo-user', client_id: 'mcp-dev-client', tenant: 't1' })
    expect((await introspect(jwt)).json).toMatchObject({ active: true, aud: RESOURCE })
    await idp.revoke(jwt)
    expect((await introspect(jwt)).json).toEqual({ active: false })

    const withAud = await idp.issueAccessToken({ resource: RESOURCE, format: 'opaque', scopes: ['mcp:read'] })
    expect((await introspect(withAud)).json).toMatchObject({ active: true, aud: RESOURCE, scope: 'mcp:read' })

    const opaque = await idp.issueAccessToken({ scopes: ['mcp:tools'], subject: 'someone', ttl: 120 })
    const intro = await introspect(opaque)
    expect(intro.json).toMatchObject({ active: true, sub: 'someone', scope: 'mcp:tools' })
    expect((intro.json['exp'] as number) - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(120)

    const forged = await new jose.SignJWT({ aud: RESOURCE, sub: 'x', iss: idp.issuer })
      .setProtectedHeader({ alg: 'ES256', kid: idp.currentSigningKey().kid, typ: 'at+jwt' })
      .setExpirationTime('1h')
      .sign(await jose.importJWK(idp.currentSigningKey().privateJwk as jose.JWK, 'ES256'))
    await jose.jwtVerify(forged, jose.createRemoteJWKSet(new URL(d.jwks_uri)), { audience: RESOURCE })
  })

  it('client credentials through the real token endpoint', async () => {
    const jwt = await idp.clientCredentials({ resource: RESOURCE, scope: 'mcp:read mcp:tools' })
    expect(jwt.token_type).toBe('Bearer')
    const claims = jose.decodeJwt(jwt.access_token)
    expect(claims).toMatchObject({ aud: RESOURCE, client_id: 'mcp-service', scope: 'mcp:read mcp:tools' })
    const opaque = await idp.clientCredentials({ scope: 'mcp:read' })
    expect((await introspect(opaque.access_token)).json).toMatchObject({ active: true, client_id: 'mcp-service', scope: 'mcp:read' })
  })

  it('rotateKeys changes the kid and keeps the old key in the JWKS', async () => {
    const before = idp.currentSigningKey()
    const oldToken = await idp.issueAccessToken({ resource: RESOURCE })
    const opaque = await idp.issueAccessToken({})
    await idp.rotateKeys()
    const after = idp.currentSigningKey()
    expect(after.kid).not.toBe(before.kid)
    const jwks = (await (await fetch(d.jwks_uri)).json()) as { keys: Array<{ kid: string; d?: string }> }
    expect(jwks.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([before.kid, after.kid]))
    expect(jwks.keys.every((k) => k.d === undefined)).toBe(true)
    // tokens from the real endpoint are signed with the new key
    const cc = await idp.clientCredentials({ resource: RESOURCE })
    expect(jose.decodeProtectedHeader(cc.access_token).kid).toBe(after.kid)
    // old JWTs still verify, stored opaque tokens survive
    await jose.jwtVerify(oldToken, jose.createLocalJWKSet(jwks as jose.JSONWebKeySet), { audience: RESOURCE })
    expect((await introspect(opaque)).json['active']).toBe(true)

    await idp.rotateKeys({ alg: 'RS256', keepOld: false })
    const rsa = idp.currentSigningKey()
    expect(rsa.alg).toBe('RS256')
    const jwks2 = (await (await fetch(d.jwks_uri)).json()) as { keys: Array<{ kid: string }> }
    expect(jwks2.keys.map((k) => k.kid)).toEqual([rsa.kid])
    const cc2 = await idp.clientCredentials({ resource: RESOURCE })
    expect(jose.decodeProtectedHeader(cc2.access_token)).toMatchObject({ alg: 'RS256', kid: rsa.kid })
  })

  it('failure injection: status, heal, garbage, json, huge, delay', async () => {
    idp.fail('jwks', { kind: 'status', status: 500 })
    expect((await fetch(d.jwks_uri)).status).toBe(500)
    expect((await fetch(`${idp.url}/.well-known/openid-configuration`)).status).toBe(200)
    idp.heal()
    expect((await fetch(d.jwks_uri)).status).toBe(200)

    idp.fail('discovery', { kind: 'garbage' })
    const g = await fetch(`${idp.url}/.well-known/oauth-authorization-server`)
    expect(g.status).toBe(200)
    await expect(g.json()).rejects.toThrow()
    idp.fail('discovery', { kind: 'ok' })
    expect((await fetch(`${idp.url}/.well-known/oauth-authorization-server`)).status).toBe(200)

    idp.fail('introspection', { kind: 'json', body: { active: 'true' } })
    expect((await introspect('whatever')).json).toEqual({ active: 'true' })

    idp.fail('token', { kind: 'huge', bytes: 2_000_000 })
    const huge = await fetch(d.token_endpoint, { method: 'POST' })
    expect((await huge.arrayBuffer()).byteLength).toBe(2_000_000)

    idp.fail('all', { kind: 'status', status: 503 })
    expect((await fetch(d.jwks_uri)).status).toBe(503)
    expect((await fetch(d.token_endpoint, { method: 'POST' })).status).toBe(200) // specific mode wins over 'all'
    idp.heal()

    idp.fail('jwks', { kind: 'delay', ms: 150 })
    const t0 = Date.now()
    expect((await fetch(d.jwks_uri)).status).toBe(200)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140)
    idp.heal()
  })

  it('hang is answered after heal', async () => {
    idp.fail('jwks', { kind: 'hang' })
    let settled = false
    const pending = fetch(d.jwks_uri).then((r) => {
      settled = true
      return r.status
    })
    await new Promise((r) => setTimeout(r, 150))
    expect(settled).toBe(false)
    idp.heal()
    expect(await pending).toBe(200)
  })

  it('counts requests per endpoint', async () => {
    idp.resetCounts()
    await fetch(d.jwks_uri)
    await fetch(d.jwks_uri)
    await fetch(`${idp.url}/.well-known/openid-configuration`)
    await fetch(`${idp.url}/.well-known/oauth-authorization-server`)
    await introspect('x')
    await idp.clientCredentials({})
    expect(idp.counts).toEqual({ jwks: 2, discovery: 2, introspection: 1, token: 1, userinfo: 0, registration: 0, authorization: 0, total: 6 })
    idp.resetCounts()
    expect(idp.counts.total).toBe(0)
  })
})

describe('dev-idp with the MCP SDK client', () => {
  it('auth(): PRM → AS metadata → DCR → authorize → token → refresh', async () => {
    const idp = await startDevIdp({ refreshTokens: 'always' })
    let resource = ''
    const rs = createServer((req, res) => {
      if (req.url?.startsWith('/.well-known/oauth-protected-resource')) {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ resource, authorization_servers: [idp.issuer], scopes_supported: ['mcp:tools'] }))
      } else res.writeHead(404).end()
    })
    await new Promise<void>((r) => rs.listen(0, '127.0.0.1', r))
    resource = `http://127.0.0.1:${(rs.address() as AddressInfo).port}/mcp`
    try {
      let info: OAuthClientInformationMixed | undefined
      let tokens: OAuthTokens | undefined
      let verifier = ''
      let redirected: URL | undefined
      const provider: OAuthClientProvider = {
        get redirectUrl() {
          return REDIRECT
        },
        get clientMetadata() {
          return {
            client_name: 'sdk test',
            redirect_uris: [REDIRECT],
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
            token_endpoint_auth_method: 'none',
          }
        },
        clientInformation: () => info,
        saveClientInformation: (c) => {
          info = c
        },
        tokens: () => tokens,
        saveTokens: (t) => {
          tokens = t
        },
        redirectToAuthorization: (u) => {
          redirected = u
        },
        saveCodeVerifier: (v) => {
          verifier = v
        },
        codeVerifier: () => verifier,
      }
      expect(await auth(provider, { serverUrl: resource })).toBe('REDIRECT')
      const callback = await idp.completeAuthorization(redirected!)
      expect(await auth(provider, { serverUrl: resource, authorizationCode: callback.searchParams.get('code')! })).toBe('AUTHORIZED')
      const claims = jose.decodeJwt(tokens!.access_token)
      expect(claims).toMatchObject({ aud: resource, scope: 'mcp:tools', client_id: info!.client_id })
      expect(tokens!.refresh_token).toBeTruthy()
      const first = tokens!.access_token
      expect(await auth(provider, { serverUrl: resource })).toBe('AUTHORIZED')
      expect(tokens!.access_token).not.toBe(first)
    } finally {
      await new Promise((r) => rs.close(r))
      await idp.close()
    }
  })
})

describe('dev-idp lifecycle', () => {
  it('close() releases hung requests and does not hang', async () => {
    const idp = await startDevIdp()
    idp.fail('all', { kind: 'hang' })
    const pending = fetch(`${idp.issuer}/jwks`).then(
      () => 'answered',
      () => 'aborted',
    )
    await new Promise((r) => setTimeout(r, 100))
    const t0 = Date.now()
    await idp.close()
    expect(Date.now() - t0).toBeLessThan(2000)
    expect(await pending).toBe('aborted')
  })

  it('issuerPath mounts the provider under a path with path-inserted well-knowns', async () => {
    const idp = await startDevIdp({ issuerPath: '/tenant-a', signingAlg: 'EdDSA' })
    try {
      expect(idp.issuer).toBe(`${idp.url}/tenant-a`)
      const urls = [
        `${idp.url}/.well-known/oauth-authorization-server/tenant-a`,
        `${idp.url}/.well-known/openid-configuration/tenant-a`,
        `${idp.url}/tenant-a/.well-known/openid-configuration`,
      ]
      for (const url of urls) {
        const res = await fetch(url)
        expect(res.status, url).toBe(200)
        const meta = (await res.json()) as Discovery
        expect(meta.issuer).toBe(idp.issuer)
        expect(meta.token_endpoint).toBe(`${idp.issuer}/token`)
        expect(meta.jwks_uri).toBe(`${idp.issuer}/jwks`)
      }
      expect((await fetch(`${idp.url}/.well-known/openid-configuration`)).status).toBe(404)
      const meta = (await (await fetch(urls[0]!)).json()) as Discovery

      const { verifier, challenge } = pkce()
      const redirectUri = 'http://127.0.0.1:5555/callback'
      const url = new URL(meta.authorization_endpoint)
      for (const [k, v] of Object.entries({
        response_type: 'code',
        client_id: idp.publicClient.clientId,
        redirect_uri: redirectUri,
        scope: 'mcp:tools',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        resource: RESOURCE,
      })) url.searchParams.set(k, v)
      const redirect = await idp.completeAuthorization(url)
      expect(redirect.searchParams.get('iss')).toBe(idp.issuer)
      const tok = await postForm(meta.token_endpoint, {
        grant_type: 'authorization_code',
        code: redirect.searchParams.get('code')!,
        redirect_uri: redirectUri,
        client_id: idp.publicClient.clientId,
        code_verifier: verifier,
        resource: RESOURCE,
      })
      expect(tok.status).toBe(200)
      const { payload, protectedHeader } = await jose.jwtVerify(
        tok.json['access_token'] as string,
        jose.createRemoteJWKSet(new URL(meta.jwks_uri)),
        { issuer: idp.issuer, audience: RESOURCE },
      )
      expect(protectedHeader.alg).toBe('EdDSA')
      expect(payload.scope).toBe('mcp:tools')
    } finally {
      await idp.close()
    }
  })

  it('introspectJwts: false leaves JWTs to oidc-provider (400 unsupported_token_type); oauth-error answers like a real IdP', async () => {
    const idp = await startDevIdp({ signingAlg: 'RS256', introspectJwts: false })
    try {
      const d = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as Discovery
      const rs = basic(idp.resourceServerClient.clientId, idp.resourceServerClient.clientSecret)
      const jwt = await idp.issueAccessToken({ resource: 'http://127.0.0.1:1/mcp' })
      const refused = await postForm(d.introspection_endpoint, { token: jwt }, { authorization: rs })
      expect(refused.status).toBe(400)
      expect(refused.json).toMatchObject({ error: 'unsupported_token_type' })
      // Opaque tokens are still introspected, and JWTs can still be revoked.
      const opaque = await idp.issueAccessToken({ format: 'opaque' })
      expect((await postForm(d.introspection_endpoint, { token: opaque }, { authorization: rs })).json).toMatchObject({ active: true })
      await idp.revoke(jwt)
      // Wrong resource-server credentials: the real 401 invalid_client.
      const wrong = await postForm(d.introspection_endpoint, { token: opaque }, { authorization: basic(idp.resourceServerClient.clientId, 'wrong') })
      expect(wrong.status).toBe(401)
      expect(wrong.json).toMatchObject({ error: 'invalid_client' })

      idp.fail('introspection', { kind: 'oauth-error', status: 401, error: 'invalid_client', description: 'client authentication failed' })
      const injected = await fetch(d.introspection_endpoint, { method: 'POST', headers: { authorization: rs, 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${opaque}` })
      expect(injected.status).toBe(401)
      expect(injected.headers.get('www-authenticate')).toMatch(/^Basic /)
      expect(await injected.json()).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' })
      expect(() => idp.fail('introspection', { kind: 'oauth-error', status: 500, error: 'server_error' })).toThrow(TypeError)
    } finally {
      await idp.close()
    }
  })

  it('serveOAuthMetadata: false hides the RFC 8414 document', async () => {
    const idp = await startDevIdp({ serveOAuthMetadata: false })
    try {
      expect((await fetch(`${idp.url}/.well-known/oauth-authorization-server`)).status).toBe(404)
      expect((await fetch(`${idp.url}/.well-known/openid-configuration`)).status).toBe(200)
    } finally {
      await idp.close()
    }
  })
})

describe('dev-idp device flow (RFC 8628)', () => {
  it('device authorization → browserless confirmation and login → the device polls and gets a JWT for the resource', async () => {
    const { createMcpAuth } = await import('@mcp-oauth/core')
    const idp = await startDevIdp()
    try {
      const meta = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as { device_authorization_endpoint: string; token_endpoint: string }
      const resource = 'http://127.0.0.1:3999/mcp'
      const started = (await (await fetch(meta.device_authorization_endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: idp.publicClient.clientId, scope: 'mcp:tools', resource }),
      })).json()) as { device_code: string; user_code: string; verification_uri_complete: string }
      expect(started.user_code).toBeTruthy()
      const poll = () => fetch(meta.token_endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: started.device_code, client_id: idp.publicClient.clientId }),
      })
      expect(((await (await poll()).json()) as { error: string }).error).toBe('authorization_pending')
      await idp.completeDeviceAuthorization(started.verification_uri_complete)
      const tokens = (await (await poll()).json()) as { access_token: string }
      const auth = createMcpAuth({ resource, issuer: idp.issuer })
      const info = await auth.authenticate(new Request(resource, { method: 'POST', headers: { authorization: `Bearer ${tokens.access_token}` } }))
      expect(info).toMatchObject({ clientId: idp.publicClient.clientId, scopes: ['mcp:tools'] })
    } finally {
      await idp.close()
    }
  })
})
