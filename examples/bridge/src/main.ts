/**
 * Run the bridge example in front of GitHub:
 *
 *   GITHUB_CLIENT_ID=… GITHUB_CLIENT_SECRET=… BRIDGE_KEY=<32 random bytes, base64url> PORT=3000 \
 *     pnpm --filter @mcp-oauth/example-bridge start
 *
 * Register the printed callback URL as the OAuth app's "Authorization callback URL". Without GITHUB_CLIENT_ID, the
 * dev IdP plays a GitHub-like upstream on port 9000 (user demo / demo).
 */
import { github } from '@mcp-oauth/bridge'
import { startDevIdp } from '@mcp-oauth/dev-idp'
import { devBridgeClient, devUpstream } from './dev-upstream.js'
import { startBridgeExample } from './server.js'

const port = Number(process.env.PORT ?? 3000)
const callbackUrl = `http://127.0.0.1:${port}/oauth/callback`
const id = process.env.GITHUB_CLIENT_ID
const encryptionKeys = process.env.BRIDGE_KEY ? [process.env.BRIDGE_KEY] : undefined
let upstream
let upstreamApi: string
if (id) {
  upstream = github({ clientId: id, clientSecret: process.env.GITHUB_CLIENT_SECRET ?? '' })
  upstreamApi = 'https://api.github.com/user'
} else {
  const secret = 'dev-bridge-secret-not-for-production'
  const idp = await startDevIdp({ port: 9000, githubLike: true, clients: [devBridgeClient(callbackUrl, secret, true)] })
  upstream = devUpstream(idp.issuer, secret, true)
  upstreamApi = `${idp.issuer}/me`
  console.log(`Upstream: GitHub-like dev IdP at ${idp.issuer} (user demo / demo)`)
}
const example = await startBridgeExample({ port, upstreamApi, bridge: { upstream, scopes: ['mcp:tools'], ...(encryptionKeys ? { encryptionKeys } : {}) } })
console.log(`MCP server: ${example.mcpUrl}  (authorization server: ${example.bridge.issuer}; upstream callback: ${example.bridge.callbackUrl})`)
