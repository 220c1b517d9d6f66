import { describe, expect, it } from 'vitest'
import { createMcpAuth, McpAuthConfigError, type McpAuthOptions } from '@mcp-oauth/core'

const base = { resource: 'https://mcp.example.com/mcp', issuer: 'https://idp.example.com' }

function configError(options: unknown): McpAuthConfigError {
  try {
    createMcpAuth(options as McpAuthOptions)
  } catch (err) {
    expect(err).toBeInstanceOf(TypeError)
    expect(err).toBeInstanceOf(McpAuthConfigError)
    expect((err as McpAuthConfigError).code).toBe('ERR_MCP_AUTH_CONFIG')
    return err as McpAuthConfigError
  }
  throw new Error('expected a configuration error')
}

describe('options are checked at creation', () => {
  it.each([
    ['missing resource', { issuer: base.issuer }, 'resource', /is required/],
    ['relative resource', { ...base, resource: '/mcp' }, 'resource', /not an absolute URL/],
    ['resource with a fragment', { ...base, resource: 'https://mcp.example.com/mcp#x' }, 'resource', /fragment/],
    ['resource with a query', { ...base, resource: 'https://mcp.example.com/mcp?a=1' }, 'resource', /query/],
    ['http resource off loopback', { ...base, resource: 'http://mcp.example.com/mcp' }, 'resource', /https/],
    ['ftp resource', { ...base, resource: 'ftp://mcp.example.com/mcp' }, 'resource', /https URL/],
    ['resource with credentials', { ...base, resource: 'https://u:p@mcp.example.com/mcp' }, 'resource', /credentials/],
    ['http issuer off loopback', { ...base, issuer: 'http://idp.example.com' }, 'issuer', /https/],
    ['empty issuer list', { ...base, issuer: [] }, 'issuer', /empty list/],
    ['no issuer at all', { resource: base.resource }, 'issuer', /is required/],
    ['duplicate issuer', { ...base, issuer: [base.issuer, base.issuer] }, 'issuer[1].issuer', /twice/],
    ['unknown option', { ...base, isuer: 'x' }, 'isuer', /unknown option/],
    ['known alias', { ...base, scopes: ['a'] }, 'scopes', /did you mean "requiredScopes"/],
    ['HS256 allowed', { ...base, algorithms: ['HS256'] }, 'algorithms', /asymmetric/],
    ['alg none', { ...base, algorithms: ['none'] }, 'algorithms', /asymmetric/],
    ['empty algorithms', { ...base, algorithms: [] }, 'algorithms', /must not be empty/],
    ['scope with a quote', { ...base, scopesSupported: ['a"b'] }, 'scopesSupported', /RFC 6749/],
    ['scope with a space', { ...base, requiredScopes: ['a b'] }, 'requiredScopes', /RFC 6749/],
    ['negative tolerance', { ...base, clockTolerance: -1 }, 'clockTolerance', /≥ 0/],
    ['NaN timeout', { ...base, timeout: Number.NaN }, 'timeout', /milliseconds/],
    ['introspection without secret', { ...base, introspection: { clientId: 'rs' } }, 'introspection.clientSecret', /required/],
    ['introspection bad method', { ...base, introspection: { clientId: 'rs', clientSecret: 's', authMethod: 'tls' } }, 'introspection.authMethod', /client_secret_basic/],
    ['opaque without introspection', { ...base, tokenFormat: 'opaque' }, 'tokenFormat', /needs introspection/],
    ['bad tokenFormat', { ...base, tokenFormat: 'jwe' }, 'tokenFormat', /"auto", "jwt" or "opaque"/],
    ['authorizationServers unknown key', { resource: base.resource, authorizationServers: [{ issuer: base.issuer, jwks: 'x' }] }, 'authorizationServers[0].jwks', /unknown option/],
    ['jwksUri not https', { resource: base.resource, authorizationServers: [{ issuer: base.issuer, jwksUri: 'http://keys.example.com' }] }, 'authorizationServers[0].jwksUri', /https/],
    ['verify not a function', { ...base, verify: 'yes' }, 'verify', /function/],
    ['options not an object', null, 'options', /pass an object/],
  ])('%s', (_name, options, option, message) => {
    const err = configError(options)
    expect(err.option).toBe(option)
    expect(err.message).toMatch(message)
  })

  it('accepts http on loopback and the explicit loosening elsewhere', () => {
    expect(createMcpAuth({ resource: 'http://127.0.0.1:3000/mcp', issuer: 'http://localhost:9000' }).resource).toBe('http://127.0.0.1:3000/mcp')
    expect(createMcpAuth({ resource: 'http://mcp.internal/mcp', issuer: 'http://idp.internal', allowInsecureHttp: true }).resource).toBe('http://mcp.internal/mcp')
  })
})

describe('canonical resource URI', () => {
  it.each([
    ['HTTPS://MCP.Example.COM/mcp', 'https://mcp.example.com/mcp'],
    ['https://mcp.example.com:443/mcp', 'https://mcp.example.com/mcp'],
    ['https://mcp.example.com/', 'https://mcp.example.com'],
    ['https://mcp.example.com', 'https://mcp.example.com'],
    ['https://mcp.example.com/mcp/', 'https://mcp.example.com/mcp/'],
    ['https://mcp.example.com:8443/a/b', 'https://mcp.example.com:8443/a/b'],
  ])('%s → %s', (input, canonical) => {
    expect(createMcpAuth({ resource: input, issuer: base.issuer }).resource).toBe(canonical)
  })

  it.each([
    ['https://mcp.example.com/mcp', 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp'],
    ['https://mcp.example.com', 'https://mcp.example.com/.well-known/oauth-protected-resource'],
    ['https://mcp.example.com/public/mcp/', 'https://mcp.example.com/.well-known/oauth-protected-resource/public/mcp/'],
  ])('metadata URL of %s is path-inserted (RFC 9728 §3.1)', (resource, url) => {
    expect(createMcpAuth({ resource, issuer: base.issuer }).protectedResourceMetadataUrl).toBe(url)
  })
})
