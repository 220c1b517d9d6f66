/**
 * Regression (found by the MCP Inspector v1 in Direct mode, test/browser/inspector-v1.test.ts): a browser client
 * could not register at the dev IdP — oidc-provider puts no CORS on its registration endpoint, so Chromium
 * blocked the preflight of POST /reg and the Inspector stopped before the login page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDevIdp, type DevIdp } from '@mcp-oauth/dev-idp'

let idp: DevIdp
beforeAll(async () => {
  idp = await startDevIdp({ issuerPath: '/tenant' })
})
afterAll(() => idp?.close())

const origin = 'http://127.0.0.1:6274'

describe('dev IdP: CORS on dynamic client registration', () => {
  it('answers the preflight of POST /reg for any origin', async () => {
    const res = await fetch(`${idp.issuer}/reg`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    })
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(res.headers.get('access-control-allow-methods')).toContain('POST')
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type')
  })

  it('puts Access-Control-Allow-Origin on the registration answer, success and error alike', async () => {
    const register = (metadata: unknown) => fetch(`${idp.issuer}/reg`, {
      method: 'POST',
      headers: { origin, 'content-type': 'application/json' },
      body: JSON.stringify(metadata),
    })
    const ok = await register({ redirect_uris: [`${origin}/oauth/callback`], token_endpoint_auth_method: 'none', client_name: 'browser' })
    expect(ok.status).toBe(201)
    expect(ok.headers.get('access-control-allow-origin')).toBe('*')
    const bad = await register({ redirect_uris: ['not a url'] })
    expect(bad.status).toBe(400)
    expect(bad.headers.get('access-control-allow-origin')).toBe('*')
  })

  it('an OPTIONS without Access-Control-Request-Method is not a preflight and is left to oidc-provider', async () => {
    const res = await fetch(`${idp.issuer}/reg`, { method: 'OPTIONS' })
    expect(res.status).not.toBe(204)
  })
})
