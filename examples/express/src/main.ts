/**
 * Run the Express example: `ISSUER=http://127.0.0.1:9000 PORT=3000 pnpm --filter @mcp-oauth/example-express start`
 */
import { startExampleServer } from './server.js'
import { runExampleFromEnv } from './listen.js'

await runExampleFromEnv(startExampleServer)
