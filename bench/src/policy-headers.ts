/**
 * `tsx bench/src/policy-headers.ts`: the per-tool policy decided from the MCP 2026-07-28 headers (SEP-2243
 * `Mcp-Method`/`Mcp-Name`, the body then cross-checked) against the same policy decided from the JSON-RPC body
 * (a 2025-11-25 request), on Express and Fastify, with the no-policy server and the unprotected framework as
 * baselines — all in one run, rounds interleaved. Every request is a `tools/call` of an allowed tool with a
 * repeated JWT (cache hit), so the numbers are the cost of the decision, not of the crypto.
 *
 * Environment: BENCH_DURATION (s per run, default 3), BENCH_ROUNDS (default 3).
 */
import { startDevIdp } from '@mcp-oauth/dev-idp'
import { better, measureHttp, type HttpMeasurement } from './http-scenarios.js'
import { machineInfo } from './machine.js'
import { httpTable, type HttpRow } from './report.js'
import type { ServerKind, ServerSpec } from './servers.js'

const DURATION = Number(process.env.BENCH_DURATION ?? 3)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const RESOURCE = 'https://mcp.bench.example/mcp'
const POLICY = { tools: { deploy: ['mcp:admin'] }, prompts: { secret: ['mcp:admin'] }, resources: { 'file:///secret/*': ['mcp:admin'] } }
const progress = (text: string) => process.stderr.write(`[bench] ${text}\n`)

const META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} }
const MODERN = {
  body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: 'hi' }, _meta: META } }),
  headers: { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo' },
}
const LEGACY = {
  body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: 'hi' } } }),
  headers: { 'mcp-protocol-version': '2025-11-25' },
}

interface Case { id: string; label: string; kind: ServerKind; policy: boolean; request: { body: string; headers: Record<string, string> } }
const cases: Case[] = []
for (const fw of ['express', 'fastify'] as const) {
  const name = fw === 'express' ? 'Express' : 'Fastify'
  cases.push(
    { id: `${fw}-bare`, label: `${name}, unprotected (baseline)`, kind: `${fw}-bare`, policy: false, request: MODERN },
    { id: `${fw}-nopolicy`, label: `${name} + mcp-oauth, no policy, 2026-07-28 request`, kind: `${fw}-mcp-oauth`, policy: false, request: MODERN },
    { id: `${fw}-body`, label: `${name} + mcp-oauth, per-tool policy from the body (2025-11-25 request)`, kind: `${fw}-mcp-oauth`, policy: true, request: LEGACY },
    { id: `${fw}-headers`, label: `${name} + mcp-oauth, per-tool policy from the headers, body cross-checked (2026-07-28)`, kind: `${fw}-mcp-oauth`, policy: true, request: MODERN },
  )
}

progress('starting the dev IdP')
const idp = await startDevIdp()
const token = await idp.issueAccessToken({ resource: RESOURCE, format: 'jwt', ttl: 3600 })
const results = new Map<string, HttpMeasurement>()
for (let round = 1; round <= ROUNDS; round++) {
  for (const c of cases) {
    progress(`round ${round}/${ROUNDS}: ${c.label}`)
    const spec: ServerSpec = {
      kind: c.kind, resource: RESOURCE, issuer: idp.issuer, jwksUri: `${idp.issuer}/jwks`,
      ...(c.policy ? { mcpOauth: { policy: POLICY } } : {}),
    }
    results.set(c.id, better(results.get(c.id), await measureHttp(spec, { type: 'duration', seconds: DURATION, tokens: { type: 'repeated', token }, request: c.request })))
  }
}
await idp.close()
const rows: HttpRow[] = cases.map((c) => ({
  scenario: c.label,
  m: results.get(c.id)!,
  ...(c.id.endsWith('-bare') ? {} : { baseline: results.get(c.id.startsWith('express') ? 'express-bare' : 'fastify-bare')! }),
}))
const machine = machineInfo()
console.log(`Machine: ${JSON.stringify(machine)}\nRounds: ${ROUNDS} × ${DURATION} s, best run kept.\n`)
console.log(httpTable(rows))
