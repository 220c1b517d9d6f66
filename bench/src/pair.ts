/**
 * `pnpm --filter @mcp-oauth/bench pair <subject kind> <reference kind> [repeated|RS256|ES256|EdDSA] [rounds]`:
 * one comparison of `pnpm bench` alone — the two servers (kinds of servers.ts) loaded together in pair windows
 * (rounds.ts), the ratio's median (min–max) over the rounds and each side's CPU per request. For checking one
 * change quickly; the report's numbers come from the whole run. `PAIR_SECONDS` (default 0.7) per window. A kind
 * may carry mcp-oauth options as JSON: `'fastify-mcp-oauth{"nativeCrypto":"inline"}'`.
 */
import { startDevIdp } from '@mcp-oauth/dev-idp'
import { startLocalIssuer, type Alg } from './issuer.js'
import { CONNECTIONS, type LoadOptions } from './load.js'
import { pairWindow, spread, startLive, type Sample } from './rounds.js'
import { specOf } from './servers.js'

const [subjectKind, referenceKind, mode = 'repeated', roundsArg = '7'] = process.argv.slice(2)
if (!subjectKind || !referenceKind) throw new TypeError('usage: pair <subject kind> <reference kind> [repeated|RS256|ES256|EdDSA] [rounds]')
const rounds = Number(roundsArg)
const seconds = Number(process.env.PAIR_SECONDS ?? 0.7)
const RESOURCE = 'https://mcp.bench.example/mcp'
const TOKENS = Number(process.env.PAIR_TOKENS ?? 700)
const distinct = mode !== 'repeated'

const idp = await startDevIdp()
const local = await startLocalIssuer()
const base = distinct
  ? { resource: RESOURCE, issuer: local.issuer, jwksUri: local.jwksUri }
  : { resource: RESOURCE, issuer: idp.issuer, jwksUri: `${idp.issuer}/jwks` }
const [subject, reference] = await Promise.all([subjectKind, referenceKind].map((arg) => startLive(specOf(arg, base))))
const jwt = distinct ? '' : await idp.issueAccessToken({ resource: RESOURCE, format: 'jwt', ttl: 3600 })
const pool = distinct ? await local.mint(mode as Alg, (rounds + 2) * 2 * (3 * TOKENS), RESOURCE) : []
let taken = 0
const take = (n: number) => pool.slice(taken, (taken += n))
// mcp-oauth caches what it verified: every window of a distinct-token run gets tokens it has not seen.
const work = (role: 'subject' | 'reference', amount: number, secs: number): Omit<LoadOptions, 'port'> => distinct
  ? role === 'subject' ? { tokens: { type: 'pool', tokens: take(amount) }, amount: amount - 2 * CONNECTIONS } : { tokens: { type: 'pool', tokens: take(2 * amount) } }
  : { tokens: { type: 'repeated', token: jwt }, duration: secs }

await pairWindow(subject!, work('subject', TOKENS, 1.5), reference!, work('reference', TOKENS, 1.5))
const ratios: number[] = []
const samples: [Sample, Sample][] = []
for (let round = 0; round < rounds; round++) {
  await pairWindow(subject!, work('subject', 200, 0.2), reference!, work('reference', 200, 0.2))
  const pair = await pairWindow(subject!, work('subject', TOKENS, seconds), reference!, work('reference', TOKENS, seconds))
  samples.push(pair)
  ratios.push(pair[0].rps / pair[1].rps)
  process.stderr.write(`round ${round + 1}: ${pair[0].rps.toFixed(0)} / ${pair[1].rps.toFixed(0)} req/s = ${(pair[0].rps / pair[1].rps).toFixed(3)}\n`)
}
const s = spread(ratios)
const cpu = (i: 0 | 1) => `${spread(samples.map((p) => p[i].serverCpuUs ?? NaN)).median.toFixed(1)} main, ${spread(samples.map((p) => p[i].processCpuUs)).median.toFixed(1)} process µs/req`
process.stdout.write(`${subjectKind} vs ${referenceKind} (${mode}): ${s.median.toFixed(3)}× (${s.min.toFixed(3)}–${s.max.toFixed(3)}); ${subjectKind} ${cpu(0)}; ${referenceKind} ${cpu(1)}\n`)
await Promise.all([subject!.close(), reference!.close()])
await Promise.all([idp.close(), local.close()])
