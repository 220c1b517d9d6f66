/**
 * The one-command demo: a real IdP, a real MCP server protected by mcp-oauth, and the real MCP SDK client
 * going through the MCP authorization flow, printed step by step.
 *
 *   pnpm demo                       run the flow (DCR, then CIMD) and exit 0 when it worked
 *   pnpm demo --serve               keep the IdP and the server running for the MCP Inspector
 *   pnpm demo --host fastify        the same flow against another example: express (default), fastify, node, web, web-v2
 *   pnpm demo --spec 2025-11-25     the MCP revision the client speaks: 2026-07-28 (default, the SDK v2 client:
 *                                   server/discover, Mcp-Method/Mcp-Name headers) or 2025-11-25 (the SDK v1 client)
 *   pnpm demo --profile keycloak    the dev IdP shaped like a Keycloak realm (or `logto`), the server configured with that profile
 *   pnpm demo --bridge              the flow through @mcp-oauth/bridge, the dev IdP as a GitHub-like upstream (DCR, then CIMD)
 *   pnpm demo --bridge --device     a headless client through the bridge's device flow
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { decodeJwt } from 'jose'
import { keycloak, logto, type AuthorizationServerOptions } from '@mcp-oauth/core'
import { startDevIdp } from '@mcp-oauth/dev-idp'
import { startExampleServer as startExpress } from '@mcp-oauth/example-express'
import { startExampleServer as startFastify } from '@mcp-oauth/example-fastify'
import { startExampleServer as startNode } from '@mcp-oauth/example-node'
import { startExampleServer as startWeb } from '@mcp-oauth/example-web'
import { startExampleServer as startWebV2 } from '@mcp-oauth/example-web-v2'
import { examplePolicy } from '@mcp-oauth/example-express/tools'
import type { McpAuthEvent } from '@mcp-oauth/core'
import { connectWithOAuth, type FlowExchange } from './flow.js'
import { bold, cyan, details, green, json, say, step, yellow } from './print.js'
import { connectWithOAuthV2 } from './flow-v2.js'

const argv = process.argv.slice(2)
const args = new Set(argv)
const serve = args.has('--serve')
const hosts = {
  express: { start: startExpress, label: 'Express + @mcp-oauth/express' },
  fastify: { start: startFastify, label: 'Fastify + @mcp-oauth/fastify' },
  node: { start: startNode, label: 'node:http + @mcp-oauth/node' },
  web: { start: startWeb, label: 'Hono (fetch) + auth.fetch from @mcp-oauth/core' },
  'web-v2': { start: startWebV2, label: 'the MCP SDK v2 createMcpHandler behind auth.fetch from @mcp-oauth/core' },
} as const
const hostName = (argv[argv.indexOf('--host') + 1] ?? 'express') as keyof typeof hosts
const host = argv.includes('--host') ? hosts[hostName] : hosts.express
if (!host) {
  console.error(`--host must be one of: ${Object.keys(hosts).join(', ')}`)
  process.exit(2)
}
// The dev IdP mounted where the real IdP puts its issuer, and the server configured with that IdP's profile.
const profiles = {
  keycloak: { issuerPath: '/realms/mcp', label: "keycloak({ url, realm: 'mcp' })", servers: (url: string) => [keycloak({ url, realm: 'mcp' })] },
  logto: { issuerPath: '/oidc', label: 'logto({ endpoint })', servers: (url: string) => [logto({ endpoint: url })] },
} satisfies Record<string, { issuerPath: string; label: string; servers: (url: string) => AuthorizationServerOptions[] }>
const profileName = argv.includes('--profile') ? argv[argv.indexOf('--profile') + 1] ?? '' : undefined
const profile = profileName === undefined ? undefined : profiles[profileName as keyof typeof profiles]
if (profileName !== undefined && !profile) {
  console.error(`--profile must be one of: ${Object.keys(profiles).join(', ')}`)
  process.exit(2)
}
const specs = ['2026-07-28', '2025-11-25'] as const
const spec = (argv.includes('--spec') ? argv[argv.indexOf('--spec') + 1] : '2026-07-28') as (typeof specs)[number]
if (!specs.includes(spec)) {
  console.error(`--spec must be one of: ${specs.join(', ')}`)
  process.exit(2)
}
const modern = spec === '2026-07-28'
/** What the server decided for the last authenticated request (its own event): the revision, and what the policy read. */
let lastDecision: Extract<McpAuthEvent, { type: 'authenticated' }> | undefined
const detail = details(22)
/** The SEP-2243 request headers of an exchange, and what the policy read for it. */
function headersOf(e: FlowExchange, withDecision: boolean): void {
  const h = e.mcpHeaders
  detail('request headers', h ? [`MCP-Protocol-Version: ${h.protocolVersion ?? '-'}`, `Mcp-Method: ${h.method ?? '-'}`, ...(h.name ? [`Mcp-Name: ${h.name}`] : [])].join(', ') : 'no Mcp-Method / Mcp-Name (a 2025-11-25 request: the policy reads the body)')
  if (withDecision && lastDecision) {
    detail('the server decided', `${lastDecision.revision === 'modern' ? 'MCP 2026-07-28 (stateless, no session binding)' : 'MCP 2025-11-25 (session bound to the user)'}; the policy read the ${lastDecision.policyFrom === 'headers' ? 'headers (then checked the body against them)' : lastDecision.policyFrom === 'body' ? 'JSON-RPC body' : 'nothing (no rule applies)'}`)
  }
}

async function main(): Promise<void> {
  const idp = await startDevIdp({ port: serve ? 9000 : 0, ...(profile ? { issuerPath: profile.issuerPath } : {}) })
  const server = await host.start({
    port: serve ? 3000 : 0,
    auth: {
      ...(profile ? { authorizationServers: profile.servers(idp.url) } : { issuer: idp.issuer }),
      scopesSupported: ['mcp:tools', 'mcp:admin'], requiredScopes: ['mcp:tools'], policy: examplePolicy,
      onEvent: (e) => {
        if (e.type === 'authenticated') lastDecision = e
      },
    },
  })
  // The CIMD run needs the client's metadata document on an https URL; this local server hosts it and the
  // dev IdP maps the demo's https host to it (see `cimdHosts`).
  const cimd = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      client_id: cimdUrl,
      client_name: 'mcp-oauth demo client (CIMD)',
      redirect_uris: ['http://127.0.0.1:8090/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }))
  })
  await new Promise<void>((resolve) => cimd.listen(0, '127.0.0.1', resolve))
  const cimdUrl = 'https://demo-client.mcp-oauth.dev/client.json'
  idp.mapClientMetadataHost('demo-client.mcp-oauth.dev', `http://127.0.0.1:${(cimd.address() as AddressInfo).port}`)

  say(bold('mcp-oauth demo: the MCP authorization flow, end to end'))
  detail('identity provider', `${idp.issuer}  (oidc-provider, user "demo")`)
  if (profile) detail('IdP profile', `${profile.label}  (the dev IdP mimics ${profileName}'s issuer and key set URL)`)
  detail('MCP server', `${server.url}  (${host.label})`)
  detail('MCP client', modern
    ? '@modelcontextprotocol/client (SDK v2) speaking MCP 2026-07-28: server/discover, no session, Mcp-Method/Mcp-Name headers'
    : '@modelcontextprotocol/sdk (SDK v1) speaking MCP 2025-11-25: initialize, Mcp-Session-Id')

  let ok = true
  for (const mode of ['DCR', 'CIMD'] as const) {
    say(`\n${bold(yellow(`━━ Run ${mode === 'DCR' ? '1' : '2'}: client registration by ${mode === 'DCR' ? 'Dynamic Client Registration (RFC 7591)' : 'Client ID Metadata Document'} ━━`))}`)
    ok = (await runFlow(mode, server.url, idp, cimdUrl)) && ok
  }

  if (serve) {
    say(`\n${bold('Serving.')} Connect the MCP Inspector:`)
    say(`  npx @modelcontextprotocol/inspector`)
    say(`  Transport: Streamable HTTP   URL: ${server.url}`)
    say(`  Log in at the IdP as ${bold('demo')} / ${bold('demo')}. Ctrl-C stops.`)
    return
  }
  await server.close()
  await idp.close()
  cimd.closeAllConnections()
  cimd.close()
  say(ok ? `\n${green(bold('✔ The flow worked.'))}` : `\n${bold('✘ The flow failed.')}`)
  process.exitCode = ok ? 0 : 1
}

async function runFlow(mode: 'DCR' | 'CIMD', serverUrl: string, idp: Awaited<ReturnType<typeof startDevIdp>>, cimdUrl: string): Promise<boolean> {
  let shownDiscovery = false
  let shownPrm = false
  let shown401 = false
  const onExchange = (e: FlowExchange) => {
    if (e.kind === 'mcp' && e.status === 401 && !shown401) {
      shown401 = true
      step(1, 'The client connects without a token; the server answers 401')
      detail('request', `${e.method} ${e.url}`)
      headersOf(e, false)
      detail('status', String(e.status))
      detail('WWW-Authenticate', e.wwwAuthenticate ?? '(none)')
    } else if (e.kind === 'mcp' && e.status === 200 && (e.mcpHeaders?.method === 'tools/call' || e.requestBody?.includes('"method":"tools/call"'))) {
      headersOf(e, true)
    } else if (e.kind === 'mcp' && e.status === 403) {
      detail('tools/call', 'deploy  (policy: tools.deploy = ["mcp:admin"])')
      headersOf(e, false)
      detail('status', String(e.status))
      detail('WWW-Authenticate', e.wwwAuthenticate ?? '(none)')
      detail('the client', 'asks the IdP again, for the scopes in the challenge')
    } else if (e.kind === 'protected-resource-metadata' && e.status === 200 && !shownPrm) {
      shownPrm = true
      step(2, 'Discovery: protected resource metadata (RFC 9728), then authorization server metadata')
      detail('GET', e.url)
      say(json(JSON.parse(e.responseBody ?? '{}')))
    } else if (e.kind === 'authorization-server-metadata' && !shownDiscovery) {
      detail('GET', `${e.url} → ${e.status}`)
      if (e.status === 200) {
        shownDiscovery = true
        const m = JSON.parse(e.responseBody ?? '{}') as Record<string, unknown>
        say(json({
          issuer: m.issuer,
          authorization_endpoint: m.authorization_endpoint,
          token_endpoint: m.token_endpoint,
          registration_endpoint: m.registration_endpoint,
          code_challenge_methods_supported: m.code_challenge_methods_supported,
          client_id_metadata_document_supported: m.client_id_metadata_document_supported,
        }))
      }
    } else if (e.kind === 'registration') {
      step(3, 'Registration: Dynamic Client Registration (RFC 7591)')
      detail('POST', `${e.url} → ${e.status}`)
      const r = JSON.parse(e.responseBody ?? '{}') as Record<string, unknown>
      detail('client_id', String(r.client_id))
      detail('redirect_uris', JSON.stringify(r.redirect_uris))
    } else if (e.kind === 'token' && e.status === 200) {
      step(5, 'Token exchange: the code and the PKCE verifier for an access token')
      detail('POST', `${e.url} → ${e.status}`)
      const params = new URLSearchParams(e.requestBody ?? '')
      detail('grant_type', params.get('grant_type') ?? '')
      detail('code_verifier', `${(params.get('code_verifier') ?? '').slice(0, 12)}… (secret, proves PKCE)`)
      detail('resource', params.get('resource') ?? '(none)')
      const body = JSON.parse(e.responseBody ?? '{}') as { access_token?: string; token_type?: string; expires_in?: number }
      if (body.access_token) {
        const claims = decodeJwt(body.access_token)
        detail('token_type', String(body.token_type))
        detail('access token', `${body.access_token.slice(0, 16)}… (decoded claims below; the token is not printed)`)
        say(json({ iss: claims.iss, aud: claims.aud, scope: claims.scope, client_id: claims.client_id, sub: claims.sub, exp: `${claims.exp} (in ${Number(claims.exp) - Math.floor(Date.now() / 1000)} s)` }))
      }
    }
  }
  const onAuthorize = (url: URL) => {
    if (mode === 'CIMD') {
      step(3, 'Registration: none needed, the client_id is the URL of its metadata document (CIMD)')
      detail('client_id', url.searchParams.get('client_id') ?? '')
    }
    step(4, 'Authorization with PKCE: the user logs in and consents at the IdP')
    detail('authorize', `${url.origin}${url.pathname}`)
    for (const p of ['client_id', 'response_type', 'code_challenge', 'code_challenge_method', 'scope', 'resource', 'redirect_uri']) {
      detail(p, url.searchParams.get(p) ?? '(none)')
    }
    detail('login', 'user "demo" logs in and approves (scripted here, a browser in real life)')
  }

  const options = {
    serverUrl,
    onExchange,
    onAuthorize,
    authorize: (url: URL) => idp.completeAuthorization(url),
    ...(mode === 'CIMD' ? { clientMetadataUrl: cimdUrl } : {}),
  }
  const flow = modern ? await connectWithOAuthV2({ ...options, spec }) : await connectWithOAuth(options)
  step(6, 'Tool call with the bearer token: the server checked it and handed authInfo to the tool')
  const result = await flow.callTool('whoami')
  const text = result.content[0]?.type === 'text' ? result.content[0].text ?? '' : ''
  const who = JSON.parse(text) as { clientId?: string; scopes?: string[]; resource?: string } | null
  detail('tools/call', 'whoami')
  say(json(who))
  const registered = flow.exchanges.some((e) => e.kind === 'registration')
  let steppedUp = true
  if (mode === 'DCR') {
    // Step-up: `deploy` needs mcp:admin (the example policy), which the first token does not carry.
    say(`\n${bold(cyan('Step-up'))} ${bold('A tool that needs more: the server answers 403 insufficient_scope, the client re-authorizes')}`)
    const seen = flow.exchanges.length
    const deployed = await flow.callTool('deploy', { service: 'billing' })
    const forbidden = flow.exchanges.slice(seen).find((e) => e.kind === 'mcp' && e.status === 403)
    const text = deployed.content[0]?.type === 'text' ? deployed.content[0].text ?? '' : ''
    say(`\n${bold(cyan('Step-up'))} ${bold('The retried call succeeds with the wider token')}`)
    detail('tools/call', `deploy → ${text}`)
    steppedUp = forbidden !== undefined && !deployed.isError && text.startsWith('deployed')
  }
  await flow.close()
  const good = steppedUp && who !== null && who.resource === serverUrl && (who.scopes ?? []).includes('mcp:tools')
    && (mode === 'CIMD' ? who.clientId === cimdUrl && !registered : registered)
  detail('result', good ? green('ok') : 'unexpected')
  return good
}

// --bridge [--device]: the flow through @mcp-oauth/bridge (bridge-demo.ts).
;(args.has('--bridge') ? import('./bridge-demo.js').then((m) => m.runBridgeDemo({ device: args.has('--device') })) : main()).catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
