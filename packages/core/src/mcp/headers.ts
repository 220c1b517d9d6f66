/**
 * The MCP Streamable HTTP headers the resource server reads or answers with: `Mcp-Session-Id`,
 * `MCP-Protocol-Version`, and the CORS preflight of the MCP endpoint (browser clients such as the Inspector).
 */
import type { PlainResponse } from '../http/plain-response.js'
import type { RequestLike } from '../http/request-like.js'

export const MCP_SESSION_ID = 'mcp-session-id'

export const CORS_PREFLIGHT_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
  // Mcp-Method and Mcp-Name: the MCP 2026-07-28 request metadata headers (SEP-2243) browser clients send.
  'access-control-allow-headers': 'Authorization, Content-Type, MCP-Protocol-Version, Mcp-Method, Mcp-Name, Mcp-Session-Id, Last-Event-ID',
  'access-control-expose-headers': 'WWW-Authenticate, Mcp-Session-Id',
  'access-control-max-age': '86400',
}

/** What the fetch host answers to a preflight of the MCP endpoint (other hosts leave it to their CORS setup). */
export const PREFLIGHT_RESPONSE: PlainResponse = { status: 204, headers: CORS_PREFLIGHT_HEADERS, body: '' }

/** A CORS preflight: passed on untouched, never authenticated (browsers send no credentials with it). */
export function isPreflight(request: RequestLike): boolean {
  return request.method === 'OPTIONS' && request.headers.get('access-control-request-method') !== null
}

/** The session the request names, if any. */
export function sessionIdOf(request: RequestLike): string | undefined {
  return request.headers.get(MCP_SESSION_ID) ?? undefined
}
