/**
 * Every request to an IdP goes through here: a timeout, no redirects, and a cap on the body size, so a slow,
 * broken or hostile IdP can cost a bounded amount of time and memory.
 */
import { decodeChunks } from './body.js'

/** Largest body read from an IdP (metadata, JWKS, introspection). */
export const MAX_IDP_BODY_BYTES = 512 * 1024

/** Why an IdP request failed. Only used for events and for the 503 path; never shown to clients. */
export class IdpUnavailable extends Error {
  override readonly name = 'IdpUnavailable'
}

export interface IdpFetchOptions {
  fetch: typeof fetch
  timeout: number
}

/** Read a body up to `limit` bytes; throws past it, without buffering the rest. */
export async function readLimited(response: Pick<Response, 'headers' | 'body'>, limit = MAX_IDP_BODY_BYTES): Promise<string> {
  const length = Number(response.headers.get('content-length'))
  if (Number.isFinite(length) && length > limit) {
    await response.body?.cancel().catch(() => {})
    throw new IdpUnavailable(`response body over ${limit} bytes`)
  }
  if (!response.body) return ''
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel().catch(() => {})
      throw new IdpUnavailable(`response body over ${limit} bytes`)
    }
    chunks.push(value)
  }
  return decodeChunks(chunks, size)
}

/**
 * Connection closed before any answer: what a request sent on a kept-alive connection meets when the IdP closed
 * that connection at the same moment (its idle timeout). Undici's `other side closed` is UND_ERR_SOCKET.
 */
const DROPPED = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET'])

/**
 * `fetch` with a timeout covering headers and body, and `redirect: 'manual'` (a 3xx is a failure). A request
 * whose connection is closed before any answer is sent once more, inside the same timeout: every request here
 * reads (metadata, keys, introspection, a provider's token check), so a second one changes nothing at the IdP.
 */
export async function idpFetch(url: string, init: RequestInit, options: IdpFetchOptions): Promise<{ response: Response; body: string }> {
  const signal = AbortSignal.timeout(options.timeout)
  let response: Response
  try {
    response = await options.fetch(url, { ...init, redirect: 'manual', signal })
  } catch (first) {
    if (signal.aborted || !DROPPED.has(errorCode(first) ?? '')) throw new IdpUnavailable(describeFetchError(first), { cause: first })
    try {
      response = await options.fetch(url, { ...init, redirect: 'manual', signal })
    } catch (cause) {
      throw new IdpUnavailable(describeFetchError(cause), { cause })
    }
  }
  try {
    return { response, body: await readLimited(response) }
  } catch (cause) {
    if (cause instanceof IdpUnavailable) throw cause
    throw new IdpUnavailable(describeFetchError(cause), { cause })
  }
}

export function parseJsonObject(body: string, url: string): Record<string, unknown> {
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    throw new IdpUnavailable(`invalid JSON from ${url}`)
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new IdpUnavailable(`not a JSON object from ${url}`)
  return json as Record<string, unknown>
}

/** The error code behind a failed `fetch` (Node puts the socket's in `cause`). */
function errorCode(err: unknown): string | undefined {
  const code = err instanceof Error ? (err.cause as { code?: unknown } | undefined)?.code : undefined
  return typeof code === 'string' ? code : undefined
}

function describeFetchError(cause: unknown): string {
  if (cause instanceof Error) {
    if (cause.name === 'TimeoutError' || cause.name === 'AbortError') return 'timed out'
    return errorCode(cause) ?? cause.message
  }
  return 'fetch failed'
}
