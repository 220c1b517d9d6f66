/**
 * An MCP server on Express, protected by mcp-oauth, for clients of both MCP revisions: 2025-11-25 (MCP SDK v1,
 * Streamable HTTP, stateful sessions) and 2026-07-28 (MCP SDK v2, stateless). The auth is the two marked
 * lines; everything else is the SDKs' usual setup.
 */
import express from 'express'
import { mcpAuth } from '@mcp-oauth/express' // auth 1/2
import type { McpAuthOptions } from '@mcp-oauth/express'
import { listenExample, type ExampleServer, type ExampleServerOptions } from './listen.js'
import { mcpDualEra } from './dual-era.js'

export type { ExampleServer, ExampleServerOptions } from './listen.js'

export function createApp(authOptions: McpAuthOptions, path = '/mcp'): express.Express {
  const app = express()
  app.use(express.json())
  app.use(mcpAuth(authOptions)) // auth 2/2: metadata routes + every method on `path` needs a valid token

  const sessions = mcpDualEra()
  app.route(path)
    .post((req, res) => sessions(req, res, req.body))
    .get((req, res) => sessions(req, res))
    .delete((req, res) => sessions(req, res))
  return app
}

/** Start the example on `port` (0: random) and return its URL. */
export function startExampleServer(options: ExampleServerOptions): Promise<ExampleServer> {
  return listenExample(options, (server, auth, path) => void server.on('request', createApp(auth, path)))
}
