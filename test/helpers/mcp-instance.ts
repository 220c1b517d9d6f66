/**
 * One instance of a many-instance MCP deployment, as a user would build it: Express, mcp-oauth with session
 * binding on Redis, and the MCP SDK's Streamable HTTP transport. A 2025-11-25 session lives in the instance
 * that created it; any other instance (or this one after a restart) serves the same session with a per-request
 * transport once it finds the session in Redis. Nothing here is about auth except the `mcpAuth` line: the
 * binding store makes a session created on A refused on B for another user.
 *
 * MCP 2026-07-28 requests (no session) go to the SDK v2 handler: any instance, nothing shared.
 *
 * Each instance has its own Redis connection, as separate processes would. `stop()` / `start()` restart it on
 * the same port with fresh memory (a new app, a new mcp-oauth object, a new connection).
 */
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import { mcpAuth, type McpAuthOptions } from '@mcp-oauth/express'
import type { McpAuthEvent } from '@mcp-oauth/core'
import { RedisStore, StoreUnavailableError, type RedisStoreEvent } from '@mcp-oauth/redis'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js'
import { createMcpServer } from '@mcp-oauth/example-express/tools'
import { mcpDualEra } from '@mcp-oauth/example-express/dual-era'

export interface McpInstance {
  readonly name: string
  readonly origin: string
  readonly port: number
  /** Redis events of the current run of this instance. */
  readonly events: RedisStoreEvent[]
  /** mcp-oauth events of the current run of this instance. */
  readonly authEvents: McpAuthEvent[]
  start(): Promise<void>
  stop(): Promise<void>
}

export interface McpInstanceOptions {
  name: string
  redisUrl: string
  /** mcp-oauth options; `sessionBinding` is filled in with the Redis store. */
  auth: Omit<McpAuthOptions, 'sessionBinding'>
}

const SESSION_TTL_SECONDS = 3_600

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body))
}

function app(options: McpInstanceOptions, store: RedisStore, authEvents: McpAuthEvent[]): express.Express {
  const local = new Map<string, StreamableHTTPServerTransport>()
  const a = express()
  a.use(express.json())
  a.use(mcpAuth({ ...options.auth, sessionBinding: { store }, onEvent: (e) => void authEvents.push(e) }))

  /** 2025-11-25 traffic; 2026-07-28 requests go to the SDK v2 handler (mcpDualEra), which keeps no state at all. */
  async function legacy(req: IncomingMessage, res: ServerResponse, body?: unknown): Promise<void> {
    const header = req.headers['mcp-session-id']
    const sessionId = typeof header === 'string' ? header : undefined
    const mine = sessionId ? local.get(sessionId) : undefined
    if (mine) return mine.handleRequest(req, res, body)

    if (!sessionId && isInitializeRequest(body)) {
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        // The session exists for every instance once it is in Redis, before the client learns its id.
        onsessioninitialized: async (id) => {
          local.set(id, transport)
          await store.set('mcp-session', id, '1', SESSION_TTL_SECONDS)
        },
      })
      transport.onclose = () => void (transport.sessionId && local.delete(transport.sessionId))
      await createMcpServer().connect(transport)
      return transport.handleRequest(req, res, body)
    }
    if (sessionId && !(await store.get('mcp-session', sessionId, { ttlSeconds: SESSION_TTL_SECONDS }))) {
      return json(res, 404, { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null })
    }
    if (req.method === 'DELETE') {
      if (sessionId) await store.delete('mcp-session', sessionId)
      res.writeHead(200).end()
      return
    }
    // Another instance's session (or no session at all): one transport for this request only.
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined })
    const server = createMcpServer()
    res.on('close', () => {
      void transport.close()
      void server.close()
    })
    await server.connect(transport)
    await transport.handleRequest(req, res, body)
  }
  const both = mcpDualEra(legacy)

  // Server-initiated messages would need a shared bus between instances; this deployment offers none.
  a.get('/mcp', (_req, res) => void res.status(405).set('allow', 'POST, DELETE').end())
  a.all('/mcp', (req, res) => {
    both(req, res, req.body).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy()
      if (err instanceof StoreUnavailableError) return json(res, 503, { error: 'temporarily_unavailable' }, { 'retry-after': String(err.retryAfter ?? 2) })
      json(res, 500, { error: 'server_error' })
    })
  })
  return a
}

export async function startMcpInstance(options: McpInstanceOptions): Promise<McpInstance> {
  let server: Server | undefined
  let store: RedisStore | undefined
  let port = 0
  let events: RedisStoreEvent[] = []
  let authEvents: McpAuthEvent[] = []

  async function start(): Promise<void> {
    if (server) return
    events = []
    authEvents = []
    const runEvents = events
    store = new RedisStore({ url: options.redisUrl, onEvent: (e) => runEvents.push(e) })
    await store.ready()
    const s = createServer(app(options, store, authEvents))
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject)
      s.listen(port, '127.0.0.1', () => resolve())
    })
    port = (s.address() as AddressInfo).port
    server = s
  }

  async function stop(): Promise<void> {
    const s = server
    server = undefined
    if (s) {
      s.closeAllConnections()
      await new Promise<void>((resolve) => s.close(() => resolve()))
    }
    await store?.close()
    store = undefined
  }

  await start()
  return {
    name: options.name,
    get origin() {
      return `http://127.0.0.1:${port}`
    },
    get port() {
      return port
    },
    get events() {
      return events
    },
    get authEvents() {
      return authEvents
    },
    start,
    stop,
  }
}
