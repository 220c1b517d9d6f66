/**
 * The AI SDK's MCP client (`@ai-sdk/mcp`, not written here) with its own OAuth support, through the whole flow
 * against the Express and Fastify examples and the real dev IdP: 401 → PRM → AS metadata → DCR → PKCE
 * authorization (login driven by the dev IdP's browserless helper) → callback → token → tools → a tool call.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auth, createMCPClient, UnauthorizedError, type OAuthClientInformation, type OAuthClientMetadata, type OAuthClientProvider, type OAuthTokens } from '@ai-sdk/mcp'
import { startDevIdp, type DevIdp } from '@mcp-oauth/dev-idp'
import { startExampleServer as startExpress, type ExampleServer } from '@mcp-oauth/example-express'
import { startExampleServer as startFastify } from '@mcp-oauth/example-fastify'
import { examplePolicy } from '@mcp-oauth/example-express/tools'
import { browse } from '../helpers/browser.js'
import { startBridgeWorld, type BridgeWorld } from '../helpers/bridge-world.js'
import { DPOP_CHALLENGE } from '../helpers/dpop.js'

const REDIRECT_URI = 'http://127.0.0.1:8090/callback'

/** The smallest provider an application writes: everything in memory, the redirect remembered for the test. */
class MemoryProvider implements OAuthClientProvider {
  authorizationUrls: URL[] = []
  #tokens: OAuthTokens | undefined
  #client: OAuthClientInformation | undefined
  #verifier = ''
  #state: string | undefined
  readonly redirectUrl = REDIRECT_URI
  readonly clientMetadata: OAuthClientMetadata = {
    client_name: 'AI SDK e2e',
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  }

  tokens() { return this.#tokens }
  saveTokens(tokens: OAuthTokens) { this.#tokens = tokens }
  redirectToAuthorization(url: URL) { this.authorizationUrls.push(url) }
  saveCodeVerifier(verifier: string) { this.#verifier = verifier }
  codeVerifier() { return this.#verifier }
  clientInformation() { return this.#client }
  saveClientInformation(info: OAuthClientInformation) { this.#client = info }
  isClientInformationDynamicallyRegistered() { return this.#client !== undefined }
  state() { return (this.#state = randomBytes(16).toString('base64url')) }
  storedState() { return this.#state }
}

interface Exchange { method: string; url: string; status: number; wwwAuthenticate: string | null }

/** The client's fetch, recorded: what it asked, in order (never the token). */
function recordingFetch(log: Exchange[]): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init)
    const response = await fetch(request)
    log.push({ method: request.method, url: request.url, status: response.status, wwwAuthenticate: response.headers.get('www-authenticate') })
    return response
  }
}

let idp: DevIdp
const servers: Record<string, ExampleServer> = {}

beforeAll(async () => {
  idp = await startDevIdp()
  const options = { auth: { issuer: idp.issuer, scopesSupported: ['mcp:tools', 'mcp:admin'], requiredScopes: ['mcp:tools'], policy: examplePolicy } }
  servers.express = await startExpress(options)
  servers.fastify = await startFastify(options)
})

afterAll(async () => {
  await Promise.all(Object.values(servers).map((s) => s.close()))
  await idp?.close()
})

/** Connect the way an app does: the first attempt redirects, the app handles the callback, then connects again. */
async function connect(
  server: { url: string },
  provider: MemoryProvider,
  log: Exchange[],
  authorize: (url: URL) => Promise<URL> = (url) => idp.completeAuthorization(url),
) {
  const transport = { type: 'http' as const, url: server.url, authProvider: provider, fetch: recordingFetch(log) }
  const failure = await createMCPClient({ transport }).then(() => undefined, (e: unknown) => e)
  if (!(failure instanceof UnauthorizedError)) throw new Error(`expected UnauthorizedError, got ${String(failure)}; cause ${String((failure as { cause?: unknown })?.cause)}; log ${JSON.stringify(log)}`)
  const authorizationUrl = provider.authorizationUrls.at(-1)!
  const callback = await authorize(authorizationUrl)
  const result = await auth(provider, {
    serverUrl: server.url,
    authorizationCode: callback.searchParams.get('code')!,
    callbackState: callback.searchParams.get('state')!,
    callbackIssuer: callback.searchParams.get('iss') ?? undefined,
    fetchFn: recordingFetch(log),
  })
  expect(result).toBe('AUTHORIZED')
  return { client: await createMCPClient({ transport }), authorizationUrl }
}

describe('the AI SDK MCP client through the whole flow', () => {
  it.each(['express', 'fastify'])('%s: discovery, DCR, PKCE, token, tools, a tool call', async (host) => {
    const server = servers[host]!
    const provider = new MemoryProvider()
    const log: Exchange[] = []
    const { client, authorizationUrl } = await connect(server, provider, log)
    try {
      const first = log[0]!
      expect(first.status).toBe(401)
      expect(first.wwwAuthenticate).toBe(`Bearer resource_metadata="${new URL('/.well-known/oauth-protected-resource/mcp', server.url).href}", scope="mcp:tools", ${DPOP_CHALLENGE}`)
      expect(log.some((e) => e.url.endsWith('/.well-known/oauth-protected-resource/mcp') && e.status === 200)).toBe(true)
      expect(log.some((e) => e.url.startsWith(idp.issuer) && e.url.includes('/.well-known/') && e.status === 200)).toBe(true)
      expect(log.some((e) => e.method === 'POST' && e.url === `${idp.issuer}/reg` && e.status === 201)).toBe(true)
      expect(log.some((e) => e.method === 'POST' && e.url === `${idp.issuer}/token` && e.status === 200)).toBe(true)
      expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256')
      expect(authorizationUrl.searchParams.get('resource')).toBe(server.resource)
      expect(authorizationUrl.searchParams.get('scope')).toBe('mcp:tools')

      const tools = await client.listTools()
      expect(tools.tools.map((t) => t.name).sort()).toEqual(['add', 'deploy', 'echo', 'whoami'])
      const whoami = await client.callTool({ name: 'whoami', arguments: {} })
      const me = JSON.parse((whoami.content as Array<{ text: string }>)[0]!.text) as Record<string, unknown>
      expect(me).toMatchObject({ clientId: provider.clientInformation()!.client_id, scopes: ['mcp:tools'], resource: server.resource, subject: 'demo-user', issuer: idp.issuer })
      const sum = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })
      expect((sum.content as Array<{ text: string }>)[0]!.text).toBe('5')

      // deploy needs mcp:admin too: the server answers 403 insufficient_scope naming both scopes. This client
      // does not step up (it re-authorizes on 401 only): the call fails and the app has to authorize again.
      log.length = 0
      const refused = await client.callTool({ name: 'deploy', arguments: { service: 'api' } }).then(() => undefined, (e: unknown) => e)
      expect(refused).toBeInstanceOf(Error)
      expect(log.map((e) => [e.status, e.wwwAuthenticate])).toEqual([[403, expect.stringMatching(/^Bearer error="insufficient_scope", .*scope="mcp:tools mcp:admin"/)]])
      expect(provider.authorizationUrls).toHaveLength(1)
    } finally {
      await client.close()
    }
  })
})

describe('the AI SDK MCP client through the bridge', () => {
  let world: BridgeWorld
  beforeAll(async () => {
    world = await startBridgeWorld({ mode: 'oidc-pkce' })
  })
  afterAll(async () => world?.close())

  it('registers at the bridge, the user consents and signs in upstream, the bridge token calls the tools', async () => {
    const provider = new MemoryProvider()
    const log: Exchange[] = []
    const upstream: URL[] = []
    const { client, authorizationUrl } = await connect({ url: world.mcpUrl }, provider, log, async (url) => {
      // The bridge's consent page (its CSRF token included) and the upstream dev IdP's login, as a person would.
      const r = await browse(url, { origins: [world.origin, world.idp.url], onHop: (u) => void (u.origin === world.idp.url && upstream.push(u)) })
      if (r.kind !== 'redirect') throw new Error(`the flow ended at ${r.kind}`)
      return r.url
    })
    try {
      expect(authorizationUrl.origin + authorizationUrl.pathname).toBe(`${world.bridge.issuer}/auth`)
      expect(authorizationUrl.searchParams.get('resource')).toBe(world.mcpUrl)
      expect(log.some((e) => e.method === 'POST' && e.url.startsWith(world.bridge.issuer) && e.status === 201)).toBe(true)
      expect(upstream.some((u) => u.pathname.startsWith('/interaction/'))).toBe(true)
      const me = JSON.parse(((await client.callTool({ name: 'whoami', arguments: {} })).content as Array<{ text: string }>)[0]!.text) as Record<string, unknown>
      expect(me).toMatchObject({ clientId: provider.clientInformation()!.client_id, resource: world.mcpUrl, subject: 'demo-user', issuer: world.bridge.issuer })
      const up = JSON.parse(((await client.callTool({ name: 'upstream-user', arguments: {} })).content as Array<{ text: string }>)[0]!.text) as Record<string, unknown>
      expect(up).toMatchObject({ status: 200, sub: 'demo-user', sameAsBridgeToken: false })
    } finally {
      await client.close()
    }
  })
})
