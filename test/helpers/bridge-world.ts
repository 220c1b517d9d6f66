/**
 * One world for the bridge's end-to-end tests, all real: the dev IdP as the upstream (OIDC with PKCE, or
 * GitHub-like), the bridge and the bridge example's MCP server on one Express app (the bridge at /oauth, the MCP
 * endpoint at /mcp, protected by @mcp-oauth/express with issuer = the bridge), whose tool reads the upstream token.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createApp } from '@mcp-oauth/example-bridge'
import { DEV_BRIDGE_CLIENT_ID, devBridgeClient, devUpstream } from '@mcp-oauth/example-bridge/dev-upstream'
import { createBridge, MemoryBridgeStore, type Bridge, type BridgeOptions, type UpstreamConfig } from '@mcp-oauth/bridge'
import { startDevIdp, type DevIdp, type DevIdpOptions } from '@mcp-oauth/dev-idp'

export type UpstreamMode = 'oidc-pkce' | 'github-like'

export interface BridgeWorld {
  idp: DevIdp
  bridge: Bridge
  store: MemoryBridgeStore
  /** Origin of the app (bridge + MCP server). */
  origin: string
  mcpUrl: string
  /** An https client_id whose metadata document a local server serves (through the bridge's hostMap). */
  cimdUrl: string
  server: Server
  close(): Promise<void>
}

export interface WorldOptions {
  mode: UpstreamMode
  idp?: DevIdpOptions
  bridge?: Partial<BridgeOptions>
  upstream?: Partial<UpstreamConfig>
}

export const BRIDGE_CLIENT = { clientId: DEV_BRIDGE_CLIENT_ID, clientSecret: 'bridge-secret-for-tests-only-0123456789' }

export async function startBridgeWorld(options: WorldOptions): Promise<BridgeWorld> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const issuer = `${origin}/oauth`
  const mcpUrl = `${origin}/mcp`
  const callbackUrl = `${issuer}/callback`
  const github = options.mode === 'github-like'
  const cimdUrl = 'https://client.bridge.test/meta.json'
  const cimd = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      client_id: cimdUrl,
      client_name: 'bridge e2e CIMD client',
      redirect_uris: ['http://127.0.0.1:8090/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }))
  })
  await new Promise<void>((resolve) => cimd.listen(0, '127.0.0.1', resolve))
  const cimdOrigin = `http://127.0.0.1:${(cimd.address() as AddressInfo).port}`
  const idp = await startDevIdp({ ...options.idp, clients: [devBridgeClient(callbackUrl, BRIDGE_CLIENT.clientSecret, github)], ...(github ? { githubLike: true } : {}) })
  const upstream = devUpstream(idp.issuer, BRIDGE_CLIENT.clientSecret, github, options.upstream)
  const store = new MemoryBridgeStore()
  const bridge = createBridge({ issuer, resource: mcpUrl, scopes: ['mcp:tools', 'mcp:admin'], upstream, store, title: 'bridge e2e', clientIdMetadataDocuments: { hostMap: { 'client.bridge.test': cimdOrigin } }, ...options.bridge })

  const app = createApp(bridge, mcpUrl, `${idp.issuer}/me`, ['mcp:tools', 'mcp:admin'])
  server.on('request', app)
  await bridge.ready()
  return {
    idp,
    bridge,
    store,
    origin,
    mcpUrl,
    cimdUrl,
    server,
    async close() {
      cimd.closeAllConnections()
      cimd.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await idp.close()
    },
  }
}
