/**
 * The same walk through the MCP authorization flow with the MCP SDK v2 client (`@modelcontextprotocol/client`),
 * speaking MCP 2026-07-28: no `initialize`, a `server/discover` probe, and the SEP-2243 `Mcp-Method` /
 * `Mcp-Name` headers on every request. Every HTTP exchange is recorded, headers included.
 */
import { Client, StreamableHTTPClientTransport, UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/client'
import type { DemoOAuthProvider } from './oauth-provider.js'
import { demoProvider, recordingFetch, type FlowExchange, type FlowOptions } from './flow.js'

export interface FlowV2Options extends FlowOptions {
  /** Which revision the client speaks: 2026-07-28 (default; `server/discover` first) or 2025-11-25 (`initialize`). */
  spec?: '2026-07-28' | '2025-11-25'
}

export interface FlowV2Result {
  client: Client
  provider: DemoOAuthProvider
  exchanges: FlowExchange[]
  /** The era the connection negotiated: `modern` (2026-07-28) or `legacy`. */
  era: string | undefined
  callTool(name: string, args?: Record<string, unknown>): Promise<{ content: Array<{ type: string; text?: string }>; isError?: boolean }>
  close(): Promise<void>
}

/** Connect with OAuth (401 → discovery → registration or CIMD → PKCE → token), then connect again with the token. */
export async function connectWithOAuthV2(options: FlowV2Options): Promise<FlowV2Result> {
  const exchanges: FlowExchange[] = []
  const provider = demoProvider(options)
  const fetchFn = recordingFetch(options.serverUrl, exchanges, options.onExchange)
  const authProvider = provider as unknown as OAuthClientProvider
  const makeTransport = () => new StreamableHTTPClientTransport(new URL(options.serverUrl), { authProvider, fetch: fetchFn })
  const makeClient = () => new Client({ name: 'mcp-oauth-demo', version: '0.1.0' }, {
    versionNegotiation: { mode: options.spec === '2025-11-25' ? 'legacy' : 'auto' },
  })
  let transport = makeTransport()
  let client = makeClient()
  try {
    await client.connect(transport)
  } catch (err) {
    if (!(err instanceof UnauthorizedError) || !provider.callbackParams) throw err
    await transport.finishAuth(provider.callbackParams)
    await client.close().catch(() => {})
    transport = makeTransport()
    client = makeClient()
    await client.connect(transport)
  }
  return {
    client,
    provider,
    exchanges,
    era: client.getProtocolEra?.(),
    async callTool(name, args = {}) {
      const authorizations = provider.authorizationUrls.length
      try {
        return (await client.callTool({ name, arguments: args })) as Awaited<ReturnType<FlowV2Result['callTool']>>
      } catch (err) {
        const reauthorized = provider.authorizationUrls.length > authorizations
        if (!(err instanceof UnauthorizedError) || !reauthorized || !provider.callbackParams) throw err
        await transport.finishAuth(provider.callbackParams)
        return (await client.callTool({ name, arguments: args })) as Awaited<ReturnType<FlowV2Result['callTool']>>
      }
    },
    close: () => client.close(),
  }
}
