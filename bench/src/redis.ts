/**
 * `pnpm --filter @mcp-oauth/bench redis`: what shared state on Redis costs, on a real redis-server on loopback.
 *
 *   1. The core alone (no HTTP, so the number is the store's, not the framework's): `handle()` of a request that
 *      names a session, binding in memory vs on Redis, one at a time (latency) and 64 at a time (throughput).
 *   2. The Redis memory a session binding takes (MEMORY USAGE, and used_memory growth over 10,000 of them).
 *   3. The bridge with MemoryBridgeStore vs RedisStore: refresh grants (a token issuance: rotation, a new JWT)
 *      and authorization code + token exchange with the session and consent remembered, one at a time and
 *      8 at a time; then the Redis memory one sign-in leaves, by kind.
 * Each core figure is the best of several rounds; the bridge figures are one run each, memory and Redis
 * interleaved. Note the load average printed with them: the machine is shared.
 */
import { createHash, randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { availableParallelism, loadavg } from 'node:os'
import { createMcpAuth, requestLikeFromNode, type McpAuth } from '@mcp-oauth/core'
import { createBridge, MemoryBridgeStore, type BridgeStore } from '@mcp-oauth/bridge'
import { startDevIdp } from '@mcp-oauth/dev-idp'
import { browse, Jar } from '@mcp-oauth/example-bridge/browser'
import { devBridgeClient, devUpstream } from '@mcp-oauth/example-bridge/dev-upstream'
import { RedisStore } from '@mcp-oauth/redis'
import { replyValue, startRedisServer } from '../../test/helpers/redis-server.js'
import { startLocalIssuer } from './issuer.js'

const ROUNDS = 5
const SEQUENTIAL = 20_000
const CONCURRENT = 64
const CONCURRENT_TOTAL = 100_000
const SIZING = 10_000
const RESOURCE = 'https://mcp.bench.example/mcp'

const redis = await startRedisServer()
const local = await startLocalIssuer()
const [token] = await local.mint('ES256', 1, RESOURCE)
const store = new RedisStore({ url: redis.url })
await store.ready()

const memoryAuth = createMcpAuth({ resource: RESOURCE, issuer: local.issuer })
const redisAuth = createMcpAuth({ resource: RESOURCE, issuer: local.issuer, sessionBinding: { store } })
const noBindingAuth = createMcpAuth({ resource: RESOURCE, issuer: local.issuer, sessionBinding: false })

function request(sessionId: string) {
  const headers: Record<string, string> = {
    host: '127.0.0.1:3000', 'content-type': 'application/json', accept: 'application/json, text/event-stream',
    authorization: `Bearer ${token}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25',
  }
  return { method: 'POST', url: '/mcp', headers, rawHeaders: Object.entries(headers).flat(), body: { jsonrpc: '2.0', id: 1, method: 'tools/list' } }
}

async function prepare(auth: McpAuth, sessionId: string) {
  const req = request(sessionId)
  const first = await auth.handle(requestLikeFromNode(req), { body: req.body })
  if (first.type !== 'authenticated') throw new Error('the bench token was refused')
  await auth.bindSession(sessionId, first.auth)
  const again = await auth.handle(requestLikeFromNode(req), { body: req.body })
  if (again.type !== 'authenticated') throw new Error('the bound session was refused')
  return req
}

/** CPU seconds redis-server has used so far (INFO cpu): its share of each operation, whatever else runs. */
async function redisCpu(): Promise<number> {
  const info = await redis.command('INFO', 'cpu')
  return Number(/used_cpu_user:([\d.]+)/.exec(info)![1]) + Number(/used_cpu_sys:([\d.]+)/.exec(info)![1])
}

/** Commands redis-server has processed so far. */
async function redisCommands(): Promise<number> {
  return Number(/total_commands_processed:(\d+)/.exec(await redis.command('INFO', 'stats'))![1])
}

interface Cost {
  /** Best mean wall µs per call, one call at a time. */
  wallUs: number
  /** Best CPU µs of this process per call: steady where wall time follows the machine's load. */
  cpuUs: number
  /** redis-server CPU µs per call in the round with the best process CPU. */
  redisUs: number
}

async function sequential(auth: McpAuth, req: ReturnType<typeof request>): Promise<Cost> {
  const best: Cost = { wallUs: Infinity, cpuUs: Infinity, redisUs: Infinity }
  for (let r = 0; r < ROUNDS; r++) {
    const redisBefore = await redisCpu()
    const cpu = process.cpuUsage()
    const start = performance.now()
    for (let i = 0; i < SEQUENTIAL; i++) await auth.handle(requestLikeFromNode(req), { body: req.body })
    const wall = ((performance.now() - start) * 1000) / SEQUENTIAL
    const used = process.cpuUsage(cpu)
    const cpuUs = (used.user + used.system) / SEQUENTIAL
    const redisUs = ((await redisCpu()) - redisBefore) * 1e6 / SEQUENTIAL
    best.wallUs = Math.min(best.wallUs, wall)
    if (cpuUs < best.cpuUs) {
      best.cpuUs = cpuUs
      best.redisUs = redisUs
    }
  }
  return best
}

/** Best calls per second with CONCURRENT calls in flight (ioredis pipelines what is in flight on one connection). */
async function concurrent(auth: McpAuth, req: ReturnType<typeof request>): Promise<number> {
  let best = 0
  for (let r = 0; r < ROUNDS; r++) {
    let left = CONCURRENT_TOTAL
    const start = performance.now()
    await Promise.all(Array.from({ length: CONCURRENT }, async () => {
      while (left-- > 0) await auth.handle(requestLikeFromNode(req), { body: req.body })
    }))
    best = Math.max(best, CONCURRENT_TOTAL / ((performance.now() - start) / 1000))
  }
  return best
}


const memReq = await prepare(memoryAuth, 'bench-session-memory')
const redisReq = await prepare(redisAuth, 'bench-session-redis')
const noneReq = request('bench-session-none')

const rows: Array<[string, Cost, number]> = []
// Interleaved rounds, so a burst of load elsewhere hits every row alike.
for (let round = 0; round < 2; round++) {
  for (const [name, auth, req] of [
    ['sessionBinding: false (no lookup)', noBindingAuth, noneReq],
    ['binding in memory (default)', memoryAuth, memReq],
    ['binding on Redis (RedisStore, loopback)', redisAuth, redisReq],
  ] as const) {
    const cost = await sequential(auth, req)
    const rps = await concurrent(auth, req)
    const prev = rows.find((r) => r[0] === name)
    if (!prev) rows.push([name, cost, rps])
    else {
      if (cost.cpuUs < prev[1].cpuUs) prev[1] = { ...cost, wallUs: Math.min(cost.wallUs, prev[1].wallUs) }
      prev[2] = Math.max(prev[2], rps)
    }
  }
}
const load = loadavg()[0]!

console.log(`Load average during the run: ${load.toFixed(1)} on ${availableParallelism()} cores.`)
console.log('')
console.log('| handle() of a request with Mcp-Session-Id, JWT cache hit | Node CPU µs / request | redis-server CPU µs / request | wall µs, one at a time | requests/s, 64 in flight |')
console.log('|:--|--:|--:|--:|--:|')
for (const [name, c, rps] of rows) console.log(`| ${name} | ${c.cpuUs.toFixed(1)} | ${c.redisUs.toFixed(1)} | ${c.wallUs.toFixed(1)} | ${Math.round(rps).toLocaleString('en-US')} |`)

// ---- sizing --------------------------------------------------------------------------------------------------
const flushed = await redis.command('FLUSHALL')
if (!flushed.startsWith('+OK')) throw new Error('FLUSHALL failed')
const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await redis.command('INFO', 'memory'))![1])
const before = await usedMemory()
const template = (await redisAuth.handle(requestLikeFromNode(redisReq), { body: redisReq.body }))
if (template.type !== 'authenticated') throw new Error('refused')
for (let i = 0; i < SIZING; i += 500) {
  await Promise.all(Array.from({ length: 500 }, (_, j) => redisAuth.bindSession(crypto.randomUUID() + String(i + j), template.auth)))
}
const after = await usedMemory()
const oneKey = await store.key('session', 'sizing-probe')
await redisAuth.bindSession('sizing-probe', template.auth)
const usage = Number(replyValue(await redis.command('MEMORY', 'USAGE', oneKey)))
console.log('')
console.log(`Session binding on Redis: MEMORY USAGE of one key ${usage} B; used_memory grew ${Math.round((after - before) / SIZING)} B per binding over ${SIZING.toLocaleString('en-US')} (issuer ${local.issuer.length} chars, subject and client id as the bench issuer mints them).`)

// ---- the bridge: memory vs Redis -------------------------------------------------------------------------------
const BRIDGE_OPS = Number(process.env.BRIDGE_OPS ?? 200)
const REDIRECT = 'http://127.0.0.1:8090/callback'

async function bridgeWith(bridgeStore: BridgeStore) {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const secret = randomBytes(24).toString('base64url')
  const idp = await startDevIdp({ clients: [devBridgeClient(`${origin}/oauth/callback`, secret, false)] })
  const bridge = createBridge({ issuer: `${origin}/oauth`, resource: RESOURCE, scopes: ['mcp:tools'], upstream: devUpstream(idp.issuer, secret, false), store: bridgeStore })
  server.on('request', bridge.handler)
  await bridge.ready()
  const as = (await (await fetch(`${origin}/.well-known/oauth-authorization-server/oauth`)).json()) as Record<string, string>
  const reg = (await (await fetch(as['registration_endpoint']!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }) })).json()) as { client_id: string }
  const form = async (body: Record<string, string>) => {
    const res = await fetch(as['token_endpoint']!, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) })
    const json = (await res.json()) as Record<string, string>
    if (res.status !== 200) throw new Error(`token endpoint: ${res.status} ${json['error']}`)
    return json
  }
  const codeFlow = async (jar: Jar) => {
    const verifier = randomBytes(32).toString('base64url')
    const url = new URL(as['authorization_endpoint']!)
    for (const [k, v] of Object.entries({ client_id: reg.client_id, response_type: 'code', redirect_uri: REDIRECT, scope: 'mcp:tools', state: randomBytes(8).toString('hex'), code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256', resource: RESOURCE })) url.searchParams.set(k, v)
    const r = await browse(url, { origins: [origin, idp.url], jar })
    if (r.kind !== 'redirect') throw new Error(`sign-in ended at ${r.kind}`)
    return form({ grant_type: 'authorization_code', code: r.url.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: verifier, client_id: reg.client_id, resource: RESOURCE })
  }
  return {
    clientId: reg.client_id, form, codeFlow,
    async close() {
      server.closeAllConnections()
      server.close()
      await idp.close()
    },
  }
}

/**
 * Over `total` operations, `parallel` at a time: wall ms per operation (one at a time when parallel is 1),
 * operations per second, and CPU ms per operation of this process (bridge and client) and of redis-server.
 */
async function timed(parallel: number, total: number, task: (lane: number) => Promise<unknown>): Promise<{ ms: number; perSecond: number; cpuMs: number; redisMs: number; commands: number }> {
  let left = total
  const commandsBefore = await redisCommands()
  const redisBefore = await redisCpu()
  const cpu = process.cpuUsage()
  const start = performance.now()
  await Promise.all(Array.from({ length: parallel }, async (_, lane) => {
    while (left-- > 0) await task(lane)
  }))
  const elapsed = performance.now() - start
  const used = process.cpuUsage(cpu)
  return {
    ms: (elapsed * parallel) / total,
    perSecond: (total * 1000) / elapsed,
    cpuMs: (used.user + used.system) / 1000 / total,
    redisMs: ((await redisCpu()) - redisBefore) * 1000 / total,
    // Less the INFO calls of this measurement itself.
    commands: Math.max(0, (await redisCommands()) - commandsBefore - 3) / total,
  }
}

const bridgeRows: Array<[string, string, Awaited<ReturnType<typeof timed>>, number]> = []
const redisBridgeStore = new RedisStore({ url: redis.url, prefix: 'mcp-oauth:v1:bench:' })
await redisBridgeStore.ready()
for (const [label, bridgeStore] of [['MemoryBridgeStore', new MemoryBridgeStore()], ['RedisStore', redisBridgeStore]] as const) {
  const b = await bridgeWith(bridgeStore)
  const jars = await Promise.all(Array.from({ length: 8 }, async () => {
    const jar = new Jar()
    await b.codeFlow(jar)
    return jar
  }))
  const chains = await Promise.all(jars.map(async (jar) => (await b.codeFlow(jar))['refresh_token']!))
  const refresh = async (lane: number) => {
    const json = await b.form({ grant_type: 'refresh_token', refresh_token: chains[lane]!, client_id: b.clientId })
    chains[lane] = json['refresh_token']!
  }
  const r1 = await timed(1, BRIDGE_OPS, refresh)
  const r8 = await timed(8, BRIDGE_OPS, refresh)
  bridgeRows.push(['refresh grant (rotation + a new JWT)', label, r1, r8.perSecond])
  const c1 = await timed(1, BRIDGE_OPS / 2, (lane) => b.codeFlow(jars[lane]!))
  const c8 = await timed(8, BRIDGE_OPS / 2, (lane) => b.codeFlow(jars[lane]!))
  bridgeRows.push(['authorize → code → token (session, consent remembered)', label, c1, c8.perSecond])
  await b.close()
}
console.log('')
console.log(`Load average: ${loadavg()[0]!.toFixed(1)}.`)
console.log('')
console.log('| bridge operation | store | Node CPU ms / op | redis-server CPU ms / op | Redis commands / op | wall ms, one at a time | per second, 8 at a time |')
console.log('|:--|:--|--:|--:|--:|--:|--:|')
for (const [op, label, t, ps] of bridgeRows) console.log(`| ${op} | ${label} | ${t.cpuMs.toFixed(2)} | ${t.redisMs.toFixed(3)} | ${t.commands.toFixed(1)} | ${t.ms.toFixed(2)} | ${Math.round(ps)} |`)

// ---- Redis memory of one sign-in, by kind ------------------------------------------------------------------
await redis.command('FLUSHALL')
const sized = await bridgeWith(redisBridgeStore)
await sized.codeFlow(new Jar())
const keys = [...(await redis.command('KEYS', 'mcp-oauth:v1:bench:*')).matchAll(/\$\d+\r\n([^\r]*)\r\n/g)].map((m) => m[1]!)
const byKind = new Map<string, { count: number; bytes: number }>()
for (const key of keys) {
  const kind = key.slice('mcp-oauth:v1:bench:'.length, key.lastIndexOf(':'))
  const bytes = Number(replyValue(await redis.command('MEMORY', 'USAGE', key)))
  const entry = byKind.get(kind) ?? { count: 0, bytes: 0 }
  entry.count++
  entry.bytes += bytes
  byKind.set(kind, entry)
}
await sized.close()
console.log('')
console.log('| Redis keys after one bridge sign-in (DCR client, consent, upstream login, code, token exchange) | keys | bytes (MEMORY USAGE) |')
console.log('|:--|--:|--:|')
let total = 0
for (const [kind, { count, bytes }] of [...byKind].sort()) {
  total += bytes
  console.log(`| ${kind} | ${count} | ${bytes} |`)
}
console.log(`| **total** | ${keys.length} | ${total} |`)

await redisBridgeStore.close()
await store.close()
await redis.close()
await local.close?.()
process.exit(0)
