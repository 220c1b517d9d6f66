/**
 * Run the MCP SDK v2 (fetch) example: `ISSUER=http://127.0.0.1:9000 PORT=3000 pnpm --filter @mcp-oauth/example-web-v2 start`
 */
import { startExampleServer } from './server.js'
import { runExampleFromEnv } from '@mcp-oauth/example-express/listen'

await runExampleFromEnv(startExampleServer)
