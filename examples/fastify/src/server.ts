/**
 * An MCP server on Fastify 5, protected by mcp-oauth, for clients of both MCP revisions: 2025-11-25 (MCP SDK
 * v1, stateful sessions) and 2026-07-28 (MCP SDK v2, stateless). The auth is the two marked lines.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import mcpAuth, { type McpAuthOptions } from '@mcp-oauth/fastify' // auth 1/2
import { listenExample, type ExampleServer, type ExampleServerOptions } from '@mcp-oauth/example-express/listen'
import { mcpDualEra } from '@mcp-oauth/example-express/dual-era'
import type { Server } from 'node:http'

export type { ExampleServer, ExampleServerOptions } from '@mcp-oauth/example-express/listen'

export async function createApp(authOptions: McpAuthOptions, path = '/mcp', server?: Server): Promise<FastifyInstance> {
  const app = Fastify(server ? { serverFactory: (handler) => server.on('request', handler) } : {})
  await app.register(mcpAuth, authOptions) // auth 2/2: metadata routes + every method on `path` needs a valid token

  const sessions = mcpDualEra()
  app.route({
    method: ['POST', 'GET', 'DELETE'],
    url: path,
    handler: async (request, reply) => {
      // The SDK writes to the Node response itself; the plugin set request.raw.auth for it.
      reply.hijack()
      await sessions(request.raw, reply.raw, request.body)
    },
  })
  return app
}

/** Start the example on `port` (0: random) and return its URL. */
export function startExampleServer(options: ExampleServerOptions): Promise<ExampleServer> {
  return listenExample(options, async (server, auth, path) => {
    await (await createApp(auth, path, server)).ready()
  })
}
