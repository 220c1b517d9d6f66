/**
 * Drive the real MCP SDK client through the whole MCP authorization flow against a protected server, and
 * report every HTTP exchange as it happens. Used by the demo (which prints it) and by the end-to-end tests
 * (which assert on it).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { DemoOAuthProvider, type DemoProviderOptions } from './oauth-provider.js'

/** One HTTP exchange the client made, classified by what it is for in the flow. */
export interface FlowExchange {
  kind: 'mcp' | 'protected-resource-metadata' | 'authorization-server-metadata' | 'registration' | 'token' | 'other'
  method: string
  url: string
  status: number
  requestBody?: string
  responseBody?: string
  wwwAuthenticate?: string
  /** The MCP 2026-07-28 request metadata headers (SEP-2243) the client sent, when it sent any. */
  mcpHeaders?: { protocolVersion?: string; method?: string; name?: string }
  /** The `Authorization` scheme the client used (`Bearer`, `DPoP`), never the token. */
  authorizationScheme?: string
  /** The RFC 9449 proof the client sent in its `DPoP` header (single-use and bound to this request: not a bearer credential). */
  dpopProof?: string
}

export interface FlowOptions extends Omit<DemoProviderOptions, 'redirectUrl'> {
  serverUrl: string
  redirectUrl?: string
  onExchange?: (exchange: FlowExchange) => void
  onAuthorize?: (url: URL) => void
}

export interface FlowResult {
  client: Client
  transport: StreamableHTTPClientTransport
  provider: DemoOAuthProvider
  exchanges: FlowExchange[]
  callTool(name: string, args?: Record<string, unknown>): Promise<CallToolResult>
  close(): Promise<void>
}

function classify(url: URL, method: string, serverUrl: string): FlowExchange['kind'] {
  if (url.pathname.startsWith('/.well-known/oauth-protected-resource')) return 'protected-resource-metadata'
  if (url.pathname.includes('/.well-known/oauth-authorization-server') || url.pathname.includes('/.well-known/openid-configuration')) {
    return 'authorization-server-metadata'
  }
  if (url.href.split('?')[0] === serverUrl) return 'mcp'
  if (method === 'POST' && /\/(reg|register|registration)$/.test(url.pathname)) return 'registration'
  if (method === 'POST' && /\/token$/.test(url.pathname)) return 'token'
  return 'other'
}

function mcpHeadersOf(input: Parameters<typeof fetch>[0], init: Parameters<typeof fetch>[1]): FlowExchange['mcpHeaders'] {
  const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined))
  const out: NonNullable<FlowExchange['mcpHeaders']> = {}
  const version = headers.get('mcp-protocol-version')
  const method = headers.get('mcp-method')
  const name = headers.get('mcp-name')
  if (version) out.protocolVersion = version
  if (method) out.method = method
  if (name) out.name = name
  return method || name ? out : undefined
}

/** A fetch that records (and reports) each exchange; bodies of OAuth endpoints are kept, MCP bodies too. */
export function recordingFetch(serverUrl: string, exchanges: FlowExchange[], onExchange?: (e: FlowExchange) => void): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase()
    const response = await fetch(input, init)
    const kind = classify(url, method, serverUrl)
    const exchange: FlowExchange = { kind, method, url: url.href, status: response.status }
    const mcpHeaders = kind === 'mcp' ? mcpHeadersOf(input, init) : undefined
    if (mcpHeaders) exchange.mcpHeaders = mcpHeaders
    const sent = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined))
    const authorization = sent.get('authorization')
    if (authorization) exchange.authorizationScheme = authorization.split(' ')[0]
    const proof = sent.get('dpop')
    if (proof) exchange.dpopProof = proof
    if (typeof init?.body === 'string') exchange.requestBody = init.body
    else if (init?.body instanceof URLSearchParams) exchange.requestBody = init.body.toString()
    const challenge = response.headers.get('www-authenticate')
    if (challenge) exchange.wwwAuthenticate = challenge
    const type = response.headers.get('content-type') ?? ''
    if (kind !== 'mcp' && type.includes('json')) exchange.responseBody = await response.clone().text()
    exchanges.push(exchange)
    onExchange?.(exchange)
    return response
  }
}

/** The client's OAuth provider for one flow (SDK v1 or v2): its redirect, the scripted login, CIMD, starting tokens, DPoP. */
export function demoProvider(options: FlowOptions): DemoOAuthProvider {
  return new DemoOAuthProvider({
    redirectUrl: options.redirectUrl ?? 'http://127.0.0.1:8090/callback',
    authorize: async (url) => {
      options.onAuthorize?.(url)
      return options.authorize(url)
    },
    ...(options.clientMetadataUrl ? { clientMetadataUrl: options.clientMetadataUrl } : {}),
    ...(options.tokens ? { tokens: options.tokens } : {}),
    ...(options.dpop ? { dpop: options.dpop } : {}),
  })
}

/**
 * Connect with OAuth: the first connect gets the 401, discovers, registers and sends the user to authorize;
 * the provider completes the login; `finishAuth` exchanges the code; the second connect succeeds.
 */
export async function connectWithOAuth(options: FlowOptions): Promise<FlowResult> {
  const exchanges: FlowExchange[] = []
  const provider = demoProvider(options)
  const fetchFn = recordingFetch(options.serverUrl, exchanges, options.onExchange)
  const makeTransport = () => new StreamableHTTPClientTransport(new URL(options.serverUrl), { authProvider: provider, fetch: fetchFn })
  let transport = makeTransport()
  let client = new Client({ name: 'mcp-oauth-demo', version: '0.1.0' })
  try {
    await client.connect(transport)
  } catch (err) {
    if (!(err instanceof UnauthorizedError) || !provider.authorizationCode) throw err
    await transport.finishAuth(provider.authorizationCode)
    await client.close().catch(() => {})
    transport = makeTransport()
    client = new Client({ name: 'mcp-oauth-demo', version: '0.1.0' })
    await client.connect(transport)
  }
  return {
    client,
    transport,
    provider,
    exchanges,
    /** Call a tool; on a step-up (403 insufficient_scope → re-authorization) finish it and retry once. */
    async callTool(name, args = {}) {
      const authorizations = provider.authorizationUrls.length
      try {
        return (await client.callTool({ name, arguments: args })) as CallToolResult
      } catch (err) {
        const reauthorized = provider.authorizationUrls.length > authorizations
        if (!(err instanceof UnauthorizedError) || !reauthorized || !provider.authorizationCode) throw err
        await transport.finishAuth(provider.authorizationCode)
        return (await client.callTool({ name, arguments: args })) as CallToolResult
      }
    },
    close: async () => {
      await transport.terminateSession().catch(() => {})
      await client.close()
    },
  }
}
