/**
 * The servers under test. Every one serves the same minimal MCP-like endpoint — `POST /mcp` with a JSON-RPC
 * body, answered with a small JSON-RPC result — so the numbers measure the auth layer and the framework, not
 * the MCP SDK's session machinery. Each auth library is set up the way its own documentation recommends.
 * Imports are per kind, so a server's isolate holds only its own framework and library.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express, { type Request, type RequestHandler, type Response } from 'express'
import type { McpAuthOptions } from '@mcp-oauth/core'

export type ServerKind =
  | 'express-bare'
  | 'fastify-bare'
  | 'express-async-noop'
  | 'express-set-auth'
  | 'fastify-async-noop'
  | 'fastify-two-hooks'
  | 'fastify-spin'
  | 'fastify-floor'
  | 'express-floor'
  | 'express-mcp-oauth'
  | 'fastify-mcp-oauth'
  | 'express-mcp-oauth-previous'
  | 'fastify-mcp-oauth-previous'
  | 'fastify-jose'
  | 'express-sdk'
  | 'express-auth0'
  | 'express-mcp-auth'

export interface ServerSpec {
  kind: ServerKind
  /** The canonical resource URI (the tokens' audience). */
  resource: string
  /** The issuer whose tokens are trusted (discovery from it). */
  issuer: string
  /** The issuer's JWKS, for the peers that take it directly. */
  jwksUri: string
  /** mcp-oauth options beyond resource and issuer (introspection, cache). */
  mcpOauth?: Partial<McpAuthOptions>
  /** fastify-spin: the wall-clock microseconds its hook spins per request. */
  spinUs?: number
}

/**
 * A kind as the command line gives it, optionally followed by mcp-oauth options as JSON
 * (`fastify-mcp-oauth{"nativeCrypto":"inline"}`, or `fastify-spin{"spinUs":3}`), on top of `base` (resource, issuer, JWKS).
 */
export function specOf(arg: string, base: Omit<ServerSpec, 'kind'>): ServerSpec {
  const brace = arg.indexOf('{')
  const kind = (brace < 0 ? arg : arg.slice(0, brace)) as ServerKind
  if (brace < 0) return { ...base, kind }
  // fastify-spin{"spinUs":3}: the spin time; any other kind's JSON is mcp-oauth options.
  const { spinUs, ...mcpOauth } = JSON.parse(arg.slice(brace)) as ServerSpec['mcpOauth'] & { spinUs?: number }
  return { ...base, kind, mcpOauth, ...(spinUs !== undefined ? { spinUs } : {}) }
}

export interface RunningServer {
  port: number
  close(): Promise<void>
}

/** The CORS headers the adapters put on every authenticated answer before issue 18 (packages/core/src/http/cors.ts). */
const CORS_RESPONSE_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'WWW-Authenticate, Mcp-Session-Id, MCP-Protocol-Version, DPoP-Nonce',
}

function rpcResult(body: unknown): string {
  const id = (body as { id?: unknown } | undefined)?.id ?? null
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"tools":[]}}`
}

function mcpHandler(req: Request, res: Response): void {
  res.type('application/json').send(rpcResult(req.body))
}

interface FloorEntry { token: string; clientId: string; scopes: string[]; exp: number }

/**
 * The least a cache-hit check can do (fastify-floor, express-floor): compare the path, read the header, one Map
 * lookup of a token remembered on its first use, check its expiry. 'skip' off the protected path (or the first
 * use), 'refuse' for anything else that is not the remembered token.
 */
function floorCheck(): (url: string, authorization: string | undefined) => FloorEntry | 'skip' | 'refuse' {
  const known = new Map<string, FloorEntry>()
  return (url, authorization) => {
    if (url !== '/mcp' && !url.startsWith('/mcp?')) return 'skip'
    const token = authorization !== undefined && authorization.startsWith('Bearer ') ? authorization.slice(7) : undefined
    if (token === undefined) return 'refuse'
    const hit = known.get(token.slice(-43))
    if (hit === undefined) {
      known.set(token.slice(-43), { token, clientId: 'bench-client', scopes: [], exp: Date.now() / 1000 + 3600 })
      return 'skip'
    }
    return hit.token !== token || hit.exp * 1000 <= Date.now() ? 'refuse' : hit
  }
}

function listen(server: Server): Promise<RunningServer> {
  // The load generator keeps its connections between windows (bench/src/load.ts).
  server.keepAliveTimeout = 600_000
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({
      port: (server.address() as AddressInfo).port,
      close: () => new Promise<void>((done) => {
        server.closeAllConnections()
        server.close(() => done())
      }),
    }))
  })
}

async function expressServer(spec: ServerSpec): Promise<RunningServer> {
  const app = express()
  app.disable('x-powered-by')
  app.use(express.json())
  // Peers whose docs put the middleware on the route itself, as `app.post('/mcp', auth, handler)`.
  let routeAuth: RequestHandler | undefined
  switch (spec.kind) {
    case 'express-bare':
      break
    case 'express-async-noop':
      // The floor of any asynchronous auth middleware: one promise hop, nothing else.
      app.use((_req, _res, next) => void Promise.resolve().then(() => next()))
      break
    case 'express-set-auth':
      // The floor of any auth for the MCP SDK transport, which reads `req.auth`: set it, nothing else.
      app.use((req, _res, next) => {
        req.auth = { token: 'bench', clientId: 'bench-client', scopes: [] }
        next()
      })
      break
    case 'express-floor': {
      // fastify-floor's check as an Express middleware. Not a usable auth layer.
      const check = floorCheck()
      app.use((req, res, next) => {
        const hit = check(req.url, req.headers.authorization)
        if (hit === 'refuse') return void res.status(401).set('www-authenticate', 'Bearer').end()
        if (hit !== 'skip') req.auth = hit
        next()
      })
      break
    }
    case 'express-mcp-oauth': {
      // mcp-oauth README: app.use(mcpAuth({ resource, issuer })), metadata routes included.
      const { mcpAuth } = await import('@mcp-oauth/express')
      app.use(mcpAuth({ resource: spec.resource, issuer: spec.issuer, ...spec.mcpOauth }))
      break
    }
    case 'express-mcp-oauth-previous': {
      // The adapter as it was before issue 18, rebuilt from the public API for a before/after in one run: a
      // promise per request (handle()), and the CORS headers on every answer, asked for by a browser or not.
      const { createMcpAuth, requestLikeFromNode } = await import('@mcp-oauth/core')
      const auth = createMcpAuth({ resource: spec.resource, issuer: spec.issuer, ...spec.mcpOauth })
      app.use((req, res, next) => {
        auth.handle(requestLikeFromNode(req), req.body === undefined ? undefined : { body: req.body }).then((outcome) => {
          if (outcome.type === 'respond') {
            res.status(outcome.response.status).set(outcome.response.headers).end(outcome.response.body)
            return
          }
          if (outcome.type === 'authenticated') {
            req.auth = outcome.auth
            for (const [name, value] of Object.entries(CORS_RESPONSE_HEADERS)) res.setHeader(name, value)
            auth.watchNodeResponse(outcome, res)
          }
          next()
        }, next)
      })
      break
    }
    case 'express-sdk': {
      // MCP SDK: requireBearerAuth with an OAuthTokenVerifier; the verifier is jose's remote JWK set + jwtVerify.
      const { requireBearerAuth } = await import('@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js')
      const { createRemoteJWKSet, jwtVerify } = await import('jose')
      const jwks = createRemoteJWKSet(new URL(spec.jwksUri))
      const verifier = {
        async verifyAccessToken(token: string) {
          const { payload } = await jwtVerify(token, jwks, { issuer: spec.issuer, audience: spec.resource })
          return {
            token,
            issuer: String(payload.iss),
            clientId: String(payload.client_id ?? ''),
            scopes: typeof payload.scope === 'string' ? payload.scope.split(' ') : [],
            expiresAt: payload.exp,
            resource: new URL(spec.resource),
          }
        },
      }
      const resource = new URL(spec.resource)
      routeAuth = requireBearerAuth({
        verifier,
        expectedResource: resource,
        resourceMetadataUrl: `${resource.origin}/.well-known/oauth-protected-resource${resource.pathname}`,
      })
      break
    }
    case 'express-auth0': {
      // express-oauth2-jwt-bearer README: app.use(auth({ issuerBaseURL, audience })); discovery finds the JWKS.
      const { auth } = await import('express-oauth2-jwt-bearer')
      app.use(auth({ issuerBaseURL: spec.issuer, audience: spec.resource }))
      break
    }
    case 'express-mcp-auth': {
      // mcp-auth docs, resource-server mode with a pre-fetched authorization server config.
      const { MCPAuth, fetchServerConfig } = await import('mcp-auth')
      const server = await fetchServerConfig(spec.issuer, { type: 'oauth' })
      const mcpAuth = new MCPAuth({
        protectedResources: [{ metadata: { resource: spec.resource, authorizationServers: [server], scopesSupported: ['mcp:tools'] } }],
      })
      app.use(mcpAuth.protectedResourceMetadataRouter())
      routeAuth = mcpAuth.bearerAuth('jwt', { resource: spec.resource, audience: spec.resource })
      break
    }
    default:
      throw new TypeError(`not an Express server: ${spec.kind}`)
  }
  if (routeAuth) app.post('/mcp', routeAuth, mcpHandler)
  else app.post('/mcp', mcpHandler)
  return listen(createServer(app))
}

async function fastifyServer(spec: ServerSpec): Promise<RunningServer> {
  const { default: Fastify } = await import('fastify')
  const app = Fastify({ logger: false, keepAliveTimeout: 600_000 })
  if (spec.kind === 'fastify-async-noop') {
    app.addHook('onRequest', async () => undefined)
  } else if (spec.kind === 'fastify-two-hooks') {
    // The shape of an auth plugin that decides in onRequest and confirms against the parsed body in preHandler,
    // with callback hooks as mcp-oauth's (no promise).
    app.addHook('onRequest', (_request, _reply, done) => done())
    app.addHook('preHandler', (_request, _reply, done) => done())
  } else if (spec.kind === 'fastify-spin') {
    // Calibration: an onRequest hook that only spins for a known time. What a pair of it against the bare server
    // measures is what that much work in a hook costs on this machine, beyond the work itself.
    const ns = BigInt(Math.round((spec.spinUs ?? 2) * 1000))
    app.addHook('onRequest', (_request, _reply, done) => {
      const end = process.hrtime.bigint() + ns
      while (process.hrtime.bigint() < end);
      done()
    })
  } else if (spec.kind === 'fastify-floor') {
    // The floor of any cache-hit check (floorCheck), and an empty preHandler where a body check would go. Not a
    // usable auth layer (no challenge rules, no metadata): what no real one can beat on this machine.
    const check = floorCheck()
    app.decorateRequest('auth', null)
    app.addHook('onRequest', (request, reply, done) => {
      const hit = check(request.raw.url!, request.raw.headers.authorization)
      if (hit === 'refuse') return void reply.code(401).header('www-authenticate', 'Bearer').send()
      if (hit !== 'skip') (request as unknown as { auth: unknown }).auth = hit
      done()
    })
    app.addHook('preHandler', (_request, _reply, done) => done())
  } else if (spec.kind === 'fastify-mcp-oauth') {
    // mcp-oauth README: await app.register(mcpAuth, { resource, issuer }).
    const { default: mcpAuth } = await import('@mcp-oauth/fastify')
    await app.register(mcpAuth, { resource: spec.resource, issuer: spec.issuer, ...spec.mcpOauth })
  } else if (spec.kind === 'fastify-mcp-oauth-previous') {
    // The plugin as it was before issue 18 (see express-mcp-oauth-previous): async hooks, a promise in each.
    const { createMcpAuth, requestLikeFromNode } = await import('@mcp-oauth/core')
    const auth = createMcpAuth({ resource: spec.resource, issuer: spec.issuer, ...spec.mcpOauth })
    type Outcome = Awaited<ReturnType<typeof auth.handle>>
    const waiting = new WeakMap<object, Outcome>()
    const like = (request: { raw: import('node:http').IncomingMessage; body?: unknown }) =>
      requestLikeFromNode({ method: request.raw.method, url: request.raw.url, headers: request.raw.headers, rawHeaders: request.raw.rawHeaders, body: request.body })
    const act = (request: { raw: import('node:http').IncomingMessage & { auth?: unknown } }, reply: import('fastify').FastifyReply, outcome: Outcome) => {
      if (outcome.type === 'respond') return reply.code(outcome.response.status).headers(outcome.response.headers).send(outcome.response.body)
      if (outcome.type === 'authenticated') {
        request.raw.auth = outcome.auth
        for (const [name, value] of Object.entries(CORS_RESPONSE_HEADERS)) reply.raw.setHeader(name, value)
        auth.watchNodeResponse(outcome, reply.raw)
      }
      return undefined
    }
    app.addHook('onRequest', async (request, reply) => {
      const outcome = await auth.handle(like(request), { bodyPending: true })
      if (outcome.type === 'authenticated' || outcome.type === 'needs-body') waiting.set(request, outcome)
      else return act(request, reply, outcome)
      return undefined
    })
    app.addHook('preHandler', async (request, reply) => {
      const state = waiting.get(request)
      if (!state) return undefined
      waiting.delete(request)
      return act(request, reply, state.type === 'needs-body' ? await auth.handle(like(request), { body: request.body }) : await auth.checkBody(state, request.body))
    })
  } else if (spec.kind === 'fastify-jose') {
    // The MCP SDK's verifier recipe (jose's remote key set + jwtVerify) as a Fastify onRequest hook: what a
    // Fastify server without mcp-oauth would write.
    const { createRemoteJWKSet, jwtVerify } = await import('jose')
    const jwks = createRemoteJWKSet(new URL(spec.jwksUri))
    app.decorateRequest('auth', null)
    app.addHook('onRequest', async (request, reply) => {
      const header = request.headers.authorization
      if (!header?.startsWith('Bearer ')) return reply.code(401).header('www-authenticate', 'Bearer').send()
      try {
        const { payload } = await jwtVerify(header.slice(7), jwks, { issuer: spec.issuer, audience: spec.resource })
        ;(request as unknown as { auth: unknown }).auth = { token: header.slice(7), clientId: String(payload.client_id ?? ''), scopes: typeof payload.scope === 'string' ? payload.scope.split(' ') : [], expiresAt: payload.exp }
      } catch {
        return reply.code(401).header('www-authenticate', 'Bearer error="invalid_token"').send()
      }
      return undefined
    })
  } else if (spec.kind !== 'fastify-bare') {
    throw new TypeError(`not a Fastify server: ${spec.kind}`)
  }
  app.post('/mcp', async (request, reply) => {
    reply.type('application/json')
    return rpcResult(request.body)
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { port: (app.server.address() as AddressInfo).port, close: () => app.close() }
}

export function startServer(spec: ServerSpec): Promise<RunningServer> {
  return spec.kind.startsWith('fastify-') ? fastifyServer(spec) : expressServer(spec)
}
