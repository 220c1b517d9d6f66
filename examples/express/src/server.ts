/**
 * An MCP server (MCP SDK v1, Streamable HTTP, stateful sessions) on Express, protected by mcp-oauth.
 * The auth is the two marked lines; everything else is the SDK's usual setup.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js'
import { mcpAuth } from '@mcp-oauth/express' // auth 1/2
import type { McpAuthOptions } from '@mcp-oauth/express'
import { createMcpServer } from './tools.js'

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

export function createApp(authOptions: McpAuthOptions, path = '/mcp'): express.Express {
  const app = express()
  app.use(express.json())
  app.use(mcpAuth(authOptions)) // auth 2/2: metadata routes + every method on `path` needs a valid token

  const transports = new Map<string, StreamableHTTPServerTransport>()
  app.post(path, async (req, res) => {
    const sessionId = req.header('mcp-session-id')
    let transport = sessionId ? transports.get(sessionId) : undefined
    if (!transport) {
      if (sessionId || !isInitializeRequest(req.body)) {
        res.status(400).json({ jsonrpc: '2.0', error: { code: -32000, message: 'No valid session' }, id: null })
        return
      }
      const created = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void transports.set(id, created),
      })
      created.onclose = () => {
        if (created.sessionId) transports.delete(created.sessionId)
      }
      await createMcpServer().connect(created)
      transport = created
    }
    await transport.handleRequest(req, res, req.body)
  })
  const sessionRequest = async (req: express.Request, res: express.Response) => {
    const transport = transports.get(req.header('mcp-session-id') ?? '')
    if (!transport) {
      res.status(400).json({ jsonrpc: '2.0', error: { code: -32000, message: 'No valid session' }, id: null })
      return
    }
    await transport.handleRequest(req, res)
  }
  app.get(path, sessionRequest)
  app.delete(path, sessionRequest)
  return app
}

/** Start the example on `port` (0: random) and return its URL. */
export async function startExampleServer(options: ExampleServerOptions): Promise<ExampleServer> {
  const host = options.host ?? '127.0.0.1'
  const path = options.path ?? '/mcp'
  // Listen first so the resource URL can name the real port, then attach the app.
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => resolve())
  })
  const { port } = server.address() as AddressInfo
  const url = `http://${host}:${port}${path}`
  const resource = options.auth.resource ?? url
  try {
    server.on('request', createApp({ ...options.auth, resource } as McpAuthOptions, path))
  } catch (err) {
    server.close()
    throw err
  }
  return {
    url,
    resource,
    server,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}
