/**
 * A tiny round-robin HTTP load balancer on loopback, for many-instance tests: each request (not each TCP
 * connection, which a keep-alive client would pin to one backend) goes to the next backend in turn. Like
 * nginx's `proxy_next_upstream error`, a backend that refuses the connection is skipped, so an instance can be
 * stopped and restarted while clients keep going. Every forwarded request is logged with the backend that
 * served it, so a test can show that a session really moved between instances.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Backend {
  name: string
  /** `http://127.0.0.1:<port>` */
  origin: string
}

export interface ProxyLogEntry {
  backend: string
  method: string
  path: string
  sessionId: string | undefined
  status: number
}

export interface RoundRobinProxy {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string
  readonly log: ProxyLogEntry[]
  /** Pin requests to a backend by name (undefined: round robin), e.g. to register on A and authorize on B. */
  route: ((method: string, path: string) => string | undefined) | undefined
  close(): Promise<void>
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

export async function startRoundRobinProxy(backends: readonly Backend[]): Promise<RoundRobinProxy> {
  let next = 0
  const log: ProxyLogEntry[] = []

  function forward(req: IncomingMessage, res: ServerResponse, body: Buffer, attempt: number): void {
    const pinned = proxy.route?.(req.method ?? 'GET', new URL(req.url ?? '/', 'http://proxy.invalid').pathname)
    const backend = (pinned !== undefined && attempt === 1 ? backends.find((b) => b.name === pinned) : undefined) ?? backends[next++ % backends.length]!
    const target = new URL(req.url ?? '/', backend.origin)
    const upstream = httpRequest(target, { method: req.method, headers: req.headers }, (answer) => {
      const header = req.headers['mcp-session-id']
      log.push({ backend: backend.name, method: req.method ?? '', path: target.pathname, sessionId: typeof header === 'string' ? header : undefined, status: answer.statusCode ?? 0 })
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
      res.on('close', () => answer.destroy())
    })
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED' && attempt < backends.length) return forward(req, res, body, attempt + 1)
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway')
      else res.destroy()
    })
    upstream.end(body)
  }

  const server: Server = createServer((req, res) => {
    readBody(req).then((body) => forward(req, res, body, 1), () => res.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const proxy: RoundRobinProxy = {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    log,
    route: undefined,
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  return proxy
}
