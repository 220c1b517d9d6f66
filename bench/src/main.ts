/**
 * `pnpm bench`: every scenario in one run on this machine, so each ratio compares numbers measured minutes
 * apart under the same conditions. Progress goes to stderr; the report (markdown) to stdout.
 *
 * Environment: BENCH_DURATION (s per cache-hit run, default 3), BENCH_ROUNDS (interleaved cache-hit rounds,
 * default 3), BENCH_POOL (distinct tokens per algorithm, default 15000), BENCH_QUICK=1 (a short smoke run).
 */
import { startDevIdp } from '@mcp-oauth/dev-idp'
import { cryptoLimit, type CryptoLimit } from './crypto-limit.js'
import { better, measureHttp, measureSteady, type HttpMeasurement, type Load } from './http-scenarios.js'
import { introspectionCalls } from './introspection.js'
import { ALGS, startLocalIssuer, type Alg } from './issuer.js'
import { CONNECTIONS } from './load.js'
import { machineInfo } from './machine.js'
import type { MemoryInput, MemoryResult } from './memory-worker.js'
import { fixed, httpTable, int, mb, ratio, table, targetTable, type HttpRow, type Target } from './report.js'
import type { ServerKind, ServerSpec } from './servers.js'
import { nextMessage, startWorker } from './worker.js'

const QUICK = process.env.BENCH_QUICK === '1'
const DURATION = Number(process.env.BENCH_DURATION ?? (QUICK ? 1 : 3))
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 1 : 3))
const POOL = Number(process.env.BENCH_POOL ?? (QUICK ? 3000 : 15_000))
const WARMUP_POOL = 1000
const RETRIES = QUICK ? 0 : 2
const MEMORY_TOKENS = QUICK ? 10_000 : 100_000
const INTROSPECTION_TOKENS = QUICK ? 20 : 200
const RESOURCE = 'https://mcp.bench.example/mcp'

const progress = (text: string) => process.stderr.write(`[bench] ${text}\n`)
const started = performance.now()
const machine = machineInfo()

progress('starting the dev IdP and the local issuer, minting token pools')
const idp = await startDevIdp()
const local = await startLocalIssuer()
const jwt = await idp.issueAccessToken({ resource: RESOURCE, format: 'jwt', ttl: 3600 })
const opaque = await idp.issueAccessToken({ resource: RESOURCE, format: 'opaque', ttl: 3600 })
const pools = new Map<Alg, { warmup: string[]; measure: string[] }>()
for (const alg of ALGS) {
  const tokens = await local.mint(alg, WARMUP_POOL + POOL, RESOURCE)
  pools.set(alg, { warmup: tokens.slice(0, WARMUP_POOL), measure: tokens.slice(WARMUP_POOL) })
}

// ---- cache hit: one repeated token, baselines interleaved with the protected servers -----------------------

interface HitCase {
  id: string
  label: string
  kind: ServerKind
  token: string
  mcpOauth?: ServerSpec['mcpOauth']
}

const hitCases: HitCase[] = [
  { id: 'express-bare', label: 'Express, unprotected (baseline)', kind: 'express-bare', token: jwt },
  { id: 'express-noop', label: 'Express + empty async middleware', kind: 'express-async-noop', token: jwt },
  { id: 'express-set-auth', label: 'Express + middleware that only sets req.auth', kind: 'express-set-auth', token: jwt },
  { id: 'express-jwt', label: 'Express + mcp-oauth, repeated JWT', kind: 'express-mcp-oauth', token: jwt },
  // What the session-binding response hook costs (it watches every response that has no Mcp-Session-Id yet).
  { id: 'express-jwt-nobind', label: 'Express + mcp-oauth, repeated JWT, sessionBinding: false', kind: 'express-mcp-oauth', token: jwt, mcpOauth: { sessionBinding: false } },
  { id: 'express-opaque', label: 'Express + mcp-oauth, repeated opaque token (introspection)', kind: 'express-mcp-oauth', token: opaque, mcpOauth: { introspection: idp.resourceServerClient } },
  { id: 'fastify-bare', label: 'Fastify, unprotected (baseline)', kind: 'fastify-bare', token: jwt },
  { id: 'fastify-noop', label: 'Fastify + empty async onRequest hook', kind: 'fastify-async-noop', token: jwt },
  { id: 'fastify-jwt', label: 'Fastify + mcp-oauth, repeated JWT', kind: 'fastify-mcp-oauth', token: jwt },
  { id: 'fastify-jwt-nobind', label: 'Fastify + mcp-oauth, repeated JWT, sessionBinding: false', kind: 'fastify-mcp-oauth', token: jwt, mcpOauth: { sessionBinding: false } },
]
const hit = new Map<string, HttpMeasurement>()
for (let round = 1; round <= ROUNDS; round++) {
  for (const c of hitCases) {
    progress(`cache hit, round ${round}/${ROUNDS}: ${c.label}`)
    // Baselines get the same Authorization header, so every server reads the same bytes.
    const work: Load = { type: 'duration', seconds: DURATION, tokens: { type: 'repeated', token: c.token } }
    const spec: ServerSpec = { kind: c.kind, resource: RESOURCE, issuer: idp.issuer, jwksUri: `${idp.issuer}/jwks`, ...(c.mcpOauth ? { mcpOauth: c.mcpOauth } : {}) }
    hit.set(c.id, better(hit.get(c.id), await measureHttp(spec, work)))
  }
}
const expressBase = hit.get('express-bare')!
const fastifyBase = hit.get('fastify-bare')!
const hitRows: HttpRow[] = hitCases.map((c) => ({
  scenario: c.label,
  m: hit.get(c.id)!,
  ...(c.id.endsWith('-bare') ? {} : { baseline: c.id.startsWith('express') ? expressBase : fastifyBase }),
}))

// ---- distinct tokens: each token once, so every request is a cache miss --------------------------------------

interface MissCase {
  label: string
  kind: ServerKind
  peer: boolean
}

const missCases: MissCase[] = [
  { label: 'Express + mcp-oauth', kind: 'express-mcp-oauth', peer: false },
  { label: 'Fastify + mcp-oauth', kind: 'fastify-mcp-oauth', peer: false },
  { label: 'Express + MCP SDK requireBearerAuth (jose verifier)', kind: 'express-sdk', peer: true },
  { label: 'Express + express-oauth2-jwt-bearer', kind: 'express-auth0', peer: true },
  { label: 'Express + mcp-auth', kind: 'express-mcp-auth', peer: true },
]
const missRows: HttpRow[] = []
let localServers = 0
const missFailures: string[] = []
const miss = new Map<string, HttpMeasurement>()
for (const alg of ALGS) {
  const pool = pools.get(alg)!
  for (const c of missCases) {
    progress(`distinct ${alg} tokens: ${c.label}`)
    const spec: ServerSpec = { kind: c.kind, resource: RESOURCE, issuer: local.issuer, jwksUri: local.jwksUri }
    try {
      const m = await measureSteady(spec, { type: 'pool', warmup: pool.warmup, measure: pool.measure }, RETRIES)
      localServers += m.runs
      miss.set(`${alg}:${c.kind}`, m)
      missRows.push({ scenario: `${alg}: ${c.label}`, m, baseline: c.kind.startsWith('fastify') ? fastifyBase : expressBase })
    } catch (err) {
      missFailures.push(`${alg}: ${c.label} could not run: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
}

// ---- the crypto limit ------------------------------------------------------------------------------------

const limits = new Map<Alg, CryptoLimit>()
for (const alg of ALGS) {
  progress(`crypto limit: ${alg}`)
  limits.set(alg, await cryptoLimit(alg, pools.get(alg)!.measure, local.publicKey(alg), local.issuer, RESOURCE))
}

// ---- introspection under 100-way concurrency -------------------------------------------------------------

progress(`introspection: ${INTROSPECTION_TOKENS} opaque tokens × 100 concurrent requests`)
const opaqueTokens = await Promise.all(Array.from({ length: INTROSPECTION_TOKENS }, () =>
  idp.issueAccessToken({ resource: RESOURCE, format: 'opaque', ttl: 3600 })))
const introspection = await introspectionCalls(idp, RESOURCE, opaqueTokens)

// ---- memory: 100,000 cached tokens -----------------------------------------------------------------------

progress(`memory: caching ${int(MEMORY_TOKENS)} distinct tokens`)
const memoryWorker = startWorker(new URL('./memory-worker.ts', import.meta.url), {
  key: local.exportKey('ES256'), issuer: local.issuer, resource: RESOURCE, count: MEMORY_TOKENS,
} satisfies MemoryInput)
const memory = await nextMessage<MemoryResult>(memoryWorker)
await memoryWorker.terminate()

await local.close()
await idp.close()

// ---- targets ---------------------------------------------------------------------------------------------

const targets: Target[] = []
for (const [id, base, name] of [['express-jwt', expressBase, 'Express'], ['fastify-jwt', fastifyBase, 'Fastify']] as const) {
  const r = hit.get(id)!.rps / base.rps
  targets.push({ name: `Repeated token, ${name}`, goal: '≥ 0.97 × unprotected', measured: `${int(hit.get(id)!.rps)} / ${int(base.rps)} req/s = ${ratio(r)}`, pass: r >= 0.97 })
}
for (const alg of ALGS) {
  const ours = miss.get(`${alg}:express-mcp-oauth`)
  const peers = missCases.filter((c) => c.peer).map((c) => ({ c, m: miss.get(`${alg}:${c.kind}`) })).filter((p) => p.m !== undefined)
  const best = peers.sort((a, b) => b.m!.rps - a.m!.rps)[0]
  if (ours && best) {
    const r = ours.rps / best.m!.rps
    targets.push({ name: `Distinct ${alg}, Express, vs best peer`, goal: '≥ 1.2 × best peer', measured: `${int(ours.rps)} / ${int(best.m!.rps)} (${best.c.label.replace('Express + ', '')}) = ${ratio(r)}`, pass: r >= 1.2 })
  }
  const limit = limits.get(alg)!
  for (const [framework, m] of [['Express', ours], ['Fastify', miss.get(`${alg}:fastify-mcp-oauth`)]] as const) {
    if (!m) continue
    const r = m.rps / limit.joseLoop
    targets.push({ name: `Distinct ${alg}, ${framework}, vs jose.jwtVerify loop`, goal: '≥ 0.8 × loop', measured: `${int(m.rps)} req/s / ${int(limit.joseLoop)} tokens/s = ${ratio(r)}`, pass: r >= 0.8 })
  }
}
targets.push({
  name: 'Introspection calls under concurrency',
  goal: `= ${introspection.tokens} (distinct tokens)`,
  measured: `${introspection.calls} calls for ${int(introspection.tokens * introspection.perToken)} requests`,
  pass: introspection.calls === introspection.tokens && introspection.authenticated === introspection.tokens * introspection.perToken,
})
targets.push({
  name: `${int(memory.count)} cached tokens`,
  goal: '≤ 64 MB extra heap',
  measured: `${mb(memory.heapDelta)} MB`,
  pass: memory.heapDelta <= 64e6 && memory.cached === memory.count,
})

// ---- report ----------------------------------------------------------------------------------------------

const out: string[] = []
out.push(`# mcp-oauth benchmark`, '')
out.push(`${machine.cpus} × ${machine.model}, ${machine.memoryGb} GB, ${machine.platform}, Node ${machine.node}, ${machine.date}`)
out.push(`autocannon, ${CONNECTIONS} connections, loopback; cache-hit runs ${DURATION} s after a 1 s warm-up, best of ${ROUNDS} interleaved rounds; ` +
  `distinct-token runs: ${int(POOL)} tokens per algorithm, each sent once, after ${int(WARMUP_POOL)} warm-up tokens.`, '')
out.push('## Cache hit: one repeated token', '', httpTable(hitRows), '')
out.push('## Distinct tokens: every request a cache miss', '', httpTable(missRows), '')
for (const f of missFailures) out.push(`- ${f}`)
if (missFailures.length > 0) out.push('')
out.push('## The crypto limit (one thread, same tokens)', '')
out.push(table(
  ['alg', 'jose.jwtVerify loop tokens/s', 'jose.jwtVerify, 50 in flight', 'crypto.verify loop', 'Express + mcp-oauth req/s', '÷ jose loop', 'Fastify + mcp-oauth req/s', '÷ jose loop'],
  ALGS.map((alg) => {
    const l = limits.get(alg)!
    const e = miss.get(`${alg}:express-mcp-oauth`)
    const f = miss.get(`${alg}:fastify-mcp-oauth`)
    return [alg, int(l.joseLoop), int(l.joseConcurrent), int(l.rawVerify), e ? int(e.rps) : '–', e ? ratio(e.rps / l.joseLoop) : '–', f ? int(f.rps) : '–', f ? ratio(f.rps / l.joseLoop) : '–']
  }),
), '')
out.push('## Introspection', '')
out.push(`${introspection.tokens} distinct opaque tokens, ${introspection.perToken} concurrent requests each (${int(introspection.tokens * introspection.perToken)} in flight): ` +
  `${introspection.calls} introspection calls at the dev IdP, ${int(introspection.authenticated)} authenticated, ${fixed(introspection.seconds)} s.`, '')
out.push('## Memory', '')
out.push(`${int(memory.count)} distinct ES256 tokens verified and cached (${int(memory.cached)} found in the cache afterwards): ` +
  `heap +${mb(memory.heapDelta)} MB (${int(memory.heapDelta / memory.count)} B per token), RSS +${mb(memory.rssDelta)} MB; ` +
  `the tokens themselves are ${mb(memory.tokenBytes)} MB of text held by the caller. Filling the cache: ${int(memory.verifyRate)} verifications/s.`, '')
out.push('## Targets', '', targetTable(targets), '')
out.push(`Requests to the local issuer from the ${localServers} servers started against it and the memory test's instance (discovery and JWKS once per instance, never per token): ` +
  `${[...local.counts].map(([p, n]) => `${p} ${n}`).join(', ')}. Total time ${fixed((performance.now() - started) / 1000, 0)} s.`)
process.stdout.write(`${out.join('\n')}\n`)
