/**
 * createBridge() and the presets check their options at creation: a TypeError with a code and the option,
 * saying what to write instead — never a failure on the first request.
 */
import { describe, expect, it } from 'vitest'
import { BridgeConfigError, cognito, createBridge, entra, github, google, MemoryBridgeStore, oauth2, oidc, type BridgeOptions } from '@mcp-oauth/bridge'

const creds = { clientId: 'id', clientSecret: 'secret' }
const base = (): BridgeOptions => ({ issuer: 'https://mcp.example.com/oauth', resource: 'https://mcp.example.com/mcp', scopes: ['mcp:tools'], upstream: github(creds) })

function configError(fn: () => unknown): BridgeConfigError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(TypeError)
    expect(err).toBeInstanceOf(BridgeConfigError)
    expect((err as BridgeConfigError).code).toBe('ERR_BRIDGE_CONFIG')
    return err as BridgeConfigError
  }
  throw new Error('expected a BridgeConfigError')
}

describe('createBridge options', () => {
  it('a valid configuration creates a bridge without touching the network', () => {
    const bridge = createBridge(base())
    expect(bridge.issuer).toBe('https://mcp.example.com/oauth')
    expect(bridge.callbackUrl).toBe('https://mcp.example.com/oauth/callback')
  })

  it.each([
    ['issuer', { issuer: 'http://mcp.example.com/oauth' }, /https/],
    ['issuer', { issuer: 'https://mcp.example.com/oauth#x' }, /without query, credentials or fragment/],
    ['issuer', { issuer: 'not a url' }, /absolute URL/],
    ['resource', { resource: [] }, /canonical URI/],
    ['resource', { resource: 'https://MCP.example.com/mcp' }, /write "https:\/\/mcp\.example\.com\/mcp"/],
    ['scopes', { scopes: [] }, /scopes: \['mcp:tools'\]/],
    ['scopes', { scopes: ['mcp:tools', 'offline_access'] }, /always known/],
    ['upstream', { upstream: undefined }, /github\(\{ clientId, clientSecret \}\)/],
    ['upstream', { upstream: { kind: 'saml' } }, /pass a preset/],
    ['store', { store: { get() {} } }, /get\(kind, id\), set\(kind, id, value, ttlSeconds\)/],
    ['encryptionKeys', { encryptionKeys: ['short'] }, /43 characters/],
    ['encryptionKeys[0]', { encryptionKeys: ['x'.repeat(44)] }, /32 random bytes/],
    ['signingKeys', { signingKeys: [{ kty: 'EC', kid: 'k' }] }, /PRIVATE JWKs/],
    ['accessTokenTtl', { accessTokenTtl: 0 }, /positive integer/],
    ['transactionTtl', { transactionTtl: 1.5 }, /positive integer/],
    ['allowedRedirectUris', { allowedRedirectUris: [42] }, /exact URIs or RegExps/],
    ['deviceFlow', { deviceFlow: 'yes' }, /true or false/],
    ['upstream.scopeMap.repo', { upstream: github({ ...creds, scopeMap: { repo: ['repo'] } }) }, /does not grant/],
  ] as Array<[string, Record<string, unknown>, RegExp]>)('%s: %j', (option, override, message) => {
    const err = configError(() => createBridge({ ...base(), ...override } as BridgeOptions))
    expect(err.option).toBe(option)
    expect(err.message).toMatch(message)
  })

  it('accepts a store implementing the contract (the shape RedisStore has)', () => {
    expect(() => createBridge({ ...base(), store: new MemoryBridgeStore() })).not.toThrow()
  })
})

describe('presets', () => {
  it('github(): explicit endpoints, no PKCE, secret posted, identity from /user', () => {
    const up = github(creds)
    expect(up).toMatchObject({ kind: 'oauth2', pkce: false, tokenEndpointAuthMethod: 'client_secret_post', userinfoEndpoint: 'https://api.github.com/user', scopes: ['read:user'] })
    expect(up.subject!({ id: 42, login: 'octo' })).toBe('42')
    expect(github({ ...creds, url: 'https://ghe.example.com' }).userinfoEndpoint).toBe('https://ghe.example.com/api/v3/user')
  })

  it('google(), entra(), cognito(), oidc(): discovery issuers', () => {
    expect(google(creds)).toMatchObject({ kind: 'oidc', issuer: 'https://accounts.google.com', authorizationParams: { access_type: 'offline', prompt: 'consent' } })
    expect(entra({ ...creds, tenant: 'contoso.onmicrosoft.com' }).issuer).toBe('https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0')
    expect(cognito({ ...creds, region: 'eu-west-1', userPoolId: 'eu-west-1_AbC123' }).issuer).toBe('https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123')
    expect(oidc({ ...creds, issuer: 'https://idp.example.com/realms/main/' }).issuer).toBe('https://idp.example.com/realms/main')
  })

  it.each([
    ['upstream.clientId', () => github({ clientId: '', clientSecret: 's' }), /client id the IdP showed/],
    ['upstream.clientSecret', () => google({ clientId: 'i', clientSecret: ' s ' }), /no surrounding spaces/],
    ['upstream', () => github(undefined as never), /needs \{ clientId, clientSecret \}/],
    ['upstream.tenant', () => entra({ ...creds, tenant: 'common' }), /your tenant id/],
    ['upstream.tenant', () => entra({ ...creds, tenant: 'not a tenant' }), /GUID or a domain/],
    ['upstream.region', () => cognito({ ...creds, region: 'europe', userPoolId: 'eu-west-1_x' }), /'eu-west-1'/],
    ['upstream.userPoolId', () => cognito({ ...creds, region: 'eu-west-1', userPoolId: 'my-pool' }), /not its name or ARN/],
    ['upstream.userPoolId', () => cognito({ ...creds, region: 'eu-west-1', userPoolId: 'us-east-1_AbC' }), /write region: 'us-east-1'/],
    ['upstream.issuer', () => oidc({ ...creds, issuer: 'http://idp.example.com' }), /https/],
    ['upstream.tokenEndpoint', () => oauth2({ ...creds, authorizationEndpoint: 'https://a.example/auth', tokenEndpoint: 'nope', userinfoEndpoint: 'https://a.example/me' }), /absolute URL/],
    ['upstream.pkce', () => oauth2({ ...creds, authorizationEndpoint: 'https://a.example/auth', tokenEndpoint: 'https://a.example/token', userinfoEndpoint: 'https://a.example/me', pkce: 'auto' as never }), /true .* or false/],
    ['upstream.scopes', () => google({ ...creds, scopes: 'openid email' as never }), /array of scope strings/],
  ] as Array<[string, () => unknown, RegExp]>)('%s', (option, fn, message) => {
    const err = configError(fn)
    expect(err.option).toBe(option)
    expect(err.message).toMatch(message)
  })
})
