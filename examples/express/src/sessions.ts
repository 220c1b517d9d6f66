/**
 * Stateful Streamable HTTP sessions over node:http requests (the MCP SDK's usual setup), shared by the Express
 * and Fastify examples. Nothing here is about auth: the adapter has already set `req.auth`, which the
 * transport hands to tools as `extra.authInfo`.
 */
import { randomUUID } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js'
import { createMcpServer } from './tools.js'

type NodeRequest = Parameters<StreamableHTTPServerTransport['handleRequest']>[0]

/** A handler for POST, GET and DELETE on the MCP endpoint; `body` is the parsed JSON body of a POST. */
export function mcpSessions(): (req: NodeRequest, res: ServerResponse, body?: unknown) => Promise<void> {
  const transports = new Map<string, StreamableHTTPServerTransport>()
  return async (req, res, body) => {
    const header = req.headers['mcp-session-id']
    const sessionId = typeof header === 'string' ? header : undefined
    let transport = sessionId ? transports.get(sessionId) : undefined
    if (!transport && !sessionId && req.method === 'POST' && isInitializeRequest(body)) {
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
    if (!transport) {
      res.writeHead(400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'No valid session' }, id: null }))
      return
    }
    await transport.handleRequest(req, res, body)
  }
}
