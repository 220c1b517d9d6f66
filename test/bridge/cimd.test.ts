/**
 * Client ID Metadata Documents at the bridge (oidc-provider's CIMD: 5 KB cap, 2.5 s timeout, no redirects, its
 * SSRF guard for everything not mapped for development): hostile documents are refused before any consent page.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { browse, pageError } from '../helpers/browser.js'
import { startBridgeWorld, type BridgeWorld } from '../helpers/bridge-world.js'
import { authorizationRequest, metadata, type AsMetadata } from '../helpers/oauth-client.js'

const REDIRECT = 'http://127.0.0.1:8090/callback'
const id = (path: string) => `https://hostile.test/${path}`
const doc = (path: string, extra: Record<string, unknown> = {}) => ({ client_id: id(path), client_name: path, redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', ...extra })

const routes: Record<string, (res: import('node:http').ServerResponse) => void> = {
  ok: (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc('ok'))),
  big: (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc('big', { client_name: 'x'.repeat(6_000) }))),
  'big-chunked': (res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.write(JSON.stringify(doc('big-chunked')).slice(0, -1))
    res.end(`,"padding":"${'y'.repeat(8_000)}"}`)
  },
  mismatch: (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc('mismatch', { client_id: 'https://other.test/ok' }))),
  'not-json': (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('<html>{{{'),
  array: (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('[]'),
  redirect: (res) => res.writeHead(302, { location: 'https://hostile.test/ok' }).end(),
  'not-found': (res) => res.writeHead(404).end(),
  secret: (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc('secret', { client_secret: 'shh' }))),
  'shared-secret-auth': (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc('shared-secret-auth', { token_endpoint_auth_method: 'client_secret_basic' }))),
  'evil-redirect': (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc('evil-redirect', { redirect_uris: ['http://evil.example/cb'] }))),
  'script-name': (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc('script-name', { client_name: '<script>alert(1)</script>' }))),
  hang: () => {},
}

let cimd: Server
let world: BridgeWorld
let as: AsMetadata

beforeAll(async () => {
  cimd = createServer((req, res) => {
    const route = routes[(req.url ?? '/').slice(1)]
    if (route) route(res)
    else res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => cimd.listen(0, '127.0.0.1', resolve))
  world = await startBridgeWorld({ mode: 'oidc-pkce', bridge: { clientIdMetadataDocuments: { hostMap: { 'hostile.test': `http://127.0.0.1:${(cimd.address() as AddressInfo).port}` } } } })
  as = await metadata(world.bridge.issuer)
})
afterAll(async () => {
  await world?.close()
  cimd?.closeAllConnections()
  cimd?.close()
})

async function authorize(path: string) {
  const req = authorizationRequest(as, id(path), REDIRECT, { resource: world.mcpUrl })
  return fetch(req.url, { redirect: 'manual' })
}

describe('CIMD at the bridge', () => {
  it('a well-formed document: straight to the consent page', async () => {
    const res = await authorize('ok')
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toContain('/interaction/')
  })

  it.each([
    ['larger than 5 KB (Content-Length)', 'big'],
    ['larger than 5 KB (streamed)', 'big-chunked'],
    ['whose client_id is another URL', 'mismatch'],
    ['that is not JSON', 'not-json'],
    ['that is not an object', 'array'],
    ['behind a redirect', 'redirect'],
    ['that is not there', 'not-found'],
    ['with a client_secret', 'secret'],
    ['with shared-secret authentication', 'shared-secret-auth'],
    ['with an http redirect URI on a public host', 'evil-redirect'],
    ['that never answers (2.5 s timeout)', 'hang'],
  ])('a document %s → refused with an escaped error page, no redirect', async (_name, path) => {
    const res = await authorize(path)
    expect(res.status).toBe(400)
    expect(res.headers.get('location')).toBeNull()
    const html = await res.text()
    expect(['invalid_client', 'invalid_client_metadata', 'invalid_redirect_uri']).toContain(pageError(html).error)
    expect(html).not.toMatch(/<script/i)
  })

  it('what a document says about itself is escaped on the consent page', async () => {
    const req = authorizationRequest(as, id('script-name'), REDIRECT, { resource: world.mcpUrl })
    const r = await browse(req.url, { origins: [world.origin, world.idp.url], consent: () => 'stop' })
    if (r.kind !== 'consent') throw new Error(r.kind)
    expect(r.form.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(r.form.html).not.toContain('<script>')
    expect(r.form.html).toContain(id('script-name'))
  })

  it('an unmapped host on a private address is never fetched (oidc-provider’s SSRF guard)', async () => {
    const req = authorizationRequest(as, `https://127.0.0.1:${(cimd.address() as AddressInfo).port}/ok`, REDIRECT, { resource: world.mcpUrl })
    const res = await fetch(req.url, { redirect: 'manual' })
    expect(res.status).toBe(400)
    expect(pageError(await res.text()).error).toBe('invalid_client')
  })
})
