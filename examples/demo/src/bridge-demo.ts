/**
 * `pnpm demo --bridge`: the MCP authorization flow through @mcp-oauth/bridge, printed step by step. The dev IdP
 * plays an upstream like GitHub (no discovery, no DCR, no CIMD, no PKCE, client secret only, opaque tokens, a
 * user-info endpoint); the real MCP SDK client registers with the bridge (DCR, then CIMD), passes the bridge's
 * consent page, is sent upstream, comes back with a bridge token and calls a tool that reads the upstream token.
 *
 * `pnpm demo --bridge --device`: a headless client through the device flow (RFC 8628) instead.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { decodeJwt } from 'jose'
import { startDevIdp, type DevIdp } from '@mcp-oauth/dev-idp'
import { startBridgeExample, type BridgeExample } from '@mcp-oauth/example-bridge'
import { browse } from '@mcp-oauth/example-bridge/browser'
import { DEV_BRIDGE_CLIENT_ID, devBridgeClient, devUpstream } from '@mcp-oauth/example-bridge/dev-upstream'
import { connectWithOAuth, type FlowExchange } from './flow.js'
import { bold, details, green, json, say, step, yellow } from './print.js'

const detail = details(24)
const short = (secret: string | null | undefined) => (secret ? `${secret.slice(0, 10)}… (not printed)` : '(none)')

const BRIDGE_SECRET = 'demo-bridge-secret-not-for-production'
const CIMD_URL = 'https://demo-client.mcp-oauth.dev/client.json'
const REDIRECT = 'http://127.0.0.1:8090/callback'

interface World {
  idp: DevIdp
  example: BridgeExample
  close(): Promise<void>
}

async function start(): Promise<World> {
  // The CIMD run's client metadata document, served locally (the bridge maps its https host here in development).
  const cimd = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      client_id: CIMD_URL, client_name: 'mcp-oauth demo client (CIMD)', redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none',
    }))
  })
  await new Promise<void>((resolve) => cimd.listen(0, '127.0.0.1', resolve))
  // The bridge's callback URL is registered at the upstream: listen first to know it.
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const port = (probe.address() as AddressInfo).port
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  const idp = await startDevIdp({ githubLike: true, clients: [devBridgeClient(`http://127.0.0.1:${port}/oauth/callback`, BRIDGE_SECRET, true)] })
  const example = await startBridgeExample({
    port,
    upstreamApi: `${idp.issuer}/me`,
    bridge: {
      scopes: ['mcp:tools'],
      title: 'the demo MCP server',
      // Configured like github(): explicit endpoints, no PKCE, the secret posted, identity from the user-info API.
      upstream: devUpstream(idp.issuer, BRIDGE_SECRET, true),
      clientIdMetadataDocuments: { hostMap: { 'demo-client.mcp-oauth.dev': `http://127.0.0.1:${(cimd.address() as AddressInfo).port}` } },
    },
  })
  return {
    idp,
    example,
    async close() {
      await example.close()
      await idp.close()
      cimd.closeAllConnections()
      cimd.close()
    },
  }
}

function header(world: World): void {
  say(bold('mcp-oauth demo: an MCP server behind @mcp-oauth/bridge, with a GitHub-like upstream'))
  detail('upstream IdP', `${world.idp.issuer}  (dev IdP shaped like GitHub: no discovery, no DCR/CIMD, no PKCE; user "demo")`)
  detail('bridge (its AS)', `${world.example.bridge.issuer}  (oidc-provider; one client upstream: ${DEV_BRIDGE_CLIENT_ID})`)
  detail('upstream callback URL', world.example.bridge.callbackUrl)
  detail('MCP server', `${world.example.mcpUrl}  (Express + @mcp-oauth/express, issuer = the bridge)`)
}

/** One browser-side walk through the bridge and the upstream, printing each stage once. */
function printingBrowser(world: World, first: number) {
  const seen = new Set<string>()
  const once = (key: string, fn: () => void) => {
    if (!seen.has(key)) {
      seen.add(key)
      fn()
    }
  }
  return {
    consent: (form: { url: URL; html: string; csrf: string }) => {
      once('consent', () => {
        step(first, "Consent at the bridge, before anything goes upstream (the MCP spec's confused-deputy rule)")
        detail('page', `${form.url.origin}${form.url.pathname}`)
        for (const m of form.html.matchAll(/<dt>([^<]+)<\/dt><dd>(.*?)<\/dd>/g)) {
          detail(m[1]!.toLowerCase(), m[2]!.replace(/<[^>]+>/g, '').replace(/&amp;/g, '&'))
        }
        detail('CSRF token', `${form.csrf.slice(0, 8)}… (one-time, bound to this sign-in)`)
        detail('the user', 'clicks Allow (scripted here, a browser in real life)')
      })
      return 'allow' as const
    },
    onHop: (url: URL) => {
      if (url.origin === world.idp.url && url.pathname === '/auth') {
        once('upstream', () => {
          step(first + 1, 'Upstream: the bridge sends the browser to the IdP as its ONE pre-registered client')
          detail('authorize', `${url.origin}${url.pathname}`)
          for (const p of ['client_id', 'redirect_uri', 'scope', 'state']) detail(p, p === 'state' ? short(url.searchParams.get(p)) : url.searchParams.get(p) ?? '(none)')
          detail('code_challenge', url.searchParams.get('code_challenge') ?? '(none: this upstream has no PKCE, the bridge uses its client secret)')
          detail('login', 'user "demo" signs in at the IdP')
        })
      }
      if (url.href.startsWith(world.example.bridge.callbackUrl)) {
        once('callback', () => {
          detail('back at the bridge', `${url.pathname}?code=…&state=…  (state redeemed once, code exchanged with the client secret,`)
          detail('', 'identity from the user-info endpoint; the upstream token is sealed with AES-GCM and kept server-side)')
        })
      }
    },
  }
}

async function runFlow(world: World, mode: 'DCR' | 'CIMD'): Promise<boolean> {
  const shown = new Set<string>()
  const onExchange = (e: FlowExchange) => {
    if (e.kind === 'mcp' && e.status === 401 && !shown.has('401')) {
      shown.add('401')
      step(1, 'The client connects without a token; the MCP server answers 401')
      detail('WWW-Authenticate', e.wwwAuthenticate ?? '(none)')
    } else if (e.kind === 'protected-resource-metadata' && e.status === 200 && !shown.has('prm')) {
      shown.add('prm')
      step(2, 'Discovery: the protected resource metadata names the bridge as the authorization server')
      const prm = JSON.parse(e.responseBody ?? '{}') as Record<string, unknown>
      detail('authorization_servers', JSON.stringify(prm['authorization_servers']))
    } else if (e.kind === 'authorization-server-metadata' && e.status === 200 && !shown.has('as')) {
      shown.add('as')
      const m = JSON.parse(e.responseBody ?? '{}') as Record<string, unknown>
      detail('GET', e.url)
      say(json({
        issuer: m['issuer'],
        registration_endpoint: m['registration_endpoint'],
        client_id_metadata_document_supported: m['client_id_metadata_document_supported'],
        code_challenge_methods_supported: m['code_challenge_methods_supported'],
        authorization_response_iss_parameter_supported: m['authorization_response_iss_parameter_supported'],
        device_authorization_endpoint: m['device_authorization_endpoint'],
      }))
    } else if (e.kind === 'registration') {
      step(3, 'Registration at the bridge: Dynamic Client Registration (RFC 7591) — the upstream has none')
      const r = JSON.parse(e.responseBody ?? '{}') as Record<string, unknown>
      detail('POST', `${e.url} → ${e.status}`)
      detail('client_id', String(r['client_id']))
    } else if (e.kind === 'token' && e.status === 200 && !shown.has('token')) {
      shown.add('token')
      step(7, 'Back to the MCP client: code + iss (RFC 9207), then the token exchange with its PKCE verifier')
      const body = JSON.parse(e.responseBody ?? '{}') as { access_token?: string; refresh_token?: string }
      if (body.access_token) {
        const c = decodeJwt(body.access_token)
        detail('access token', `${body.access_token.slice(0, 16)}… (the bridge's own JWT; claims below)`)
        say(json({ iss: c.iss, aud: c.aud, sub: c.sub, scope: c['scope'], client_id: c['client_id'] }))
        detail('refresh token', short(body.refresh_token))
      }
    }
  }
  const browser = printingBrowser(world, 5)
  const flow = await connectWithOAuth({
    serverUrl: world.example.mcpUrl,
    onExchange,
    ...(mode === 'CIMD' ? { clientMetadataUrl: CIMD_URL } : {}),
    onAuthorize: (url) => {
      if (mode === 'CIMD') {
        step(3, 'Registration: none, the client_id is the URL of its metadata document (CIMD), fetched by the bridge')
        detail('client_id', url.searchParams.get('client_id') ?? '')
      }
      step(4, 'Authorization request at the bridge, with PKCE S256 and the resource (RFC 8707)')
      for (const p of ['client_id', 'code_challenge_method', 'scope', 'resource', 'redirect_uri']) detail(p, url.searchParams.get(p) ?? '(none)')
    },
    authorize: async (url) => {
      const r = await browse(url, { origins: [world.example.origin, world.idp.url], consent: browser.consent, onHop: (u) => void browser.onHop(u) })
      if (r.kind !== 'redirect') throw new Error(`the browser stopped at ${r.kind}`)
      detail('redirect to the client', `${r.url.origin}${r.url.pathname}?code=…&iss=${r.url.searchParams.get('iss')}`)
      return r.url
    },
  })
  step(8, 'Tool calls with the bridge token: verified by the MCP server like any issuer\'s')
  const me = await flow.callTool('whoami')
  const whoami = JSON.parse(me.content[0]?.type === 'text' ? me.content[0].text : '{}') as Record<string, unknown>
  detail('whoami', JSON.stringify(whoami))
  const up = await flow.callTool('upstream-user')
  const upstream = JSON.parse(up.content[0]?.type === 'text' ? up.content[0].text : '{}') as Record<string, unknown>
  detail('upstream-user', JSON.stringify(upstream))
  detail('', 'the tool called the upstream API with bridge.upstreamToken(authInfo); the MCP client never saw that token')
  await flow.close()
  const good = whoami['issuer'] === world.example.bridge.issuer && upstream['status'] === 200 && upstream['sub'] === 'demo-user' && upstream['sameAsBridgeToken'] === false
    && (mode === 'CIMD' ? whoami['clientId'] === CIMD_URL : flow.exchanges.some((e) => e.kind === 'registration'))
  detail('result', good ? green('ok') : 'unexpected')
  return good
}

async function runDevice(world: World): Promise<boolean> {
  const issuer = world.example.bridge.issuer
  const as = (await (await fetch(`${new URL(issuer).origin}/.well-known/oauth-authorization-server/oauth`)).json()) as Record<string, string>
  step(1, 'A headless client registers with the bridge for the device flow (RFC 8628)')
  const reg = (await (await fetch(as['registration_endpoint']!, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'mcp-oauth demo CLI', application_type: 'native', token_endpoint_auth_method: 'none', grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'], response_types: [], redirect_uris: [] }),
  })).json()) as { client_id: string }
  detail('client_id', reg.client_id)
  step(2, 'Device authorization: the bridge gives a user code and a URL')
  const device = (await (await fetch(as['device_authorization_endpoint']!, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: reg.client_id, scope: 'mcp:tools', resource: world.example.mcpUrl }),
  })).json()) as { device_code: string; user_code: string; verification_uri: string; verification_uri_complete: string; interval: number }
  detail('user_code', device.user_code)
  detail('verification_uri', device.verification_uri)
  const poll = async () => {
    const res = await fetch(as['token_endpoint']!, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: device.device_code, client_id: reg.client_id }),
    })
    return { status: res.status, body: (await res.json()) as Record<string, string> }
  }
  const pending = await poll()
  detail('the CLI polls', `→ ${pending.status} ${pending.body['error']}`)
  const browser = printingBrowser(world, 4)
  step(3, 'The user opens the URL in a browser and confirms the code')
  const done = await browse(device.verification_uri_complete, { origins: [world.example.origin, world.idp.url], consent: (f) => browser.consent(f), onHop: (u) => void browser.onHop(u) })
  detail('browser', done.kind === 'device-done' ? 'the bridge says: Device connected' : `stopped at ${done.kind}`)
  step(6, 'The CLI polls again and gets the bridge token')
  const granted = await poll()
  const token = granted.body['access_token']
  detail('the CLI polls', `→ ${granted.status}`)
  if (!token) return false
  const c = decodeJwt(token)
  say(json({ iss: c.iss, aud: c.aud, sub: c.sub, scope: c['scope'], client_id: c['client_id'] }))
  step(7, 'The CLI calls a tool with it')
  const flow = await connectWithOAuth({ serverUrl: world.example.mcpUrl, tokens: { access_token: token, token_type: 'Bearer' }, authorize: async () => { throw new Error('no browser in a headless client') } })
  const up = await flow.callTool('upstream-user')
  const upstream = JSON.parse(up.content[0]?.type === 'text' ? up.content[0].text : '{}') as Record<string, unknown>
  detail('upstream-user', JSON.stringify(upstream))
  await flow.close()
  const good = done.kind === 'device-done' && c.iss === issuer && upstream['sub'] === 'demo-user'
  detail('result', good ? green('ok') : 'unexpected')
  return good
}

export async function runBridgeDemo(options: { device: boolean }): Promise<void> {
  const world = await start()
  let ok = true
  try {
    header(world)
    if (options.device) {
      say(`\n${bold(yellow('━━ A headless client: the device flow (RFC 8628) through the bridge ━━'))}`)
      ok = await runDevice(world)
    } else {
      for (const mode of ['DCR', 'CIMD'] as const) {
        say(`\n${bold(yellow(`━━ Run ${mode === 'DCR' ? '1' : '2'}: client registration by ${mode === 'DCR' ? 'Dynamic Client Registration (RFC 7591)' : 'Client ID Metadata Document'} ━━`))}`)
        ok = (await runFlow(world, mode)) && ok
      }
    }
  } finally {
    await world.close()
  }
  say(ok ? `\n${green(bold('✔ The flow worked.'))}` : `\n${bold('✘ The flow failed.')}`)
  process.exitCode = ok ? 0 : 1
}
