/**
 * `mcp-oauth-doctor` on the real dev IdP (and a real mcp-oauth server in front of it) and on each provider
 * emulation: the verdict, the failing check and its fix must be the ones a person needs.
 */
import { execFile } from 'node:child_process'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDevIdp, type DevIdp } from '@mcp-oauth/dev-idp'
import { diagnose, formatReport, runCli, type CheckId, type CheckStatus, type DoctorReport } from '@mcp-oauth/doctor'
import { withMcpAuth } from '@mcp-oauth/node'
import { startAuth0 } from './profiles/emulations/auth0.js'
import { startCognito } from './profiles/emulations/cognito.js'
import { startEntra } from './profiles/emulations/entra.js'
import { startGitHub } from './profiles/emulations/github.js'
import { startGoogle } from './profiles/emulations/google.js'
import { startKeycloak } from './profiles/emulations/keycloak.js'
import { startLogto } from './profiles/emulations/logto.js'
import { startOkta } from './profiles/emulations/okta.js'
import { startWorkOS } from './profiles/emulations/workos.js'

const status = (report: DoctorReport, id: CheckId): CheckStatus | undefined => report.checks.find((c) => c.id === id)?.status
const check = (report: DoctorReport, id: CheckId) => report.checks.find((c) => c.id === id)!

/** A real mcp-oauth server (node:http adapter) on port 0, its resource known only once it listens. */
async function startMcpServer(issuer: string): Promise<{ resource: string; close(): Promise<void> }> {
  let listener: (req: IncomingMessage, res: ServerResponse) => void = () => {}
  const server: Server = createServer((req, res) => listener(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const resource = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`
  listener = withMcpAuth({ resource, issuer }, (_req, res) => void res.end('{}'))
  return {
    resource,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}

describe('on the dev IdP', () => {
  let idp: DevIdp
  beforeAll(async () => {
    idp = await startDevIdp()
  })
  afterAll(() => idp.close())

  it('gives a good verdict: RFC 8414 discovery, S256, DCR and CIMD, ES256 keys, introspection', async () => {
    const report = await diagnose(idp.issuer)
    expect(report).toMatchObject({ verdict: 'pass', ok: true, provider: undefined, metadataUrl: `${idp.issuer}/.well-known/oauth-authorization-server` })
    for (const id of ['discovery', 'issuer', 'endpoints', 'pkce', 'registration', 'jwks', 'introspection'] as const) expect(status(report, id)).toBe('pass')
    expect(check(report, 'registration').title).toMatch(/Client ID Metadata Documents and Dynamic Client Registration/)
    expect(check(report, 'jwks').title).toBe('JWKS reachable: ES256')
    expect(formatReport(report)).toMatch(/✔ MCP clients will work with this authorization server\.$/)
  })

  it('with --resource: checks a running mcp-oauth server\'s metadata and 401 challenge', async () => {
    const mcp = await startMcpServer(idp.issuer)
    try {
      const report = await diagnose(idp.issuer, { resource: mcp.resource })
      expect(status(report, 'resource-metadata')).toBe('pass')
      expect(status(report, 'challenge')).toBe('pass')
      expect(status(report, 'challenge-2026')).toBe('pass')
      expect(report.verdict).toBe('pass')
    } finally {
      await mcp.close()
    }
  })

  it('with --resource: a server that names another issuer fails, and says so', async () => {
    const other = await startDevIdp()
    const mcp = await startMcpServer(other.issuer)
    try {
      const report = await diagnose(idp.issuer, { resource: mcp.resource })
      expect(status(report, 'resource-metadata')).toBe('fail')
      expect(check(report, 'resource-metadata').details.join('\n')).toContain(`does not list ${idp.issuer}`)
      expect(report.ok).toBe(false)
    } finally {
      await mcp.close()
      await other.close()
    }
  })

  it('with introspection credentials: accepted ones pass, refused ones fail and say what mcp-oauth will answer', async () => {
    const { clientId, clientSecret } = idp.resourceServerClient
    const good = await diagnose(idp.issuer, { introspection: { clientId, clientSecret } })
    expect(check(good, 'introspection-credentials')).toMatchObject({ status: 'pass', title: expect.stringMatching(/accepts the introspection credentials/) })
    const bad = await diagnose(idp.issuer, { introspection: { clientId, clientSecret: 'not-the-secret' } })
    expect(check(bad, 'introspection-credentials')).toMatchObject({ status: 'fail', title: expect.stringMatching(/refused the introspection credentials.*401 invalid_client/), fix: expect.stringMatching(/503/) })
    expect(bad.ok).toBe(false)
    // The CLI reads the secret from the environment only.
    const out: string[] = []
    const io = { stdout: (t: string) => out.push(t), stderr: (t: string) => out.push(t) }
    expect(await runCli([idp.issuer, '--client-id', clientId], { ...io, env: { MCP_OAUTH_CLIENT_SECRET: 'wrong' } })).toBe(1)
    expect(out.join('\n')).toMatch(/refused the introspection credentials/)
    expect(await runCli([idp.issuer, '--client-id', clientId], { ...io, env: { MCP_OAUTH_CLIENT_SECRET: clientSecret } })).toBe(0)
    expect(await runCli([idp.issuer, '--client-id', clientId], io)).toBe(2)
  })

  it('a metadata URL given as the issuer, and an unreachable issuer, fail with a fix', async () => {
    const wellKnown = await diagnose(`${idp.issuer}/.well-known/openid-configuration`)
    expect(wellKnown.checks[0]).toMatchObject({ id: 'issuer-url', status: 'fail', fix: expect.stringContaining(idp.issuer) })
    const down = await diagnose('http://127.0.0.1:9/realms/x', { timeout: 2000 })
    expect(down).toMatchObject({ verdict: 'fail', ok: false })
    expect(check(down, 'discovery').details).toHaveLength(3)
  })

  it('the CLI: --json for CI with exit code 0, usage errors exit 2, and the installed bin runs', async () => {
    const out: string[] = []
    const code = await runCli([idp.issuer, '--json'], { stdout: (t) => out.push(t), stderr: (t) => out.push(t) })
    expect(code).toBe(0)
    expect(JSON.parse(out.join(''))).toMatchObject({ issuer: idp.issuer, verdict: 'pass', ok: true })
    expect(await runCli([], { stdout: () => {}, stderr: () => {} })).toBe(2)
    expect(await runCli([idp.issuer, '--bogus'], { stdout: () => {}, stderr: () => {} })).toBe(2)
    const bin = fileURLToPath(new URL('../packages/doctor/dist/cli.js', import.meta.url))
    const { stdout } = await promisify(execFile)(process.execPath, [bin, idp.issuer], { env: { ...process.env, NODE_OPTIONS: '' } })
    expect(stdout).toContain('✔ PKCE S256 advertised')
  })
})

interface Case {
  name: string
  start: () => Promise<{ issuer: string; close(): Promise<void> }>
  verdict: DoctorReport['verdict']
  provider: string
  statuses: Partial<Record<CheckId, CheckStatus>>
}

const cases: Case[] = [
  { name: 'keycloak', start: () => startKeycloak(), verdict: 'pass', provider: 'keycloak', statuses: { pkce: 'pass', registration: 'pass', jwks: 'pass', introspection: 'pass' } },
  { name: 'auth0', start: () => startAuth0(), verdict: 'pass', provider: 'auth0', statuses: { pkce: 'pass', registration: 'pass', jwks: 'pass', introspection: 'info' } },
  { name: 'entra', start: async () => { const e = await startEntra(); return { issuer: e.issuerV2, close: e.close } }, verdict: 'fail', provider: 'entra', statuses: { discovery: 'pass', pkce: 'fail', registration: 'warn', jwks: 'pass' } },
  { name: 'okta', start: () => startOkta(), verdict: 'warn', provider: 'okta', statuses: { pkce: 'pass', registration: 'warn', jwks: 'pass' } },
  { name: 'cognito', start: () => startCognito(), verdict: 'fail', provider: 'cognito', statuses: { discovery: 'pass', pkce: 'fail', registration: 'warn' } },
  { name: 'google', start: () => startGoogle(), verdict: 'warn', provider: 'google', statuses: { pkce: 'pass', registration: 'warn' } },
  { name: 'github', start: () => startGitHub(), verdict: 'fail', provider: 'github', statuses: { pkce: 'fail', registration: 'warn', jwks: 'info' } },
  { name: 'workos', start: () => startWorkOS(), verdict: 'pass', provider: 'workos', statuses: { pkce: 'pass', registration: 'pass', jwks: 'info' } },
  { name: 'logto', start: () => startLogto(), verdict: 'warn', provider: 'logto', statuses: { discovery: 'pass', pkce: 'pass', registration: 'warn', jwks: 'pass' } },
]

describe('what MCP 2026-07-28 clients need from the IdP', () => {
  it('the dev IdP: CIMD and RFC 9207 iss (authorization_response_iss_parameter_supported) both pass', async () => {
    const idp = await startDevIdp()
    try {
      const report = await diagnose(idp.issuer)
      expect(status(report, 'cimd')).toBe('pass')
      expect(status(report, 'iss-parameter')).toBe('pass')
    } finally {
      await idp.close()
    }
  })

  it('keycloak sends iss but has no CIMD; auth0 has neither: each is named with what to do, and the verdict is unchanged', async () => {
    const kc = await startKeycloak()
    const a0 = await startAuth0()
    try {
      const k = await diagnose(kc.issuer)
      expect(status(k, 'iss-parameter')).toBe('pass')
      expect(check(k, 'cimd')).toMatchObject({ status: 'info', fix: expect.stringContaining('@mcp-oauth/bridge') })
      expect(check(k, 'cimd').details[0]).toMatch(/Dynamic Client Registration.*deprecated/)
      const a = await diagnose(a0.issuer)
      expect(check(a, 'iss-parameter')).toMatchObject({ status: 'info', fix: expect.stringContaining('RFC 9207') })
      expect(a.verdict).toBe('pass')
      expect(formatReport(a)).toContain('authorization_response_iss_parameter_supported')
    } finally {
      await kc.close()
      await a0.close()
    }
  })

  it('with --resource: a server that answers server/discover without a token with anything but the 401 challenge is a warning', async () => {
    const idp = await startDevIdp()
    const server = createServer((req, res) => {
      if ((req.url ?? '').startsWith('/.well-known/oauth-protected-resource')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ resource, authorization_servers: [idp.issuer] }))
      } else if (req.headers['mcp-method'] === 'server/discover') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":1,"result":{}}')
      } else {
        res.writeHead(401, { 'www-authenticate': `Bearer resource_metadata="${resource.replace('/mcp', '/.well-known/oauth-protected-resource/mcp')}"` }).end()
      }
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const resource = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`
    try {
      const report = await diagnose(idp.issuer, { resource })
      expect(status(report, 'challenge')).toBe('pass')
      expect(check(report, 'challenge-2026')).toMatchObject({ status: 'warn', fix: expect.stringContaining('server/discover') })
    } finally {
      server.closeAllConnections()
      server.close()
      await idp.close()
    }
  })
})

describe('on the provider emulations', () => {
  it.each(cases)('$name: verdict $verdict', async ({ start, verdict, provider, statuses }) => {
    const emulation = await start()
    try {
      const report = await diagnose(emulation.issuer)
      expect(report.provider?.id).toBe(provider)
      for (const [id, expected] of Object.entries(statuses)) expect([id, status(report, id as CheckId)]).toEqual([id, expected])
      expect(report.verdict).toBe(verdict)
      expect(report.ok).toBe(verdict !== 'fail')
    } finally {
      await emulation.close()
    }
  })

  it('entra and github: the missing S256 is named, with the mirror as the fix', async () => {
    for (const start of [async () => { const e = await startEntra(); return { issuer: e.issuerV2, close: e.close } }, () => startGitHub()]) {
      const emulation = await start()
      try {
        const report = await diagnose(emulation.issuer)
        const pkce = check(report, 'pkce')
        expect(pkce.title).toBe('PKCE S256 not advertised: code_challenge_methods_supported is missing')
        expect(pkce.fix).toContain('supports S256 but does not say so')
        expect(pkce.fix).toContain('authorizationServerMetadata: { supportsPkceS256: true }')
        expect(formatReport(report)).toContain('✘ MCP clients will not work')
      } finally {
        await emulation.close()
      }
    }
  })

  it('auth0 without the trailing slash: the issuer check fails and gives the exact issuer', async () => {
    const a0 = await startAuth0()
    try {
      const report = await diagnose(a0.issuer.replace(/\/$/, ''))
      expect(check(report, 'issuer')).toMatchObject({ status: 'fail', fix: expect.stringContaining(`a trailing slash counts`) })
      expect(check(report, 'issuer').fix).toContain(JSON.stringify(a0.issuer))
    } finally {
      await a0.close()
    }
  })

  it('okta: the registration endpoint that needs an API token is a warning, and --strict makes it fail', async () => {
    const o = await startOkta()
    try {
      const report = await diagnose(o.issuer)
      expect(check(report, 'registration').details[0]).toMatch(/needs an Okta API token/)
      expect(await runCli([o.issuer], { stdout: () => {}, stderr: () => {} })).toBe(0)
      expect(await runCli([o.issuer, '--strict'], { stdout: () => {}, stderr: () => {} })).toBe(1)
    } finally {
      await o.close()
    }
  })
})
