/**
 * `pnpm --filter @mcp-oauth/bench redis`: what shared state on Redis costs. The core alone (no HTTP, so the
 * number is the store's, not the framework's): `handle()` of a request that names a session, with the binding
 * in memory and on a real redis-server on loopback, one at a time (latency) and 64 at a time (throughput);
 * then the Redis memory a session binding takes (MEMORY USAGE and the used_memory growth over 10,000 of them).
 * Each figure is the best of several rounds.
 */
import { createMcpAuth, requestLikeFromNode, type McpAuth } from '@mcp-oauth/core'
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

/** Best mean µs per call, one call at a time. */
async function sequential(auth: McpAuth, req: ReturnType<typeof request>): Promise<number> {
  let best = Infinity
  for (let r = 0; r < ROUNDS; r++) {
    const start = performance.now()
    for (let i = 0; i < SEQUENTIAL; i++) await auth.handle(requestLikeFromNode(req), { body: req.body })
    best = Math.min(best, ((performance.now() - start) * 1000) / SEQUENTIAL)
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

async function rawGet(): Promise<number> {
  await store.set('bench', 'k', 'v', 600)
  let best = Infinity
  for (let r = 0; r < ROUNDS; r++) {
    const start = performance.now()
    for (let i = 0; i < SEQUENTIAL; i++) await store.get('bench', 'k')
    best = Math.min(best, ((performance.now() - start) * 1000) / SEQUENTIAL)
  }
  return best
}

const memReq = await prepare(memoryAuth, 'bench-session-memory')
const redisReq = await prepare(redisAuth, 'bench-session-redis')
const noneReq = request('bench-session-none')

const rows: Array<[string, number, number]> = [
  ['sessionBinding: false (no lookup)', await sequential(noBindingAuth, noneReq), await concurrent(noBindingAuth, noneReq)],
  ['binding in memory (default)', await sequential(memoryAuth, memReq), await concurrent(memoryAuth, memReq)],
  ['binding on Redis (RedisStore, loopback)', await sequential(redisAuth, redisReq), await concurrent(redisAuth, redisReq)],
]
const get = await rawGet()

console.log('| handle() of a request with Mcp-Session-Id, JWT cache hit | µs per request, one at a time | requests/s, 64 in flight |')
console.log('|:--|--:|--:|')
for (const [name, us, rps] of rows) console.log(`| ${name} | ${us.toFixed(1)} | ${Math.round(rps).toLocaleString('en-US')} |`)
console.log(`| (a bare RedisStore.get, for reference) | ${get.toFixed(1)} | |`)

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

await store.close()
await redis.close()
await local.close?.()
process.exit(0)
