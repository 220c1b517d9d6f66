/**
 * The load generator: autocannon against a server on loopback. Latency percentiles are computed here from
 * every response time (autocannon's own histogram has whole-millisecond buckets, too coarse at these speeds).
 */
import autocannon from 'autocannon'

export const CONNECTIONS = 50
const BODY = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} })
const BASE_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }

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
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
}

export async function load(opts: LoadOptions): Promise<LoadResult> {
  const src = opts.tokens
  const base = opts.request ? { ...BASE_HEADERS, ...opts.request.headers } : BASE_HEADERS
  const headers = src.type === 'repeated' ? { ...base, authorization: `Bearer ${src.token}` } : base
  let next = 0
  const requests = src.type === 'pool'
    ? [{
        setupRequest: (req: autocannon.Request) => {
          const token = src.tokens[next++ % src.tokens.length]!
          req.headers = { ...base, authorization: `Bearer ${token}` }
          return req
        },
      }]
    : src.type === 'headers'
      ? [{
          setupRequest: (req: autocannon.Request) => {
            req.headers = { ...base, ...src.headers[next++ % src.headers.length] }
            return req
          },
        }]
      : undefined
  let latencies = new Float64Array(1 << 16)
  let count = 0
  let last = 0
  const start = performance.now()
  const instance = autocannon({
    url: `http://127.0.0.1:${opts.port}/mcp`,
    method: 'POST',
    headers,
    body: opts.request?.body ?? BODY,
    connections: CONNECTIONS,
    ...(opts.amount !== undefined ? { amount: opts.amount } : { duration: opts.duration ?? 4 }),
    ...(requests ? { requests } : {}),
  })
  // Without a callback autocannon returns its tracker (an EventEmitter), which is also a promise of the result.
  ;(instance as unknown as NodeJS.EventEmitter).on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
    if (count === latencies.length) {
      const grown = new Float64Array(latencies.length * 2)
      grown.set(latencies)
      latencies = grown
    }
    latencies[count++] = responseTime
    last = performance.now()
  })
  const result = await instance
  // autocannon's own duration is rounded to its 1 s sampling tick, which distorts short fixed-amount runs.
  const seconds = (last - start) / 1000
  const sorted = latencies.subarray(0, count).sort()
  return {
    rps: count / seconds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    requests: count,
    failures: result.non2xx + result.errors + result.timeouts,
  }
}
