/**
 * The servers under test. Every one serves the same minimal MCP-like endpoint — `POST /mcp` with a JSON-RPC
 * body, answered with a small JSON-RPC result — so the numbers measure the auth layer and the framework, not
 * the MCP SDK's session machinery. Each auth setup follows its own documentation's recommended form.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express, { type Request, type Response } from 'express'
import Fastify from 'fastify'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { mcpAuth } from '@mcp-oauth/express'
import mcpAuthPlugin from '@mcp-oauth/fastify'
import type { McpAuthOptions } from '@mcp-oauth/core'
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js'
import { auth as auth0Bearer } from 'express-oauth2-jwt-bearer'
import { MCPAuth, fetchServerConfig } from 'mcp-auth'

export type ServerKind =
  | 'express-bare'
  | 'fastify-bare'
  | 'express-mcp-oauth'
  | 'fastify-mcp-oauth'
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
}

export interface RunningServer {
  port: number
  close(): Promise<void>
}

interface JsonRpcRequest {
  id?: unknown
}

function rpcResult(body: unknown): string {
  const id = (body as JsonRpcRequest | undefined)?.id ?? null
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"tools":[]}}`
}

function listen(server: Server): Promise<RunningServer> {
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

function mcpHandler(req: Request, res: Response): void {
  res.type('application/json').send(rpcResult(req.body))
}

async function expressApp(spec: ServerSpec): Promise<express.Express> {
  const app = express()
  app.disable('x-powered-by')
  app.use(express.json())
  switch (spec.kind) {
    case 'express-bare':
      app.post('/mcp', mcpHandler)
      break
    case 'express-mcp-oauth':
      // README: app.use(mcpAuth({ resource, issuer })) — metadata routes plus the protected path.
      app.use(mcpAuth({ resource: spec.resource, issuer: spec.issuer, ...spec.mcpOauth }))
      app.post('/mcp', mcpHandler)
      break
    case 'express-sdk': {
      // MCP SDK docs: requireBearerAuth with an OAuthTokenVerifier; the verifier is jose's remote JWK set + jwtVerify.
      const jwks = createRemoteJWKSet(new URL(spec.jwksUri))
      const verifier = {
        async verifyAccessToken(token: string) {
          const { payload } = await jwtVerify(token, jwks, { issuer: spec.issuer, audience: spec.resource })
          return {
            token,
            clientId: String(payload.client_id ?? ''),
            scopes: typeof payload.scope === 'string' ? payload.scope.split(' ') : [],
            expiresAt: payload.exp,
            resource: new URL(spec.resource),
          }
        },
      }
      app.post('/mcp', requireBearerAuth({ verifier, expectedResource: new URL(spec.resource), resourceMetadataUrl: `${new URL(spec.resource).origin}/.well-known/oauth-protected-resource/mcp` }), mcpHandler)
      break
    }
    case 'express-auth0':
      // express-oauth2-jwt-bearer README: app.use(auth({ issuerBaseURL, audience })).
      app.use(auth0Bearer({ issuerBaseURL: spec.issuer, audience: spec.resource }))
      app.post('/mcp', mcpHandler)
      break
    case 'express-mcp-auth': {
      // mcp-auth docs, resource-server mode with a resolved (pre-fetched) authorization server config.
      const server = await fetchServerConfig(spec.issuer, { type: 'oauth' })
      const auth = new MCPAuth({
        protectedResources: [{ metadata: { resource: spec.resource, authorizationServers: [server], scopesSupported: ['mcp:tools'] } }],
      })
      app.use(auth.protectedResourceMetadataRouter())
      app.post('/mcp', auth.bearerAuth('jwt', { resource: spec.resource, audience: spec.resource }), mcpHandler)
      break
    }
    default:
      throw new TypeError(`not an Express server: ${spec.kind}`)
  }
  return app
}

async function fastifyApp(spec: ServerSpec): Promise<RunningServer> {
  const app = Fastify({ logger: false })
  if (spec.kind === 'fastify-mcp-oauth') {
    await app.register(mcpAuthPlugin, { resource: spec.resource, issuer: spec.issuer, ...spec.mcpOauth })
  }
  app.post('/mcp', async (request, reply) => {
    reply.type('application/json')
    return rpcResult(request.body)
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { port: (app.server.address() as AddressInfo).port, close: () => app.close() }
}

export async function startServer(spec: ServerSpec): Promise<RunningServer> {
  if (spec.kind.startsWith('fastify-')) return fastifyApp(spec)
  const app = await expressApp(spec)
  return listen(createServer(app))
}
