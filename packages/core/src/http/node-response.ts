/**
 * Watching and rewriting a Node `ServerResponse`-shaped object without importing Node: seeing the
 * `Mcp-Session-Id` the transport assigns (to bind the session to its user), and buffering a `tools/list`
 * answer to filter it. Shared by every Node adapter, so none of them has rules of its own.
 */

type Headers = Record<string, unknown> | unknown[] | undefined

/** The parts of `http.ServerResponse` used here. */
export interface NodeResponseLike {
  writeHead(statusCode: number, ...rest: unknown[]): unknown
  write(chunk: unknown, ...rest: unknown[]): boolean
  end(...args: unknown[]): unknown
  getHeader(name: string): unknown
  setHeader?(name: string, value: string): unknown
  removeHeader?(name: string): void
  flushHeaders?(): void
  /** The request this answers (`ServerResponse.req`). */
  req?: { headers?: Record<string, unknown> }
}

function headerFrom(headers: Headers, name: string): string | undefined {
  if (!headers) return undefined
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2) if (String(headers[i]).toLowerCase() === name) return String(headers[i + 1])
    return undefined
  }
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name && v !== undefined) return String(v)
  return undefined
}

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk
  return new TextEncoder().encode(typeof chunk === 'string' ? chunk : String(chunk ?? ''))
}

export interface InterceptHooks {
  /** Called once with the `Mcp-Session-Id` the response assigns, before its headers leave. */
  onSessionId?: (sessionId: string) => void
  /** Rewrite the whole body (buffered) before it is sent. */
  transformBody?: (body: string, contentType: string) => string
}

export function interceptNodeResponse(res: NodeResponseLike, hooks: InterceptHooks): void {
  const original = { writeHead: res.writeHead, write: res.write, end: res.end, flushHeaders: res.flushHeaders }
  let sessionSeen = false
  const seeSession = (headers?: Headers) => {
    if (sessionSeen || !hooks.onSessionId) return
    const id = headerFrom(headers, 'mcp-session-id') ?? (res.getHeader('mcp-session-id') as string | undefined)
    if (id) {
      sessionSeen = true
      hooks.onSessionId(String(id))
    }
  }

  if (!hooks.transformBody) {
    // Headers leave through writeHead: explicitly, or from write()/end() via _implicitHeader(), which calls
    // this.writeHead. One wrapper sees them all.
    res.writeHead = function (this: unknown, status: number, ...rest: unknown[]) {
      res.writeHead = original.writeHead
      seeSession(rest.find((r) => typeof r === 'object') as Headers)
      return original.writeHead.call(res, status, ...rest)
    }
    return
  }

  const transform = hooks.transformBody
  let head: { status: number; rest: unknown[] } | undefined
  const chunks: Uint8Array[] = []
  res.writeHead = function (this: unknown, status: number, ...rest: unknown[]) {
    head = { status, rest }
    return res
  }
  if (original.flushHeaders) res.flushHeaders = () => {}
  res.write = function (this: unknown, chunk: unknown) {
    chunks.push(toBytes(chunk))
    return true
  }
  res.end = function (this: unknown, ...args: unknown[]) {
    const [chunk] = args
    if (chunk !== undefined && typeof chunk !== 'function') chunks.push(toBytes(chunk))
    const size = chunks.reduce((n, c) => n + c.byteLength, 0)
    const all = new Uint8Array(size)
    let offset = 0
    for (const c of chunks) {
      all.set(c, offset)
      offset += c.byteLength
    }
    let headers = head?.rest.find((r) => typeof r === 'object' && r !== null) as Record<string, unknown> | undefined
    const contentType = headerFrom(headers, 'content-type') ?? String(res.getHeader('content-type') ?? '')
    const body = transform(new TextDecoder().decode(all), contentType)
    const bytes = new TextEncoder().encode(body)
    if (headers && !Array.isArray(headers)) {
      headers = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'content-length'))
    }
    seeSession(headers)
    res.removeHeader?.('content-length')
    res.writeHead = original.writeHead
    res.write = original.write
    res.end = original.end
    if (original.flushHeaders) res.flushHeaders = original.flushHeaders
    const statusLine = head?.rest.find((r) => typeof r === 'string')
    if (head) original.writeHead.call(res, head.status, ...(statusLine ? [statusLine] : []), ...(headers ? [headers] : []))
    return original.end.call(res, bytes)
  }
}
