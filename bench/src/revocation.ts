/**
 * `pnpm --filter @mcp-oauth/bench revocation`: what `introspection.cacheTtl` trades. A fixed load — N active
 * opaque tokens from the real dev IdP, each presented R times a second — runs for S seconds of virtual time
 * at each TTL; the dev IdP counts the introspection calls it receives, and one token revoked at a random moment
 * shows how long a revocation takes to bite. Virtual time: `Date.now` (what the verified-token cache, the
 * dev IdP and oidc-provider read) stands still and is moved forward in steps, so the counts do not depend on
 * how fast the machine is.
 *
 * Environment: REVOCATION_TOKENS (default 200), REVOCATION_RATE (requests per token per second, default 5),
 * REVOCATION_SECONDS (virtual seconds per TTL, default 120), REVOCATION_TTLS (default "5,10,30,60").
 */
import { createMcpAuth, McpAuthError } from '@mcp-oauth/core'
import { startDevIdp } from '@mcp-oauth/dev-idp'
import { fixed, int, table } from './report.js'

const TOKENS = Number(process.env.REVOCATION_TOKENS ?? 200)
const RATE = Number(process.env.REVOCATION_RATE ?? 5)
const SECONDS = Number(process.env.REVOCATION_SECONDS ?? 120)
const TTLS = (process.env.REVOCATION_TTLS ?? '5,10,30,60').split(',').map(Number)
const RESOURCE = 'https://mcp.bench.example/mcp'

// Virtual time only: the clock stands still except where the loop moves it, so a slow machine changes the wall
// clock column and nothing else.
const realNow = Date.now.bind(Date)
const base = realNow()
let offset = 0
Date.now = () => base + offset

const progress = (text: string) => process.stderr.write(`[revocation] ${text}\n`)

interface Row {
  ttl: number
  requests: number
  calls: number
  callsPerSecond: number
  revokedAcceptedFor: number
  wallSeconds: number
}

const idp = await startDevIdp({ accessTokenTtl: 24 * 3600 })

/**
 * Long stretches of cache hits leave the kept-alive sockets to the IdP idle past its keep-alive timeout; a
 * request racing the server's close gets ECONNRESET. One retry (introspection is read-only), so the counts
 * measure the cache and not that race.
 */
const retryOnReset: typeof fetch = async (input, init) => {
  try {
    return await fetch(input, init)
  } catch (err) {
    if ((err as { cause?: { code?: string } }).cause?.code !== 'ECONNRESET') throw err
    return fetch(input, init)
  }
}

/** The same race for the revocation request. */
async function revokeWithRetry(token: string): Promise<void> {
  try {
    await idp.revoke(token)
  } catch {
    await idp.revoke(token)
  }
}
const rows: Row[] = []
try {
  for (const ttl of TTLS) {
    progress(`cacheTtl ${ttl} s: ${TOKENS} tokens × ${RATE} req/s for ${SECONDS} virtual s`)
    let lastOutage = ''
    let victimCalls = 0
    // A long timeout: this measures counts, and a busy machine must not turn them into outages.
    const make = (onEvent: Parameters<typeof createMcpAuth>[0]['onEvent']) => createMcpAuth({
      resource: RESOURCE, issuer: idp.issuer, introspection: { ...idp.resourceServerClient, cacheTtl: ttl }, timeout: 30_000, onEvent, fetch: retryOnReset,
    })
    const auth = make((e) => { if (e.type === 'idp_unavailable') lastOutage = e.reason })
    // The revoked token has an instance of its own, so its re-checks after the revocation can be told apart.
    const victimAuth = make((e) => { if (e.type === 'introspection') victimCalls++ })
    const tokens = await Promise.all(Array.from({ length: TOKENS }, () => idp.issueAccessToken({ resource: RESOURCE, format: 'opaque' })))
    const victim = tokens[0]!
    const revokeAt = Math.floor(SECONDS / 3 + Math.random() * (SECONDS / 3)) * 1000
    let revokedAt: number | undefined
    let lastAccepted = 0
    const request = (token: string) => (token === victim ? victimAuth : auth).authenticate(new Request(RESOURCE, { method: 'POST', headers: { authorization: `Bearer ${token}` } }))
    // Discovery out of the way, for both instances.
    for (const instance of [auth, victimAuth]) {
      const warm = await idp.issueAccessToken({ resource: RESOURCE, format: 'opaque' })
      await instance.authenticate(new Request(RESOURCE, { method: 'POST', headers: { authorization: `Bearer ${warm}` } }))
    }
    idp.resetCounts()
    victimCalls = 0
    const wall = performance.now()
    const start = offset
    const step = 1000 / RATE
    let requests = 0
    for (let t = 0; t < SECONDS * 1000; t += step) {
      offset = start + t
      if (revokedAt === undefined && t >= revokeAt) {
        await revokeWithRetry(victim)
        revokedAt = t
      }
      const answers = await Promise.allSettled(tokens.map(request))
      requests += answers.length
      const victimAnswer = answers[0]!
      if (revokedAt !== undefined && victimAnswer.status === 'fulfilled') lastAccepted = t
      for (const a of answers.slice(1)) if (a.status === 'rejected') throw a.reason instanceof McpAuthError ? new Error(`a live token was refused at ${t} ms: ${a.reason.code} ${lastOutage}`) : a.reason
    }
    const calls = idp.counts.introspection - victimCalls
    rows.push({
      ttl,
      requests,
      calls,
      callsPerSecond: calls / SECONDS,
      revokedAcceptedFor: revokedAt === undefined ? NaN : Math.max(0, lastAccepted - revokedAt) / 1000,
      wallSeconds: (performance.now() - wall) / 1000,
    })
    offset = start + SECONDS * 1000 + 3600_000 // the next TTL starts with nothing cached
  }
} finally {
  await idp.close()
  Date.now = realNow
}

const out = [
  `## Revocation trade-off (introspection.cacheTtl)`,
  '',
  `${int(TOKENS)} active opaque tokens, each presented ${RATE} times a second (${int(TOKENS * RATE)} requests/s), for ${SECONDS} s of virtual time per row; introspection calls counted by the dev IdP (without the revoked token's own, made by a second instance); one token revoked at a random moment between ${SECONDS / 3} s and ${(2 * SECONDS) / 3} s.`,
  '',
  table(
    ['cacheTtl', 'requests', 'introspection calls', 'calls/s', 'calls per token per minute', 'revoked token still accepted for', 'wall clock'],
    rows.map((r) => [`${r.ttl} s`, int(r.requests), int(r.calls), fixed(r.callsPerSecond, 1), fixed((r.calls / TOKENS) / (SECONDS / 60), 1), `${fixed(r.revokedAcceptedFor, 1)} s`, `${fixed(r.wallSeconds, 1)} s`]),
  ),
]
process.stdout.write(`${out.join('\n')}\n`)
