/** bridge.handler on node:http: what it claims, what it passes on (next), with an issuer at the root or with a path. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { createBridge, github, type Bridge } from '@mcp-oauth/bridge'

async function serve(handler: (bridge: Bridge) => (req: IncomingMessage, res: ServerResponse) => void, path: string) {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const bridge = createBridge({ issuer: `${origin}${path}`, resource: `${origin}/mcp`, scopes: ['mcp:tools'], upstream: github({ clientId: 'id', clientSecret: 'secret' }) })
  server.on('request', handler(bridge))
  return { origin, bridge, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

const app = (bridge: Bridge) => (req: IncomingMessage, res: ServerResponse) =>
  bridge.handler(req, res, () => void res.writeHead(200, { 'content-type': 'text/plain' }).end('the app'))

describe('bridge.handler', () => {
  it.each(['', '/oauth'])('issuer path %j: serves its metadata and routes, passes everything else to next()', async (path) => {
    const s = await serve(app, path)
    try {
      const meta = await fetch(`${s.origin}/.well-known/oauth-authorization-server${path}`)
      expect(meta.status).toBe(200)
      expect(((await meta.json()) as { issuer: string }).issuer).toBe(s.bridge.issuer)
      expect((await fetch(`${s.origin}${path}/jwks`)).status).toBe(200)
      for (const other of ['/mcp', '/', '/health', '/authz', '/.well-known/oauth-protected-resource/mcp']) {
        const res = await fetch(`${s.origin}${other}`)
        expect(await res.text(), other).toBe('the app')
      }
    } finally {
      await s.close()
    }
  })

  it('without next(): an escaped 404 page for paths that are not the bridge’s', async () => {
    const s = await serve((bridge) => (req, res) => bridge.handler(req, res), '/oauth')
    try {
      const res = await fetch(`${s.origin}/mcp?<script>`)
      expect(res.status).toBe(404)
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
      expect(await res.text()).not.toContain('<script>')
    } finally {
      await s.close()
    }
  })
})
