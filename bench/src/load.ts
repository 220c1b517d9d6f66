/**
 * The load generator: keep-alive HTTP/1.1 connections on loopback, each sending its next request as soon as
 * the previous answer is complete (no pipelining). Every request's bytes are built before the run, so per
 * request the generator does one write, one read and a scan for the end of the answer: on this 2-core machine
 * it shares the cores with the server and the thread pool, and autocannon (used before) took more CPU per
 * request than a whole Fastify server, which made every ratio hostage to how the scheduler placed the two.
 * Latency percentiles come from every response time.
 */
import { connect, type Socket } from 'node:net'

export const CONNECTIONS = 50
const BODY = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} })
const BASE_HEADERS: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }

/**
 * Where each request's token comes from: none, one repeated token, a pool where each request takes the next, or
 * whole header sets where each request takes the next (a DPoP token with a fresh proof each: `authorization`, `dpop`).
 */
export type TokenSource =
  | { type: 'none' }
  | { type: 'repeated'; token: string }
  | { type: 'pool'; tokens: readonly string[] }
  | { type: 'headers'; headers: readonly Record<string, string>[] }

export interface LoadResult {
  /** Completed requests per second over the whole run. */
  rps: number
  /** Latency in ms. */
  p50: number
  p99: number
  requests: number
  /** Responses that were not 2xx, and connection errors: any makes the run invalid. */
  failures: number
}

export interface LoadOptions {
  port: number
  tokens: TokenSource
  /** Seconds; ignored when `amount` is set. */
  duration?: number
  /** Exact number of requests (for pools: each token once). */
  amount?: number
  /** Another request than the default 2025-11-25 `tools/list`: its JSON body and extra headers (e.g. the MCP 2026-07-28 ones). */
  request?: { body: string; headers: Record<string, string> }
  /** Stop sending when this settles (another load's end: two loads over the same interval). */
  until?: Promise<unknown>
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
}

function requestBytes(port: number, headers: Record<string, string>, body: string): Buffer {
  const lines = [`POST /mcp HTTP/1.1`, `host: 127.0.0.1:${port}`, `content-length: ${Buffer.byteLength(body)}`]
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`)
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`)
}

/** Every request of the run, or (repeated / none) the one request sent again and again. */
function requestSet(opts: LoadOptions): Buffer[] {
  const src = opts.tokens
  const base = opts.request ? { ...BASE_HEADERS, ...opts.request.headers } : BASE_HEADERS
  const body = opts.request?.body ?? BODY
  switch (src.type) {
    case 'none':
      return [requestBytes(opts.port, base, body)]
    case 'repeated':
      return [requestBytes(opts.port, { ...base, authorization: `Bearer ${src.token}` }, body)]
    case 'pool':
      return src.tokens.map((token) => requestBytes(opts.port, { ...base, authorization: `Bearer ${token}` }, body))
    case 'headers':
      return src.headers.map((h) => requestBytes(opts.port, { ...base, ...h }, body))
  }
}

const CRLFCRLF = Buffer.from('\r\n\r\n')

/**
 * Open keep-alive connections left by earlier loads, per port: the next load on that port starts on them. A
 * fresh set of 50 connections per window made every window pay the handshakes, and on a busy core a dropped
 * SYN waits a whole second to be sent again (that connection idle for most of the window).
 */
const idle = new Map<number, Set<Socket>>()

/** Close the kept connections to `port` (its server is going away). */
export function dropConnections(port: number): void {
  for (const socket of idle.get(port) ?? []) socket.destroy()
  idle.delete(port)
}

/**
 * Where the first complete HTTP response in `buf` ends, and its status; undefined while incomplete. Knows
 * `content-length` and `transfer-encoding: chunked` bodies: what Node's servers send.
 */
function responseEnd(buf: Buffer): { end: number; status: number } | undefined {
  const headEnd = buf.indexOf(CRLFCRLF)
  if (headEnd < 0) return undefined
  const head = buf.toString('latin1', 0, headEnd).toLowerCase()
  const status = Number(head.slice(9, 12))
  const bodyStart = headEnd + 4
  const cl = head.indexOf('\r\ncontent-length:')
  if (cl >= 0) {
    const length = Number.parseInt(head.slice(cl + 17, head.indexOf('\r\n', cl + 17) >>> 0 || undefined), 10)
    return buf.length >= bodyStart + length ? { end: bodyStart + length, status } : undefined
  }
  if (head.includes('\r\ntransfer-encoding: chunked')) {
    let at = bodyStart
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', at)
      if (lineEnd < 0) return undefined
      const size = Number.parseInt(buf.toString('latin1', at, lineEnd), 16)
      if (size === 0) {
        // The last chunk, then the (empty) trailer section's CRLF.
        const trailerEnd = buf.indexOf('\r\n', lineEnd + 2)
        return trailerEnd < 0 ? undefined : { end: trailerEnd + 2, status }
      }
      at = lineEnd + 2 + size + 2
      if (buf.length < at) return undefined
    }
  }
  return { end: bodyStart, status }
}

export async function load(opts: LoadOptions): Promise<LoadResult> {
  const set = requestSet(opts)
  const total = opts.amount ?? Infinity
  let latencies = new Float64Array(1 << 16)
  let count = 0
  let failures = 0
  let issued = 0
  let next = 0
  let last = 0
  const start = performance.now()
  let deadline = opts.amount !== undefined && opts.until === undefined ? Infinity : start + (opts.duration ?? (opts.until ? 3600 : 4)) * 1000
  void opts.until?.finally(() => { deadline = 0 })
  const record = (ms: number) => {
    if (count === latencies.length) {
      const grown = new Float64Array(latencies.length * 2)
      grown.set(latencies)
      latencies = grown
    }
    latencies[count++] = ms
  }

  const runConnection = () => new Promise<void>((resolve) => {
    let socket: Socket
    let pending: Buffer | undefined
    let sentAt = 0
    let inFlight = false
    const send = () => {
      if (issued >= total || performance.now() >= deadline) {
        // Kept open for the next load on this port; closed by the server, it leaves the set.
        socket.removeAllListeners('data').removeAllListeners('close')
        socket.on('close', () => idle.get(opts.port)?.delete(socket))
        if (!idle.has(opts.port)) idle.set(opts.port, new Set())
        idle.get(opts.port)!.add(socket)
        resolve()
        return
      }
      issued++
      inFlight = true
      sentAt = performance.now()
      socket.write(set[next++ % set.length]!)
    }
    const onData = (chunk: Buffer) => {
      pending = pending ? Buffer.concat([pending, chunk]) : chunk
      const done = responseEnd(pending)
      if (!done) return
      last = performance.now()
      record(last - sentAt)
      if (done.status < 200 || done.status >= 300) failures++
      pending = done.end < pending.length ? pending.subarray(done.end) : undefined
      inFlight = false
      send()
    }
    const onClose = () => {
      idle.get(opts.port)?.delete(socket)
      if (!inFlight) return
      // The server dropped the connection mid-request: a failure; go on on a new connection.
      failures++
      inFlight = false
      if (issued < total && performance.now() < deadline) open()
      else resolve()
    }
    const attach = () => {
      socket.on('data', onData)
      socket.on('close', onClose)
    }
    const open = () => {
      pending = undefined
      const kept = idle.get(opts.port)
      const reused = kept?.values().next().value as Socket | undefined
      if (reused) {
        kept!.delete(reused)
        reused.removeAllListeners('data').removeAllListeners('close')
        socket = reused
        attach()
        send()
        return
      }
      socket = connect(opts.port, '127.0.0.1')
      socket.setNoDelay(true)
      socket.on('connect', send)
      socket.on('error', () => undefined)
      attach()
    }
    open()
  })

  await Promise.all(Array.from({ length: CONNECTIONS }, runConnection))
  const seconds = ((last || performance.now()) - start) / 1000
  const sorted = latencies.subarray(0, count).sort()
  return { rps: count / seconds, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), requests: count, failures }
}
