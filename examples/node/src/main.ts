/**
 * Run the node:http example: `ISSUER=http://127.0.0.1:9000 PORT=3000 pnpm --filter @mcp-oauth/example-node start`
 */
import { startExampleServer } from './server.js'

const issuer = process.env.ISSUER ?? 'http://127.0.0.1:9000'
const port = Number(process.env.PORT ?? 3000)
const server = await startExampleServer({
  port,
  auth: { issuer, scopesSupported: ['mcp:tools'], requiredScopes: ['mcp:tools'] },
})
console.log(`MCP server: ${server.url} (tokens from ${issuer})`)
