/**
 * CORS on the registration endpoint (RFC 7591). oidc-provider answers CORS on discovery, JWKS, token,
 * userinfo, introspection and revocation, but not on registration, so a browser client that registers itself
 * (the MCP Inspector v1 in Direct mode) is blocked before it can ask for a token. A development IdP lets any
 * origin register; registration takes no cookies, so the answer is `*`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'

const ALLOW = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, PUT, DELETE',
  // Authorization: the registration access token of RFC 7592 management requests.
  'access-control-allow-headers': 'Authorization, Content-Type',
  'access-control-max-age': '600',
}

export function isRegistrationPath(rel: string): boolean {
  return rel === '/reg' || rel.startsWith('/reg/')
}

/** Answer a preflight (true: done), or put the CORS header on the response oidc-provider is about to write. */
export function registrationCors(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
    req.resume()
    res.writeHead(204, ALLOW).end()
    return true
  }
  res.setHeader('access-control-allow-origin', '*')
  return false
}
