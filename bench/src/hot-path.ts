/**
 * `pnpm --filter @mcp-oauth/bench hot-path`: the core alone, no HTTP. Nanoseconds per call of the cache-hit
 * path (`handle` and its parts) and microseconds of main-thread CPU per cache miss, each the best of several
 * rounds, so a change to the hot path can be judged on a busy machine where whole-server numbers wobble.
 */
import { readFileSync } from 'node:fs'
import { createMcpAuth, requestLikeFromNode } from '@mcp-oauth/core'
import { jwtVerify, createRemoteJWKSet } from 'jose'
import { startLocalIssuer, type Alg } from './issuer.js'

const ROUNDS = 5
const RESOURCE = 'https://mcp.bench.example/mcp'
const local = await startLocalIssuer()
const [token] = await local.mint('ES256', 1, RESOURCE)
const auth = createMcpAuth({ resource: RESOURCE, issuer: local.issuer })
const rawHeaders = ['Host', '127.0.0.1:3000', 'Content-Type', 'application/json', 'Accept', 'application/json, text/event-stream', 'Authorization', `Bearer ${token}`, 'Content-Length', '52']
const headers: Record<string, string> = {}
for (let i = 0; i < rawHeaders.length; i += 2) headers[rawHeaders[i]!.toLowerCase()] = rawHeaders[i + 1]!
const req = { method: 'POST', url: '/mcp', headers, rawHeaders, body: { jsonrpc: '2.0', id: 1, method: 'tools/list' } }
// A JWT is cached from its second use (token/verifier.ts): two uses, then every call below is a cache hit.
for (let i = 0; i < 2; i++) if ((await auth.handle(requestLikeFromNode(req))).type !== 'authenticated') throw new Error('the bench token was refused')

async function nsPerCall(fn: () => unknown, n = 200_000): Promise<number> {
  let best = Infinity
  for (let r = 0; r < ROUNDS; r++) {
    const start = performance.now()
    for (let i = 0; i < n; i++) await fn()
    best = Math.min(best, ((performance.now() - start) * 1e6) / n)
  }
  return best
}

// What the Fastify plugin does for a cached token on a POST: decide in onRequest from the headers, confirm with
// the parsed body in preHandler, watch the response. Synchronous end to end, so timed without an await.
const bare = { method: 'POST', url: '/mcp', headers, rawHeaders }
const PENDING = Object.freeze({ bodyPending: true })
const res = { req: { headers }, setHeader: () => undefined, getHeader: () => undefined, writeHead: () => undefined, write: () => true, end: () => undefined } as unknown as Parameters<typeof auth.watchNodeResponse>[1]
function nsPerSyncCall(fn: () => unknown, n = 500_000): number {
  let best = Infinity
  for (let r = 0; r < ROUNDS; r++) {
    const start = performance.now()
    for (let i = 0; i < n; i++) fn()
    best = Math.min(best, ((performance.now() - start) * 1e6) / n)
  }
  return best
}
const fastifyShaped = () => {
  const decided = auth.handleNow(requestLikeFromNode(bare), PENDING)
  if (decided instanceof Promise) throw new Error('a cache hit waited')
  const confirmed = auth.checkBodyNow(decided, req.body)
  if (confirmed instanceof Promise) throw new Error('a cache hit waited')
  auth.watchNodeResponse(confirmed, res)
}
fastifyShaped()

const rows: [string, number][] = [
  ['handle(), cache hit (whole decision)', await nsPerCall(() => auth.handle(requestLikeFromNode(req)))],
  ['handleNow + checkBodyNow + watch, Fastify-shaped hit', nsPerSyncCall(fastifyShaped)],
  ['verifyAccessToken(), cache hit', await nsPerCall(() => auth.verifyAccessToken(token!))],
  ['requestLikeFromNode()', await nsPerCall(() => void requestLikeFromNode(req))],
  ['await of a resolved value (loop floor)', await nsPerCall(() => undefined)],
]
for (const [name, ns] of rows) console.log(`${name.padEnd(52)} ${ns.toFixed(0).padStart(6)} ns`)

/** CPU time of this thread in µs (Linux); the verification itself runs on the thread pool and is not counted. */
const threadCpuUs = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1000
async function missCost(alg: Alg, name: string, verify: (t: string) => Promise<unknown>): Promise<void> {
  let best = Infinity
  let bestWall = Infinity
  for (let r = 0; r < 3; r++) {
    const tokens = await local.mint(alg, 2000, RESOURCE)
    const cpu = threadCpuUs()
    const start = performance.now()
    for (const t of tokens) await verify(t)
    best = Math.min(best, (threadCpuUs() - cpu) / tokens.length)
    bestWall = Math.min(bestWall, ((performance.now() - start) * 1000) / tokens.length)
  }
  console.log(`${`${alg} miss, ${name}`.padEnd(42)} ${best.toFixed(1).padStart(6)} µs main-thread CPU, ${bestWall.toFixed(1)} µs wall`)
}
for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
  const fresh = createMcpAuth({ resource: RESOURCE, issuer: local.issuer, cache: { max: 100_000 } })
  await fresh.verifyAccessToken((await local.mint(alg, 1, RESOURCE))[0]!)
  await missCost(alg, 'mcp-oauth verifyAccessToken', (t) => fresh.verifyAccessToken(t))
  const jwks = createRemoteJWKSet(new URL(local.jwksUri))
  await missCost(alg, 'jose jwtVerify + remote JWKS', (t) => jwtVerify(t, jwks, { issuer: local.issuer, audience: RESOURCE }))
}
await local.close()
