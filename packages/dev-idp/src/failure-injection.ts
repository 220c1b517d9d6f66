import type { IncomingMessage, ServerResponse } from 'node:http'
import { sendJson } from './http.js'
import type { CountedEndpoint, FailableEndpoint, FailureMode } from './types.js'

const FAILABLE = new Set<FailableEndpoint>(['jwks', 'introspection', 'discovery', 'token', 'userinfo', 'all'])
export const WK_OIDC = '/.well-known/openid-configuration'
export const WK_OAUTH = '/.well-known/oauth-authorization-server'

/** Which counted endpoint a provider-relative path is (`rel` with the well-known URLs already folded). */
export function classify(rel: string): Exclude<CountedEndpoint, 'total'> | undefined {
  switch (rel) {
    case WK_OIDC:
      return 'discovery'
    case '/jwks':
      return 'jwks'
    case '/token':
      return 'token'
    case '/me':
      return 'userinfo'
    case '/token/introspection':
      return 'introspection'
    case '/auth':
      return 'authorization'
    case '/reg':
      return 'registration'
    default:
      return rel.startsWith('/reg/') ? 'registration' : undefined
  }
}

function validateFailureMode(mode: FailureMode): void {
  switch (mode?.kind) {
    case 'ok':
    case 'hang':
    case 'garbage':
    case 'json':
      return
    case 'status':
      if (!Number.isInteger(mode.status) || mode.status < 200 || mode.status > 599) {
        throw new TypeError('dev-idp: fail(…, { kind: "status", status }) needs an integer status 200–599')
      }
      return
    case 'oauth-error':
      if (!Number.isInteger(mode.status) || mode.status < 400 || mode.status > 499 || typeof mode.error !== 'string' || !mode.error) {
        throw new TypeError('dev-idp: fail(…, { kind: "oauth-error", status, error }) needs a 4xx status and an error code')
      }
      return
    case 'delay':
      if (!(mode.ms >= 0)) throw new TypeError('dev-idp: fail(…, { kind: "delay", ms }) needs ms >= 0')
      return
    case 'huge':
      if (!(mode.bytes >= 0)) throw new TypeError('dev-idp: fail(…, { kind: "huge", bytes }) needs bytes >= 0')
      return
    default:
      throw new TypeError(`dev-idp: unknown failure mode ${JSON.stringify(mode)}`)
  }
}

const zeroCounts = (): Record<CountedEndpoint, number> => ({
  jwks: 0,
  introspection: 0,
  discovery: 0,
  token: 0,
  userinfo: 0,
  registration: 0,
  authorization: 0,
  total: 0,
})

/**
 * Test hooks at the HTTP level, in front of oidc-provider: request counters per endpoint and injected
 * failures (status, hang, delay, garbage, huge bodies, arbitrary JSON, OAuth error answers). Backs `fail()`, `heal()`,
 * `counts` and `resetCounts()`.
 */
export class FailureInjector {
  private counted = zeroCounts()
  private readonly failures = new Map<FailableEndpoint, FailureMode>()
  private readonly hung = new Set<{ res: ServerResponse; release: () => void }>()
  private readonly delayed = new Map<NodeJS.Timeout, ServerResponse>()
  private readonly streaming = new Set<ServerResponse>()

  get counts(): Record<CountedEndpoint, number> {
    return { ...this.counted }
  }

  resetCounts(): void {
    this.counted = zeroCounts()
  }

  fail(endpoint: FailableEndpoint, mode: FailureMode): void {
    if (!FAILABLE.has(endpoint)) {
      throw new TypeError(`dev-idp: fail() endpoint must be one of ${[...FAILABLE].join(', ')} (got ${JSON.stringify(endpoint)})`)
    }
    validateFailureMode(mode)
    if (mode.kind === 'ok') this.failures.delete(endpoint)
    else this.failures.set(endpoint, structuredClone(mode))
  }

  heal(): void {
    this.failures.clear()
    const waiting = [...this.hung]
    this.hung.clear()
    for (const h of waiting) h.release()
  }

  /** On close: drop every held, delayed or streaming response. */
  destroyAll(): void {
    for (const [timer, res] of this.delayed) {
      clearTimeout(timer)
      res.destroy()
    }
    this.delayed.clear()
    for (const h of this.hung) h.res.destroy()
    this.hung.clear()
    for (const res of this.streaming) res.destroy()
  }

  /** Count one request (`total` always) and answer it per the injected failure, or `proceed()`. */
  handle(endpoint: Exclude<CountedEndpoint, 'total'> | undefined, req: IncomingMessage, res: ServerResponse, proceed: () => void): void {
    if (endpoint) this.counted[endpoint]++
    const specific = endpoint && FAILABLE.has(endpoint as FailableEndpoint) ? this.failures.get(endpoint as FailableEndpoint) : undefined
    const mode = specific ?? this.failures.get('all')
    if (mode) this.apply(mode, req, res, proceed)
    else proceed()
  }

  countTotal(): void {
    this.counted.total++
  }

  private apply(mode: FailureMode, req: IncomingMessage, res: ServerResponse, proceed: () => void): void {
    switch (mode.kind) {
      case 'ok':
        proceed()
        return
      case 'status': {
        req.resume()
        if (mode.status === 204 || mode.status === 304) {
          res.writeHead(mode.status).end()
        } else {
          sendJson(res, mode.status, { error: 'server_error', error_description: `injected failure (dev-idp): HTTP ${mode.status}` })
        }
        return
      }
      case 'hang': {
        const entry = { res, release: proceed }
        this.hung.add(entry)
        res.on('close', () => this.hung.delete(entry))
        return
      }
      case 'delay': {
        const timer = setTimeout(() => {
          this.delayed.delete(timer)
          proceed()
        }, mode.ms)
        this.delayed.set(timer, res)
        res.on('close', () => {
          if (this.delayed.delete(timer)) clearTimeout(timer)
        })
        return
      }
      case 'garbage': {
        req.resume()
        const body = '<html><body>this is not JSON {{{'
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
        res.end(body)
        return
      }
      case 'huge':
        req.resume()
        void this.streamHuge(res, mode.bytes).catch(() => res.destroy())
        return
      case 'json':
        req.resume()
        sendJson(res, 200, mode.body)
        return
      case 'oauth-error': {
        req.resume()
        // RFC 6749 §5.2: a 401 names the authentication scheme the client should use.
        const headers: Record<string, string> = mode.status === 401 ? { 'www-authenticate': 'Basic realm="dev-idp"' } : {}
        sendJson(res, mode.status, { error: mode.error, ...(mode.description ? { error_description: mode.description } : {}) }, headers)
        return
      }
    }
  }

  private async streamHuge(res: ServerResponse, bytes: number): Promise<void> {
    this.streaming.add(res)
    try {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      const head = Buffer.from('{"keys":[],"padding":"')
      const tail = Buffer.from('"}')
      let remaining = Math.max(0, bytes - head.length - tail.length)
      const chunk = Buffer.alloc(64 * 1024, 'a')
      if (!res.write(head)) await new Promise((r) => res.once('drain', r))
      while (remaining > 0 && !res.destroyed) {
        const n = Math.min(remaining, chunk.length)
        remaining -= n
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) await drainOrClose(res)
      }
      if (!res.destroyed) res.end(tail)
    } finally {
      this.streaming.delete(res)
    }
  }
}

function drainOrClose(res: ServerResponse): Promise<void> {
  return new Promise<void>((r) => {
    const done = () => {
      res.off('drain', done)
      res.off('close', done)
      r()
    }
    res.once('drain', done)
    res.once('close', done)
  })
}
