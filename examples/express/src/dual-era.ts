/**
 * One MCP endpoint for both protocol revisions, over node:http requests (shared by the Express, Fastify and
 * node:http examples): 2025-11-25 traffic (initialize, sessions, GET/DELETE) goes to the SDK v1 stateful
 * sessions, 2026-07-28 traffic (per-request `_meta`, `Mcp-Method`/`Mcp-Name` headers, `server/discover`) to
 * the SDK v2 handler, which validates those headers itself (400, -32020). The era is the SDK's own
 * classification (`isLegacyRequest`). Nothing here is about auth: the adapter has already set `req.auth`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createMcpHandler, isLegacyRequest, type AuthInfo } from '@modelcontextprotocol/server'
import { toNodeHandler, toWebRequest } from '@modelcontextprotocol/node'
import { mcpSessions } from './sessions.js'
import { createMcpServerV2 } from './tools-v2.js'

type NodeHandler = (req: IncomingMessage, res: ServerResponse, body?: unknown) => Promise<void>

/**
 * A handler for POST, GET and DELETE on the MCP endpoint; `body` is the parsed JSON body of a POST, if any.
 * `legacy` serves 2025-11-25 traffic (default: the SDK v1 stateful sessions).
 */
export function mcpDualEra(legacy: NodeHandler = mcpSessions()): NodeHandler {
  const modern = toNodeHandler(createMcpHandler(() => createMcpServerV2(), { legacy: 'reject' }))
  return async (req, res, body) => {
    // Body-less GET and DELETE are 2025-11-25 session operations (2026-07-28 has neither).
    if (req.method !== 'POST') return legacy(req, res)
    let parsed = body
    if (parsed === undefined) {
      // Nothing read the stream yet: read it once here and hand the parsed body to whichever side serves it.
      const text = await (await toWebRequest(req)).text()
      try {
        parsed = JSON.parse(text)
      } catch {
        parsed = undefined
      }
    }
    if (parsed === undefined || await isLegacyRequest(await toWebRequest(req, parsed), parsed)) return legacy(req, res, parsed)
    return modern(req, res, parsed)
  }
}

type FetchHandler = (request: Request, authInfo: AuthInfo, parsedBody: unknown) => Promise<Response>

/**
 * The same for a fetch handler (behind `auth.fetch`): 2026-07-28 traffic to the SDK v2 handler, the rest to
 * `legacy`. `parsedBody` is the body `auth.fetch` already read, if any.
 */
export function mcpDualEraFetch(legacy: FetchHandler): FetchHandler {
  const modern = createMcpHandler(() => createMcpServerV2(), { legacy: 'reject' })
  return async (request, authInfo, parsedBody) => {
    if (request.method !== 'POST') return legacy(request, authInfo, parsedBody)
    let parsed = parsedBody
    if (parsed === undefined) {
      try {
        parsed = JSON.parse(await request.clone().text())
      } catch {
        return legacy(request, authInfo, undefined)
      }
    }
    if (await isLegacyRequest(request, parsed)) return legacy(request, authInfo, parsed)
    return modern.fetch(request, { authInfo, parsedBody: parsed })
  }
}
