/**
 * Each IdP profile against a local emulation of its provider (test/profiles/emulations): the provider's
 * real-shaped access token is accepted and mapped (client, scopes, subject), a token for another audience and
 * the provider's ID token are refused, and the profile's quirks (discovery path, explicit key set, claim names)
 * hold. Also: every profile gives the real issuer form for real inputs, and refuses bad inputs at start-up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  auth0, authInfoExtra, cognito, createMcpAuth, entra, github, google, keycloak, logto, McpAuthConfigError, McpAuthError, okta, workos,
  type AuthorizationServerOptions, type McpAuth, type McpAuthOptions,
} from '@mcp-oauth/core'
import { startAuth0, type Auth0Emulation } from './emulations/auth0.js'
import { startCognito, type CognitoEmulation } from './emulations/cognito.js'
import { sign, signingKey } from './emulations/emulation.js'
import { startEntra, type EntraEmulation } from './emulations/entra.js'
import { startGitHub, type GitHubEmulation } from './emulations/github.js'
import { startGoogle, type GoogleEmulation } from './emulations/google.js'
import { startKeycloak, type KeycloakEmulation } from './emulations/keycloak.js'
import { startLogto, type LogtoEmulation } from './emulations/logto.js'
import { startOkta, type OktaEmulation } from './emulations/okta.js'
import { startWorkOS, type WorkOSEmulation } from './emulations/workos.js'

const RESOURCE = 'https://mcp.example.com/mcp'

function withServers(...authorizationServers: AuthorizationServerOptions[]): McpAuth {
  return createMcpAuth({ resource: RESOURCE, authorizationServers, cache: false })
}

function withOptions(options: Omit<McpAuthOptions, 'resource'>): McpAuth {
  return createMcpAuth({ resource: RESOURCE, cache: false, ...options })
}

/** The code of the refusal; fails the test if the token is accepted. */
async function refusal(auth: McpAuth, token: string): Promise<string> {
  try {
    await auth.verifyAccessToken(token)
  } catch (err) {
    expect(err).toBeInstanceOf(McpAuthError)
    return (err as McpAuthError).code
  }
  throw new Error('the token was accepted')
}

function configError(fn: () => unknown): McpAuthConfigError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(McpAuthConfigError)
    expect(err).toBeInstanceOf(TypeError)
    return err as McpAuthConfigError
  }
  throw new Error('no error thrown')
}

describe('real inputs give the providers\' real issuer forms', () => {
  it.each([
    ['keycloak', keycloak({ url: 'https://sso.example.com/', realm: 'mcp' }), 'https://sso.example.com/realms/mcp'],
    ['keycloak (legacy /auth)', keycloak({ url: 'https://sso.example.com/auth', realm: 'mcp' }), 'https://sso.example.com/auth/realms/mcp'],
    ['auth0', auth0({ domain: 'example.us.auth0.com', audience: RESOURCE }), 'https://example.us.auth0.com/'],
    ['auth0 (URL)', auth0({ domain: 'https://login.example.com/', audience: RESOURCE }), 'https://login.example.com/'],
    ['entra v2', entra({ tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47', audience: '6e74172b-be56-4843-9ff4-e66a39bb12e3' }), 'https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0'],
    ['entra v1', entra({ tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47', audience: 'api://mcp', version: 1 }), 'https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/'],
    ['okta', okta({ domain: 'dev-123456.okta.com' }), 'https://dev-123456.okta.com/oauth2/default'],
    ['cognito', cognito({ userPoolId: 'us-east-1_AbCdEf123', clientId: '1example23456789' }), 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123'],
    ['workos', workos({ authkitDomain: 'your-app-1234.authkit.app' }), 'https://your-app-1234.authkit.app'],
    ['logto', logto({ endpoint: 'https://tenant.logto.app/' }), 'https://tenant.logto.app/oidc'],
    ['google', google({ clientId: '1-a.apps.googleusercontent.com' }).authorizationServers[0]!, 'https://accounts.google.com'],
    ['github', github({ clientId: 'Iv23liAbCdEf', clientSecret: 's' }).authorizationServers[0]!, 'https://github.com/login/oauth'],
  ])('%s', (_name, server, issuer) => {
    expect(server.issuer).toBe(issuer)
    // The core accepts what the profile produced (its own checks run at creation).
    expect(createMcpAuth({ resource: RESOURCE, authorizationServers: [server] }).options.issuers[0]!.issuer).toBe(issuer)
  })

  it('entra v1 gives the key set on the login host explicitly (the sts.windows.net issuer serves no metadata)', () => {
    expect(entra({ tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47', audience: 'api://mcp', version: 1 }).jwksUri)
      .toBe('https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/discovery/keys')
  })
})

describe('bad profile inputs fail at start-up with a message that says what to write', () => {
  it.each([
    ['keycloak url with /realms/', () => keycloak({ url: 'https://sso.example.com/realms/mcp', realm: 'x' }), /write url: "https:\/\/sso.example.com", realm: "mcp"/],
    ['keycloak without realm', () => keycloak({ url: 'https://sso.example.com' } as never), /realm.*is required/],
    ['auth0 without audience', () => auth0({ domain: 'example.auth0.com' } as never), /API Identifier/],
    ['auth0 domain with a path', () => auth0({ domain: 'https://example.auth0.com/api', audience: RESOURCE }), /host only/],
    ['entra "common"', () => entra({ tenantId: 'common', audience: '6e74172b-be56-4843-9ff4-e66a39bb12e3' }), /one entra\(\) entry per tenant/],
    ['entra domain as tenant', () => entra({ tenantId: 'contoso.onmicrosoft.com', audience: '6e74172b-be56-4843-9ff4-e66a39bb12e3' }), /not a tenant GUID/],
    ['entra v2 with an App ID URI', () => entra({ tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47', audience: 'api://mcp' }), /Application \(client\) ID in aud/],
    ['okta domain with /oauth2/', () => okta({ domain: 'https://dev-1.okta.com/oauth2/aus123' }), /authorizationServerId: "aus123"/],
    ['okta custom server without audience', () => okta({ domain: 'dev-1.okta.com', authorizationServerId: 'aus123' }), /Audience/],
    ['cognito pool in another region', () => cognito({ region: 'eu-west-1', userPoolId: 'us-east-1_AbC', clientId: 'c' }), /is in us-east-1/],
    ['cognito malformed pool id', () => cognito({ userPoolId: 'AbCdEf', clientId: 'c' }), /not a user pool ID/],
    ['github without app credentials', () => github({} as never), /anyApp: true/],
    ['github id without secret', () => github({ clientId: 'Iv23li' }), /together/],
    ['google without clientId', () => google({} as never), /clientId.*is required/],
    ['a typo in an option', () => workos({ authkitDomian: 'x.authkit.app' } as never), /unknown option/],
  ])('%s', (_name, fn, message) => {
    expect(configError(fn).message).toMatch(message)
  })
})

describe('keycloak', () => {
  let kc: KeycloakEmulation
  beforeAll(async () => {
    kc = await startKeycloak()
  })
  afterAll(() => kc.close())

  it('accepts an access token whose Audience mapper added the resource, discovering the path-appended metadata', async () => {
    const auth = withServers(keycloak({ url: kc.url, realm: kc.realm }))
    const info = await auth.verifyAccessToken(await kc.accessToken({ audience: [RESOURCE, 'account'] }))
    expect(info.clientId).toBe('mcp-inspector')
    expect(info.scopes).toEqual(['openid', 'mcp:tools', 'profile', 'email'])
    expect(authInfoExtra(info)).toMatchObject({ issuer: kc.issuer, subject: expect.stringMatching(/^[0-9a-f-]{36}$/) })
    expect(kc.emulation.requests).toEqual(expect.arrayContaining([
      'GET /.well-known/oauth-authorization-server/realms/mcp',
      'GET /realms/mcp/.well-known/openid-configuration',
      'GET /realms/mcp/protocol/openid-connect/certs',
    ]))
  })

  it('refuses a token without the Audience mapper (aud: account) and an ID token', async () => {
    const auth = withServers(keycloak({ url: kc.url, realm: kc.realm }))
    expect(await refusal(auth, await kc.accessToken({ audience: 'account' }))).toBe('ERR_TOKEN_AUDIENCE')
    expect(await refusal(auth, await kc.idToken())).toBe('ERR_TOKEN_TYPE')
  })
})

describe('auth0', () => {
  let a0: Auth0Emulation
  beforeAll(async () => {
    a0 = await startAuth0()
  })
  afterAll(() => a0.close())

  it('accepts the default token dialect: aud list with /userinfo, azp, permissions merged into scopes', async () => {
    const auth = withServers(auth0({ domain: a0.domain, audience: RESOURCE }))
    const info = await auth.verifyAccessToken(await a0.accessToken({ audience: RESOURCE, permissions: ['call:tools'] }))
    expect(info.clientId).toBe(a0.clientId)
    expect(info.scopes).toEqual(['openid', 'profile', 'email', 'read:tools', 'call:tools'])
    expect(authInfoExtra(info)).toMatchObject({ issuer: a0.issuer, subject: 'auth0|65f1c0ffee0ddba11deadbee' })
  })

  it('accepts the RFC 9068 dialect (typ at+jwt, client_id)', async () => {
    const auth = withServers(auth0({ domain: a0.domain, audience: RESOURCE }))
    const info = await auth.verifyAccessToken(await a0.accessToken({ audience: RESOURCE, profile: 'rfc9068' }))
    expect(info.clientId).toBe(a0.clientId)
  })

  it('refuses a token for another API and an ID token', async () => {
    const auth = withServers(auth0({ domain: a0.domain, audience: RESOURCE }))
    expect(await refusal(auth, await a0.accessToken({ audience: 'https://api.other.example.com/' }))).toBe('ERR_TOKEN_AUDIENCE')
    expect(await refusal(auth, await a0.idToken())).toBe('ERR_TOKEN_TYPE')
  })
})

describe('entra', () => {
  let e: EntraEmulation
  const v2 = () => entra({ tenantId: e.tenantId, audience: e.apiClientId, authorityHost: e.authorityHost })
  const v1 = () => entra({ tenantId: e.tenantId, audience: `api://${e.apiClientId}`, version: 1, authorityHost: e.authorityHost, v1IssuerHost: e.v1IssuerHost })
  beforeAll(async () => {
    e = await startEntra()
  })
  afterAll(() => e.close())

  it('v2: accepts a delegated token (azp, scp short names) and an app-only token (roles); keys without alg', async () => {
    const auth = withServers(v2())
    const info = await auth.verifyAccessToken(await e.accessTokenV2())
    expect(info.clientId).toBe(e.clientAppId)
    expect(info.scopes).toEqual(['tools.read', 'tools.call'])
    expect(authInfoExtra(info).issuer).toBe(e.issuerV2)
    const app = await auth.verifyAccessToken(await e.appOnlyTokenV2(['Tools.Admin']))
    expect(app.scopes).toEqual(['Tools.Admin'])
  })

  it('v2: refuses a token for another API, an ID token, and a v1 token', async () => {
    const auth = withServers(v2())
    expect(await refusal(auth, await e.accessTokenV2({ audience: e.clientAppId }))).toBe('ERR_TOKEN_AUDIENCE')
    expect(await refusal(auth, await e.idTokenV2())).toBe('ERR_TOKEN_TYPE')
    expect(await refusal(auth, await e.accessTokenV1())).toBe('ERR_TOKEN_ISSUER')
  })

  it('v1: accepts a token for the App ID URI (client in appid) with no discovery; refuses a Microsoft Graph token', async () => {
    const before = e.emulation.requests.length
    const auth = withServers(v1())
    const info = await auth.verifyAccessToken(await e.accessTokenV1())
    expect(info.clientId).toBe(e.clientAppId)
    expect(info.scopes).toEqual(['tools.read', 'tools.call'])
    expect(authInfoExtra(info).issuer).toBe(e.issuerV1)
    expect(e.emulation.requests.slice(before)).toEqual([`GET /${e.tenantId}/discovery/keys`])
    expect(await refusal(auth, await e.graphToken())).toBe('ERR_TOKEN_AUDIENCE')
  })

  it('appIdUri: short scopes in scp read in the form clients request, so one form serves challenge and check', async () => {
    const auth = createMcpAuth({
      resource: 'https://mcp.example.com/mcp',
      authorizationServers: [entra({ tenantId: e.tenantId, audience: e.apiClientId, authorityHost: e.authorityHost, appIdUri: `api://${e.apiClientId}` })],
      requiredScopes: [`api://${e.apiClientId}/tools.call`],
    })
    const info = await auth.authenticate(new Request('https://mcp.example.com/mcp', { method: 'POST', headers: { authorization: `Bearer ${await e.accessTokenV2()}` } }))
    expect(info.scopes).toEqual([`api://${e.apiClientId}/tools.read`, `api://${e.apiClientId}/tools.call`])
    expect(() => entra({ tenantId: e.tenantId, audience: e.apiClientId, appIdUri: 'tools' })).toThrow(McpAuthConfigError)
  })

  it('both versions at once: the v2 issuer first, so the metadata sends clients to the login host', async () => {
    const auth = withServers(v2(), v1())
    await auth.verifyAccessToken(await e.accessTokenV2())
    await auth.verifyAccessToken(await e.accessTokenV1())
    const prm = await (await auth.metadataResponse(new Request('https://mcp.example.com/.well-known/oauth-protected-resource/mcp')))!.json()
    expect(prm.authorization_servers).toEqual([e.issuerV2, e.issuerV1])
  })
})

describe('okta', () => {
  let o: OktaEmulation
  beforeAll(async () => {
    o = await startOkta()
  })
  afterAll(() => o.close())

  it('accepts a default-server token: audience api://default, client in cid, scp array, path-appended discovery', async () => {
    const auth = withServers(okta({ domain: o.domain }))
    const info = await auth.verifyAccessToken(await o.accessToken())
    expect(info.clientId).toBe(o.clientId)
    expect(info.scopes).toEqual(['openid', 'mcp.tools'])
    expect(authInfoExtra(info)).toMatchObject({ issuer: o.issuer, subject: 'alice@example.com' })
    expect(o.emulation.requests).toEqual(expect.arrayContaining([
      'GET /.well-known/oauth-authorization-server/oauth2/default',
      'GET /.well-known/openid-configuration/oauth2/default',
      'GET /oauth2/default/.well-known/openid-configuration',
    ]))
  })

  it('refuses api://default tokens when the audience is the resource, and an ID token', async () => {
    expect(await refusal(withServers(okta({ domain: o.domain, audience: RESOURCE })), await o.accessToken())).toBe('ERR_TOKEN_AUDIENCE')
    expect(await refusal(withServers(okta({ domain: o.domain })), await o.idToken())).toBe('ERR_TOKEN_TYPE')
  })
})

describe('cognito', () => {
  let c: CognitoEmulation
  const profile = () => cognito({ userPoolId: c.userPoolId, clientId: c.clientId, endpoint: c.endpoint })
  beforeAll(async () => {
    c = await startCognito()
  })
  afterAll(() => c.close())

  it('accepts an access token without aud: the app client in client_id, custom scopes', async () => {
    const info = await withServers(profile()).verifyAccessToken(await c.accessToken())
    expect(info.clientId).toBe(c.clientId)
    expect(info.scopes).toEqual(['openid', 'https://mcp.example.com/tools.read'])
    expect(authInfoExtra(info)).toMatchObject({ issuer: c.issuer, subject: expect.any(String) })
  })

  it('refuses another app client\'s access token and ID tokens (token_use id), with or without at_hash', async () => {
    const auth = withServers(profile())
    expect(await refusal(auth, await c.accessToken({ clientId: '7hq2ofs0d8c4r1nlu6b9e3vmks' }))).toBe('ERR_TOKEN_AUDIENCE')
    expect(await refusal(auth, await c.idToken())).toBe('ERR_TOKEN_TYPE')
    // No at_hash: the ID token carries the client in aud and has no client_id, so the audience check refuses it.
    expect(await refusal(auth, await c.idToken({ atHash: false }))).toBe('ERR_TOKEN_AUDIENCE')
  })

  it('requires token_use "access" (requiredClaims): a token of the right client saying otherwise is refused', async () => {
    expect(await refusal(withServers(profile()), await c.accessToken({ tokenUse: 'id' }))).toBe('ERR_TOKEN_CLAIM')
  })
})

describe('workos', () => {
  let w: WorkOSEmulation
  beforeAll(async () => {
    w = await startWorkOS()
  })
  afterAll(() => w.close())

  it('accepts a resource-bound AuthKit token: permissions as scopes, client_id', async () => {
    const info = await withServers(workos({ authkitDomain: w.authkitDomain })).verifyAccessToken(await w.accessToken({ audience: RESOURCE }))
    expect(info.clientId).toBe(w.clientId)
    expect(info.scopes).toEqual(['tools:call'])
    expect(authInfoExtra(info)).toMatchObject({ issuer: w.issuer, subject: 'user_01JQ0E27VT3MH79RY0FVA4QBP9' })
  })

  it('refuses a Connect application\'s token (aud = its client id) and an ID token', async () => {
    const auth = withServers(workos({ authkitDomain: w.authkitDomain }))
    expect(await refusal(auth, await w.accessToken({ audience: w.clientId }))).toBe('ERR_TOKEN_AUDIENCE')
    expect(await refusal(auth, await w.idToken())).toBe('ERR_TOKEN_TYPE')
  })

  it('regression: without the profile the issuer alone cannot work, AuthKit\'s RFC 8414 document has no jwks_uri', async () => {
    expect(await refusal(withOptions({ issuer: w.issuer }), await w.accessToken({ audience: RESOURCE }))).toBe('ERR_IDP_UNAVAILABLE')
  })
})

describe('logto', () => {
  let l: LogtoEmulation
  beforeAll(async () => {
    l = await startLogto()
  })
  afterAll(() => l.close())

  it('accepts an at+jwt ES384 token for the API resource', async () => {
    const info = await withServers(logto({ endpoint: l.endpoint })).verifyAccessToken(await l.accessToken({ audience: RESOURCE }))
    expect(info.clientId).toBe(l.clientId)
    expect(info.scopes).toEqual(['read:tools', 'call:tools'])
    expect(authInfoExtra(info)).toMatchObject({ issuer: l.issuer, subject: 'u8f3k2j1h0g9' })
  })

  it('refuses an organization token and an ID token', async () => {
    const auth = withServers(logto({ endpoint: `${l.endpoint}/oidc` }))
    expect(await refusal(auth, await l.accessToken({ audience: 'urn:logto:organization:org_7a8b9c' }))).toBe('ERR_TOKEN_AUDIENCE')
    expect(await refusal(auth, await l.idToken())).toBe('ERR_TOKEN_TYPE')
  })
})

describe('google', () => {
  let g: GoogleEmulation
  const profile = () => google({ clientId: g.clientId, issuer: g.issuer, tokeninfoEndpoint: g.tokeninfoEndpoint })
  beforeAll(async () => {
    g = await startGoogle()
  })
  afterAll(() => g.close())

  it('accepts an opaque ya29 token through tokeninfo (string exp), once, then from the cache', async () => {
    const auth = createMcpAuth({ resource: RESOURCE, ...profile() })
    const token = g.accessToken()
    const calls = g.tokeninfoCalls
    const info = await auth.verifyAccessToken(token)
    expect(info.clientId).toBe(g.clientId)
    expect(info.scopes).toEqual(['openid', 'https://www.googleapis.com/auth/userinfo.email'])
    expect(info.expiresAt).toBeGreaterThan(Date.now() / 1000)
    expect(authInfoExtra(info)).toMatchObject({ issuer: g.issuer, subject: '110248495921238986420', verifiedBy: 'custom' })
    await auth.verifyAccessToken(token)
    expect(g.tokeninfoCalls).toBe(calls + 1)
    expect(g.emulation.requests).toContain('POST /tokeninfo')
    const prm = await (await auth.metadataResponse(new Request('https://mcp.example.com/.well-known/oauth-protected-resource/mcp')))!.json()
    expect(prm.authorization_servers).toEqual([g.issuer])
  })

  it('refuses a token issued to another client, an unknown token, and an ID token without calling Google', async () => {
    const auth = withOptions(profile())
    expect(await refusal(auth, g.accessToken({ clientId: '99-other.apps.googleusercontent.com' }))).toBe('ERR_TOKEN_AUDIENCE')
    expect(await refusal(auth, 'ya29.a0-not-issued')).toBe('ERR_TOKEN_REJECTED')
    const calls = g.tokeninfoCalls
    expect(await refusal(auth, await g.idToken())).toBe('ERR_TOKEN_REJECTED')
    expect(g.tokeninfoCalls).toBe(calls)
  })

  it('fails closed with 503 when tokeninfo fails', async () => {
    const auth = withOptions(profile())
    g.failWith = 503
    try {
      const err = await auth.verifyAccessToken(g.accessToken()).catch((e: McpAuthError) => e)
      expect(err).toMatchObject({ code: 'ERR_IDP_UNAVAILABLE', status: 503 })
    } finally {
      g.failWith = undefined
    }
  })
})

describe('github', () => {
  let gh: GitHubEmulation
  const urls = () => ({ webUrl: gh.webUrl, apiUrl: gh.apiUrl })
  beforeAll(async () => {
    gh = await startGitHub()
  })
  afterAll(() => gh.close())

  it('accepts a token of this OAuth app (check-a-token API): subject = numeric id, login in the claims', async () => {
    const auth = withOptions(github({ ...gh.app, ...urls() }))
    const info = await auth.verifyAccessToken(gh.accessToken({ expiresAt: new Date(Date.now() + 8 * 3600_000).toISOString() }))
    expect(info.clientId).toBe(gh.app.clientId)
    expect(info.scopes).toEqual(['read:user', 'repo'])
    expect(info.expiresAt).toBeGreaterThan(Date.now() / 1000)
    const extra = authInfoExtra(info)
    expect(extra).toMatchObject({ issuer: gh.issuer, subject: '583231', claims: { login: 'octocat', sub: '583231' } })
    expect(JSON.stringify(extra.claims)).not.toContain(info.token)
  })

  it('refuses another app\'s token, a personal access token (without calling GitHub) and a JWT (a GitHub Actions ID token)', async () => {
    const auth = withOptions(github({ ...gh.app, ...urls() }))
    expect(await refusal(auth, gh.accessToken({ clientId: 'Ov23liOtherApp000000' }))).toBe('ERR_TOKEN_REJECTED')
    const before = gh.emulation.requests.length
    expect(await refusal(auth, gh.accessToken({ prefix: 'ghp_' }))).toBe('ERR_TOKEN_REJECTED')
    const key = await signingKey('RS256')
    const actions = await sign(key, { typ: 'JWT' }, { iss: 'https://token.actions.githubusercontent.com', aud: RESOURCE, sub: 'repo:octo/app:ref:refs/heads/main', exp: Math.floor(Date.now() / 1000) + 300 })
    expect(await refusal(auth, actions)).toBe('ERR_TOKEN_REJECTED')
    expect(gh.emulation.requests.length).toBe(before)
  })

  it('anyApp: accepts any GitHub token through GET /user (scopes from X-OAuth-Scopes); refuses unknown tokens', async () => {
    const auth = withOptions(github({ anyApp: true, ...urls() }))
    const info = await auth.verifyAccessToken(gh.accessToken({ clientId: 'Ov23liOtherApp000000', scopes: ['repo', 'read:org'] }))
    expect(info.scopes).toEqual(['repo', 'read:org'])
    expect(authInfoExtra(info).subject).toBe('583231')
    expect(await refusal(auth, 'gho_unknownunknownunknownunknown0000')).toBe('ERR_TOKEN_REJECTED')
  })

  it('fails closed with 503 when rate limited or when GitHub refuses the app\'s own credentials', async () => {
    gh.rateLimited = true
    try {
      const err = await withOptions(github({ ...gh.app, ...urls() })).verifyAccessToken(gh.accessToken()).catch((e: McpAuthError) => e)
      expect(err).toMatchObject({ code: 'ERR_IDP_UNAVAILABLE', status: 503 })
      expect((err as McpAuthError).retryAfter).toBeGreaterThan(0)
    } finally {
      gh.rateLimited = false
    }
    const wrongSecret = withOptions(github({ clientId: gh.app.clientId, clientSecret: 'wrong', ...urls() }))
    expect(await refusal(wrongSecret, gh.accessToken())).toBe('ERR_IDP_UNAVAILABLE')
  })

  it('the mirror on this server adds the S256 GitHub supports but does not advertise, issuer unchanged', async () => {
    const auth = createMcpAuth({ resource: RESOURCE, ...github({ ...gh.app, ...urls() }) })
    const res = await auth.fetch(() => new Response('unreachable'))(new Request('https://mcp.example.com/.well-known/oauth-authorization-server'))
    expect(res.status).toBe(200)
    const doc = await res.json()
    expect(doc).toMatchObject({ issuer: gh.issuer, code_challenge_methods_supported: ['S256'] })
  })
})
