/**
 * `pnpm bench`: every scenario in one run on this machine. Each comparison is a pair of servers, each in its own
 * process, loaded at the same time over the same interval (rounds.ts `pairWindow`), in ≥ 5 interleaved rounds;
 * a ratio is reported as the median and min–max of its rounds, and a ratio whose spread crosses 1.0 is "not
 * measurable here" rather than a PASS or a MISS. Progress goes to stderr; the report (markdown) to stdout.
 *
 * Environment: BENCH_ROUNDS (default 5), BENCH_SECONDS (s per cache-hit window, default 1), BENCH_TOKENS
 * (distinct tokens per window, default 1500), BENCH_QUICK=1 (a short smoke run, not for numbers).
 */
import { startDevIdp } from '@mcp-oauth/dev-idp'
import { cryptoLimit, type CryptoLimit } from './crypto-limit.js'
import { introspectionCalls } from './introspection.js'
import { ALGS, startLocalIssuer, type Alg } from './issuer.js'
import { CONNECTIONS, load, type LoadOptions } from './load.js'
import { machineInfo } from './machine.js'
import type { MemoryInput, MemoryResult } from './memory-worker.js'
import { fixed, int, mb, table } from './report.js'
import { cpuLayout, pairWindow, spread, startLive, type LiveServer, type Sample, type Spread } from './rounds.js'
import type { ServerKind, ServerSpec } from './servers.js'
import { nextMessage, startWorker } from './worker.js'

const QUICK = process.env.BENCH_QUICK === '1'
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 2 : 5))
const SECONDS = Number(process.env.BENCH_SECONDS ?? (QUICK ? 0.5 : 1))
const TOKENS = Number(process.env.BENCH_TOKENS ?? (QUICK ? 300 : 1500))
/** Tokens every distinct-token server verifies once before its group (JIT warm-up), and the peers' shared pool (they cache nothing). */
const PRIME = QUICK ? 300 : 600
/** Unmeasured tokens before each distinct-token window. */
const WARM = 200
const MEMORY_TOKENS = QUICK ? 10_000 : 100_000
const INTROSPECTION_TOKENS = QUICK ? 20 : 200
const RESOURCE = 'https://mcp.bench.example/mcp'
const SESSION = { 'mcp-session-id': 'bench-session-0001' }

const started = performance.now()
const progress = (text: string) => process.stderr.write(`[bench +${((performance.now() - started) / 1000).toFixed(0)} s] ${text}\n`)
const machine = machineInfo()

type Work = Omit<LoadOptions, 'port'>

/** A server of a group: started once (as {@link INSTANCES} processes), kept for every round. */
interface Target {
  id: string
  label: string
  kind: ServerKind
  mcpOauth?: ServerSpec['mcpOauth']
  /** fastify-spin: how long its hook spins. */
  spinUs?: number
  /** Extra request headers (e.g. an Mcp-Session-Id). */
  headers?: Record<string, string>
}

/** Two targets loaded together; `ratio` = subject's req/s over the reference's, per round. */
interface Comparison {
  subject: string
  reference: string
  /** What the row shows, when not just "subject vs reference". */
  note?: string
}

interface ComparisonResult extends Comparison {
  ratios: number[]
  subjectSamples: Sample[]
  referenceSamples: Sample[]
}

/**
 * Processes per server. Part of a pair's ratio is decided when its two processes start (fresh pairs of
 * mcp-oauth and the unprotected Fastify server, ASLR off: medians from 0.81× to 0.90×, each pair steady over
 * its windows), so one pair of processes kept for every round cannot show it, and two runs of the bench
 * disagreed by it. With two processes of each server, round r pairs the subject's process r mod 2 with the
 * reference's ⌊r / 2⌋ mod 2: five rounds see all four pairings, and the spread holds that part too.
 */
const INSTANCES = 2

async function startTargets(targets: readonly Target[], base: Omit<ServerSpec, 'kind'>): Promise<Map<string, LiveServer[]>> {
  const specs = targets.flatMap((t) => Array.from({ length: INSTANCES }, () => t))
  const live = await Promise.all(specs.map((t) => startLive({ ...base, kind: t.kind, ...(t.mcpOauth ? { mcpOauth: t.mcpOauth } : {}), ...(t.spinUs !== undefined ? { spinUs: t.spinUs } : {}) })))
  return new Map(targets.map((t, i) => [t.id, live.slice(i * INSTANCES, (i + 1) * INSTANCES)]))
}

async function closeAll(servers: Map<string, LiveServer[]>): Promise<void> {
  await Promise.all([...servers.values()].flat().map((s) => s.close()))
}

/**
 * Rounds of pair windows: each round runs every comparison once, the order rotated by one each round.
 * `work(target, round, index)` is what a target is sent in one window.
 */
async function runComparisons(
  name: string,
  comparisons: readonly Comparison[],
  servers: Map<string, LiveServer[]>,
  work: (target: string, role: 'subject' | 'reference', round: number) => Work,
  warmup?: (target: string) => Work,
): Promise<ComparisonResult[]> {
  const results: ComparisonResult[] = comparisons.map((c) => ({ ...c, ratios: [], subjectSamples: [], referenceSamples: [] }))
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < results.length; i++) {
      const r = results[(i + round) % results.length]!
      progress(`${name}, round ${round + 1}/${ROUNDS}: ${r.subject} vs ${r.reference}`)
      const s = servers.get(r.subject)![round % INSTANCES]!
      const ref = servers.get(r.reference)![Math.floor(round / INSTANCES) % INSTANCES]!
      if (warmup) await pairWindow(s, warmup(r.subject), ref, warmup(r.reference))
      const [a, b] = await pairWindow(s, work(r.subject, 'subject', round), ref, work(r.reference, 'reference', round))
      r.subjectSamples.push(a)
      r.referenceSamples.push(b)
      r.ratios.push(a.rps / b.rps)
    }
  }
  return results
}

// ---- verdicts --------------------------------------------------------------------------------------------

type Verdict = 'PASS' | 'MISS' | 'not measurable here'

/** Spread crossing 1.0: which of the two is faster is not known here. Otherwise the median against the goal. */
function verdict(s: Spread, goal: number): Verdict {
  if (s.min < 1 && s.max > 1) return 'not measurable here'
  return s.median >= goal ? 'PASS' : 'MISS'
}

const r2 = (n: number) => n.toFixed(2)
const showSpread = (s: Spread) => `${r2(s.median)}× (${r2(s.min)}–${r2(s.max)})`

// ---- set-up ----------------------------------------------------------------------------------------------

progress('starting the dev IdP and the local issuer, minting token pools')
const idp = await startDevIdp()
const local = await startLocalIssuer()
const jwt = await idp.issueAccessToken({ resource: RESOURCE, format: 'jwt', ttl: 3600 })

// ---- cache hit: one repeated token -----------------------------------------------------------------------

const hitTargets: Target[] = [
  { id: 'express-bare', label: 'Express, unprotected', kind: 'express-bare' },
  { id: 'express-bare-2', label: 'Express, unprotected (a second instance)', kind: 'express-bare' },
  { id: 'express-set-auth', label: 'Express + middleware that only sets req.auth', kind: 'express-set-auth' },
  { id: 'express-jwt', label: 'Express + mcp-oauth, repeated JWT', kind: 'express-mcp-oauth' },
  { id: 'express-jwt-session', label: 'Express + mcp-oauth, request naming a session', kind: 'express-mcp-oauth', headers: SESSION },
  { id: 'express-jwt-session-nobind', label: 'Express + mcp-oauth, request naming a session, sessionBinding: false', kind: 'express-mcp-oauth', mcpOauth: { sessionBinding: false }, headers: SESSION },
  { id: 'express-previous', label: 'Express + mcp-oauth, the adapter before issue 18', kind: 'express-mcp-oauth-previous' },
  { id: 'fastify-bare', label: 'Fastify, unprotected', kind: 'fastify-bare' },
  { id: 'fastify-bare-2', label: 'Fastify, unprotected (a second instance)', kind: 'fastify-bare' },
  { id: 'fastify-floor', label: 'Fastify + the floor of a cache-hit check (path, header, one Map lookup, request.auth; both hooks)', kind: 'fastify-floor' },
  { id: 'fastify-jwt', label: 'Fastify + mcp-oauth, repeated JWT', kind: 'fastify-mcp-oauth' },
  { id: 'fastify-jwt-session', label: 'Fastify + mcp-oauth, request naming a session', kind: 'fastify-mcp-oauth', headers: SESSION },
  { id: 'fastify-jwt-session-nobind', label: 'Fastify + mcp-oauth, request naming a session, sessionBinding: false', kind: 'fastify-mcp-oauth', mcpOauth: { sessionBinding: false }, headers: SESSION },
  { id: 'fastify-previous', label: 'Fastify + mcp-oauth, the plugin before issue 18', kind: 'fastify-mcp-oauth-previous' },
]
const hitComparisons: Comparison[] = [
  { subject: 'express-bare-2', reference: 'express-bare', note: 'identical servers: the method\'s own spread' },
  { subject: 'express-set-auth', reference: 'express-bare' },
  { subject: 'express-jwt', reference: 'express-bare' },
  { subject: 'express-jwt', reference: 'express-set-auth', note: 'what mcp-oauth costs beyond the floor' },
  { subject: 'express-jwt-session', reference: 'express-jwt-session-nobind', note: 'the session lookup alone' },
  { subject: 'express-jwt', reference: 'express-previous', note: 'this change: after vs before' },
  { subject: 'fastify-bare-2', reference: 'fastify-bare', note: 'identical servers: the method\'s own spread' },
  { subject: 'fastify-floor', reference: 'fastify-bare', note: 'calibration: the most any cache-hit check can reach here' },
  { subject: 'fastify-jwt', reference: 'fastify-bare' },
  { subject: 'fastify-jwt', reference: 'fastify-floor', note: 'what mcp-oauth costs beyond the floor' },
  { subject: 'fastify-jwt-session', reference: 'fastify-jwt-session-nobind', note: 'the session lookup alone' },
  { subject: 'fastify-jwt', reference: 'fastify-previous', note: 'this change: after vs before' },
]
const hitById = new Map(hitTargets.map((t) => [t.id, t]))
const hitWork = (id: string, seconds: number): Work => {
  const t = hitById.get(id)!
  // Baselines get the same Authorization header, so every server reads the same bytes.
  return {
    tokens: { type: 'repeated', token: jwt },
    duration: seconds,
    ...(t.headers ? { request: { body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }), headers: t.headers } } : {}),
  }
}
progress(`cache hit: starting ${hitTargets.length} servers`)
const hitServers = await startTargets(hitTargets, { resource: RESOURCE, issuer: idp.issuer, jwksUri: `${idp.issuer}/jwks` })
// Each server's code is optimized before any window counts (the first seconds of a fresh process run cold code).
// The processes of one server are warmed together (they share the servers' core, and nothing is measured).
for (const [id, list] of hitServers) await Promise.all(list.map((s) => load({ ...hitWork(id, QUICK ? 0.5 : 1), port: s.port })))
const hit = await runComparisons('cache hit', hitComparisons, hitServers, (id) => hitWork(id, SECONDS), (id) => hitWork(id, 0.2))
await closeAll(hitServers)

// ---- distinct tokens: every request a cache miss ---------------------------------------------------------

const missTargets: Target[] = [
  { id: 'express-mcp-oauth', label: 'Express + mcp-oauth', kind: 'express-mcp-oauth' },
  { id: 'express-mcp-oauth-pool', label: 'Express + mcp-oauth, every signature on the thread pool (before issue 18)', kind: 'express-mcp-oauth', mcpOauth: { nativeCrypto: 'thread-pool' } },
  { id: 'fastify-mcp-oauth', label: 'Fastify + mcp-oauth', kind: 'fastify-mcp-oauth' },
  { id: 'express-sdk', label: 'Express + MCP SDK requireBearerAuth (jose verifier)', kind: 'express-sdk' },
  { id: 'express-sdk-2', label: 'Express + MCP SDK requireBearerAuth (a second instance)', kind: 'express-sdk' },
  { id: 'express-auth0', label: 'Express + express-oauth2-jwt-bearer', kind: 'express-auth0' },
  { id: 'express-mcp-auth', label: 'Express + mcp-auth', kind: 'express-mcp-auth' },
  { id: 'fastify-jose', label: 'Fastify + jose jwtVerify onRequest hook', kind: 'fastify-jose' },
]
const EXPRESS_PEERS = ['express-sdk', 'express-auth0', 'express-mcp-auth']
const FASTIFY_PEERS = ['fastify-jose']
const missComparisons = (alg: Alg): Comparison[] => [
  // The method's own spread, once (the token's algorithm does not change it).
  ...(alg === 'RS256' ? [{ subject: 'express-sdk-2', reference: 'express-sdk', note: 'identical servers: the method\'s own spread' }] : []),
  ...EXPRESS_PEERS.map((p) => ({ subject: 'express-mcp-oauth', reference: p })),
  ...FASTIFY_PEERS.map((p) => ({ subject: 'fastify-mcp-oauth', reference: p })),
  { subject: 'express-mcp-oauth', reference: 'express-mcp-oauth-pool', note: 'this change: the path chosen per key vs the thread pool for all' },
]
const ours = (id: string) => id.includes('mcp-oauth')
const missTitles = new Map(missTargets.map((t) => [t.id, t.label]))
const miss = new Map<Alg, ComparisonResult[]>()
for (const alg of ALGS) {
  // Fresh tokens for every window of an mcp-oauth server (it caches what it verified); the peers cache
  // nothing and take a shared pool. Each server is primed once with the shared pool.
  const perRound = missComparisons(alg).reduce((n, c) => n + (ours(c.subject) ? TOKENS + WARM : 0) + (ours(c.reference) ? 2 * TOKENS + WARM : 0), 0)
  progress(`distinct ${alg} tokens: minting ${int(PRIME + perRound * ROUNDS)}`)
  const fresh = await local.mint(alg, PRIME + perRound * ROUNDS, RESOURCE)
  const shared = fresh.slice(0, PRIME)
  let at = PRIME
  const take = (n: number) => fresh.slice(at, (at += n))
  const servers = await startTargets(missTargets.filter((t) => alg === 'RS256' || t.id !== 'express-sdk-2'), { resource: RESOURCE, issuer: local.issuer, jwksUri: local.jwksUri })
  for (const list of servers.values()) await Promise.all(list.map((s) => load({ port: s.port, tokens: { type: 'pool', tokens: shared }, amount: PRIME - 2 * CONNECTIONS })))
  miss.set(alg, await runComparisons(`distinct ${alg}`, missComparisons(alg), servers, (id, role) => {
    if (!ours(id)) return role === 'subject' ? { tokens: { type: 'pool', tokens: shared }, amount: TOKENS } : { tokens: { type: 'pool', tokens: shared } }
    // A little short of the slice, so no connection's request wraps round to an already used token.
    return role === 'subject' ? { tokens: { type: 'pool', tokens: take(TOKENS) }, amount: TOKENS - 2 * CONNECTIONS } : { tokens: { type: 'pool', tokens: take(2 * TOKENS) } }
  }, (id) => ours(id)
    // Before each window, both servers get a short unmeasured load (fresh tokens for mcp-oauth): a server that
    // sat idle while other pairs ran starts its window cold, and one that was just measured does not.
    ? { tokens: { type: 'pool', tokens: take(WARM) }, amount: WARM - 2 * CONNECTIONS }
    : { tokens: { type: 'pool', tokens: shared }, amount: WARM - 2 * CONNECTIONS }))
  await closeAll(servers)
}

// ---- the crypto limit ------------------------------------------------------------------------------------

const limits = new Map<Alg, CryptoLimit>()
for (const alg of ALGS) {
  progress(`crypto limit: ${alg}`)
  limits.set(alg, await cryptoLimit(alg, await local.mint(alg, 2000, RESOURCE), local.publicKey(alg), local.issuer, RESOURCE))
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

// ---- report ----------------------------------------------------------------------------------------------

const label = (id: string) => hitById.get(id)?.label ?? missTitles.get(id) ?? id
const med = (samples: Sample[], f: (s: Sample) => number | undefined) => spread(samples.map((s) => f(s) ?? NaN)).median
const loadMax = (rows: ComparisonResult[]) => Math.max(0, ...rows.flatMap((r) => r.subjectSamples.map((s) => s.interference ?? 0)))

function comparisonTable(rows: ComparisonResult[], prefix = ''): string {
  return table(
    ['subject', 'vs reference', 'ratio: median (min–max)', 'subject req/s', 'subject p50 / p99 ms', 'subject CPU µs/req: main thread, process', 'reference CPU µs/req: main, process', 'other load (max)', 'failed'],
    rows.map((r) => [
      `${prefix}${label(r.subject)}${r.note ? ` — ${r.note}` : ''}`,
      label(r.reference),
      showSpread(spread(r.ratios)),
      int(med(r.subjectSamples, (s) => s.rps)),
      `${fixed(med(r.subjectSamples, (s) => s.p50))} / ${fixed(med(r.subjectSamples, (s) => s.p99))}`,
      `${fixed(med(r.subjectSamples, (s) => s.serverCpuUs), 0)}, ${fixed(med(r.subjectSamples, (s) => s.processCpuUs), 0)}`,
      `${fixed(med(r.referenceSamples, (s) => s.serverCpuUs), 0)}, ${fixed(med(r.referenceSamples, (s) => s.processCpuUs), 0)}`,
      `${Math.round(Math.max(0, ...r.subjectSamples.map((s) => s.interference ?? 0)) * 100)}%`,
      String(r.subjectSamples.reduce((n, s) => n + s.failures, 0) + r.referenceSamples.reduce((n, s) => n + s.failures, 0)),
    ]),
  )
}

interface TargetRow { name: string; goal: string; measured: string; result: Verdict | 'PASS' | 'MISS' }
const targets: TargetRow[] = []
const find = (rows: ComparisonResult[], subject: string, reference: string) => rows.find((r) => r.subject === subject && r.reference === reference)!
for (const [framework, subject] of [['Express', 'express-jwt'], ['Fastify', 'fastify-jwt']] as const) {
  const s = spread(find(hit, subject, `${subject.split('-')[0]}-bare`).ratios)
  targets.push({ name: `Repeated token, ${framework}, vs unprotected`, goal: '≥ 0.93×', measured: showSpread(s), result: verdict(s, 0.93) })
  // Whether that goal can be reached here at all: the floor of any cache-hit check against the same server.
  const floor = spread(find(hit, framework === 'Express' ? 'express-set-auth' : 'fastify-floor', `${subject.split('-')[0]}-bare`).ratios)
  targets.push({ name: `The floor of any check, ${framework}, vs unprotected (${framework === 'Express' ? 'a middleware that only sets req.auth' : 'path, header, one Map lookup'})`, goal: '≥ 0.93× (is the goal reachable here?)', measured: showSpread(floor), result: verdict(floor, 0.93) })
  const lookup = spread(find(hit, `${subject}-session`, `${subject}-session-nobind`).ratios)
  targets.push({ name: `Session lookup, ${framework} (naming a session, binding on vs off)`, goal: '≥ 0.98× (a Map lookup)', measured: showSpread(lookup), result: verdict(lookup, 0.98) })
}
for (const alg of ALGS) {
  const rows = miss.get(alg)!
  for (const [framework, subject, peers] of [['Express', 'express-mcp-oauth', EXPRESS_PEERS], ['Fastify', 'fastify-mcp-oauth', FASTIFY_PEERS]] as const) {
    // The best peer is the one mcp-oauth is least ahead of (the lowest median ratio).
    const best = peers.map((p) => find(rows, subject, p)).sort((a, b) => spread(a.ratios).median - spread(b.ratios).median)[0]!
    const s = spread(best.ratios)
    targets.push({ name: `Distinct ${alg}, ${framework}, vs best peer (${label(best.reference).replace(/^(Express|Fastify) \+ /, '')})`, goal: '≥ 1.2×', measured: showSpread(s), result: verdict(s, 1.2) })
  }
}
targets.push({
  name: 'Introspection calls under concurrency',
  goal: `= ${introspection.tokens} (distinct tokens)`,
  measured: `${introspection.calls} calls for ${int(introspection.tokens * introspection.perToken)} requests`,
  result: introspection.calls === introspection.tokens && introspection.authenticated === introspection.tokens * introspection.perToken ? 'PASS' : 'MISS',
})
targets.push({
  name: `${int(memory.count)} cached tokens`,
  goal: '≤ 64 MB extra heap',
  measured: `${mb(memory.heapDelta)} MB`,
  result: memory.heapDelta <= 64e6 && memory.cached === memory.count ? 'PASS' : 'MISS',
})

const out: string[] = []
out.push(`# mcp-oauth benchmark`, '')
out.push(`${machine.cpus} × ${machine.model}, ${machine.memoryGb} GB, ${machine.platform}, Node ${machine.node}, ${machine.date}`)
out.push(`CPUs: ${cpuLayout}.`)
out.push(`Pairs of servers, each in its own process, loaded together over the same interval by ${CONNECTIONS} keep-alive connections each (bench/src/load.ts), ` +
  `${ROUNDS} interleaved rounds over ${INSTANCES} processes of every server (the rounds rotate through the pairings of processes); cache-hit windows ${SECONDS} s (after 0.2 s of warm-up), distinct-token windows ${int(TOKENS)} fresh tokens for mcp-oauth. ` +
  'A ratio is the subject\'s req/s over the reference\'s in the same window: median (min–max) over the rounds.', '')
out.push('## Cache hit: one repeated token', '', comparisonTable(hit), '')
out.push('## Distinct tokens: every request a cache miss', '')
for (const alg of ALGS) out.push(`### ${alg}`, '', comparisonTable(miss.get(alg)!), '')
out.push('## The crypto limit (one thread, same tokens)', '')
out.push(table(
  ['alg', 'jose.jwtVerify loop tokens/s', 'jose.jwtVerify, 50 in flight', 'crypto.verify loop (sync, signature alone)'],
  ALGS.map((alg) => { const l = limits.get(alg)!; return [alg, int(l.joseLoop), int(l.joseConcurrent), int(l.rawVerify)] }),
), '')
out.push('## Introspection', '')
out.push(`${introspection.tokens} distinct opaque tokens, ${introspection.perToken} concurrent requests each (${int(introspection.tokens * introspection.perToken)} in flight): ` +
  `${introspection.calls} introspection calls at the dev IdP, ${int(introspection.authenticated)} authenticated, ${fixed(introspection.seconds)} s.`, '')
out.push('## Memory', '')
out.push(`${int(memory.count)} distinct ES256 tokens verified and cached (${int(memory.cached)} found in the cache afterwards): ` +
  `heap +${mb(memory.heapDelta)} MB (${int(memory.heapDelta / memory.count)} B per token), RSS +${mb(memory.rssDelta)} MB; ` +
  `the tokens themselves are ${mb(memory.tokenBytes)} MB of text held by the caller. Filling the cache: ${int(memory.verifyRate)} verifications/s.`, '')
out.push('## Targets', '')
out.push(table(['target', 'goal', 'measured: median (min–max)', 'result'], targets.map((t) => [t.name, t.goal, t.measured, t.result])), '')
out.push('A result is "not measurable here" when the ratio\'s spread over the rounds crosses 1.0: on this machine the two cannot be told apart. ' +
  `Other load (CPU of other processes during the windows, share of one core): at most ${Math.round(Math.max(loadMax(hit), ...[...miss.values()].map(loadMax)) * 100)}%. ` +
  `Total time ${fixed((performance.now() - started) / 1000, 0)} s.`)
process.stdout.write(`${out.join('\n')}\n`)
