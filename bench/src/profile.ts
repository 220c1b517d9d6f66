/**
 * `pnpm --filter @mcp-oauth/bench profile <kind> [repeated|RS256|ES256|EdDSA] [seconds]`: one server of
 * servers.ts in its own process under V8's CPU profiler, loaded alone by the bench's load generator (a
 * repeated dev-IdP token, or fresh distinct tokens of one algorithm), then the functions with the most self
 * time. For finding where a server's CPU per request goes; the ratios themselves come from `pnpm bench`.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startDevIdp } from '@mcp-oauth/dev-idp'
import { startLocalIssuer, type Alg } from './issuer.js'
import { load } from './load.js'
import { serverEntry } from './rounds.js'
import { specOf } from './servers.js'

const [kind = 'fastify-mcp-oauth', mode = 'repeated', secondsArg = '5'] = process.argv.slice(2)
const seconds = Number(secondsArg)
const RESOURCE = 'https://mcp.bench.example/mcp'

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

const idp = await startDevIdp()
const local = await startLocalIssuer()
const distinct = mode !== 'repeated'
const spec = specOf(kind, distinct
  ? { resource: RESOURCE, issuer: local.issuer, jwksUri: local.jwksUri }
  : { resource: RESOURCE, issuer: idp.issuer, jwksUri: `${idp.issuer}/jwks` })
const dir = mkdtempSync(join(tmpdir(), 'mcp-oauth-profile-'))
const child = spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, serverEntry()], {
  env: { ...process.env, BENCH_SERVER_SPEC: JSON.stringify(spec) },
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
})
const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)))
const rate = 20_000
const tokens = distinct ? await local.mint(mode as Alg, Math.ceil(seconds * rate / 10), RESOURCE) : [await idp.issueAccessToken({ resource: RESOURCE, format: 'jwt', ttl: 3600 })]
const source = distinct ? { type: 'pool' as const, tokens } : { type: 'repeated' as const, token: tokens[0]! }
const result = await load({ port, tokens: source, ...(distinct ? { amount: tokens.length } : { duration: seconds }) })
process.stderr.write(`${Math.round(result.rps)} req/s, ${result.requests} requests, ${result.failures} failed\n`)
const exited = new Promise((resolve) => child.once('exit', resolve))
child.send({ type: 'stop' })
await exited
await Promise.all([idp.close(), local.close()])

const profile = JSON.parse(readFileSync(join(dir, readdirSync(dir)[0]!), 'utf8')) as Profile
const time = new Map<number, number>()
profile.samples.forEach((id, i) => time.set(id, (time.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
const self = new Map<string, number>()
let total = 0
for (const n of profile.nodes) {
  const t = time.get(n.id) ?? 0
  total += t
  const { functionName, url, lineNumber } = n.callFrame
  const where = `${functionName || '(anonymous)'} ${url.split('/').slice(-3).join('/')}:${lineNumber + 1}`
  self.set(where, (self.get(where) ?? 0) + t)
}
const idle = [...self].filter(([k]) => k.startsWith('(idle)')).reduce((n, [, v]) => n + v, 0)
const busy = total - idle
process.stdout.write(`busy ${(busy / result.requests).toFixed(1)} µs per request (main thread, profiler on)\n`)
for (const [where, t] of [...self].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.PROFILE_TOP ?? 45))) {
  process.stdout.write(`${(t / busy * 100).toFixed(1).padStart(5)}%  ${(t / result.requests).toFixed(2).padStart(6)} µs  ${where}\n`)
}

// PROFILE_INCLUSIVE=<regex>: the time spent in, and under, each function whose place matches (a frame inside a
// matching frame is not counted again), e.g. 'mcp-oauth|core/dist|express/dist'; PROFILE_EXCLUDE=<regex>: frames
// not counted, with all under them (e.g. '^next ' for Express's next(), which runs the rest of the request).
const inclusive = process.env.PROFILE_INCLUSIVE
if (inclusive) {
  const match = new RegExp(inclusive)
  const exclude = process.env.PROFILE_EXCLUDE ? new RegExp(process.env.PROFILE_EXCLUDE) : undefined
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const under = new Map<string, number>()
  const within = new Map<string, number>()
  const walk = (id: number, inside: boolean): number => {
    const n = byId.get(id)!
    const { functionName, url, lineNumber } = n.callFrame
    const where = `${functionName || '(anonymous)'} ${url.split('/').slice(-3).join('/')}:${lineNumber + 1}`
    if (inside && exclude?.test(where)) return 0
    const hit = !inside && match.test(where)
    let t = time.get(id) ?? 0
    if (inside || hit) within.set(where, (within.get(where) ?? 0) + t)
    for (const c of n.children ?? []) t += walk(c, inside || hit)
    if (hit) under.set(where, (under.get(where) ?? 0) + t)
    return t
  }
  walk(profile.nodes[0]!.id, false)
  process.stdout.write(`\ninclusive (${inclusive}):\n`)
  for (const [where, t] of [...under].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
    process.stdout.write(`${(t / busy * 100).toFixed(1).padStart(5)}%  ${(t / result.requests).toFixed(2).padStart(6)} µs  ${where}\n`)
  }
  process.stdout.write(`\nself time in them:\n`)
  for (const [where, t] of [...within].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    process.stdout.write(`${(t / busy * 100).toFixed(1).padStart(5)}%  ${(t / result.requests).toFixed(2).padStart(6)} µs  ${where}\n`)
  }
}
