/**
 * The MCP Streamable HTTP headers the resource server reads: `Mcp-Session-Id`. (CORS for browser clients:
 * http/cors.ts.)
 */
import type { RequestLike } from '../http/request-like.js'

export const MCP_SESSION_ID = 'mcp-session-id'

/** The session the request names, if any. */
export function sessionIdOf(request: RequestLike): string | undefined {
  return request.headers.get(MCP_SESSION_ID) ?? undefined
}
