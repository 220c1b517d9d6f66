/**
 * The public URL of a request behind a reverse proxy (RFC 7239 `Forwarded`, and the de-facto
 * `X-Forwarded-Proto/Host/Prefix`), used only when `trustProxy` is on. A proxy that strips a prefix
 * (`https://example.com/api/mcp` → `http://app:3000/mcp`) would otherwise make the protected path and the
 * metadata routes disagree with the resource the client connected to. Values are checked strictly: a
 * header that does not parse is refused (400), never half-used.
 */
import { McpAuthError } from '../errors.js'
import type { RequestLike } from './request-like.js'

export interface ForwardedParts {
  proto: string | undefined
  host: string | undefined
  prefix: string
}

const HOST = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i
const PREFIX = /^(?:\/[A-Za-z0-9\-._~!$&'()*+,;=:@%]+)*\/?$/

function bad(what: string): McpAuthError {
  return new McpAuthError('ERR_INVALID_REQUEST', `The ${what} header from the proxy is malformed`)
}

/** Only the nearest proxy's value counts: the last element of a comma-separated list it appended to. */
function last(value: string): string {
  const i = value.lastIndexOf(',')
  return (i < 0 ? value : value.slice(i + 1)).trim()
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value
}

/** Read the forwarded proto, host and prefix. Throws `ERR_INVALID_REQUEST` on anything malformed. */
export function forwardedParts(request: RequestLike): ForwardedParts {
  let proto: string | undefined
  let host: string | undefined
  const forwarded = request.headers.get('forwarded')
  if (forwarded !== null) {
    for (const pair of last(forwarded).split(';')) {
      const eq = pair.indexOf('=')
      if (eq <= 0) throw bad('Forwarded')
      const name = pair.slice(0, eq).trim().toLowerCase()
      const value = unquote(pair.slice(eq + 1).trim())
      if (name === 'proto') proto = value.toLowerCase()
      else if (name === 'host') host = value
    }
  }
  const xProto = request.headers.get('x-forwarded-proto')
  if (proto === undefined && xProto !== null) proto = last(xProto).toLowerCase()
  const xHost = request.headers.get('x-forwarded-host')
  if (host === undefined && xHost !== null) host = last(xHost)
  if (proto !== undefined && proto !== 'http' && proto !== 'https') throw bad(forwarded !== null ? 'Forwarded' : 'X-Forwarded-Proto')
  if (host !== undefined && !HOST.test(host)) throw bad(forwarded !== null ? 'Forwarded' : 'X-Forwarded-Host')
  let prefix = request.headers.get('x-forwarded-prefix') ?? ''
  if (prefix !== '') {
    prefix = last(prefix)
    if (!PREFIX.test(prefix) || prefix.includes('//') || /(?:^|\/)\.\.?(?:\/|$)/.test(prefix) || /%2f|%5c|%2e/i.test(prefix)) {
      throw bad('X-Forwarded-Prefix')
    }
    prefix = prefix.replace(/\/$/, '')
  }
  return { proto, host, prefix }
}
