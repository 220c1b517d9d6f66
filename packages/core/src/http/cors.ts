/**
 * CORS (the Fetch standard's protocol) on the MCP endpoint, so browser clients — the MCP Inspector in Direct
 * mode, web apps calling MCP servers — can read every answer: the 401 and its `WWW-Authenticate`, the other
 * refusals, and the transport's own responses with their `Mcp-Session-Id`. The metadata routes carry their own
 * (metadata/rfc9728.ts).
 *
 * `Access-Control-Allow-Origin: *`, never with credentials: tokens travel only in the `Authorization` header,
 * which a page can only send when it holds the token, and the resource server uses no cookies. A page on
 * another origin learns nothing it could not learn by calling without a token.
 *
 * @see https://fetch.spec.whatwg.org/#http-cors-protocol
 */
import type { PlainResponse } from './plain-response.js'
import type { RequestLike } from './request-like.js'

/** On every response of the MCP endpoint (refusals and the handler's answers) when `cors` is on. */
export const CORS_RESPONSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'WWW-Authenticate, Mcp-Session-Id, MCP-Protocol-Version, DPoP-Nonce',
})

/** The request headers MCP clients send; a preflight is always allowed these. */
const MCP_REQUEST_HEADERS = ['Authorization', 'Content-Type', 'Accept', 'MCP-Protocol-Version', 'Mcp-Method', 'Mcp-Name', 'Mcp-Session-Id', 'Last-Event-ID', 'DPoP']
const KNOWN = new Set(MCP_REQUEST_HEADERS.map((h) => h.toLowerCase()))
const DEFAULT_ALLOW_HEADERS = MCP_REQUEST_HEADERS.join(', ')
/** RFC 9110 field names, comma-separated: the only form of Access-Control-Request-Headers whose names are added. */
const FIELD_NAME_LIST = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:[ \t]*,[ \t]*[!#$%&'*+.^_`|~0-9A-Za-z-]+)*$/
const MAX_ASKED = 2048

/** A CORS preflight: answered without authentication (browsers send no credentials with it). */
export function isPreflight(request: RequestLike): boolean {
  return request.method === 'OPTIONS' && request.headers.get('access-control-request-method') !== null
}

/**
 * The answer to a preflight of the MCP endpoint: every method the transport serves, the headers MCP clients send,
 * and any other header the browser asks for (`Mcp-Param-*`, an application's own) when the list is well-formed.
 */
export function preflightResponse(request: RequestLike): PlainResponse {
  const asked = request.headers.get('access-control-request-headers')?.trim()
  let allow = DEFAULT_ALLOW_HEADERS
  if (asked && asked.length <= MAX_ASKED && FIELD_NAME_LIST.test(asked)) {
    const extra = asked.split(',').map((h) => h.trim()).filter((h) => !KNOWN.has(h.toLowerCase()))
    if (extra.length > 0) allow = `${DEFAULT_ALLOW_HEADERS}, ${extra.join(', ')}`
  }
  return {
    status: 204,
    headers: {
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
      'access-control-allow-headers': allow,
      'access-control-max-age': '86400',
      vary: 'Access-Control-Request-Headers',
    },
    body: '',
  }
}

/** The preflight answer with `cors: false`: a 204 without CORS headers, so the browser refuses the request. */
export const PREFLIGHT_WITHOUT_CORS: PlainResponse = Object.freeze({ status: 204, headers: Object.freeze({}), body: '' })

/** `plain` with the CORS response headers added. */
export function withCors(plain: PlainResponse): PlainResponse {
  return { ...plain, headers: { ...plain.headers, ...CORS_RESPONSE_HEADERS } }
}

/**
 * Add the CORS response headers to a response the host's handler writes, leaving any the application set itself
 * (its own CORS middleware decides then).
 */
export function addCorsHeaders(has: (name: string) => boolean, set: (name: string, value: string) => void): void {
  if (has('access-control-allow-origin')) return
  for (const [name, value] of Object.entries(CORS_RESPONSE_HEADERS)) set(name, value)
}
