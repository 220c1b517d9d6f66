import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
const run = promisify(execFile)

describe('the README demo', () => {
  it.each(['express', 'fastify'])('prints every step and exits 0 (--host %s)', async (host) => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/demo/src/main.ts', '--host', host], { cwd: root, timeout: 60_000 })
    for (const step of ['Step 1', 'Step 2', 'Step 3', 'Step 4', 'Step 5', 'Step 6', 'Step-up', 'Client ID Metadata Document', 'The flow worked']) {
      expect(stdout).toContain(step)
    }
    expect(stdout).toMatch(/code_challenge_method\s+S256/)
    expect(stdout).toMatch(/WWW-Authenticate\s+Bearer resource_metadata="/)
    // The token itself is never printed: only its first characters and its decoded claims.
    expect(stdout).not.toMatch(/eyJ[\w-]{20,}\.eyJ[\w-]{20,}\./)
  }, 90_000)

  it('--spec 2026-07-28 (the default): the SDK v2 client, server/discover, the Mcp-Method/Mcp-Name headers and what the policy read', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/demo/src/main.ts'], { cwd: root, timeout: 60_000 })
    expect(stdout).toContain('@modelcontextprotocol/client (SDK v2) speaking MCP 2026-07-28')
    expect(stdout).toMatch(/request headers\s+MCP-Protocol-Version: 2026-07-28, Mcp-Method: server\/discover/)
    expect(stdout).toMatch(/request headers\s+MCP-Protocol-Version: 2026-07-28, Mcp-Method: tools\/call, Mcp-Name: deploy/)
    expect(stdout).toMatch(/the server decided\s+MCP 2026-07-28 \(stateless, no session binding\); the policy read the headers/)
    expect(stdout).toContain('The flow worked')
  }, 90_000)

  it('--spec 2025-11-25: the SDK v1 client; the policy reads the body', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/demo/src/main.ts', '--spec', '2025-11-25', '--host', 'web-v2'], { cwd: root, timeout: 60_000 })
    expect(stdout).toContain('@modelcontextprotocol/sdk (SDK v1) speaking MCP 2025-11-25')
    expect(stdout).toMatch(/the server decided\s+MCP 2025-11-25 .*the policy read the JSON-RPC body/)
    expect(stdout).toContain('The flow worked')
  }, 90_000)

  it.each([['keycloak', '/realms/mcp'], ['logto', '/oidc']])('runs with the dev IdP shaped like %s and the server configured with its profile', async (profile, issuerPath) => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/demo/src/main.ts', '--profile', profile], { cwd: root, timeout: 60_000 })
    expect(stdout).toContain(`IdP profile            ${profile}(`)
    expect(stdout).toMatch(new RegExp(`"iss": "http://127\\.0\\.0\\.1:\\d+${issuerPath}"`))
    expect(stdout).toContain('The flow worked')
  }, 90_000)
})
