import { describe, expect, it } from 'vitest'
import { createMcpAuth } from '@mcp-oauth/core'
import { DPOP_PRM } from '../helpers/dpop.js'

const auth = createMcpAuth({
  resource: 'https://mcp.example.com/mcp',
  issuer: ['https://idp.example.com', 'https://m2m.example.com/tenant'],
  scopesSupported: ['mcp:tools', 'mcp:admin'],
  resourceName: 'Example MCP',
  resourceDocumentation: 'https://docs.example.com/mcp',
  resourcePolicyUri: 'https://example.com/policy',
  resourceTosUri: 'https://example.com/tos',
})

const req = (path: string, method = 'GET') => new Request(`https://mcp.example.com${path}`, { method })

describe('RFC 9728 protected resource metadata', () => {
  it('serves the document at the path-inserted URL and at the root', async () => {
    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
      const res = await auth.metadataResponse(req(path))
      expect(res?.status).toBe(200)
      expect(res?.headers.get('content-type')).toBe('application/json')
      expect(res?.headers.get('cache-control')).toMatch(/max-age=\d+/)
      expect(res?.headers.get('access-control-allow-origin')).toBe('*')
      expect(await res?.json()).toEqual({
        resource: 'https://mcp.example.com/mcp',
        authorization_servers: ['https://idp.example.com', 'https://m2m.example.com/tenant'],
        scopes_supported: ['mcp:tools', 'mcp:admin'],
        bearer_methods_supported: ['header'],
        resource_name: 'Example MCP',
        resource_documentation: 'https://docs.example.com/mcp',
        resource_policy_uri: 'https://example.com/policy',
        resource_tos_uri: 'https://example.com/tos',
        ...DPOP_PRM,
      })
    }
  })

  it('HEAD has the headers and no body', async () => {
    const res = await auth.metadataResponse(req('/.well-known/oauth-protected-resource/mcp', 'HEAD'))
    expect(res?.status).toBe(200)
    expect(await res?.text()).toBe('')
    expect(Number(res?.headers.get('content-length'))).toBeGreaterThan(50)
  })

  it('answers a CORS preflight for browser clients', async () => {
    const res = await auth.metadataResponse(new Request('https://mcp.example.com/.well-known/oauth-protected-resource/mcp', {
      method: 'OPTIONS', headers: { origin: 'http://localhost:6274', 'access-control-request-method': 'GET', 'access-control-request-headers': 'mcp-protocol-version' },
    }))
    expect(res?.status).toBe(204)
    expect(res?.headers.get('access-control-allow-origin')).toBe('*')
    expect(res?.headers.get('access-control-allow-headers')).toMatch(/MCP-Protocol-Version/)
    expect(res?.headers.get('access-control-allow-headers')).toMatch(/Authorization/)
    expect(res?.headers.get('access-control-allow-methods')).toMatch(/GET/)
  })

  it.each(['POST', 'PUT', 'DELETE', 'PATCH'])('%s → 405 with Allow', async (method) => {
    const res = await auth.metadataResponse(req('/.well-known/oauth-protected-resource/mcp', method))
    expect(res?.status).toBe(405)
    expect(res?.headers.get('allow')).toBe('GET, HEAD, OPTIONS')
  })

  it('is undefined for other paths', async () => {
    expect(await auth.metadataResponse(req('/mcp'))).toBeUndefined()
    expect(await auth.metadataResponse(req('/.well-known/oauth-protected-resource/other'))).toBeUndefined()
    expect(await auth.metadataResponse(req('/.well-known/oauth-authorization-server'))).toBeUndefined()
  })

  it('omits optional fields that are not configured, and uses requiredScopes when scopesSupported is empty', async () => {
    const minimal = createMcpAuth({ resource: 'https://mcp.example.com', issuer: 'https://idp.example.com', requiredScopes: ['mcp'] })
    const res = await minimal.metadataResponse(req('/.well-known/oauth-protected-resource'))
    expect(await res?.json()).toEqual({
      resource: 'https://mcp.example.com',
      authorization_servers: ['https://idp.example.com'],
      scopes_supported: ['mcp'],
      bearer_methods_supported: ['header'],
      ...DPOP_PRM,
    })
  })
})

describe('AS metadata discovery order (MCP 2025-11-25, RFC 8414 §3.1)', () => {
  it('an issuer with a path: OAuth path-inserted, OIDC path-inserted, OIDC path-appended', async () => {
    const { authorizationServerMetadataUrls } = await import('@mcp-oauth/core')
    expect(authorizationServerMetadataUrls('https://idp.example.com/tenant1')).toEqual([
      'https://idp.example.com/.well-known/oauth-authorization-server/tenant1',
      'https://idp.example.com/.well-known/openid-configuration/tenant1',
      'https://idp.example.com/tenant1/.well-known/openid-configuration',
    ])
  })

  it('an issuer without a path (with or without the trailing slash): OAuth, then OIDC', async () => {
    const { authorizationServerMetadataUrls } = await import('@mcp-oauth/core')
    for (const issuer of ['https://idp.example.com', 'https://idp.example.com/']) {
      expect(authorizationServerMetadataUrls(issuer)).toEqual([
        'https://idp.example.com/.well-known/oauth-authorization-server',
        'https://idp.example.com/.well-known/openid-configuration',
      ])
    }
  })
})
