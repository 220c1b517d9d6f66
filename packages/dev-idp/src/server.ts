import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { Readable } from 'node:stream'
import { classify, WK_OAUTH, WK_OIDC, type FailureInjector } from './failure-injection.js'
import { BodyTooLarge, readBody, sendJson } from './http.js'
import { handleInteraction, type InteractionDeps } from './interactions.js'
import { isJwtShaped, type JwtTokenEndpoints } from './jwt-token-endpoints.js'
import { isRegistrationPath, registrationCors } from './registration-cors.js'

/** The IdP's node:http server, listening, with its sockets tracked so close() can end them. */
export interface Listening {
  server: Server
  port: number
  close(): Promise<void>
}

export async function listen(port: number, host: string): Promise<Listening> {
  const server = createServer()
  const sockets = new Set<Socket>()
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return {
    server,
    port: (server.address() as AddressInfo).port,
    async close() {
      const done = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeIdleConnections()
      const grace = new Promise<void>((resolve) => setTimeout(resolve, 500).unref())
      await Promise.race([done, grace])
      server.closeAllConnections()
      for (const socket of sockets) socket.destroy()
      await done
    },
  }
}

export function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1'
  if (host === '::') return '[::1]'
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
}

export interface RequestHandlerDeps {
  issuer: string
  issuerPath: string
  serveOAuthMetadata: boolean
  /** false: no metadata at any well-known URL (githubLike). Default true. */
  serveDiscovery?: boolean
  /** JWTs at introspection: answered by the front layer (`true`) or left to oidc-provider (`false`: 400 unsupported_token_type). */
  introspectJwts: boolean
  injector: FailureInjector
  jwtEndpoints: JwtTokenEndpoints
  interactions: InteractionDeps
  /** oidc-provider's node callback. */
  callback: (req: IncomingMessage, res: ServerResponse) => Promise<void> | void
  isClosing: () => boolean
}

/**
 * The front layer every request passes: 503 while closing, 404 off the issuer, counters and injected
 * failures (failure-injection.ts), then dispatch to the interactions, the JWT-aware introspection and
 * revocation (jwt-token-endpoints.ts) or oidc-provider.
 */
export function createRequestHandler(deps: RequestHandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { issuer, issuerPath, serveOAuthMetadata, injector } = deps

  function resolveRel(pathname: string): string | undefined {
    if (issuerPath) {
      // RFC 8414 / OIDC path-inserted well-known URLs for an issuer with a path.
      if (pathname === WK_OIDC + issuerPath) return WK_OIDC
      if (pathname === WK_OAUTH + issuerPath) return serveOAuthMetadata ? WK_OIDC : undefined
      if (pathname !== issuerPath && !pathname.startsWith(issuerPath + '/')) return undefined
    }
    const rel = pathname.slice(issuerPath.length) || '/'
    if (rel === WK_OAUTH) return serveOAuthMetadata ? WK_OIDC : undefined
    return rel
  }

  return (req, res) => {
    if (deps.isClosing()) {
      req.resume()
      res.writeHead(503, { connection: 'close', 'content-length': '0' }).end()
      return
    }
    injector.countTotal()
    const parsed = new URL(req.url ?? '/', 'http://dev-idp.invalid')
    const resolved = resolveRel(parsed.pathname)
    const rel = resolved === WK_OIDC && deps.serveDiscovery === false ? undefined : resolved
    if (rel === undefined) {
      req.resume()
      sendJson(res, 404, { error: 'not_found', error_description: `no such endpoint on this issuer (${issuer})` })
      return
    }
    injector.handle(classify(rel), req, res, () => {
      dispatch(deps, req, res, rel, parsed.search).catch((err: unknown) => onError(err, res))
    })
  }
}

async function dispatch(deps: RequestHandlerDeps, req: IncomingMessage, res: ServerResponse, rel: string, search: string): Promise<void> {
  if (rel.startsWith('/interaction/')) {
    await handleInteraction(deps.interactions, req, res, rel)
    return
  }
  if (isRegistrationPath(rel) && registrationCors(req, res)) return
  let target = req
  if (
    req.method === 'POST' &&
    (rel === '/token/introspection' || rel === '/token/revocation') &&
    /^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')
  ) {
    const body = await readBody(req)
    const form = new URLSearchParams(body.toString('utf8'))
    const token = form.get('token')
    if (token && isJwtShaped(token) && (rel === '/token/revocation' || deps.introspectJwts)) {
      await deps.jwtEndpoints.handle(rel, req, res, form, token)
      return
    }
    target = replayRequest(req, body)
  }
  if (rel === '/auth' && req.method === 'GET') {
    // RFC 6749 §3.3: a request without scope is processed with a pre-defined default ('openid'), so
    // clients that know no scopes (no PRM scopes_supported, no challenge scope) still get a token.
    const params = new URLSearchParams(search)
    if (!params.has('scope') && !params.has('request') && !params.has('request_uri')) {
      params.set('scope', 'openid')
      search = `?${params.toString()}`
    }
  }
  target.url = rel + search
  ;(target as IncomingMessage & { originalUrl?: string }).originalUrl = deps.issuerPath + rel + search
  await deps.callback(target, res)
}

function onError(err: unknown, res: ServerResponse): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  if (err instanceof BodyTooLarge) {
    sendJson(res, 413, { error: 'invalid_request', error_description: 'request body too large' })
    return
  }
  console.error('[dev-idp] request failed', err)
  sendJson(res, 500, { error: 'server_error', error_description: 'dev-idp internal error' })
}

/** A re-readable copy of a request whose body has already been consumed (handed to oidc-provider). */
function replayRequest(req: IncomingMessage, body: Buffer): IncomingMessage {
  const replay = new Readable({ read() {} })
  replay.push(body)
  replay.push(null)
  for (const prop of ['headers', 'rawHeaders', 'method', 'url', 'httpVersion', 'httpVersionMajor', 'httpVersionMinor', 'socket', 'trailers', 'rawTrailers'] as const) {
    Object.defineProperty(replay, prop, { value: req[prop], writable: true, configurable: true, enumerable: true })
  }
  Object.defineProperty(replay, 'connection', { value: req.socket, writable: true, configurable: true })
  Object.defineProperty(replay, 'complete', { value: true, writable: true, configurable: true })
  return replay as unknown as IncomingMessage
}
