/**
 * Build a {@link RequestLike} from a Node `IncomingMessage`-shaped object (Express, Fastify's raw request,
 * node:http) without importing anything from Node. Shared by every Node adapter so none of them has its own
 * header rules.
 */
import type { RequestLike } from './request-like.js'
import { BODY_TOO_LARGE, MAX_REQUEST_BODY_BYTES as MAX_BODY_BYTES, decodeChunks } from './body.js'

export interface NodeRequestLike {
  method?: string | undefined
  url?: string | undefined
  /** Express keeps the mount-independent URL here. */
  originalUrl?: string | undefined
  headers: Record<string, string | string[] | undefined>
  rawHeaders?: string[]
  /** A body the framework already parsed, if any. */
  body?: unknown
}

/**
 * Node keeps only the first of repeated `Authorization` headers; a fetch `Headers` joins them with ", ".
 * We join them too, so two credentials are refused (RFC 6750 §2) the same way on every host.
 */
function authorizationOf(raw: string[] | undefined, headers: NodeRequestLike['headers']): string | null {
  if (raw) {
    let value: string | null = null
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!
      if (name.length === 13 && name.toLowerCase() === 'authorization') {
        value = value === null ? raw[i + 1]! : `${value}, ${raw[i + 1]!}`
      }
    }
    return value
  }
  const h = headers.authorization
  return h === undefined ? null : Array.isArray(h) ? h.join(', ') : h
}

/**
 * `body`: the body the framework parsed, when the caller has read it already (default `req.body`).
 *
 * Each property of `req` is read once, here. Express gives every request and response a hidden class of its
 * own (it sets their prototypes), so V8 cannot cache where a property is: each read of one is a full lookup
 * (0.15–0.25 µs here, and the `headers` getter more), where a read of the plain headers object is not.
 */
export function requestLikeFromNode(req: NodeRequestLike, body: unknown = req.body): RequestLike {
  const headers = req.headers
  const raw = req.rawHeaders
  let authorization: string | null | undefined
  return {
    method: req.method ?? 'GET',
    url: req.originalUrl ?? req.url ?? '/',
    headers: {
      get(name: string): string | null {
        const lower = name.toLowerCase()
        if (lower === 'authorization') return authorization === undefined ? (authorization = authorizationOf(raw, headers)) : authorization
        const v = headers[lower]
        return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v
      },
    },
    // RFC 6750 §2.2 form-body tokens; only a form body counts, a JSON-RPC message may say anything.
    bodyHasAccessToken: body !== null && typeof body === 'object' && 'access_token' in body
      && String(headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded'),
  }
}

/**
 * The JSON body for the policy, read once. When the framework already parsed it, that is used; otherwise the
 * stream is read here, parsed, and stored as `req.body` (with `req._body = true`, the flag body parsers use
 * to skip a body that was already read) so the transport gets it as `parsedBody` and nothing reads twice.
 * Returns `undefined` when there is nothing to evaluate (not a JSON POST, or unparseable: the transport answers),
 * and {@link BODY_TOO_LARGE} past 4 MB (pass it on as the body: the core answers 413).
 */
export async function nodeJsonBody(req: NodeRequestLike & AsyncIterable<unknown> & { _body?: boolean; complete?: boolean; readableEnded?: boolean }): Promise<unknown> {
  if (req.body !== undefined) return req.body
  if ((req.method ?? 'GET') !== 'POST') return undefined
  // Media types are case-insensitive (RFC 9110 §8.3.1): a body skipped here is a body the policy never sees.
  const type = String(req.headers['content-type'] ?? '').toLowerCase()
  if (!type.includes('json') || req.readableEnded) return undefined
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of req) {
    const bytes = chunk instanceof Uint8Array ? chunk : new TextEncoder().encode(String(chunk))
    size += bytes.byteLength
    // Part of the stream is gone, so nothing can read it any more: the core answers 413.
    if (size > MAX_BODY_BYTES) return BODY_TOO_LARGE
    chunks.push(bytes)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(decodeChunks(chunks, size))
  } catch {
    parsed = undefined
  }
  req.body = parsed
  req._body = true
  return parsed
}
