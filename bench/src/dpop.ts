/**
 * `pnpm --filter @mcp-oauth/bench dpop`: what DPoP (RFC 9449) costs at the resource server, in one run. Express +
 * mcp-oauth in its own worker, the same cached JWT from the real dev IdP presented three ways, interleaved over
 * rounds: as `Bearer`, and DPoP-bound with a fresh proof per request signed ES256 and EdDSA by the MCP SDK v2
 * client's DpopSession (every proof used once: the replay store sees each `jti`). The token is a cache hit in
 * every case, so the difference is the proof check (parse, signature, htm/htu/iat/ath, thumbprint, replay store).
 * Then the proof check alone, in process, per algorithm and crypto path.
 *
 * Environment: DPOP_REQUESTS (measured requests per run, default 20000), DPOP_ROUNDS (default 3).
 */
import { constants, createPublicKey, verify as nodeVerify, type KeyObject } from 'node:crypto'
import { DpopSession } from '@modelcontextprotocol/client'
import { DPOP_ALGORITHMS, DpopProofVerifier } from '@mcp-oauth/core'
import { startDevIdp } from '@mcp-oauth/dev-idp'
import { better, measureHttp, type HttpMeasurement } from './http-scenarios.js'
import { CONNECTIONS } from './load.js'
import { machineInfo } from './machine.js'
import { fixed, httpTable, int, table } from './report.js'
import type { ServerSpec } from './servers.js'

const REQUESTS = Number(process.env.DPOP_REQUESTS ?? 20_000)
const ROUNDS = Number(process.env.DPOP_ROUNDS ?? 3)
const WARMUP = 2000
const RESOURCE = 'https://mcp.bench.example/mcp'
const progress = (text: string) => process.stderr.write(`[dpop] ${text}\n`)

const idp = await startDevIdp()
const sessions = { ES256: await DpopSession.create({ alg: 'ES256' }), EdDSA: await DpopSession.create({ alg: 'EdDSA' }) }
const bearer = await idp.issueAccessToken({ resource: RESOURCE, format: 'jwt', ttl: 3600 })
const bound = {
  ES256: await idp.issueAccessToken({ resource: RESOURCE, format: 'jwt', ttl: 3600, extraClaims: { cnf: { jkt: sessions.ES256.thumbprint } } }),
  EdDSA: await idp.issueAccessToken({ resource: RESOURCE, format: 'jwt', ttl: 3600, extraClaims: { cnf: { jkt: sessions.EdDSA.thumbprint } } }),
}

/** Fresh proofs, made right before the run (each is accepted for 60 s after its iat). */
async function proofs(alg: 'ES256' | 'EdDSA', n: number): Promise<Record<string, string>[]> {
  const out: Record<string, string>[] = []
  for (let i = 0; i < n; i++) {
    out.push({ authorization: `DPoP ${bound[alg]}`, dpop: await sessions[alg].buildProof({ htm: 'POST', htu: RESOURCE, accessToken: bound[alg] }) })
  }
  return out
}

// maxAge 600: the proofs are made before the run (autocannon cannot wait for a signature), and on a loaded machine
// making and sending 22,000 of them takes longer than the default 60 s; the cost measured is the same.
const spec: ServerSpec = { kind: 'express-mcp-oauth', resource: RESOURCE, issuer: idp.issuer, jwksUri: `${idp.issuer}/jwks`, mcpOauth: { dpop: { maxAge: 600 } } }
const total = WARMUP + REQUESTS
const cases = [
  { id: 'bearer', label: 'Express + mcp-oauth, cached JWT as Bearer', headers: async () => Array.from({ length: total }, () => ({ authorization: `Bearer ${bearer}` })) },
  { id: 'es256', label: 'Express + mcp-oauth, cached DPoP-bound JWT + fresh ES256 proof', headers: () => proofs('ES256', total) },
  { id: 'eddsa', label: 'Express + mcp-oauth, cached DPoP-bound JWT + fresh EdDSA proof', headers: () => proofs('EdDSA', total) },
]
const results = new Map<string, HttpMeasurement>()
// DPOP_ROUNDS=0: only the in-process proof check.
for (let round = 1; round <= ROUNDS; round++) {
  for (const c of cases) {
    progress(`round ${round}/${ROUNDS}: ${c.label} (making ${total} header sets)`)
    const headers = await c.headers()
    const m = await measureHttp(spec, { type: 'headers', warmup: headers.slice(0, WARMUP), measure: headers.slice(WARMUP) })
    if (m.failures > 0) progress(`  ${m.failures} failed requests`)
    results.set(c.id, better(results.get(c.id), m))
  }
}
const base = results.get('bearer')

// ---- the proof check alone ------------------------------------------------------------------------------
progress('the proof check alone, in process')
const inProcess: string[][] = []
for (const alg of ['ES256', 'EdDSA', 'RS256', 'PS256'] as const) {
  const session = alg in sessions ? sessions[alg as 'ES256' | 'EdDSA'] : await DpopSession.create({ alg })
  const n = alg.startsWith('RS') || alg.startsWith('PS') ? 2000 : 5000
  const list: string[] = []
  for (let i = 0; i < n; i++) list.push(await session.buildProof({ htm: 'POST', htu: RESOURCE, accessToken: bearer }))
  // The signature alone, synchronously through node:crypto: the floor any proof check of this algorithm stands on.
  const key = createPublicKey({ key: session.publicJwk as never, format: 'jwk' })
  const verifyKey: KeyObject | { key: KeyObject; padding?: number; saltLength?: number; dsaEncoding?: 'ieee-p1363' } = alg === 'ES256'
    ? { key, dsaEncoding: 'ieee-p1363' }
    : alg === 'PS256' ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST } : key
  const parts = list.map((p) => { const [h, pl, sig] = p.split('.'); return [Buffer.from(`${h}.${pl}`), Buffer.from(sig!, 'base64url')] as const })
  const floorStarted = performance.now()
  const floorCpu = process.cpuUsage()
  for (const [data, sig] of parts) nodeVerify(alg === 'EdDSA' ? null : 'sha256', data, verifyKey, sig)
  const floorUsed = process.cpuUsage(floorCpu)
  const floorUs = ((performance.now() - floorStarted) * 1000) / n
  inProcess.push([alg, 'signature alone (sync node:crypto, reference)', fixed((floorUsed.user + floorUsed.system) / n, 1), fixed(floorUs, 1), int(1e6 / floorUs)])
  for (const native of [true, false]) {
    const verifier = new DpopProofVerifier({ algorithms: DPOP_ALGORITHMS, maxAge: 600, clockTolerance: 5, maxLength: 8192, native })
    await verifier.verify(list[0]!, { method: 'POST', htu: RESOURCE, accessToken: bearer, now: Math.floor(Date.now() / 1000) })
    const started = performance.now()
    const cpu = process.cpuUsage()
    for (const p of list) await verifier.verify(p, { method: 'POST', htu: RESOURCE, accessToken: bearer, now: Math.floor(Date.now() / 1000) })
    const used = process.cpuUsage(cpu)
    const us = ((performance.now() - started) * 1000) / n
    // CPU of the whole process (the thread pool included, where signatures are checked): steadier than wall time on a busy machine.
    const cpuUs = (used.user + used.system) / n
    inProcess.push([alg, native ? 'node:crypto' : 'jose/WebCrypto', fixed(cpuUs, 1), fixed(us, 1), int(1e6 / us)])
  }
}
await idp.close()

const machine = machineInfo()
const lines = [
  `## DPoP at the resource server (${machine.date.slice(0, 10)}, ${machine.model}, ${machine.cpus} CPUs, Node ${machine.node})`,
  '',
  ...(base ? [
    `${int(REQUESTS)} measured requests per run (after ${WARMUP} warm-up), ${CONNECTIONS} connections, best of ${ROUNDS} interleaved rounds; the token is a cache hit in every row.`,
    '',
    httpTable(cases.map((c) => ({ scenario: c.label, m: results.get(c.id)!, ...(c.id === 'bearer' ? {} : { baseline: base }) }))),
    '',
    '"× baseline" is against the Bearer row of the same run.',
    '',
  ] : []),
  table(['proof alg', 'signature check', 'CPU µs per proof', 'wall µs per proof (sequential)', 'proofs/s (sequential)'], inProcess),
  '',
]
process.stdout.write(`${lines.join('\n')}\n`)
