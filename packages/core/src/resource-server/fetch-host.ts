/**
 * `auth.fetch(handler)`: the resource server in front of a web-standard handler (Hono, Bun, Deno, Workers, the
 * MCP SDK's web-standard transport). With a policy it decides an MCP 2026-07-28 request from its headers first
 * (a refusal reads no body), then reads the JSON-RPC body once (bounded) for the body check — or to decide, for
 * a 2025-11-25 request — and hands it to the handler parsed, with a fresh Request; it applies the response
 * hooks itself.
 */
import type { AuthInfo } from '../auth-info.js'
import { MAX_REQUEST_BODY_BYTES } from '../http/body.js'
import { readLimited } from '../http/idp-fetch.js'
import { addCorsHeaders, PREFLIGHT_WITHOUT_CORS } from '../http/cors.js'
import { toResponse, type PlainResponse } from '../http/plain-response.js'
import type { RequestLike } from '../http/request-like.js'
import type { InterceptHooks } from '../http/node-response.js'
import type { HandleOptions, McpAuthOutcome } from './types.js'

export type FetchHandler = (request: Request, auth: AuthInfo, context: { parsedBody?: unknown }) => Response | Promise<Response>

export interface FetchHost {
  readsBody: boolean
  isMetadata: (request: RequestLike) => boolean
  handle: (request: RequestLike, opts?: HandleOptions) => Promise<McpAuthOutcome>
  checkBody: (outcome: McpAuthOutcome, body: unknown) => Promise<McpAuthOutcome>
  hooks: (outcome: McpAuthOutcome) => InterceptHooks | undefined
  /** Add the CORS response headers to the handler's answers (`cors` option). */
  cors: boolean
  tooLarge: PlainResponse
}

/** The parsed body and the Request to forward, or a 413 Response. */
async function readPolicyBody(request: Request, tooLarge: PlainResponse): Promise<{ body: unknown; forward: Request } | Response> {
  // Read the body once, and at most MAX_REQUEST_BODY_BYTES of it.
  let text: string
  try {
    text = await readLimited(request, MAX_REQUEST_BODY_BYTES)
  } catch {
    return toResponse(tooLarge)
  }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    body = undefined
  }
  return { body, forward: new Request(request.url, { method: request.method, headers: request.headers, body: text, signal: request.signal }) }
}

export async function serveFetch(host: FetchHost, request: Request, handler: FetchHandler): Promise<Response> {
  let body: unknown
  let forward = request
  // Media types are case-insensitive (RFC 9110 §8.3.1): a body skipped here is a body the policy never sees.
  const type = (request.headers.get('content-type') ?? '').toLowerCase()
  const readable = host.readsBody && request.method === 'POST' && type.includes('json') && !host.isMetadata(request)
  let outcome = await host.handle(request, { protect: true, ...(readable ? { bodyPending: true } : {}) })
  if (outcome.type === 'needs-body' || (outcome.type === 'authenticated' && outcome.needsBody)) {
    const read = await readPolicyBody(request, host.tooLarge)
    if (read instanceof Response) return read
    ;({ body, forward } = read)
    outcome = outcome.type === 'needs-body'
      ? await host.handle(request, { protect: true, ...(body !== undefined ? { body } : {}) })
      : await host.checkBody(outcome, body)
  }
  if (outcome.type === 'respond') return toResponse(outcome.response)
  // A preflight with `cors: false` (with it on, handle() answers it): nothing for the handler, and no CORS.
  if (outcome.type !== 'authenticated') return toResponse(PREFLIGHT_WITHOUT_CORS)
  const response = await handler(forward, outcome.auth, body !== undefined ? { parsedBody: body } : {})
  const hooks = host.hooks(outcome)
  const answer = hooks ? await applyHooks(response, hooks) : response
  // Only a browser's request needs them, and it always carries Origin (every CORS request does).
  return host.cors && request.headers.has('origin') ? withCorsHeaders(answer) : answer
}

async function applyHooks(response: Response, hooks: InterceptHooks): Promise<Response> {
  const sessionId = response.headers.get('mcp-session-id')
  if (sessionId) hooks.onSessionId?.(sessionId)
  if (!hooks.transformBody) return response
  const text = hooks.transformBody(await response.text(), response.headers.get('content-type') ?? '')
  const headers = new Headers(response.headers)
  headers.delete('content-length')
  return new Response(text, { status: response.status, statusText: response.statusText, headers })
}

/** The handler's response with the CORS headers it did not set; a copy when its headers are immutable (a fetched Response). */
function withCorsHeaders(response: Response): Response {
  const add = (headers: Headers) => addCorsHeaders((n) => headers.has(n), (n, v) => headers.set(n, v))
  try {
    add(response.headers)
    return response
  } catch {
    const headers = new Headers(response.headers)
    add(headers)
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers })
  }
}
