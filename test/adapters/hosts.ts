/**
 * Every host mcp-oauth supports, each running the same tiny protected app, so one battery (and the security
 * battery) can run identical cases against all of them:
 *
 *   - `/.well-known/oauth-protected-resource[/mcp]`  served by the adapter
 *   - `/mcp`     (GET, POST)  protected; answers 200 with `{ clientId, scopes, subject }` of `req.auth`
 *   - `/public`  (GET)        not protected; answers 200 with `{ auth: null }`
 *
 * Each host listens on 127.0.0.1:0 first and then builds its resource URL (`<origin>/mcp`) from the port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import express5 from 'express'
import express4 from 'express4'
import Fastify from 'fastify'
import { getRequestListener } from '@hono/node-server'
import { createMcpAuth, type AuthInfo, type McpAuth, type McpAuthOptions } from '@mcp-oauth/core'
import { mcpAuth as expressMcpAuth } from '@mcp-oauth/express'
import fastifyMcpAuth from '@mcp-oauth/fastify'
import { withMcpAuth } from '@mcp-oauth/node'

export type HostOptions = Omit<McpAuthOptions, 'resource'> & { resource?: string }

export interface RunningHost {
  /** The origin, `http://127.0.0.1:<port>` (no trailing slash). */
  url: string
  /** The canonical resource, `<origin>/mcp` unless given. */
  resource: string
  /** The core object the adapter is using. */
  auth: McpAuth
  close(): Promise<void>
}

export interface Host {
  name: 'express4' | 'express5' | 'fastify' | 'node' | 'fetch'
  start(options: HostOptions): Promise<RunningHost>
}

/** What `/mcp` answers: the parts of `req.auth` a tool would use. */
export interface AuthView {
  clientId: string
  scopes: string[]
  subject: string | undefined
}

export function view(auth: AuthInfo | null | undefined): AuthView | null {
  if (!auth) return null
  return { clientId: auth.clientId, scopes: auth.scopes, subject: (auth.extra as { subject?: string } | undefined)?.subject }
}

type Attach = (server: Server, options: McpAuthOptions) => McpAuth | Promise<McpAuth>

async function listen(options: HostOptions, attach: Attach): Promise<RunningHost> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const resource = options.resource ?? `${url}/mcp`
  const close = () => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  })
  try {
    const auth = await attach(server, { ...options, resource } as McpAuthOptions)
    return { url, resource, auth, close }
  } catch (err) {
    await close()
    throw err
  }
}

function expressHost(name: 'express4' | 'express5', express: typeof express5): Host {
  return {
    name,
    start: (options) => listen(options, (server, opts) => {
      const app = express()
      app.use(express.json())
      const middleware = expressMcpAuth(opts)
      app.use(middleware)
      app.route('/mcp').get((req, res) => void res.json(view(req.auth))).post((req, res) => void res.json(view(req.auth)))
      app.get('/public', (req, res) => void res.json({ auth: view(req.auth) }))
      server.on('request', app)
      return middleware.auth
    }),
  }
}

const fastifyHost: Host = {
  name: 'fastify',
  start: (options) => listen(options, async (server, opts) => {
    const app = Fastify({ serverFactory: (handler) => server.on('request', handler) })
    await app.register(fastifyMcpAuth, opts)
    app.route({ method: ['GET', 'POST'], url: '/mcp', handler: async (request) => view(request.auth) })
    app.get('/public', async (request) => ({ auth: view(request.auth) }))
    await app.ready()
    return app.mcpAuth.auth
  }),
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value))
}

const nodeHost: Host = {
  name: 'node',
  start: (options) => listen(options, (server, opts) => {
    const listener = withMcpAuth(opts, (req: IncomingMessage & { auth?: AuthInfo }, res) => {
      const path = (req.url ?? '/').split('?')[0]
      if (path === '/public') return sendJson(res, 200, { auth: view(req.auth) })
      if (req.auth) return sendJson(res, 200, view(req.auth))
      return sendJson(res, 404, { error: 'not_found' })
    })
    server.on('request', (req, res) => void listener(req, res))
    return listener.auth
  }),
}

/** A plain fetch handler (what Bun, Deno and Workers run), served on Node by @hono/node-server. */
const fetchHost: Host = {
  name: 'fetch',
  start: (options) => listen(options, (server, opts) => {
    const auth = createMcpAuth(opts)
    const protectedApp = auth.fetch((_request, info) => Response.json(view(info)))
    const app = (request: Request): Promise<Response> | Response =>
      new URL(request.url).pathname === '/public' ? Response.json({ auth: null }) : protectedApp(request)
    server.on('request', getRequestListener(app))
    return auth
  }),
}

/** The hosts, in the order the batteries run them. */
export const hosts: readonly Host[] = [
  expressHost('express4', express4 as unknown as typeof express5),
  expressHost('express5', express5),
  fastifyHost,
  nodeHost,
  fetchHost,
]
