/**
 * What every example host shares: listen first (so the resource URL can name the real port), then let the
 * host attach its app to the listening `node:http` server.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { McpAuthOptions } from '@mcp-oauth/express'
import { examplePolicy } from './tools.js'

export interface ExampleServerOptions {
  /** Options for mcp-oauth; `resource` is filled in from the listening port when omitted. */
  auth: Omit<McpAuthOptions, 'resource'> & { resource?: string }
  port?: number
  host?: string
  /** Path of the MCP endpoint. Default `/mcp`. */
  path?: string
}

export interface ExampleServer {
  url: string
  resource: string
  server: Server
  close(): Promise<void>
}

/** Attach the host's app to `server`; `auth` has the resource filled in. */
export type AttachApp = (server: Server, auth: McpAuthOptions, path: string) => void | Promise<void>

/** Start an example on `port` (0: random) and return its URL. */
export async function listenExample(options: ExampleServerOptions, attach: AttachApp): Promise<ExampleServer> {
  const host = options.host ?? '127.0.0.1'
  const path = options.path ?? '/mcp'
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => resolve())
  })
  const { port } = server.address() as AddressInfo
  const url = `http://${host}:${port}${path}`
  const resource = options.auth.resource ?? url
  const close = () => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  })
  try {
    await attach(server, { ...options.auth, resource } as McpAuthOptions, path)
  } catch (err) {
    await close()
    throw err
  }
  return { url, resource, server, close }
}

/**
 * Run an example from the command line: `ISSUER` (default the dev IdP at http://127.0.0.1:9000) and `PORT`
 * (default 3000), with the example policy (every tool needs mcp:tools, `deploy` also mcp:admin).
 */
export async function runExampleFromEnv(start: (options: ExampleServerOptions) => Promise<ExampleServer>): Promise<ExampleServer> {
  const issuer = process.env.ISSUER ?? 'http://127.0.0.1:9000'
  const server = await start({
    port: Number(process.env.PORT ?? 3000),
    auth: { issuer, scopesSupported: ['mcp:tools', 'mcp:admin'], requiredScopes: ['mcp:tools'], policy: examplePolicy },
  })
  console.log(`MCP server: ${server.url} (tokens from ${issuer})`)
  return server
}
