/**
 * `pnpm --filter @mcp-oauth/bench bridge`: what the bridge (@mcp-oauth/bridge) sustains, and what its tokens cost
 * the MCP server.
 *
 *   1. Full sign-ins per second: authorize → consent page → the upstream (the dev IdP, same machine) → callback →
 *      code → token exchange, each in a new browser (cookie jar), BRIDGE_CONCURRENCY at a time.
 *   2. Code issuances per second: the same with the bridge session and consent remembered (no page, no upstream):
 *      authorize → code → token exchange, i.e. oidc-provider's authorization and token endpoints over our store.
 *   3. Refresh grants per second: BRIDGE_CONCURRENCY chains of rotating refresh tokens for BRIDGE_SECONDS.
 *   4. The MCP server (Express + mcp-oauth, in a worker) verifying bridge JWTs vs dev-IdP JWTs (both ES256): one
 *      repeated token (cache hit) and distinct tokens (every request a cache miss).
 *
 * Environment: BRIDGE_SIGNINS (default 60), BRIDGE_CODES (default 300), BRIDGE_SECONDS (default 5),
 * BRIDGE_CONCURRENCY (default 8), BRIDGE_POOL (distinct tokens per issuer, default 4000), BENCH_DURATION (3).
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createBridge } from '@mcp-oauth/bridge'
import { startDevIdp } from '@mcp-oauth/dev-idp'
import { browse, Jar } from '@mcp-oauth/example-bridge/browser'
import { devBridgeClient, devUpstream } from '@mcp-oauth/example-bridge/dev-upstream'
import { createHash, randomBytes } from 'node:crypto'
import { better, measureHttp, type HttpMeasurement } from './http-scenarios.js'
import { CONNECTIONS } from './load.js'
import { InterferenceMeter, machineInfo } from './machine.js'
import { fixed, int, table } from './report.js'

const SIGNINS = Number(process.env.BRIDGE_SIGNINS ?? 60)
const CODES = Number(process.env.BRIDGE_CODES ?? 300)
const SECONDS = Number(process.env.BRIDGE_SECONDS ?? 5)
const CONCURRENCY = Number(process.env.BRIDGE_CONCURRENCY ?? 8)
const POOL = Number(process.env.BRIDGE_POOL ?? 4000)
const DURATION = Number(process.env.BENCH_DURATION ?? 3)
const RESOURCE = 'https://mcp.bench.example/mcp'
const REDIRECT = 'http://127.0.0.1:8090/callback'
const progress = (text: string) => process.stderr.write(`[bridge] ${text}\n`)

const server = createServer()
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
const secret = randomBytes(24).toString('base64url')
const idp = await startDevIdp({ clients: [devBridgeClient(`${origin}/oauth/callback`, secret, false)] })
const bridge = createBridge({ issuer: `${origin}/oauth`, resource: RESOURCE, scopes: ['mcp:tools'], upstream: devUpstream(idp.issuer, secret, false) })
server.on('request', bridge.handler)
await bridge.ready()
const as = (await (await fetch(`${origin}/.well-known/oauth-authorization-server/oauth`)).json()) as Record<string, string>
const reg = (await (await fetch(as['registration_endpoint']!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }) })).json()) as { client_id: string }
const clientId = reg.client_id
const origins = [origin, idp.url]

const form = async (body: Record<string, string>) => {
  const res = await fetch(as['token_endpoint']!, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) })
  const json = (await res.json()) as Record<string, string>
  if (res.status !== 200) throw new Error(`token endpoint: ${res.status} ${json['error']}`)
  return json
}

/** One authorization code flow in `jar`; resolves with the token response. */
async function codeFlow(jar: Jar): Promise<Record<string, string>> {
  const verifier = randomBytes(32).toString('base64url')
  const url = new URL(as['authorization_endpoint']!)
  for (const [k, v] of Object.entries({ client_id: clientId, response_type: 'code', redirect_uri: REDIRECT, scope: 'mcp:tools', state: randomBytes(8).toString('hex'), code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256', resource: RESOURCE })) url.searchParams.set(k, v)
  const r = await browse(url, { origins, jar })
  if (r.kind !== 'redirect') throw new Error(`sign-in ended at ${r.kind}`)
  return form({ grant_type: 'authorization_code', code: r.url.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: verifier, client_id: clientId, resource: RESOURCE })
}

interface Rate {
  /** CPU of this process per operation, ms (bridge + client side; with the dev IdP for full sign-ins). */
  cpuMs: number
  count: number
  seconds: number
  perSecond: number
  p50: number
  p99: number
}

/** Run `task` `total` times, `CONCURRENCY` at a time (or for `seconds`), timing each. */
async function rate(task: (worker: number) => Promise<unknown>, limit: { total?: number; seconds?: number }): Promise<Rate> {
  const times: number[] = []
  const cpu = process.cpuUsage()
  const started = performance.now()
  const deadline = limit.seconds === undefined ? Infinity : started + limit.seconds * 1000
  let issued = 0
  await Promise.all(Array.from({ length: CONCURRENCY }, async (_, worker) => {
    while ((limit.total === undefined || issued < limit.total) && performance.now() < deadline) {
      issued++
      const t = performance.now()
      await task(worker)
      times.push(performance.now() - t)
    }
  }))
  const seconds = (performance.now() - started) / 1000
  times.sort((a, b) => a - b)
  const at = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? NaN
  const used = process.cpuUsage(cpu)
  return { cpuMs: (used.user + used.system) / 1000 / times.length, count: times.length, seconds, perSecond: times.length / seconds, p50: at(0.5), p99: at(0.99) }
}

const results: Array<[string, Rate]> = []
const meter = new InterferenceMeter()
try {
  progress(`warm-up: ${CONCURRENCY} sign-ins`)
  const sessions = await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    const jar = new Jar()
    await codeFlow(jar)
    return jar
  }))

  progress(`full sign-ins: ${SIGNINS}, ${CONCURRENCY} at a time`)
  results.push(['full sign-in: consent page + upstream login + code + token exchange', await rate(() => codeFlow(new Jar()), { total: SIGNINS })])

  progress(`code issuances with the session and consent remembered: ${CODES}`)
  results.push(['authorization code + token exchange (session and consent remembered)', await rate((worker) => codeFlow(sessions[worker]!), { total: CODES })])

  progress(`refresh grants for ${SECONDS} s`)
  const chains = await Promise.all(sessions.map(async (jar) => (await codeFlow(jar))['refresh_token']!))
  // One chain per worker: a rotated refresh token is never presented twice.
  results.push(['refresh grant (rotation: a new refresh token each time)', await rate(async (worker) => {
    const json = await form({ grant_type: 'refresh_token', refresh_token: chains[worker]!, client_id: clientId })
    chains[worker] = json['refresh_token']!
  }, { seconds: SECONDS })])

  progress(`minting ${POOL} bridge access tokens (refresh grants) and ${POOL} dev-IdP tokens`)
  const bridgeTokens: string[] = []
  let rt = (await codeFlow(sessions[0]!))['refresh_token']!
  for (let i = 0; i < POOL + 1000; i++) {
    const json = await form({ grant_type: 'refresh_token', refresh_token: rt, client_id: clientId })
    bridgeTokens.push(json['access_token']!)
    rt = json['refresh_token']!
  }
  const idpTokens = await Promise.all(Array.from({ length: POOL + 1000 }, () => idp.issueAccessToken({ resource: RESOURCE, format: 'jwt', scopes: ['mcp:tools'], ttl: 3600 })))

  const specFor = (issuer: string) => ({ kind: 'express-mcp-oauth' as const, resource: RESOURCE, issuer, jwksUri: `${issuer}/jwks` })
  const verify = new Map<string, HttpMeasurement>()
  for (let round = 0; round < 2; round++) {
    for (const [id, issuer, tokens] of [['bridge', bridge.issuer, bridgeTokens], ['dev-idp', idp.issuer, idpTokens]] as const) {
      progress(`MCP server, ${id} tokens, round ${round + 1}/2: repeated token, then distinct tokens`)
      verify.set(`${id}-hit`, better(verify.get(`${id}-hit`), await measureHttp(specFor(issuer), { type: 'duration', seconds: DURATION, tokens: { type: 'repeated', token: tokens[0]! } })))
      verify.set(`${id}-miss`, better(verify.get(`${id}-miss`), await measureHttp(specFor(issuer), { type: 'pool', warmup: tokens.slice(0, 1000), measure: tokens.slice(1000) })))
    }
  }

  const m = machineInfo()
  const busy = meter.stop()
  const out: string[] = []
  out.push(`Machine: ${m.model} × ${m.cpus}, Node ${process.version}; bridge, dev IdP (upstream) and load in one process, ${CONCURRENCY} concurrent clients; other processes took ${busy === undefined ? '?' : `${Math.round(busy * 100)} %`} of a core during the run.`)
  out.push('')
  out.push(table(['bridge operation', 'count', 'per second', 'p50 ms', 'p99 ms', 'CPU ms / op'], results.map(([name, r]) => [name, int(r.count), fixed(r.perSecond, 0), fixed(r.p50, 1), fixed(r.p99, 1), fixed(r.cpuMs, 1)])))
  out.push('')
  const row = (label: string, id: string) => {
    const r = verify.get(id)!
    return [label, int(r.rps), fixed(r.p50, 1), fixed(r.p99, 1), fixed(r.cpuUsPerRequest, 1), int(r.failures), r.interference === undefined ? '–' : `${Math.round(r.interference * 100)} %`]
  }
  out.push(`MCP server (Express + mcp-oauth, worker thread, ${CONNECTIONS} connections), ES256 both:`)
  out.push('')
  out.push(table(['tokens', 'req/s', 'p50 ms', 'p99 ms', 'server CPU µs/req', 'failures', 'other processes (CPU)'], [
    row('bridge JWT, repeated (cache hit)', 'bridge-hit'),
    row('dev-IdP JWT, repeated (cache hit)', 'dev-idp-hit'),
    row(`bridge JWTs, ${int(POOL)} distinct (cache miss)`, 'bridge-miss'),
    row(`dev-IdP JWTs, ${int(POOL)} distinct (cache miss)`, 'dev-idp-miss'),
  ]))
  console.log(out.join('\n'))
} finally {
  server.closeAllConnections()
  server.close()
  await idp.close()
}
